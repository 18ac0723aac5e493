"""Layers, with PyTorch's constructor arguments, parameter names and initialization, so a
PyTorch state_dict loads into the matching nb.nn model.

Randomness: initialization takes `key=` (nb.random.key) or draws from the global generator
(nb.seed). Dropout in training mode draws a fresh mask per call when run eagerly; under a
transform (jit, grad, vmap) pass `rng=` (a key) to the call, since a mask drawn while
tracing would be the same at every call.
"""
from __future__ import annotations

import math

import nabla_like as nb  # public ops, read at call time

from ..args import (as_bool, as_choice, as_float, as_int, as_int_tuple, as_key, as_opt_float,
                    as_opt_int, as_probability, check_divisible, class_op)
from ..creation import shape_arg
from ..dtypes import float32
from ..errors import ArgumentValueError, ShapeError, UsageError, raise_error
from ..ops import random as _random
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module


def _split(key, n: int) -> list:
    """n keys from `key`, or n Nones (each initializer then draws from the global generator)."""
    return [None] * n if key is None else list(_random.split(key, n))


def _uniform_fan_in(key, shape, fan_in: int) -> Tensor:
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return init.uniform(key, shape, -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias over the last axis of x [..., in_features]; weight
    [out_features, in_features] and bias [out_features] (none with bias=False), both
    initialized as PyTorch's: uniform in +-1/sqrt(in_features).

    Example:
        >>> layer = nb.nn.Linear(3, 2, key=nb.random.key(0))
        >>> layer(nb.ones((4, 3))).shape, layer.weight.shape, layer.bias.shape
        ((4, 2), (2, 3), (2,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, key=None):
        super().__init__()
        op = class_op(self)
        in_features = as_int(op, "in_features", in_features, min=0)
        out_features = as_int(op, "out_features", out_features, min=0)
        bias, key = as_bool(op, "bias", bias), as_key(op, "key", key)
        kw, kb = _split(key, 2)
        self.in_features, self.out_features = in_features, out_features
        self.weight = init.kaiming_uniform(kw, (out_features, in_features), a=math.sqrt(5))
        self.bias = _uniform_fan_in(kb, (out_features,), in_features) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table `weight` [num_embeddings, embedding_dim], initialized N(0, 1):
    integer indices of any shape give indices.shape + (embedding_dim,). The row at
    `padding_idx` starts at zero and gets no gradient (as in PyTorch).

    Example:
        >>> emb = nb.nn.Embedding(10, 3, padding_idx=0, key=nb.random.key(0))
        >>> emb(nb.tensor([[0, 5, 9]])).shape
        (1, 3, 3)
        >>> emb(nb.tensor([0]))
        Tensor(
        [[0. 0. 0.]] : f32[1,3]
        )
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 *, key=None):
        super().__init__()
        op = class_op(self)
        num_embeddings = as_int(op, "num_embeddings", num_embeddings, min=0)
        embedding_dim = as_int(op, "embedding_dim", embedding_dim, min=0)
        padding_idx, key = as_opt_int(op, "padding_idx", padding_idx), as_key(op, "key", key)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise_error(ArgumentValueError, op, f"padding_idx must be within num_embeddings="
                        f"{num_embeddings}, got {padding_idx}")
        self.num_embeddings, self.embedding_dim, self.padding_idx = \
            num_embeddings, embedding_dim, padding_idx
        w = init.normal(key, (num_embeddings, embedding_dim))
        if padding_idx is not None:
            w = nb.where((nb.arange(num_embeddings) == padding_idx % num_embeddings)[:, None], 0.0, w)
        self.weight = w

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _window(op: str, name: str, value, n: int = 2, low: int = 1) -> tuple[int, ...]:
    """A window argument (kernel_size, stride, ...): an int or n ints, each at least `low`."""
    return as_int_tuple(op, name, value, min=low, length=n)


def _conv_padding(op: str, padding, n: int, strings: bool):
    """A convolution layer's padding: an int or n ints, n (lo, hi) pairs, or (with
    `strings`) "same" / "valid" in any case, as F.conv*d takes them."""
    if strings and isinstance(padding, str):
        as_choice(op, "padding", padding.lower(), ("same", "valid"))
        return padding
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(
            isinstance(p, (tuple, list)) for p in padding):
        return tuple(_window(op, "padding", p, 2, low=0) for p in padding)
    return _window(op, "padding", padding, n, low=0)


def _pool_args(op: str, kernel_size, stride, padding, dilation=1) -> None:
    """Check a pooling layer's window arguments (stored as given, as PyTorch's are)."""
    _window(op, "kernel_size", kernel_size)
    if stride is not None:
        _window(op, "stride", stride)
    _window(op, "padding", padding, low=0)
    _window(op, "dilation", dilation)


class _ConvNd(Module):
    """A convolution layer with PyTorch's weight layout [out, in / groups, *kernel] and init."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, output_padding=0, *, key=None):
        super().__init__()
        op, n = class_op(self), self._n
        in_channels = as_int(op, "in_channels", in_channels, min=0)
        out_channels = as_int(op, "out_channels", out_channels, min=0)
        groups = as_int(op, "groups", groups, min=1)
        check_divisible(op, "in_channels", in_channels, "groups", groups)
        check_divisible(op, "out_channels", out_channels, "groups", groups)
        self.kernel_size = _window(op, "kernel_size", kernel_size, n)
        self.stride, self.dilation = _window(op, "stride", stride, n), _window(op, "dilation", dilation, n)
        self.padding = _conv_padding(op, padding, n, strings=not self._transposed)
        self.output_padding = _window(op, "output_padding", output_padding, n, low=0)
        if self._transposed and any(e >= s and e >= d for e, s, d in
                                    zip(self.output_padding, self.stride, self.dilation)):
            raise_error(ShapeError, op, f"output_padding {self.output_padding} must be smaller "
                        f"than the stride {self.stride} or the dilation {self.dilation}")
        bias, key = as_bool(op, "bias", bias), as_key(op, "key", key)
        kw, kb = _split(key, 2)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = init.kaiming_uniform(kw, shape, a=math.sqrt(5))
        fan_in = shape[1] * math.prod(self.kernel_size)
        self.bias = _uniform_fan_in(kb, (out_channels,), fan_in) if bias else None

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
               f"stride={self.stride}"


class Conv1d(_ConvNd):
    """1-D convolution of [N, C_in, L] (or [C_in, L]) inputs, as PyTorch's nn.Conv1d:
    weight [out_channels, in_channels / groups, kernel_size], bias [out_channels];
    padding is an int, ((lo, hi),), or "same" / "valid".

    Example:
        >>> conv = nb.nn.Conv1d(2, 4, 3, padding=1, key=nb.random.key(0))
        >>> conv(nb.ones((1, 2, 5))).shape, conv.weight.shape
        ((1, 4, 5), (4, 2, 3))
    """

    _n = 1

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv2d(_ConvNd):
    """2-D convolution of [N, C_in, H, W] (NCHW) inputs, as PyTorch's nn.Conv2d: weight
    [out_channels, in_channels / groups, kH, kW], bias [out_channels]; kernel_size,
    stride, padding and dilation are an int or a pair, padding also "same" / "valid".

    Example:
        >>> conv = nb.nn.Conv2d(3, 8, 3, stride=2, padding=1, key=nb.random.key(0))
        >>> conv(nb.ones((1, 3, 8, 8))).shape, conv.weight.shape
        ((1, 8, 4, 4), (8, 3, 3, 3))
    """

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input), as
    PyTorch's nn.ConvTranspose2d: weight [in_channels, out_channels / groups, kH, kW];
    the output is (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1
    high (likewise wide).

    Example:
        >>> up = nb.nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1, key=nb.random.key(0))
        >>> up(nb.ones((1, 8, 4, 4))).shape, up.weight.shape
        ((1, 3, 8, 8), (8, 3, 4, 4))
    """

    _transposed = True

    def forward(self, x):
        return F.conv2d_transpose(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.dilation, self.groups)


class MaxPool2d(Module):
    """Max over kernel_size windows of [N, C, H, W] inputs, as PyTorch's nn.MaxPool2d
    (stride defaults to kernel_size; padding counts as -inf).

    Example:
        >>> nb.nn.MaxPool2d(2)(nb.arange(16.0).reshape(1, 1, 4, 4))
        Tensor(
        [[[[ 5.  7.]
           [13. 15.]]]] : f32[1,1,2,2]
        )
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        op = class_op(self)
        _pool_args(op, kernel_size, stride, padding, dilation)
        self.kernel_size, self.stride, self.padding, self.dilation = \
            kernel_size, stride, padding, dilation
        self.ceil_mode = as_bool(op, "ceil_mode", ceil_mode)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)


class AvgPool2d(Module):
    """Mean over kernel_size windows of [N, C, H, W] inputs, as PyTorch's nn.AvgPool2d
    (stride defaults to kernel_size; count_include_pad=True counts padding as zeros).

    Example:
        >>> nb.nn.AvgPool2d(2)(nb.arange(16.0).reshape(1, 1, 4, 4))
        Tensor(
        [[[[ 2.5  4.5]
           [10.5 12.5]]]] : f32[1,1,2,2]
        )
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad: bool = True):
        super().__init__()
        op = class_op(self)
        _pool_args(op, kernel_size, stride, padding)
        self.count_include_pad = as_bool(op, "count_include_pad", count_include_pad)
        self.ceil_mode = as_bool(op, "ceil_mode", ceil_mode)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling of [N, C, H, W] inputs to a fixed output_size (an int, or a pair
    where None keeps that dimension), with PyTorch's window boundaries.

    Example:
        >>> nb.nn.AdaptiveAvgPool2d(1)(nb.arange(16.0).reshape(1, 1, 4, 4))
        Tensor(
        [[[[7.5]]]] : f32[1,1,1,1]
        )
    """

    def __init__(self, output_size):
        super().__init__()
        op = class_op(self)
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2:
            raise_error(ArgumentValueError, op, f"output_size must be an int or a pair, got "
                        f"{output_size!r}")
        for size in sizes:
            as_opt_int(op, "output_size", size, min=1)  # None keeps that dim
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class _Norm(Module):
    def _shape(self, normalized_shape) -> tuple[int, ...]:
        return shape_arg(class_op(self), normalized_shape, float32)

    def _affine_params(self, shape, affine: bool, bias: bool = True) -> None:
        self.weight = nb.ones(shape) if affine else None
        self.bias = nb.zeros(shape) if affine and bias else None


class LayerNorm(_Norm):
    """Normalization over the trailing normalized_shape dimensions (biased variance), with
    an elementwise weight (ones) and bias (zeros) of that shape, as PyTorch's nn.LayerNorm.

    Example:
        >>> nb.nn.LayerNorm(3)(nb.tensor([[1.0, 2.0, 3.0]]))
        Tensor(
        [[-1.2247  0.      1.2247]] : f32[1,3]
        )
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        super().__init__()
        op = class_op(self)
        self.normalized_shape = self._shape(normalized_shape)
        self.eps = as_float(op, "eps", eps, min=0.0)
        self._affine_params(self.normalized_shape, as_bool(op, "elementwise_affine", elementwise_affine),
                            as_bool(op, "bias", bias))

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class RMSNorm(_Norm):
    """x / sqrt(mean(x**2) + eps) over the trailing normalized_shape dimensions, times an
    elementwise weight (ones); eps=None uses the dtype's machine epsilon (as PyTorch).

    Example:
        >>> nb.nn.RMSNorm(2)(nb.tensor([[3.0, 4.0]]))
        Tensor(
        [[0.8485 1.1314]] : f32[1,2]
        )
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True):
        super().__init__()
        op = class_op(self)
        self.normalized_shape = self._shape(normalized_shape)
        self.eps = as_opt_float(op, "eps", eps, min=0.0)
        self._affine_params(self.normalized_shape, as_bool(op, "elementwise_affine", elementwise_affine),
                            bias=False)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class GroupNorm(_Norm):
    """Normalization of [N, C, ...] over num_groups groups of channels (F.group_norm), with
    per-channel weight (ones) and bias (zeros) [num_channels], as PyTorch's nn.GroupNorm.

    Example:
        >>> norm = nb.nn.GroupNorm(2, 4)
        >>> norm(nb.ones((2, 4, 3))).shape, [name for name, _ in norm.named_parameters()]
        ((2, 4, 3), ['weight', 'bias'])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True):
        super().__init__()
        op = class_op(self)
        num_groups = as_int(op, "num_groups", num_groups, min=1)
        num_channels = as_int(op, "num_channels", num_channels, min=0)
        check_divisible(op, "num_channels", num_channels, "num_groups", num_groups)
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps = as_float(op, "eps", eps, min=0.0)
        self._affine_params((num_channels,), as_bool(op, "affine", affine))

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


