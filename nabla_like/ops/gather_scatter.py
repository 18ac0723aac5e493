"""Gather and scatter: the data-dependent primitives under NumPy-style indexing,
`.at[]` updates, take/take_along_axis and torch-style gather/scatter_add.

One restricted form of StableHLO's gather/scatter covers all of them: point
indices on some `axes` of the operand, full windows on the others.

    gather(x, idx, axes)[b..., r...] = x[idx[b..., j] on axes[j], r... on the other axes]
    scatter_<op>(x, idx, upd, axes):   x[idx[b..., j] on axes[j], r...] <op>= upd[b..., r...]

`idx` has shape B + (len(axes),); the gather result and `upd` have shape
B + (the sizes of the axes of x not in `axes`, in order). Out-of-range indices
follow `mode`: "clip" clamps each index into range, "drop" makes a gather read
zeros and a scatter skip the update. XLA's own behaviour is clip for gather and
drop for scatter; the lowering emits the clamp or the mask for the other two.
With one mode both ways, gather and scatter_add are each other's transpose.

Batching: a batched operand with shared indices gets the batch as one more
window dim; batched indices get it as a leading index dim; when both are
batched an iota coordinate for the batch dim is prepended to the indices.
"""
from __future__ import annotations

from ..core import Primitive, bind, full_in
from ..creation import iota
from ..dtypes import int32
from ..errors import DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import batch_size, move_bdim

MODES = ("clip", "drop")


def _window_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _check_indices(op: str, x: Aval, idx: Aval, axes: tuple[int, ...], mode: str) -> None:
    if idx.dtype.kind not in "iu":
        raise_error(DTypeError, op, f"indices must be integers, got {idx.short()}")
    if (idx.ndim < 1 or idx.shape[-1] != len(axes) or len(set(axes)) != len(axes)
            or any(not 0 <= a < x.ndim for a in axes)):
        raise_error(ShapeError, op, f"indices {idx.short()} do not index axes {axes} of {x.short()}")
    if mode not in MODES:
        raise_error(ShapeError, op, f"mode must be one of {MODES}, got {mode!r}")


def _zeros(like: Tensor, shape: tuple[int, ...], dtype=None) -> Tensor:
    return full_in(like._value.ctx, shape, 0, like.dtype if dtype is None else dtype)


def stack_indices(parts: list[Tensor]) -> Tensor:
    """Integer tensors of one shape S and dtype -> S + (len(parts),), stacked along the end."""
    from .elementwise import equal, select
    from .shape import broadcast_in_dim, reshape
    shape = parts[0].shape
    if len(parts) == 1:
        return reshape(parts[0], shape + (1,))
    out_shape = shape + (len(parts),)
    dims = tuple(range(len(shape)))
    position = iota(out_shape, len(shape), int32)
    out = broadcast_in_dim(parts[-1], out_shape, dims)
    for j in range(len(parts) - 2, -1, -1):
        out = select(equal(position, j), broadcast_in_dim(parts[j], out_shape, dims), out)
    return out


def _prepend_batch_coordinate(idx: Tensor) -> Tensor:
    """(N, ..., k) indices -> (N, ..., k + 1), the new first coordinate being the batch index."""
    from .elementwise import cast
    from .shape import reshape, static_slice
    if idx.dtype.bits < 32:  # the batch coordinate may not fit a narrow index type
        idx = cast(idx, int32)
    batch = idx.shape[:-1]
    parts = [iota(batch, 0, idx.dtype)]
    for j in range(idx.shape[-1]):
        column = static_slice(idx, (0,) * (idx.ndim - 1) + (j,), batch + (j + 1,))
        parts.append(reshape(column, batch))
    return stack_indices(parts)


