"""Neural-network functions: layers, normalizations, losses and attention as pure functions
of tensors (PyTorch's torch.nn.functional semantics and argument names).

Each is a composition of nb primitives, so every transform (grad, jvp, vmap, jit,
backward()) goes through it with the rules its primitives carry. Convolutions and
pooling are primitives of their own (nabla_like/ops/conv.py), re-exported here.

Example:
    >>> import nabla_like.nn.functional as F
    >>> logits, labels = nb.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]]), nb.tensor([0, 2])
    >>> round(float(F.cross_entropy(logits, labels)), 4)
    0.2395
    >>> round(float(F.cross_entropy(logits, labels, label_smoothing=0.1)), 4)
    0.3729
"""
from __future__ import annotations

import math

import nabla_like as nb  # the package's public ops, read at call time

from ..args import as_bool, as_float, as_int, as_opt_int
from ..dtypes import as_dtype, float32
from ..errors import DTypeError, ShapeError, UsageError, raise_error
from ..tensor import Tensor
from ..ops._common import broadcast_shapes, to_tensor
from ..ops.activations import gelu, mish, relu, sigmoid, silu, softplus  # noqa: F401
from ..ops.elementwise import tanh  # noqa: F401
from ..ops.reduce import log_softmax, logsumexp, softmax  # noqa: F401


def _float_input(op: str, x) -> Tensor:
    x = to_tensor(x, op)
    if x.dtype.kind != "f":
        raise_error(DTypeError, op, f"expects a floating-point input, got {x._value.aval.short()}")
    return x


def _short(x: Tensor) -> str:
    return x._value.aval.short()


