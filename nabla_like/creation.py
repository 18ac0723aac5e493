"""Creating tensors: from host data (NumPy, lists, DLPack) and from shapes.

Host data is copied at the call into an aligned host buffer that nothing else
references (then a zero-copy device buffer on the CPU): writing to the source
afterwards never changes the tensor or a pending computation that reads it.
Constant splats such as `zeros` are literal leaves: they cost nothing until used.

Every function checks its non-tensor arguments first (`args.py`), and refuses
shapes whose byte size overflows int64 (XLA would abort the process) and
Python numbers that do not fit the dtype (RangeError, as NumPy 2's OverflowError).
"""
from __future__ import annotations

import functools
import inspect
import math

import numpy as np

from .lowering import runtime

from .args import as_bool, as_int, as_scalar, check_size
from .core import Primitive, bind, current_context, full_in
from .core import _tls
from .placement import get_default_device, requested_device, to_device
from .dtypes import (
    ALL_DTYPES,
    DType,
    as_dtype,
    default_float,
    default_int,
    float32,
    float64,
    int32,
    int64,
)
from .errors import ArgumentError, AxisError, DTypeError, RangeError, ShapeError, raise_error
from .ir import Aval, Value, interned_aval
from .lazy import LAZY
from .tensor import Tensor

_INT32_MAX = 2**31 - 1
_INT64 = np.iinfo(np.int64)


# ---------------------------------------------------------------------------
# Checked arguments: dtypes, shapes, fill values, requires_grad
# ---------------------------------------------------------------------------
def _dtype_arg(op: str, dtype, default: DType | None = None) -> DType | None:
    """`dtype` as a DType (`default` when None); an unknown one raises naming `op`."""
    if dtype is None:
        return default
    try:
        return as_dtype(dtype, quiet=True)
    except (TypeError, ValueError):
        names = ", ".join(d.name for d in ALL_DTYPES)
        raise_error(DTypeError, op, f"unknown dtype {dtype!r}; expected one of {names}")


def _is_dtype_like(x) -> bool:
    return isinstance(x, (DType, str, np.dtype, type))


def shape_arg(op: str, shape, dtype: DType | None = None) -> tuple[int, ...]:
    """`shape` (an int, or a sequence of ints) as a tuple of non-negative ints.

    A shape whose byte size (with `dtype`'s items; one byte each without) overflows
    int64 raises ShapeError here, at the call, instead of aborting XLA later.
    """
    if not (type(shape) is tuple and all(type(d) is int and d >= 0 for d in shape)):
        shape = _checked_dims(op, shape)
    check_size(op, shape, 1 if dtype is None else dtype.np.itemsize)
    return shape


def _checked_dims(op: str, shape) -> tuple[int, ...]:
    dims = list(shape) if isinstance(shape, (list, tuple, np.ndarray)) else [shape]
    out = []
    for d in dims:
        if isinstance(d, (bool, np.bool_, float, np.floating)) or not hasattr(d, "__index__"):
            raise_error(ShapeError, op, f"shape {shape!r} must hold integers, got {d!r} "
                        f"of type {type(d).__name__}")
        d = as_int(op, "shape", d)  # a traced dimension raises ConcretizationError here
        if d < 0:
            raise_error(ShapeError, op, f"negative dimension {d} in shape {tuple(dims)}")
        out.append(d)
    return tuple(out)


def _shape_varargs(op: str, dims: tuple, shape, dtype) -> tuple[tuple[int, ...], DType]:
    """The shape and DType of `zeros(2, 3)`, `zeros((2, 3))`, `zeros([2, 3])`,
    `zeros(shape=(2, 3))` and NumPy's `zeros((2, 3), nb.int32)` (float32 by default)."""
    if shape is not None:
        if dims:
            raise_error(ArgumentError, op, f"give the shape once: as sizes {dims} or as "
                        f"shape={shape!r}, not both")
        dims = (shape,)
    if len(dims) == 1:
        dims = dims[0]
    elif len(dims) == 2 and dtype is None and _is_dtype_like(dims[1]):
        dims, dtype = dims
    dtype = _dtype_arg(op, dtype, default_float)
    return shape_arg(op, dims, dtype), dtype


