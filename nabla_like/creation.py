"""Creating tensors: from host data (NumPy, lists, DLPack) and from shapes.

Host data becomes a materialized leaf of the lazy context right away (one
aligned host copy, then a zero-copy device buffer). Constant splats such as
`zeros` are literal leaves: they cost nothing until used.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from lowering import runtime

from .core import Primitive, bind, current_context, full_in
from .dtypes import (
    DType,
    as_dtype,
    default_float,
    default_int,
    float32,
    float64,
    int64,
    scalar_dtype,
)
from .errors import AxisError, DTypeError, ShapeError, raise_error
from .ir import Aval, Value, interned_aval
from .lazy import LAZY
from .tensor import Tensor


def _host_to_tensor(array: np.ndarray, copy: bool = True) -> Tensor:
    if not array.dtype.isnative:  # big-endian data: the same values in machine byte order
        array = array.astype(array.dtype.newbyteorder("="))
    dtype = as_dtype(array.dtype)
    if copy or not runtime.is_aligned(array):
        array = runtime.aligned_copy(np.asarray(array))
    v = Value(interned_aval(tuple(int(d) for d in array.shape), dtype), None, 0, LAZY)
    v.buffer = runtime.default_device().put(array)
    return Tensor._wrap(v)


def _infer_host(data, dtype: DType | None) -> np.ndarray:
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        if dtype is not None:
            array = array.astype(dtype.np)
        elif array.dtype.kind not in "biuf" and array.dtype != as_dtype("bfloat16").np:
            raise_error(DTypeError, "tensor", f"unsupported NumPy dtype {array.dtype}")
        return array
    try:
        array = np.asarray(data)
    except ValueError as e:
        raise_error(DTypeError, "tensor", f"cannot make a tensor from {type(data).__name__}: {e}")
    if dtype is not None:
        return array.astype(dtype.np)
    # Python data takes the default types, as Python scalars do in ops.
    if array.dtype.kind == "f":
        return array.astype(default_float.np)
    if array.dtype.kind in "iu":
        info = np.iinfo(np.int32)
        if array.size and (array.min() < info.min or array.max() > info.max):
            return array.astype(int64.np)
        return array.astype(default_int.np)
    if array.dtype.kind == "b":
        return array
    raise_error(DTypeError, "tensor", f"cannot make a tensor from {type(data).__name__} "
                f"(NumPy sees dtype {array.dtype})")


def _contains_tensor(data) -> bool:
    if isinstance(data, Tensor):
        return True
    if isinstance(data, (list, tuple)):
        return any(_contains_tensor(d) for d in data)
    return False


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor holding a copy of `data` (NumPy array, nested lists, scalar, DLPack object).

    Python floats give float32 and ints int32 unless `dtype` says otherwise;
    NumPy arrays keep their dtype (float64 stays float64). `requires_grad=True` makes it
    a parameter whose `.grad` backward() fills (a tensor given as `data` is detached first).

    Example:
        >>> nb.tensor([[1, 2], [3, 4]], dtype=nb.float32)
        >>> w = nb.tensor([0.5, -1.0], requires_grad=True)
    """
    out = _tensor(data, None if dtype is None else as_dtype(dtype))
    if requires_grad:
        out = (out.detach() if out is data else out).requires_grad_()
    return out


def _tensor(data, dtype) -> Tensor:
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, (list, tuple)) and _contains_tensor(data):
        from .ops.shape import stack
        out = stack([_tensor(d, None) for d in data])
        return out if dtype is None else out.astype(dtype)
    if hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray):
        out = from_dlpack(data)
        return out if dtype is None else out.astype(dtype)
    return _host_to_tensor(_infer_host(data, dtype))


def asarray(data, dtype=None) -> Tensor:
    """Like `tensor`, but shares memory with an aligned NumPy array instead of copying."""
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype):
        return _host_to_tensor(data, copy=False)
    return tensor(data, dtype)