# ---------------------------------------------------------------------------
# Activations beyond the elementwise family
# ---------------------------------------------------------------------------
def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x where x >= 0, else negative_slope * x (PyTorch's default slope 0.01).

    Example:
        >>> F.leaky_relu(nb.tensor([-2.0, -0.5, 0.0, 3.0]), 0.1)
        Tensor([-0.2  -0.05  0.    3.  ] : f32[4])
    """
    negative_slope = as_float("leaky_relu", "negative_slope", negative_slope)
    x = _float_input("leaky_relu", x)
    return nb.where(x >= 0, x, x * negative_slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1), alpha 1.0 by default (PyTorch's elu).

    Example:
        >>> F.elu(nb.tensor([-2.0, -0.5, 0.0, 3.0]))
        Tensor([-0.8647 -0.3935  0.      3.    ] : f32[4])
    """
    alpha = as_float("elu", "alpha", alpha)
    x = _float_input("elu", x)
    return nb.where(x > 0, x, alpha * nb.expm1(nb.minimum(x, 0.0)))


def relu6(x) -> Tensor:
    """min(max(x, 0), 6): ReLU capped at 6, as PyTorch's relu6.

    Example:
        >>> F.relu6(nb.tensor([-1.0, 3.0, 8.0]))
        Tensor([0. 3. 6.] : f32[3])
    """
    return nb.clip(_float_input("relu6", x), 0.0, 6.0)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val], [-1, 1] by default (PyTorch's hardtanh).

    Example:
        >>> F.hardtanh(nb.tensor([-2.0, -0.5, 0.0, 3.0]))
        Tensor([-1.  -0.5  0.   1. ] : f32[4])
    """
    min_val, max_val = as_float("hardtanh", "min_val", min_val), as_float("hardtanh", "max_val", max_val)
    return nb.clip(_float_input("hardtanh", x), min_val, max_val)


def hardswish(x) -> Tensor:
    """x * relu6(x + 3) / 6, the piecewise-linear approximation of silu (PyTorch's
    hardswish): 0 for x <= -3, x for x >= 3.

    Example:
        >>> F.hardswish(nb.tensor([-2.0, -0.5, 0.0, 3.0]))
        Tensor([-0.3333 -0.2083  0.      3.    ] : f32[4])
    """
    x = _float_input("hardswish", x)
    return x * nb.clip(x + 3.0, 0.0, 6.0) / 6.0


def logsigmoid(x) -> Tensor:
    """log(sigmoid(x)), computed stably as -softplus(-x) (no overflow for large |x|).

    Example:
        >>> F.logsigmoid(nb.tensor([0.0, 2.0]))
        Tensor([-0.6931 -0.1269] : f32[2])
    """
    return -softplus(-_float_input("logsigmoid", x))


# ---------------------------------------------------------------------------
# Linear layers, embeddings, one-hot
# ---------------------------------------------------------------------------
def linear(x, weight, bias=None) -> Tensor:
    """x @ weight.T + bias, with PyTorch's weight layout [out_features, in_features].

    Example:
        >>> F.linear(nb.ones((2, 3)), nb.ones((4, 3))).shape
        (2, 4)
    """
    x, weight = _float_input("linear", x), _float_input("linear", weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise_error(ShapeError, "linear", f"input {_short(x)} does not match weight {_short(weight)} "
                    f"(expected [..., {weight.shape[-1] if weight.ndim else '?'}] and a 2-D "
                    f"[out_features, in_features] weight)")
    out = nb.matmul(x, nb.transpose(weight))
    if bias is not None:
        bias = _float_input("linear", bias)
        if bias.shape != (weight.shape[0],):
            raise_error(ShapeError, "linear", f"bias {_short(bias)} does not match "
                        f"out_features={weight.shape[0]}")
        out = out + bias
    return out


def _int_input(op: str, x) -> Tensor:
    x = to_tensor(x, op)
    if x.dtype.kind not in "iu":
        raise_error(DTypeError, op, f"expects integer indices, got {_short(x)}")
    return x


def embedding(indices, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` [num_embeddings, dim] picked by integer `indices` (any shape);
    the result has shape indices.shape + (dim,). Out-of-range indices raise eagerly.
    `padding_idx`: that row gets no gradient (as in PyTorch).

    Example:
        >>> F.embedding(nb.tensor([[0, 2]]), nb.eye(3)).shape
        (1, 2, 3)
    """
    padding_idx = as_opt_int("embedding", "padding_idx", padding_idx)
    indices, weight = _int_input("embedding", indices), _float_input("embedding", weight)
    if weight.ndim != 2:
        raise_error(ShapeError, "embedding", f"weight must be 2-D [num_embeddings, dim], got "
                    f"{_short(weight)}")
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise_error(ShapeError, "embedding", f"padding_idx={padding_idx} is out of range "
                        f"for {n} embeddings")
        keep = nb.arange(n) != (padding_idx % n)
        weight = nb.where(keep[:, None], weight, nb.stop_gradient(weight))
    return nb.take(weight, indices, axis=0)


def one_hot(x, num_classes: int = -1, dtype=float32) -> Tensor:
    """One-hot rows for integer class indices: shape x.shape + (num_classes,). With
    num_classes=-1 (PyTorch's default) it is max(x) + 1, which needs a concrete `x`.
    The result is float32 unless `dtype` says otherwise (PyTorch returns int64).

    Example:
        >>> F.one_hot(nb.tensor([0, 2, 1]))
        Tensor(
        [[1. 0. 0.]
         [0. 0. 1.]
         [0. 1. 0.]] : f32[3,3]
        )
        >>> F.one_hot(nb.tensor([1]), 4, dtype=nb.int32)
        Tensor(
        [[0 1 0 0]] : i32[1,4]
        )
    """
    x = _int_input("one_hot", x)
    if num_classes == -1:
        num_classes = int(nb.max(x).item()) + 1
    if not isinstance(num_classes, int) or num_classes <= 0:
        raise_error(UsageError, "one_hot", f"num_classes must be a positive int, got {num_classes!r}")
    dtype = as_dtype(dtype)
    return nb.cast(nb.expand_dims(x, -1) == nb.arange(num_classes, dtype=x.dtype), dtype)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def dropout(key, x, rate: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability `rate` and scale the rest by 1 / (1 - rate),
    drawing the mask from `key` (nb.random.key); the identity when not training.

    Example:
        >>> F.dropout(nb.random.key(0), nb.ones((4,)), 0.5)
        Tensor([0. 0. 2. 2.] : f32[4])
    """
    rate, training = as_float("dropout", "rate", rate), as_bool("dropout", "training", training)
    x = _float_input("dropout", x)
    if not 0.0 <= rate <= 1.0:
        raise_error(UsageError, "dropout", f"rate must be in [0, 1], got {rate!r}")
    if not training or rate == 0.0:
        return x
    if rate == 1.0:
        return x * 0.0
    keep = nb.random.bernoulli(key, 1.0 - rate, x.shape)
    return nb.where(keep, x / (1.0 - rate), 0.0)


# ---------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------
def _normalized_axes(op: str, x: Tensor, normalized_shape) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise_error(ShapeError, op, f"normalized_shape {shape} does not match the trailing "
                    f"dimensions of the input {_short(x)}")
    return tuple(range(x.ndim - len(shape), x.ndim))


def _affine(op: str, y: Tensor, weight, bias, shape: tuple[int, ...]) -> Tensor:
    """y * weight + bias with both (optional) checked to have `shape`."""
    def checked(p, name: str):
        if p is None:
            return None
        p = _float_input(op, p)
        if p.shape != shape:
            raise_error(ShapeError, op, f"{name} {_short(p)} must have shape {shape}")
        return p
    return _scale_shift(y, checked(weight, "weight"), checked(bias, "bias"))


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing `normalized_shape` dimensions (biased variance), then
    scale by `weight` and shift by `bias` of that shape.

    Example:
        >>> x = nb.tensor([[1.0, 2.0, 3.0]])
        >>> F.layer_norm(x, (x.shape[-1],))
        Tensor(
        [[-1.2247  0.      1.2247]] : f32[1,3]
        )
    """
    eps = as_float("layer_norm", "eps", eps, min=0.0)
    x = _float_input("layer_norm", x)
    axes = _normalized_axes("layer_norm", x, normalized_shape)
    mean = nb.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = nb.mean(centered * centered, axis=axes, keepdims=True)
    return _affine("layer_norm", centered * nb.rsqrt(var + eps), weight, bias, x.shape[axes[0]:])


def rms_norm(x, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the trailing `normalized_shape` dimensions, times
    `weight`; eps defaults to the dtype's machine epsilon (as PyTorch).

    Example:
        >>> F.rms_norm(nb.tensor([[3.0, 4.0]]), 2)
        Tensor(
        [[0.8485 1.1314]] : f32[1,2]
        )
    """
    eps = None if eps is None else as_float("rms_norm", "eps", eps, min=0.0)
    x = _float_input("rms_norm", x)
    axes = _normalized_axes("rms_norm", x, normalized_shape)
    eps = float(nb.finfo(x.dtype).eps) if eps is None else eps
    y = x * nb.rsqrt(nb.mean(x * x, axis=axes, keepdims=True) + eps)
    return _affine("rms_norm", y, weight, None, x.shape[axes[0]:])


def _channel_param(op: str, p, c: int, ndim: int, name: str):
    if p is None:
        return None
    p = _float_input(op, p)
    if p.shape != (c,):
        raise_error(ShapeError, op, f"{name} {_short(p)} must have shape ({c},), one per channel")
    return nb.reshape(p, (c,) + (1,) * (ndim - 2))


def _scale_shift(y: Tensor, weight, bias) -> Tensor:
    """y * weight + bias, either one optional (already shaped to broadcast)."""
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def group_norm(x, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize [N, C, ...] over groups of C // num_groups channels (and all spatial
    positions), biased variance, then apply per-channel `weight` and `bias` of shape [C].

    Example:
        >>> F.group_norm(nb.tensor([[[1.0, 3.0], [5.0, 7.0]]]), 1)
        Tensor(
        [[[-1.3416 -0.4472]
          [ 0.4472  1.3416]]] : f32[1,2,2]
        )
    """
    eps = as_float("group_norm", "eps", eps, min=0.0)
    num_groups = as_int("group_norm", "num_groups", num_groups, min=1)
    x = _float_input("group_norm", x)
    if x.ndim < 2:
        raise_error(ShapeError, "group_norm", f"expects [N, C, ...], got {_short(x)}")
    n, c = x.shape[:2]
    if not isinstance(num_groups, int) or num_groups <= 0 or c % num_groups:
        raise_error(ShapeError, "group_norm", f"num_groups={num_groups!r} must divide the "
                    f"{c} channels of {_short(x)}")
    g = nb.reshape(x, (n, num_groups, -1))
    mean = nb.mean(g, axis=2, keepdims=True)
    var = nb.mean((g - mean) ** 2, axis=2, keepdims=True)
    y = nb.reshape((g - mean) * nb.rsqrt(var + eps), x.shape)
    return _scale_shift(y, _channel_param("group_norm", weight, c, x.ndim, "weight"),
                        _channel_param("group_norm", bias, c, x.ndim, "bias"))


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
               return_stats: bool = False):
    """Batch normalization of [N, C, ...] per channel. Training normalizes with the batch's
    statistics (biased variance); otherwise with `running_mean`/`running_var`.

    Pure: with `return_stats=True` it returns (y, new_running_mean, new_running_var), the
    running statistics moved by `momentum` toward the batch's (unbiased variance, as
    PyTorch); the BatchNorm modules store them.

    Example:
        >>> x = nb.tensor([[1.0], [3.0]])
        >>> y, mean, var = F.batch_norm(x, nb.zeros((1,)), nb.ones((1,)), training=True,
        ...                             return_stats=True)
        >>> y, mean, var
        (Tensor(
        [[-1.]
         [ 1.]] : f32[2,1]
        ), Tensor([0.2] : f32[1]), Tensor([1.1] : f32[1]))
    """
    op = "batch_norm"
    training, return_stats = as_bool(op, "training", training), as_bool(op, "return_stats", return_stats)
    momentum, eps = as_float(op, "momentum", momentum), as_float(op, "eps", eps, min=0.0)
    x = _float_input("batch_norm", x)
    if x.ndim < 2:
        raise_error(ShapeError, "batch_norm", f"expects [N, C, ...], got {_short(x)}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    rm = _channel_param("batch_norm", running_mean, c, x.ndim, "running_mean")
    rv = _channel_param("batch_norm", running_var, c, x.ndim, "running_var")
    if training:
        count = x.size // c
        if count <= 1:
            raise_error(ShapeError, "batch_norm", f"training needs more than one value per "
                        f"channel, got input {_short(x)}")
        mean = nb.mean(x, axis=axes, keepdims=True)
        var = nb.mean((x - mean) ** 2, axis=axes, keepdims=True)
    else:
        if rm is None or rv is None:
            raise_error(UsageError, "batch_norm", "evaluation mode needs running_mean and "
                        "running_var (or pass training=True)")
        mean, var = rm, rv
    y = (x - mean) * nb.rsqrt(var + eps)
    y = _scale_shift(y, _channel_param("batch_norm", weight, c, x.ndim, "weight"),
                     _channel_param("batch_norm", bias, c, x.ndim, "bias"))
    if not return_stats:
        return y
    if not training or rm is None:
        return y, running_mean, running_var
    batch_mean = nb.stop_gradient(nb.reshape(mean, (c,)))
    batch_var = nb.stop_gradient(nb.reshape(var, (c,))) * (count / (count - 1))
    new_mean = (1 - momentum) * nb.reshape(rm, (c,)) + momentum * batch_mean
    new_var = (1 - momentum) * nb.reshape(rv, (c,)) + momentum * batch_var
    return y, new_mean, new_var


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _reduce_loss(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise_error(UsageError, op, f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "mean":
        return nb.mean(loss)
    return nb.sum(loss) if reduction == "sum" else loss


def _same_shape(op: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise_error(ShapeError, op, f"input {_short(a)} and target {_short(b)} must have the "
                    f"same shape")


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or none) of (input - target)**2; input and target have one shape
    (no broadcasting).

    Example:
        >>> F.mse_loss(nb.tensor([1.0, 2.0]), nb.tensor([0.0, 4.0]))
        Tensor(2.5 : f32[])
        >>> F.mse_loss(nb.tensor([1.0, 2.0]), nb.tensor([0.0, 4.0]), reduction="none")
        Tensor([1. 4.] : f32[2])
    """
    input, target = _float_input("mse_loss", input), _float_input("mse_loss", target)
    _same_shape("mse_loss", input, target)
    return _reduce_loss("mse_loss", (input - target) ** 2, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or none) of |input - target|; input and target have one shape.

    Example:
        >>> F.l1_loss(nb.tensor([1.0, 2.0]), nb.tensor([0.0, 4.0]))
        Tensor(1.5 : f32[])
    """
    input, target = _float_input("l1_loss", input), _float_input("l1_loss", target)
    _same_shape("l1_loss", input, target)
    return _reduce_loss("l1_loss", nb.abs(input - target), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target,
    reduced by `reduction` (mean by default), as PyTorch's huber_loss.

    Example:
        >>> F.huber_loss(nb.tensor([0.5, 3.0]), nb.tensor([0.0, 0.0]), reduction="none")
        Tensor([0.125 2.5  ] : f32[2])
    """
    delta = as_float("huber_loss", "delta", delta)
    input, target = _float_input("huber_loss", input), _float_input("huber_loss", target)
    _same_shape("huber_loss", input, target)
    if delta <= 0:
        raise_error(UsageError, "huber_loss", f"delta must be positive, got {delta!r}")
    d = nb.abs(input - target)
    small = nb.minimum(d, delta)
    return _reduce_loss("huber_loss", 0.5 * small * small + delta * (d - small), reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """huber_loss with delta=beta, divided by beta (PyTorch's smooth L1): 0.5 d**2 / beta
    where |d| < beta, else |d| - 0.5 beta.

    Example:
        >>> F.smooth_l1_loss(nb.tensor([0.5, 3.0]), nb.tensor([0.0, 0.0]), reduction="none",
        ...                  beta=2.0)
        Tensor([0.0625 2.    ] : f32[2])
    """
    beta = as_float("smooth_l1_loss", "beta", beta)
    return huber_loss(input, target, reduction, beta) / beta


_ONE_HOT_CLASSES = 1024  # (a mask over more classes costs more than the gather)


def cross_entropy(input, target, reduction: str = "mean", label_smoothing: float = 0.0,
                  ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy of logits `input` [N, C] or [N, C, d1, ...] (or [C]) against
    integer class indices [N, d1, ...] or class probabilities of the input's shape.
    `label_smoothing` mixes the target with the uniform distribution; entries equal to
    `ignore_index` (integer targets) count neither in the loss nor in the mean, and other
    class indices outside [0, C) give a NaN loss.

    Example:
        >>> F.cross_entropy(nb.zeros((2, 3)), nb.tensor([0, 2]))
        Tensor(1.0986 : f32[])
    """
    label_smoothing = as_float("cross_entropy", "label_smoothing", label_smoothing)
    ignore_index = as_int("cross_entropy", "ignore_index", ignore_index)
    input = _float_input("cross_entropy", input)
    target = to_tensor(target, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise_error(UsageError, "cross_entropy", f"label_smoothing must be in [0, 1], got "
                    f"{label_smoothing!r}")
    class_axis = 0 if input.ndim == 1 else 1
    c = input.shape[class_axis]
    logp = log_softmax(input, axis=class_axis)
    if target.dtype.kind in "iu":
        expected = input.shape[:class_axis] + input.shape[class_axis + 1:]
        if target.shape != expected:
            raise_error(ShapeError, "cross_entropy", f"integer target {_short(target)} must have "
                        f"shape {expected} for input {_short(input)}")
        valid = target != ignore_index
        if c <= _ONE_HOT_CLASSES:
            # Few classes: the target's log-probability as a masked sum over the class axis,
            # which XLA fuses with the softmax (a gather, and its scatter-add gradient, are
            # separate loops; and this records fewer ops in eager code).
            where = [1] * input.ndim
            where[class_axis] = c
            classes = nb.iota(tuple(where), class_axis, dtype=target.dtype)
            hit = nb.expand_dims(target, class_axis) == classes
            nll = -nb.sum(nb.where(hit, logp, 0.0), axis=class_axis)
            in_range = nb.any(hit, axis=class_axis)  # (an index outside [0, C) hits nothing)
        else:
            safe = nb.where(valid, target, 0)
            picked = nb.take_along_axis(logp, nb.expand_dims(safe, class_axis), axis=class_axis)
            nll = -nb.squeeze(picked, class_axis)
            in_range = (target >= 0) & (target < c)
        if label_smoothing:
            smooth = -nb.mean(logp, axis=class_axis)
            nll = (1 - label_smoothing) * nll + label_smoothing * smooth
        # A class index out of range (other than ignore_index) makes its loss NaN: the
        # values are on the device, so it cannot raise here, and a loss of some other
        # class would be a silent wrong value.
        nll = nb.where(valid, nb.where(in_range, nll, float("nan")), 0.0)
        if reduction == "mean":
            return nb.sum(nll) / nb.cast(nb.sum(nb.cast(valid, nb.int32)), input.dtype)
        return _reduce_loss("cross_entropy", nll, reduction)
    if target.dtype.kind != "f" or target.shape != input.shape:
        raise_error(ShapeError, "cross_entropy", f"a probability target must be a float tensor "
                    f"of the input's shape {input.shape}, got {_short(target)}")
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / c
    return _reduce_loss("cross_entropy", -nb.sum(target * logp, axis=class_axis), reduction)


def nll_loss(input, target, reduction: str = "mean", ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of log-probabilities `input` [N, C, ...] (or [C]) at integer
    `target` [N, ...]; entries equal to `ignore_index` count neither in the loss nor in the
    mean (PyTorch's nll_loss, without class weights).

    Example:
        >>> F.nll_loss(nb.tensor([[-1.0, -2.0], [-3.0, -4.0]]), nb.tensor([0, 1]))
        Tensor(2.5 : f32[])
    """
    ignore_index = as_int("nll_loss", "ignore_index", ignore_index)
    input = _float_input("nll_loss", input)
    target = _int_input("nll_loss", target)
    class_axis = 0 if input.ndim == 1 else 1
    valid = target != ignore_index
    picked = nb.take_along_axis(input, nb.expand_dims(nb.where(valid, target, 0), class_axis),
                                axis=class_axis)
    nll = nb.where(valid, -nb.squeeze(picked, class_axis), 0.0)
    if reduction == "mean":
        return nb.sum(nll) / nb.cast(nb.sum(nb.cast(valid, nb.int32)), input.dtype)
    return _reduce_loss("nll_loss", nll, reduction)


def binary_cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities `input`; the logs are clamped at
    -100, as PyTorch does, so p = 0 or 1 gives a finite loss.

    Example:
        >>> F.binary_cross_entropy(nb.tensor([0.5, 0.8]), nb.tensor([0.0, 1.0]), reduction="none")
        Tensor([0.6931 0.2231] : f32[2])
    """
    input = _float_input("binary_cross_entropy", input)
    target = _float_input("binary_cross_entropy", target)
    _same_shape("binary_cross_entropy", input, target)
    log_p = nb.maximum(nb.log(input), -100.0)
    log_q = nb.maximum(nb.log1p(-input), -100.0)
    return _reduce_loss("binary_cross_entropy", -(target * log_p + (1 - target) * log_q), reduction)


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits;
    `pos_weight` weighs the positive term (per class, broadcast).

    Example:
        >>> F.binary_cross_entropy_with_logits(nb.tensor([0.0, 2.0]), nb.tensor([1.0, 0.0]),
        ...                                    reduction="none")
        Tensor([0.6931 2.1269] : f32[2])
    """
    op = "binary_cross_entropy_with_logits"
    input, target = _float_input(op, input), _float_input(op, target)
    _same_shape(op, input, target)
    log_sig = -softplus(-input)        # log sigmoid(x)
    log_one_minus = -softplus(input)   # log (1 - sigmoid(x))
    pos = target * log_sig if pos_weight is None else pos_weight * target * log_sig
    return _reduce_loss(op, -(pos + (1 - target) * log_one_minus), reduction)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence with `input` as log-probabilities (PyTorch's convention):
    target * (log target - input), 0 where target is 0; with log_target=True, `target`
    holds log-probabilities too. Reduction "batchmean" divides the sum by the batch size
    (the true KL divergence per sample); "mean", the default as in PyTorch, averages
    over every element.

    Example:
        >>> F.kl_div(nb.log(nb.tensor([[0.5, 0.5]])), nb.tensor([[0.25, 0.75]]),
        ...          reduction="batchmean")
        Tensor(0.1308 : f32[])
    """
    log_target = as_bool("kl_div", "log_target", log_target)
    input, target = _float_input("kl_div", input), _float_input("kl_div", target)
    _same_shape("kl_div", input, target)
    if log_target:
        loss = nb.exp(target) * (target - input)
    else:
        loss = nb.where(target > 0, target * (nb.log(nb.where(target > 0, target, 1.0)) - input), 0.0)
    if reduction == "batchmean":
        return nb.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce_loss("kl_div", loss, reduction)


# ---------------------------------------------------------------------------
# Attention
# ---------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 dropout_key=None) -> Tensor:
    """softmax(q k^T * scale + mask) v over [..., L, E] queries and [..., S, E] keys /
    [..., S, Ev] values (PyTorch's semantics). `attn_mask`: a bool mask (True = attend)
    or a float mask added to the scores, broadcast to [..., L, S]; `is_causal` masks the
    future; `scale` defaults to 1/sqrt(E). Dropout on the weights needs `dropout_key`.

    Example:
        >>> q = k = v = nb.ones((1, 3, 4))
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (1, 3, 4)
    """
    is_causal = as_bool("scaled_dot_product_attention", "is_causal", is_causal)
    dropout_p = as_float("scaled_dot_product_attention", "dropout_p", dropout_p)
    scale = None if scale is None else as_float("scaled_dot_product_attention", "scale", scale)
    if dropout_key is not None:
        dropout_key = to_tensor(dropout_key, "scaled_dot_product_attention")
    op = "scaled_dot_product_attention"
    q, k, v = (_float_input(op, t) for t in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] \
            or k.shape[-2] != v.shape[-2]:
        raise_error(ShapeError, op, f"query {_short(q)}, key {_short(k)} and value {_short(v)} "
                    f"must be [..., L, E], [..., S, E] and [..., S, Ev]")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = nb.matmul(q, nb.swapaxes(k, -1, -2)) * scale
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise_error(UsageError, op, "pass either attn_mask or is_causal=True, not both")
        attn_mask = nb.arange(L)[:, None] >= nb.arange(S)[None, :]
    if attn_mask is not None:
        mask = to_tensor(attn_mask, op)
        if broadcast_shapes(op, mask.shape, scores.shape) != scores.shape:
            raise_error(ShapeError, op, f"attn_mask {_short(mask)} does not broadcast to the "
                        f"scores [..., L={L}, S={S}] {scores.shape}")
        if mask.dtype.kind == "b":
            scores = nb.where(mask, scores, -math.inf)
        else:
            scores = scores + mask
    weights = softmax(scores, axis=-1)
    if dropout_p:
        if dropout_key is None:
            raise_error(UsageError, op, "dropout_p > 0 needs dropout_key (nb.random.key)")
        weights = dropout(dropout_key, weights, dropout_p)
    return nb.matmul(weights, v)


# Convolutions and pooling are primitives of the conv family (nabla_like/ops/conv.py).
from ..ops.conv import (adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d,  # noqa: E402,F401
                        conv2d_transpose, conv3d, max_pool2d)

conv_transpose2d = conv2d_transpose  # PyTorch's spelling

__all__ = [
    "relu", "gelu", "silu", "sigmoid", "tanh", "softplus", "mish", "leaky_relu", "elu", "relu6",
    "hardtanh", "hardswish", "logsigmoid", "softmax", "log_softmax", "logsumexp",
    "linear", "embedding", "one_hot", "dropout",
    "layer_norm", "rms_norm", "group_norm", "batch_norm",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "scaled_dot_product_attention",
    "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv_transpose2d", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d",
]
