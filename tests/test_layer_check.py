"""check_layer / assert_layer_matches on the shipped examples, through the public API only; each wrong variant is caught."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from manual_vs_autograd import assert_layer_matches, autograd_function_pair, check_layer, numerical_backward
from manual_vs_autograd.examples import (
    SoftplusFunction,
    gelu_backward,
    gelu_forward,
    gelu_reference,
    layer_norm_backward,
    layer_norm_forward,
    softplus_backward,
    softplus_forward,
)
from manual_vs_autograd.losses import softmax_ce_backward, softmax_ce_forward


def _layer_norm_reference(a, eps=1e-5):
    return F.layer_norm(a, a.shape[-1:], eps=eps)


def _inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    # standard normal: GELU's 1 + tanh(u) cancels below a ≈ -3, where the generic bound's model (inputs
    # perturbed, not intermediates) is too tight by ~300x in float64; see the README's engineers' section
    return torch.randn(6, 5, generator=g, dtype=torch.float64)


# ---- wrong variants: each a plausible slip -------------------------------------------------------


def softplus_backward_wrong(dh, cache):
    return dh * torch.sigmoid(-cache.a)  # σ(-a): the derivative of log(1 + e^-a), a sign slip


def gelu_backward_wrong(dh, cache):
    a, t = cache.a, cache.t
    du = 0.5 * a * dh * (1 - t * t)
    return dh * 0.5 * (1 + t) + du * (1 + 3 * 0.044715 * a * a)  # the factor k = √(2/π) forgotten


def layer_norm_backward_wrong(dz, cache):
    d, r = cache.d, cache.r
    dr = (dz * d).sum(dim=-1, keepdim=True)
    dd = dz * r + dr * -0.5 * r**3 * 2 * d / d.shape[-1]
    return dd  # the path through the mean forgotten


class SoftplusFunctionWrong(SoftplusFunction):
    @staticmethod
    def backward(ctx, dh):
        (a,) = ctx.saved_tensors
        return dh * torch.sigmoid(a) * (1 - torch.sigmoid(a))  # σ'(a) instead of σ(a)


EXAMPLES = {
    "softplus": (softplus_forward, softplus_backward, softplus_backward_wrong, F.softplus),
    "gelu": (gelu_forward, gelu_backward, gelu_backward_wrong, gelu_reference),
    "layer_norm": (layer_norm_forward, layer_norm_backward, layer_norm_backward_wrong, _layer_norm_reference),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_on_every_device_and_dtype(name, assert_layer):
    forward, backward, _, reference = EXAMPLES[name]
    report = assert_layer(forward, backward, reference, _inputs(), names=["a"])
    assert report.ok and report.inputs[0].name == "a"
    assert report.inputs[0].max_bound_ratio <= 1 and report.inputs[0].verdict == "ok"


@pytest.mark.parametrize("name", EXAMPLES)
def test_wrong_variant_is_caught_naming_the_input(name, float_dtype):
    forward, _, wrong, reference = EXAMPLES[name]
    with pytest.raises(AssertionError, match=r"(?m)^a +\(6, 5\) .*MISMATCH vs autograd and FD"):
        assert_layer_matches(forward, wrong, reference, _inputs().to(float_dtype), names=["a"])


def test_autograd_function_is_checked_against_its_own_forward(assert_layer):
    assert_layer(*autograd_function_pair(SoftplusFunction), _inputs())
    forward, backward, reference = autograd_function_pair(SoftplusFunctionWrong)
    report = check_layer(forward, backward, reference, _inputs(), names=["a"])
    assert not report.ok and report.inputs[0].verdict == "MISMATCH vs autograd and FD", str(report)


def test_report_names_the_worst_element_and_its_ulps():
    a = _inputs()
    report = check_layer(softplus_forward, softplus_backward_wrong, F.softplus, a, names=["a"])
    check = report.inputs[0]
    row, col = check.worst_index
    dh = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)  # the seeded dout
    assert check.manual == (dh * torch.sigmoid(-a))[row, col].item()
    assert check.autograd == pytest.approx((dh * torch.sigmoid(a))[row, col].item(), rel=1e-15)
    assert check.ulps > 1e6 and check.max_bound_ratio > 1e6
    assert "a " in str(report) and "MISMATCH" in str(report).splitlines()[0]


def test_non_contiguous_inputs_that_require_grad_are_left_as_they_were():
    base = torch.randn(5, 6, dtype=torch.float64).requires_grad_()
    a = base.t()  # (6, 5), not contiguous, part of a graph
    before = a.detach().clone()
    assert not a.is_contiguous()
    assert_layer_matches(layer_norm_forward, layer_norm_backward, _layer_norm_reference, a)
    assert torch.equal(a.detach(), before) and base.grad is None and a.requires_grad


def test_integer_inputs_take_no_gradient_and_keyword_arguments_reach_both_sides():
    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(7, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (7,), generator=g)
    dout = torch.tensor(1.0, dtype=torch.float64)
    report = assert_layer_matches(softmax_ce_forward, softmax_ce_backward, F.cross_entropy, logits, labels, dout=dout)
    assert [c.verdict for c in report.inputs] == ["ok", "no gradient"]
    wide = assert_layer_matches(layer_norm_forward, layer_norm_backward, _layer_norm_reference, _inputs(), eps=0.5)
    assert wide.ok
    with pytest.raises(AssertionError, match="MISMATCH"):  # eps reaches forward and reference, not only one
        assert_layer_matches(
            layer_norm_forward, layer_norm_backward, lambda a, eps: _layer_norm_reference(a), _inputs(), eps=0.5
        )


def test_wrong_count_or_shape_from_backward_is_a_clear_error_naming_the_input():
    a = _inputs()
    with pytest.raises(ValueError, match=r"backward returned 2 gradient\(s\); expected 1 \(one per input: a\)"):
        check_layer(softplus_forward, lambda dh, c: (dh, dh), F.softplus, a, names=["a"])
    with pytest.raises(ValueError, match=r"gradient for input 0 \(a\) has shape \(5, 6\); expected \(6, 5\)"):
        check_layer(softplus_forward, lambda dh, c: dh.t(), F.softplus, a, names=["a"])
    with pytest.raises(TypeError, match=r"forward must return \(out, cache\)"):
        check_layer(lambda x: F.softplus(x), softplus_backward, F.softplus, a)


def test_numerical_backward_leaves_non_contiguous_and_requires_grad_inputs_alone():
    base = torch.randn(4, 3, dtype=torch.float32).requires_grad_()
    a = base.t()
    labels = torch.tensor([0, 1, 2])
    before = a.detach().clone()
    estimate, none = numerical_backward(lambda x, y: F.cross_entropy(x, y, reduction="none"), [a, labels])
    assert none is None and estimate.dtype == torch.float64 and estimate.shape == a.shape
    assert torch.equal(a.detach(), before) and a.requires_grad and base.grad is None
    x = a.detach().double().requires_grad_()
    F.cross_entropy(x, labels, reduction="sum").backward()
    torch.testing.assert_close(estimate, x.grad, rtol=1e-6, atol=1e-7)  # float64 differences, h = 1e-6: ~1e-10
