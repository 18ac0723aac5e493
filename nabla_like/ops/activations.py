"""Activation functions: sigmoid, relu, gelu, silu, softplus, mish.

Part of the elementwise family (their StableHLO rules live in
`lowering/elementwise.py`). `sigmoid` is a primitive (`stablehlo.logistic`), and so
is `relu` (`stablehlo.maximum` with 0); the others are composites whose kinks are
written so that the chain rule gives JAX's derivatives: relu'(0) = 0 and
softplus'(0) = 1/2 exactly.
Integer and bool inputs of the float functions compute in float32.
"""
from __future__ import annotations

import math

from ..args import as_bool, as_choice
from ..core import bind, full_in
from ..dtypes import default_float
from ..tensor import Tensor
from ._common import elementwise_primitive, to_tensor


def _float(op: str, x) -> Tensor:
    x = to_tensor(x, op)
    return x if x.dtype.kind == "f" else ew.cast(x, default_float)


def _zeros(x: Tensor) -> Tensor:
    return full_in(x._value.ctx, x.shape, 0, x.dtype)


logistic_p = elementwise_primitive("logistic", "f")


def _logistic_rule(g: Tensor, out: Tensor) -> Tensor:
    return ew.mul(g, ew.mul(out, ew.sub(1.0, out)))


logistic_p.def_jvp(lambda primals, tangents, outs: _logistic_rule(tangents[0], outs[0]))
logistic_p.def_vjp(lambda ct, primals, outs: (_logistic_rule(ct, outs[0]),))


def sigmoid(x) -> Tensor:
    """Elementwise 1 / (1 + exp(-x)), stable for large |x|.

    Example:
        >>> nb.sigmoid(nb.tensor([-1.0, 0.0, 1.0]))
        Tensor([0.2689 0.5    0.7311] : f32[3])
    """
    return bind(logistic_p, _float("sigmoid", x))


# A primitive, not a composite: lowered as `maximum(x, 0)`, which XLA's CPU backend fuses
# into the matrix products around it (a select-based relu costs a 2-layer transformer step
# 1.4x), with the derivative of JAX's relu (0 at 0, where maximum's would split in halves).
relu_p = elementwise_primitive("relu", "iuf")


def _relu_rule(g: Tensor, x: Tensor) -> Tensor:
    return ew.select(ew.greater(x, 0), g, _zeros(g))


relu_p.def_jvp(lambda primals, tangents, outs: _relu_rule(tangents[0], primals[0]))
relu_p.def_vjp(lambda ct, primals, outs: (_relu_rule(ct, primals[0]),))


def relu(x) -> Tensor:
    """Elementwise max(x, 0) for numeric tensors (NaN stays NaN); relu'(0) = 0 (as JAX).

    Example:
        >>> nb.relu(nb.tensor([-1.0, 0.0, 2.0]))
        Tensor([0. 0. 2.] : f32[3])
    """
    return bind(relu_p, to_tensor(x, "relu"))


def gelu(x, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: x * Phi(x) with Phi the standard normal CDF, in the
    exact erf form, or the tanh approximation when `approximate=True` (PyTorch's
    `approximate="tanh"`; "none" is the exact form).

    Example:
        >>> nb.gelu(nb.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.1587  0.      0.8413] : f32[3])
    """
    if isinstance(approximate, str):  # PyTorch's spelling: "none" or "tanh"
        approximate = as_choice("gelu", "approximate", approximate, ("none", "tanh")) == "tanh"
    approximate = as_bool("gelu", "approximate", approximate)
    x = _float("gelu", x)
    if approximate:
        inner = ew.mul(ew.add(x, ew.mul(ew.integer_pow(x, 3), 0.044715)), math.sqrt(2 / math.pi))
        cdf = ew.add(ew.tanh(inner), 1.0)
    else:
        cdf = ew.add(ew.erf(ew.mul(x, math.sqrt(0.5))), 1.0)
    return ew.mul(ew.mul(x, 0.5), cdf)


def silu(x) -> Tensor:
    """Sigmoid linear unit (swish): x * sigmoid(x).

    Example:
        >>> nb.silu(nb.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.2689  0.      0.7311] : f32[3])
    """
    x = _float("silu", x)
    return ew.mul(x, sigmoid(x))


def softplus(x) -> Tensor:
    """Elementwise log(1 + exp(x)), without overflow for large |x|; derivative sigmoid(x).

    Example:
        >>> nb.softplus(nb.tensor([-100.0, 0.0, 100.0]))
        Tensor([  0.       0.6931 100.    ] : f32[3])
    """
    x = _float("softplus", x)
    # max(x, 0) + log1p(exp(-|x|)); the select's kink at 0 cancels |x|'s (|x|'(0) = 1).
    positive = ew.select(ew.greater_equal(x, 0), x, _zeros(x))
    return ew.add(positive, ew.log1p(ew.exp(ew.neg(ew.abs(x)))))


def mish(x) -> Tensor:
    """Elementwise x * tanh(softplus(x)).

    Example:
        >>> nb.mish(nb.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.3034  0.      0.8651] : f32[3])
    """
    x = _float("mish", x)
    return ew.mul(x, ew.tanh(softplus(x)))


__all__ = ["sigmoid", "relu", "gelu", "silu", "softplus", "mish"]

# Imported last: elementwise re-exports this module's names at its end, so either module
# may be imported first (the functions above read `ew` only when called).
from . import elementwise as ew  # noqa: E402
