"""Creating tensors: from host data (NumPy, lists, DLPack) and from shapes.

Host data becomes a materialized leaf of the lazy context right away (one
aligned host copy, then a zero-copy device buffer). Constant splats such as
`zeros` are literal leaves: they cost nothing until used.
"""
from __future__ import annotations

import numpy as np

from lowering import runtime

from .core import Primitive, bind, current_context, full, full_in, record
from .dtypes import DType, as_dtype, default_float, default_int, int64
from .errors import DTypeError, raise_error
from .ir import Aval, Value
from .lazy import LAZY
from .tensor import Tensor


def _host_to_tensor(array: np.ndarray, copy: bool = True) -> Tensor:
    dtype = as_dtype(array.dtype)
    if copy or not runtime.is_aligned(array):
        array = runtime.aligned_copy(np.asarray(array))
    v = Value(Aval(tuple(int(d) for d in array.shape), dtype), None, 0, LAZY)
    v.buffer = runtime.default_device().put(array)
    return Tensor._wrap(v)


def _infer_host(data, dtype: DType | None) -> np.ndarray:
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
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


def tensor(data, dtype=None) -> Tensor:
    """A tensor holding a copy of `data` (NumPy array, nested lists, scalar, DLPack object).

    Python floats give float32 and ints int32 unless `dtype` says otherwise;
    NumPy arrays keep their dtype (float64 stays float64).

    Example:
        >>> nb.tensor([[1, 2], [3, 4]], dtype=nb.float32)
    """
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, (list, tuple)) and _contains_tensor(data):
        from .ops.shape import stack
        out = stack([tensor(d) for d in data])
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
# From shapes
# ---------------------------------------------------------------------------
def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(d) for d in shape)


def zeros(*shape, dtype=None) -> Tensor:
    """A tensor of zeros (float32 unless `dtype` is given).

    Example:
        >>> nb.zeros((2, 3)).shape
        (2, 3)
    """
    return full_in(current_context(), _shape(shape), 0, as_dtype(dtype or default_float))


def ones(*shape, dtype=None) -> Tensor:
    """A tensor of ones (float32 unless `dtype` is given)."""
    return full_in(current_context(), _shape(shape), 1, as_dtype(dtype or default_float))


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with the shape and dtype of `x`."""
    return full_like(x, 0, dtype)


def ones_like(x, dtype=None) -> Tensor:
    """Ones with the shape and dtype of `x`."""
    return full_like(x, 1, dtype)


def full_like(x, fill_value, dtype=None) -> Tensor:
    """A tensor shaped like `x` filled with `fill_value` (dtype of `x` unless given)."""
    shape = tuple(x.shape)
    d = as_dtype(dtype) if dtype is not None else as_dtype(x.dtype)
    return full(shape, fill_value, d)


# ---------------------------------------------------------------------------
# iota and the ranges built on it
# ---------------------------------------------------------------------------
iota_p = Primitive("iota", differentiable=False)


@iota_p.def_abstract_eval
def _iota_abstract_eval(*, shape, dimension, dtype) -> Aval:
    return Aval(shape, dtype)


iota_p.def_jvp(lambda primals, tangents, outs, **params: None)
iota_p.def_vjp(lambda ct, primals, outs, **params: ())
iota_p.def_batch(lambda args, bdims, **params: (bind(iota_p, **params), None))


def iota(shape, dimension: int = 0, dtype=None) -> Tensor:
    """Integers counting along `dimension` of a tensor of `shape` (int32 by default)."""
    shape = _shape(shape)
    dtype = as_dtype(dtype or default_int)
    return Tensor._wrap(record(current_context(), iota_p, [],
                               {"shape": shape, "dimension": dimension, "dtype": dtype}))


def eye(n: int, m: int | None = None, k: int = 0, dtype=None) -> Tensor:
    """The n x m identity matrix (ones on diagonal k).

    Example:
        >>> nb.eye(3)
    """
    from .ops.elementwise import add, cast, equal
    m = n if m is None else m
    rows = iota((n, m), 0)
    cols = iota((n, m), 1)
    return cast(equal(add(rows, k), cols) if k else equal(rows, cols), dtype or default_float)


__all__ = ["iota", "eye", "tensor", "asarray", "from_dlpack", "zeros", "ones", "full", "zeros_like",
           "ones_like", "full_like"]
