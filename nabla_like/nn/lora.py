"""Low-rank adaptation: LoRA adapters over Linear layers, and QLoRA (the frozen base
weight stored in 4-bit NormalFloat, NF4, and dequantized on the fly).

    >>> model = nb.nn.Sequential(nb.nn.Linear(16, 16), nb.nn.ReLU(), nb.nn.Linear(16, 4))
    >>> model = nb.nn.lora.apply(model, rank=2, alpha=4)          # or quantize=True
    >>> [name for name, _ in model.named_parameters()]   # only the adapters are trainable
    ['0.lora_A', '0.lora_B', '2.lora_A', '2.lora_B']

A LoRALinear computes base(x) + (x A^T) B^T * alpha / rank with A [rank, in] drawn as
Linear's weight and B [out, rank] zero, so it starts as the base layer. `merge()` folds
B A into the base weight (for inference), `unmerge()` takes it out again.

Frozen means registered as a buffer: the tensors stay in state_dict and go through jit,
but `parameters()` (stateful optimizers) and `nb.nn.trainable` (functional ones) skip them.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

import nabla_like as nb  # public ops, read at call time

from ..args import as_bool, as_float, as_int, as_key, as_probability, class_op
from ..creation import shape_arg
from ..errors import ArgumentError, ShapeError, UsageError, raise_error
from ..ops import random as _random
from ..ops._common import to_tensor
from . import functional as F
from . import init
from .layers import Linear
from .module import Module

# ---------------------------------------------------------------------------
# NF4: 16 levels at quantiles of N(0, 1), scaled to [-1, 1], with an exact zero
# ---------------------------------------------------------------------------
_NF4_OFFSET = 0.9677083  # (1 - 1/(2*15) + 1 - 1/(2*16)) / 2: the outermost quantile used


def _nf4_levels() -> np.ndarray:
    """The NF4 code book (QLoRA): 8 positive and 7 negative normal quantiles and 0,
    normalized by the largest."""
    ppf = NormalDist().inv_cdf
    pos = [ppf(p) for p in np.linspace(_NF4_OFFSET, 0.5, 9)[:-1]]
    neg = [-ppf(p) for p in np.linspace(_NF4_OFFSET, 0.5, 8)[:-1]]
    levels = np.sort(np.array(pos + [0.0] + neg))
    return (levels / np.abs(levels).max()).astype(np.float32)


NF4 = _nf4_levels()


def quantize_nf4(weight, block_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(codes, scales) of `weight`, as NumPy arrays: per block of `block_size` values
    (flattened, row-major) its absolute maximum (float32) and each value's nearest NF4
    level, two 4-bit codes per uint8 byte (QLoRA's storage, without double quantization).

    Example:
        >>> codes, scales = nb.nn.lora.quantize_nf4(nb.tensor([[0.5, -1.0, 0.0, 2.0]]), 4)
        >>> codes, scales
        (array([162, 127], dtype=uint8), array([2.], dtype=float32))
    """
    op = "nb.nn.lora.quantize_nf4"
    block_size = as_int(op, "block_size", block_size, min=1)
    w = np.asarray(to_tensor(weight, op).numpy(), np.float32).ravel()
    if w.size % block_size or block_size % 2:
        raise_error(ShapeError, op, f"{w.size} weights do not split into blocks of "
                    f"{block_size} (an even size that divides the count)")
    blocks = w.reshape(-1, block_size)
    scales = np.abs(blocks).max(axis=1)
    normed = blocks / np.where(scales == 0, 1.0, scales)[:, None]
    codes = np.abs(normed[..., None] - NF4).argmin(-1).astype(np.uint8).ravel()
    return (codes[0::2] << 4 | codes[1::2]).astype(np.uint8), scales.astype(np.float32)


def dequantize_nf4(codes, scales, shape: tuple[int, ...]):
    """The float32 weight of `shape` that `quantize_nf4` encoded: each code's NF4 level
    times its block's scale (nb ops: traceable, so it runs inside jit).

    Example:
        >>> w = nb.tensor([[0.5, -1.0, 0.0, 2.0]])
        >>> codes, scales = nb.nn.lora.quantize_nf4(w, block_size=4)
        >>> nb.nn.lora.dequantize_nf4(codes, scales, (1, 4)).numpy().round(4)
        array([[ 0.4922, -1.0501,  0.    ,  2.    ]], dtype=float32)
    """
    op = "nb.nn.lora.dequantize_nf4"
    codes, scales, shape = to_tensor(codes, op), to_tensor(scales, op), shape_arg(op, shape)
    n = 2 * codes.shape[0] if codes.ndim == 1 else -1
    if scales.ndim != 1 or not scales.shape[0] or n % scales.shape[0] or n != math.prod(shape):
        raise_error(ShapeError, op, f"codes {codes._value.aval.short()} (two values a byte) and "
                    f"scales {scales._value.aval.short()} (one a block) do not make shape {shape}")
    hi = nb.right_shift(codes, 4)
    lo = nb.bitwise_and(codes, 15)
    idx = nb.reshape(nb.stack([hi, lo], axis=1), (-1,))
    values = nb.take(nb.tensor(NF4), nb.cast(idx, nb.int32))
    block = values.shape[0] // scales.shape[0]
    return nb.reshape(nb.reshape(values, (-1, block)) * nb.expand_dims(scales, 1), shape)


