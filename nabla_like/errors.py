"""Exceptions raised for user mistakes.

Every error is a `NablaError` and also the builtin a Python user would expect
(`TypeError`, `ValueError`, `IndexError`), so `except ValueError` keeps working.
Messages name the operation, the shapes/dtypes involved and the user's own
source line: the first stack frame outside this library.

Traceback filtering: what a user sees of a NablaError is their own frames and the
message, as with JAX's traceback filtering. The frames of this library (nabla_like/
and lowering/) are left out of `err.__traceback__` (what `traceback.extract_tb`,
`traceback.print_exception(err)`, `pdb.post_mortem` on 3.12+ and Python 3.13's display
read), of the traceback that uncaught errors print (a `sys.excepthook` and a
`threading.excepthook` wrapping the ones installed before) and of IPython's and
Jupyter's display (a custom exception handler). Nothing runs on the normal path: no
wrapper around the public functions; the filter runs when a traceback is read. What
reads the interpreter's own record, `sys.exc_info()` (`traceback.print_exc()`,
`logging.exception`, pytest's failure report), still sees every frame. Set the
environment variable `NABLA_LIKE_TRACEBACK_FILTERING=off` to see every frame
everywhere; `full_traceback(err)` gives them regardless.
"""
from __future__ import annotations

import linecache
import os
import sys
import types

_LIB_DIRS = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (__file__, os.path.join(os.path.dirname(__file__), "..", "lowering", "__init__.py"))
)
_SKIP_PREFIXES = ("<frozen",)
_SKIP_FILES = ("contextlib.py", "functools.py")
_FILTER_ENV = "NABLA_LIKE_TRACEBACK_FILTERING"
_raw_traceback = BaseException.__traceback__  # the C-level attribute the property wraps


class NablaError(Exception):
    """Base class of every error nabla_like raises for bad input.

    Each subclass is also the builtin a Python user would expect (`ShapeError` is a
    `ValueError`, `DTypeError` a `TypeError`...), so either can be caught.
    `__traceback__` reads without this library's frames (see the module docstring);
    the interpreter and `with_traceback` still see and set the full one.

    Example:
        >>> try:
        ...     nb.ones(3) + nb.ones(4)
        ... except ValueError as e:
        ...     print(type(e).__name__, isinstance(e, nb.NablaError))
        ShapeError True
    """

    @property
    def __traceback__(self):
        return filter_traceback(_raw_traceback.__get__(self))

    @__traceback__.setter
    def __traceback__(self, tb):
        _raw_traceback.__set__(self, tb)


class ShapeError(NablaError, ValueError):
    """Operand shapes do not fit the operation (broadcasting, reshape, matmul...).

    Example:
        >>> nb.ones(3) + nb.ones(4)
        Traceback (most recent call last):
            ...
        nabla_like.errors.ShapeError: add: operands could not be broadcast together: f32[3], f32[4] ...
    """


class AxisError(NablaError, ValueError, IndexError):
    """An axis argument is out of range or repeated.

    Example:
        >>> nb.sum(nb.ones((2, 3)), axis=2)
        Traceback (most recent call last):
            ...
        nabla_like.errors.AxisError: sum: axis 2 is out of range for a tensor of rank 2...
    """


class DTypeError(NablaError, TypeError):
    """An unknown dtype, or a dtype the operation does not accept.

    Example:
        >>> nb.zeros(2, dtype="float8")
        Traceback (most recent call last):
            ...
        nabla_like.errors.DTypeError: zeros: unknown dtype 'float8'; expected one of bool, ...
    """


class IndexingError(NablaError, IndexError):
    """A bad index: out of range, wrong type or too many indices.

    Example:
        >>> nb.ones(3)[5]
        Traceback (most recent call last):
            ...
        nabla_like.errors.IndexingError: getitem: index 5 is out of bounds for axis 0 with size 3 ...
    """


class ConcretizationError(NablaError, TypeError):
    """A traced (abstract) value was used where a concrete Python value is needed.

    Example:
        >>> nb.jit(lambda x: x if x > 0 else -x)(nb.tensor(1.0))
        Traceback (most recent call last):
            ...
        nabla_like.errors.ConcretizationError: bool: the value of a traced tensor bool[] is not known ...
    """


class TracerLeakError(NablaError, RuntimeError):
    """A traced value escaped the transform that created it and was used later.

    Example:
        >>> leaked = []
        >>> nb.jit(lambda x: leaked.append(x) or x * 2)(nb.ones(2))
        Tensor([2. 2.] : f32[2])
        >>> leaked[0] + 1
        Traceback (most recent call last):
            ...
        nabla_like.errors.TracerLeakError: add: a traced value f32[2] from a finished jit was used ...
    """


