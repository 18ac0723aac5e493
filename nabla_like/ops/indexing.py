"""NumPy-style indexing (`x[idx]`, `x.at[idx].set(v)`), take, take_along_axis and the
torch-style gather / scatter_add, over the gather/scatter primitives of
`gather_scatter.py`.

An index is first parsed into one entry per dim (None and a lone 0-d bool
become new size-1 dims), then applied:

* ints and slices are basic: a static slice, a reverse for negative steps and
  a reshape; no gather;
* integer arrays (and ints next to them, as in NumPy) are advanced: they are
  broadcast together, stacked into one index tensor and gathered. The result
  dims go where the first advanced index was when the advanced indices are
  adjacent in the index, else in front (NumPy's rule).

Index data given as Python/NumPy values is checked against the shape
(IndexingError). Index tensors are only known at run time: negative values
wrap once (i + n), then out-of-range values are clamped for reads and
dropped for updates, as in JAX.
"""
from __future__ import annotations

import itertools
import operator

import numpy as np

from ..core import full_in
from ..creation import iota, tensor
from ..dtypes import int32, int64
from ..errors import ConcretizationError, IndexingError, ShapeError, raise_error
from ..tensor import Tensor
from ._common import broadcast_to_shape, canonical_axis, to_tensor
from .elementwise import add, cast, less, maximum, minimum, mul, where
from .gather_scatter import SCATTERS, gather_points, scatter_points, stack_indices
from .shape import broadcast_in_dim, flip, reshape, static_slice, transpose

_INTS = (int, np.integer)
_INT32_MAX = 2**31 - 1


# ---------------------------------------------------------------------------
# Parsing an index into one entry per dim
# ---------------------------------------------------------------------------
# Entries: ("slice", start, step, count) selects start + step * t for t < count;
# ("int", i) with 0 <= i < n; ("array", a) with a an int NumPy array (in range)
# or an int Tensor (raw, wrapped later).
class _Parsed:
    __slots__ = ("contiguous", "entries", "shape")

    def __init__(self, shape, entries, contiguous):
        self.shape = shape
        self.entries = entries
        self.contiguous = contiguous


def _bad_index(op: str, item) -> None:
    raise_error(IndexingError, op, "only integers, slices (`:`), ellipsis (`...`), None and "
                f"integer or boolean arrays are valid indices, got {type(item).__name__}")


def _classify(op: str, item):
    """(kind, payload) of one index item; kinds: none ellipsis bool0 int slice array mask."""
    if item is None:
        return "none", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, (bool, np.bool_)):
        return "bool0", bool(item)
    if isinstance(item, _INTS):
        return "int", int(item)
    if isinstance(item, slice):
        return "slice", item
    if isinstance(item, Tensor):
        kind = item.dtype.kind
        if kind == "b":
            if item._value.ctx.level != 0:
                raise_error(ConcretizationError, op,
                            f"a traced boolean mask {item._value.aval.short()} cannot index: the "
                            f"result shape would depend on its values; use nb.where(mask, x, 0) "
                            f"or integer indices instead")
            mask = np.asarray(item.numpy())
            return ("bool0", bool(mask)) if mask.ndim == 0 else ("mask", mask)
        if kind in "iu":
            return "array", item
        raise_error(IndexingError, op, f"index tensors must be integer or bool, got "
                    f"{item._value.aval.short()}")
    try:
        array = np.asarray(item)
    except Exception:  # noqa: BLE001 - anything NumPy cannot read is not an index
        _bad_index(op, item)
    if array.dtype.kind == "b":
        return ("bool0", bool(array)) if array.ndim == 0 else ("mask", array)
    if array.dtype.kind in "iu":
        return ("int", int(array)) if array.ndim == 0 else ("array", array)
    if array.size == 0 and array.dtype.kind == "f":  # `x[[]]`
        return "array", array.astype(np.int64)
    _bad_index(op, item)


