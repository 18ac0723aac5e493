"""Parameter initializers, key-based: `init.xavier_uniform(key, (fan_out, fan_in))`.

Each takes a key (nb.random.key) or None (draw one from the global generator that
nb.seed resets, as PyTorch's initializers do) and returns a new tensor. Fans follow
PyTorch's convention for a weight of shape [out, in, *kernel]: fan_in = in * prod(kernel),
fan_out = out * prod(kernel).

Example:
    >>> w = nb.nn.init.kaiming_uniform(nb.random.key(0), (64, 32))
    >>> w.shape, bool(nb.all(nb.abs(w) <= (6 / 32) ** 0.5))   # bound sqrt(6 / fan_in)
    ((64, 32), True)
"""
from __future__ import annotations

import math

from ..args import as_choice, as_float, as_key, as_opt_float
from ..creation import _dtype_arg, shape_arg
from ..dtypes import float32
from ..errors import UsageError, raise_error
from ..ops import random as _random
from ..tensor import Tensor

_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0,
          "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75, "leaky_relu": None}


def _args(op: str, key, shape, dtype) -> tuple:
    """The checked (key, shape, dtype) of an initializer (the key still None: drawn only
    by the initializers that use it)."""
    dtype = _dtype_arg(op, dtype, float32)
    return as_key(op, "key", key), shape_arg(op, shape, dtype), dtype


def _key(key):
    return _random._next_key() if key is None else key


def _fans(op: str, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 2:
        raise_error(UsageError, op, f"fan in/out need a weight of at least 2 dimensions, got "
                    f"shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gains (torch.nn.init.calculate_gain): linear/conv/sigmoid 1,
    tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope**2)) with slope `param`
    (default 0.01), selu 3/4.

    Example:
        >>> round(nb.nn.init.calculate_gain("relu"), 4), nb.nn.init.calculate_gain("selu")
        (1.4142, 0.75)
        >>> round(nb.nn.init.calculate_gain("leaky_relu", 0.2), 4)
        1.3868
    """
    op = "nb.nn.init.calculate_gain"
    nonlinearity = as_choice(op, "nonlinearity", nonlinearity, tuple(_GAINS))
    param = as_opt_float(op, "param", param)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    return _GAINS[nonlinearity]


def uniform(key, shape, low: float = 0.0, high: float = 1.0, dtype=float32) -> Tensor:
    """Values drawn uniformly from [low, high), of `shape` and `dtype`
    (torch.nn.init.uniform_).

    Example:
        >>> w = nb.nn.init.uniform(nb.random.key(0), (2, 3), low=-0.1, high=0.1)
        >>> w.shape, w.dtype, float(w.min()) >= -0.1, float(w.max()) < 0.1
        ((2, 3), nb.float32, True, True)
    """
    op = "nb.nn.init.uniform"
    key, shape, dtype = _args(op, key, shape, dtype)
    low, high = as_float(op, "low", low), as_float(op, "high", high)
    return _random.uniform(_key(key), shape, dtype, low, high)


def normal(key, shape, mean: float = 0.0, std: float = 1.0, dtype=float32) -> Tensor:
    """Values drawn from N(mean, std**2), of `shape` and `dtype` (torch.nn.init.normal_).

    Example:
        >>> w = nb.nn.init.normal(nb.random.key(0), (1000,), mean=1.0, std=0.1)
        >>> round(float(w.mean()), 1), round(float(w.std()), 1)
        (1.0, 0.1)
    """
    op = "nb.nn.init.normal"
    key, shape, dtype = _args(op, key, shape, dtype)
    mean, std = as_float(op, "mean", mean), as_float(op, "std", std, min=0.0)
    return _random.normal(_key(key), shape, dtype) * std + mean


def zeros(key, shape, dtype=float32) -> Tensor:
    """Zeros of `shape` (the key is accepted and unused, so that every initializer is
    called alike), as torch.nn.init.zeros_.

    Example:
        >>> nb.nn.init.zeros(None, (3,))
        Tensor([0. 0. 0.] : f32[3])
    """
    from ..creation import zeros as _zeros
    _, shape, dtype = _args("nb.nn.init.zeros", key, shape, dtype)
    return _zeros(shape, dtype=dtype)


def ones(key, shape, dtype=float32) -> Tensor:
    """Ones of `shape` (the key is accepted and unused), as torch.nn.init.ones_.

    Example:
        >>> nb.nn.init.ones(None, (2,), dtype=nb.float16)
        Tensor([1. 1.] : f16[2])
    """
    from ..creation import ones as _ones
    _, shape, dtype = _args("nb.nn.init.ones", key, shape, dtype)
    return _ones(shape, dtype=dtype)


def xavier_uniform(key, shape, gain: float = 1.0, dtype=float32) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot), as
    torch.nn.init.xavier_uniform_; `shape` has at least 2 dimensions.

    Example:
        >>> w = nb.nn.init.xavier_uniform(nb.random.key(0), (20, 30))
        >>> w.shape, float(abs(w).max()) <= (6 / (30 + 20)) ** 0.5
        ((20, 30), True)
    """
    op = "nb.nn.init.xavier_uniform"
    key, shape, dtype = _args(op, key, shape, dtype)
    fan_in, fan_out = _fans(op, shape)
    a = as_float(op, "gain", gain) * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform(key, shape, -a, a, dtype)


