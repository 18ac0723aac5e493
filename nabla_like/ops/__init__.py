"""Op families. Each family file holds its primitives, their math rules (shape/dtype,
JVP, transpose or VJP, batching) and the user-facing functions built on them.
StableHLO rules live in the mirroring files of `lowering/`.

This module gathers the public functions and installs Tensor's operator methods.
"""
from __future__ import annotations

import sys as _sys

from . import call, control, conv, elementwise, indexing, linalg, random, reduce, shape  # noqa: F401
from . import custom, remat  # noqa: F401  (higher-order: custom rules, rematerialization)
from . import decomp  # noqa: F401  (decompositions: public in nabla_like.linalg, not nb.*)
# files that extend a family (each family file re-exports them too)
from . import (activations, bitwise, cumulative, gather_scatter, linalg_einsum,  # noqa: F401
               shape_dynamic, shape_tiling)
from .activations import *  # noqa: F401,F403
from .control import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .custom import *  # noqa: F401,F403
from .remat import *  # noqa: F401,F403
from .bitwise import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403  (the stateful API: seed, gaussian, rand, randn)
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from . import sort as _sort_family  # noqa: F401  (sort, argsort, topk: the sort primitive)
from .sort import *  # noqa: F401,F403
from . import compat  # noqa: F401  (NumPy/JAX/torch/Nabla names built from the ops above)
from .compat import *  # noqa: F401,F403
normal = random.gaussian          # nb.normal(shape): stateful; nb.random.normal(key, shape)
uniform = random.stateful_uniform  # nb.uniform(shape, low, high); nb.random.uniform(key, ...)

# The public names: each family's __all__ (its helpers and primitives stay internal).
# (Looked up in sys.modules: the star imports rebind names like `remat` to functions.)
__all__ = sorted({name for family in ("activations", "control", "conv", "custom", "remat",
                                      "bitwise", "elementwise", "indexing", "linalg", "random",
                                      "reduce", "shape", "sort", "compat")
                  for name in _sys.modules[f"{__name__}.{family}"].__all__} | {"normal", "uniform"})

from . import folding  # noqa: F401,E402  (attaches peephole folds to the primitives above)
from ..tensor import Tensor  # noqa: E402

_ns = globals()


def _swap(fn):
    def r(self, other):
        return fn(other, self)
    r.__name__ = f"r{fn.__name__}"
    return r


_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "floordiv": "floor_divide",
           "mod": "mod", "pow": "pow", "matmul": "matmul", "and": "bitwise_and",
           "or": "bitwise_or", "xor": "bitwise_xor", "lshift": "left_shift",
           "rshift": "right_shift"}
_COMPARE = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
            "eq": "equal", "ne": "not_equal"}
_UNARY = {"neg": "neg", "abs": "abs", "invert": "bitwise_not"}
# Methods taking the tensor first: `x.sum(axis)` is `nb.sum(x, axis)`.
_METHODS = ("reshape", "transpose", "permute", "swapaxes", "moveaxis", "broadcast_to", "squeeze",
            "unsqueeze", "expand_dims", "flatten", "flip", "repeat", "tile", "split", "chunk",
            "sum", "mean", "var", "std", "max", "min", "prod", "argmax", "argmin", "logsumexp",
            "softmax", "log_softmax", "cumsum", "cumprod", "all", "any", "exp", "log", "log1p",
            "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
            "abs", "sign", "floor", "ceil", "round", "clip", "maximum", "minimum", "where",
            "take", "take_along_axis", "dot", "matmul", "isnan", "isinf", "isfinite",
            "logical_not", "pow", "astype", "cast", "outer", "gather", "norm", "view",
            "sort", "argsort", "topk", "diagonal", "trace", "ravel", "clamp", "unbind", "nonzero")


def _install_tensor_methods() -> None:
    for dunder, name in _BINARY.items():
        fn = _ns.get(name)
        if fn is not None:
            setattr(Tensor, f"__{dunder}__", fn)
            setattr(Tensor, f"__r{dunder}__", _swap(fn))
    for dunder, name in _COMPARE.items():
        fn = _ns.get(name)
        if fn is not None:
            setattr(Tensor, f"__{dunder}__", fn)
    # `t == None` is False (and `t in [None]` works), as in NumPy and JAX
    eq, ne = _ns["equal"], _ns["not_equal"]
    Tensor.__eq__ = lambda self, other: False if other is None else eq(self, other)
    Tensor.__ne__ = lambda self, other: True if other is None else ne(self, other)
    for dunder, name in _UNARY.items():
        fn = _ns.get(name)
        if fn is not None:
            setattr(Tensor, f"__{dunder}__", fn)
    Tensor.__pos__ = lambda self: self
    from .. import autograd
    for dunder, name in {"iadd": "add", "isub": "sub", "imul": "mul", "itruediv": "div",
                         "ipow": "pow", "imatmul": "matmul"}.items():
        fn = _ns.get(name)
        if fn is not None:
            setattr(Tensor, f"__{dunder}__",
                    (lambda fn: lambda self, other: autograd.update_inplace(self, fn(self, other)))(fn))
    for name in _METHODS:
        fn = _ns.get(name)
        if fn is not None and not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    Tensor.astype = lambda self, dtype: _ns["cast"](self, dtype)
    Tensor.clone = lambda self: _ns["copy"](self)
    Tensor.T = property(lambda self: _ns["transpose"](self))
    if "swapaxes" in _ns:
        Tensor.mT = property(lambda self: _ns["swapaxes"](self, -1, -2))
    if "getitem" in _ns:
        Tensor.__getitem__ = _ns["getitem"]
    if "AtIndexer" in _ns:
        Tensor.at = property(lambda self: _ns["AtIndexer"](self))
    if "reshape" in _ns:
        Tensor.view = lambda self, *shape: _ns["reshape"](self, *shape)


_install_tensor_methods()
