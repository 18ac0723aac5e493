"""Reductions: sum, max, min, prod, argmax, cumulative ops, and the statistics built on them.

Reduction primitives take sorted, unique `axes` and drop them; `keepdims` is
a reshape in the wrapper. They share one abstract-eval and one batching rule.
"""
from __future__ import annotations

import builtins

from ..core import Primitive, bind
from ..ir import Aval
from ..tensor import Tensor
from ._common import canonical_axes, to_tensor


def _reduce_abstract_eval(x: Aval, *, axes: tuple[int, ...]) -> Aval:
    return Aval(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype, x.weak)


def _batch_axes(axes: tuple[int, ...], bdim: int) -> tuple[int, tuple[int, ...]]:
    """Axes of the batched operand and the batch dim of the result."""
    new_axes = tuple(a + 1 if a >= bdim else a for a in axes)
    out_bdim = bdim - builtins.sum(1 for a in axes if a < bdim)
    return out_bdim, new_axes


def reduction_primitive(name: str, **kwargs) -> Primitive:
    p = Primitive(name, **kwargs)
    p.def_abstract_eval(_reduce_abstract_eval)

    @p.def_batch
    def _batch(args, bdims, *, axes):
        (x,), (b,) = args, bdims
        out_bdim, new_axes = _batch_axes(axes, b)
        return bind(p, x, axes=new_axes), out_bdim

    return p


def _keepdims(out: Tensor, x: Tensor, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    if not keepdims:
        return out
    from .shape import reshape
    return reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def expand_reduced(ct: Tensor, shape: tuple[int, ...], axes: tuple[int, ...]) -> Tensor:
    """Broadcast a reduced tensor back over the reduced `axes` of `shape`."""
    from .shape import broadcast_in_dim
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return broadcast_in_dim(ct, shape, kept)


# ---------------------------------------------------------------------------
# sum
# ---------------------------------------------------------------------------
reduce_sum_p = reduction_primitive("reduce_sum", linear=True)
reduce_sum_p.def_transpose(lambda ct, x, *, axes: (expand_reduced(ct, x.shape, axes),))


def reduce_sum(x, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (an int, a tuple, or None for all axes). Alias: `sum`.

    Example:
        >>> nb.sum(nb.ones((2, 3)), axis=1)
    """
    x = to_tensor(x, "sum")
    axes = canonical_axes("sum", axis, x.ndim)
    if x.dtype.kind == "b":
        from .elementwise import cast
        from ..dtypes import int32
        x = cast(x, int32)
    if not axes:
        return x
    return _keepdims(bind(reduce_sum_p, x, axes=axes), x, axes, keepdims)


sum = reduce_sum  # noqa: A001 - the NumPy name

__all__ = ["reduce_sum", "sum", "expand_reduced", "reduction_primitive"]
