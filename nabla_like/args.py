"""Checks of the non-tensor arguments of public functions: ints, flags, choices, shapes.

Each check returns the canonical value or raises a NablaError that names the function,
the parameter, the bad value and the user's line (also the builtin a NumPy user would
catch: TypeError for a wrong type, ValueError for a wrong value). Public functions call
them first, before anything is recorded, so a bad call leaves nothing half-done.
"""
from __future__ import annotations

import operator

import numpy as np

from .errors import ArgumentError, ArgumentValueError, ShapeError, raise_error

# The largest byte size a tensor may have: int64 byte offsets must not overflow.
MAX_BYTES = (1 << 63) - 1


def _is_tensor(v) -> bool:
    from .tensor import Tensor
    return isinstance(v, Tensor)


def as_int(op: str, name: str, value, *, min: int | None = None, max: int | None = None) -> int:
    """`value` as a Python int: ints and NumPy integers, never a bool, float or string;
    a concrete 0-d integer tensor works, a traced one raises ConcretizationError."""
    if type(value) is int and min is None and max is None:  # the common case, first
        return value
    if isinstance(value, (bool, np.bool_)) or not hasattr(value, "__index__"):
        raise_error(ArgumentError, op, f"{name} must be an int, got {value!r} "
                    f"of type {type(value).__name__}")
    if _is_tensor(value) and (value.ndim != 0 or value.dtype.kind not in "iu"):
        raise_error(ArgumentError, op, f"{name} must be an int, got a tensor {value.dtype}"
                    f"{list(value.shape)}")
    v = operator.index(value)
    if min is not None and v < min:
        raise_error(ArgumentValueError, op, f"{name} must be >= {min}, got {v}")
    if max is not None and v > max:
        raise_error(ArgumentValueError, op, f"{name} must be <= {max}, got {v}")
    return v


def as_opt_int(op: str, name: str, value, **bounds) -> int | None:
    return None if value is None else as_int(op, name, value, **bounds)


def as_bool(op: str, name: str, value) -> bool:
    """`value` as a bool: True/False (and NumPy bools, 0 and 1, as NumPy accepts)."""
    if value is True or value is False:
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise_error(ArgumentError, op, f"{name} must be True or False, got {value!r}")


def as_float(op: str, name: str, value, *, min: float | None = None) -> float:
    """`value` as a Python float: an int, float or NumPy scalar, never a bool or string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise_error(ArgumentError, op, f"{name} must be a number, got {value!r}")
    v = float(value)
    if min is not None and not v >= min:
        raise_error(ArgumentValueError, op, f"{name} must be >= {min}, got {value!r}")
    return v


def as_choice(op: str, name: str, value, choices):
    """`value` if it is one of `choices` (strings are compared exactly)."""
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if not ok or isinstance(value, (bool, np.bool_)) and not any(c is value for c in choices):
        opts = ", ".join(repr(c) for c in choices)
        raise_error(ArgumentValueError, op, f"{name} must be one of {opts}, got {value!r}")
    return value


def as_int_tuple(op: str, name: str, value, *, min: int | None = None,
                 length: int | None = None) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints (`length` broadcasts a single int)."""
    if type(value) is tuple and min is None and (length is None or len(value) == length) \
            and all(type(v) is int for v in value):
        return value  # the common case, checked without building anything
    if isinstance(value, (list, tuple, range)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        out = tuple(as_int(op, name, v, min=min) for v in value)
    elif isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__index__"):
        raise_error(ArgumentError, op, f"{name} must be an int or a sequence of ints, "
                    f"got {value!r}")
    else:
        out = (as_int(op, name, value, min=min),) * (1 if length is None else length)
    if length is not None and len(out) != length:
        raise_error(ArgumentValueError, op, f"{name} must have {length} entries, got {value!r}")
    return out


def as_scalar(op: str, name: str, value):
    """`value` if it is a Python or NumPy number (a fill or padding value)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, (bool, int, float, np.generic)) or isinstance(value, (np.str_, np.bytes_)):
        raise_error(ArgumentError, op, f"{name} must be a number, got {value!r}")
    return value


def as_callable(op: str, name: str, value):
    """`value` if it is callable."""
    if not callable(value):
        raise_error(ArgumentError, op, f"{name} must be a callable, got {value!r} "
                    f"of type {type(value).__name__}")
    return value


def check_size(op: str, shape: tuple[int, ...], itemsize: int = 1) -> None:
    """Refuse a shape whose byte size overflows int64 (XLA would abort the process)."""
    total = itemsize
    for d in shape:
        total *= d
    if total > MAX_BYTES:
        raise_error(ShapeError, op, f"shape {tuple(shape)} is too large: about "
                    f"2**{total.bit_length() - 1} bytes, more than any device can address")


def as_opt_float(op: str, name: str, value, **bounds) -> float | None:
    return None if value is None else as_float(op, name, value, **bounds)


def as_probability(op: str, name: str, value, *, below_one: bool = False) -> float:
    """`value` as a float in [0, 1] (a dropout rate), or in [0, 1) with `below_one` (a
    decay rate: Adam's betas)."""
    v = as_float(op, name, value)
    if not (0.0 <= v < 1.0 if below_one else 0.0 <= v <= 1.0):
        raise_error(ArgumentValueError, op, f"{name} must be in [0, 1{')' if below_one else ']'}, "
                    f"got {value!r}")
    return v


def as_str(op: str, name: str, value) -> str:
    """`value` if it is a str."""
    if not isinstance(value, str):
        raise_error(ArgumentError, op, f"{name} must be a string, got {value!r} "
                    f"of type {type(value).__name__}")
    return value


def as_key(op: str, name: str, value):
    """`value` if it is None (draw from the global generator) or a key (nb.random.key)."""
    if value is None:
        return None
    from .ops.random import _check_key
    return _check_key(f"{op}: {name}", value)


def check_divisible(op: str, name: str, value: int, by_name: str, by: int) -> None:
    """Refuse `value` (a size) that `by` (a number of groups or heads) does not divide."""
    if value % by:
        raise_error(ShapeError, op, f"{name}={value} must be divisible by {by_name}={by}")


# The public spelling of the modules that define classes (named in their errors).
_PUBLIC_MODULES = {"nabla_like.nn.layers": "nb.nn", "nabla_like.nn.module": "nb.nn",
                   "nabla_like.nn.lora": "nb.nn.lora", "nabla_like.optim": "nb.optim"}


def class_op(obj, method: str | None = None) -> str:
    """The public name of `obj`'s library class, to name it in errors: 'nb.nn.Linear' (for
    a user's subclass, the library class it derives from), with `.method` when given."""
    name = type(obj).__name__
    for cls in type(obj).__mro__:
        if cls.__module__ in _PUBLIC_MODULES:
            name = f"{_PUBLIC_MODULES[cls.__module__]}.{cls.__name__}"
            break
    return name if method is None else f"{name}.{method}"


__all__ = ["as_int", "as_opt_int", "as_bool", "as_float", "as_opt_float", "as_probability",
           "as_choice", "as_int_tuple", "as_callable", "as_scalar", "as_str", "as_key",
           "check_divisible", "check_size", "class_op"]
