"""Power and specificity of a gradient verdict: injected bugs it must catch, honest differences it must pass.

A :class:`Case` is a random network (depth, widths, activation, loss, dtype, batch, seed) with the
manual gradients and autograd's reference from the same parameters. :func:`mutants` yields the bugs
real backward passes have; :func:`honest_variants` yields correct computations that are not bitwise
equal. ``tests/test_verdict.py`` asserts every mutant is caught and no honest variant is flagged;
``scripts/mutation_table.py`` counts both for this package's verdict and for
``torch.testing.assert_close``'s defaults.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .bounds import mlp_grad_bounds
from .config import MLPConfig, init_params
from .devices import dtype_name
from .manual import loss_and_grads
from .twin import TwinMLP

__all__ = ["Case", "SCALE_DELTA", "honest_variants", "make_case", "mutants", "package_flags", "assert_close_flags"]

SCALE_DELTA = {torch.float32: 1e-3, torch.float64: 1e-6}
"""The smallest whole-tensor scaling ``1 + δ`` that must be caught, per dtype (from the issue)."""

Grads = dict[str, Tensor]


@dataclass
class Case:
    config: MLPConfig
    params: dict[str, Tensor]
    x: Tensor
    y: Tensor
    manual: Grads  # dW1, db1, ...
    reference: Grads  # autograd's, same dtype, same parameters
    bounds: Grads

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def describe(self) -> str:
        return f"{self.config.describe()} {dtype_name(self.dtype)} batch {self.x.shape[0]}"


def autograd_grads(config: MLPConfig, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Grads:
    twin = TwinMLP(config, params)
    twin.loss(x, y).backward()
    return twin.math_gradients()


def make_case(seed: int, dtype: torch.dtype, *, norm: str = "none") -> Case:
    """A random network and batch: depth 1-4 hidden layers, widths 1-24, sigmoid/tanh/relu, mse/bce/ce.

    ``norm="layer"`` puts layer normalisation in the hidden layers of the same random network.
    """
    rng = random.Random(seed)
    loss = rng.choice(["mse", "bce", "ce"])
    n_in, n_out = rng.randint(1, 6), (1 if loss != "ce" else rng.randint(2, 6))
    hidden = [rng.randint(1, 24) for _ in range(rng.randint(1, 4))]
    config = MLPConfig((n_in, *hidden, n_out), rng.choice(["sigmoid", "tanh", "relu"]), loss, norm=norm)
    n = rng.choice([1, 2, 7, 32, 100, 256])
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, n_in, generator=g) * rng.choice([0.5, 1.0, 3.0])).to(dtype)
    if loss == "ce":
        y = torch.randint(0, n_out, (n,), generator=g)
    else:
        y = torch.randint(0, 2, (n, 1), generator=g).to(dtype)
    params = init_params(config, seed, scheme="scaled", dtype=dtype)
    _, manual = loss_and_grads(params, x, y, config)
    reference = autograd_grads(config, params, x, y)
    return Case(config, params, x, y, manual, reference, mlp_grad_bounds(config, params, x, y))


def _largest(t: Tensor) -> int:
    return int(t.abs().reshape(-1).argmax().item())


def _with(grads: Grads, name: str, value: Tensor) -> Grads:
    return {**grads, name: value}


def mutants(case: Case) -> Iterator[tuple[str, Grads]]:
    """Each bug applied to the manual gradients: ``(kind, mutated gradients)``.

    ``one tensor x(1+δ)`` is the hardest: a tensor whose every entry is a sum with heavy cancellation
    (a bias gradient summed over a large batch, say) has a rounding bound above ``δ`` relative, so no
    sound verdict can promise to see it; the tests count it and assert the others without exception.
    Entry-level bugs hit the tensor's largest-magnitude entry: an entry smaller than its own rounding
    bound cannot be told from 0 by any sound tolerance, and the largest entry is where a bug matters.
    Tensors that are all zero (dead ReLU units) are left out: no mutation of them changes anything.
    """
    g = case.manual
    delta = SCALE_DELTA.get(case.dtype, 1e-1)  # half precision: only the entry-level bugs are asserted
    yield "all tensors x(1+δ)", {k: v * (1 + delta) for k, v in g.items()}
    for name, t in g.items():
        if not bool(t.abs().max() > 0):
            continue
        yield "one tensor x(1+δ)", _with(g, name, t * (1 + delta))
        i = _largest(t)
        flat = t.reshape(-1)
        for kind, value in (("sign flip", -flat[i]), ("zeroed", 0 * flat[i]), ("x1.5", 1.5 * flat[i])):
            mutated = flat.clone()
            mutated[i] = value
            yield f"entry {kind}", _with(g, name, mutated.view_as(t))
        if t.dim() == 2 and t.shape[0] > 1 and not torch.equal(t, t.roll(1, 0)):
            yield "rows rolled", _with(g, name, t.roll(1, 0))
        if t.dim() == 2 and t.shape[0] == t.shape[1] and not torch.equal(t, t.t()):
            yield "transposed", _with(g, name, t.t().contiguous())
    yield "factor 2 dropped", {k: v * 0.5 for k, v in g.items()}
    if case.x.shape[0] > 1:
        yield "1/N dropped", {k: v * case.x.shape[0] for k, v in g.items()}
    wrong = wrong_derivative_grads(case)
    # with width-1 normalised layers everything below is exactly 0 whatever the derivative: no bug to see
    if any(not torch.equal(wrong[k], case.reference[k]) for k in wrong):
        yield "wrong activation derivative", wrong


class _WrongDerivative(torch.autograd.Function):
    """The hidden activation with a classic wrong derivative: σ' = h (no 1 - h), tanh' = 1 - h, relu' = 1."""

    @staticmethod
    def forward(ctx, a: Tensor, name: str) -> Tensor:
        h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](a)
        ctx.save_for_backward(h)
        ctx.name = name
        return h

    @staticmethod
    def backward(ctx, dh: Tensor) -> tuple[Tensor, None]:
        (h,) = ctx.saved_tensors
        wrong = {"sigmoid": h, "tanh": 1 - h, "relu": torch.ones_like(h)}[ctx.name]
        return dh * wrong, None


