"""Worked examples of hand-written layers, each checked against torch with :func:`~manual_vs_autograd.check_layer`.

* :mod:`.softplus` — ``h = log(1 + eˣ)``, an element-wise activation (also registered into the network by
  the README's example);
* :mod:`.gelu` — GELU in its tanh form, an element-wise activation whose derivative has two terms;
* LayerNorm — :mod:`manual_vs_autograd.norm`, the network's own normalisation: not element-wise;
* :mod:`.autograd_function` — softplus written as a ``torch.autograd.Function``, checked against its own forward.
"""

from ..norm import layer_norm_backward, layer_norm_forward
from .autograd_function import SoftplusFunction
from .gelu import gelu_backward, gelu_forward, gelu_reference
from .softplus import softplus_backward, softplus_forward

__all__ = [
    "SoftplusFunction",
    "gelu_backward",
    "gelu_forward",
    "gelu_reference",
    "layer_norm_backward",
    "layer_norm_forward",
    "softplus_backward",
    "softplus_forward",
]
