"""Bitwise and logical ops, and float classification (isnan, isinf, isfinite).

Part of the elementwise family (StableHLO rules in `lowering/elementwise.py`).
The bitwise primitives take integer and bool operands; the logical ops apply
them to truth values (nonzero is true, as NumPy). Nothing here is
differentiable: every result is an integer or bool.
"""
from __future__ import annotations

import math

from ..core import Primitive, bind, full_in
from ..dtypes import bool_
from ..tensor import Tensor
from ._common import elementwise_primitive, promote, to_tensor

INTEGRAL = "iub"

is_finite_p = elementwise_primitive("is_finite", "f", out_dtype=bool_, differentiable=False)


def _classify(name: str, x, for_ints: bool) -> Tensor:
    """`x` as a float tensor to classify, or the constant answer for other dtypes."""
    x = to_tensor(x, name)
    return x if x.dtype.kind == "f" else full_in(x._value.ctx, x.shape, for_ints, bool_)


def isfinite(x) -> Tensor:
    """Elementwise: not NaN and not infinite (True for integers).

    Example:
        >>> nb.isfinite(nb.tensor([1.0, float("inf"), float("nan")]))
        Tensor([ True False False] : bool[3])
    """
    x = _classify("isfinite", x, True)
    return bind(is_finite_p, x) if x.dtype.kind == "f" else x


def isnan(x) -> Tensor:
    """Elementwise: is NaN (False for integers).

    Example:
        >>> nb.isnan(nb.tensor([1.0, float("nan")]))
        Tensor([False  True] : bool[2])
    """
    x = _classify("isnan", x, False)
    return not_equal(x, x) if x.dtype.kind == "f" else x


def isinf(x) -> Tensor:
    """Elementwise: is +inf or -inf (False for integers).

    Example:
        >>> nb.isinf(nb.tensor([1.0, float("-inf")]))
        Tensor([False  True] : bool[2])
    """
    x = _classify("isinf", x, False)
    return equal(abs(x), math.inf) if x.dtype.kind == "f" else x


# ---------------------------------------------------------------------------
# Bitwise ops (integers and bool) and the logical ops built on them
# ---------------------------------------------------------------------------
and_p = elementwise_primitive("and", INTEGRAL, nargs=2, differentiable=False)
or_p = elementwise_primitive("or", INTEGRAL, nargs=2, differentiable=False)
xor_p = elementwise_primitive("xor", INTEGRAL, nargs=2, differentiable=False)
not_p = elementwise_primitive("not", INTEGRAL, differentiable=False)
shift_left_p = elementwise_primitive("shift_left", "iu", nargs=2, differentiable=False)
# Arithmetic shift for signed, logical for unsigned operands (NumPy's >>).
shift_right_p = elementwise_primitive("shift_right", "iu", nargs=2, differentiable=False)


def _bitwise(name: str, prim: Primitive, kinds: str, doc: str, args: str, output: str):
    """nb.`name`; its docstring's example calls it on `args` and prints `output`."""
    def fn(x, y) -> Tensor:
        return bind(prim, *promote(name, x, y, kinds=kinds))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {doc}, with NumPy broadcasting and promotion.\n\n    Example:\n"
                  f"        >>> nb.{name}({args})\n        {output}\n")
    return fn


_PAIR = "nb.tensor([12, 10]), nb.tensor([10, 1])"
bitwise_and = _bitwise("bitwise_and", and_p, INTEGRAL, "bitwise AND of integer or bool tensors "
                       "(operator `&`)", _PAIR, "Tensor([8 0] : i32[2])")
bitwise_or = _bitwise("bitwise_or", or_p, INTEGRAL, "bitwise OR of integer or bool tensors "
                      "(operator `|`)", _PAIR, "Tensor([14 11] : i32[2])")
bitwise_xor = _bitwise("bitwise_xor", xor_p, INTEGRAL, "bitwise XOR of integer or bool tensors "
                       "(operator `^`)", _PAIR, "Tensor([ 6 11] : i32[2])")
left_shift = _bitwise("left_shift", shift_left_p, "iu", "x << y for integer tensors",
                      "nb.tensor([1, 3]), 2", "Tensor([ 4 12] : i32[2])")
right_shift = _bitwise("right_shift", shift_right_p, "iu",
                       "x >> y for integer tensors (arithmetic for signed, logical for unsigned)",
                       "nb.tensor([-8, 8]), 1", "Tensor([-4  4] : i32[2])")


def bitwise_not(x) -> Tensor:
    """Elementwise bitwise NOT (~x) of an integer or bool tensor. Alias: `invert`.

    Example:
        >>> nb.bitwise_not(nb.tensor([0, 5], dtype=nb.uint8))
        Tensor([255 250] : u8[2])
    """
    return bind(not_p, *promote("bitwise_not", x, kinds=INTEGRAL))


def _truth(op: str, x) -> Tensor:
    x = to_tensor(x, op)
    return x if x.dtype is bool_ else not_equal(x, 0)


def logical_and(x, y) -> Tensor:
    """Elementwise truth of x AND y (nonzero is true); returns bool.

    Example:
        >>> nb.logical_and(nb.tensor([1, 0, 2]), nb.tensor([True, True, False]))
        Tensor([ True False False] : bool[3])
    """
    return bind(and_p, *promote("logical_and", _truth("logical_and", x), _truth("logical_and", y)))


def logical_or(x, y) -> Tensor:
    """Elementwise truth of x OR y (nonzero is true); returns bool.

    Example:
        >>> nb.logical_or(nb.tensor([1, 0, 0]), nb.tensor([False, True, False]))
        Tensor([ True  True False] : bool[3])
    """
    return bind(or_p, *promote("logical_or", _truth("logical_or", x), _truth("logical_or", y)))


def logical_xor(x, y) -> Tensor:
    """Elementwise truth of x XOR y (nonzero is true); returns bool.

    Example:
        >>> nb.logical_xor(nb.tensor([1, 0, 2]), nb.tensor([True, True, False]))
        Tensor([False  True  True] : bool[3])
    """
    return bind(xor_p, *promote("logical_xor", _truth("logical_xor", x), _truth("logical_xor", y)))


def logical_not(x) -> Tensor:
    """Elementwise NOT x (nonzero is true); returns bool.

    Example:
        >>> nb.logical_not(nb.tensor([0.0, 2.0]))
        Tensor([ True False] : bool[2])
    """
    return bind(not_p, _truth("logical_not", x))


invert = bitwise_not

__all__ = ["isfinite", "isnan", "isinf", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "invert", "left_shift", "right_shift", "logical_and", "logical_or",
           "logical_xor", "logical_not"]

# Imported last: elementwise re-exports this module's names at its end, so either module
# may be imported first (the functions above use these names only when called).
from .elementwise import abs, equal, not_equal  # noqa: E402