def wrong_derivative_grads(case: Case) -> Grads:
    """The network's gradients with every hidden activation's derivative wrong (autograd does the rest)."""
    config = case.config
    params = {k: v.clone().requires_grad_(True) for k, v in case.params.items()}
    h = case.x
    for layer in range(1, config.n_layers + 1):
        a = F.linear(h, params[f"W{layer}"], params[f"b{layer}"])
        if config.normalises(layer):
            a = F.layer_norm(a, a.shape[-1:])
        h = _WrongDerivative.apply(a, config.activation) if layer < config.n_layers else _output(config, a)
    _loss(config, h, case.y).backward()
    grads: Grads = {}
    for k, v in params.items():
        assert v.grad is not None, f"{k} is a leaf that requires grad and feeds the loss"
        grads[f"d{k}"] = v.grad
    return grads


def _output(config: MLPConfig, a: Tensor) -> Tensor:
    return a if config.loss == "ce" else torch.sigmoid(a)


def _loss(config: MLPConfig, y_hat: Tensor, y: Tensor) -> Tensor:
    losses: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
        "mse": F.mse_loss,
        "bce": F.binary_cross_entropy,
        "ce": F.cross_entropy,
    }
    return losses[config.loss](y_hat, y)


def plain_grads(config: MLPConfig, params: dict[str, Tensor], x: Tensor, y: Tensor) -> Grads:
    """The textbook backward with the plain formulas: σ' as ``dh*h*(1-h)``, tanh' as ``dh*(1-h*h)``,
    CE as ``(softmax - one_hot)/N``, MSE as ``2*(ŷ - y)/M``, BCE as ``(ŷ - y)/N`` through the sigmoid,
    layer norm as ``(a - μ)/sqrt(var + ε)`` with the textbook backward ``r·(dz - mean(dz) - z·mean(dz·z))``."""
    zs: list[tuple[Tensor, Tensor] | None] = [None]  # per layer: layer norm's (z, r), or None
    hs, h = [x], x
    L = config.n_layers
    for layer in range(1, L + 1):
        a = h @ params[f"W{layer}"].t() + params[f"b{layer}"]
        if config.normalises(layer):
            mu = a.mean(1, keepdim=True)
            r = 1 / torch.sqrt(((a - mu) ** 2).mean(1, keepdim=True) + 1e-5)
            a = (a - mu) * r
            zs.append((a, r))
        else:
            zs.append(None)
        act = config.activation if layer < L else ("identity" if config.loss == "ce" else "sigmoid")
        h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda t: t}[act](a)
        hs.append(h)
    n = x.shape[0]
    if config.loss == "ce":
        da = (torch.softmax(h, dim=1) - F.one_hot(y, h.shape[1]).to(h.dtype)) / n
    elif config.loss == "bce":
        da = (h - y) / h.numel()
    else:
        dh = 2 * (h - y) / h.numel()
        da = dh * h * (1 - h)
    grads: Grads = {}
    for layer in range(L, 0, -1):
        grads[f"dW{layer}"] = da.t() @ hs[layer - 1]
        grads[f"db{layer}"] = da.sum(0)
        if layer > 1:
            dh, hp = da @ params[f"W{layer}"], hs[layer - 1]
            if config.activation == "sigmoid":
                da = dh * hp * (1 - hp)
            elif config.activation == "tanh":
                da = dh * (1 - hp * hp)
            else:  # relu
                da = dh * (hp > 0)
            norm = zs[layer - 1]
            if norm is not None:
                z, r = norm
                da = r * (da - da.mean(1, keepdim=True) - z * (da * z).mean(1, keepdim=True))
    return {f"d{k}": grads[f"d{k}"] for k in params}


def honest_variants(case: Case) -> Iterator[tuple[str, Grads, Grads, torch.dtype]]:
    """Correct but not bitwise-equal computations: ``(kind, candidate, reference, dtype of the bound)``."""
    config, params, x, y = case.config, case.params, case.x, case.y
    if x.shape[0] > 1:
        order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(1))
        yield "batch reordered", loss_and_grads(params, x[order], y[order], config)[1], case.reference, case.dtype
    yield "plain formulas", plain_grads(config, params, x, y), case.reference, case.dtype
    if case.dtype == torch.float32:
        p64 = {k: v.double() for k, v in params.items()}
        y64 = y if config.loss == "ce" else y.double()
        yield "float32 vs float64", case.manual, autograd_grads(config, p64, x.double(), y64), torch.float32


def package_flags(candidate: Grads, reference: Grads, bounds: Grads) -> bool:
    """This package's verdict: some element outside its bound."""
    from .parity import compare_tensors

    return any(not compare_tensors(k, candidate[k], reference[k], bounds[k]).within for k in reference)


def assert_close_flags(candidate: Grads, reference: Grads) -> bool:
    """``torch.testing.assert_close`` with its defaults, tensor by tensor, in the candidate's dtype."""
    for k, ref in reference.items():
        try:
            torch.testing.assert_close(candidate[k], ref.to(candidate[k].dtype))
        except AssertionError:
            return True
    return False