def _static_scalar(op: str, name: str, x):
    """A Python number from a Python/NumPy scalar or a concrete one-element tensor."""
    if isinstance(x, Tensor):
        x = x.item()  # raises ConcretizationError while tracing
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise_error(DTypeError, op, f"{name} must be a Python int or float, got {x!r} "
                    f"of type {type(x).__name__}")
    if isinstance(x, float) and not math.isfinite(x):
        raise_error(ShapeError, op, f"{name} must be finite, got {x}")
    return x


def _check_int_range(op: str, what: str, low, high, dtype: DType) -> None:
    """Values from `low` to `high` (Python numbers) must fit the integer `dtype`."""
    info = np.iinfo(dtype.np)
    if low < info.min or high > info.max:
        span = f"{low}" if low == high else f"from {low} to {high}"
        raise_error(RangeError, op, f"{what} {span} is out of bounds for {dtype.name} "
                    f"[{info.min}, {info.max}]")


def _checked_fill(op: str, value, dtype: DType):
    """`value` (a Python or NumPy scalar) as a Python scalar to fill a `dtype` tensor with.
    NaN and inf cannot fill an integer tensor; a number `dtype` cannot hold raises
    RangeError in `full_in` (as NumPy 2's OverflowError) instead of wrapping in XLA."""
    if isinstance(value, np.generic):
        value = value.item()
    if dtype.kind in "iu" and isinstance(value, float) and not math.isfinite(value):
        raise_error(DTypeError, op, f"cannot fill an {dtype.name} tensor with {value}")
    return value


def _python_int_dtype(op: str, value: int) -> DType:
    """int32 for Python ints that fit it, else int64 (as `tensor` does); larger raises."""
    if -_INT32_MAX - 1 <= value <= _INT32_MAX:
        return default_int
    _check_int_range(op, "Python integer", value, value, int64)
    return int64


def _scalar_dtype(op: str, value) -> DType:
    """The dtype a fill value gives a new tensor: NumPy scalars keep theirs; Python bools
    give bool, ints int32 (int64 past int32), floats float32."""
    if isinstance(value, np.generic):
        return _dtype_arg(op, value.dtype)
    if isinstance(value, bool):
        return as_dtype("bool")
    if isinstance(value, int):
        return _python_int_dtype(op, value)
    if isinstance(value, float):
        return default_float
    raise_error(DTypeError, op, f"cannot fill a tensor with {value!r} of type "
                f"{type(value).__name__}")


def _grad_flag(op: str, requires_grad, dtype: DType) -> bool:
    """`requires_grad` checked: a bool, and True only for floating-point dtypes (as torch)."""
    flag = as_bool(op, "requires_grad", requires_grad)
    if flag and dtype.kind != "f":
        raise_error(DTypeError, op, f"only floating-point tensors can require gradients, "
                    f"got dtype {dtype.name}")
    return flag


def _leaf(out: Tensor, requires_grad: bool, source=None) -> Tensor:
    """`out`, made a leaf that requires grad when `requires_grad` is set."""
    if not requires_grad:
        return out
    v = out._value
    if out is source or v.requires_grad or v.ctx.level != 0:
        # a new Value: the history of `source` is cut, and a trace's shared constants stay
        out = out.detach()
    return out.requires_grad_()


# ---------------------------------------------------------------------------
# From host data
# ---------------------------------------------------------------------------
def _host_to_tensor(array: np.ndarray, owned: bool = False, device=None) -> Tensor:
    """A materialized leaf holding `array`'s values on `device` (default: this thread's
    default device). Unless `owned` (an array this module just made, which nobody else can
    write), the data is copied: a snapshot."""
    if not array.dtype.isnative:  # big-endian data: the same values in machine byte order
        array, owned = array.astype(array.dtype.newbyteorder("=")), True
    dtype = as_dtype(array.dtype)
    if not (owned and runtime.is_aligned(array)):
        array = runtime.aligned_copy(np.asarray(array))
    v = Value(interned_aval(tuple(int(d) for d in array.shape), dtype), None, 0, LAZY)
    v.device = device or get_default_device()
    v.buffer = v.device.put(array)
    return Tensor._wrap(v)


