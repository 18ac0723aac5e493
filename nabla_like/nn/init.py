"""Parameter initializers, key-based: `init.xavier_uniform(key, (fan_out, fan_in))`.

Each takes a key (nb.random.key) or None (draw one from the global generator that
nb.seed resets, as PyTorch's initializers do) and returns a new tensor. Fans follow
PyTorch's convention for a weight of shape [out, in, *kernel]: fan_in = in * prod(kernel),
fan_out = out * prod(kernel).

Example:
    >>> w = nb.nn.init.kaiming_uniform(nb.random.key(0), (64, 32))
"""
from __future__ import annotations

import math

from ..ops import random as _random
from ..dtypes import as_dtype, float32
from ..errors import UsageError, raise_error
from ..tensor import Tensor


def _key(key):
    return _random._next_key() if key is None else key


def _fans(op: str, shape) -> tuple[int, int]:
    shape = tuple(shape)
    if len(shape) < 2:
        raise_error(UsageError, op, f"fan in/out need a weight of at least 2 dimensions, got "
                    f"shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gains: linear/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope**2)), selu 3/4."""
    gains = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0,
             "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise_error(UsageError, "calculate_gain", f"unknown nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def uniform(key, shape, low: float = 0.0, high: float = 1.0, dtype=float32) -> Tensor:
    return _random.uniform(_key(key), tuple(shape), as_dtype(dtype), low, high)


def normal(key, shape, mean: float = 0.0, std: float = 1.0, dtype=float32) -> Tensor:
    return _random.normal(_key(key), tuple(shape), as_dtype(dtype)) * std + mean


def zeros(key, shape, dtype=float32) -> Tensor:
    from ..creation import zeros as _zeros
    return _zeros(tuple(shape), dtype=as_dtype(dtype))


def ones(key, shape, dtype=float32) -> Tensor:
    from ..creation import ones as _ones
    return _ones(tuple(shape), dtype=as_dtype(dtype))


def xavier_uniform(key, shape, gain: float = 1.0, dtype=float32) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = _fans("xavier_uniform", shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(key, shape, -a, a, dtype)


def xavier_normal(key, shape, gain: float = 1.0, dtype=float32) -> Tensor:
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans("xavier_normal", shape)
    return normal(key, shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def _kaiming_std(op: str, shape, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = _fans(op, shape)
    if mode not in ("fan_in", "fan_out"):
        raise_error(UsageError, op, f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(key, shape, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", dtype=float32) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He); PyTorch's defaults."""
    bound = math.sqrt(3.0) * _kaiming_std("kaiming_uniform", shape, a, mode, nonlinearity)
    return uniform(key, shape, -bound, bound, dtype)


def kaiming_normal(key, shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", dtype=float32) -> Tensor:
    """N(0, (gain / sqrt(fan))**2) (He)."""
    return normal(key, shape, 0.0, _kaiming_std("kaiming_normal", shape, a, mode, nonlinearity),
                  dtype)


def trunc_normal(key, shape, std: float = 1.0, low: float = -2.0, high: float = 2.0,
                 dtype=float32) -> Tensor:
    """N(0, std**2) truncated to [low * std, high * std] by inverting the normal CDF."""
    from ..ops.elementwise import erfinv
    lo, hi = (0.5 * (1 + math.erf(b / math.sqrt(2))) for b in (low, high))
    u = uniform(key, shape, lo, hi, dtype)
    return erfinv(2.0 * u - 1.0) * (math.sqrt(2.0) * std)


__all__ = ["calculate_gain", "uniform", "normal", "zeros", "ones", "xavier_uniform",
           "xavier_normal", "kaiming_uniform", "kaiming_normal", "trunc_normal"]
