"""Data types and type promotion.

A `DType` names an element type once for every layer: its NumPy dtype (for
host buffers), its MLIR spelling (for lowering) and its kind (for promotion).
Python scalars are *weak*: `f32_tensor * 2.0` stays float32, as in JAX.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from .errors import DTypeError, raise_error


class DType:
    """An element type. Compares equal to NumPy dtypes and names of the same type; the
    dtypes are also its members (`nb.DType.float32 is nb.float32`), as in Nabla and MAX.

    Example:
        >>> nb.DType.float32 is nb.float32, nb.float32 == "float32", nb.float32 == np.float32
        (True, True, True)
        >>> nb.bfloat16.itemsize, nb.bfloat16.is_floating, nb.int8.is_integer
        (2, True, True)
    """

    __slots__ = ("name", "short", "np", "mlir", "kind", "bits")

    def __init__(self, name: str, short: str, np_dtype, mlir: str, kind: str, bits: int):
        self.name = name
        self.short = short
        self.np = np.dtype(np_dtype)
        self.mlir = mlir
        self.kind = kind  # 'b' bool, 'i' signed int, 'u' unsigned int, 'f' float
        self.bits = bits

    def __repr__(self) -> str:
        return f"nb.{self.name}"

    def __str__(self) -> str:
        return self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other) -> bool:
        if other is self:
            return True
        if isinstance(other, DType):
            return False
        try:
            return as_dtype(other, quiet=True) is self
        except Exception:
            return False

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __reduce__(self):
        return (as_dtype, (self.name,))

    @property
    def is_floating(self) -> bool:
        return self.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self.kind in "iu"

    @property
    def itemsize(self) -> int:
        return self.np.itemsize


bool_ = DType("bool", "bool", np.bool_, "i1", "b", 1)
int8 = DType("int8", "i8", np.int8, "i8", "i", 8)
int16 = DType("int16", "i16", np.int16, "i16", "i", 16)
int32 = DType("int32", "i32", np.int32, "i32", "i", 32)
int64 = DType("int64", "i64", np.int64, "i64", "i", 64)
uint8 = DType("uint8", "u8", np.uint8, "ui8", "u", 8)
uint16 = DType("uint16", "u16", np.uint16, "ui16", "u", 16)
uint32 = DType("uint32", "u32", np.uint32, "ui32", "u", 32)
uint64 = DType("uint64", "u64", np.uint64, "ui64", "u", 64)
float16 = DType("float16", "f16", np.float16, "f16", "f", 16)
bfloat16 = DType("bfloat16", "bf16", ml_dtypes.bfloat16, "bf16", "f", 16)
float32 = DType("float32", "f32", np.float32, "f32", "f", 32)
float64 = DType("float64", "f64", np.float64, "f64", "f", 64)

ALL_DTYPES = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              float16, bfloat16, float32, float64)
# Members, as Nabla's and MAX's `DType.float32` (the same objects: nb.DType.float32 is nb.float32).
for _d in ALL_DTYPES:
    setattr(DType, _d.name, _d)
DType.bool_ = bool_
FLOAT_DTYPES = (float16, bfloat16, float32, float64)
INT_DTYPES = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)

default_float = float32
default_int = int32

# The values each integer dtype holds, as Python ints (inclusive bounds).
INT_BOUNDS: dict[DType, tuple[int, int]] = {
    d: ((-(1 << (d.bits - 1)), (1 << (d.bits - 1)) - 1) if d.kind == "i" else (0, (1 << d.bits) - 1))
    for d in INT_DTYPES}

_BY_KEY: dict = {}
for _d in ALL_DTYPES:
    _BY_KEY[_d.name] = _d
    _BY_KEY[_d.short] = _d
    _BY_KEY[_d.np] = _d
_BY_KEY["bool_"] = bool_
_BY_KEY["float"] = float32
_BY_KEY["int"] = int32
_BY_KEY["half"] = float16
_BY_KEY["double"] = float64
_BY_KEY[float] = float32
_BY_KEY[int] = int32
_BY_KEY[bool] = bool_


def as_dtype(x, quiet: bool = False) -> DType:
    """Turn a dtype-like (DType, name, NumPy dtype or type, Python type) into a DType."""
    if isinstance(x, DType):
        return x
    d = _BY_KEY.get(x) if isinstance(x, (str, type)) else None
    if d is not None:
        return d
    try:
        npd = np.dtype(x)
    except TypeError:
        npd = None
    d = _BY_KEY.get(npd) if npd is not None else None
    if d is None:
        if quiet:
            raise TypeError(x)
        names = ", ".join(d.name for d in ALL_DTYPES)
        raise_error(DTypeError, "dtype", f"unknown dtype {x!r}; expected one of {names}")
    return d


# ---------------------------------------------------------------------------
# Promotion.  Strong types follow a lattice like JAX's: bool < ints < floats,
# unsigned u_n joins signed i_m at the smallest signed type holding both, and
# f16 with bf16 gives f32.  A weak (Python scalar) operand takes the other
# operand's dtype when its kind is no higher; otherwise the default of its kind.
# ---------------------------------------------------------------------------
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2}
_SIGNED_BY_BITS = {8: int8, 16: int16, 32: int32, 64: int64}
_UNSIGNED_BY_BITS = {8: uint8, 16: uint16, 32: uint32, 64: uint64}


def promote_types(a: DType, b: DType) -> DType:
    """Join of two strong dtypes (dtype-likes such as "int8" or np.float32 are accepted).

    Example:
        >>> nb.promote_types(nb.uint8, nb.int8)
        nb.int16
    """
    if type(a) is not DType or type(b) is not DType:
        a, b = as_dtype(a), as_dtype(b)
    if a is b:
        return a
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    if a.kind == "f" or b.kind == "f":
        if a.kind != "f":
            return b
        if b.kind != "f":
            return a
        if a.bits == b.bits:  # f16 with bf16
            return float32
        return a if a.bits > b.bits else b
    if a.kind == b.kind:
        return a if a.bits >= b.bits else b
    signed, unsigned = (a, b) if a.kind == "i" else (b, a)
    if signed.bits > unsigned.bits:
        return signed
    if unsigned.bits == 64:
        return float64
    return _SIGNED_BY_BITS[unsigned.bits * 2]


def result_type(*dtypes_and_weak: tuple[DType, bool]) -> tuple[DType, bool]:
    """Join (dtype, weak) pairs; returns the result dtype and whether it stays weak."""
    strong = [d for d, w in dtypes_and_weak if not w]
    weak = [d for d, w in dtypes_and_weak if w]
    out_strong = None
    for d in strong:
        out_strong = d if out_strong is None else promote_types(out_strong, d)
    out_weak = None
    for d in weak:
        out_weak = d if out_weak is None else promote_types(out_weak, d)
    if out_strong is None:
        return out_weak, True
    if out_weak is None or _KIND_RANK[out_weak.kind] <= _KIND_RANK[out_strong.kind]:
        return out_strong, False
    return out_weak, True


def scalar_dtype(x) -> DType:
    """The weak dtype a Python scalar takes: bool, int32 or float32 (as JAX without x64).
    Whether an int fits is checked where it becomes a constant (core.full_in), against
    the dtype it takes there: a bare int must fit int32, one added to an int64 tensor
    int64."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int32
    if isinstance(x, float):
        return float32
    raise_error(DTypeError, "scalar", f"unsupported Python scalar {x!r} of type {type(x).__name__}")


def finfo(dtype) -> ml_dtypes.finfo:
    """Machine limits of a float dtype (`eps`, `max`, `tiny`, `bits`...), as np.finfo; also
    for bfloat16, through ml_dtypes. Accepts any dtype-like.

    Example:
        >>> float(nb.finfo(nb.float16).eps), float(nb.finfo("bfloat16").eps)
        (0.0009765625, 0.0078125)
        >>> float(nb.finfo(nb.float32).max)
        3.4028234663852886e+38
    """
    return ml_dtypes.finfo(as_dtype(dtype).np)


def iinfo(dtype) -> ml_dtypes.iinfo:
    """Machine limits of an integer dtype (`min`, `max`, `bits`), as np.iinfo. Accepts any
    dtype-like.

    Example:
        >>> nb.iinfo(nb.int8).min, nb.iinfo(nb.int8).max, nb.iinfo("uint16").max
        (-128, 127, 65535)
    """
    return ml_dtypes.iinfo(as_dtype(dtype).np)