_FRESH = (list, tuple, int, float, bool)  # np.asarray of these always allocates


def _infer_host(op: str, data, dtype: DType | None) -> tuple[np.ndarray, bool]:
    """`data` as a NumPy array of `dtype` (or the default one), and whether the array is
    new (not memory of the caller's)."""
    if data is None:
        raise_error(DTypeError, op, "cannot make a tensor from None")
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        if dtype is not None:
            if array.dtype == dtype.np:
                return array, False
            try:  # NumPy's cast (wrapping, as np.asarray(a, dtype) and torch do for arrays)
                return array.astype(dtype.np), True
            except OverflowError as e:
                raise_error(RangeError, op, f"a value does not fit {dtype.name}: {e}")
            except (TypeError, ValueError) as e:
                raise_error(DTypeError, op, f"cannot convert a {array.dtype} array to "
                            f"{dtype.name}: {e}")
        if array.dtype.kind not in "biuf" and array.dtype != as_dtype("bfloat16").np:
            raise_error(DTypeError, op, f"unsupported NumPy dtype {array.dtype}")
        return array, False
    fresh = isinstance(data, _FRESH)
    try:
        array = np.asarray(data, dtype=None if dtype is None else dtype.np)
    except OverflowError as e:  # a Python number the dtype cannot hold
        why = str(e) if dtype.name in str(e) else f"{e} (converting to {dtype.name})"
        raise_error(RangeError, op, why)
    except (TypeError, ValueError) as e:
        raise_error(DTypeError, op, f"cannot make a tensor from {type(data).__name__}: {e}")
    if dtype is not None:
        return array, fresh
    # Python data takes the default types, as Python scalars do in ops.
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(default_float.np), True
    if kind in "iu":
        if array.size and int(array.max()) > _INT64.max:  # NumPy made uint64 of huge ints
            _check_int_range(op, "Python integer", int(array.max()), int(array.max()), int64)
        if array.size and (array.min() < -_INT32_MAX - 1 or array.max() > _INT32_MAX):
            return array.astype(int64.np), True
        return array.astype(default_int.np, copy=False), fresh or array.dtype != default_int.np
    if kind == "b":
        return array, fresh
    if kind == "O":
        ints = [v for v in array.flat if isinstance(v, int) and not isinstance(v, bool)]
        if ints and len(ints) == array.size:  # Python ints past int64
            bad = next((v for v in ints if not _INT64.min <= v <= _INT64.max), 0)
            _check_int_range(op, "Python integer", bad, bad, int64)
    raise_error(DTypeError, op, f"cannot make a tensor from {type(data).__name__} "
                f"(NumPy sees dtype {array.dtype})")


