"""Ops that copy parts of a tensor to new places: NumPy's `pad`, `repeat` and `tile`.

All are composites. Shapes are static, so each is planned in Python: `tile`
and an integer `repeat` are one broadcast and a reshape; padding modes other
than "constant", and `repeat` with per-element counts, map every output
position along an axis to a source position, then cut that map into runs
(ascending, descending or constant) that become slices, reversals and
broadcasts joined by one concatenate.
"""
from __future__ import annotations

import numpy as np

from ..args import as_choice, as_scalar
from ..core import concrete_check, full_in
from ..errors import ArgumentError, AxisError, ShapeError, raise_error
from ..tensor import Tensor
from ._common import canonical_axis, cast, to_tensor
from .shape import (_one_of, _short, broadcast_in_dim, concatenate, flip, pad_general, reshape,
                    slice_axis)


def take_static(x: Tensor, axis: int, index: list[int]) -> Tensor:
    """x[..., index, ...] along `axis` for a static list of in-range positions."""
    n = len(index)
    if index == list(range(x.shape[axis])):
        return x
    pieces = []
    i = 0
    while i < n:
        step = index[i + 1] - index[i] if i + 1 < n else 1
        if step not in (-1, 0, 1):
            step = 1
        j = i + 1
        while j < n and index[j] - index[j - 1] == step:
            j += 1
        first, last = index[i], index[j - 1]
        if step == 1:
            piece = slice_axis(x, axis, first, last + 1)
        elif step == -1:
            piece = flip(slice_axis(x, axis, last, first + 1), axis)
        else:
            one = slice_axis(x, axis, first, first + 1)
            shape = list(one.shape)
            shape[axis] = j - i
            piece = broadcast_in_dim(one, shape, range(x.ndim))
        pieces.append(piece)
        i = j
    if not pieces:
        return slice_axis(x, axis, 0, 0)
    return concatenate(pieces, axis)


# ---------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------
def _source_position(mode: str, p: int, n: int) -> int:
    """Which input position output position p (in input coordinates) copies."""
    if mode == "edge":
        return min(max(p, 0), n - 1)
    if mode == "wrap":
        return p % n
    if mode == "symmetric":
        q = p % (2 * n)
        return q if q < n else 2 * n - 1 - q
    if n == 1:  # reflect
        return 0
    q = p % (2 * n - 2)
    return q if q < n else 2 * n - 2 - q


_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pad_pairs(x: Tensor, pad_width) -> list[tuple[int, int]]:
    """NumPy's reading of `pad_width`: n, (n,), (before, after), or one pair per axis."""
    if isinstance(pad_width, int) and pad_width >= 0:  # the common case, without NumPy
        return [(pad_width, pad_width)] * x.ndim
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise_error(ShapeError, "pad", f"pad_width must be integers, got {pad_width!r}")
    if widths.size == 2 and widths.ndim == 1:
        widths = widths.reshape(1, 2)
    try:
        pairs = np.broadcast_to(widths, (x.ndim, 2))
    except ValueError:
        raise_error(ShapeError, "pad", f"pad_width {pad_width!r} does not fit {_short(x)}: "
                    f"give an int, a (before, after) pair or {x.ndim} pairs")
    if (pairs < 0).any():
        raise_error(ShapeError, "pad", f"pad_width must not be negative, got {pad_width!r}")
    return [(int(b), int(a)) for b, a in pairs]


