"""Each layer's and loss's backward against autograd and against central finite differences (float64)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from manual_vs_autograd.finite_diff import numerical_backward
from manual_vs_autograd.layers import ACTIVATIONS, linear_backward, linear_forward
from manual_vs_autograd.losses import LOSSES
from manual_vs_autograd.norm import layer_norm_backward, layer_norm_forward
from manual_vs_autograd.twin import TORCH_ACTIVATIONS, TORCH_LOSSES

# Autograd witness, float64: the formulas agree exactly in exact arithmetic, so the only differences
# are roundings of a few operations on O(1) numbers: 1e-12 is ~4500 eps, far above that, far below a
# wrong derivative.
AUTOGRAD_TOL = dict(rtol=1e-12, atol=1e-12)
# Finite-difference witness, float64, h = 1e-6: truncation O(h²) ≈ 1e-12 plus rounding
# O(eps·|L|/h) ≈ 1e-10 for |L| ~ 1, so 1e-7 leaves a margin yet catches any wrong factor.
FD_TOL = dict(rtol=1e-6, atol=1e-7)

SHAPES = [(1, 1, 1), (5, 3, 2), (7, 2, 4), (16, 8, 8)]  # (N, I, O)
SEEDS = [0, 1, 2]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_linear_backward_matches_autograd_and_finite_differences(shape, seed):
    N, I, O = shape
    g = _gen(seed)
    x, W, b = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((N, I), (O, I), (O,)))
    da = torch.randn(N, O, generator=g, dtype=torch.float64)

    a, cache = linear_forward(x, W, b)
    grads = linear_backward(da, cache)

    xr, Wr, br = (t.clone().requires_grad_() for t in (x, W, b))
    F.linear(xr, Wr, br).backward(da)
    for mine, theirs in zip(grads, (xr.grad, Wr.grad, br.grad)):
        torch.testing.assert_close(mine, theirs, **AUTOGRAD_TOL)

    numeric = numerical_backward(lambda x_, W_, b_: linear_forward(x_, W_, b_)[0], [x, W, b], da)
    for mine, estimate in zip(grads, numeric):
        torch.testing.assert_close(mine, estimate, **FD_TOL)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize("shape", [(1, 1), (6, 3), (32, 5)])
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_backward_matches_autograd_and_finite_differences(name, shape, seed):
    g = _gen(seed)
    a = torch.randn(*shape, generator=g, dtype=torch.float64) * 3
    if name == "relu":  # keep clear of the kink, where a finite difference straddles two slopes
        a = torch.where(a.abs() < 1e-3, a + 0.01, a)
    dh = torch.randn(*shape, generator=g, dtype=torch.float64)
    act = ACTIVATIONS[name]

    h, cache = act.forward(a)
    da = act.backward(dh, cache)

    ar = a.clone().requires_grad_()
    TORCH_ACTIVATIONS[name](ar).backward(dh)
    torch.testing.assert_close(da, ar.grad, **AUTOGRAD_TOL)
    (estimate,) = numerical_backward(lambda a_: act.forward(a_)[0], [a], dh)
    torch.testing.assert_close(da, estimate, **FD_TOL)


def _loss_inputs(name: str, N: int, K: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A valid (y_hat, y) pair for the loss: probabilities and 0/1 targets, or logits and labels."""
    if name == "ce":
        return torch.randn(N, K, generator=g, dtype=torch.float64) * 2, torch.randint(0, K, (N,), generator=g)
    y_hat = torch.rand(N, K, generator=g, dtype=torch.float64) * 0.9 + 0.05  # inside (0, 1)
    return y_hat, torch.randint(0, 2, (N, K), generator=g).to(torch.float64)


@pytest.mark.parametrize("name", ["mse", "bce", "ce"])
@pytest.mark.parametrize("N", [1, 4, 50])
@pytest.mark.parametrize("seed", SEEDS)
def test_loss_backward_matches_autograd_and_finite_differences(name, N, seed):
    K = 3 if name == "ce" else 1
    g = _gen(seed)
    y_hat, y = _loss_inputs(name, N, K, g)
    dout = torch.randn((), generator=g, dtype=torch.float64)  # ∂L_total/∂L: the loss inside a larger sum
    loss = LOSSES[name]

    L, cache = loss.forward(y_hat, y)
    dy_hat = loss.backward(dout, cache)

    yr = y_hat.clone().requires_grad_()
    L_torch = TORCH_LOSSES[name](yr, y)
    L_torch.backward(dout)
    torch.testing.assert_close(L, L_torch.detach(), **AUTOGRAD_TOL)
    torch.testing.assert_close(dy_hat, yr.grad, **AUTOGRAD_TOL)
    (estimate,) = numerical_backward(lambda p: loss.forward(p, y)[0], [y_hat], dout)
    torch.testing.assert_close(dy_hat, estimate, **FD_TOL)


@pytest.mark.parametrize("shape", [(1, 2), (6, 3), (32, 16), (2, 3, 5)])
@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_backward_matches_autograd_and_finite_differences(shape, seed):
    g = _gen(seed)
    a = torch.randn(*shape, generator=g, dtype=torch.float64) * 3 + 1
    dz = torch.randn(*shape, generator=g, dtype=torch.float64)

    z, cache = layer_norm_forward(a)
    da = layer_norm_backward(dz, cache)

    ar = a.clone().requires_grad_()
    zr = F.layer_norm(ar, shape[-1:])
    zr.backward(dz)
    torch.testing.assert_close(z, zr.detach(), **AUTOGRAD_TOL)
    torch.testing.assert_close(da, ar.grad, **AUTOGRAD_TOL)
    (estimate,) = numerical_backward(lambda a_: layer_norm_forward(a_)[0], [a], dz)
    torch.testing.assert_close(da, estimate, **FD_TOL)


def test_bce_backward_matches_autograd_at_saturation():
    """A sigmoid output of exactly 1.0 hits the floor on y(1 - y); torch's floor is 1e-12 in float32."""
    y_hat = torch.tensor([[1.0], [0.0], [1.0 - 1e-14], [0.5]], dtype=torch.float64)
    y = torch.tensor([[0.0], [1.0], [0.0], [1.0]], dtype=torch.float64)
    dy_hat = LOSSES["bce"].backward(1.0, LOSSES["bce"].forward(y_hat, y)[1])
    yr = y_hat.clone().requires_grad_()
    F.binary_cross_entropy(yr, y).backward()
    assert torch.equal(dy_hat, yr.grad)
