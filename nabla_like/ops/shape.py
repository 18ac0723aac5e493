"""Shape ops: reshape, transpose, broadcast, slicing, concatenation, padding, ...

Primitives mirror StableHLO (static shapes, explicit dimensions); the
NumPy-style functions users call (`squeeze`, `moveaxis`, `stack`, ...) are
written in terms of them. All primitives here are linear: each declares a
transpose and gets its JVP and VJP from it.
"""
from __future__ import annotations

from ..core import Primitive, bind
from ..errors import ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import canonical_axis, move_bdim, to_tensor


def _batch_at_front(x: Tensor, bdim: int) -> Tensor:
    return move_bdim(x, bdim, 0, x.shape[bdim])


# ---------------------------------------------------------------------------
# reshape
# ---------------------------------------------------------------------------
reshape_p = Primitive("reshape", linear=True)


@reshape_p.def_abstract_eval
def _reshape_abstract_eval(x: Aval, *, new_sizes: tuple[int, ...]) -> Aval:
    size = 1
    for d in new_sizes:
        size *= d
    if size != x.size:
        raise_error(ShapeError, "reshape", f"cannot reshape {x.short()} ({x.size} elements) "
                    f"into shape {new_sizes} ({size} elements)")
    return Aval(new_sizes, x.dtype, x.weak)


reshape_p.def_transpose(lambda ct, x, *, new_sizes: (reshape(ct, x.shape),))


@reshape_p.def_batch
def _reshape_batch(args, bdims, *, new_sizes):
    (x,), (b,) = args, bdims
    x = _batch_at_front(x, b)
    return bind(reshape_p, x, new_sizes=(x.shape[0],) + new_sizes), 0


def _infer_shape(op: str, x: Tensor, shape) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        raise_error(ShapeError, op, f"can only infer one dimension, got shape {shape}")
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if known == 0 or x.size % known:
            raise_error(ShapeError, op, f"cannot reshape {x._value.aval.short()} into shape {shape}")
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    if any(d < 0 for d in shape):
        raise_error(ShapeError, op, f"negative dimension in shape {shape}")
    return shape


def reshape(x, shape, *more) -> Tensor:
    """`x` with a new shape of the same size; one dimension may be -1.

    Example:
        >>> nb.reshape(nb.arange(6), (2, -1)).shape
        (2, 3)
    """
    x = to_tensor(x, "reshape")
    if more:
        shape = (shape,) + more
    shape = _infer_shape("reshape", x, shape)
    if shape == x.shape:
        return x
    return bind(reshape_p, x, new_sizes=shape)


# ---------------------------------------------------------------------------
# broadcast_in_dim
# ---------------------------------------------------------------------------
broadcast_in_dim_p = Primitive("broadcast_in_dim", linear=True)


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract_eval(x: Aval, *, shape, broadcast_dimensions) -> Aval:
    ok = len(broadcast_dimensions) == x.ndim and all(
        0 <= d < len(shape) and x.shape[i] in (1, shape[d])
        for i, d in enumerate(broadcast_dimensions))
    if ok and list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        ok = False
    if not ok:
        raise_error(ShapeError, "broadcast_to", f"cannot broadcast {x.short()} to shape {shape}")
    return Aval(shape, x.dtype, x.weak)


def broadcast_in_dim(x: Tensor, shape, broadcast_dimensions) -> Tensor:
    """Broadcast `x` into `shape`, its dim i going to output dim broadcast_dimensions[i]."""
    shape, dims = tuple(shape), tuple(broadcast_dimensions)
    if shape == x.shape and dims == tuple(range(x.ndim)):
        return x
    return bind(broadcast_in_dim_p, x, shape=shape, broadcast_dimensions=dims)


@broadcast_in_dim_p.def_transpose
def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from .reduce import reduce_sum
    kept = set(broadcast_dimensions)
    summed = [d for d in range(len(shape)) if d not in kept]
    expanded = [d for i, d in enumerate(broadcast_dimensions) if x.shape[i] == 1 and shape[d] != 1]
    out = ct
    if summed or expanded:
        out = reduce_sum(ct, tuple(sorted(summed + expanded)))
    return (reshape(out, x.shape),)


