"""Exceptions raised for user mistakes.

Every error is a `NablaError` and also the builtin a Python user would expect
(`TypeError`, `ValueError`, `IndexError`), so `except ValueError` keeps working.
Messages name the operation, the shapes/dtypes involved and the user's own
source line: the first stack frame outside this library.
"""
from __future__ import annotations

import linecache
import os
import sys

_LIB_DIRS = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (__file__, os.path.join(os.path.dirname(__file__), "..", "lowering", "__init__.py"))
)
_SKIP_PREFIXES = ("<frozen",)
_SKIP_FILES = ("contextlib.py", "functools.py")


class NablaError(Exception):
    """Base class of every error nabla_like raises for bad input."""


class ShapeError(NablaError, ValueError):
    """Operand shapes do not fit the operation (broadcasting, reshape, matmul...)."""


class AxisError(NablaError, ValueError, IndexError):
    """An axis argument is out of range or repeated."""


class DTypeError(NablaError, TypeError):
    """An unknown dtype, or a dtype the operation does not accept."""


class IndexingError(NablaError, IndexError):
    """A bad index: out of range, wrong type or too many indices."""


class ConcretizationError(NablaError, TypeError):
    """A traced (abstract) value was used where a concrete Python value is needed."""


class TracerLeakError(NablaError, RuntimeError):
    """A traced value escaped the transform that created it and was used later."""


class TransformError(NablaError, ValueError):
    """Bad arguments to a transform: argnums, wrt, in_axes, axis sizes..."""


class GradError(NablaError, TypeError):
    """grad of a non-scalar, integer or otherwise non-differentiable output."""


class BackwardError(NablaError, RuntimeError):
    """Misuse of the imperative backward() API (freed graph, missing cotangent...)."""


class DeviceError(NablaError, ValueError):
    """An unknown or unavailable device."""


class JitError(NablaError, TypeError):
    """Bad arguments to jit (unhashable static arguments, ...)."""


class UsageError(NablaError, TypeError):
    """A Tensor used in a way Python's protocols reject (len() of a 0-d tensor, ...)."""


class TreeError(NablaError, ValueError):
    """Pytrees whose structures do not match."""


class CompileError(NablaError, RuntimeError):
    """XLA refused a program. This is a bug in nabla_like, never the user's input."""


def _is_library_file(filename: str) -> bool:
    if filename.startswith(_SKIP_PREFIXES):
        return True
    if filename.endswith(_SKIP_FILES):
        return True
    return os.path.abspath(filename).startswith(_LIB_DIRS)


def user_frame(depth: int = 1):
    """The innermost stack frame that belongs to the user rather than to this library."""
    frame = sys._getframe(depth)
    while frame is not None and _is_library_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def user_location() -> str:
    """'file:line in func' plus the source text of the user's current line, or ''."""
    frame = user_frame(2)
    if frame is None:
        return ""
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, lineno).strip()
    where = f"{filename}:{lineno} in {frame.f_code.co_name}"
    return f"{where}\n    {text}" if text else where


def make_error(cls: type, op: str, message: str) -> NablaError:
    where = user_location()
    full = f"{op}: {message}"
    if where:
        full += f"\n  at {where}"
    return cls(full)


def raise_error(cls: type, op: str, message: str):
    """Raise `cls` with a message naming `op` and the user's source line."""
    err = make_error(cls, op, message)
    # Hide library frames from the traceback: the message already points at the user.
    raise err.with_traceback(None) from None
