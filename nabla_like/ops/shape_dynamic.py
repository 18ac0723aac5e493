"""Dynamic slicing: windows of static size at start positions known only at run time.

`dynamic_slice` and `dynamic_update_slice` are the StableHLO ops of the same
names. Their start indices are 0-d integer operands (traced values welcome),
clamped into range as XLA does. Both are linear in their array operands; the
indices pass through derivatives unchanged.

Under vmap a start index that differs per example cannot stay a scalar
operand, so the batching rules take those axes whole and move each example's
window into place with a barrel shifter: one shift by 2**k per bit of the
largest possible start, chosen per example with `select`. That costs
O(log n) passes over the operand, needs no gather or scatter, and is exact
for every dtype (nothing is multiplied, so NaN and inf stay where they are).
"""
from __future__ import annotations

from ..args import as_int_tuple
from ..core import Primitive, bind, context_of, full_in
from ..dtypes import DType, bool_, int32, int64
from ..errors import DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import batch_size, cast, move_bdim, to_tensor
from .shape import broadcast_in_dim, pad_general, reshape, slice_axis, static_slice


def _check_starts(op: str, x: Aval, starts: tuple[Aval, ...]) -> None:
    if len(starts) != x.ndim or any(s.shape != () or s.dtype is not starts[0].dtype
                                    or s.dtype.kind not in "iu" for s in starts):
        raise_error(ShapeError, op, f"needs {x.ndim} scalar integer start indices of one dtype "
                    f"for {x.short()}, got {', '.join(s.short() for s in starts) or 'none'}")


# ---------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------
dynamic_slice_p = Primitive("dynamic_slice", linear=True)
dynamic_update_slice_p = Primitive("dynamic_update_slice", linear=True)


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract_eval(x: Aval, *starts: Aval, slice_sizes: tuple[int, ...]) -> Aval:
    _check_starts("dynamic_slice", x, starts)
    if len(slice_sizes) != x.ndim or any(not 0 <= s <= d for s, d in zip(slice_sizes, x.shape)):
        raise_error(ShapeError, "dynamic_slice", f"slice sizes {slice_sizes} do not fit in "
                    f"{x.short()}")
    return Aval(tuple(slice_sizes), x.dtype, x.weak)


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract_eval(x: Aval, update: Aval, *starts: Aval) -> Aval:
    _check_starts("dynamic_update_slice", x, starts)
    if update.dtype is not x.dtype or update.ndim != x.ndim or any(
            u > d for u, d in zip(update.shape, x.shape)):
        raise_error(ShapeError, "dynamic_update_slice", f"update {update.short()} does not fit "
                    f"in {x.short()}")
    return Aval(x.shape, x.dtype, x.weak)


@dynamic_slice_p.def_transpose
def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    zeros = full_in(ct._value.ctx, x.shape, 0, ct.dtype)
    return (bind(dynamic_update_slice_p, zeros, ct, *starts),) + (None,) * len(starts)


@dynamic_update_slice_p.def_transpose
def _dynamic_update_slice_transpose(ct, x, update, *starts):
    zeros = full_in(ct._value.ctx, update.shape, 0, ct.dtype)
    ct_x = bind(dynamic_update_slice_p, ct, zeros, *starts)
    ct_update = bind(dynamic_slice_p, ct, *starts, slice_sizes=update.shape)
    return (ct_x, ct_update) + (None,) * len(starts)


# ---------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------
def _shift(tensors: list[Tensor], axis: int, amounts: Tensor, most: int, toward_start: bool
           ) -> list[Tensor]:
    """Shift example b of each tensor (batch axis 0) by `amounts[b]` in [0, most] along
    `axis`, toward index 0 or away from it; vacated entries become zero (False)."""
    from .elementwise import greater_equal, select, sub
    out = list(tensors)
    remaining = amounts
    k = most.bit_length() - 1
    while k >= 0:
        step = 1 << k
        take = greater_equal(remaining, step)
        for i, t in enumerate(out):
            low, high = [0] * t.ndim, [0] * t.ndim
            low[axis], high[axis] = (-step, step) if toward_start else (step, -step)
            moved = pad_general(t, 0, low, high)
            out[i] = select(broadcast_in_dim(take, t.shape, (0,)), moved, t)
        if k:
            remaining = select(take, sub(remaining, step), remaining)
        k -= 1
    return out


