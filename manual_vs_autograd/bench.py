"""Speed and memory of one training step, manual backprop against autograd, measured in one process.

For each configuration both sides train the same network on the same batch; after a warm-up the
two steps alternate (so both see the same machine state) and the median is reported. Beside them:

* the time of the same-shaped matrix products alone, run in the same process: the manual path's
  ``matmul_fraction`` is matmul time / manual step time, i.e. its achieved FLOP rate as a fraction
  of what those products reach on their own;
* the peak memory a step allocates: ``torch.cuda.max_memory_allocated`` on CUDA; on the CPU the
  torch profiler's memory accounting, its allocation and free events replayed in order (the peak
  of the running total, over the step, above what was allocated before it);
* optionally autograd under ``torch.compile`` (marked "compiled"), where it compiles;
* the lecture's scalar loop against the vectorised manual path on the 2-2-1 network.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

import torch

from .config import MLPConfig, init_params
from .data import load_blobs, targets_for
from .devices import resolve_device
from .lecture.scalar_net import epoch_update, lecture_init
from .manual import loss_and_grads, sgd_step
from .twin import TwinMLP

__all__ = ["BenchConfig", "BenchResult", "CONFIGS", "run_bench"]


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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn: Callable[[], object], device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _alternate(fns: list[Callable[[], object]], device: torch.device, budget_s: float) -> list[float]:
    """Warm each up, then run them in turn until ``budget_s`` is spent (5 rounds at least); medians."""
    for fn in fns:
        for _ in range(3):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    while len(times[0]) < 5 or (time.perf_counter() - start < budget_s and len(times[0]) < 2000):
        for i, fn in enumerate(fns):
            times[i].append(_time(fn, device))
    return [statistics.median(t) for t in times]


def _peak_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """Peak bytes allocated during ``fn`` above what was allocated before it."""
    if device.type == "cuda":
        _sync(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        _sync(device)
        return int(torch.cuda.max_memory_allocated(device) - base)
    from torch.profiler import ProfilerActivity, profile

    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # Each op's own allocations count from its start, its own frees from its end (a parent frees
    # after the children it called): an upper bound on the live bytes at every moment.
    changes = []
    for event in prof.events():
        delta = event.cpu_memory_usage if event.name == "[memory]" else event.self_cpu_memory_usage
        if delta:
            changes.append((event.time_range.start if delta > 0 else event.time_range.end, delta))
    running = peak = 0
    for _, delta in sorted(changes):
        running += delta
        peak = max(peak, running)
    return int(peak)


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what the profiler's C++ side prints on file descriptor 2 while it runs (start/stop lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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


def _bench_one(cfg: BenchConfig, device: torch.device, budget_s: float, compile_autograd: bool) -> BenchResult:
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
    manual_s, autograd_s, matmul_s = medians[:3]
    return BenchResult(
        name=cfg.name,
        device=str(device),
        dtype=str(cfg.dtype).removeprefix("torch."),
        batch=cfg.batch,
        manual_s=manual_s,
        autograd_s=autograd_s,
        ratio=manual_s / autograd_s,
        matmul_s=matmul_s,
        matmul_fraction=matmul_s / manual_s,
        manual_gflops=_matmul_flops(config, cfg.batch) / manual_s / 1e9,
        manual_peak_bytes=_peak_bytes(manual_step, device),
        autograd_peak_bytes=_peak_bytes(autograd_step, device),
        compiled_s=medians[3] if len(medians) > 3 else None,
        compiled_note=compiled_note,
    )


def _scalar_vs_vectorised(epochs: int, device: torch.device) -> dict[str, float]:
    """Epochs per second of the lecture's scalar loop and of the vectorised manual path (2-2-1, 750 points)."""
    data = load_blobs()
    X, Y = data.x_train.tolist(), data.y_train.tolist()
    net = lecture_init()
    start = time.perf_counter()
    for _ in range(epochs):
        net, _ = epoch_update(net, X, Y, 1.0)
    scalar_eps = epochs / (time.perf_counter() - start)
    config = MLPConfig()
    params = init_params(config, device=device)
    x, y = data.x_train.to(device), targets_for(data.y_train, "mse", torch.float64).to(device)

    def step() -> None:
        _, grads = loss_and_grads(params, x, y, config)
        sgd_step(params, grads, 0.5)

    (vector_s,) = _alternate([step], device, 0.5)
    return {"scalar_epochs_per_s": scalar_eps, "vectorised_epochs_per_s": 1 / vector_s}


def run_bench(
    *, quick: bool = False, device: str = "auto", compile_autograd: bool = False,
    names: tuple[str, ...] | None = None, progress: Callable[[str], None] | None = None,
) -> dict:  # fmt: skip
    """Run every configuration (or those in ``names``) on ``device`` (``auto``: CPU, and CUDA too when present).

    Returns the ``mva bench --json`` object: ``configs`` (a list of :class:`BenchResult` as dicts),
    ``scalar`` and ``scalar_speedup``, and the machine it ran on.
    """
    devices = [torch.device("cpu")]
    if device == "auto" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    elif device != "auto":
        devices = [resolve_device(device)]
    budget = 0.3 if quick else 2.0
    configs = []
    for dev in devices:
        for cfg in CONFIGS:
            if names is not None and cfg.name not in names:
                continue
            if progress:
                progress(f"{cfg.name} on {dev}")
            configs.append(asdict(_bench_one(cfg, dev, budget, compile_autograd)))
    if progress:
        progress("scalar loop against the vectorised manual path")
    scalar = _scalar_vs_vectorised(3 if quick else 20, torch.device("cpu"))
    return {
        "machine": _machine(),
        "quick": quick,
        "configs": configs,
        "scalar": scalar,
        "scalar_speedup": scalar["vectorised_epochs_per_s"] / scalar["scalar_epochs_per_s"],
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
