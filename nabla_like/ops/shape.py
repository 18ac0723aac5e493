"""Shape ops: reshape, transpose, broadcast, slicing, concatenation, reversal, padding.

Primitives mirror StableHLO (static shapes, explicit dimensions); the
NumPy/PyTorch-style functions users call (`squeeze`, `moveaxis`, `stack`,
`split`, ...) are written in terms of them. Every primitive here is linear:
each declares a transpose and gets its JVP and VJP from it.

Dynamic slicing lives in `shape_dynamic.py`; NumPy's `pad` modes, `repeat`
and `tile` in `shape_tiling.py`. Both are re-exported from here.
"""
from __future__ import annotations

import numpy as np

from .. import creation as _creation
from ..args import as_int, as_int_tuple, as_scalar as _scalar, check_size
from ..core import Primitive, bind, context_of, full_in
from ..dtypes import result_type
from ..errors import ArgumentError, AxisError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import (batch_size, canonical_axes, canonical_axis, cast, fmt_shapes, move_bdim,
                      to_tensor)


def _batch_at_front(x: Tensor, bdim: int) -> Tensor:
    return move_bdim(x, bdim, 0, x.shape[bdim])


def _short(x: Tensor) -> str:
    return x._value.aval.short()


def _is_int(x) -> bool:
    return isinstance(x, int) or (hasattr(x, "__index__") and not hasattr(x, "__len__")
                                  and not isinstance(x, Tensor))


def _axis_tuple(op: str, axes, ndim: int) -> tuple[int, ...]:
    """`axes` (an int or a sequence) as non-negative axes, in the given order, no repeats."""
    if not isinstance(axes, (tuple, list)):
        axes = (axes,)
    out = tuple(canonical_axis(op, a, ndim) for a in axes)
    if len(set(out)) != len(out):
        raise_error(AxisError, op, f"repeated axis in {tuple(axes)}")
    return out


# ---------------------------------------------------------------------------
# reshape, and the functions that only insert or remove size-1 dims
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
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    shape = as_int_tuple(op, "shape", shape)
    if shape.count(-1) > 1:
        raise_error(ShapeError, op, f"can only infer one dimension, got shape {shape}")
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if known == 0 or x.size % known:
            raise_error(ShapeError, op, f"cannot reshape {_short(x)} into shape {shape}")
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


def squeeze(x, axis=None) -> Tensor:
    """Remove size-1 axes: all of them, or the given int/tuple `axis` (each must have size 1).

    Example:
        >>> nb.squeeze(nb.zeros((1, 3, 1)), axis=0).shape
        (3, 1)
    """
    x = to_tensor(x, "squeeze")
    shape = x.shape
    if axis is None:
        new = tuple(d for d in shape if d != 1)
    else:
        axes = canonical_axes("squeeze", axis, x.ndim)
        for a in axes:
            if shape[a] != 1:
                raise_error(ShapeError, "squeeze", f"cannot squeeze axis {a} of {_short(x)}: "
                            f"its size is {shape[a]}, not 1")
        new = tuple(d for i, d in enumerate(shape) if i not in axes)
    if new == shape:
        return x
    return bind(reshape_p, x, new_sizes=new)


def expand_dims(x, axis) -> Tensor:
    """Insert size-1 axes at `axis` (an int or a tuple; positions in the result, negative ok).

    Example:
        >>> nb.expand_dims(nb.zeros((2, 3)), (0, -1)).shape
        (1, 2, 3, 1)
    """
    x = to_tensor(x, "expand_dims")
    if not isinstance(axis, (tuple, list)):
        a = canonical_axis("expand_dims", axis, x.ndim + 1)
        new = x.shape[:a] + (1,) + x.shape[a:]
    else:
        out_ndim = x.ndim + len(axis)
        axes = canonical_axes("expand_dims", axis, out_ndim)
        dims = iter(x.shape)
        new = tuple(1 if i in axes else next(dims) for i in range(out_ndim))
    return bind(reshape_p, x, new_sizes=new)