def _clamped_starts(start: Tensor, bdim: int, size: int, room: int) -> Tensor:
    from .elementwise import maximum, minimum
    return minimum(maximum(move_bdim(start, bdim, 0, size), 0), room)


@dynamic_slice_p.def_batch
def _dynamic_slice_batch(args, bdims, *, slice_sizes):
    size = batch_size(args, bdims)
    x = move_bdim(args[0], bdims[0], 0, size)
    starts = list(args[1:])
    zero = full_in(context_of(args), (), 0, starts[0].dtype)
    per_example = [i for i, b in enumerate(bdims[1:]) if b is not None]
    if not per_example:
        return bind(dynamic_slice_p, x, zero, *starts, slice_sizes=(size,) + slice_sizes), 0
    # Slice the axes with shared starts now, keeping the per-example ones whole.
    sizes = list(slice_sizes)
    for i in per_example:
        sizes[i] = x.shape[i + 1]
        starts[i] = zero
    if tuple(sizes) != x.shape[1:]:
        x = bind(dynamic_slice_p, x, zero, *starts, slice_sizes=(size,) + tuple(sizes))
    for i in per_example:
        room = x.shape[i + 1] - slice_sizes[i]
        if room:
            amounts = _clamped_starts(args[i + 1], bdims[i + 1], size, room)
            (x,) = _shift([x], i + 1, amounts, room, toward_start=True)
            x = slice_axis(x, i + 1, 0, slice_sizes[i])
    return x, 0


@dynamic_update_slice_p.def_batch
def _dynamic_update_slice_batch(args, bdims):
    from .elementwise import select
    size = batch_size(args, bdims)
    x = move_bdim(args[0], bdims[0], 0, size)
    update = move_bdim(args[1], bdims[1], 0, size)
    starts = list(args[2:])
    ctx = context_of(args)
    zero = full_in(ctx, (), 0, starts[0].dtype)
    per_example = [i for i, b in enumerate(bdims[2:]) if b is not None]
    if not per_example:
        return bind(dynamic_update_slice_p, x, update, zero, *starts), 0
    # Along the per-example axes, widen the update (and a mask of where it lands) to the full
    # size and shift it into place; then merge it into the region the shared starts select.
    mask = full_in(ctx, update.shape, True, bool_)
    for i in per_example:
        axis = i + 1
        room = x.shape[axis] - update.shape[axis]
        starts[i] = zero
        if not room:
            continue
        high = [0] * x.ndim
        high[axis] = room
        zeros = (0,) * x.ndim
        update, mask = pad_general(update, 0, zeros, high), pad_general(mask, False, zeros, high)
        amounts = _clamped_starts(args[i + 2], bdims[i + 2], size, room)
        update, mask = _shift([update, mask], axis, amounts, room, toward_start=False)
    if update.shape == x.shape:
        return select(mask, update, x), 0
    region = bind(dynamic_slice_p, x, zero, *starts, slice_sizes=update.shape)
    return bind(dynamic_update_slice_p, x, select(mask, update, region), zero, *starts), 0


# ---------------------------------------------------------------------------
# User-facing functions
# ---------------------------------------------------------------------------
def _start_items(op: str, x: Tensor, start_indices) -> list:
    if isinstance(start_indices, Tensor):
        if start_indices.ndim != 1:
            raise_error(ShapeError, op, f"start indices must be a 1-D tensor or a sequence, got "
                        f"{start_indices._value.aval.short()}")
        items = [reshape(slice_axis(start_indices, 0, i, i + 1), ())
                 for i in range(start_indices.shape[0])]
    elif hasattr(start_indices, "__len__"):
        items = list(start_indices)
    else:
        items = [start_indices]
    if len(items) != x.ndim:
        raise_error(ShapeError, op, f"needs one start index per axis of {x._value.aval.short()}, "
                    f"got {len(items)}")
    for it in items:
        if isinstance(it, Tensor) and (it.ndim != 0 or it.dtype.kind not in "iu"):
            raise_error(DTypeError, op, f"start indices must be scalar integers, got "
                        f"{it._value.aval.short()}")
    return items


