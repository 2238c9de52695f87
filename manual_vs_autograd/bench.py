"""Speed and memory of one training step, manual backprop against autograd, measured in one process.

For each configuration both sides train the same network on the same batch; after a warm-up the
two steps alternate (so both see the same machine state) and the median is reported. Beside them:

* the time of the same-shaped matrix products alone, run in the same process: the manual path's
  ``matmul_fraction`` is matmul time / manual step time, i.e. its achieved FLOP rate as a fraction
  of what those products reach on their own;
* the peak memory a step allocates above the state it starts from (parameters, data; no gradients
  held), measured the same way on the CPU and CUDA (:mod:`manual_vs_autograd.bench_memory`);
* ``checked_overhead``: a checked side-by-side step (the trainer, default recording, at its steady
  pace after the first step) over a plain manual step plus a plain autograd step, both timed on the
  same steps of the same run (``checked_overhead_apart``: over the plain steps above, timed apart), the run's start-up
  (set-up and the always-checked first step) in seconds, and the peak memory of a long checked run
  over a short one (:mod:`manual_vs_autograd.bench_checked`);
* optionally autograd under ``torch.compile`` (marked "compiled"), where it compiles;
* the lecture's scalar loop against the vectorised manual path on the 2-2-1 network.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch

from .bench_checked import MIN_STEPS, CheckedCost, checked_cost, checked_steps_for
from .bench_memory import peak_bytes
from .config import MLPConfig, init_params
from .data import load_blobs, targets_for
from .devices import dtype_name, resolve_device
from .lecture.scalar_net import epoch_update, lecture_init
from .manual import loss_and_grads, sgd_step
from .streaming import finite_or_none
from .twin import TwinMLP

__all__ = ["CONFIGS", "BenchConfig", "BenchResult", "run_bench", "scalar_summary", "summarise"]


@dataclass(frozen=True)
class BenchConfig:
    """One benchmarked network."""

    name: str
    sizes: tuple[int, ...]
    activation: str
    loss: str
    batch: int  # samples per step
    dtype: torch.dtype
    blobs: bool  # the lecture's blob data (else random inputs and labels of the right shape)


CONFIGS = (
    BenchConfig("lecture 2-2-1", (2, 2, 1), "sigmoid", "mse", 750, torch.float64, True),
    BenchConfig("lecture 2-2-4", (2, 2, 4), "sigmoid", "ce", 750, torch.float64, True),
    BenchConfig("wide 784-1024-1024-10", (784, 1024, 1024, 10), "relu", "ce", 512, torch.float32, False),
    BenchConfig("deep 8x64", (64, *([64] * 8), 10), "tanh", "ce", 256, torch.float32, False),
)

MEMORY_STEPS = (5, 50)  # a short and a long checked run, for checked_memory_ratio
QUICK_MEMORY_STEPS = (3, 15)
QUICK_CHECKED_STEPS = 10  # --quick: checked runs this short carry step 1's bounded check (a few steps' cost) visibly


@dataclass(frozen=True)
class BenchResult:
    """Medians in seconds per training step (forward, backward, update)."""

    name: str
    device: str
    dtype: str
    batch: int
    manual_s: float
    autograd_s: float
    ratio: float  # manual / autograd: below 1 the manual path is faster
    matmul_s: float  # the same-shaped matrix products alone
    matmul_fraction: float  # matmul_s / manual_s: share of the matmul rate the manual path reaches
    manual_gflops: float  # matrix-product FLOPs per step / manual_s
    manual_peak_bytes: int
    autograd_peak_bytes: int
    compiled_s: float | None  # autograd under torch.compile; None where not run or not compiled
    compiled_note: str  # "" or why there is no compiled number
    checked_s: float | None  # one checked side-by-side step; None where not run
    checked_overhead: float | None  # checked_s / the run's own manual and autograd steps, timed on the same steps
    checked_overhead_apart: float | None  # checked_s / (manual_s + autograd_s), timed apart
    checked_steps: int | None  # steps per timed checked run
    checked_startup_s: float | None  # set-up and the first (always bound-checked) step of a checked run
    checked_short_steps: int | None
    checked_long_steps: int | None
    checked_short_peak_bytes: int | None
    checked_long_peak_bytes: int | None
    checked_memory_ratio: float | None  # long / short peak: 1 when memory does not grow with the run


def summarise(
    name: str,
    device: str,
    dtype: torch.dtype,
    batch: int,
    flops: int,
    seconds: dict[str, float],
    peaks: dict[str, int],
    compiled_note: str = "not run (use --compile)",
    checked: CheckedCost | None = None,
) -> BenchResult:
    """The result from measured medians ``seconds`` (``manual``, ``autograd``, ``matmul``, maybe ``compiled``)
    and ``peaks`` (``manual``, ``autograd``); ``flops``: the matrix products' FLOPs per step."""
    manual_s, autograd_s = seconds["manual"], seconds["autograd"]
    return BenchResult(
        name=name,
        device=device,
        dtype=dtype_name(dtype),
        batch=batch,
        manual_s=manual_s,
        autograd_s=autograd_s,
        ratio=manual_s / autograd_s,
        matmul_s=seconds["matmul"],
        matmul_fraction=seconds["matmul"] / manual_s,
        manual_gflops=flops / manual_s / 1e9,
        manual_peak_bytes=peaks["manual"],
        autograd_peak_bytes=peaks["autograd"],
        compiled_s=seconds.get("compiled"),
        compiled_note="" if "compiled" in seconds else compiled_note,
        checked_s=checked.seconds if checked else None,
        checked_overhead=finite_or_none(checked.in_run_ratio) if checked else None,
        checked_overhead_apart=checked.seconds / (manual_s + autograd_s) if checked else None,
        checked_steps=checked.steps if checked else None,
        checked_startup_s=checked.startup_seconds if checked else None,
        checked_short_steps=checked.short_steps if checked else None,
        checked_long_steps=checked.long_steps if checked else None,
        checked_short_peak_bytes=checked.short_peak_bytes if checked else None,
        checked_long_peak_bytes=checked.long_peak_bytes if checked else None,
        checked_memory_ratio=(
            checked.long_peak_bytes / checked.short_peak_bytes if checked and checked.short_peak_bytes else None
        ),
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _alternate(
    fns: Sequence[Callable[[], object]],
    device: torch.device,
    budget_s: float,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Warm each up, then run them in turn until ``budget_s`` is spent (5 rounds at least); medians."""
    for fn in fns:
        for _ in range(3):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    start = clock()
    while len(times[0]) < 5 or (clock() - start < budget_s and len(times[0]) < 2000):
        for i, fn in enumerate(fns):
            _sync(device)
            begin = clock()
            fn()
            _sync(device)
            times[i].append(clock() - begin)
    return [statistics.median(t) for t in times]


def _data(cfg: BenchConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if cfg.blobs:
        blobs = load_blobs(binary=cfg.loss != "ce", dtype=cfg.dtype, device=device)
        return blobs.x_train[: cfg.batch], blobs.y_train[: cfg.batch]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(cfg.batch, cfg.sizes[0], generator=g, dtype=cfg.dtype)
    y = torch.randint(0, cfg.sizes[-1] if cfg.loss == "ce" else 2, (cfg.batch,), generator=g)
    return x.to(device), y.to(device)


def _matmul_products(config: MLPConfig, params: dict[str, torch.Tensor], x: torch.Tensor) -> Callable[[], None]:
    """The manual step's matrix products alone, on tensors of the same shapes: per layer the forward
    ``addmm``, ``∂L/∂W = daᵀ·h`` and (above the first layer) ``∂L/∂h = da·W``."""
    hs = [x] + [torch.randn(x.shape[0], s, dtype=x.dtype, device=x.device) for s in config.sizes[1:]]

    def run() -> None:
        for layer in range(1, config.n_layers + 1):
            W, b, h, da = params[f"W{layer}"], params[f"b{layer}"], hs[layer - 1], hs[layer]
            torch.addmm(b, h, W.t())
            da.t().mm(h)
            if layer > 1:
                da.mm(W)

    return run


def _matmul_flops(config: MLPConfig, batch: int) -> int:
    flops = 0
    for layer in range(1, config.n_layers + 1):
        n_in, n_out = config.sizes[layer - 1], config.sizes[layer]
        flops += 2 * batch * n_in * n_out * (3 if layer > 1 else 2)
    return flops


def _bench_one(
    cfg: BenchConfig,
    device: torch.device,
    budget_s: float,
    compile_autograd: bool,
    memory_steps: tuple[int, int] | None,
    min_checked_steps: int = MIN_STEPS,
) -> BenchResult:
    config = MLPConfig(cfg.sizes, cfg.activation, cfg.loss)
    x, labels = _data(cfg, device)
    y = targets_for(labels, cfg.loss, cfg.dtype)
    params = init_params(config, 0, scheme="scaled", dtype=cfg.dtype, device=device)
    lr = 1e-3  # small: the weights barely move while being timed

    manual = {k: v.clone() for k, v in params.items()}

    def manual_step() -> None:
        _, grads = loss_and_grads(manual, x, y, config)
        sgd_step(manual, grads, lr)

    twin = TwinMLP(config, params)
    optimizer = torch.optim.SGD(twin.parameters(), lr=lr)

    def no_gradients() -> None:
        optimizer.zero_grad(set_to_none=True)

    def autograd_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        twin.loss(x, y).backward()
        optimizer.step()

    fns = [manual_step, autograd_step, _matmul_products(config, manual, x)]
    compiled_note = "not run (use --compile)"
    if compile_autograd:
        try:
            ctwin = TwinMLP(config, params)
            closs = torch.compile(ctwin.loss)
            copt = torch.optim.SGD(ctwin.parameters(), lr=lr)

            def compiled_step() -> None:
                copt.zero_grad(set_to_none=True)
                closs(x, y).backward()
                copt.step()

            compiled_step()  # compiles here, outside the timing
            fns.append(compiled_step)
            compiled_note = ""
        except Exception as err:  # noqa: BLE001 - any compiler failure means "no compiled number"
            compiled_note = f"torch.compile failed: {type(err).__name__}: {str(err).splitlines()[0][:80]}"
    medians = _alternate(fns, device, budget_s)
    seconds = dict(zip(("manual", "autograd", "matmul", "compiled"), medians))
    peaks = {
        "manual": peak_bytes(manual_step, device),
        "autograd": peak_bytes(autograd_step, device, before=no_gradients),
    }
    checked = None
    if memory_steps is not None:
        steps = checked_steps_for(seconds["manual"] + seconds["autograd"], budget_s, min_checked_steps)
        checked = checked_cost(config, params, x, y, lr=lr, steps=steps, memory_steps=memory_steps)
    return summarise(
        cfg.name,
        str(device),
        cfg.dtype,
        cfg.batch,
        _matmul_flops(config, cfg.batch),
        seconds,
        peaks,
        compiled_note,
        checked,
    )


def _scalar_vs_vectorised(epochs: int, device: torch.device) -> dict[str, float]:
    """Epochs per second of the lecture's scalar loop and of the vectorised manual path (2-2-1, 750 points)."""
    data = load_blobs()
    X, Y = data.x_train.tolist(), data.y_train.tolist()
    net = lecture_init()
    start = time.perf_counter()
    for _ in range(epochs):
        net, _ = epoch_update(net, X, Y, 1.0)
    scalar_s = (time.perf_counter() - start) / epochs
    config = MLPConfig()
    params = init_params(config, device=device)
    x, y = data.x_train.to(device), targets_for(data.y_train, "mse", torch.float64).to(device)

    def step() -> None:
        _, grads = loss_and_grads(params, x, y, config)
        sgd_step(params, grads, 0.5)

    (vector_s,) = _alternate([step], device, 0.5)
    return scalar_summary(scalar_s, vector_s)


def scalar_summary(scalar_s: float, vector_s: float) -> dict[str, float]:
    """Epochs per second of each from seconds per epoch, and how many times faster the vectorised path is."""
    return {
        "scalar_epochs_per_s": 1 / scalar_s,
        "vectorised_epochs_per_s": 1 / vector_s,
        "scalar_speedup": scalar_s / vector_s,
    }


def run_bench(
    *, quick: bool = False, device: str = "auto", compile_autograd: bool = False, checked: bool = True,
    names: tuple[str, ...] | None = None, progress: Callable[[str], None] | None = None,
) -> dict:  # fmt: skip
    """Run every configuration (or those in ``names``) on ``device`` (``auto``: CPU, and CUDA too when present).

    Returns the ``mva bench --json`` object: ``configs`` (a list of :class:`BenchResult` as dicts),
    ``scalar`` and ``scalar_speedup``, and the machine it ran on. ``checked``: also measure the checked
    side-by-side step (``checked_*`` fields; None where not run).
    """
    devices = [torch.device("cpu")]
    if device == "auto" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    elif device != "auto":
        devices = [resolve_device(device)]
    budget = 0.3 if quick else 2.0
    memory_steps = (QUICK_MEMORY_STEPS if quick else MEMORY_STEPS) if checked else None
    configs = []
    for dev in devices:
        for cfg in CONFIGS:
            if names is not None and cfg.name not in names:
                continue
            if progress:
                progress(f"{cfg.name} on {dev}")
            min_steps = QUICK_CHECKED_STEPS if quick else MIN_STEPS
            configs.append(asdict(_bench_one(cfg, dev, budget, compile_autograd, memory_steps, min_steps)))
    if progress:
        progress("scalar loop against the vectorised manual path")
    scalar = _scalar_vs_vectorised(3 if quick else 20, torch.device("cpu"))
    return {
        "machine": _machine(),
        "quick": quick,
        "configs": configs,
        "scalar": {k: v for k, v in scalar.items() if k != "scalar_speedup"},
        "scalar_speedup": scalar["scalar_speedup"],
    }


def _machine() -> dict[str, object]:
    import platform

    info: dict[str, object] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            info["cpu"] = names[0]
    except OSError:
        pass
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