def unsqueeze(x, dim=None, *, axis=None) -> Tensor:
    """PyTorch's name for `expand_dims`: a size-1 axis at `dim` (an int or a tuple);
    `axis=` is the keyword Nabla and NumPy code uses.

    Example:
        >>> nb.unsqueeze(nb.zeros(3), -1).shape
        (3, 1)
    """
    return expand_dims(x, _one_of("unsqueeze", "dim", dim, "axis", axis))


def _one_of(op: str, name: str, value, alias: str, alias_value):
    """The value of a parameter that has a keyword alias: exactly one of them is given."""
    if (value is None) == (alias_value is None):
        raise_error(ArgumentError, op, f"pass exactly one of {name}= and {alias}=")
    return value if alias_value is None else alias_value


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes `start_dim` to `end_dim` (inclusive) into one, as `torch.flatten`.

    A 0-d tensor becomes a 1-element vector.

    Example:
        >>> nb.flatten(nb.zeros((2, 3, 4)), 1).shape
        (2, 12)
    """
    x = to_tensor(x, "flatten")
    if x.ndim == 0:
        return bind(reshape_p, x, new_sizes=(1,))
    start = canonical_axis("flatten", start_dim, x.ndim)
    end = canonical_axis("flatten", end_dim, x.ndim)
    if start > end:
        raise_error(AxisError, "flatten", f"start_dim {start_dim} comes after end_dim {end_dim} "
                    f"for {_short(x)}")
    merged = 1
    for d in x.shape[start:end + 1]:
        merged *= d
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


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
    check_size("broadcast_to", shape, x.dtype.itemsize)
    return Aval(shape, x.dtype, x.weak)


def broadcast_in_dim(x: Tensor, shape, broadcast_dimensions) -> Tensor:
    """Broadcast `x` into `shape`, its dim i going to output dim broadcast_dimensions[i]
    (StableHLO / lax.broadcast_in_dim): those dims have x's size or x has 1 there, the
    other output dims repeat it. Users want `broadcast_to` or `expand_dims`.

    Example:
        >>> nb.broadcast_in_dim(nb.tensor([1.0, 2.0]), (2, 3), (0,))
        Tensor(
        [[1. 1. 1.]
         [2. 2. 2.]] : f32[2,3]
        )
    """
    x = to_tensor(x, "broadcast_in_dim")
    shape = _creation.shape_arg("broadcast_in_dim", shape)
    dims = as_int_tuple("broadcast_in_dim", "broadcast_dimensions", broadcast_dimensions)
    if shape == x.shape and dims == tuple(range(x.ndim)):
        return x
    return bind(broadcast_in_dim_p, x, shape=shape, broadcast_dimensions=dims)


@broadcast_in_dim_p.def_transpose
def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    kept = set(broadcast_dimensions)
    summed = [d for d in range(len(shape)) if d not in kept]
    expanded = [d for i, d in enumerate(broadcast_dimensions) if x.shape[i] == 1 and shape[d] != 1]
    out = ct
    if summed or expanded:
        out = _reduce.reduce_sum(ct, tuple(sorted(summed + expanded)))
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
    shape = _creation.shape_arg("broadcast_to", shape)
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise_error(ShapeError, "broadcast_to", f"cannot broadcast {_short(x)} to shape {shape}")
    return broadcast_to_shape(x, shape)


# ---------------------------------------------------------------------------
# transpose, and the axis permutations built on it
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


def _permute(x: Tensor, perm: tuple[int, ...]) -> Tensor:
    if perm == tuple(range(x.ndim)):
        return x
    return bind(transpose_p, x, permutation=perm)


def transpose(x, axes=None, *more) -> Tensor:
    """Permute the axes of `x` as NumPy does (reverse them when `axes` is None).

    `x.transpose(1, 0)` (axes as separate arguments) works too.

    Example:
        >>> nb.transpose(nb.zeros((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    x = to_tensor(x, "transpose")
    if axes is None:
        return _permute(x, tuple(range(x.ndim - 1, -1, -1)))
    if more:
        axes = (axes,) + more
    axes = _axis_tuple("transpose", axes, x.ndim)
    if len(axes) != x.ndim:
        raise_error(AxisError, "transpose", f"axes {axes} do not match a tensor of rank "
                    f"{x.ndim} ({_short(x)})")
    return _permute(x, axes)


def permute(x, *dims, order=None) -> Tensor:
    """PyTorch's `permute`: `permute(x, 2, 0, 1)` or `permute(x, (2, 0, 1))`; Nabla's
    `permute(x, order=(2, 0, 1))`.

    Example:
        >>> nb.permute(nb.zeros((2, 3, 4)), 2, 0, 1).shape
        (4, 2, 3)
    """
    if order is not None:
        if dims:
            raise_error(ArgumentError, "permute", "pass the axes either positionally or as order=")
        dims = (order,)
    if len(dims) == 1 and not _is_int(dims[0]):
        dims = dims[0]
    return transpose(x, tuple(dims))


def swapaxes(x, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes of `x`. Alias: `swap_axes`.

    Example:
        >>> nb.swapaxes(nb.zeros((2, 3, 4)), 0, -1).shape
        (4, 3, 2)
    """
    x = to_tensor(x, "swapaxes")
    a = canonical_axis("swapaxes", axis1, x.ndim)
    b = canonical_axis("swapaxes", axis2, x.ndim)
    perm = list(range(x.ndim))
    perm[a], perm[b] = b, a
    return _permute(x, tuple(perm))


swap_axes = swapaxes


def moveaxis(x, source, destination) -> Tensor:
    """Move axes `source` to positions `destination` (ints or equal-length sequences), keeping
    the order of the other axes, as `np.moveaxis`.

    Example:
        >>> nb.moveaxis(nb.zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    x = to_tensor(x, "moveaxis")
    n = x.ndim
    if isinstance(source, int) and isinstance(destination, int):  # the batching hot path
        src = canonical_axis("moveaxis", source, n)
        dst = canonical_axis("moveaxis", destination, n)
        if src == dst:
            return x
        perm = [i for i in range(n) if i != src]
        perm.insert(dst, src)
        return bind(transpose_p, x, permutation=tuple(perm))
    src = _axis_tuple("moveaxis", source, n)
    dst = _axis_tuple("moveaxis", destination, n)
    if len(src) != len(dst):
        raise_error(AxisError, "moveaxis", f"source {source} and destination {destination} must "
                    f"have the same number of elements")
    perm = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return _permute(x, tuple(perm))


# ---------------------------------------------------------------------------
# slice (static)
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
    shape = tuple(max(0, -(-(lim - s) // st))
                  for s, lim, st in zip(start_indices, limit_indices, strides))
    return Aval(shape, x.dtype, x.weak)


@slice_p.def_transpose
def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    lo, hi, interior = [], [], []
    for s, st, d, n in zip(start_indices, strides, x.shape, ct.shape):
        used = (n - 1) * st + 1 if n else 0
        lo.append(s)
        interior.append(st - 1 if n else 0)
        hi.append(d - s - used)
    zero = full_in(ct._value.ctx, (), 0, ct.dtype)
    return (pad_general(ct, zero, tuple(lo), tuple(hi), tuple(interior)),)


@slice_p.def_batch
def _slice_batch(args, bdims, *, start_indices, limit_indices, strides):
    (x,), (b,) = args, bdims
    x = _batch_at_front(x, b)
    return bind(slice_p, x, start_indices=(0,) + tuple(start_indices),
                limit_indices=(x.shape[0],) + tuple(limit_indices),
                strides=(1,) + tuple(strides)), 0


def static_slice(x: Tensor, start_indices, limit_indices, strides=None) -> Tensor:
    """x[start:limit:stride] along every axis, with static in-range bounds (StableHLO slice,
    as lax.slice): one start and one limit per axis, strides default 1. Users want indexing
    or `slice_tensor`.

    Example:
        >>> nb.static_slice(nb.arange(10), (1,), (8,), (3,))
        Tensor([1 4 7] : i32[3])
        >>> nb.static_slice(nb.arange(6).reshape(2, 3), (0, 1), (2, 3))
        Tensor(
        [[1 2]
         [4 5]] : i32[2,2]
        )
    """
    x = to_tensor(x, "static_slice")
    start_indices = as_int_tuple("static_slice", "start_indices", start_indices)
    limit_indices = as_int_tuple("static_slice", "limit_indices", limit_indices)
    strides = (1,) * x.ndim if strides is None else as_int_tuple("static_slice", "strides",
                                                                 strides, min=1)
    if start_indices == (0,) * x.ndim and limit_indices == x.shape and strides == (1,) * x.ndim:
        return x
    return bind(slice_p, x, start_indices=start_indices, limit_indices=limit_indices,
                strides=strides)


def slice_axis(x: Tensor, axis: int, start: int, stop: int, stride: int = 1) -> Tensor:
    """x[start:stop:stride] along one (non-negative, in range) axis."""
    lo = [0] * x.ndim
    hi = list(x.shape)
    st = [1] * x.ndim
    lo[axis], hi[axis], st[axis] = start, stop, stride
    return static_slice(x, lo, hi, st)


def _bounds(name: str, values) -> tuple:
    """Slice bounds of slice_tensor: a sequence of ints or None."""
    if not isinstance(values, (tuple, list)):
        raise_error(ArgumentError, "slice_tensor", f"{name} must be a sequence of ints or None, "
                    f"got {values!r}")
    return tuple(None if v is None else as_int("slice_tensor", name, v) for v in values)


def slice_tensor(x, starts, stops, steps=None, axes=None) -> Tensor:
    """Static slicing: `x[starts[k]:stops[k]:steps[k]]` along `axes[k]` (default: the leading
    `len(starts)` axes; other axes are kept whole).

    Each bound follows Python's slice rules: None means the default, negative values count
    from the end, out-of-range bounds are clipped, and a negative step walks backwards.
    Bounds must be Python ints; for traced start positions use `dynamic_slice`.

    Example:
        >>> x = nb.reshape(nb.arange(12), (3, 4))
        >>> nb.slice_tensor(x, (1, None), (None, None), (1, -2)).numpy()  # x[1:, ::-2]
        array([[ 7,  5],
               [11,  9]], dtype=int32)
    """
    x = to_tensor(x, "slice_tensor")
    starts, stops = _bounds("starts", starts), _bounds("stops", stops)
    n = len(starts)
    axes = _axis_tuple("slice_tensor", tuple(range(n)) if axes is None else axes, x.ndim)
    steps = (None,) * n if steps is None else _bounds("steps", steps)
    if not len(stops) == len(steps) == len(axes) == n:
        raise_error(ShapeError, "slice_tensor", f"starts {tuple(starts)}, stops {tuple(stops)}, "
                    f"steps {steps} and axes {axes} must have the same length")
    lo, hi, strides = [0] * x.ndim, list(x.shape), [1] * x.ndim
    flips = []
    for a, b, e, s in zip(axes, starts, stops, steps):
        if s == 0:
            raise_error(ShapeError, "slice_tensor", f"slice step cannot be zero (axis {a} of "
                        f"{_short(x)})")
        b, e, s = slice(b, e, s).indices(x.shape[a])
        count = len(range(b, e, s))
        if count == 0:
            lo[a] = hi[a] = 0
            continue
        last = b + (count - 1) * s
        if s < 0:  # take the same elements in increasing order, then reverse them
            b, last, s = last, b, -s
            if count > 1:
                flips.append(a)
        lo[a], hi[a], strides[a] = b, last + 1, s
    out = static_slice(x, lo, hi, strides)
    return bind(rev_p, out, dimensions=tuple(sorted(flips))) if flips else out


# ---------------------------------------------------------------------------
# pad (StableHLO's: edge, negative and interior padding with a scalar value)
# ---------------------------------------------------------------------------
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
        raise_error(ShapeError, "pad", f"padding {low}, {high} leaves a negative size for "
                    f"{x.short()}")
    check_size("pad", shape, x.dtype.itemsize)
    return Aval(shape, x.dtype, x.weak)


@pad_p.def_transpose
def _pad_transpose(ct, x, value, *, low, high, interior):
    from .reduce import reduce_sum
    # Undo the edges (negative padding), then take every (interior+1)-th element.
    unpadded = bind(pad_p, ct, full_in(ct._value.ctx, (), 0, ct.dtype),
                    low=tuple(-lo for lo in low), high=tuple(-hi for hi in high),
                    interior=(0,) * ct.ndim)
    ct_x = static_slice(unpadded, (0,) * ct.ndim, unpadded.shape, tuple(i + 1 for i in interior))
    ct_value = reduce_sum(ct) - reduce_sum(ct_x)
    return ct_x, ct_value


@pad_p.def_batch
def _pad_batch(args, bdims, *, low, high, interior):
    x, value = args
    bx, bv = bdims
    low, high, interior = (0,) + tuple(low), (0,) + tuple(high), (0,) + tuple(interior)
    if bv is None:
        x = _batch_at_front(x, bx)
        return bind(pad_p, x, value, low=low, high=high, interior=interior), 0
    # One padding value per example: pad with zeros, then fill the border (where a padded
    # all-true mask is false) from the broadcast values.
    from ..dtypes import bool_
    from .elementwise import select
    ctx = context_of(args)
    size = value.shape[bv]
    x = move_bdim(x, bx, 0, size)
    padded = bind(pad_p, x, full_in(ctx, (), 0, x.dtype), low=low, high=high, interior=interior)
    inside = bind(pad_p, full_in(ctx, x.shape, True, bool_), full_in(ctx, (), False, bool_),
                  low=low, high=high, interior=interior)
    border = broadcast_in_dim(value, padded.shape, (0,))
    return select(inside, padded, border), 0


def pad_general(x: Tensor, value, low, high, interior=None) -> Tensor:
    """Pad `x` with the scalar `value` (StableHLO pad): `low`/`high` elements before/after each
    axis (negative values crop) and `interior` elements between neighbours. For NumPy's
    `np.pad` use `pad`.

    Example:
        >>> nb.pad_general(nb.ones(3), 0.0, (1,), (0,), (1,)).numpy()
        array([0., 1., 0., 1., 0., 1.], dtype=float32)
    """
    x = to_tensor(x, "pad_general")
    if not isinstance(value, Tensor):
        value = full_in(x._value.ctx, (), _scalar("pad_general", "value", value), x.dtype)
    elif value.dtype is not x.dtype:
        value = cast(value, x.dtype)
    interior = (0,) * x.ndim if interior is None else as_int_tuple("pad_general", "interior",
                                                                   interior, min=0)
    return bind(pad_p, x, value, low=as_int_tuple("pad_general", "low", low),
                high=as_int_tuple("pad_general", "high", high), interior=interior)


# ---------------------------------------------------------------------------
# concatenate, and stack / split / chunk
# ---------------------------------------------------------------------------
concatenate_p = Primitive("concatenate", linear=True)


@concatenate_p.def_abstract_eval
def _concatenate_abstract_eval(*xs: Aval, dimension: int) -> Aval:
    x0 = xs[0]
    for x in xs:
        if x.ndim != x0.ndim or x.dtype is not x0.dtype or not 0 <= dimension < x0.ndim or any(
                a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape)) if i != dimension):
            raise_error(ShapeError, "concatenate", f"cannot concatenate "
                        f"{', '.join(a.short() for a in xs)} along axis {dimension}")
    shape = list(x0.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return Aval(tuple(shape), x0.dtype, all(x.weak for x in xs))


@concatenate_p.def_transpose
def _concatenate_transpose(ct, *xs, dimension):
    cts, start = [], 0
    for x in xs:
        stop = start + x.shape[dimension]
        cts.append(slice_axis(ct, dimension, start, stop))
        start = stop
    return tuple(cts)


@concatenate_p.def_batch
def _concatenate_batch(args, bdims, *, dimension):
    b = bdims[0]
    if b is not None and all(d == b for d in bdims):  # batch dims agree: no transposes
        return bind(concatenate_p, *args, dimension=dimension + (dimension >= b)), b
    size = batch_size(args, bdims)
    moved = [move_bdim(a, b, 0, size) for a, b in zip(args, bdims)]
    return bind(concatenate_p, *moved, dimension=dimension + 1), 0


def _tensor_list(op: str, tensors) -> list[Tensor]:
    if isinstance(tensors, Tensor):  # a tensor is a sequence of its rows, as in NumPy
        if tensors.ndim == 0:
            raise_error(ShapeError, op, f"expects a sequence of tensors, got {_short(tensors)}")
        return [reshape(slice_axis(tensors, 0, i, i + 1), tensors.shape[1:])
                for i in range(tensors.shape[0])]
    if not isinstance(tensors, (list, tuple)):
        raise_error(ArgumentError, op, f"expects a sequence of tensors, got {tensors!r}")
    out = [to_tensor(t, op) for t in tensors]
    if not out:
        raise_error(ShapeError, op, "needs at least one tensor")
    return out


def _promote_all(tensors: list[Tensor]) -> list[Tensor]:
    """One dtype for all (the same promotion as binary ops); shapes are left alone."""
    a0 = tensors[0]._value.aval
    if all(t._value.aval.dtype is a0.dtype and t._value.aval.weak == a0.weak for t in tensors):
        return tensors
    dtype, weak = result_type(*[(t.dtype, t._value.aval.weak) for t in tensors])
    return [cast(t, dtype, weak) for t in tensors]


def concatenate(tensors, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (`axis=None` flattens them first), promoting dtypes.

    Example:
        >>> nb.concatenate([nb.zeros((2, 3)), nb.ones((1, 3))]).shape
        (3, 3)
    """
    tensors = _tensor_list("concatenate", tensors)
    if axis is None:
        tensors = [reshape(t, (-1,)) for t in tensors]
        axis = 0
    x0 = tensors[0]
    if x0.ndim == 0:
        raise_error(ShapeError, "concatenate", f"zero-dimensional tensors cannot be concatenated "
                    f"({fmt_shapes(*tensors)})")
    ax = canonical_axis("concatenate", axis, x0.ndim)
    before, after = x0.shape[:ax], x0.shape[ax + 1:]
    for t in tensors:
        if t.ndim != x0.ndim or t.shape[:ax] != before or t.shape[ax + 1:] != after:
            raise_error(ShapeError, "concatenate", f"shapes must match except along axis {ax}, got "
                        f"{fmt_shapes(*tensors)}")
    tensors = _promote_all(tensors)
    pieces = [t for t in tensors if t.shape[ax]] or tensors[:1]  # empty pieces add nothing
    if len(pieces) == 1:
        return pieces[0]
    return bind(concatenate_p, *pieces, dimension=ax)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis `axis`, promoting dtypes.

    Example:
        >>> nb.stack([nb.zeros(3), nb.ones(3)], axis=1).shape
        (3, 2)
    """
    tensors = _tensor_list("stack", tensors)
    shape = tensors[0].shape
    for t in tensors:
        if t.shape != shape:
            raise_error(ShapeError, "stack", f"all tensors must have the same shape, got "
                        f"{fmt_shapes(*tensors)}")
    ax = canonical_axis("stack", axis, len(shape) + 1)
    new = shape[:ax] + (1,) + shape[ax:]
    expanded = [bind(reshape_p, t, new_sizes=new) for t in _promote_all(tensors)]
    if len(expanded) == 1:
        return expanded[0]
    return bind(concatenate_p, *expanded, dimension=ax)


def _split_axis(op: str, x, axis) -> tuple[Tensor, int]:
    x = to_tensor(x, op)
    if x.ndim == 0:
        raise_error(AxisError, op, f"cannot split a 0-d tensor {_short(x)}")
    return x, canonical_axis(op, axis, x.ndim)


def split(x, indices_or_sections=None, axis: int = 0, *, num_splits=None) -> list[Tensor]:
    """Split `x` along `axis` as `np.split`: into `indices_or_sections` equal parts (an int that
    must divide the axis), or at the given indices (`[2, 5]` gives `x[:2], x[2:5], x[5:]`).
    `num_splits=` is Nabla's keyword for the number of equal parts.

    Example:
        >>> [p.shape for p in nb.split(nb.zeros(6), [2, 5])]
        [(2,), (3,), (1,)]
    """
    if num_splits is not None:
        num_splits = as_int("split", "num_splits", num_splits)
    indices_or_sections = _one_of("split", "indices_or_sections", indices_or_sections,
                                  "num_splits", num_splits)
    x, ax = _split_axis("split", x, axis)
    n = x.shape[ax]
    if not isinstance(indices_or_sections, (tuple, list, Tensor, np.ndarray)):
        k = as_int("split", "indices_or_sections", indices_or_sections)
        if k <= 0 or n % k:
            raise_error(ShapeError, "split", f"axis {ax} of {_short(x)} (size {n}) cannot be "
                        f"split into {k} equal sections")
        step = n // k
        bounds = [(i * step, (i + 1) * step) for i in range(k)]
    else:
        if isinstance(indices_or_sections, Tensor):
            indices_or_sections = indices_or_sections.tolist()
        edges = [None, *as_int_tuple("split", "indices_or_sections", list(indices_or_sections)),
                 None]
        bounds = []
        for a, b in zip(edges[:-1], edges[1:]):
            start, stop, _ = slice(a, b).indices(n)
            bounds.append((start, max(start, stop)))
    return [slice_axis(x, ax, a, b) for a, b in bounds]


def chunk(x, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """Split `x` into `chunks` pieces along `axis` as `torch.chunk`: each of size
    ceil(n / chunks) but the last, so fewer than `chunks` pieces may come back.

    Example:
        >>> [p.shape for p in nb.chunk(nb.zeros(5), 3)]
        [(2,), (2,), (1,)]
    """
    x, ax = _split_axis("chunk", x, axis)
    chunks = as_int("chunk", "chunks", chunks)
    if chunks <= 0:
        raise_error(ShapeError, "chunk", f"chunks must be positive, got {chunks}")
    n = x.shape[ax]
    if n == 0:  # torch keeps the number of (empty) chunks here
        return tuple(x for _ in range(chunks))
    size = -(-n // chunks)
    return tuple(slice_axis(x, ax, s, min(s + size, n)) for s in range(0, n, size))


# ---------------------------------------------------------------------------
# rev (flip)
# ---------------------------------------------------------------------------
rev_p = Primitive("rev", linear=True)


@rev_p.def_abstract_eval
def _rev_abstract_eval(x: Aval, *, dimensions: tuple[int, ...]) -> Aval:
    if len(set(dimensions)) != len(dimensions) or any(not 0 <= d < x.ndim for d in dimensions):
        raise_error(AxisError, "flip", f"invalid axes {dimensions} for {x.short()}")
    return x


rev_p.def_transpose(lambda ct, x, *, dimensions: (bind(rev_p, ct, dimensions=dimensions),))


@rev_p.def_batch
def _rev_batch(args, bdims, *, dimensions):
    (x,), (b,) = args, bdims
    return bind(rev_p, x, dimensions=tuple(d + (d >= b) for d in dimensions)), b


def flip(x, axis=None) -> Tensor:
    """Reverse the order of elements along `axis` (an int, a tuple, or None for all axes).

    Example:
        >>> nb.flip(nb.arange(3)).numpy()
        array([2, 1, 0], dtype=int32)
    """
    x = to_tensor(x, "flip")
    dims = tuple(a for a in canonical_axes("flip", axis, x.ndim) if x.shape[a] > 1)
    if not dims:
        return x
    return bind(rev_p, x, dimensions=dims)


__all__ = ["reshape", "squeeze", "expand_dims", "unsqueeze", "flatten", "broadcast_to",
           "broadcast_in_dim", "transpose", "permute", "swapaxes", "swap_axes", "moveaxis",
           "static_slice", "slice_tensor", "pad_general", "concatenate", "stack", "split",
           "chunk", "flip"]

# The rest of the family; imported last because both files build on the primitives above.
from .shape_dynamic import dynamic_slice, dynamic_update_slice  # noqa: E402
from .shape_tiling import pad, repeat, tile  # noqa: E402

__all__ += ["dynamic_slice", "dynamic_update_slice", "pad", "repeat", "tile"]
from . import reduce as _reduce  # noqa: E402  (used at call time)