class _BatchNorm(Module):
    """Batch normalization over [N, C, ...]; running statistics are buffers, updated in
    training mode (the module's attributes are rebound: under jit, return the module from
    the step to keep the new statistics)."""

    _dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        op = class_op(self)
        num_features = as_int(op, "num_features", num_features, min=0)
        eps, momentum = as_float(op, "eps", eps, min=0.0), as_float(op, "momentum", momentum)
        affine = as_bool(op, "affine", affine)
        track_running_stats = as_bool(op, "track_running_stats", track_running_stats)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nb.ones((num_features,)) if affine else None
        self.bias = nb.zeros((num_features,)) if affine else None
        self.track_running_stats = track_running_stats
        self.register_buffer("running_mean", nb.zeros((num_features,)) if track_running_stats else None)
        self.register_buffer("running_var", nb.ones((num_features,)) if track_running_stats else None)

    def forward(self, x):
        x = nb.tensor(x) if not isinstance(x, Tensor) else x
        if x.ndim not in self._dims:
            raise_error(ShapeError, type(self).__name__, f"expects an input of "
                        f"{' or '.join(str(d) for d in self._dims)} dimensions, got "
                        f"{x._value.aval.short()}")
        batch_stats = self.training or not self.track_running_stats
        if not (self.training and self.track_running_stats):
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                batch_stats, self.momentum, self.eps)
        y, mean, var = F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                    self.bias, True, self.momentum, self.eps, return_stats=True)
        object.__setattr__(self, "running_mean", mean)
        object.__setattr__(self, "running_var", var)
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of [N, C] or [N, C, L] inputs per channel, as PyTorch's
    nn.BatchNorm1d: in training mode with the batch's statistics (and running_mean /
    running_var moved by `momentum` toward them), in eval mode with the running ones.

    Example:
        >>> bn = nb.nn.BatchNorm1d(2)
        >>> bn(nb.tensor([[1.0, 2.0], [3.0, 6.0]]))
        Tensor(
        [[-1. -1.]
         [ 1.  1.]] : f32[2,2]
        )
        >>> bn.running_mean, bn.running_var
        (Tensor([0.2 0.4] : f32[2]), Tensor([1.1 1.7] : f32[2]))
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of [N, C, H, W] inputs per channel (statistics over N, H and
    W), as PyTorch's nn.BatchNorm2d; running_mean and running_var are buffers.

    Example:
        >>> bn = nb.nn.BatchNorm2d(3)
        >>> bn(nb.ones((2, 3, 4, 4))).shape, [name for name, _ in bn.named_buffers()]
        ((2, 3, 4, 4), ['running_mean', 'running_var'])
    """

    _dims = (4,)


class Dropout(Module):
    """Zeroes elements with probability p (0.5 by default) in training mode, scaling the
    rest by 1/(1-p); the identity in eval mode. Under jit, grad or vmap pass `rng=` (a key)
    to the call.

    Example:
        >>> drop = nb.nn.Dropout(0.5)
        >>> drop(nb.ones((4,)), rng=nb.random.key(0))
        Tensor([0. 0. 2. 2.] : f32[4])
        >>> drop.eval()(nb.ones((4,)))
        Tensor([1. 1. 1. 1.] : f32[4])
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = as_probability(class_op(self), "p", p)

    def forward(self, x, rng=None):
        if not self.training or self.p == 0.0:
            return x
        return F.dropout(_call_key("Dropout", x, rng), x, self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _call_key(op: str, x: Tensor, rng):
    """The key for a call's random draw: `rng`, or, eagerly, one from the global generator."""
    if rng is not None:
        return rng
    if x._value.ctx.level != 0:
        raise_error(UsageError, op, "under jit, grad or vmap, training-mode dropout needs "
                    "rng= (a key; a mask drawn while tracing would repeat at every call): call "
                    "model(x, rng=key), or model.eval()")
    return _random._next_key()


def _takes_rng(m: Module) -> bool:
    return isinstance(m, (Dropout, Sequential, MultiheadAttention, TransformerEncoderLayer,
                          TransformerDecoderLayer))


class Sequential(Module):
    """Modules (or any callables) applied in order, given as arguments or one list;
    `rng=` (a key) is split among the layers that draw randomness. Indexing gives a layer,
    slicing a Sequential, and the parameters are named "0.weight", "2.bias", ... as in
    PyTorch.

    Example:
        >>> model = nb.nn.Sequential(nb.nn.Linear(4, 8, key=nb.random.key(0)), nb.nn.ReLU(),
        ...                          nb.nn.Linear(8, 2, key=nb.random.key(1)))
        >>> model(nb.ones((3, 4))).shape, len(model), sum(p.size for p in model.parameters())
        ((3, 2), 3, 58)
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, m in enumerate(layers):
            if not callable(m):
                raise_error(UsageError, class_op(self), f"layer {i} is not callable: {m!r}")
        self.layers = list(layers)

    def forward(self, x, rng=None):
        keys = _split(rng, len(self.layers))
        for m, k in zip(self.layers, keys):
            x = m(x, rng=k) if k is not None and isinstance(m, Module) and _takes_rng(m) else m(x)
        return x

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def named_children(self):
        for i, m in enumerate(self.layers):
            if isinstance(m, Module):
                yield str(i), m


class _Activation(Module):
    fn = None

    def forward(self, x):
        return type(self).fn(x)


def _activation(name: str, fn, summary: str, output: str) -> type:
    """A module class applying `fn`; its docstring is `summary` and an example on
    [-1, 0, 2] whose printed result is `output`."""
    doc = (f"{summary}\n\n    Example:\n        >>> nb.nn.{name}()(nb.tensor([-1.0, 0.0, 2.0]))\n"
           f"        {output}\n    ")
    return type(name, (_Activation,), {"fn": staticmethod(fn), "__doc__": doc})


ReLU = _activation("ReLU", nb.relu, "max(x, 0), elementwise (nb.relu).",
                   "Tensor([0. 0. 2.] : f32[3])")
GELU = _activation("GELU", nb.gelu, "x * Phi(x), Phi the standard normal CDF (nb.gelu, exact "
                   "erf form as PyTorch's default).", "Tensor([-0.1587  0.      1.9545] : f32[3])")
SiLU = _activation("SiLU", nb.silu, "x * sigmoid(x), elementwise (nb.silu, a.k.a. swish).",
                   "Tensor([-0.2689  0.      1.7616] : f32[3])")
Tanh = _activation("Tanh", nb.tanh, "tanh(x), elementwise (nb.tanh).",
                   "Tensor([-0.7616  0.      0.964 ] : f32[3])")
Sigmoid = _activation("Sigmoid", nb.sigmoid, "1 / (1 + exp(-x)), elementwise (nb.sigmoid).",
                      "Tensor([0.2689 0.5    0.8808] : f32[3])")
Softplus = _activation("Softplus", nb.softplus, "log(1 + exp(x)), elementwise and stable "
                       "(nb.softplus).", "Tensor([0.3133 0.6931 2.1269] : f32[3])")
Mish = _activation("Mish", nb.mish, "x * tanh(softplus(x)), elementwise (nb.mish).",
                   "Tensor([-0.3034  0.      1.944 ] : f32[3])")
Identity = _activation("Identity", lambda x: x, "Returns its input unchanged (a placeholder "
                       "layer).", "Tensor([-1.  0.  2.] : f32[3])")


class LeakyReLU(Module):
    """x where x >= 0, else negative_slope * x (F.leaky_relu; slope 0.01 by default).

    Example:
        >>> nb.nn.LeakyReLU(0.1)(nb.tensor([-1.0, 0.0, 2.0]))
        Tensor([-0.1  0.   2. ] : f32[3])
    """

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = as_float(class_op(self), "negative_slope", negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Softmax(Module):
    """Softmax along `dim` (the last by default; None: over every element), as PyTorch's
    nn.Softmax.

    Example:
        >>> nb.nn.Softmax()(nb.tensor([0.0, 1.0]))
        Tensor([0.2689 0.7311] : f32[2])
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = as_opt_int(class_op(self), "dim", dim)  # None: over every element

    def forward(self, x):
        return nb.softmax(x, axis=self.dim)


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim` (the last by default), computed stably.

    Example:
        >>> nb.nn.LogSoftmax()(nb.tensor([0.0, 0.0]))
        Tensor([-0.6931 -0.6931] : f32[2])
    """

    def forward(self, x):
        return nb.log_softmax(x, axis=self.dim)


class Flatten(Module):
    """Merges dimensions start_dim..end_dim (1..-1 by default: all but the batch) into
    one, as PyTorch's nn.Flatten.

    Example:
        >>> nb.nn.Flatten()(nb.ones((2, 3, 4))).shape
        (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        op = class_op(self)
        self.start_dim, self.end_dim = as_int(op, "start_dim", start_dim), as_int(op, "end_dim", end_dim)

    def forward(self, x):
        return nb.flatten(x, self.start_dim, self.end_dim)


# ---------------------------------------------------------------------------
# Attention and transformer layers (PyTorch's parameter names and layouts)
# ---------------------------------------------------------------------------
class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters (in_proj_weight [3E, E],
    in_proj_bias, out_proj) and layout: [L, N, E] inputs, or [N, L, E] with
    batch_first=True. forward(query, key, value, attn_mask=None, key_padding_mask=None,
    is_causal=False, need_weights=True, average_attn_weights=True) returns (output, weights),
    as PyTorch's: the attention weights [N, L, S] averaged over heads, or [N, heads, L, S]
    with average_attn_weights=False (after dropout, as PyTorch returns them); None with
    need_weights=False, which runs the fused scaled_dot_product_attention instead.

    Example:
        >>> mha = nb.nn.MultiheadAttention(8, 2, batch_first=True, key=nb.random.key(0))
        >>> out, weights = mha(nb.ones((2, 5, 8)), nb.ones((2, 7, 8)), nb.ones((2, 7, 8)))
        >>> out.shape, weights.shape, sum(p.size for p in mha.parameters())
        ((2, 5, 8), (2, 5, 7), 288)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, *, key=None):
        super().__init__()
        op = class_op(self)
        embed_dim = as_int(op, "embed_dim", embed_dim, min=1)
        num_heads = as_int(op, "num_heads", num_heads, min=1)
        check_divisible(op, "embed_dim", embed_dim, "num_heads", num_heads)
        dropout, bias = as_probability(op, "dropout", dropout), as_bool(op, "bias", bias)
        batch_first, key = as_bool(op, "batch_first", batch_first), as_key(op, "key", key)
        k1, k2 = _split(key, 2)
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = \
            embed_dim, num_heads, dropout, batch_first
        self.in_proj_weight = init.xavier_uniform(k1, (3 * embed_dim, embed_dim))
        self.in_proj_bias = nb.zeros((3 * embed_dim,)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, key=k2)
        if bias:
            self.out_proj.bias = nb.zeros((embed_dim,))

    def forward(self, query, key, value, attn_mask=None, key_padding_mask=None,
                is_causal: bool = False, need_weights: bool = True, average_attn_weights: bool = True,
                rng=None):
        need_weights = as_bool("MultiheadAttention", "need_weights", need_weights)
        average_attn_weights = as_bool("MultiheadAttention", "average_attn_weights", average_attn_weights)
        q, k, v = (t if self.batch_first else nb.swapaxes(t, 0, 1) for t in (query, key, value))
        if q.ndim != 3:
            raise_error(ShapeError, "MultiheadAttention", f"expects 3-D inputs, got "
                        f"{q._value.aval.short()}")
        n, L, e = q.shape
        h = self.num_heads
        w_q, w_k, w_v = nb.split(self.in_proj_weight, 3, axis=0)
        b_q, b_k, b_v = nb.split(self.in_proj_bias, 3) if self.in_proj_bias is not None \
            else (None, None, None)

        def heads(x, w, b):
            y = F.linear(x, w, b)
            return nb.transpose(nb.reshape(y, (n, y.shape[1], h, e // h)), (0, 2, 1, 3))
        qh, kh, vh = heads(q, w_q, b_q), heads(k, w_k, b_k), heads(v, w_v, b_v)
        mask = None
        if attn_mask is not None:
            m = nb.tensor(attn_mask) if not isinstance(attn_mask, Tensor) else attn_mask
            # PyTorch's bool attn_mask marks positions NOT allowed; float masks are added.
            mask = nb.logical_not(m) if m.dtype.kind == "b" else m
        if is_causal and mask is None:
            S = kh.shape[2]
            mask = nb.arange(L)[:, None] >= nb.arange(S)[None, :]
        if key_padding_mask is not None:
            kp = key_padding_mask if isinstance(key_padding_mask, Tensor) else nb.tensor(key_padding_mask)
            pad = nb.logical_not(kp)[:, None, None, :] if kp.dtype.kind == "b" else kp[:, None, None, :]
            if mask is None:
                mask = pad
            elif mask.dtype.kind == "b" and pad.dtype.kind == "b":
                mask = nb.logical_and(mask, pad)
            else:
                as_float = [nb.where(t, 0.0, -math.inf) if t.dtype.kind == "b" else t for t in (mask, pad)]
                mask = as_float[0] + as_float[1]
        drop = self.dropout if self.training else 0.0
        drop_key = _call_key("MultiheadAttention", q, rng) if drop else None
        weights = None
        if need_weights:  # the weights themselves: scores, mask, softmax, dropout
            scores = (qh @ nb.swapaxes(kh, -1, -2)) * (1.0 / math.sqrt(e // h))
            if mask is not None:
                scores = nb.where(mask, scores, -math.inf) if mask.dtype.kind == "b" else scores + mask
            weights = nb.softmax(scores, axis=-1)
            if drop:
                weights = F.dropout(drop_key, weights, drop)
            out = weights @ vh
            weights = nb.mean(weights, axis=1) if average_attn_weights else weights
        else:
            out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask, dropout_p=drop,
                                                 dropout_key=drop_key)
        out = nb.reshape(nb.transpose(out, (0, 2, 1, 3)), (n, L, e))
        out = self.out_proj(out)
        return (out if self.batch_first else nb.swapaxes(out, 0, 1)), weights


def _transformer_activation(op: str, activation, d_model, nhead, dim_feedforward, dropout,
                            layer_norm_eps, key, **flags):
    """The activation function of a transformer layer, its other arguments checked here to
    name the layer in errors (its sublayers check them again, as valid)."""
    d_model, nhead = as_int(op, "d_model", d_model, min=1), as_int(op, "nhead", nhead, min=1)
    check_divisible(op, "d_model", d_model, "nhead", nhead)
    as_int(op, "dim_feedforward", dim_feedforward, min=1)
    as_probability(op, "dropout", dropout)
    as_float(op, "layer_norm_eps", layer_norm_eps, min=0.0)
    as_key(op, "key", key)
    for name, flag in flags.items():
        as_bool(op, name, flag)
    if callable(activation):
        return activation
    return {"relu": nb.relu, "gelu": nb.gelu}[as_choice(op, "activation", activation, ("relu", "gelu"))]


class TransformerEncoderLayer(Module):
    """Self-attention and feed-forward blocks with residuals and LayerNorm (post-norm by
    default, norm_first=True for pre-norm), as PyTorch's nn.TransformerEncoderLayer, with
    its defaults (dim_feedforward=2048, dropout=0.1, relu, [L, N, E] unless batch_first).

    Example:
        >>> layer = nb.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
        ...                                       batch_first=True, key=nb.random.key(0))
        >>> layer(nb.ones((2, 5, 8))).shape, sum(p.size for p in layer.parameters())
        ((2, 5, 8), 600)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 *, key=None):
        super().__init__()
        activation = _transformer_activation(
            class_op(self), activation, d_model, nhead, dim_feedforward, dropout, layer_norm_eps,
            key, batch_first=batch_first, norm_first=norm_first, bias=bias)
        k1, k2, k3 = _split(key, 3)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first, key=k1)
        self.linear1 = Linear(d_model, dim_feedforward, bias, key=k2)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, key=k3)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False,
                rng=None):
        k = _split(rng, 4)

        def sa(x):
            y, _ = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                                  is_causal=is_causal, need_weights=False, rng=k[0])
            return self.dropout1(y, rng=k[1])

        def ff(x):
            return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)),
                                                           rng=k[2])), rng=k[3])
        x = src
        if self.norm_first:
            x = x + sa(self.norm1(x))
            return x + ff(self.norm2(x))
        x = self.norm1(x + sa(x))
        return self.norm2(x + ff(x))


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention over `memory` and feed-forward blocks, each with a
    residual and LayerNorm (post-norm by default, norm_first=True for pre-norm), as
    PyTorch's nn.TransformerDecoderLayer and with its defaults.

    Example:
        >>> layer = nb.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
        ...                                       batch_first=True, key=nb.random.key(0))
        >>> tgt, memory = nb.ones((2, 5, 8)), nb.ones((2, 7, 8))
        >>> layer(tgt, memory).shape, sum(p.size for p in layer.parameters())
        ((2, 5, 8), 904)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 *, key=None):
        super().__init__()
        activation = _transformer_activation(
            class_op(self), activation, d_model, nhead, dim_feedforward, dropout, layer_norm_eps,
            key, batch_first=batch_first, norm_first=norm_first, bias=bias)
        k1, k2, k3, k4 = _split(key, 4)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first, key=k1)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first, key=k2)
        self.linear1 = Linear(d_model, dim_feedforward, bias, key=k3)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, key=k4)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)
        self.activation = activation

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False, rng=None):
        k = _split(rng, 6)

        def sa(x):
            y, _ = self.self_attn(x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                                  is_causal=tgt_is_causal, need_weights=False, rng=k[0])
            return self.dropout1(y, rng=k[1])

        def ca(x):
            y, _ = self.multihead_attn(x, memory, memory, attn_mask=memory_mask,
                                       key_padding_mask=memory_key_padding_mask,
                                       is_causal=memory_is_causal, need_weights=False, rng=k[2])
            return self.dropout2(y, rng=k[3])

        def ff(x):
            return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)),
                                                           rng=k[4])), rng=k[5])
        x = tgt
        if self.norm_first:
            x = x + sa(self.norm1(x))
            x = x + ca(self.norm2(x))
            return x + ff(self.norm3(x))
        x = self.norm1(x + sa(x))
        x = self.norm2(x + ca(x))
        return self.norm3(x + ff(x))


__all__ = ["Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Embedding", "LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d",
           "BatchNorm2d", "Dropout", "Sequential", "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid",
           "Softplus", "Mish", "Identity", "LeakyReLU", "Softmax", "LogSoftmax", "Flatten",
           "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"]