def _contains_tensor(data) -> bool:
    if isinstance(data, Tensor):
        return True
    if isinstance(data, (list, tuple)):
        return any(_contains_tensor(d) for d in data)
    return False


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor holding a copy of `data` (NumPy array, nested lists, scalar, DLPack object).

    Python floats give float32 and ints int32 (int64 past int32) unless `dtype` says
    otherwise; NumPy arrays keep their dtype (float64 stays float64). A Python number
    that does not fit the dtype raises RangeError (an OverflowError, as in NumPy 2).
    The data is copied at the call: later writes to `data` do not change the tensor.
    `requires_grad=True` makes it a leaf parameter whose `.grad` backward() fills (a
    tensor given as `data` is detached first); only floating-point dtypes can.

    Example:
        >>> nb.tensor([[1, 2], [3, 4]], dtype=nb.float32)
        Tensor(
        [[1. 2.]
         [3. 4.]] : f32[2,2]
        )
        >>> nb.tensor(np.array([1.0, 2.0])), nb.tensor(3)
        (Tensor([1. 2.] : f64[2]), Tensor(3 : i32[]))
        >>> w = nb.tensor([0.5, -1.0], requires_grad=True)
        >>> w.requires_grad
        True
    """
    dtype = _dtype_arg("tensor", dtype)
    flag = as_bool("tensor", "requires_grad", requires_grad)
    out = _tensor("tensor", data, dtype)
    _grad_flag("tensor", flag, out.dtype)
    return _leaf(out, flag, data)


def _tensor(op: str, data, dtype: DType | None) -> Tensor:
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, (list, tuple)) and _contains_tensor(data):
        from .ops.shape import stack
        out = stack([_tensor(op, d, None) for d in data])
        return out if dtype is None else out.astype(dtype)
    if hasattr(data, "__dlpack__") and not isinstance(data, (np.ndarray, np.generic)):
        out = _from_dlpack(op, data)
        return out if dtype is None else out.astype(dtype)
    return _host_to_tensor(*_infer_host(op, data, dtype))


def asarray(data, dtype=None) -> Tensor:
    """`data` as a tensor: a tensor is returned as is, anything else converted as `tensor`.

    NumPy data is copied at the call (a snapshot), unlike np.asarray: writing to the
    array afterwards changes neither the tensor nor a pending computation reading it.

    Example:
        >>> a = np.ones(3, np.float32)
        >>> t = nb.asarray(a)
        >>> a[:] = 0.0
        >>> t.numpy()
        array([1., 1., 1.], dtype=float32)
    """
    return _tensor("asarray", data, _dtype_arg("asarray", dtype))


def from_dlpack(x) -> Tensor:
    """A tensor holding a copy of any CPU DLPack producer's data (NumPy, PyTorch, ...).

    The data is copied at the call (a snapshot): later writes to `x` do not change the
    tensor or a pending computation that reads it.

    Example:
        >>> nb.Tensor.from_dlpack(np.arange(3.0))
        Tensor([0. 1. 2.] : f64[3])
    """
    if isinstance(x, Tensor):
        return x
    return _from_dlpack("from_dlpack", x)


def _from_dlpack(op: str, x) -> Tensor:
    if not hasattr(x, "__dlpack__"):
        raise_error(ArgumentError, op, f"expects an object with __dlpack__ (a NumPy array, a "
                    f"PyTorch tensor...), got {type(x).__name__}")
    try:
        host = np.from_dlpack(x)
    except (BufferError, RuntimeError, TypeError, ValueError, AttributeError) as e:
        raise_error(ArgumentError, op, f"cannot read a {type(x).__name__} through DLPack: {e}")
    if host.dtype.kind not in "biuf" and host.dtype != as_dtype("bfloat16").np:
        raise_error(DTypeError, op, f"unsupported dtype {host.dtype}")
    return _host_to_tensor(host)


Tensor.from_dlpack = staticmethod(from_dlpack)


def _update_value(op: str, value, x: Tensor):
    """An update value for `x` (`x[idx] = value`): a tensor as is, a Python/NumPy scalar as
    a constant of x's dtype (checked to fit), other data converted as `tensor` does."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return _tensor(op, value, x.dtype)
    value = _checked_fill(op, as_scalar(op, "value", value), x.dtype)
    return full_in(x._value.ctx, (), value, x.dtype, op=op)


# ---------------------------------------------------------------------------
# From shapes
# ---------------------------------------------------------------------------
def zeros(*dims, shape=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless `dtype` is given).

    The shape is an int, a tuple, varargs or a keyword: `zeros(2, 3)`, `zeros((2, 3))`,
    `zeros(shape=(2, 3))`, and NumPy's `zeros((2, 3), nb.int32)`. `requires_grad=True`
    makes it a leaf parameter (floating-point dtypes only).

    Example:
        >>> nb.zeros((2, 3)).shape
        (2, 3)
        >>> nb.zeros(shape=(2,), requires_grad=True).requires_grad
        True
    """
    shape, dtype = _shape_varargs("zeros", dims, shape, dtype)
    flag = _grad_flag("zeros", requires_grad, dtype)
    return _leaf(full_in(current_context(), shape, 0, dtype), flag)


def ones(*dims, shape=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 unless `dtype` is given); shapes and `requires_grad` as
    in `zeros`.

    Example:
        >>> nb.ones(2, dtype=nb.int32).numpy()
        array([1, 1], dtype=int32)
    """
    shape, dtype = _shape_varargs("ones", dims, shape, dtype)
    flag = _grad_flag("ones", requires_grad, dtype)
    return _leaf(full_in(current_context(), shape, 1, dtype), flag)