def from_dlpack(x) -> Tensor:
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch, ...) when possible.

    Example:
        >>> nb.Tensor.from_dlpack(np.arange(3.0))
    """
    if isinstance(x, Tensor):
        return x
    host = np.from_dlpack(x)
    return _host_to_tensor(host, copy=False)


Tensor.from_dlpack = staticmethod(from_dlpack)


# ---------------------------------------------------------------------------
# Shapes and static scalars given by the user
# ---------------------------------------------------------------------------
def _is_dtype_like(x) -> bool:
    return isinstance(x, (DType, str, np.dtype, type))


def shape_arg(op: str, shape) -> tuple[int, ...]:
    """`shape` (an int, or a sequence of ints) as a tuple of non-negative ints."""
    if type(shape) is tuple and all(type(d) is int and d >= 0 for d in shape):
        return shape  # the common case, checked without building anything
    if isinstance(shape, (list, tuple, np.ndarray)):
        dims = list(shape)
    else:
        dims = [shape]
    out = []
    for d in dims:
        if isinstance(d, (bool, np.bool_, float, np.floating)) or not hasattr(d, "__index__"):
            raise_error(ShapeError, op, f"shape {shape!r} must hold integers, got {d!r} "
                        f"of type {type(d).__name__}")
        d = operator.index(d)  # a traced dimension raises ConcretizationError here
        if d < 0:
            raise_error(ShapeError, op, f"negative dimension {d} in shape {tuple(dims)}")
        out.append(d)
    return tuple(out)


def _shape_varargs(op: str, shape: tuple, dtype):
    """`zeros(2, 3)`, `zeros((2, 3))`, `zeros([2, 3])` and NumPy's `zeros((2, 3), dtype)`."""
    if len(shape) == 1:
        shape = shape[0]
    elif len(shape) == 2 and dtype is None and _is_dtype_like(shape[1]):
        shape, dtype = shape
    return shape_arg(op, shape), dtype


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


def _int_arg(op: str, name: str, x) -> int:
    if isinstance(x, (bool, np.bool_, float, np.floating)) or not hasattr(x, "__index__"):
        raise_error(DTypeError, op, f"{name} must be an int, got {x!r}")
    return operator.index(x)


def _checked_fill(op: str, value, dtype: DType):
    """`value`, checked to fit `dtype`: an integer the dtype cannot hold raises (as in
    NumPy 2) instead of wrapping silently in XLA."""
    if dtype.kind in "iu" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        info = np.iinfo(dtype.np)
        if not info.min <= int(value) <= info.max:
            raise_error(DTypeError, op, f"fill value {value} is out of bounds for {dtype.name}")
    if dtype.kind in "iu" and isinstance(value, float) and not math.isfinite(value):
        raise_error(DTypeError, op, f"cannot fill an {dtype.name} tensor with {value}")
    return value


# ---------------------------------------------------------------------------
# From shapes
# ---------------------------------------------------------------------------
def zeros(*shape, dtype=None) -> Tensor:
    """A tensor of zeros (float32 unless `dtype` is given).

    The shape is an int, a tuple, or varargs: `zeros(2, 3)`, `zeros((2, 3))`,
    and NumPy's `zeros((2, 3), nb.int32)`.

    Example:
        >>> nb.zeros((2, 3)).shape
        (2, 3)
    """
    shape, dtype = _shape_varargs("zeros", shape, dtype)
    return full_in(current_context(), shape, 0, default_float if dtype is None else as_dtype(dtype))


