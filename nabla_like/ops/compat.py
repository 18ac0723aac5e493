"""Names that ported NumPy, JAX, PyTorch and Nabla code expects, built from existing ops.

Composites only (no primitives): array constructors and comparisons (`array`, `constant`,
`isclose`, `allclose`, `array_equal`), stacking (`vstack`, `hstack`, `dstack`,
`column_stack`), diagonals (`diag`, `diagonal`, `trace`), `ravel`, `meshgrid`, `unbind`,
`clamp`, `slice_update`, the data-dependent `nonzero` and `unique` (eager, or fixed-size
with `size=`), the constants `pi`, `e`, `inf`, `nan`, `newaxis`, and the pytree helpers
under their JAX/Nabla names (`tree_flatten`, ...).

Diagonals are reshape + strided slice (reading) and interior padding (writing), so
they are linear, differentiable to any order and batch with the shape ops' rules.
"""
from __future__ import annotations

import math

import numpy as np

from ..args import as_bool, as_choice, as_float, as_int, as_int_tuple, as_opt_int, as_scalar
from ..core import concrete_check, full_in
from ..creation import iota
from ..creation import tensor as _tensor
from ..dtypes import as_dtype, bool_, default_float, float64, int32
from ..errors import (ArgumentError, ArgumentValueError, AxisError, ConcretizationError,
                      IndexingError, ShapeError, make_error, raise_error)
from ..tensor import Tensor
from ..tree import (register_pytree_node, tree_flatten, tree_leaves, tree_map,  # noqa: F401
                    tree_structure, tree_unflatten)
from ._common import canonical_axis, cast, promote, to_tensor
from .bitwise import isfinite, isnan, logical_and, logical_not, logical_or
from .cumulative import cumsum
from .elementwise import (abs, add, clip, equal, floor_divide, less, less_equal, mod, mul,
                          not_equal, sub, where)
from .elementwise import copy as _copy
from .indexing import scatter_add, take
from .reduce import all, reduce_sum
from .shape import (broadcast_in_dim, concatenate, pad_general, reshape, slice_axis, transpose)
from .shape_dynamic import dynamic_update_slice
from .sort import sort_along

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


# ---------------------------------------------------------------------------
# Construction and comparison
# ---------------------------------------------------------------------------
def array(object, dtype=None, *, copy: bool | None = True, ndmin: int = 0) -> Tensor:  # noqa: A002
    """A tensor of `object` (anything `nb.tensor` takes), as jnp.array: `copy=True` makes
    a new tensor even from a tensor of the right dtype; `copy=False` or None returns
    such a tensor itself (host data is always copied). `ndmin` prepends size-1 axes.

    Example:
        >>> nb.array([[1, 2], [3, 4]], dtype=nb.float32).shape
        (2, 2)
        >>> nb.array([1.0, 2.0], ndmin=3).shape
        (1, 1, 2)
    """
    copy_flag = None if copy is None else as_bool("array", "copy", copy)
    ndmin = as_int("array", "ndmin", ndmin, min=0)
    out = _tensor(object, dtype=dtype)
    if out is object and copy_flag:
        out = _copy(out)
    if out.ndim < ndmin:
        out = reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def constant(value, dtype=None) -> Tensor:
    """A tensor holding `value` (Nabla's name for `nb.tensor`).

    Example:
        >>> nb.constant([1.0, 2.0], dtype=nb.float64).dtype
        nb.float64
    """
    return _tensor(value, dtype=dtype)


def _inexact_pair(op: str, a, b) -> tuple[Tensor, Tensor]:
    """`a`, `b` promoted and broadcast; integers and bools compared as floats."""
    a, b = promote(op, a, b)
    if a.dtype.kind != "f":
        wide = float64 if a.dtype.bits > 32 else default_float
        a, b = cast(a, wide), cast(b, wide)
    return a, b