def _filled(op: str, shape, fill_value, dtype: DType | None, requires_grad) -> Tensor:
    """`shape` filled with `fill_value` (a scalar, or data broadcast to `shape`); the
    dtype is `dtype`, or the fill value's."""
    if isinstance(fill_value, (Tensor, np.ndarray, list, tuple)):
        from .ops.shape import broadcast_to
        t = _tensor(op, fill_value, dtype)
        shape = shape_arg(op, shape, t.dtype)
        flag = _grad_flag(op, requires_grad, t.dtype)
        return _leaf(broadcast_to(t, shape), flag, fill_value)
    fill_value = as_scalar(op, "fill_value", fill_value)
    dtype = _scalar_dtype(op, fill_value) if dtype is None else dtype
    shape = shape_arg(op, shape, dtype)
    flag = _grad_flag(op, requires_grad, dtype)
    value = _checked_fill(op, fill_value, dtype)
    return _leaf(full_in(current_context(), shape, value, dtype, op=op), flag)


def full(shape, fill_value, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value`.

    Without `dtype`, a Python bool gives bool, an int int32 (int64 past int32) and a
    float float32; NumPy scalars keep their dtype. A tensor (or array) fill value is
    broadcast. An integer fill value the dtype cannot hold raises RangeError.

    Example:
        >>> nb.full((2, 3), 7.0).numpy()[0]
        array([7., 7., 7.], dtype=float32)
    """
    return _filled("full", shape, fill_value, _dtype_arg("full", dtype), requires_grad)


def _like_shape_dtype(op: str, x, dtype) -> tuple[tuple[int, ...], DType]:
    dtype = _dtype_arg(op, dtype)
    if isinstance(x, Tensor):
        aval = x._value.aval
        return aval.shape, aval.dtype if dtype is None else dtype
    if not isinstance(x, (np.ndarray, np.generic)):
        x, _ = _infer_host(op, x, None)  # lists and scalars take the types `tensor` gives
    return tuple(int(d) for d in x.shape), _dtype_arg(op, x.dtype) if dtype is None else dtype


def zeros_like(x, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and dtype of `x` (or `dtype`).

    Example:
        >>> nb.zeros_like(nb.ones((2, 2), dtype=nb.int32)).dtype
        nb.int32
    """
    shape, dtype = _like_shape_dtype("zeros_like", x, dtype)
    flag = _grad_flag("zeros_like", requires_grad, dtype)
    return _leaf(full_in(current_context(), shape, 0, dtype), flag)


def ones_like(x, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and dtype of `x` (or `dtype`).

    Example:
        >>> nb.ones_like(nb.zeros(3)).numpy()
        array([1., 1., 1.], dtype=float32)
    """
    shape, dtype = _like_shape_dtype("ones_like", x, dtype)
    flag = _grad_flag("ones_like", requires_grad, dtype)
    return _leaf(full_in(current_context(), shape, 1, dtype), flag)


def full_like(x, fill_value, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """A tensor shaped like `x` filled with `fill_value` (dtype of `x` unless given).

    Example:
        >>> nb.full_like(nb.zeros((2,), dtype=nb.int32), 7).numpy()
        array([7, 7], dtype=int32)
    """
    shape, dtype = _like_shape_dtype("full_like", x, dtype)
    return _filled("full_like", shape, fill_value, dtype, requires_grad)


# ---------------------------------------------------------------------------
# iota and the ranges built on it
# ---------------------------------------------------------------------------
iota_p = Primitive("iota", differentiable=False)


@iota_p.def_abstract_eval
def _iota_abstract_eval(*, shape, dimension, dtype) -> Aval:
    return Aval(shape, dtype)


iota_p.def_jvp(lambda primals, tangents, outs, **params: None)
iota_p.def_vjp(lambda ct, primals, outs, **params: ())
# iota has no operands, so nothing it reads can be batched; the rule exists for the registry.
iota_p.def_batch(lambda args, bdims, **params: (bind(iota_p, **params), None))


def iota(shape, dimension: int = 0, dtype=None) -> Tensor:
    """Integers counting 0, 1, ... along `dimension` of a tensor of `shape` (int32 default).

    Example:
        >>> nb.iota((2, 3), 1).numpy()
        array([[0, 1, 2],
               [0, 1, 2]], dtype=int32)
    """
    dtype = _dtype_arg("iota", dtype, default_int)
    shape = shape_arg("iota", shape, dtype)
    dimension = as_int("iota", "dimension", dimension)
    if not 0 <= dimension < max(len(shape), 1) or not shape:
        raise_error(AxisError, "iota", f"dimension {dimension} is out of range for shape {shape}")
    if dtype.kind == "b":
        raise_error(DTypeError, "iota", "iota needs a numeric dtype, got bool")
    return bind(iota_p, shape=shape, dimension=dimension, dtype=dtype)


def _wrap_int(value: int, dtype: DType) -> int:
    """`value` modulo the range of the integer `dtype` (what arithmetic in it computes)."""
    lo = int(np.iinfo(dtype.np).min)
    return (value - lo) % (1 << dtype.bits) + lo


def arange(start, stop=None, step=1, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop) (NumPy's arange).

    Integer arguments give int32 (int64 past int32), any float argument float32,
    unless `dtype` says otherwise. The length is ceil((stop - start) / step), at least
    0. Values an integer dtype cannot hold raise RangeError (NumPy would wrap them).

    Example:
        >>> nb.arange(1, 10, 3).numpy()
        array([1, 4, 7], dtype=int32)
    """
    op = "arange"
    dtype = _dtype_arg(op, dtype)
    if stop is None:
        start, stop = 0, start
    start = _static_scalar(op, "start", start)
    stop = _static_scalar(op, "stop", stop)
    step = _static_scalar(op, "step", step)
    if step == 0:
        raise_error(ShapeError, op, "step must not be zero")
    all_int = isinstance(start, int) and isinstance(stop, int) and isinstance(step, int)
    if all_int:
        n = max(0, -((start - stop) // step))
    else:
        try:
            count = math.ceil((stop - start) / step)
        except (OverflowError, ValueError):  # (stop - start) / step is not finite
            raise_error(ShapeError, op, f"arange({start}, {stop}, {step}) has too many values")
        n = max(0, int(count))
    if dtype is None:
        if all_int:
            last = start + (n - 1) * step if n else start
            dtype = default_int if -2**31 <= min(start, last) <= max(start, last) < 2**31 else int64
        else:
            dtype = default_float
    if dtype.kind == "b":
        raise_error(DTypeError, op, "arange needs a numeric dtype, got bool")
    shape = shape_arg(op, (n,), dtype)
    flag = _grad_flag(op, requires_grad, dtype)
    # As NumPy: the first two values are rounded to `dtype`, then value i = first + i * delta
    # with delta = second - first computed in `dtype`.
    if dtype.kind in "iu":
        first, second = math.trunc(start), math.trunc(start + step)
        if n:
            last = first + (n - 1) * (second - first)
            _check_int_range(op, "values", min(first, last), max(first, last), dtype)
        # Arithmetic in the dtype wraps: a delta taken modulo its range gives the same values.
        delta = _wrap_int(second - first, dtype)
    else:
        try:
            first = float(np.float64(start).astype(dtype.np))
            delta = float((np.float64(start + step).astype(dtype.np) - np.float64(first))
                          .astype(dtype.np))
        except OverflowError:
            raise_error(RangeError, op, f"arange({start}, {stop}, {step}) does not fit "
                        f"{dtype.name}")
    from .ops.elementwise import add, cast, mul
    # Half-precision ranges are computed in float32 and rounded once, as NumPy does.
    compute = float32 if dtype.kind == "f" and dtype.bits < 32 else dtype
    out = iota(shape, 0, compute)
    if delta != 1:
        out = mul(out, delta)
    if first != 0:
        out = add(out, first)
    return _leaf(cast(out, dtype), flag)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, *,
             requires_grad: bool = False) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` (included unless `endpoint=False`).

    Values are computed in float64 as NumPy does and rounded to `dtype` (float32
    by default; integer dtypes take the floor, and raise RangeError past their range).

    Example:
        >>> nb.linspace(0.0, 1.0, 5).numpy()
        array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    from .ops.elementwise import add, cast, div, equal, greater, mul, sub, where
    op = "linspace"
    start, stop = _static_scalar(op, "start", start), _static_scalar(op, "stop", stop)
    try:
        start, stop = float(start), float(stop)
    except OverflowError:
        raise_error(RangeError, op, f"start {start} or stop {stop} is too large for a float")
    num = as_int(op, "num", num)
    if num < 0:
        raise_error(ShapeError, op, f"number of samples, {num}, must be non-negative")
    endpoint = as_bool(op, "endpoint", endpoint)
    dtype = _dtype_arg(op, dtype, default_float)
    if dtype.kind == "b":
        raise_error(DTypeError, op, "linspace needs a numeric dtype, got bool")
    shape_arg(op, (num,), float64)  # the values are computed in float64
    flag = _grad_flag(op, requires_grad, dtype)
    if dtype.kind in "iu" and num:
        _check_int_range(op, "values", math.floor(min(start, stop)), math.floor(max(start, stop)),
                         dtype)
    div_by = num - 1 if endpoint else num
    delta = stop - start
    index = iota((num,), 0, float64) if num else full_in(current_context(), (0,), 0, float64)
    if div_by > 0:
        step = delta / div_by
        # A step that underflows to zero would lose delta: divide first, as NumPy does.
        out = mul(div(index, float(div_by)), delta) if step == 0 else mul(index, step)
    else:
        out = mul(index, delta)
    out = add(out, start)
    if endpoint and num > 1:
        out = where(equal(index, float(num - 1)), stop, out)
    if dtype.kind in "iu":
        truncated = cast(out, int64)
        out = where(greater(cast(truncated, float64), out), sub(truncated, 1), truncated)
    return _leaf(cast(out, dtype), flag)


def _index_dtype(*sizes: int) -> DType:
    """The integer type for row/column numbers (and their sums) up to `sizes`."""
    return int32 if max(sizes, default=0) < 2**30 else int64


def _eye(op: str, n, m, k, dtype, requires_grad) -> Tensor:
    from .ops.elementwise import add, cast, equal
    n = as_int(op, "n", n)
    m = n if m is None else as_int(op, "m", m)
    k = as_int(op, "k", k)
    dtype = _dtype_arg(op, dtype, default_float)
    shape = shape_arg(op, (n, m), dtype)
    flag = _grad_flag(op, requires_grad, dtype)
    if n == 0 or m == 0 or not -n < k < m:
        return _leaf(full_in(current_context(), shape, 0, dtype), flag)
    index = _index_dtype(n, m)
    rows = iota(shape, 0, index)
    cols = iota(shape, 1, index)
    return _leaf(cast(equal(add(rows, k), cols) if k else equal(rows, cols), dtype), flag)


def eye(n: int, m: int | None = None, k: int = 0, dtype=None, *,
        requires_grad: bool = False) -> Tensor:
    """The n x m matrix with ones on diagonal `k` (0: main, >0: above, <0: below).

    Example:
        >>> nb.eye(2, 3, k=1).numpy()
        array([[0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    return _eye("eye", n, m, k, dtype, requires_grad)


def identity(n: int, dtype=None, *, requires_grad: bool = False) -> Tensor:
    """The n x n identity matrix.

    Example:
        >>> nb.identity(2, dtype=nb.int32).numpy()
        array([[1, 0],
               [0, 1]], dtype=int32)
    """
    return _eye("identity", n, None, 0, dtype, requires_grad)


def _triangle(op: str, x, k, lower: bool) -> Tensor:
    from .ops._common import to_tensor
    from .ops.elementwise import add, greater_equal, less_equal, where
    x = to_tensor(x, op)
    k = as_int(op, "k", k)
    if x.ndim < 2:
        raise_error(ShapeError, op, f"expects a tensor of rank >= 2 (a batch of matrices), got "
                    f"{x._value.aval.short()}")
    shape = x.shape[-2:]
    k = max(-shape[0], min(k, shape[1]))  # past the corners every k keeps the same entries
    index = _index_dtype(*shape)
    rows = iota(shape, 0, index)
    cols = iota(shape, 1, index)
    shifted = add(rows, k) if k else rows
    # tril keeps j <= i + k; triu keeps j >= i + k
    keep = greater_equal(shifted, cols) if lower else less_equal(shifted, cols)
    return where(keep, x, full_in(x._value.ctx, (), 0, x.dtype))


def tril(x, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes of `x` (entries with j <= i + k); zeros elsewhere.

    Example:
        >>> nb.tril(nb.ones((2, 2))).numpy()
        array([[1., 0.],
               [1., 1.]], dtype=float32)
    """
    return _triangle("tril", x, k, lower=True)


def triu(x, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes of `x` (entries with j >= i + k); zeros elsewhere.

    Example:
        >>> nb.triu(nb.ones((2, 2))).numpy()
        array([[1., 1.],
               [0., 1.]], dtype=float32)
    """
    return _triangle("triu", x, k, lower=False)


# ---------------------------------------------------------------------------
# device=: every creation function places its result
# ---------------------------------------------------------------------------
def _placing(fn, like: bool = False):
    """`fn` with a keyword `device=` (a Device, "cpu", "cpu:1", ...): the result is made
    on that device (an open nb.default_device block's when not given); `like`: a
    constant follows the device of the tensor it is shaped like, as in PyTorch."""
    op = fn.__name__

    @functools.wraps(fn)
    def placed(*args, device=None, **kwargs):
        d = requested_device(op, device)
        if d is None:
            out = fn(*args, **kwargs)
            if like and isinstance(args[0], Tensor):
                _commit(out, args[0]._value.device)
            return out
        saved = _tls.device
        _tls.device = d
        try:
            out = fn(*args, **kwargs)
        finally:
            _tls.device = saved
        v = out._value
        if v.ctx.level == 0 and v.device is not d:
            if v.device is None:
                _commit(out, d)
            else:  # a tensor given as data, on another device
                out = _leaf(to_device(out, d), out._value.leaf_tensor is not None)
        return out

    sig = inspect.signature(fn)
    param = inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None)
    placed.__signature__ = sig.replace(parameters=[*sig.parameters.values(), param])
    placed.__doc__ = (fn.__doc__ or "").rstrip() + _DEVICE_DOC
    return placed


_DEVICE_DOC = "\n\n    `device=` places the result (default: nb.default_device).\n"


def _commit(out: Tensor, device) -> None:
    v = out._value
    if v.ctx.level == 0 and v.device is None and device is not None:
        v.device = device


for _name in ("arange", "asarray", "eye", "full", "identity", "iota", "linspace", "ones",
              "tensor", "zeros"):
    globals()[_name] = _placing(globals()[_name])
for _name in ("full_like", "ones_like", "zeros_like"):
    globals()[_name] = _placing(globals()[_name], like=True)
del _name


__all__ = [
    "arange",
    "asarray",
    "eye",
    "from_dlpack",
    "full",
    "full_like",
    "identity",
    "iota",
    "linspace",
    "ones",
    "ones_like",
    "tensor",
    "tril",
    "triu",
    "zeros",
    "zeros_like",
]
