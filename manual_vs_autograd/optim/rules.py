"""The update rules by hand: SGD (momentum, dampening, Nesterov, weight decay), Adam/AdamW (amsgrad), RMSprop.

Each rule takes the parameters ``{"W1": ..., "b1": ...}``, the gradients ``{"dW1": ..., "db1": ...}``
(as :func:`manual_vs_autograd.manual.loss_and_grads` returns them) and its state record, and updates
the parameters and the state in place, as ``optimizer.step()`` does.

They follow ``torch.optim`` 2.13 line for line: the documented algorithm in each class's docstring
and its ``_single_tensor_<rule>`` function (``torch/optim/sgd.py``, ``adam.py``, ``rmsprop.py``),
which is what torch runs for parameters on the CPU. **Where the rounding is chosen to match:** each
line uses the tensor op torch uses for it (``lerp_`` for ``β m + (1-β) g``, ``addcmul_`` for
``+ c·g·g``, ``addcdiv_`` for ``- s·m/d``, the Python float arithmetic for the scalars ``1 - β^t``),
with the textbook formula in the comment beside it. The same ops on the same numbers round the
same way, so on the CPU each rule is bitwise equal to ``torch.optim``'s.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .spec import SGD_FAMILY, OptimizerSpec
from .state import AdamState, OptimizerState, RMSpropState, SGDState

__all__ = ["adam_step", "manual_step", "rmsprop_step", "sgd_step"]


def sgd_step(params: dict[str, Tensor], grads: dict[str, Tensor], state: SGDState, spec: OptimizerSpec) -> None:
    """SGD with momentum ``μ``, dampening ``τ``, Nesterov and weight decay ``λ`` (``torch.optim.SGD``)::

        g_t ← ∇f(θ_{t-1}) + λ θ_{t-1}
        b_t ← g_t                            at t = 1 (no dampening on the first step)
        b_t ← μ b_{t-1} + (1 - τ) g_t        at t > 1
        g_t ← g_t + μ b_t  (Nesterov)   or   g_t ← b_t  (plain momentum)     [only when μ ≠ 0]
        θ_t ← θ_{t-1} - γ g_t

    The lr multiplies the velocity, not the gradient (torch's convention, not Sutskever et al.'s).
    """
    lr, mu, tau, wd = spec.lr, spec.momentum, spec.dampening, spec.weight_decay
    state.step += 1
    for name, p in params.items():
        g = grads[f"d{name}"]
        if wd != 0:
            g = g.add(p, alpha=wd)  # g + λθ (a new tensor: the caller's gradient is not touched)
        if mu != 0:
            b = state.momentum_buffer.get(name)
            if b is None:
                b = state.momentum_buffer[name] = g.clone()  # b_1 = g_1
            else:
                b.mul_(mu).add_(g, alpha=1 - tau)  # b_t = μ b_{t-1} + (1 - τ) g_t
            g = g.add(b, alpha=mu) if spec.nesterov else b  # Nesterov looks one velocity step ahead
        p.add_(g, alpha=-lr)  # θ ← θ - γ g


def adam_step(params: dict[str, Tensor], grads: dict[str, Tensor], state: AdamState, spec: OptimizerSpec) -> None:
    """Adam (``torch.optim.Adam``) and AdamW (``torch.optim.AdamW``, decoupled weight decay)::

        θ_{t-1} ← θ_{t-1} (1 - γλ)           AdamW: decay the weights, apart from the gradient
        g_t ← ∇f(θ_{t-1}) + λ θ_{t-1}        Adam: the decay joins the gradient (an L2 penalty)
        m_t ← β1 m_{t-1} + (1 - β1) g_t
        v_t ← β2 v_{t-1} + (1 - β2) g_t²
        v_t^max ← max(v_{t-1}^max, v_t)      amsgrad only; then v_t^max stands for v_t below
        θ_t ← θ_{t-1} - (γ / (1 - β1^t)) · m_t / (√v_t / √(1 - β2^t) + ε)

    The last line is torch's documented ``γ m̂_t / (√v̂_t + ε)`` with the bias corrections
    ``m̂ = m/(1-β1^t)``, ``v̂ = v/(1-β2^t)`` folded in: ε is added to ``√v̂``, outside the square root.
    """
    lr, (beta1, beta2), eps, wd = spec.lr, spec.betas, spec.eps, spec.weight_decay
    state.step += 1
    t = state.step
    bias_correction1 = 1 - beta1**t  # 1 - β1^t, a Python float as in torch
    bias_correction2_sqrt = (1 - beta2**t) ** 0.5  # √(1 - β2^t)
    step_size = lr / bias_correction1  # γ / (1 - β1^t)
    for name, p in params.items():
        g = grads[f"d{name}"]
        if wd != 0:
            if spec.name == "adamw":
                p.mul_(1 - lr * wd)  # θ ← θ (1 - γλ), decoupled from m and v
            else:
                g = g.add(p, alpha=wd)  # g + λθ, coupled: it flows into m and v
        m, v = state.exp_avg[name], state.exp_avg_sq[name]
        m.lerp_(g, 1 - beta1)  # m = β1 m + (1 - β1) g, written m + (1 - β1)(g - m)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v = β2 v + (1 - β2) g²
        if spec.amsgrad:
            v = torch.maximum(state.max_exp_avg_sq[name], v, out=state.max_exp_avg_sq[name])  # v^max
        denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)  # √v̂ + ε
        p.addcdiv_(m, denom, value=-step_size)  # θ ← θ - γ/(1-β1^t) · m / (√v̂ + ε)


def rmsprop_step(params: dict[str, Tensor], grads: dict[str, Tensor], state: RMSpropState, spec: OptimizerSpec) -> None:
    """RMSprop (``torch.optim.RMSprop``) with smoothing ``α``, momentum ``μ``, centring, weight decay::

        g_t ← ∇f(θ_{t-1}) + λ θ_{t-1}
        v_t ← α v_{t-1} + (1 - α) g_t²
        ḡ_t ← α ḡ_{t-1} + (1 - α) g_t;   d_t ← √(v_t - ḡ_t²) + ε       centered
                                          d_t ← √v_t + ε                  otherwise
        b_t ← μ b_{t-1} + g_t / d_t;     θ_t ← θ_{t-1} - γ b_t          μ > 0 (b_0 = 0, unlike SGD)
        θ_t ← θ_{t-1} - γ g_t / d_t                                     μ = 0

    No bias correction: v starts at 0, so the first steps are large (about γ/√(1-α)).
    """
    lr, alpha, eps, wd, mu = spec.lr, spec.alpha, spec.eps, spec.weight_decay, spec.momentum
    state.step += 1
    for name, p in params.items():
        g = grads[f"d{name}"]
        if wd != 0:
            g = g.add(p, alpha=wd)  # g + λθ
        v = state.square_avg[name]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v = α v + (1 - α) g²
        if spec.centered:
            g_avg = state.grad_avg[name]
            g_avg.lerp_(g, 1 - alpha)  # ḡ = α ḡ + (1 - α) g
            denom = v.addcmul(g_avg, g_avg, value=-1).sqrt_()  # √(v - ḡ²)
        else:
            denom = v.sqrt()  # √v
        denom = denom.add_(eps)  # + ε, outside the square root
        if mu > 0:
            b = state.momentum_buffer[name]
            b.mul_(mu).addcdiv_(g, denom)  # b = μ b + g / d
            p.add_(b, alpha=-lr)  # θ ← θ - γ b
        else:
            p.addcdiv_(g, denom, value=-lr)  # θ ← θ - γ g / d


def manual_step(
    params: dict[str, Tensor], grads: dict[str, Tensor], state: OptimizerState, spec: OptimizerSpec
) -> None:
    """One step of ``spec``'s rule, in place on ``params`` and ``state`` (from :func:`init_state`)."""
    if spec.name in SGD_FAMILY:
        assert isinstance(state, SGDState), f"{spec.name} takes an SGDState, got {type(state).__name__}"
        sgd_step(params, grads, state, spec)
    elif spec.name == "rmsprop":
        assert isinstance(state, RMSpropState), f"rmsprop takes an RMSpropState, got {type(state).__name__}"
        rmsprop_step(params, grads, state, spec)
    else:
        assert isinstance(state, AdamState), f"{spec.name} takes an AdamState, got {type(state).__name__}"
        adam_step(params, grads, state, spec)