@broadcast_in_dim_p.def_batch
def _broadcast_in_dim_batch(args, bdims, *, shape, broadcast_dimensions):
    (x,), (b,) = args, bdims
    x = _batch_at_front(x, b)
    dims = (0,) + tuple(d + 1 for d in broadcast_dimensions)
    return bind(broadcast_in_dim_p, x, shape=(x.shape[0],) + tuple(shape),
                broadcast_dimensions=dims), 0


def broadcast_to(x, shape) -> Tensor:
    """`x` broadcast (NumPy rules) to `shape`.

    Example:
        >>> nb.broadcast_to(nb.tensor([1.0, 2.0]), (3, 2)).shape
        (3, 2)
    """
    from ._common import broadcast_shapes, broadcast_to_shape
    x = to_tensor(x, "broadcast_to")
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise_error(ShapeError, "broadcast_to",
                    f"cannot broadcast {x._value.aval.short()} to shape {shape}")
    return broadcast_to_shape(x, shape)


# ---------------------------------------------------------------------------
# transpose
# ---------------------------------------------------------------------------
transpose_p = Primitive("transpose", linear=True)


@transpose_p.def_abstract_eval
def _transpose_abstract_eval(x: Aval, *, permutation) -> Aval:
    if sorted(permutation) != list(range(x.ndim)):
        raise_error(ShapeError, "transpose", f"{permutation} is not a permutation of the axes of "
                    f"{x.short()}")
    return Aval(tuple(x.shape[p] for p in permutation), x.dtype, x.weak)


@transpose_p.def_transpose
def _transpose_transpose(ct, x, *, permutation):
    inverse = [0] * len(permutation)
    for i, p in enumerate(permutation):
        inverse[p] = i
    return (transpose(ct, tuple(inverse)),)


@transpose_p.def_batch
def _transpose_batch(args, bdims, *, permutation):
    (x,), (b,) = args, bdims
    x = _batch_at_front(x, b)
    return bind(transpose_p, x, permutation=(0,) + tuple(p + 1 for p in permutation)), 0


