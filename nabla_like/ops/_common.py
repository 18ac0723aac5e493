"""Helpers shared by the op families: argument conversion, promotion, broadcasting,
axis checks, and the rule factories of the elementwise family."""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from .. import creation as _creation
from ..core import Context, Primitive, bind, context_of, full_in, record
from ..dtypes import DType, as_dtype, result_type, scalar_dtype
from ..args import as_bool, as_int  # noqa: F401  (re-exported to the families)
from ..errors import ArgumentError, AxisError, DTypeError, NablaError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor

_SCALARS = (int, float, bool, np.generic)


def is_scalar(x) -> bool:
    return isinstance(x, _SCALARS) and not isinstance(x, Tensor)


def to_tensor(x, op: str = "op", ctx: Context | None = None) -> Tensor:
    """`x` as a Tensor: Python scalars become weak constants in `ctx`, arrays lazy leaves."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool)):
        if ctx is None:
            ctx = context_of(())
        return full_in(ctx, (), x, scalar_dtype(x), weak=True, op=op)
    if x is None:
        raise_error(DTypeError, op, "got None where a tensor is needed (a .grad read before "
                    "backward() filled it, or a function that returned nothing?)")
    try:
        return _creation.tensor(x)
    except (TypeError, ValueError) as e:
        if isinstance(e, NablaError) and op == "op":
            raise
        why = str(e).split("\n")[0].removeprefix("tensor: ")
        raise_error(DTypeError, op, f"cannot use a {type(x).__name__} as a tensor operand ({why})")


def fmt_shapes(*xs) -> str:
    return ", ".join(x._value.aval.short() if isinstance(x, Tensor) else repr(x) for x in xs)


def broadcast_shapes(op: str, *shapes: tuple[int, ...], operands=None) -> tuple[int, ...]:
    """NumPy broadcasting of shapes; a ShapeError names the op and the operands."""
    if len(shapes) == 1:
        return shapes[0]
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        d = 1
        for s in shapes:
            k = i - (ndim - len(s))
            if k < 0:
                continue
            e = s[k]
            if e == d or e == 1:
                continue
            if d == 1:
                d = e
            else:
                desc = fmt_shapes(*operands) if operands else ", ".join(map(str, shapes))
                raise_error(ShapeError, op, f"operands could not be broadcast together: {desc} "
                            f"(dimension {i - ndim} is {d} in one and {e} in another)")
        out.append(d)
    return tuple(out)


def broadcast_to_shape(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    xs = x._value.aval.shape
    if xs == shape:
        return x
    squeezed, dims = _broadcast_plan(xs, shape)
    if squeezed is not None:  # drop the size-1 dims that get broadcast
        x = _shape.reshape(x, squeezed)
    # (straight to the primitive: shape and dims are well formed here, and its shape rule
    # checks the rest, the result's byte size included)
    return bind(_shape.broadcast_in_dim_p, x, shape=shape, broadcast_dimensions=dims)


@functools.lru_cache(maxsize=4096)
def _broadcast_plan(xs: tuple[int, ...], shape: tuple[int, ...]):
    """How `xs` broadcasts to `shape`: the shape without its broadcast size-1 dims (None if
    none) and where the kept dims go."""
    nlead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[nlead + i]]
    squeezed = tuple(xs[i] for i in keep) if len(keep) != len(xs) else None
    return squeezed, tuple(nlead + i for i in keep)


@functools.lru_cache(maxsize=4096)
def _pair_shape(sx: tuple[int, ...], sy: tuple[int, ...]) -> tuple[int, ...] | None:
    """The broadcast shape of two shapes, None if they do not broadcast."""
    n = max(len(sx), len(sy))
    px, py = (1,) * (n - len(sx)) + sx, (1,) * (n - len(sy)) + sy
    out = []
    for a, b in zip(px, py):
        if a != b and a != 1 and b != 1:
            return None
        out.append(b if a == 1 else a)
    return tuple(out)


def cast(x: Tensor, dtype: DType, weak: bool = False) -> Tensor:
    aval = x._value.aval
    if aval.dtype is dtype and aval.weak == weak:
        return x
    return _ew.convert(x, dtype, weak=weak)


def promote(op: str, *args, kinds: str | None = None, dtype: DType | None = None) -> list[Tensor]:
    """Convert, promote and broadcast the operands of an elementwise op.

    Python scalars are weak: they take the dtype of the tensor operands and are
    created directly at the broadcast shape.
    """
    if len(args) == 2 and dtype is None:
        fast = _promote_pair(op, args[0], args[1], kinds)
        if fast is not None:
            return fast
    ctx = context_of(args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    # Fast path: tensors of one aval and nothing else.
    if len(tensors) == len(args) and dtype is None:
        a0 = tensors[0]._value.aval
        if all(t._value.aval == a0 for t in tensors):
            if kinds is not None and a0.dtype.kind not in kinds:
                _bad_kind(op, kinds, tensors)
            return list(tensors)
    converted = []
    for a in args:
        if isinstance(a, Tensor) or is_scalar(a):
            converted.append(a)
        else:
            converted.append(to_tensor(a, op, ctx))
    pairs = []
    for a in converted:
        if isinstance(a, Tensor):
            pairs.append((a.dtype, a._value.aval.weak))
        else:
            # NumPy scalars are strong and keep their dtype (NEP 50), Python scalars are weak
            pairs.append((as_dtype(a.dtype), False) if isinstance(a, np.generic)
                         else (scalar_dtype(a), True))
    if dtype is None:
        out_dtype, weak = result_type(*pairs)
    else:
        out_dtype, weak = dtype, False
    if kinds is not None and out_dtype.kind not in kinds:
        _bad_kind(op, kinds, converted)
    shape = broadcast_shapes(op, *[a.shape if isinstance(a, Tensor) else () for a in converted],
                             operands=converted)
    out = []
    for a in converted:
        if isinstance(a, Tensor):
            a = cast(a, out_dtype, weak)
            out.append(broadcast_to_shape(a, shape))
        else:
            value = a.item() if isinstance(a, np.generic) else a
            out.append(full_in(ctx, shape, value, out_dtype, weak, op=op))
    return out


_SCALAR_KIND = {float: "f", int: "i", bool: "b"}
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2}


def _promote_pair(op: str, x, y, kinds):
    """The common cases without the general machinery: two tensors of one aval, or a
    tensor and a Python scalar whose kind does not promote it. None if not applicable."""
    tx, ty = type(x) is Tensor, type(y) is Tensor
    if tx and ty:
        ax, ay = x._value.aval, y._value.aval
        if ax is ay or ax == ay:
            if kinds is not None and ax.dtype.kind not in kinds:
                return None
            return [x, y]
        if ax.dtype is ay.dtype and ax.weak == ay.weak and (kinds is None or ax.dtype.kind in kinds):
            # one dtype, two shapes: broadcasting only
            shape = _pair_shape(ax.shape, ay.shape)
            if shape is None:
                broadcast_shapes(op, ax.shape, ay.shape, operands=(x, y))  # raises
            return [broadcast_to_shape(x, shape), broadcast_to_shape(y, shape)]
        return None
    if tx:
        t, s, first = x, y, True
    elif ty:
        t, s, first = y, x, False
    else:
        return None
    sk = _SCALAR_KIND.get(type(s))
    aval = t._value.aval
    dtype = aval.dtype
    if sk is None or _KIND_RANK[sk] > _KIND_RANK[dtype.kind]:
        return None
    if kinds is not None and dtype.kind not in kinds:
        return None
    c = full_in(t._value.ctx, aval.shape, s, dtype, aval.weak, op=op)
    return [t, c] if first else [c, t]


def _bad_kind(op: str, kinds: str, operands) -> None:
    names = {"f": "floating", "i": "signed integer", "u": "unsigned integer", "b": "bool"}
    allowed = " or ".join(names[k] for k in kinds)
    raise_error(DTypeError, op, f"expects {allowed} operands, got {fmt_shapes(*operands)}")


def canonical_axis(op: str, axis: int, ndim: int, name: str = "axis") -> int:
    """`axis` as a non-negative axis of a rank-`ndim` tensor (0-d tensors take 0 and -1)."""
    if type(axis) is not int:
        if isinstance(axis, (tuple, list)):
            raise_error(AxisError, op, f"takes a single {name} (an int), got {axis!r}")
        axis = as_int(op, name, axis)
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise_error(AxisError, op, f"{name} {axis} is out of range for a tensor of rank {ndim}")
    return axis % ndim if ndim else 0


def canonical_axes(op: str, axis, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """None -> all axes; int or sequence -> sorted, unique, non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int or not isinstance(axis, (tuple, list)):
        if isinstance(axis, (str, bytes)) or not hasattr(axis, "__index__"):
            raise_error(ArgumentError, op, f"{name} must be an int, a tuple of ints or None, "
                        f"got {axis!r}")
        axis = (axis,)
    out = []
    for a in axis:
        if type(a) is not int:
            a = as_int(op, name, a)
        if not -ndim <= a < ndim:
            raise_error(AxisError, op, f"{name} {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise_error(AxisError, op, f"repeated axis in {tuple(axis)}")
    return tuple(sorted(out))


# ---------------------------------------------------------------------------
# Elementwise family: one abstract-eval and one batching rule for all
# ---------------------------------------------------------------------------
def elementwise_abstract_eval(name: str, kinds: str | None = None, out_dtype: DType | None = None):
    def rule(*avals: Aval, **params) -> Aval:
        a0 = avals[0]
        weak = a0.weak
        for a in avals[1:]:
            if a is not a0:
                if a.shape != a0.shape or a.dtype is not a0.dtype:
                    raise_error(ShapeError, name, f"operands must have equal shapes and dtypes, "
                                f"got {', '.join(a.short() for a in avals)}")
                weak = weak and a.weak
        if kinds is not None and a0.dtype.kind not in kinds:
            _bad_kind(name, kinds, [])
        if out_dtype is not None:
            return Aval(a0.shape, out_dtype, False)
        return a0 if weak == a0.weak else Aval(a0.shape, a0.dtype, weak)
    return rule


def move_bdim(x: Tensor, bdim: int | None, to: int, size: int) -> Tensor:
    """Put the batch dimension of `x` at position `to` (broadcasting if `x` is unbatched)."""
    if bdim is None:
        shape = list(x.shape)
        shape.insert(to, size)
        dims = tuple(i if i < to else i + 1 for i in range(x.ndim))
        return _shape.broadcast_in_dim(x, tuple(shape), dims)
    if bdim == to:
        return x
    return _shape.moveaxis(x, bdim, to)


def batch_size(args: Sequence[Tensor], bdims: Sequence[int | None]) -> int:
    for a, d in zip(args, bdims):
        if d is not None:
            return a.shape[d]
    raise ValueError("no batched argument")


def elementwise_batch(prim: Primitive):
    """Batching rule for any elementwise primitive: align batch dims, then apply."""
    def rule(args, bdims, **params):
        first = next(d for d in bdims if d is not None)
        if all(d == first for d in bdims):
            out = bind(prim, *args, **params)
            return (out, first) if not prim.multiple_results else (out, (first,) * len(out))
        size = batch_size(args, bdims)
        moved = [move_bdim(a, d, 0, size) for a, d in zip(args, bdims)]
        out = bind(prim, *moved, **params)
        return (out, 0) if not prim.multiple_results else (out, (0,) * len(out))
    return rule


def elementwise_primitive(name: str, kinds: str | None = None, *, nargs: int = 1,
                          out_dtype: DType | None = None, differentiable: bool = True,
                          linear: bool = False, multiple_results: bool = False) -> Primitive:
    p = Primitive(name, differentiable=differentiable, linear=linear,
                  multiple_results=multiple_results)
    p.def_abstract_eval(elementwise_abstract_eval(name, kinds, out_dtype))
    p.def_batch(elementwise_batch(p))
    if not differentiable:
        p.def_jvp(lambda primals, tangents, outs, **params: None)
        p.def_vjp(lambda ct, primals, outs, **params: (None,) * len(primals))
    return p


def add_any(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    """Sum of two tangents/cotangents where None is a symbolic zero."""
    if a is None:
        return b
    if b is None:
        return a
    return _ew.add(a, b)


def unbroadcast(ct: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum `ct` over the dims that broadcasting added to reach its shape from `shape`."""
    if ct.shape == shape:
        return ct
    nlead = ct.ndim - len(shape)
    axes = tuple(range(nlead)) + tuple(nlead + i for i, d in enumerate(shape)
                                       if d == 1 and ct.shape[nlead + i] != 1)
    out = _reduce.reduce_sum(ct, axes)
    return _shape.reshape(out, shape) if out.shape != shape else out


__all__ = ["to_tensor", "promote", "broadcast_shapes", "canonical_axis", "canonical_axes",
           "elementwise_primitive", "add_any", "unbroadcast", "move_bdim", "cast", "record",
           "as_dtype"]

# The families this module's helpers build on, bound once they exist (they import this
# module first): calls look them up as module attributes, not with an import per call.
from . import elementwise as _ew, reduce as _reduce, shape as _shape  # noqa: E402
