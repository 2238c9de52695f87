"""The autograd side's optimizer: ``torch.optim`` itself, built from the same :class:`OptimizerSpec`.

Which implementation runs: ``torch.optim`` 2.13 picks one per ``step()`` when neither ``foreach`` nor
``fused`` is given (``_default_to_fused_or_foreach`` in ``torch/optim/optimizer.py``, called with
``use_fused=False`` by every rule here): **foreach** (``_multi_tensor_<rule>``, one kernel over all
parameters) when every parameter lives on a device with foreach kernels (CUDA, XPU, MTIA), else
**single-tensor** (``_single_tensor_<rule>``, a loop over the parameters) — so on the CPU it is
single-tensor, which is what :mod:`.rules` mirrors op for op. **fused** is never the default. We pass
no flag, so the twin runs exactly what a user's ``torch.optim.Adam(model.parameters())`` runs.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .spec import SGD_FAMILY, OptimizerSpec
from .state import AdamState, OptimizerState, RMSpropState, SGDState, state_buffers

__all__ = ["copy_params", "implementation", "load_state_into_torch", "state_from_torch", "torch_optimizer"]

_FOREACH_DEVICES = ("cuda", "xpu", "mtia")


def torch_optimizer(spec: OptimizerSpec, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """``torch.optim.<spec.torch_class>(parameters, **spec.settings())``, torch's default implementation."""
    cls = getattr(torch.optim, spec.torch_class)
    return cls(parameters, **spec.settings())


def implementation(device: torch.device | str) -> str:
    """``"single-tensor"`` or ``"foreach"``: what ``torch.optim`` runs by default for parameters on ``device``."""
    return "foreach" if torch.device(device).type in _FOREACH_DEVICES else "single-tensor"


def _empty_state(spec: OptimizerSpec) -> OptimizerState:
    if spec.name in SGD_FAMILY:
        return SGDState()
    return RMSpropState() if spec.name == "rmsprop" else AdamState()


def state_from_torch(
    spec: OptimizerSpec, optimizer: torch.optim.Optimizer, named: dict[str, nn.Parameter]
) -> OptimizerState:
    """A copy of ``optimizer``'s state as the manual side's record, keyed by the names in ``named``.

    ``step`` is torch's per-parameter step count (all equal here; SGD keeps none: 0); the buffers are cloned.
    """
    record = _empty_state(spec)
    steps = set()
    for name, p in named.items():
        torch_state = optimizer.state.get(p, {})
        if "step" in torch_state:
            steps.add(int(torch_state["step"]))
        for key, buffers in state_buffers(record).items():
            if torch_state.get(key) is not None:
                buffers[name] = torch_state[key].detach().clone()
    if len(steps) > 1:
        raise ValueError(f"torch's parameters disagree on the step count: {sorted(steps)}")
    record.step = steps.pop() if steps else 0
    return record


def load_state_into_torch(
    state: OptimizerState, optimizer: torch.optim.Optimizer, named: dict[str, nn.Parameter]
) -> None:
    """Copy the manual side's ``state`` into ``optimizer.state`` (for teacher forcing: both sides step from one state).

    SGD keeps no step count; the adaptive rules keep it as torch does, a float32 scalar on the CPU.
    """
    for name, p in named.items():
        torch_state = optimizer.state[p]
        torch_state.clear()
        for key, buffers in state_buffers(state).items():
            if name in buffers:
                torch_state[key] = buffers[name].detach().clone()
        if not isinstance(state, SGDState):
            torch_state["step"] = torch.tensor(float(state.step), dtype=torch.float32)


def copy_params(target: dict[str, Tensor], source: dict[str, Tensor]) -> None:
    """``target[name].copy_(source[name])`` for each name, without autograd."""
    with torch.no_grad():
        for name, t in target.items():
            t.copy_(source[name])