def _static_int(op: str, value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._value.ctx.level != 0:
            raise_error(ConcretizationError, op, f"slice {what} must be static, got a traced "
                        f"{value._value.aval.short()}; use nb.dynamic_slice instead")
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        raise_error(IndexingError, op, f"slice {what} must be an integer or None, got "
                    f"{type(value).__name__}")


def _slice_entry(op: str, s: slice, n: int):
    start, stop, step = (_static_int(op, s.start, "start"), _static_int(op, s.stop, "stop"),
                         _static_int(op, s.step, "step"))
    if step == 0:
        raise_error(IndexingError, op, "slice step cannot be zero")
    start, stop, step = slice(start, stop, step).indices(n)
    return ("slice", start, step, len(range(start, stop, step)))


def _out_of_bounds(op: str, value, axis: int, n: int, shape_text: str) -> None:
    raise_error(IndexingError, op, f"index {value} is out of bounds for axis {axis} with size {n} "
                f"(indexing {shape_text})")


def _checked_array(op: str, a: np.ndarray, axis: int, n: int, shape_text: str) -> np.ndarray:
    if a.size:
        low, high = int(a.min()), int(a.max())
        if low < -n:
            _out_of_bounds(op, low, axis, n, shape_text)
        if high >= n:
            _out_of_bounds(op, high, axis, n, shape_text)
        if low < 0:
            a = np.where(a < 0, a + n, a)
    return a


def parse_index(op: str, x: Tensor, index) -> _Parsed:
    items = index if isinstance(index, tuple) else (index,)
    classified = [_classify(op, item) for item in items]
    consumed = 0
    ellipses = 0
    advanced_positions = []
    for pos, (kind, payload) in enumerate(classified):
        if kind in ("int", "slice", "array"):
            consumed += 1
        elif kind == "mask":
            consumed += payload.ndim
        elif kind == "ellipsis":
            ellipses += 1
        if kind in ("int", "array", "mask", "bool0"):
            advanced_positions.append(pos)
    shape_text = x._value.aval.short()
    if ellipses > 1:
        raise_error(IndexingError, op, "an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise_error(IndexingError, op, f"too many indices for {shape_text}: it is {x.ndim}-"
                    f"dimensional, but {consumed} were indexed")
    contiguous = all(b - a == 1 for a, b in itertools.pairwise(advanced_positions))
    # A lone 0-d bool is just a new axis (of size 1 or 0); with other advanced
    # indices it is an index array [0] or [] on that new axis, as in NumPy.
    lone_bool = advanced_positions and all(classified[p][0] == "bool0" for p in advanced_positions) \
        and len(advanced_positions) == 1
    shape: list[int] = []
    entries: list = []
    d = 0  # the dim of x the next item applies to
    for kind, payload in classified:
        if kind == "none":
            shape.append(1)
            entries.append(("slice", 0, 1, 1))
        elif kind == "bool0":
            shape.append(1)
            if lone_bool:
                entries.append(("slice", 0, 1, 1 if payload else 0))
            else:
                entries.append(("array", np.zeros((1 if payload else 0,), np.int32)))
        elif kind == "ellipsis":
            for _ in range(x.ndim - consumed):
                n = x.shape[d]
                shape.append(n)
                entries.append(("slice", 0, 1, n))
                d += 1
        elif kind == "int":
            n = x.shape[d]
            if not -n <= payload < n:
                _out_of_bounds(op, payload, d, n, shape_text)
            shape.append(n)
            entries.append(("int", payload % n))
            d += 1
        elif kind == "slice":
            n = x.shape[d]
            shape.append(n)
            entries.append(_slice_entry(op, payload, n))
            d += 1
        elif kind == "array":
            n = x.shape[d]
            if isinstance(payload, np.ndarray):
                payload = _checked_array(op, payload, d, n, shape_text)
            shape.append(n)
            entries.append(("array", payload))
            d += 1
        else:  # mask
            dims = x.shape[d:d + payload.ndim]
            if payload.shape != dims:
                raise_error(IndexingError, op, f"boolean index of shape {payload.shape} does not "
                            f"match the indexed dims {dims} of {shape_text}")
            for a in np.nonzero(payload):
                shape.append(x.shape[d])
                entries.append(("array", a))
                d += 1
    while d < x.ndim:
        shape.append(x.shape[d])
        entries.append(("slice", 0, 1, x.shape[d]))
        d += 1
    return _Parsed(tuple(shape), entries, contiguous)


# ---------------------------------------------------------------------------
# Index arrays: broadcast, wrap negatives, stack
# ---------------------------------------------------------------------------
def _broadcast_index_shapes(op: str, arrays) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*[tuple(a.shape) for a in arrays]))
    except ValueError:
        shapes = " ".join(str(tuple(a.shape)) for a in arrays)
        raise_error(IndexingError, op, f"shape mismatch: indexing arrays could not be broadcast "
                    f"together with shapes {shapes}")


def _wrap_negative(t: Tensor, n: int) -> Tensor:
    if t.dtype.kind == "u":
        return t
    return where(less(t, 0), add(t, n), t)