def _index_dtype(tensors: list[Tensor]) -> DType:
    wide = any(t.dtype.bits == 64 or (t.dtype.kind == "u" and t.dtype.bits == 32) for t in tensors)
    return int64 if wide else int32


def _start_operands(x: Tensor, items: list, sizes: tuple[int, ...]) -> list[Tensor]:
    """0-d index operands of one dtype; Python ints are clamped now (so int32 holds them)."""
    tensors = [it for it in items if isinstance(it, Tensor)]
    dtype = _index_dtype(tensors)
    ctx = context_of([x] + tensors)
    out = []
    for it, d, s in zip(items, x.shape, sizes):
        if isinstance(it, Tensor):
            out.append(it if it.dtype is dtype else cast(it, dtype))
        else:
            out.append(full_in(ctx, (), min(max(int(it), 0), d - s), dtype))
    return out


def dynamic_slice(x, start_indices, slice_sizes) -> Tensor:
    """The window of shape `slice_sizes` of `x` that starts at `start_indices`.

    `start_indices` has one start per axis: Python ints or 0-d integer tensors (traced
    values included), or a 1-D integer tensor. As in XLA, each start is clamped so the
    window fits, `clip(start, 0, x.shape[i] - slice_sizes[i])`: out-of-range starts never
    fail, and negative ones do not count from the end.

    Example:
        >>> nb.dynamic_slice(nb.arange(5), (nb.tensor(4),), (3,)).numpy()  # start clamped to 2
        array([2, 3, 4], dtype=int32)
    """
    x = to_tensor(x, "dynamic_slice")
    sizes = as_int_tuple("dynamic_slice", "slice_sizes", slice_sizes, min=0)
    if len(sizes) != x.ndim or any(not 0 <= s <= d for s, d in zip(sizes, x.shape)):
        raise_error(ShapeError, "dynamic_slice", f"slice sizes {sizes} do not fit in "
                    f"{x._value.aval.short()}")
    items = _start_items("dynamic_slice", x, start_indices)
    if sizes == x.shape:  # every start clamps to 0
        return x
    if not any(isinstance(it, Tensor) for it in items):  # static starts: a plain slice
        lo = [min(max(int(it), 0), d - s) for it, d, s in zip(items, x.shape, sizes)]
        return static_slice(x, lo, [a + s for a, s in zip(lo, sizes)])
    return bind(dynamic_slice_p, x, *_start_operands(x, items, sizes), slice_sizes=sizes)


def dynamic_update_slice(x, update, start_indices) -> Tensor:
    """`x` with the block `update` written at `start_indices` (functional: `x` is unchanged).

    `update` has the rank of `x` and is cast to its dtype. Start indices are given as in
    `dynamic_slice` and clamped the same way, `clip(start, 0, x.shape[i] - update.shape[i])`,
    so the block always lands inside `x`.

    Example:
        >>> nb.dynamic_update_slice(nb.zeros(5), nb.ones(2), (nb.tensor(1),)).numpy()
        array([0., 1., 1., 0., 0.], dtype=float32)
    """
    x = to_tensor(x, "dynamic_update_slice")
    update = to_tensor(update, "dynamic_update_slice")
    if update.ndim != x.ndim or any(u > d for u, d in zip(update.shape, x.shape)):
        raise_error(ShapeError, "dynamic_update_slice", f"update {update._value.aval.short()} "
                    f"does not fit in {x._value.aval.short()}")
    items = _start_items("dynamic_update_slice", x, start_indices)
    if update.dtype is not x.dtype:
        update = cast(update, x.dtype)
    if update.size == 0:
        return x
    if update.shape == x.shape:
        return update
    return bind(dynamic_update_slice_p, x, update, *_start_operands(x, items, update.shape))


__all__ = ["dynamic_slice", "dynamic_update_slice"]
