"""Checks of the non-function arguments of the transforms and jit, at the call that makes
the transformed function: argnums in range for the function's positional parameters (when
its signature says how many), axes specifications of vmap, the options of grad. What can
only be known from a call (how many arguments it passes) is checked again there.
"""
from __future__ import annotations

import inspect
import types

import numpy as np

from .. import tree as tree_util
from ..args import as_bool, as_callable, as_choice, as_int
from ..errors import ArgumentError, TransformError, UnsupportedError, raise_error

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class Signature:
    """What a function's signature says about how it can be called."""

    __slots__ = ("positional", "names", "varargs", "varkw")

    def __init__(self, positional: list[str], names: list[str], varargs: bool, varkw: bool):
        self.positional = positional  # parameters that can be passed by position, in order
        self.names = names            # parameters that can be passed by keyword
        self.varargs = varargs
        self.varkw = varkw


def signature_of(fun) -> Signature | None:
    """`fun`'s Signature, or None when it cannot be inspected (some builtins)."""
    if type(fun) is types.FunctionType:  # the common case, without inspect's machinery
        code = fun.__code__
        n, k = code.co_argcount, code.co_kwonlyargcount
        names = list(code.co_varnames[:n + k])
        posonly = code.co_posonlyargcount
        return Signature(names[:n], names[posonly:], bool(code.co_flags & inspect.CO_VARARGS),
                         bool(code.co_flags & inspect.CO_VARKEYWORDS))
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return None
    return Signature([p.name for p in params if p.kind in _POSITIONAL],
                     [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                          inspect.Parameter.KEYWORD_ONLY)],
                     any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params),
                     any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params))


def positional_arity(fun) -> int | None:
    """How many positional arguments `fun` takes at most; None if unknown or unbounded."""
    sig = signature_of(fun)
    if sig is None or sig.varargs:
        return None
    return len(sig.positional)


def fun_name(fun) -> str:
    return getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None) or repr(fun)


def check_fun(op: str, fun, name: str = "fun"):
    """`fun` if it is callable (`nb.grad(3)` names grad and the value)."""
    return as_callable(op, name, fun)


def check_argnums(op: str, argnums, fun, name: str = "argnums", *, allow_empty: bool = False
                  ) -> tuple[int, ...]:
    """`argnums` (an int or a sequence of ints; None means 0) as a tuple of ints, each in
    range for `fun`'s positional parameters when its signature bounds them, none twice."""
    if argnums is None:
        argnums = 0
    if isinstance(argnums, (tuple, list)):
        nums = tuple(as_int(op, name, a) for a in argnums)
        if not nums and not allow_empty:
            raise_error(TransformError, op, f"{name} is empty")
    else:
        nums = (as_int(op, name, argnums),)
    n = positional_arity(fun)
    if n is not None:
        for a in nums:
            if not -n <= a < n:
                raise_error(TransformError, op, f"{name}={argnums!r} is out of range: "
                            f"{fun_name(fun)} takes {n} positional argument"
                            f"{'' if n == 1 else 's'}")
        nums_seen = [a % n for a in nums]
    else:
        nums_seen = list(nums)
    if len(set(nums_seen)) != len(nums_seen):
        raise_error(TransformError, op, f"{name}={argnums!r} names an argument twice")
    return nums


def check_argnames(op: str, argnames, fun, name: str) -> tuple[str, ...]:
    """A str or a sequence of str as a tuple; each a parameter of `fun` when its signature
    says (and it takes no **kwargs)."""
    if isinstance(argnames, str):
        names = (argnames,)
    elif isinstance(argnames, (tuple, list)):
        names = tuple(argnames)
    else:
        names = None
    if names is None or not all(isinstance(n, str) for n in names):
        raise_error(ArgumentError, op, f"{name} must be a str or a sequence of str, got "
                    f"{argnames!r}")
    sig = signature_of(fun)
    if sig is not None and not sig.varkw:
        unknown = [n for n in names if n not in sig.names]
        if unknown:
            raise_error(TransformError, op, f"{name} names {', '.join(map(repr, unknown))}, "
                        f"which {fun_name(fun)} does not take (its parameters: "
                        f"{', '.join(sig.names) or 'none'})")
    return names


def check_wrt(op: str, wrt):
    if isinstance(wrt, str):
        return wrt
    if isinstance(wrt, (tuple, list)) and wrt and all(isinstance(w, str) for w in wrt):
        return tuple(wrt)
    raise_error(ArgumentError, op, f"wrt must be a parameter name or a non-empty sequence of "
                f"them, got {wrt!r}")


def check_holomorphic(op: str, holomorphic) -> None:
    if as_bool(op, "holomorphic", holomorphic):
        raise_error(UnsupportedError, op, "holomorphic=True differentiates complex functions of "
                    "complex inputs; nabla_like has no complex dtypes")


def check_grad_options(op: str, fun, argnums, has_aux, wrt, holomorphic, allow_int, reduce_axes,
                       mode) -> tuple:
    """The checked (argnums, has_aux, wrt, allow_int, mode) of grad / value_and_grad."""
    check_fun(op, fun)
    has_aux = as_bool(op, "has_aux", has_aux)
    allow_int = as_bool(op, "allow_int", allow_int)
    check_holomorphic(op, holomorphic)
    if reduce_axes is not None and not (isinstance(reduce_axes, (tuple, list)) and not reduce_axes):
        raise_error(UnsupportedError, op, f"reduce_axes={reduce_axes!r} is not supported (JAX "
                    f"removed it too): sum over those axes inside the function instead")
    mode = as_choice(op, "mode", mode, ("reverse", "forward"))
    if wrt is not None:
        wrt = check_wrt(op, wrt)
    else:
        check_argnums(op, argnums, fun)  # (kept as given: an int asks for one gradient)
    return argnums, has_aux, wrt, allow_int, mode


def check_axes_spec(op: str, name: str, spec):
    """An in_axes / out_axes specification: an int, None, or a pytree (tuple, list, dict)
    whose leaves are ints or None. NumPy integers become ints."""
    if spec is None or type(spec) is int:
        return spec
    if isinstance(spec, (bool, np.bool_)):
        raise_error(ArgumentError, op, f"{name} must be an int, None or a pytree of them, got "
                    f"{spec!r}")
    if isinstance(spec, np.integer):
        return int(spec)
    bad = [leaf for leaf in tree_util.leaves(spec)
           if isinstance(leaf, (bool, np.bool_)) or not isinstance(leaf, (int, np.integer))]
    if bad or not isinstance(spec, (tuple, list, dict)):
        what = bad[0] if bad else spec
        raise_error(ArgumentError, op, f"{name} must be an int, None or a pytree (tuple, list, "
                    f"dict) of them, got {spec!r} (with a {type(what).__name__} {what!r})")
    return tree_util.map(int, spec)