_CONSTANT_INDICES: dict = {}


def _constant_index(a: np.ndarray) -> Tensor:
    """A device tensor for small constant index data, reused across calls (tensors are
    immutable), so `x[:, [0, 2]]` in a loop does not copy its indices every step."""
    if a.size > 1024:
        return tensor(a)
    key = (a.dtype.str, a.shape, a.tobytes())
    t = _CONSTANT_INDICES.get(key)
    if t is None:
        if len(_CONSTANT_INDICES) >= 256:
            _CONSTANT_INDICES.clear()
        t = _CONSTANT_INDICES[key] = tensor(a)
    return t


def _index_dtype(parts) -> object:
    for p in parts:
        if isinstance(p, Tensor):
            if p.dtype in (int64,) or (p.dtype.kind == "u" and p.dtype.bits >= 32):
                return int64
        elif p.size and int(np.max(p)) > _INT32_MAX:
            return int64
    return int32


def _index_tensor(parts, sizes, batch_shape, placements) -> Tensor:
    """Stack index parts into one int tensor of shape `batch_shape` + (len(parts),).

    parts[j] (NumPy or Tensor) indexes a dim of size sizes[j]; its dims go to
    positions `placements[j]` of the batch shape (broadcast elsewhere).
    """
    dtype = _index_dtype(parts)
    if not any(isinstance(p, Tensor) for p in parts):
        full = []
        for p, where_to in zip(parts, placements):
            shape = [1] * len(batch_shape)
            for k, dim in enumerate(where_to):
                shape[dim] = p.shape[k]
            full.append(np.broadcast_to(np.reshape(p, shape), batch_shape))
        stacked = np.stack(full, axis=-1) if full else np.zeros(batch_shape + (0,), np.int32)
        return _constant_index(stacked.astype(dtype.np))
    tensors = []
    for p, n, where_to in zip(parts, sizes, placements):
        if isinstance(p, Tensor):
            t = _wrap_negative(cast(p, dtype), n)
        else:
            t = _constant_index(p.astype(dtype.np))
        tensors.append(broadcast_in_dim(t, batch_shape, where_to))
    return stack_indices(tensors)


def _trailing(shape_len: int, batch_len: int) -> tuple[int, ...]:
    """Placement of a part broadcast NumPy-style (right-aligned) into the batch dims."""
    return tuple(range(batch_len - shape_len, batch_len))


# ---------------------------------------------------------------------------
# Reading: x[index]
# ---------------------------------------------------------------------------
def _advanced_layout(parsed: _Parsed) -> int:
    """Where the broadcast advanced dims go among the slice dims of the result."""
    if not parsed.contiguous:
        return 0
    position = 0
    for e in parsed.entries:
        if e[0] != "slice":
            return position
        position += 1
    return position


def getitem(x: Tensor, index) -> Tensor:
    """`x[index]` with NumPy semantics: ints, slices (any step), None, Ellipsis, integer
    arrays/tensors (advanced indexing) and concrete boolean masks.

    Example:
        >>> x = nb.arange(12).reshape(3, 4)
        >>> x[1:, ::-2].numpy()
        array([[ 7,  5],
               [11,  9]], dtype=int32)
    """
    if type(x) is not Tensor:
        x = to_tensor(x, "getitem")
    if isinstance(index, _INTS) and not isinstance(index, (bool, np.bool_)) and x.ndim:
        n = x.shape[0]
        if -n <= index < n:  # the common x[i]: one slice and a reshape
            i = int(index) % n
            y = static_slice(x, (i,) + (0,) * (x.ndim - 1), (i + 1,) + x.shape[1:])
            return reshape(y, x.shape[1:])
    parsed = parse_index("getitem", x, index)
    y = reshape(x, parsed.shape) if parsed.shape != x.shape else x
    starts, limits, strides, flips, kept, arrays, array_dims = [], [], [], [], [], [], []
    for d, e in enumerate(parsed.entries):
        if e[0] == "slice":
            _, start, step, count = e
            low = start if step > 0 else start + (count - 1) * step
            if count == 0:
                low, step = 0, 1
            starts.append(low)
            limits.append(low + (count - 1) * abs(step) + 1 if count else 0)
            strides.append(abs(step))
            if step < 0 and count > 1:
                flips.append(d)
            kept.append(d)
        elif e[0] == "int":
            starts.append(e[1])
            limits.append(e[1] + 1)
            strides.append(1)
        else:
            starts.append(0)
            limits.append(parsed.shape[d])
            strides.append(1)
            array_dims.append(len(kept))
            arrays.append(e[1])
            kept.append(d)
    y = static_slice(y, starts, limits, strides)
    if flips:
        y = flip(y, tuple(flips))
    if len(kept) != y.ndim:
        y = reshape(y, tuple(y.shape[d] for d in kept))
    if not arrays:
        return y
    batch = _broadcast_index_shapes("getitem", arrays)
    sizes = [y.shape[d] for d in array_dims]
    placements = [_trailing(np.ndim(a) if not isinstance(a, Tensor) else a.ndim, len(batch))
                  for a in arrays]
    idx = _index_tensor(arrays, sizes, batch, placements)
    out = gather_points(y, idx, tuple(array_dims), "clip")
    p = _advanced_layout(parsed)
    nb_, nw = len(batch), out.ndim - len(batch)
    if p and nb_:
        perm = tuple(range(nb_, nb_ + p)) + tuple(range(nb_)) + tuple(range(nb_ + p, nb_ + nw))
        out = transpose(out, perm)
    return out