# ---------------------------------------------------------------------------
# Adapters
# ---------------------------------------------------------------------------
def _adapter_args(op: str, rank, alpha, dropout, quantize, block_size, key) -> tuple:
    """The checked arguments of LoRALinear (and of apply, before it changes the model)."""
    return (as_int(op, "rank", rank, min=1), as_float(op, "alpha", alpha),
            as_probability(op, "dropout", dropout), as_bool(op, "quantize", quantize),
            as_int(op, "block_size", block_size, min=1), as_key(op, "key", key))


def _module(op: str, name: str, value) -> Module:
    if not isinstance(value, Module):
        raise_error(ArgumentError, op, f"{name} must be an nb.nn.Module, got {type(value).__name__}")
    return value


class LoRALinear(Module):
    """A frozen Linear plus a trainable low-rank update: base(x) + (x A^T) B^T * alpha /
    rank, with lora_A [rank, in] and lora_B [out, rank] the only parameters (the base weight
    and bias are copied in as buffers). B starts at zero, so the layer starts as `base`.
    `quantize=True` stores the frozen weight in NF4 (QLoRA), in blocks of `block_size`.

    Example:
        >>> base = nb.nn.Linear(4, 3, key=nb.random.key(0))
        >>> layer = nb.nn.lora.LoRALinear(base, rank=2, alpha=4.0, key=nb.random.key(1))
        >>> layer, [name for name, _ in layer.named_parameters()]
        (LoRALinear(in_features=4, out_features=3, rank=2, alpha=4.0), ['lora_A', 'lora_B'])
        >>> x = nb.ones((2, 4))
        >>> bool(nb.allclose(layer(x), base(x)))
        True
    """

    def __init__(self, base: Linear, rank: int = 8, alpha: float = 16.0, dropout: float = 0.0,
                 quantize: bool = False, block_size: int = 64, *, key=None):
        super().__init__()
        op = class_op(self)
        if not isinstance(base, Linear):
            raise_error(ArgumentError, op, f"base must be an nb.nn.Linear, got {type(base).__name__}")
        rank, alpha, dropout, quantize, block_size, key = _adapter_args(
            op, rank, alpha, dropout, quantize, block_size, key)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.rank, self.alpha, self.dropout = rank, alpha, dropout
        self.scaling = self.alpha / rank
        self.quantized, self.merged = quantize, False
        if quantize:
            codes, scales = quantize_nf4(base.weight, block_size)
            self.register_buffer("weight_codes", nb.tensor(codes))
            self.register_buffer("weight_scales", nb.tensor(scales))
            self.register_buffer("weight", None)
        else:
            self.register_buffer("weight", base.weight.detach())
        self.register_buffer("bias", None if base.bias is None else base.bias.detach())
        self.lora_A = init.kaiming_uniform(key, (rank, self.in_features), a=math.sqrt(5))
        self.lora_B = nb.zeros((self.out_features, rank))

    def base_weight(self):
        """The frozen weight [out, in] (dequantized when stored in NF4)."""
        if self.quantized:
            return dequantize_nf4(self.weight_codes, self.weight_scales,
                                  (self.out_features, self.in_features))
        return self.weight

    def forward(self, x, rng=None):
        y = F.linear(x, self.base_weight(), self.bias)
        if self.merged:
            return y
        if self.dropout and self.training:
            key = rng if rng is not None else _random._next_key()
            x = F.dropout(key, x, self.dropout)
        return y + nb.matmul(nb.matmul(x, nb.transpose(self.lora_A)), nb.transpose(self.lora_B)) \
            * self.scaling

    def delta_weight(self):
        """The update B A * alpha / rank, of the base weight's shape."""
        return nb.matmul(self.lora_B, self.lora_A) * self.scaling

    def merge(self) -> "LoRALinear":
        """Fold the update into the base weight (outputs unchanged, one matmul a call)."""
        if self.quantized:
            raise_error(UsageError, "LoRALinear.merge", "a 4-bit base weight cannot absorb the "
                        "update exactly; dequantize first (nb.nn.lora.dequantize_nf4)")
        if not self.merged:
            with nb.no_grad():
                object.__setattr__(self, "weight", self.weight + self.delta_weight())
            object.__setattr__(self, "merged", True)
        return self

    def unmerge(self) -> "LoRALinear":
        """Take a merged update out of the base weight again (after training resumes)."""
        if self.merged:
            with nb.no_grad():
                object.__setattr__(self, "weight", self.weight - self.delta_weight())
            object.__setattr__(self, "merged", False)
        return self

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"rank={self.rank}, alpha={self.alpha}{', nf4' if self.quantized else ''}"


