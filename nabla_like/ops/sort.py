"""Sorting: the sort primitive and sort, argsort, topk on it.

`sort_p(keys, *values, axis, descending)` sorts every operand along `axis` by `keys`
(stablehlo.sort, stable) and also returns the permutation it applied: int32, with
`perm[..., j, ...]` the input position of the j-th sorted element. Keys order as NumPy
sorts them: ascending with NaNs last (-0.0 and 0.0 tie); `descending` is the reverse
order with ties still in input order (NaNs first), as jnp.sort(descending=True) and
torch.sort(descending=True, stable=True).

Derivatives move tangents with the returned permutation, so no second sort is needed:
the JVP gathers them (take_along_axis), the VJP scatters cotangents back (scatter_add).
"""
from __future__ import annotations

from collections import namedtuple

from ..args import as_bool, as_int
from ..core import Primitive, bind, full_in
from ..dtypes import int32
from ..errors import AxisError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import batch_size, canonical_axis, move_bdim, to_tensor
from .indexing import scatter_add, take_along_axis
from .shape import reshape, slice_axis

sort_p = Primitive("sort", multiple_results=True)


@sort_p.def_abstract_eval
def _sort_abstract_eval(*avals: Aval, axis: int, descending: bool) -> tuple[Aval, ...]:
    keys = avals[0]
    if any(a.shape != keys.shape for a in avals):
        raise_error(ShapeError, "sort", f"operands must have one shape, got "
                    f"{', '.join(a.short() for a in avals)}")
    if not 0 <= axis < keys.ndim:
        raise_error(AxisError, "sort", f"axis {axis} is out of range for {keys.short()}")
    return (*avals, Aval(keys.shape, int32))


@sort_p.def_jvp
def _sort_jvp(primals, tangents, outs, *, axis, descending):
    perm = outs[-1]
    moved = [None if t is None else take_along_axis(t, perm, axis) for t in tangents]
    return (*moved, None)


@sort_p.def_vjp
def _sort_vjp(cts, primals, outs, *, axis, descending):
    perm = outs[-1]
    return tuple(None if ct is None or not p.dtype.is_floating
                 else scatter_add(full_in(ct._value.ctx, ct.shape, 0, ct.dtype), axis, perm, ct)
                 for ct, p in zip(cts, primals))


@sort_p.def_batch
def _sort_batch(args, bdims, *, axis, descending):
    first = next(d for d in bdims if d is not None)
    if all(d == first for d in bdims):  # one batch dim: sort around it
        new_axis = axis + 1 if first <= axis else axis
        outs = bind(sort_p, *args, axis=new_axis, descending=descending)
        return outs, (first,) * len(outs)
    size = batch_size(args, bdims)
    moved = [move_bdim(a, d, 0, size) for a, d in zip(args, bdims)]
    outs = bind(sort_p, *moved, axis=axis + 1, descending=descending)
    return outs, (0,) * len(outs)


def sort_along(x: Tensor, axis: int, descending: bool = False) -> tuple[Tensor, Tensor]:
    """(sorted x, permutation) along a canonical `axis` of a tensor of rank >= 1."""
    values, perm = bind(sort_p, x, axis=axis, descending=descending)
    return values, perm


def _sort_args(op: str, x, axis, descending, stable) -> tuple[Tensor, int, bool]:
    """The operand (flattened for axis=None), its canonical axis and the order flag."""
    x = to_tensor(x, op)
    descending = as_bool(op, "descending", descending)
    as_bool(op, "stable", stable)  # always stable: an unstable sort may return this too
    if axis is None:
        return reshape(x, (x.size,)), 0, descending
    if x.ndim == 0:
        as_int(op, "axis", axis)
        raise_error(AxisError, op, f"axis {axis} is out of range for a 0-d tensor "
                    f"{x._value.aval.short()} (use axis=None)")
    return x, canonical_axis(op, axis, x.ndim), descending


def sort(x, axis: int | None = -1, *, descending: bool = False, stable: bool = True) -> Tensor:
    """`x` sorted along `axis` (the flattened `x` when axis is None), as jnp.sort.

    Ascending with NaNs last, as NumPy; `descending=True` gives the reverse order with
    equal elements still in input order (NaNs first). The sort is always stable, so
    `stable` is accepted for compatibility only. The gradient flows back through the
    permutation. `Tensor.sort` returns the values too (as JAX arrays; torch's
    `x.sort()` returns (values, indices): use `nb.topk` or `argsort` for indices).

    Example:
        >>> nb.sort(nb.tensor([3.0, float("nan"), 1.0, 2.0]))
        Tensor([ 1.  2.  3. nan] : f32[4])
    """
    x, ax, descending = _sort_args("sort", x, axis, descending, stable)
    return sort_along(x, ax, descending)[0]


def argsort(x, axis: int | None = -1, *, descending: bool = False,
            stable: bool = True) -> Tensor:
    """The int32 indices that sort `x` along `axis` (of the flattened `x` when None), as
    jnp.argsort: stable, NaNs last; `descending=True` keeps equal elements in input order
    (unlike `np.argsort(x)[::-1]`).

    Example:
        >>> nb.argsort(nb.tensor([3.0, 1.0, 2.0]))
        Tensor([1 2 0] : i32[3])
    """
    x, ax, descending = _sort_args("argsort", x, axis, descending, stable)
    return sort_along(x, ax, descending)[1]


TopK = namedtuple("TopK", ["values", "indices"])
TopK.__doc__ = "What `nb.topk` returns: the k values and their int32 indices (as torch.topk)."


def topk(x, k: int, axis: int = -1, largest: bool = True) -> TopK:
    """The `k` largest (or with `largest=False` smallest) elements along `axis` and their
    int32 indices, as torch.topk and jax.lax.top_k: a (values, indices) namedtuple, values
    in sorted order, ties in input order, NaN the largest value.

    Example:
        >>> values, indices = nb.topk(nb.tensor([1.0, 4.0, 2.0, 3.0]), 2)
        >>> values
        Tensor([4. 3.] : f32[2])
        >>> indices
        Tensor([1 3] : i32[2])
    """
    x = to_tensor(x, "topk")
    largest = as_bool("topk", "largest", largest)
    if x.ndim == 0:
        raise_error(AxisError, "topk", f"needs a tensor of rank >= 1, got {x._value.aval.short()}")
    ax = canonical_axis("topk", axis, x.ndim)
    k = as_int("topk", "k", k, min=0, max=x.shape[ax])
    values, perm = sort_along(x, ax, descending=largest)
    if k == x.shape[ax]:
        return TopK(values, perm)
    return TopK(slice_axis(values, ax, 0, k), slice_axis(perm, ax, 0, k))


__all__ = ["sort", "argsort", "topk"]
