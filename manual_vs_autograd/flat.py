"""Named parameters stored as views of one buffer, so that a step's summaries cost a few operations.

A side-by-side run reads both sides' parameters after every step: their largest difference per
tensor (trajectory parity, the perturbed run's distance) and, when recorded, a copy of them. Done
tensor by tensor that is a few operations per tensor, and on a deep network's many small tensors the
operations' fixed cost, not their arithmetic, is what a step's summaries cost. With each side's
tensors stored in one buffer, a copy is one ``clone`` and the per-tensor maxima of a difference are
one subtraction and one segmented maximum.

Each tensor starts on an :data:`ALIGN_BYTES` boundary of the buffer: the alignment a tensor of its
own gets from torch's allocator on that device, so that the kernels that read it (whose blocking, and hence
rounding, may depend on alignment) see what they would see without the buffer; the gaps hold zeros
and are never written. The manual side's dictionary and the twin's ``nn.Parameter`` s are these views
(:meth:`FlatParams.copy_of`, :meth:`FlatParams.adopt`), and the update rules write in place, so the
buffer always holds the live parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

from .devices import dtype_name

__all__ = ["ALIGN_BYTES", "FlatParams"]

ALIGN_BYTES = {"cpu": 64, "cuda": 512}
"""Every tensor's start in the buffer is a multiple of this many bytes, by device type: torch's CPU allocator
aligns to 64, its CUDA caching allocator rounds blocks to 512 (other devices: 64)."""


class FlatParams:
    """Tensors named ``W1, b1, ...`` as views of one zero-padded buffer (:attr:`buffer`)."""

    def __init__(self, shapes: Mapping[str, torch.Size], dtype: torch.dtype, device: torch.device | str):
        """An all-zero buffer laid out for ``shapes`` (name -> shape, in order)."""
        align = ALIGN_BYTES.get(torch.device(device).type, ALIGN_BYTES["cpu"])
        step = max(1, align // torch.empty((), dtype=dtype).element_size())
        self.offsets: dict[str, int] = {}
        self.shapes = {name: torch.Size(shape) for name, shape in shapes.items()}
        end = 0
        for name, shape in self.shapes.items():
            self.offsets[name] = end
            end += -(-shape.numel() // step) * step  # the next tensor starts on the next boundary
        self.buffer = torch.zeros(end, dtype=dtype, device=device)  # (total,) with the gaps
        self.views = self.unpack(self.buffer)
        # the maxima per tensor are over [start of a tensor, start of the next non-empty one): gaps are 0 - 0
        self._starts = np.array([self.offsets[n] for n, s in self.shapes.items() if s.numel()], dtype=np.int64)
        self._index: dict[tuple[str, ...], Tensor | None] = {}  # per choice of names: where their elements lie
        self._scratch: Tensor | None = None  # the difference of two buffers, made once
        self._on_numpy = self.buffer.device.type == "cpu" and dtype in (torch.float32, torch.float64)

    @classmethod
    def copy_of(cls, params: Mapping[str, Tensor]) -> FlatParams:
        """A buffer holding a copy of ``params`` (on their device, in their dtype)."""
        first = next(iter(params.values()))
        flat = cls({name: p.shape for name, p in params.items()}, first.dtype, first.device)
        with torch.no_grad():
            for name, p in params.items():
                flat.views[name].copy_(p)
        return flat

    @classmethod
    def adopt(cls, named: Mapping[str, nn.Parameter]) -> FlatParams:
        """A buffer holding ``named``'s values, each parameter made a view of it (its optimizer, made before
        or after, then updates the buffer in place)."""
        flat = cls.copy_of({name: p.detach() for name, p in named.items()})
        for name, p in named.items():
            p.data = flat.views[name]
        return flat

    def release(self, named: Mapping[str, nn.Parameter]) -> None:
        """Undo :meth:`adopt`: each parameter gets a copy of its own (views of one buffer share its storage,
        which some savers refuse, e.g. safetensors)."""
        for p in named.values():
            p.data = p.data.clone()

    def take(self, params: dict[str, Tensor]) -> str | None:
        """Bring back into the buffer the tensors of ``params`` that are no longer its views (an update rule
        that assigned new tensors instead of writing in place), and make the dictionary hold the views again.

        All or nothing: returns None, or, changing nothing, what cannot be brought back in words (a tensor
        removed or added, or replaced by one of another shape, dtype or device).
        """
        if params.keys() != self.views.keys():
            removed = [name for name in self.views if name not in params]
            added = [name for name in params if name not in self.views]
            return f"removed {', '.join(removed)}" if removed else f"added {', '.join(added)}"
        replaced = {name: new for name, new in params.items() if new is not self.views[name]}
        for name, new in replaced.items():
            view = self.views[name]
            if new.shape != view.shape or new.dtype != view.dtype or new.device != view.device:
                return (
                    f"replaced {name} ({tuple(view.shape)}, {dtype_name(view.dtype)}, {view.device}) by a tensor "
                    f"of {tuple(new.shape)}, {dtype_name(new.dtype)}, {new.device}"
                )
        with torch.no_grad():
            # copied out first: a new tensor may be a view of this buffer (W1.T, a swap of two names)
            sources = {name: new.clone() for name, new in replaced.items()}
            for name, source in sources.items():
                self.views[name].copy_(source)
                params[name] = self.views[name]
        return None

    def unpack(self, buffer: Tensor) -> dict[str, Tensor]:
        """``name -> view`` of a buffer with this layout (:attr:`buffer` or a copy of it)."""
        return {
            name: buffer[start : start + shape.numel()].view(shape)
            for (name, start), shape in zip(self.offsets.items(), self.shapes.values())
        }

    def packed(self, names: tuple[str, ...]) -> Tensor:
        """A copy of the tensors ``names`` (in this buffer's order), flattened one after the other without
        gaps: one operation (a ``clone`` when they fill the buffer, else one gather)."""
        if names not in self._index:
            spans = [
                torch.arange(self.offsets[n], self.offsets[n] + s.numel()) for n, s in self.shapes.items() if n in names
            ]
            where = torch.cat(spans) if spans else torch.zeros(0, dtype=torch.long)
            gapless = len(where) == len(self.buffer)  # every tensor, no gaps: the buffer itself
            self._index[names] = None if gapless else where.to(self.buffer.device)
        index = self._index[names]
        return self.buffer.clone() if index is None else self.buffer.index_select(0, index)

    def max_abs(self) -> list[float]:
        """``max|p|`` of every tensor, in order (0 for an empty one; NaN where any element is)."""
        return self._maxima(self.buffer.abs())

    def max_abs_diff(self, other: FlatParams) -> list[float]:
        """``max|p - q|`` of every tensor against ``other``'s (same layout): 0 where bitwise equal (``+0``
        against ``-0`` aside), NaN where either has a NaN; equal infinities are no difference."""
        if other.offsets != self.offsets or other.shapes != self.shapes:
            raise ValueError("the two buffers' layouts differ")
        if self._scratch is None:  # reused: a fresh buffer of this size each step costs more than the subtraction
            self._scratch = torch.empty_like(self.buffer)
        if self._on_numpy:  # single-threaded: waking torch's threads for a few thousand elements costs more
            scratch = self._scratch.numpy()
            with np.errstate(invalid="ignore"):  # inf - inf is NaN, as in torch (equal infinities: below)
                np.abs(np.subtract(self.buffer.numpy(), other.buffer.numpy(), out=scratch), out=scratch)
        else:
            torch.sub(self.buffer, other.buffer, out=self._scratch).abs_()
        maxima = self._maxima(self._scratch)
        for i, name in enumerate(self.shapes):
            if math.isnan(maxima[i]):  # inf - inf is NaN: equal infinities are no difference
                p, q = self.views[name], other.views[name]
                maxima[i] = float(torch.where(p == q, 0.0, (p - q).abs()).max())
        return maxima

    def _maxima(self, values: Tensor) -> list[float]:
        """The largest of ``values`` (``(total,)``, ≥ 0 or NaN, zero in the gaps) over each tensor's span."""
        out = dict.fromkeys(self.shapes, 0.0)
        if not len(self._starts):
            return list(out.values())
        if self._on_numpy:  # one pass, NaN propagating
            maxima = np.maximum.reduceat(values.numpy(), self._starts).tolist()
        else:  # one fused maximum over the views and one read-back (each .item() would synchronise)
            spans = [v.reshape(-1) for name, v in self.unpack(values).items() if self.shapes[name].numel()]
            maxima = torch.stack(torch._foreach_max(spans)).tolist()
        nonempty = [name for name, shape in self.shapes.items() if shape.numel()]
        out.update(zip(nonempty, maxima))
        return list(out.values())