def _scalar_like(op: str, x: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise_error(ShapeError, op, f"constant_values must be scalars, got {_short(value)}")
        return value if value.dtype is x.dtype else cast(value, x.dtype)
    if hasattr(value, "dtype"):  # NumPy scalars and 0-d arrays
        value = np.asarray(value).item()
    return full_in(x._value.ctx, (), as_scalar(op, "constant_values", value), x.dtype)


def pad(x, pad_width=None, mode: str = "constant", constant_values=0, *, paddings=None,
        value=None) -> Tensor:
    """Pad `x` as `np.pad`.

    `pad_width` is an int, a `(before, after)` pair, or one pair per axis. `mode` is
    "constant" (with `constant_values`: a scalar, a 0-d tensor, which is differentiated,
    or per-axis `(before, after)` pairs), "edge", "reflect", "symmetric" or "wrap".
    Nabla's spelling works too: `pad(x, paddings=[(1, 1), (0, 2)], value=0.0)`.

    Example:
        >>> nb.pad(nb.tensor([1, 2, 3]), (2, 1), mode="reflect").numpy()
        array([3, 2, 1, 2, 3, 2], dtype=int32)
    """
    pad_width = _one_of("pad", "pad_width", pad_width, "paddings", paddings)
    if value is not None:
        constant_values = value
    x = to_tensor(x, "pad")
    pairs = _pad_pairs(x, pad_width)
    mode = as_choice("pad", "mode", mode, _MODES)
    if mode == "constant":
        if isinstance(constant_values, Tensor) or not hasattr(constant_values, "__len__") or (
                np.ndim(constant_values) == 0):
            if not any(b or a for b, a in pairs):
                return x
            value = _scalar_like("pad", x, constant_values)
            return pad_general(x, value, [b for b, _ in pairs], [a for _, a in pairs])
        values = np.broadcast_to(np.asarray(constant_values, dtype=object), (x.ndim, 2))
        for axis, ((b, a), (vb, va)) in enumerate(zip(pairs, values)):
            # Axis by axis, as NumPy: later axes' values fill the corners.
            for width, value, before in ((b, vb, True), (a, va, False)):
                if width:
                    low, high = [0] * x.ndim, [0] * x.ndim
                    (low if before else high)[axis] = width
                    x = pad_general(x, _scalar_like("pad", x, value), low, high)
        return x
    for axis, (b, a) in enumerate(pairs):
        if not (b or a):
            continue
        n = x.shape[axis]
        if n == 0:
            raise_error(ShapeError, "pad", f"cannot extend the empty axis {axis} of {_short(x)} "
                        f"with mode {mode!r}; only 'constant' can")
        x = take_static(x, axis, [_source_position(mode, p, n) for p in range(-b, n + a)])
    return x


# ---------------------------------------------------------------------------
# repeat and tile
# ---------------------------------------------------------------------------
def _static_ints(op: str, values) -> list[int]:
    if isinstance(values, Tensor):
        concrete_check(values, op)
        values = values.numpy()
    arr = np.asarray(values)
    if arr.ndim > 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise_error(ArgumentError, op, f"expects an int or a sequence of ints, got {values!r}")
    return [int(v) for v in arr.reshape(-1)]


def repeat(x, repeats, axis: int | None = None) -> Tensor:
    """Repeat each element of `x` along `axis` as `np.repeat` (`axis=None` flattens first).

    `repeats` is an int or one Python int per element along the axis.

    Example:
        >>> nb.repeat(nb.tensor([1, 2]), [1, 3]).numpy()
        array([1, 2, 2, 2], dtype=int32)
    """
    x = to_tensor(x, "repeat")
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    if x.ndim == 0:
        raise_error(AxisError, "repeat", f"axis {axis} is out of range for a 0-d tensor")
    ax = canonical_axis("repeat", axis, x.ndim)
    counts = _static_ints("repeat", repeats)
    n = x.shape[ax]
    if any(c < 0 for c in counts):
        raise_error(ShapeError, "repeat", f"repeats must not be negative, got {repeats!r}")
    if len(counts) == 1:
        r = counts[0]
        if r == 1:
            return x
        # x[..., i, j, ...] for j < r, then merge (i, j): each element r times in a row.
        wide = x.shape[:ax + 1] + (r,) + x.shape[ax + 1:]
        dims = tuple(range(ax + 1)) + tuple(range(ax + 2, x.ndim + 1))
        out = broadcast_in_dim(x, wide, dims)
        return reshape(out, x.shape[:ax] + (n * r,) + x.shape[ax + 1:])
    if len(counts) != n:
        raise_error(ShapeError, "repeat", f"{len(counts)} repeats do not match axis {ax} of "
                    f"{_short(x)} (size {n})")
    return take_static(x, ax, [i for i, c in enumerate(counts) for _ in range(c)])


def tile(x, reps) -> Tensor:
    """Repeat the whole of `x` `reps[i]` times along axis i, as `np.tile` (a shorter `reps`
    is padded with leading 1s; a longer one gives `x` leading axes).

    Example:
        >>> nb.tile(nb.tensor([1, 2]), (2, 2)).numpy()
        array([[1, 2, 1, 2],
               [1, 2, 1, 2]], dtype=int32)
    """
    x = to_tensor(x, "tile")
    reps = _static_ints("tile", reps)
    if any(r < 0 for r in reps):
        raise_error(ShapeError, "tile", f"reps must not be negative, got {tuple(reps)}")
    ndim = max(len(reps), x.ndim)
    reps = [1] * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    # Broadcast into (r0, d0, r1, d1, ...) (a new axis only where r != 1), then merge pairs.
    wide, dims = [], []
    for r, d in zip(reps, shape):
        if r != 1:
            wide.append(r)
        dims.append(len(wide))
        wide.append(d)
    if len(wide) == ndim:
        return reshape(x, shape)
    out = broadcast_in_dim(reshape(x, shape), wide, dims)
    return reshape(out, tuple(r * d for r, d in zip(reps, shape)))


__all__ = ["pad", "repeat", "tile"]