def transpose(x, axes=None) -> Tensor:
    """Permute the axes of `x` (reverse them when `axes` is None).

    Example:
        >>> nb.transpose(nb.zeros((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    x = to_tensor(x, "transpose")
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(canonical_axis("transpose", a, x.ndim) for a in axes)
    if len(axes) != x.ndim:
        raise_error(ShapeError, "transpose", f"axes {axes} do not match a tensor of rank {x.ndim}")
    if axes == tuple(range(x.ndim)):
        return x
    return bind(transpose_p, x, permutation=axes)


def moveaxis(x, source, destination) -> Tensor:
    """Move axis `source` to position `destination`, keeping the order of the others."""
    x = to_tensor(x, "moveaxis")
    src = canonical_axis("moveaxis", source, x.ndim)
    dst = canonical_axis("moveaxis", destination, x.ndim)
    if src == dst:
        return x
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    return bind(transpose_p, x, permutation=tuple(perm))


__all__ = ["reshape", "broadcast_to", "broadcast_in_dim", "transpose", "moveaxis"]


# ---------------------------------------------------------------------------
# slice (static) and pad
# ---------------------------------------------------------------------------
slice_p = Primitive("slice", linear=True)


@slice_p.def_abstract_eval
def _slice_abstract_eval(x: Aval, *, start_indices, limit_indices, strides) -> Aval:
    ok = len(start_indices) == len(limit_indices) == len(strides) == x.ndim and all(
        0 <= s <= lim <= d and st >= 1
        for s, lim, st, d in zip(start_indices, limit_indices, strides, x.shape))
    if not ok:
        raise_error(ShapeError, "slice", f"invalid slice of {x.short()}: start {start_indices}, "
                    f"limit {limit_indices}, strides {strides}")
    shape = tuple(max(0, -(-(lim - s) // st)) for s, lim, st in zip(start_indices, limit_indices, strides))
    return Aval(shape, x.dtype, x.weak)


@slice_p.def_transpose
def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    from ..core import full_in
    lo, hi, interior = [], [], []
    for s, st, d, n in zip(start_indices, strides, x.shape, ct.shape):
        used = (n - 1) * st + 1 if n else 0
        lo.append(s)
        interior.append(st - 1 if n else 0)
        hi.append(d - s - used)
    zero = full_in(ct._value.ctx, (), 0, ct.dtype)
    return (pad(ct, zero, tuple(lo), tuple(hi), tuple(interior)),)


@slice_p.def_batch
def _slice_batch(args, bdims, *, start_indices, limit_indices, strides):
    (x,), (b,) = args, bdims
    x = _batch_at_front(x, b)
    return bind(slice_p, x, start_indices=(0,) + tuple(start_indices),
                limit_indices=(x.shape[0],) + tuple(limit_indices),
                strides=(1,) + tuple(strides)), 0


def static_slice(x: Tensor, start_indices, limit_indices, strides=None) -> Tensor:
    """x[start:limit:stride] along every axis, with static bounds."""
    start_indices = tuple(int(s) for s in start_indices)
    limit_indices = tuple(int(s) for s in limit_indices)
    strides = (1,) * x.ndim if strides is None else tuple(int(s) for s in strides)
    if start_indices == (0,) * x.ndim and limit_indices == x.shape and strides == (1,) * x.ndim:
        return x
    return bind(slice_p, x, start_indices=start_indices, limit_indices=limit_indices,
                strides=strides)


pad_p = Primitive("pad", linear=True)


@pad_p.def_abstract_eval
def _pad_abstract_eval(x: Aval, value: Aval, *, low, high, interior) -> Aval:
    if value.shape != () or value.dtype is not x.dtype or not (
            len(low) == len(high) == len(interior) == x.ndim) or any(i < 0 for i in interior):
        raise_error(ShapeError, "pad", f"invalid padding of {x.short()} with {value.short()}: "
                    f"low {low}, high {high}, interior {interior}")
    shape = tuple(lo + hi + d + max(d - 1, 0) * it
                  for lo, hi, d, it in zip(low, high, x.shape, interior))
    if any(d < 0 for d in shape):
        raise_error(ShapeError, "pad", f"padding {low}, {high} leaves a negative size for {x.short()}")
    return Aval(shape, x.dtype, x.weak)


@pad_p.def_transpose
def _pad_transpose(ct, x, value, *, low, high, interior):
    from .reduce import reduce_sum
    # Undo the edges (negative padding), then take every (interior+1)-th element.
    unpadded = bind(pad_p, ct, value, low=tuple(-lo for lo in low), high=tuple(-hi for hi in high),
                    interior=(0,) * ct.ndim)
    ct_x = static_slice(unpadded, (0,) * ct.ndim, unpadded.shape, tuple(i + 1 for i in interior))
    ct_value = reduce_sum(ct) - reduce_sum(ct_x)
    return ct_x, ct_value


@pad_p.def_batch
def _pad_batch(args, bdims, *, low, high, interior):
    x, value = args
    bx, bv = bdims
    if bv is not None:  # a batched padding value: pad with zeros, then select the border
        raise NotImplementedError("pad with a batched padding value")
    x = _batch_at_front(x, bx)
    return bind(pad_p, x, value, low=(0,) + tuple(low), high=(0,) + tuple(high),
                interior=(0,) + tuple(interior)), 0


def pad(x, value, low, high, interior=None) -> Tensor:
    """Pad `x` with the scalar `value`: `low`/`high` elements before/after each axis (negative
    values crop) and `interior` elements between neighbours."""
    interior = (0,) * x.ndim if interior is None else tuple(interior)
    return bind(pad_p, x, value, low=tuple(low), high=tuple(high), interior=interior)


__all__ += ["static_slice"]