class TransformError(NablaError, ValueError):
    """Bad arguments to a transform: argnums, wrt, in_axes, axis sizes...

    Example:
        >>> nb.grad(lambda x: x, argnums=3)(nb.tensor(1.0))
        Traceback (most recent call last):
            ...
        nabla_like.errors.TransformError: grad: argnums=3 is out of range: <lambda> takes 1 positional ...
    """


class GradError(NablaError, TypeError):
    """grad of a non-scalar, integer or otherwise non-differentiable output.

    Example:
        >>> nb.grad(lambda x: x * 2)(nb.ones(3))
        Traceback (most recent call last):
            ...
        nabla_like.errors.GradError: grad: grad requires a scalar output, got f32[3]; ...
    """


class BackwardError(NablaError, RuntimeError):
    """Misuse of the imperative backward() API (freed graph, missing cotangent...).

    Example:
        >>> nb.ones(2).backward()
        Traceback (most recent call last):
            ...
        nabla_like.errors.BackwardError: backward: the output f32[2] does not require grad: ...
    """


class DeviceError(NablaError, ValueError):
    """An unknown or unavailable device.

    Example:
        >>> nb.device("tpu")
        Traceback (most recent call last):
            ...
        nabla_like.errors.DeviceError: device: no 'tpu' device is available ...
    """


class JitError(NablaError, TypeError):
    """Bad arguments to jit (unhashable static arguments, ...).

    Example:
        >>> nb.jit(lambda x, n: x * n, static_argnums=1)(nb.ones(2), [2])
        Traceback (most recent call last):
            ...
        nabla_like.errors.JitError: jit: static argument 1 of type list is not hashable, ...
    """


class UsageError(NablaError, TypeError):
    """A Tensor used in a way Python's protocols reject (len() of a 0-d tensor, ...).

    Example:
        >>> len(nb.tensor(1.0))
        Traceback (most recent call last):
            ...
        nabla_like.errors.UsageError: len: len() of a 0-d tensor...
    """


class TreeError(NablaError, ValueError):
    """Pytrees whose structures do not match.

    Example:
        >>> nb.tree.map(lambda a, b: a + b, (1, 2), (1,))
        Traceback (most recent call last):
            ...
        nabla_like.errors.TreeError: tree.map: tree structures differ: TreeDef((*, *)) and TreeDef((*,))...
    """


class ArgumentError(NablaError, TypeError):
    """A non-tensor argument of the wrong type (a float axis, a string shape, a list flag...).

    Example:
        >>> nb.sum(nb.ones(3), axis=0.5)
        Traceback (most recent call last):
            ...
        nabla_like.errors.ArgumentError: sum: axis must be an int, a tuple of ints or None, got 0.5...
    """


class ArgumentValueError(NablaError, ValueError):
    """A non-tensor argument of the right type whose value the function does not accept.

    Example:
        >>> nb.var(nb.ones(3), ddof=1, correction=0)
        Traceback (most recent call last):
            ...
        nabla_like.errors.ArgumentValueError: var: ddof=1.0 and correction=0.0 disagree; ...
    """


class RangeError(NablaError, OverflowError):
    """A Python number that does not fit the dtype it is converted to.

    Example:
        >>> nb.tensor(300, dtype=nb.uint8)
        Traceback (most recent call last):
            ...
        nabla_like.errors.RangeError: tensor: Python integer 300 out of bounds for uint8...
    """


class GradNotFilledWarning(UserWarning):
    """A parameter's `.grad` was read (None) before any backward() filled one."""


class CompileError(NablaError, RuntimeError):
    """XLA refused a program. This is a bug in nabla_like, never the user's input.

    Raised by jit and by eager execution when XLA cannot lower or compile the program
    they built (no valid input raises it on purpose); a `RuntimeError`.

    Example:
        >>> issubclass(nb.CompileError, nb.NablaError), issubclass(nb.CompileError, RuntimeError)
        (True, True)
    """


class UnsupportedError(NablaError, NotImplementedError):
    """A request for something nabla_like does not implement (complex numbers, ...).

    Example:
        >>> nb.grad(nb.sin, holomorphic=True)(nb.tensor(1.0))
        Traceback (most recent call last):
            ...
        nabla_like.errors.UnsupportedError: grad: holomorphic=True differentiates complex functions ...
    """


class GradCheckError(NablaError, AssertionError):
    """check_grads found a derivative that disagrees with its reference.

    Example:
        >>> f = nb.custom_jvp(nb.sin)
        >>> _ = f.defjvp(lambda p, t: (nb.sin(p[0]), t[0]))  # wrong: sin' is cos
        >>> nb.check_grads(f, (nb.tensor(1.0),), modes=("fwd",))
        Traceback (most recent call last):
            ...
        nabla_like.errors.GradCheckError: check_grads: JVP (order 1) tangent: 1 of 1 element differ; ...
    """