def ones(*shape, dtype=None) -> Tensor:
    """A tensor of ones (float32 unless `dtype` is given); shapes as in `zeros`.

    Example:
        >>> nb.ones(2, dtype=nb.int32).numpy()
        array([1, 1], dtype=int32)
    """
    shape, dtype = _shape_varargs("ones", shape, dtype)
    return full_in(current_context(), shape, 1, default_float if dtype is None else as_dtype(dtype))


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor of `shape` filled with `fill_value`.

    Without `dtype`, a Python bool gives bool, an int int32 and a float float32;
    NumPy scalars keep their dtype. A tensor (or array) fill value is broadcast.

    Example:
        >>> nb.full((2, 3), 7.0).numpy()[0]
        array([7., 7., 7.], dtype=float32)
    """
    shape = shape_arg("full", shape)
    if isinstance(fill_value, (Tensor, np.ndarray, list, tuple)):
        from .ops.shape import broadcast_to
        t = tensor(fill_value) if not isinstance(fill_value, Tensor) else fill_value
        if dtype is not None:
            t = t.astype(as_dtype(dtype))
        return broadcast_to(t, shape)
    if dtype is not None:
        dtype = as_dtype(dtype)
    elif isinstance(fill_value, np.generic):
        dtype = as_dtype(fill_value.dtype)
    else:
        dtype = scalar_dtype(fill_value)
    if isinstance(fill_value, np.generic):
        fill_value = fill_value.item()
    return full_in(current_context(), shape, _checked_fill("full", fill_value, dtype), dtype)


def _like_shape_dtype(x, dtype) -> tuple[tuple[int, ...], DType]:
    if isinstance(x, Tensor):
        aval = x._value.aval
        return aval.shape, aval.dtype if dtype is None else as_dtype(dtype)
    if not isinstance(x, (np.ndarray, np.generic)):
        x = _infer_host(x, None)  # lists and scalars take the types `tensor` would give them
    return tuple(int(d) for d in x.shape), as_dtype(x.dtype if dtype is None else dtype)


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with the shape and dtype of `x` (or `dtype`).

    Example:
        >>> nb.zeros_like(nb.ones((2, 2), dtype=nb.int32)).dtype
        nb.int32
    """
    shape, dtype = _like_shape_dtype(x, dtype)
    return full_in(current_context(), shape, 0, dtype)


def ones_like(x, dtype=None) -> Tensor:
    """Ones with the shape and dtype of `x` (or `dtype`).

    Example:
        >>> nb.ones_like(nb.zeros(3)).numpy()
        array([1., 1., 1.], dtype=float32)
    """
    shape, dtype = _like_shape_dtype(x, dtype)
    return full_in(current_context(), shape, 1, dtype)