# ---------------------------------------------------------------------------
# Functional updates: x.at[index].set(v) and friends
# ---------------------------------------------------------------------------
def _update(op: str, x: Tensor, index, values, how: str) -> Tensor:
    x = to_tensor(x, op)
    parsed = parse_index(op, x, index)
    y = reshape(x, parsed.shape) if parsed.shape != x.shape else x
    if isinstance(values, Tensor):
        v = values if values.dtype is x.dtype else cast(values, x.dtype)
    elif isinstance(values, (int, float, bool, np.generic)):
        v = full_in(y._value.ctx, (), values.item() if isinstance(values, np.generic) else values,
                    x.dtype)
    else:
        v = tensor(np.asarray(values), dtype=x.dtype)
    group = [(d, e[1] if e[0] == "array" else np.asarray(e[1]))
             for d, e in enumerate(parsed.entries) if e[0] != "slice"]
    # Partial slices become index arrays (one scatter dim each); whole dims stay windows.
    whole = [e[0] == "slice" and e[1] == 0 and e[2] == 1 and e[3] == n
             for e, n in zip(parsed.entries, parsed.shape)]
    moved = [(d, e) for d, e in enumerate(parsed.entries) if e[0] == "slice" and not whole[d]]
    windows = [d for d in range(len(whole)) if whole[d]]
    batch = _broadcast_index_shapes(op, [a for _, a in group]) if group else ()
    # The shape NumPy gives y[index]: slice dims in order, the advanced dims inserted.
    slice_sizes = [e[3] for e in parsed.entries if e[0] == "slice"]
    p = _advanced_layout(parsed)
    target = tuple(slice_sizes[:p]) + batch + tuple(slice_sizes[p:])
    if not _broadcastable(v.shape, target):
        raise_error(ShapeError, op, f"values of shape {v.shape} cannot be broadcast to the "
                    f"indexed shape {target} of {x._value.aval.short()}")
    v = broadcast_to_shape(v, target)
    if not group and not moved:  # every dim taken whole
        combine = {"set": lambda a, b: b, "add": add, "mul": mul, "min": minimum, "max": maximum}
        out = combine[how](y, v)
    else:
        # Scatter layout: batch dims, then one dim per partial slice, then the whole dims.
        nb_ = len(batch)
        slice_dims = [d for d, e in enumerate(parsed.entries) if e[0] == "slice"]
        numpy_pos = {d: (k if k < p else k + nb_) for k, d in enumerate(slice_dims)}
        perm = tuple(range(p, p + nb_)) + tuple(numpy_pos[d] for d, _ in moved) + \
            tuple(numpy_pos[d] for d in windows)
        if perm != tuple(range(len(perm))):
            v = transpose(v, perm)
        full_batch = batch + tuple(e[3] for _, e in moved)
        parts = [a for _, a in group] + [np.arange(e[3]) * e[2] + e[1] for _, e in moved]
        placements = [_trailing(np.ndim(a) if not isinstance(a, Tensor) else a.ndim, nb_)
                      for _, a in group] + [(nb_ + j,) for j in range(len(moved))]
        sizes = [parsed.shape[d] for d, _ in group] + [parsed.shape[d] for d, _ in moved]
        idx = _index_tensor(parts, sizes, full_batch, placements)
        axes = tuple(d for d, _ in group) + tuple(d for d, _ in moved)
        out = scatter_points(SCATTERS[how], y, idx, v, axes, "drop")
    return reshape(out, x.shape) if out.shape != x.shape else out