def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise `|a - b| <= atol + rtol * |b|` as a bool tensor, as np.isclose: equal
    infinities are close, an infinity is close to nothing else, and NaNs are close to
    each other only with `equal_nan=True`. Not symmetric (`b` scales the tolerance).

    Example:
        >>> nb.isclose(nb.tensor([1.0, 1.1, float("nan")]), 1.0)
        Tensor([ True False False] : bool[3])
    """
    rtol = as_float("isclose", "rtol", rtol)
    atol = as_float("isclose", "atol", atol)
    equal_nan = as_bool("isclose", "equal_nan", equal_nan)
    a, b = _inexact_pair("isclose", a, b)
    within = logical_and(less_equal(abs(sub(a, b)), add(mul(abs(b), rtol), atol)), isfinite(b))
    out = logical_or(within, equal(a, b))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(a), isnan(b)))
    return out


def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Whether `isclose(a, b)` holds everywhere, as a 0-d bool tensor (as jnp.allclose;
    NumPy returns a Python bool). `if nb.allclose(a, b):` works on eager values.

    Example:
        >>> bool(nb.allclose(nb.tensor([1.0, 2.0]), nb.tensor([1.0, 2.0 + 1e-9])))
        True
    """
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan: bool = False) -> Tensor:
    """Whether `a1` and `a2` have one shape and equal elements, as a 0-d bool tensor (as
    jnp.array_equal; NumPy returns a Python bool). Different shapes give False.

    Example:
        >>> nb.array_equal(nb.tensor([1, 2]), nb.tensor([1, 2]))
        Tensor(True : bool[])
    """
    equal_nan = as_bool("array_equal", "equal_nan", equal_nan)
    a1, a2 = to_tensor(a1, "array_equal"), to_tensor(a2, "array_equal")
    if a1.shape != a2.shape:
        return full_in(a1._value.ctx, (), False, bool_)
    same = equal(a1, a2)
    if equal_nan:
        same = logical_or(same, logical_and(isnan(a1), isnan(a2)))
    return all(same)


# ---------------------------------------------------------------------------
# Stacking, ravel, meshgrid, unbind
# ---------------------------------------------------------------------------
def _tensor_seq(op: str, tup, dtype) -> list[Tensor]:
    if isinstance(tup, Tensor):
        tup = unbind(tup, 0) if tup.ndim else [tup]
    if not isinstance(tup, (list, tuple)):
        raise_error(ArgumentError, op, f"expects a sequence of tensors, got {type(tup).__name__}")
    if not tup:
        raise_error(ShapeError, op, "needs at least one tensor")
    out = [to_tensor(t, op) for t in tup]
    if dtype is not None:
        d = as_dtype(dtype)
        out = [cast(t, d) for t in out]
    return out


def _at_least(x: Tensor, n: int) -> Tensor:
    """NumPy's atleast_1d/2d/3d: (N,) becomes (1, N) and (1, N, 1), (M, N) becomes (M, N, 1)."""
    if x.ndim >= n:
        return x
    if x.ndim == 0:
        return reshape(x, (1,) * n)
    if x.ndim == 1:
        return reshape(x, (1,) + x.shape + (1,) * (n - 2))
    return reshape(x, x.shape + (1,))


def vstack(tup, *, dtype=None) -> Tensor:
    """Stack tensors row-wise, as np.vstack: 1-D tensors become rows, then concatenate
    along axis 0 (dtypes promote, or all cast to `dtype`).

    Example:
        >>> nb.vstack([nb.zeros(3), nb.ones(3)]).shape
        (2, 3)
    """
    return concatenate([_at_least(t, 2) for t in _tensor_seq("vstack", tup, dtype)], axis=0)


def hstack(tup, *, dtype=None) -> Tensor:
    """Stack tensors column-wise, as np.hstack: along axis 0 for 1-D tensors, else axis 1.

    Example:
        >>> nb.hstack([nb.zeros(2), nb.ones(3)]).shape
        (5,)
    """
    tensors = [_at_least(t, 1) for t in _tensor_seq("hstack", tup, dtype)]
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def dstack(tup, *, dtype=None) -> Tensor:
    """Stack tensors depth-wise (along axis 2), as np.dstack: (N,) becomes (1, N, 1) and
    (M, N) becomes (M, N, 1) first.

    Example:
        >>> nb.dstack([nb.zeros(3), nb.ones(3)]).shape
        (1, 3, 2)
    """
    return concatenate([_at_least(t, 3) for t in _tensor_seq("dstack", tup, dtype)], axis=2)


def column_stack(tup) -> Tensor:
    """Stack 1-D tensors as columns (2-D tensors as they are) into a matrix, as
    np.column_stack.

    Example:
        >>> nb.column_stack([nb.zeros(3), nb.ones((3, 2))]).shape
        (3, 3)
    """
    tensors = _tensor_seq("column_stack", tup, None)
    cols = [reshape(t, (t.size, 1)) if t.ndim < 2 else t for t in tensors]
    return concatenate(cols, axis=1)