def full_like(x, fill_value, dtype=None) -> Tensor:
    """A tensor shaped like `x` filled with `fill_value` (dtype of `x` unless given).

    Example:
        >>> nb.full_like(nb.zeros((2,), dtype=nb.int32), 7).numpy()
        array([7, 7], dtype=int32)
    """
    shape, dtype = _like_shape_dtype(x, dtype)
    if isinstance(fill_value, (Tensor, np.ndarray, list, tuple)):
        return full(shape, fill_value, dtype)
    if isinstance(fill_value, np.generic):
        fill_value = fill_value.item()
    return full_in(current_context(), shape, _checked_fill("full_like", fill_value, dtype), dtype)


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
    shape = shape_arg("iota", shape)
    dtype = default_int if dtype is None else as_dtype(dtype)
    if not 0 <= dimension < max(len(shape), 1) or not shape:
        raise_error(AxisError, "iota", f"dimension {dimension} is out of range for shape {shape}")
    if dtype.kind == "b":
        raise_error(DTypeError, "iota", "iota needs a numeric dtype, got bool")
    return bind(iota_p, shape=shape, dimension=int(dimension), dtype=dtype)


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in [start, stop) (NumPy's arange).

    Integer arguments give int32, any float argument float32, unless `dtype`
    says otherwise. The length is ceil((stop - start) / step), at least 0.

    Example:
        >>> nb.arange(1, 10, 3).numpy()
        array([1, 4, 7], dtype=int32)
    """
    if stop is None:
        start, stop = 0, start
    start = _static_scalar("arange", "start", start)
    stop = _static_scalar("arange", "stop", stop)
    step = _static_scalar("arange", "step", step)
    if step == 0:
        raise_error(ShapeError, "arange", "step must not be zero")
    all_int = isinstance(start, int) and isinstance(stop, int) and isinstance(step, int)
    if dtype is None:
        dtype = default_int if all_int else default_float
        if all_int and not -2**31 <= min(start, stop) <= max(start, stop) < 2**31:
            dtype = int64  # as `tensor` does for Python ints past int32
    dtype = as_dtype(dtype)
    if dtype.kind == "b":
        raise_error(DTypeError, "arange", "arange needs a numeric dtype, got bool")
    n = -((start - stop) // step) if all_int else math.ceil((stop - start) / step)
    n = max(0, int(n))
    # As NumPy: the first two values are rounded to `dtype`, then value i = first + i * delta
    # with delta = second - first computed in `dtype`.
    with np.errstate(over="ignore", invalid="ignore"):
        first = np.asarray(start).astype(dtype.np)
        delta = (np.asarray(start + step).astype(dtype.np) - first).astype(dtype.np)
    first, delta = first.item(), delta.item()
    if dtype.kind == "f":
        first, delta = float(first), float(delta)
    from .ops.elementwise import add, cast, mul
    # Half-precision ranges are computed in float32 and rounded once, as NumPy does.
    compute = float32 if dtype.kind == "f" and dtype.bits < 32 else dtype
    out = iota((n,), 0, compute)
    if delta != 1:
        out = mul(out, delta)
    if first != 0:
        out = add(out, first)
    return cast(out, dtype)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` (included unless `endpoint=False`).

    Values are computed in float64 as NumPy does and rounded to `dtype` (float32
    by default; integer dtypes take the floor).

    Example:
        >>> nb.linspace(0.0, 1.0, 5).numpy()
        array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    from .ops.elementwise import add, cast, div, equal, greater, mul, sub, where
    start = float(_static_scalar("linspace", "start", start))
    stop = float(_static_scalar("linspace", "stop", stop))
    num = _int_arg("linspace", "num", num)
    if num < 0:
        raise_error(ShapeError, "linspace", f"number of samples, {num}, must be non-negative")
    dtype = default_float if dtype is None else as_dtype(dtype)
    if dtype.kind == "b":
        raise_error(DTypeError, "linspace", "linspace needs a numeric dtype, got bool")
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
    return cast(out, dtype)


def eye(n: int, m: int | None = None, k: int = 0, dtype=None) -> Tensor:
    """The n x m matrix with ones on diagonal `k` (0: main, >0: above, <0: below).

    Example:
        >>> nb.eye(2, 3, k=1).numpy()
        array([[0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    from .ops.elementwise import add, cast, equal
    n = _int_arg("eye", "n", n)
    m = n if m is None else _int_arg("eye", "m", m)
    k = _int_arg("eye", "k", k)
    shape = shape_arg("eye", (n, m))
    dtype = default_float if dtype is None else as_dtype(dtype)
    if n == 0 or m == 0 or not -n < k < m:
        return full_in(current_context(), shape, 0, dtype)
    rows = iota(shape, 0)
    cols = iota(shape, 1)
    return cast(equal(add(rows, k), cols) if k else equal(rows, cols), dtype)


def identity(n: int, dtype=None) -> Tensor:
    """The n x n identity matrix.

    Example:
        >>> nb.identity(2, dtype=nb.int32).numpy()
        array([[1, 0],
               [0, 1]], dtype=int32)
    """
    return eye(n, dtype=dtype)


def _triangle(op: str, x, k, lower: bool) -> Tensor:
    from .ops._common import to_tensor
    from .ops.elementwise import add, greater_equal, less_equal, where
    x = to_tensor(x, op)
    k = _int_arg(op, "k", k)
    if x.ndim < 2:
        raise_error(ShapeError, op, f"expects a tensor of rank >= 2 (a batch of matrices), got "
                    f"{x._value.aval.short()}")
    shape = x.shape[-2:]
    rows = iota(shape, 0)
    cols = iota(shape, 1)
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