def _broadcastable(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))


class _IndexedTensor:
    """`x.at[index]`: functional reads and updates at `index` (NumPy index semantics)."""

    __slots__ = ("_index", "_x")

    def __init__(self, x: Tensor, index):
        self._x = x
        self._index = index

    def get(self) -> Tensor:
        """`x[index]`."""
        return getitem(self._x, self._index)

    def set(self, values) -> Tensor:
        """A copy of x with x[index] = values (broadcast); with repeated indices one wins."""
        return _update("at.set", self._x, self._index, values, "set")

    def add(self, values) -> Tensor:
        """A copy of x with values added at index; repeated indices accumulate."""
        return _update("at.add", self._x, self._index, values, "add")

    def multiply(self, values) -> Tensor:
        """A copy of x with x[index] multiplied by values; repeated indices accumulate."""
        return _update("at.multiply", self._x, self._index, values, "mul")

    mul = multiply

    def min(self, values) -> Tensor:
        """A copy of x with x[index] = minimum(x[index], values)."""
        return _update("at.min", self._x, self._index, values, "min")

    def max(self, values) -> Tensor:
        """A copy of x with x[index] = maximum(x[index], values)."""
        return _update("at.max", self._x, self._index, values, "max")


class AtIndexer:
    """The `x.at` property: `x.at[idx].set(v)`, `.add(v)`, `.multiply(v)`, `.min(v)`,
    `.max(v)`, `.get()` return new tensors (JAX's functional updates). Out-of-range
    index tensors are dropped by updates and clamped by `get`.

    Example:
        >>> x = nb.zeros(4)
        >>> x.at[nb.tensor([0, 0, 2])].add(1.0).numpy()
        array([2., 0., 1., 0.], dtype=float32)
    """

    __slots__ = ("_x",)

    def __init__(self, x: Tensor):
        self._x = x

    def __getitem__(self, index) -> _IndexedTensor:
        return _IndexedTensor(self._x, index)


# ---------------------------------------------------------------------------
# take, take_along_axis, gather, scatter_add
# ---------------------------------------------------------------------------
def _int_index(op: str, indices) -> Tensor | np.ndarray:
    if isinstance(indices, Tensor):
        if indices.dtype.kind not in "iu":
            raise_error(IndexingError, op, f"indices must be integers, got "
                        f"{indices._value.aval.short()}")
        return indices
    a = np.asarray(indices)
    if a.dtype.kind not in "iu" and a.size != 0:
        raise_error(IndexingError, op, f"indices must be integers, got dtype {a.dtype}")
    return a.astype(np.int64) if a.dtype.kind not in "iu" else a


def take(x, indices, axis: int | None = None) -> Tensor:
    """Elements of `x` at `indices` along `axis` (of the flattened `x` when axis is None),
    as np.take. Out-of-range index tensors are clamped; NumPy indices are checked.

    Example:
        >>> nb.take(nb.tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 0], axis=1).numpy()
        array([[2., 1.],
               [4., 3.]], dtype=float32)
    """
    x = to_tensor(x, "take")
    if axis is None:
        x = reshape(x, (x.size,))
        axis = 0
    axis = canonical_axis("take", axis, x.ndim)
    indices = _int_index("take", indices)
    if not isinstance(indices, Tensor) and indices.ndim == 0:
        indices = int(indices)
    return getitem(x, (slice(None),) * axis + (indices,))


def _coordinates(op: str, indices: Tensor | np.ndarray, axis: int, n: int) -> Tensor:
    """Full gather coordinates: iota on every dim of `indices` but `axis`, `indices` on it."""
    shape = tuple(indices.shape)
    if isinstance(indices, np.ndarray):
        indices = _checked_array(op, indices, axis, n, f"axis of size {n}")
        dtype = _index_dtype([indices])
        indices = _constant_index(indices.astype(dtype.np))
    else:
        dtype = _index_dtype([indices])
        indices = _wrap_negative(cast(indices, dtype), n)
    parts = [indices if d == axis else iota(shape, d, dtype) for d in range(len(shape))]
    return stack_indices(parts)