class OutOfMemoryError(NablaError, MemoryError):
    """The device (or host) could not allocate the memory a computation needs.

    Raised when a program runs (or a result is read) and an allocation fails; the message
    names the largest array of the program and the op that makes it. A `MemoryError`.

    Example:
        >>> issubclass(nb.OutOfMemoryError, nb.NablaError), issubclass(nb.OutOfMemoryError, MemoryError)
        (True, True)
    """


def _is_library_file(filename: str) -> bool:
    if filename.startswith(_SKIP_PREFIXES):
        return True
    if os.path.basename(filename) in _SKIP_FILES:
        return True
    return os.path.abspath(filename).startswith(_LIB_DIRS)


# ---------------------------------------------------------------------------
# Traceback filtering
# ---------------------------------------------------------------------------
def filtering_enabled() -> bool:
    """Whether tracebacks of NablaErrors hide this library's frames (the default;
    NABLA_LIKE_TRACEBACK_FILTERING=off turns it off)."""
    return os.environ.get(_FILTER_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


_library_files: dict[str, bool] = {}  # file name -> whether it belongs to this library


def _is_library_code(code) -> bool:
    name = code.co_filename
    hit = _library_files.get(name)
    if hit is None:
        hit = _library_files[name] = _is_library_file(name)
    return hit


def filter_traceback(tb):
    """`tb` without the frames of this library, or `tb` itself when filtering is off,
    when it has no library frame, or when it has nothing but library frames."""
    if tb is None or not filtering_enabled():
        return tb
    kept, dropped = [], False
    t = tb
    while t is not None:
        if _is_library_code(t.tb_frame.f_code):
            dropped = True
        else:
            kept.append(t)
        t = t.tb_next
    if not dropped or not kept:
        return tb
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def full_traceback(err: BaseException):
    """The traceback of `err` with every frame, this library's included."""
    return _raw_traceback.__get__(err)


_NOTE = (f"(nabla_like left its internal frames out of this traceback; set "
         f"{_FILTER_ENV}=off to see them)")


def _filter_for_display(value: BaseException, tb):
    """Filter the traceback of `value` and of the exceptions chained to it, in place, for
    printing; returns the filtered `tb`."""
    seen = set()
    exc = value
    while isinstance(exc, BaseException) and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NablaError):
            raw = tb if exc is value and tb is not None else _raw_traceback.__get__(exc)
            filtered = filter_traceback(raw)
            if filtered is not raw:
                _raw_traceback.__set__(exc, filtered)
                if exc is value:
                    tb = filtered
                if hasattr(exc, "add_note") and _NOTE not in getattr(exc, "__notes__", ()):
                    exc.add_note(_NOTE)
        exc = exc.__cause__ if exc.__cause__ is not None else (
            None if exc.__suppress_context__ else exc.__context__)
    return tb


def _make_excepthook(previous):
    def excepthook(etype, value, tb):
        if filtering_enabled():
            try:
                tb = _filter_for_display(value, tb)
            except Exception:  # never lose the user's error to a bug in the filter
                pass
        previous(etype, value, tb)
    excepthook._nabla_like = True
    return excepthook


def _make_thread_excepthook(previous):
    def excepthook(args):
        if filtering_enabled() and args.exc_value is not None:
            try:
                _filter_for_display(args.exc_value, None)
            except Exception:
                pass
        previous(args)
    excepthook._nabla_like = True
    return excepthook


def install_excepthook() -> None:
    """Print uncaught NablaErrors (of the main thread and of other threads) without this
    library's frames. Wraps the hooks installed before; installed once, on import."""
    import threading
    if not getattr(sys.excepthook, "_nabla_like", False):
        sys.excepthook = _make_excepthook(sys.excepthook)
    if not getattr(threading.excepthook, "_nabla_like", False):
        threading.excepthook = _make_thread_excepthook(threading.excepthook)


def _ipython_handler(shell, etype, value, tb, tb_offset=None):
    tb = _filter_for_display(value, tb) if filtering_enabled() else tb
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def install_ipython_handler(shell=None) -> bool:
    """Show NablaErrors in IPython / Jupyter without this library's frames. Uses the
    running shell (or `shell`); does nothing, and returns False, when there is none or
    it already has a custom exception handler of someone else's."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if current and current != (NablaError,):
        return False
    shell.set_custom_exc((NablaError,), _ipython_handler)
    return True


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
    # (`from None`: no "during handling of ..." context. The library frames this raise
    # passes through leave the traceback when it is read: see filter_traceback.)
    raise err from None


install_excepthook()
install_ipython_handler()