def ravel(x) -> Tensor:
    """`x` flattened to 1-D in row-major order, as np.ravel.

    Example:
        >>> nb.ravel(nb.ones((2, 3))).shape
        (6,)
    """
    x = to_tensor(x, "ravel")
    return reshape(x, (x.size,))


def meshgrid(*xs, indexing: str = "xy", sparse: bool = False) -> list[Tensor]:
    """Coordinate grids from 1-D coordinate vectors, as np.meshgrid (and torch.meshgrid,
    which also takes one list of tensors). `indexing="xy"` (the default) gives grids of
    shape (len(y), len(x), ...), "ij" gives (len(x), len(y), ...); `sparse=True` returns
    broadcastable size-1 shapes instead of full grids. Inputs are flattened first.

    Example:
        >>> gx, gy = nb.meshgrid(nb.arange(3), nb.arange(2))
        >>> gx.shape
        (2, 3)
    """
    indexing = as_choice("meshgrid", "indexing", indexing, ("xy", "ij"))
    sparse = as_bool("meshgrid", "sparse", sparse)
    if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
        xs = tuple(xs[0])
    vectors = [ravel(to_tensor(x, "meshgrid")) for x in xs]
    dims = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) >= 2:
        dims[0], dims[1] = 1, 0
    shape = [0] * len(vectors)
    for v, d in zip(vectors, dims):
        shape[d] = v.shape[0]
    out = []
    for v, d in zip(vectors, dims):
        if sparse:
            out.append(reshape(v, tuple(n if i == d else 1 for i, n in enumerate(shape))))
        else:
            out.append(broadcast_in_dim(v, tuple(shape), (d,)))
    return out