def take_along_axis(x, indices, axis: int | None) -> Tensor:
    """Pick values along `axis` at `indices` (same rank as `x`, broadcast against it in the
    other dims), as np.take_along_axis.

    Example:
        >>> x = nb.tensor([[10.0, 30.0, 20.0]])
        >>> nb.take_along_axis(x, nb.tensor([[1, 2]]), axis=1).numpy()
        array([[30., 20.]], dtype=float32)
    """
    x = to_tensor(x, "take_along_axis")
    indices = _int_index("take_along_axis", indices)
    if axis is None:
        x = reshape(x, (x.size,))
        axis = 0
    axis = canonical_axis("take_along_axis", axis, x.ndim)
    if indices.ndim != x.ndim:
        raise_error(ShapeError, "take_along_axis", f"indices of rank {indices.ndim} must have the "
                    f"rank of {x._value.aval.short()}")
    x_other = x.shape[:axis] + (1,) + x.shape[axis + 1:]
    i_other = tuple(indices.shape[:axis]) + (1,) + tuple(indices.shape[axis + 1:])
    if not all(p == q or p == 1 or q == 1 for p, q in zip(x_other, i_other)):
        raise_error(ShapeError, "take_along_axis", f"indices of shape {tuple(indices.shape)} do "
                    f"not broadcast against {x._value.aval.short()} outside axis {axis}")
    common = tuple(np.broadcast_shapes(x_other, i_other))
    out_shape = common[:axis] + (indices.shape[axis],) + common[axis + 1:]
    x = broadcast_to_shape(x, common[:axis] + (x.shape[axis],) + common[axis + 1:])
    if isinstance(indices, Tensor):
        indices = broadcast_to_shape(indices, out_shape)
    else:
        indices = np.broadcast_to(indices, out_shape)
    idx = _coordinates("take_along_axis", indices, axis, x.shape[axis])
    return gather_points(x, idx, tuple(range(x.ndim)), "clip")


def _torch_index_check(op: str, x: Tensor, axis: int, index, src_shape=None) -> None:
    if index.ndim != x.ndim:
        raise_error(ShapeError, op, f"index of rank {index.ndim} must have the rank of "
                    f"{x._value.aval.short()}")
    for d in range(x.ndim):
        too_big = (d != axis and index.shape[d] > x.shape[d]) or \
            (src_shape is not None and index.shape[d] > src_shape[d])
        if too_big:
            raise_error(ShapeError, op, f"index of shape {tuple(index.shape)} is larger than "
                        f"{x._value.aval.short()} in dim {d}" +
                        ("" if src_shape is None else f" or than the source {tuple(src_shape)}"))


def gather(x, axis: int, index) -> Tensor:
    """torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] (for axis=1); the output has the
    shape of `index`, which has the rank of `x` and is no larger outside `axis`.

    Example:
        >>> x = nb.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> nb.gather(x, 1, nb.tensor([[0, 0], [1, 0]])).numpy()
        array([[1., 1.],
               [4., 3.]], dtype=float32)
    """
    x = to_tensor(x, "gather")
    axis = canonical_axis("gather", axis, x.ndim)
    index = _int_index("gather", index)
    _torch_index_check("gather", x, axis, index)
    idx = _coordinates("gather", index, axis, x.shape[axis])
    return gather_points(x, idx, tuple(range(x.ndim)), "clip")


def scatter_add(x, axis: int, index, src) -> Tensor:
    """torch.scatter_add: a copy of `x` with out[i][index[i][j][k]][k] += src[i][j][k] (for
    axis=1); repeated indices accumulate, out-of-range index tensors are dropped.

    Example:
        >>> nb.scatter_add(nb.zeros(3), 0, nb.tensor([0, 0, 2]), nb.ones(3)).numpy()
        array([2., 0., 1.], dtype=float32)
    """
    x = to_tensor(x, "scatter_add")
    axis = canonical_axis("scatter_add", axis, x.ndim)
    index = _int_index("scatter_add", index)
    src = to_tensor(src, "scatter_add")
    if src.ndim != x.ndim:
        raise_error(ShapeError, "scatter_add", f"src {src._value.aval.short()} must have the "
                    f"rank of {x._value.aval.short()}")
    _torch_index_check("scatter_add", x, axis, index, src.shape)
    src = static_slice(src, (0,) * src.ndim, tuple(index.shape))
    if src.dtype is not x.dtype:
        src = cast(src, x.dtype)
    idx = _coordinates("scatter_add", index, axis, x.shape[axis])
    return scatter_points(SCATTERS["add"], x, idx, src, tuple(range(x.ndim)), "drop")


__all__ = ["AtIndexer", "gather", "getitem", "scatter_add", "take", "take_along_axis"]