def xavier_normal(key, shape, gain: float = 1.0, dtype=float32) -> Tensor:
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot), as
    torch.nn.init.xavier_normal_.

    Example:
        >>> w = nb.nn.init.xavier_normal(nb.random.key(0), (200, 300))
        >>> round(float(w.std()), 3), round((2 / (300 + 200)) ** 0.5, 3)
        (0.063, 0.063)
    """
    op = "nb.nn.init.xavier_normal"
    key, shape, dtype = _args(op, key, shape, dtype)
    fan_in, fan_out = _fans(op, shape)
    std = abs(as_float(op, "gain", gain)) * math.sqrt(2.0 / max(fan_in + fan_out, 1))
    return normal(key, shape, 0.0, std, dtype)


def _kaiming_std(op: str, shape, a, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = _fans(op, shape)
    a = as_float(op, "a", a)
    fan = fan_in if as_choice(op, "mode", mode, ("fan_in", "fan_out")) == "fan_in" else fan_out
    gain = calculate_gain(as_choice(op, "nonlinearity", nonlinearity, tuple(_GAINS)), a)
    return gain / math.sqrt(fan) if fan else 0.0  # a weight with a 0 dim: empty, any std


def kaiming_uniform(key, shape, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", dtype=float32) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He), as torch.nn.init.kaiming_uniform_ with
    its defaults (leaky_relu gain of slope `a`, fan_in). nn.Linear's weight is this with
    a = sqrt(5).

    Example:
        >>> w = nb.nn.init.kaiming_uniform(nb.random.key(0), (64, 32), nonlinearity="relu")
        >>> w.shape, float(abs(w).max()) <= 2 ** 0.5 * (3 / 32) ** 0.5
        ((64, 32), True)
    """
    op = "nb.nn.init.kaiming_uniform"
    key, shape, dtype = _args(op, key, shape, dtype)
    bound = math.sqrt(3.0) * _kaiming_std(op, shape, a, mode, nonlinearity)
    return uniform(key, shape, -bound, bound, dtype)


def kaiming_normal(key, shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", dtype=float32) -> Tensor:
    """N(0, (gain / sqrt(fan))**2) (He), as torch.nn.init.kaiming_normal_; the fan counts
    the kernel's elements for a conv weight [out, in, *kernel].

    Example:
        >>> w = nb.nn.init.kaiming_normal(nb.random.key(0), (256, 128), nonlinearity="relu")
        >>> round(float(w.std()), 3), round((2 / 128) ** 0.5, 3)
        (0.125, 0.125)
    """
    op = "nb.nn.init.kaiming_normal"
    key, shape, dtype = _args(op, key, shape, dtype)
    return normal(key, shape, 0.0, _kaiming_std(op, shape, a, mode, nonlinearity), dtype)


def trunc_normal(key, shape, std: float = 1.0, low: float = -2.0, high: float = 2.0,
                 dtype=float32) -> Tensor:
    """N(0, std**2) truncated to [low * std, high * std] by inverting the normal CDF.
    Note the bounds are in units of `std` (torch.nn.init.trunc_normal_ takes absolute
    bounds a, b), and the mean is 0.

    Example:
        >>> w = nb.nn.init.trunc_normal(nb.random.key(0), (1000,), std=0.02)
        >>> float(abs(w).max()) <= 2 * 0.02, round(float(w.std()), 3)
        (True, 0.017)
    """
    from ..ops.elementwise import erfinv
    op = "nb.nn.init.trunc_normal"
    key, shape, dtype = _args(op, key, shape, dtype)
    std = as_float(op, "std", std, min=0.0)
    low, high = as_float(op, "low", low), as_float(op, "high", high)
    lo, hi = (0.5 * (1 + math.erf(b / math.sqrt(2))) for b in (low, high))
    u = uniform(key, shape, lo, hi, dtype)
    return erfinv(2.0 * u - 1.0) * (math.sqrt(2.0) * std)


__all__ = ["calculate_gain", "uniform", "normal", "zeros", "ones", "xavier_uniform",
           "xavier_normal", "kaiming_uniform", "kaiming_normal", "trunc_normal"]