def _shift(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(a + 1 for a in axes)


# ---------------------------------------------------------------------------
# gather (linear in the operand)
# ---------------------------------------------------------------------------
gather_p = Primitive("gather", linear=True)


@gather_p.def_abstract_eval
def _gather_abstract_eval(x: Aval, idx: Aval, *, axes: tuple[int, ...], mode: str) -> Aval:
    _check_indices("gather", x, idx, axes, mode)
    return Aval(idx.shape[:-1] + _window_shape(x.shape, axes), x.dtype, x.weak)


def gather_points(x: Tensor, idx: Tensor, axes: tuple[int, ...], mode: str = "clip") -> Tensor:
    """Primitive gather (see the module docstring); `idx` is B + (len(axes),)."""
    return bind(gather_p, x, idx, axes=tuple(axes), mode=mode)


@gather_p.def_transpose
def _gather_transpose(ct, x, idx, *, axes, mode):
    return bind(scatter_add_p, _zeros(ct, x.shape), idx, ct, axes=axes, mode=mode), None


@gather_p.def_batch
def _gather_batch(args, bdims, *, axes, mode):
    (x, idx), (bx, bi) = args, bdims
    size = batch_size(args, bdims)
    if bi is None:  # shared indices: the batch is the first window dim
        x = move_bdim(x, bx, 0, size)
        return bind(gather_p, x, idx, axes=_shift(axes), mode=mode), idx.ndim - 1
    idx = move_bdim(idx, bi, 0, size)
    if bx is None:
        return bind(gather_p, x, idx, axes=axes, mode=mode), 0
    x = move_bdim(x, bx, 0, size)
    idx = _prepend_batch_coordinate(idx)
    return bind(gather_p, x, idx, axes=(0,) + _shift(axes), mode=mode), 0


# ---------------------------------------------------------------------------
# The scatter family: add (linear), set, mul, min, max
# ---------------------------------------------------------------------------
def _scatter_abstract_eval(name: str):
    def rule(x: Aval, idx: Aval, upd: Aval, *, axes, mode) -> Aval:
        _check_indices(name, x, idx, axes, mode)
        want = idx.shape[:-1] + _window_shape(x.shape, axes)
        if upd.shape != want or upd.dtype is not x.dtype:
            raise_error(ShapeError, name, f"updates {upd.short()} do not fit operand {x.short()} "
                        f"indexed by {idx.short()} on axes {axes} (expected shape {want})")
        return Aval(x.shape, x.dtype, x.weak)
    return rule


def _scatter_batch(prim: Primitive):
    def rule(args, bdims, *, axes, mode):
        (x, idx, upd), (bx, bi, bu) = args, bdims
        size = batch_size(args, bdims)
        x = move_bdim(x, bx, 0, size)
        if bi is None:  # shared indices: the batch is the first window dim of the updates
            upd = move_bdim(upd, bu, idx.ndim - 1, size)
            return bind(prim, x, idx, upd, axes=_shift(axes), mode=mode), 0
        idx = _prepend_batch_coordinate(move_bdim(idx, bi, 0, size))
        upd = move_bdim(upd, bu, 0, size)
        return bind(prim, x, idx, upd, axes=(0,) + _shift(axes), mode=mode), 0
    return rule


def _scatter_primitive(name: str, **kwargs) -> Primitive:
    p = Primitive(name, **kwargs)
    p.def_abstract_eval(_scatter_abstract_eval(name))
    p.def_batch(_scatter_batch(p))
    return p


scatter_add_p = _scatter_primitive("scatter_add", linear=True)
scatter_p = _scatter_primitive("scatter")
scatter_mul_p = _scatter_primitive("scatter_mul")
scatter_min_p = _scatter_primitive("scatter_min")
scatter_max_p = _scatter_primitive("scatter_max")


def scatter_points(prim: Primitive, x: Tensor, idx: Tensor, upd: Tensor, axes: tuple[int, ...],
                   mode: str = "drop") -> Tensor:
    """Primitive scatter `prim` (one of the scatter_*_p) of `upd` into `x`."""
    return bind(prim, x, idx, upd, axes=tuple(axes), mode=mode)


@scatter_add_p.def_transpose
def _scatter_add_transpose(ct, x, idx, upd, *, axes, mode):
    return ct, None, bind(gather_p, ct, idx, axes=axes, mode=mode)


def _update_ids(idx: Tensor, upd_shape: tuple[int, ...]) -> Tensor:
    """1, 2, ... numbering the index points, broadcast over the update windows."""
    from .elementwise import add
    from .shape import broadcast_in_dim, reshape
    batch = idx.shape[:-1]
    n = 1
    for d in batch:
        n *= d
    ids = reshape(add(iota((n,), 0, int32), 1), batch)
    return broadcast_in_dim(ids, upd_shape, tuple(range(len(batch))))


def _set_masks(x: Tensor, idx: Tensor, upd: Tensor, axes, mode) -> tuple[Tensor, Tensor]:
    """Which operand elements survive a scatter-set, and which updates won their slot.

    With repeated indices one update wins (XLA picks it); scattering the update
    ids the same way and reading them back tells which, so that derivatives
    agree with the forward value.
    """
    from .elementwise import equal
    ids = _update_ids(idx, upd.shape)
    owner = bind(scatter_p, _zeros(ids, x.shape), idx, ids, axes=axes, mode=mode)
    kept = equal(owner, 0)
    won = equal(bind(gather_p, owner, idx, axes=axes, mode=mode), ids)
    return kept, won


@scatter_p.def_jvp
def _scatter_jvp(primals, tangents, outs, *, axes, mode):
    from .elementwise import select
    x, idx, upd = primals
    tx, _, tu = tangents
    kept, won = _set_masks(x, idx, upd, axes, mode)
    out = None
    if tx is not None:
        out = select(kept, tx, _zeros(tx, tx.shape))
    if tu is not None:
        moved = bind(scatter_add_p, _zeros(tu, x.shape), idx, select(won, tu, _zeros(tu, tu.shape)),
                     axes=axes, mode=mode)
        out = moved if out is None else out + moved
    return out


@scatter_p.def_vjp
def _scatter_vjp(ct, primals, outs, *, axes, mode):
    from .elementwise import select
    x, idx, upd = primals
    kept, won = _set_masks(x, idx, upd, axes, mode)
    zeros = _zeros(ct, ct.shape)
    ct_x = select(kept, ct, zeros) if x.dtype.is_floating else None
    ct_u = None
    if upd.dtype.is_floating:
        read = bind(gather_p, ct, idx, axes=axes, mode=mode)
        ct_u = select(won, read, _zeros(read, read.shape))
    return ct_x, None, ct_u


def _products(x: Tensor, idx: Tensor, upd: Tensor, axes, mode) -> tuple[Tensor, Tensor]:
    """For scatter_mul: the product P of the updates landing on each operand element, and
    for each update the product of the *other* updates on its element, without dividing
    by zero (zeros are counted apart, as in the gradient of prod)."""
    from .elementwise import cast, div, equal, where
    ones = full_in(x._value.ctx, x.shape, 1, x.dtype)
    total = bind(scatter_mul_p, ones, idx, upd, axes=axes, mode=mode)
    is_zero = equal(upd, 0)
    safe = where(is_zero, 1, upd)
    nonzero_prod = bind(scatter_mul_p, ones, idx, safe, axes=axes, mode=mode)
    zero_count = bind(scatter_add_p, _zeros(x, x.shape, int32), idx, cast(is_zero, int32),
                      axes=axes, mode=mode)
    prod_at = bind(gather_p, nonzero_prod, idx, axes=axes, mode=mode)
    zeros_at = bind(gather_p, zero_count, idx, axes=axes, mode=mode)
    others = where(is_zero, where(equal(zeros_at, 1), prod_at, 0),
                   where(equal(zeros_at, 0), div(prod_at, safe), 0))
    return total, others


@scatter_mul_p.def_jvp
def _scatter_mul_jvp(primals, tangents, outs, *, axes, mode):
    from .elementwise import mul
    x, idx, upd = primals
    tx, _, tu = tangents
    total, others = _products(x, idx, upd, axes, mode)
    out = None if tx is None else mul(tx, total)
    if tu is not None:
        spread = bind(scatter_add_p, _zeros(tu, x.shape), idx, mul(tu, others), axes=axes, mode=mode)
        out = mul(x, spread) if out is None else out + mul(x, spread)
    return out


@scatter_mul_p.def_vjp
def _scatter_mul_vjp(ct, primals, outs, *, axes, mode):
    from .elementwise import mul
    x, idx, upd = primals
    total, others = _products(x, idx, upd, axes, mode)
    read = bind(gather_p, mul(ct, x), idx, axes=axes, mode=mode)
    return mul(ct, total), None, mul(read, others)


def _extremum_rules(prim: Primitive) -> None:
    """scatter_min/max: the derivative flows to every value that attains the result,
    split evenly between ties (as for elementwise maximum/minimum)."""

    def weights(x, idx, upd, out, axes, mode):
        from .elementwise import cast, equal
        wx = cast(equal(x, out), x.dtype)
        wu = cast(equal(upd, bind(gather_p, out, idx, axes=axes, mode=mode)), upd.dtype)
        count = wx + bind(scatter_add_p, _zeros(wu, x.shape), idx, wu, axes=axes, mode=mode)
        return wx, wu, count

    def jvp(primals, tangents, outs, *, axes, mode):
        x, idx, upd = primals
        tx, _, tu = tangents
        wx, wu, count = weights(x, idx, upd, outs[0], axes, mode)
        total = None if tx is None else tx * wx
        if tu is not None:
            spread = bind(scatter_add_p, _zeros(tu, x.shape), idx, tu * wu, axes=axes, mode=mode)
            total = spread if total is None else total + spread
        return total / count

    def vjp(ct, primals, outs, *, axes, mode):
        x, idx, upd = primals
        wx, wu, count = weights(x, idx, upd, outs[0], axes, mode)
        share = ct / count
        return share * wx, None, bind(gather_p, share, idx, axes=axes, mode=mode) * wu

    prim.def_jvp(jvp)
    prim.def_vjp(vjp)


_extremum_rules(scatter_min_p)
_extremum_rules(scatter_max_p)

SCATTERS = {"set": scatter_p, "add": scatter_add_p, "mul": scatter_mul_p, "min": scatter_min_p,
            "max": scatter_max_p}

__all__: list[str] = []