def freeze(module: Module) -> Module:
    """Make every parameter of `module` (and its submodules) a buffer, in place: still in
    state_dict, no longer trained. Returns `module`.

    Example:
        >>> layer = nb.nn.lora.freeze(nb.nn.Linear(3, 2, key=nb.random.key(0)))
        >>> list(layer.parameters()), sorted(layer.state_dict())
        ([], ['bias', 'weight'])
    """
    for m in _module("nb.nn.lora.freeze", "module", module).modules():
        names = [n for n, v in m.__dict__.items() if isinstance(v, nb.Tensor) and n not in m._buffers]
        for n in names:
            t = m.__dict__[n]
            m.register_buffer(n, t.detach() if t.requires_grad else t)
    return module


def apply(model: Module, rank: int = 8, alpha: float = 16.0, dropout: float = 0.0,
          target=None, quantize: bool = False, block_size: int = 64, *, key=None) -> Module:
    """Freeze `model` and replace its Linear layers (those whose dotted name contains one of
    `target`, or all) by LoRALinear adapters, in place; returns `model`. `key` is split
    among the adapters; `quantize=True` makes them QLoRA adapters.

    Example:
        >>> model = nb.nn.Sequential(nb.nn.Linear(4, 8, key=nb.random.key(0)), nb.nn.ReLU(),
        ...                          nb.nn.Linear(8, 2, key=nb.random.key(1)))
        >>> model = nb.nn.lora.apply(model, rank=2, target="2", key=nb.random.key(2))
        >>> model[2], [name for name, _ in model.named_parameters()]
        (LoRALinear(in_features=8, out_features=2, rank=2, alpha=16.0), ['2.lora_A', '2.lora_B'])
    """
    op = "nb.nn.lora.apply"
    _module(op, "model", model)
    rank, alpha, dropout, quantize, block_size, key = _adapter_args(
        op, rank, alpha, dropout, quantize, block_size, key)
    targets = (target,) if isinstance(target, str) else target
    if targets is not None and not (isinstance(targets, (list, tuple, set, frozenset)) and
                                    all(isinstance(t, str) for t in targets)):
        raise_error(ArgumentError, op, f"target must be a string or a sequence of strings (parts "
                    f"of the layers' dotted names), got {target!r}")
    found = [(name, m) for name, m in model.named_modules()
             if isinstance(m, Linear) and name and (targets is None or any(t in name for t in targets))]
    if not found:
        raise_error(UsageError, op, f"no Linear layer matches target={target!r}")
    keys = [None] * len(found) if key is None else list(_random.split(key, len(found)))
    freeze(model)
    for (name, lin), k in zip(found, keys):
        _replace(model, name, LoRALinear(lin, rank, alpha, dropout, quantize, block_size, key=k))
    return model


def _replace(root: Module, dotted: str, new: Module) -> None:
    *path, last = dotted.split(".")
    parent = root
    for part in path:
        parent = parent[int(part)] if part.isdigit() and hasattr(parent, "__getitem__") \
            else getattr(parent, part)
    if last.isdigit():
        container = parent.layers if hasattr(parent, "layers") else parent
        container[int(last)] = new
    else:
        object.__setattr__(parent, last, new)


def merge(model: Module) -> Module:
    """Fold every LoRALinear's update into its base weight (LoRALinear.merge), in place, for
    inference: the outputs stay the same, the adapters cost nothing more. Returns `model`.

    Example:
        >>> model = nb.nn.lora.apply(nb.nn.Sequential(nb.nn.Linear(4, 2, key=nb.random.key(0))),
        ...                          rank=2, key=nb.random.key(1))
        >>> model[0].lora_B = nb.ones((2, 2))  # as after some training
        >>> x = nb.ones((3, 4))
        >>> y = model(x)
        >>> model = nb.nn.lora.merge(model)
        >>> model[0].merged, bool(nb.allclose(model(x), y))
        (True, True)
    """
    for m in _module("nb.nn.lora.merge", "model", model).modules():
        if isinstance(m, LoRALinear):
            m.merge()
    return model


def unmerge(model: Module) -> Module:
    """Undo `merge`: take every merged LoRALinear's update out of its base weight again
    (LoRALinear.unmerge), in place, to go on training. Returns `model`.

    Example:
        >>> model = nb.nn.lora.apply(nb.nn.Sequential(nb.nn.Linear(4, 2, key=nb.random.key(0))),
        ...                          rank=2, key=nb.random.key(1))
        >>> model = nb.nn.lora.unmerge(nb.nn.lora.merge(model))
        >>> model[0].merged, [name for name, _ in model.named_parameters()]
        (False, ['0.lora_A', '0.lora_B'])
    """
    for m in _module("nb.nn.lora.unmerge", "model", model).modules():
        if isinstance(m, LoRALinear):
            m.unmerge()
    return model


__all__ = ["LoRALinear", "apply", "freeze", "merge", "unmerge", "quantize_nf4", "dequantize_nf4",
           "NF4"]