def unbind(x, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of `x` along `dim`, each without that axis, as torch.unbind.

    Example:
        >>> [t.shape for t in nb.unbind(nb.ones((2, 3)), dim=1)]
        [(2,), (2,), (2,)]
    """
    x = to_tensor(x, "unbind")
    if x.ndim == 0:
        as_int("unbind", "dim", dim)
        raise_error(AxisError, "unbind", f"cannot unbind a 0-d tensor {x._value.aval.short()}")
    d = canonical_axis("unbind", dim, x.ndim, "dim")
    rest = x.shape[:d] + x.shape[d + 1:]
    return tuple(reshape(slice_axis(x, d, i, i + 1), rest) for i in range(x.shape[d]))


def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002 - torch's keyword names
    """Elementwise `x` limited to [min, max], as torch.clamp (NumPy's `clip`; where
    min > max the result is max). At least one bound must be given.

    Example:
        >>> nb.clamp(nb.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
        Tensor([0.  0.5 1. ] : f32[3])
    """
    if min is None and max is None:
        raise_error(ArgumentValueError, "clamp", "at least one of min and max must be given")
    return clip(x, min, max)


def slice_update(x, update, start, size=None) -> Tensor:
    """`x` with the block `update` written at `start` (Nabla's slice_update; functional).
    `start` has one entry per axis: ints (negative ones count from the end) that must
    place the block inside `x`, or 0-d integer tensors, which may be traced and are
    clamped into range as in `dynamic_update_slice`. `size`, if given, must be
    `update.shape`.

    Example:
        >>> nb.slice_update(nb.zeros((3, 3)), nb.ones((2, 2)), (1, 1)).numpy().sum()
        np.float32(4.0)
    """
    x = to_tensor(x, "slice_update")
    update = to_tensor(update, "slice_update")
    if update.ndim != x.ndim:
        raise_error(ShapeError, "slice_update", f"update {update._value.aval.short()} must have "
                    f"the rank of {x._value.aval.short()}")
    if size is not None:
        size = as_int_tuple("slice_update", "size", size, min=0, length=x.ndim)
        if size != update.shape:
            raise_error(ShapeError, "slice_update", f"size {size} is not the shape of update "
                        f"{update._value.aval.short()}")
    if isinstance(start, Tensor) and start.ndim == 1:
        return dynamic_update_slice(x, update, start)
    items = list(start) if isinstance(start, (list, tuple)) else [start]
    if len(items) != x.ndim:
        raise_error(ShapeError, "slice_update", f"start needs {x.ndim} entries for "
                    f"{x._value.aval.short()}, got {start!r}")
    starts = []
    for it, d, u in zip(items, x.shape, update.shape):
        if isinstance(it, Tensor):
            starts.append(it)
            continue
        s = as_int("slice_update", "start", it)
        s = s + d if s < 0 else s
        if not 0 <= s <= d - u:
            raise_error(IndexingError, "slice_update", f"start {tuple(items)} does not place "
                        f"update {update._value.aval.short()} inside {x._value.aval.short()}")
        starts.append(s)
    return dynamic_update_slice(x, update, tuple(starts))


# ---------------------------------------------------------------------------
# Diagonals
# ---------------------------------------------------------------------------
def _diagonal_length(n: int, m: int, offset: int) -> int:
    return max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))


def _last_two_diagonal(x: Tensor, offset: int) -> Tensor:
    """The `offset` diagonal of the matrices in the last two axes of `x`: element (i, i +
    offset) sits at i * (m + 1) + offset of each flattened matrix, one strided slice."""
    lead, (n, m) = x.shape[:-2], x.shape[-2:]
    length = _diagonal_length(n, m, offset)
    flat = reshape(x, lead + (n * m,))
    start = offset if offset >= 0 else -offset * m
    if length == 0:
        return slice_axis(flat, len(lead), 0, 0)
    return slice_axis(flat, len(lead), start, start + (length - 1) * (m + 1) + 1, m + 1)


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The `offset` diagonal of `x` over axes `axis1`, `axis2` (elements x[i, i + offset]),
    as np.diagonal: those axes are removed and the diagonal becomes the last axis.

    Example:
        >>> nb.diagonal(nb.tensor([[1, 2], [3, 4]]))
        Tensor([1 4] : i32[2])
        >>> nb.diagonal(nb.ones((5, 2, 3)), axis1=1, axis2=2).shape
        (5, 2)
    """
    x = to_tensor(x, "diagonal")
    offset = as_int("diagonal", "offset", offset)
    if x.ndim < 2:
        raise_error(ShapeError, "diagonal", f"needs a tensor of rank >= 2, got "
                    f"{x._value.aval.short()}")
    a1 = canonical_axis("diagonal", axis1, x.ndim, "axis1")
    a2 = canonical_axis("diagonal", axis2, x.ndim, "axis2")
    if a1 == a2:
        raise_error(AxisError, "diagonal", f"axis1 and axis2 must differ, got {axis1} and {axis2}")
    others = [i for i in range(x.ndim) if i not in (a1, a2)]
    perm = tuple(others) + (a1, a2)
    if perm != tuple(range(x.ndim)):
        x = transpose(x, perm)
    return _last_two_diagonal(x, offset)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype=None) -> Tensor:
    """The sum of the `offset` diagonal of `x` over axes `axis1`, `axis2`, as np.trace
    (summed in `dtype` if given; integers stay 32-bit, as in JAX).

    Example:
        >>> nb.trace(nb.tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor(5. : f32[])
    """
    d = diagonal(x, offset, axis1, axis2)
    if dtype is not None:
        d = cast(d, as_dtype(dtype))
    return reduce_sum(d, axis=-1)


def diag(v, k: int = 0) -> Tensor:
    """A 1-D `v` as the `k` diagonal of a square matrix (zeros elsewhere), or the `k`
    diagonal of a 2-D `v`, as np.diag.

    Example:
        >>> nb.diag(nb.tensor([1.0, 2.0])).numpy()
        array([[1., 0.],
               [0., 2.]], dtype=float32)
        >>> nb.diag(nb.tensor([[1, 2], [3, 4]]), k=1)
        Tensor([2] : i32[1])
    """
    v = to_tensor(v, "diag")
    k = as_int("diag", "k", k)
    if v.ndim == 2:
        return _last_two_diagonal(v, k)
    if v.ndim != 1:
        raise_error(ShapeError, "diag", f"needs a 1-D or 2-D tensor, got {v._value.aval.short()}")
    n = v.shape[0]
    size = n + (k if k >= 0 else -k)
    if n == 0:
        return full_in(v._value.ctx, (size, size), 0, v.dtype)
    # v[i] lands at i * (size + 1) + start of the flattened matrix: interior padding.
    start = k if k >= 0 else -k * size
    high = size * size - start - n - (n - 1) * size
    flat = pad_general(v, 0, (start,), (high,), (size,))
    return reshape(flat, (size, size))


# ---------------------------------------------------------------------------
# nonzero, unique: result shapes that depend on values
# ---------------------------------------------------------------------------
def _concrete(op: str, x: Tensor) -> None:
    """Raise ConcretizationError naming `size=` when `x` is traced. The error keeps the
    transforms being traced, so that an eager grad/vjp/jvp can still run on values."""
    if x._value.ctx.level == 0:
        return
    try:
        concrete_check(x, op)
    except ConcretizationError as e:
        err = make_error(ConcretizationError, op, f"the result shape depends on the values of a "
                         f"traced tensor {x._value.aval.short()}; pass size=N (and fill_value=) "
                         f"for a fixed-size result that works under jit and vmap")
        err.transforms = getattr(e, "transforms", None)
        raise err.with_traceback(None) from None


def _fit(t: Tensor, size: int, fill) -> Tensor:
    """A 1-D `t` cut or padded (with `fill`) to length `size`."""
    n = t.shape[0]
    if n >= size:
        return slice_axis(t, 0, 0, size)
    pad = fill if isinstance(fill, Tensor) else full_in(t._value.ctx, (), fill, t.dtype)
    return concatenate([t, broadcast_in_dim(cast(pad, t.dtype), (size - n,), ())])


def _compacted(keep: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """Positions of the True entries of the 1-D bool `keep` in order, cut or padded (with
    0) to `size`, and which of those `size` entries are real."""
    n = keep.shape[0]
    count = reduce_sum(cast(keep, int32))
    if n == 0:
        return full_in(keep._value.ctx, (size,), 0, int32), full_in(keep._value.ctx, (size,),
                                                                      False, bool_)
    positions = sort_along(logical_not(keep), 0)[1]  # stable: True entries first, in order
    return _fit(positions, size, 0), less(iota((size,), 0, int32), count)


def _fill_values(op: str, fill_value, n: int) -> tuple[int, ...]:
    if fill_value is None:
        return (0,) * n
    if isinstance(fill_value, (list, tuple)):
        if len(fill_value) != n:
            raise_error(ArgumentValueError, op, f"fill_value needs {n} entries, got {fill_value!r}")
        return tuple(as_int(op, "fill_value", f) for f in fill_value)
    return (as_int(op, "fill_value", fill_value),) * n


def nonzero(x, *, size: int | None = None, fill_value=None) -> tuple[Tensor, ...]:
    """The indices of the nonzero elements of `x`, one int32 tensor per axis, as
    np.nonzero (and `nb.where(x)`). Without `size` the result length depends on the
    values, so `x` must be concrete (eager); under jit or vmap pass `size`: the first
    `size` indices, padded with `fill_value` (0, or one int per axis), as jnp.nonzero.
    `Tensor.nonzero` returns this tuple too (torch's returns an (n, ndim) tensor).

    Example:
        >>> nb.nonzero(nb.tensor([0, 3, 0, 4]))
        (Tensor([1 3] : i32[2]),)
        >>> nb.nonzero(nb.tensor([0, 3, 0, 4]), size=3, fill_value=-1)
        (Tensor([ 1  3 -1] : i32[3]),)
    """
    x = to_tensor(x, "nonzero")
    size = as_opt_int("nonzero", "size", size, min=0)
    fills = _fill_values("nonzero", fill_value, max(x.ndim, 1))
    if x.ndim == 0:
        raise_error(ShapeError, "nonzero", f"needs a tensor of rank >= 1, got "
                    f"{x._value.aval.short()} (use nb.atleast_1d or reshape)")
    if size is None:
        _concrete("nonzero", x)
        return tuple(_tensor(np.asarray(c, dtype=np.int32)) for c in np.nonzero(x.numpy()))
    truth = x if x.dtype is bool_ else not_equal(x, 0)
    flat, valid = _compacted(reshape(truth, (x.size,)), size)
    out = []
    stride = x.size
    for d, fill in zip(x.shape, fills):
        stride //= max(d, 1)
        coord = mod(floor_divide(flat, stride), d) if d > 1 else mul(flat, 0)
        out.append(where(valid, coord, full_in(flat._value.ctx, (), fill, int32)))
    return tuple(out)


def unique(x, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           size: int | None = None, fill_value=None):
    """The sorted unique elements of `x`, as np.unique, with the first `return_index`
    (int32), the `return_inverse` indices that rebuild `x` and the `return_counts` if
    asked (a tuple then, in that order). Without `size` `x` must be concrete (eager);
    with `size` (axis=None only) the first `size` unique values come back, padded with
    `fill_value` (default: the smallest value) and count 0, which works under jit and
    vmap, as jnp.unique. NaNs count as one value unless `equal_nan=False`.

    Example:
        >>> nb.unique(nb.tensor([3, 1, 3, 2]))
        Tensor([1 2 3] : i32[3])
        >>> values, counts = nb.unique(nb.tensor([3, 1, 3, 2]), return_counts=True, size=4)
        >>> counts
        Tensor([1 1 2 0] : i32[4])
    """
    flags = [as_bool("unique", n, f) for n, f in (("return_index", return_index),
                                                  ("return_inverse", return_inverse),
                                                  ("return_counts", return_counts))]
    equal_nan = as_bool("unique", "equal_nan", equal_nan)
    size = as_opt_int("unique", "size", size, min=0)
    x = to_tensor(x, "unique")
    if axis is not None:
        axis = canonical_axis("unique", axis, x.ndim)
    if fill_value is not None and not isinstance(fill_value, Tensor):
        fill_value = as_scalar("unique", "fill_value", fill_value)
    if size is None:
        _concrete("unique", x)
        got = np.unique(np.asarray(x.numpy()), *flags, axis=axis, equal_nan=equal_nan)
        got = got if isinstance(got, tuple) else (got,)
        out = [_tensor(got[0]).astype(x.dtype)] + [_tensor(np.asarray(g, dtype=np.int32))
                                                   for g in got[1:]]
        return out[0] if len(out) == 1 else tuple(out)
    if axis is not None:
        raise_error(ArgumentValueError, "unique", "size= works with axis=None only")
    return _unique_sized(x, size, fill_value, equal_nan, flags)


def _unique_sized(x: Tensor, size: int, fill_value, equal_nan: bool, flags) -> Tensor | tuple:
    n = x.size
    ctx = x._value.ctx
    if n == 0:
        fill = 0 if fill_value is None else fill_value
        zeros = full_in(ctx, (size,), 0, int32)
        empty = reshape(x, (0,))
        out = [_fit(empty, size, fill), zeros, full_in(ctx, x.shape, 0, int32), zeros]
    else:
        values, perm = sort_along(reshape(x, (n,)), 0)
        fresh = not_equal(slice_axis(values, 0, 1, n), slice_axis(values, 0, 0, n - 1))
        if equal_nan and x.dtype.kind == "f":
            fresh = logical_and(fresh, logical_not(logical_and(
                isnan(slice_axis(values, 0, 1, n)), isnan(slice_axis(values, 0, 0, n - 1)))))
        is_new = concatenate([full_in(ctx, (1,), True, bool_), fresh])
        starts_all, valid_all = _compacted(is_new, n)  # sorted position of each unique value
        starts_or_end = where(valid_all, starts_all, n)
        ends = concatenate([slice_axis(starts_or_end, 0, 1, n), full_in(ctx, (1,), n, int32)])
        counts = _fit(sub(ends, starts_or_end), size, 0)
        valid = _fit(valid_all, size, False)
        starts = where(valid, _fit(starts_all, size, 0), 0)
        fill = slice_axis(values, 0, 0, 1) if fill_value is None else fill_value
        fill = reshape(fill, ()) if isinstance(fill, Tensor) else full_in(ctx, (), fill, x.dtype)
        uniques = where(valid, take(values, starts), cast(fill, x.dtype))
        first_index = take(perm, starts)  # padding: the smallest value's index, as jnp
        group = sub(cumsum(cast(is_new, int32)), 1)  # of each sorted position
        inverse = scatter_add(full_in(ctx, (n,), 0, int32), 0, perm, group)
        out = [uniques, first_index, reshape(inverse, x.shape), counts]
    picked = [out[0]] + [o for o, f in zip(out[1:], flags) if f]
    return picked[0] if len(picked) == 1 else tuple(picked)


__all__ = ["pi", "e", "inf", "nan", "newaxis", "array", "constant", "isclose", "allclose",
           "array_equal", "vstack", "hstack", "dstack", "column_stack", "ravel", "meshgrid",
           "unbind", "clamp", "slice_update", "diagonal", "trace", "diag", "nonzero", "unique",
           "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure",
           "register_pytree_node"]
