"""Random numbers: counter-based Threefry-2x32 bits, a functional key API, a stateful one.

Keys are raw `uint32[2]` tensors, as JAX's default (threefry) keys: `key(seed)`,
`split(key, num)`, `fold_in(key, data)`, then `uniform`, `normal`, `bernoulli`,
`randint`, `bits` draw from a key. The bits are JAX's partitionable Threefry
bits (`jax_threefry_partitionable`, the default since JAX 0.5): element i of a
draw of `shape` hashes the counter (i >> 32, i & 0xFFFFFFFF) under the key, so
the same key gives the same numbers as `jax.random`, eagerly, traced, under vmap.

Every primitive here is elementwise over uint32 words and not differentiable
(random bits are constants to every derivative):

* `threefry2x32(k1, k2, x1, x2) -> (y1, y2)`: the 20-round Threefry-2x32 hash;
* `threefry_seed(seed) -> uint32[..., 2]`: a key from integer seeds;
* `random_combine_bits(y1, y2)`: the two hash words -> 8/16/32/64 random bits;
* `random_bits_to_float(bits)`: random mantissa bits -> floats in [0, 1);
* `random_span_offset(hi, lo, span)`: two words of bits -> an integer in [0, span).

The stateful API (`seed`, `gaussian`, `rand`, `randn`, `stateful_uniform`) keeps
a Python (seed, counter) pair: each call draws from fold_in(key(seed), counter)
and bumps the counter on the host, so it also works while tracing and never
holds a traced key (under jit a stateful draw is fixed at trace time).
"""
from __future__ import annotations

import math
import threading

import numpy as np

from ..core import Primitive, bind, current_context, full_in
from ..creation import iota, shape_arg, tensor
from ..dtypes import (
    DType,
    as_dtype,
    bool_,
    default_float,
    default_int,
    finfo,
    float32,
    iinfo,
    int32,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ..errors import DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import (
    batch_size,
    broadcast_shapes,
    broadcast_to_shape,
    elementwise_batch,
    move_bdim,
    to_tensor,
)

_UINT_BY_BITS = {8: uint8, 16: uint16, 32: uint32, 64: uint64}


def _not_differentiable(prim: Primitive) -> None:
    prim.def_jvp(lambda primals, tangents, outs, **params: None)
    prim.def_vjp(lambda cts, primals, outs, **params: (None,) * len(primals))


def _same_uint_operands(name: str, avals, dtype: DType | None = None) -> Aval:
    a0 = avals[0]
    for a in avals:
        if a.shape != a0.shape or a.dtype is not a0.dtype or a.dtype.kind != "u" or (
                dtype is not None and a.dtype is not dtype):
            raise_error(ShapeError, name, f"operands must be unsigned integers of one shape and "
                        f"dtype{f' ({dtype.name})' if dtype else ''}, got "
                        f"{', '.join(a.short() for a in avals)}")
    return Aval(a0.shape, a0.dtype)


# ---------------------------------------------------------------------------
# threefry2x32: the hash
# ---------------------------------------------------------------------------
threefry2x32_p = Primitive("threefry2x32", multiple_results=True, differentiable=False)


@threefry2x32_p.def_abstract_eval
def _threefry2x32_abstract_eval(k1: Aval, k2: Aval, x1: Aval, x2: Aval):
    aval = _same_uint_operands("threefry2x32", (k1, k2, x1, x2), uint32)
    return aval, aval


@threefry2x32_p.def_batch
def _threefry2x32_batch(args, bdims):
    first = next(d for d in bdims if d is not None)
    if all(d == first for d in bdims):
        return bind(threefry2x32_p, *args), (first, first)
    size = batch_size(args, bdims)
    moved = [move_bdim(a, d, 0, size) for a, d in zip(args, bdims)]
    return bind(threefry2x32_p, *moved), (0, 0)


_not_differentiable(threefry2x32_p)


def threefry2x32(k1, k2, x1, x2) -> tuple[Tensor, Tensor]:
    """The Threefry-2x32 hash (20 rounds) of the counter words (x1, x2) under the key
    words (k1, k2); uint32 operands, broadcast together. The primitive under every draw
    (`split`, `fold_in`, `bits`, ...); not differentiable.

    Example:
        >>> zero = nb.tensor(0, nb.uint32)
        >>> y1, y2 = nb.random.threefry2x32(zero, zero, nb.zeros(2, nb.uint32),
        ...                                 nb.arange(2, dtype=nb.uint32))
        >>> y1, y2
        (Tensor([1797259609  928981903] : u32[2]), Tensor([2579123966 3453687069] : u32[2]))
    """
    args = [to_tensor(a, "threefry2x32") for a in (k1, k2, x1, x2)]
    for a in args:
        if a.dtype is not uint32:
            raise_error(DTypeError, "threefry2x32", f"expects uint32 operands, got "
                        f"{', '.join(t._value.aval.short() for t in args)}")
    shape = broadcast_shapes("threefry2x32", *[a.shape for a in args], operands=args)
    args = [broadcast_to_shape(a, shape) for a in args]
    return bind(threefry2x32_p, *args)


# ---------------------------------------------------------------------------
# threefry_seed: integer seeds -> keys
# ---------------------------------------------------------------------------
threefry_seed_p = Primitive("threefry_seed", differentiable=False)


@threefry_seed_p.def_abstract_eval
def _threefry_seed_abstract_eval(seed: Aval) -> Aval:
    if seed.dtype.kind not in "iu":
        raise_error(DTypeError, "key", f"seed must be an integer, got {seed.short()}")
    return Aval(seed.shape + (2,), uint32)


# The key words go last, so the batch axis of the seeds stays where it is.
threefry_seed_p.def_batch(lambda args, bdims: (bind(threefry_seed_p, args[0]), bdims[0]))
_not_differentiable(threefry_seed_p)


# ---------------------------------------------------------------------------
# random_combine_bits: the two hash words -> bits of the width a draw needs
# ---------------------------------------------------------------------------
combine_bits_p = Primitive("random_combine_bits", differentiable=False)


@combine_bits_p.def_abstract_eval
def _combine_bits_abstract_eval(y1: Aval, y2: Aval, *, bit_width: int) -> Aval:
    aval = _same_uint_operands("random_bits", (y1, y2), uint32)
    if bit_width not in _UINT_BY_BITS:
        raise_error(DTypeError, "random_bits", f"bit width must be 8, 16, 32 or 64, got {bit_width}")
    return Aval(aval.shape, _UINT_BY_BITS[bit_width])


combine_bits_p.def_batch(elementwise_batch(combine_bits_p))
_not_differentiable(combine_bits_p)

# ---------------------------------------------------------------------------
# random_bits_to_float: random mantissa bits -> [0, 1)
# ---------------------------------------------------------------------------
bits_to_float_p = Primitive("random_bits_to_float", differentiable=False)


@bits_to_float_p.def_abstract_eval
def _bits_to_float_abstract_eval(bits: Aval, *, dtype: DType) -> Aval:
    if bits.dtype.kind != "u" or dtype.kind != "f" or bits.dtype.bits > dtype.bits or \
            bits.dtype.bits <= finfo(dtype).nmant:
        raise_error(DTypeError, "uniform", f"cannot make {dtype.name} floats from {bits.short()} "
                    f"random bits")
    return Aval(bits.shape, dtype)


bits_to_float_p.def_batch(elementwise_batch(bits_to_float_p))
_not_differentiable(bits_to_float_p)

# ---------------------------------------------------------------------------
# random_span_offset: (hi, lo) bits -> (hi * 2**n + lo) mod span, without overflow
# ---------------------------------------------------------------------------
span_offset_p = Primitive("random_span_offset", differentiable=False)


@span_offset_p.def_abstract_eval
def _span_offset_abstract_eval(hi: Aval, lo: Aval, span: Aval) -> Aval:
    return _same_uint_operands("randint", (hi, lo, span))


span_offset_p.def_batch(elementwise_batch(span_offset_p))
_not_differentiable(span_offset_p)


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------
def _check_key(op: str, key) -> Tensor:
    if not isinstance(key, Tensor):
        key = to_tensor(key, op)
    if key.dtype is not uint32 or key.shape != (2,):
        extra = " (a batch of keys is used through nb.vmap)" if key.ndim > 1 else ""
        raise_error(DTypeError if key.dtype is not uint32 else ShapeError, op,
                    f"expects a key: a uint32[2] tensor from nb.random.key, got "
                    f"{key._value.aval.short()}{extra}")
    return key


def _key_words(key: Tensor) -> tuple[Tensor, Tensor]:
    from .shape import reshape, static_slice
    return (reshape(static_slice(key, (0,), (1,)), ()), reshape(static_slice(key, (1,), (2,)), ()))


def _stack_words(y1: Tensor, y2: Tensor) -> Tensor:
    """uint32 arrays of one shape -> shape + (2,), y1 first."""
    from .shape import stack
    return stack([y1, y2], axis=-1)


def _host_key(seed: int) -> Tensor:
    # Seeds in the int32 range act as int32 seeds, larger ones as int64 (JAX with x64 on).
    if -2**31 <= seed < 2**31:
        words = (0, seed & 0xFFFFFFFF)
    elif -2**63 <= seed < 2**64:
        words = ((seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF)
    else:
        raise_error(DTypeError, "key", f"seed {seed} does not fit in 64 bits")
    return tensor(np.array(words, dtype=np.uint32))


def key(seed) -> Tensor:
    """A PRNG key (uint32[2]) from an integer seed, equal to `jax.random.PRNGKey(seed)`.

    `seed` is a Python int or an integer tensor (under vmap: a batch of seeds).

    Example:
        >>> nb.random.key(42)
        Tensor([ 0 42] : u32[2])
        >>> nb.random.uniform(nb.random.key(0), (2,)).shape
        (2,)
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return _host_key(int(seed))
    seed = to_tensor(seed, "key")
    if seed.dtype.kind not in "iu" or seed.shape != ():
        raise_error(DTypeError, "key", f"seed must be an integer scalar, got "
                    f"{seed._value.aval.short()}")
    return bind(threefry_seed_p, seed)


PRNGKey = key


def _data_word(op: str, data) -> Tensor:
    if isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_)):
        return full_in(current_context(), (), int(data) & 0xFFFFFFFF, uint32)
    data = to_tensor(data, op)
    if data.dtype.kind not in "iu" or data.shape != ():
        raise_error(DTypeError, op, f"data must be an integer scalar, got {data._value.aval.short()}")
    from .elementwise import convert
    return data if data.dtype is uint32 else convert(data, uint32)


def fold_in(key, data) -> Tensor:
    """A new key from `key` and an integer `data` (taken modulo 2**32), as `jax.random.fold_in`:
    the Threefry hash of the counter (0, data) under `key`. Use it to derive one key per
    step, layer or process from a single key.

    Example:
        >>> nb.random.fold_in(nb.random.key(0), 7)
        Tensor([2716826189  292468403] : u32[2])
    """
    key = _check_key("fold_in", key)
    k1, k2 = _key_words(key)
    zero = full_in(current_context(), (), 0, uint32)
    y1, y2 = bind(threefry2x32_p, k1, k2, zero, _data_word("fold_in", data))
    return _stack_words(y1, y2)


def _counters(shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """The (high, low) words of the row-major element index of `shape`."""
    from .shape import reshape
    size = math.prod(shape)
    if size >= 2**32:
        raise_error(ShapeError, "random", f"cannot draw {size} >= 2**32 random values at once")
    ctx = current_context()
    hi = full_in(ctx, shape, 0, uint32)
    if size <= 1:
        return hi, hi
    return hi, reshape(iota((size,), 0, uint32), shape)


def _hash_counters(key: Tensor, shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    k1, k2 = _key_words(key)
    hi, lo = _counters(shape)
    return bind(threefry2x32_p, broadcast_to_shape(k1, shape), broadcast_to_shape(k2, shape), hi, lo)


def split(key, num=2) -> Tensor:
    """`num` new keys (uint32[num, 2]; `num` may be a shape tuple) from `key`,
    as `jax.random.split`.

    Example:
        >>> k1, k2 = nb.random.split(nb.random.key(0))
        >>> k1
        Tensor([1797259609 2579123966] : u32[2])
        >>> nb.random.split(nb.random.key(0), 3).shape
        (3, 2)
    """
    key = _check_key("split", key)
    shape = shape_arg("split", num)
    y1, y2 = _hash_counters(key, shape)
    return _stack_words(y1, y2)


def _random_bits(key: Tensor, bit_width: int, shape: tuple[int, ...]) -> Tensor:
    y1, y2 = _hash_counters(key, shape)
    return bind(combine_bits_p, y1, y2, bit_width=bit_width)


def bits(key, shape=(), dtype=uint32) -> Tensor:
    """Uniformly random unsigned integers of `dtype` (uint8/16/32/64), as `jax.random.bits`.

    Example:
        >>> nb.random.bits(nb.random.key(0), (3,)).dtype
        nb.uint32
    """
    key = _check_key("bits", key)
    dtype = as_dtype(dtype)
    if dtype.kind != "u":
        raise_error(DTypeError, "bits", f"dtype must be unsigned, got {dtype.name}")
    return _random_bits(key, dtype.bits, shape_arg("bits", shape))


# ---------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------
def _float_dtype(op: str, dtype) -> DType:
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise_error(DTypeError, op, f"dtype must be a floating type, got {dtype.name}")
    return dtype


def _as_dtype_operand(op: str, x, dtype: DType) -> Tensor:
    from .elementwise import cast
    if isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
        return full_in(current_context(), (), float(x), dtype)
    return cast(to_tensor(x, op), dtype)


def _unit_uniform(key: Tensor, shape: tuple[int, ...], dtype: DType) -> Tensor:
    # Random mantissa bits under the exponent of 1.0 give [1, 2); minus one, [0, 1).
    rng_bits = dtype.bits if finfo(dtype).nmant >= 8 else 8
    return bind(bits_to_float_p, _random_bits(key, rng_bits, shape), dtype=dtype)


def _uniform(op: str, key: Tensor, shape, dtype: DType, minval, maxval) -> Tensor:
    from .elementwise import add, maximum, mul, sub
    floats = _unit_uniform(key, shape, dtype)
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)) and \
            minval == 0 and maxval == 1:
        return floats  # floats * 1 + 0 and max(0, .) change no bit
    lo = _as_dtype_operand(op, minval, dtype)
    hi = _as_dtype_operand(op, maxval, dtype)
    out_shape = broadcast_shapes(op, shape, lo.shape, hi.shape, operands=(lo, hi))
    if out_shape != shape:
        raise_error(ShapeError, op, f"minval {lo._value.aval.short()} and maxval "
                    f"{hi._value.aval.short()} must broadcast to the shape {shape}")
    return maximum(lo, add(mul(floats, sub(hi, lo)), lo))


def uniform(key, shape=(), dtype=float32, minval=0.0, maxval=1.0) -> Tensor:
    """Uniform floats in [minval, maxval), as `jax.random.uniform`.

    Example:
        >>> nb.random.uniform(nb.random.key(0), (3,))
        Tensor([0.9477 0.9786 0.3323] : f32[3])
        >>> nb.random.uniform(nb.random.key(0), (2, 3), minval=-1.0, maxval=1.0).shape
        (2, 3)
    """
    key = _check_key("uniform", key)
    return _uniform("uniform", key, shape_arg("uniform", shape), _float_dtype("uniform", dtype),
                    minval, maxval)


def normal(key, shape=(), dtype=float32) -> Tensor:
    """Standard normal floats, as `jax.random.normal`: sqrt(2) * erfinv(u) for u uniform
    in (-1, 1).

    Example:
        >>> nb.random.normal(nb.random.key(0), (3,))
        Tensor([ 1.6226  2.0253 -0.4336] : f32[3])
        >>> nb.random.normal(nb.random.key(0), (1000,)).shape
        (1000,)
    """
    from .elementwise import erfinv, mul
    key = _check_key("normal", key)
    shape = shape_arg("normal", shape)
    dtype = _float_dtype("normal", dtype)
    lo = finfo(dtype).epsneg - 1.0  # the float after -1 toward 0, so erfinv stays finite
    u = _uniform("normal", key, shape, dtype, lo, 1.0)
    return mul(erfinv(u), math.sqrt(2.0))


def bernoulli(key, p=0.5, shape=None) -> Tensor:
    """Booleans that are True with probability `p`, as `jax.random.bernoulli`.

    `shape` defaults to the shape of `p`.

    Example:
        >>> nb.random.bernoulli(nb.random.key(0), 0.3, (5,)).dtype
        nb.bool
    """
    from .elementwise import less
    key = _check_key("bernoulli", key)
    p = p if isinstance(p, Tensor) else to_tensor(p, "bernoulli")
    if p.dtype.kind != "f":
        raise_error(DTypeError, "bernoulli", f"p must be floating, got {p._value.aval.short()}")
    shape = p.shape if shape is None else shape_arg("bernoulli", shape)
    if broadcast_shapes("bernoulli", shape, p.shape, operands=(p,)) != shape:
        raise_error(ShapeError, "bernoulli", f"p {p._value.aval.short()} must broadcast to the "
                    f"shape {shape}")
    return less(_unit_uniform(key, shape, p.dtype), p)


def _clip_int_bound(op: str, x, dtype: DType) -> tuple[Tensor, Tensor]:
    """`x` clipped to the range of `dtype` and converted, and whether `x` exceeded its max."""
    from .elementwise import cast, greater, maximum, minimum
    info = iinfo(dtype)
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        x = int(x)
        ctx = current_context()
        return (full_in(ctx, (), min(max(x, int(info.min)), int(info.max)), dtype),
                full_in(ctx, (), x > int(info.max), bool_))
    x = to_tensor(x, op)
    if x.dtype.kind not in "iu":
        x = cast(x, int32)  # float bounds are truncated, as JAX does
    own = iinfo(x.dtype)
    lo = max(int(info.min), int(own.min))
    hi = min(int(info.max), int(own.max))
    return cast(minimum(maximum(x, lo), hi), dtype), greater(x, hi)


def randint(key, shape, minval, maxval, dtype=default_int) -> Tensor:
    """Uniform integers in [minval, maxval), as `jax.random.randint` (bounds are clipped
    to the range of `dtype`; maxval <= minval gives minval).

    Example:
        >>> nb.random.randint(nb.random.key(0), (4,), 0, 10)
        Tensor([9 0 2 3] : i32[4])
    """
    from .elementwise import add, cast, greater, less_equal, sub, where
    key = _check_key("randint", key)
    shape = shape_arg("randint", shape)
    dtype = as_dtype(dtype)
    if dtype.kind not in "iu":
        raise_error(DTypeError, "randint", f"dtype must be an integer type, got {dtype.name}")
    lo, _ = _clip_int_bound("randint", minval, dtype)
    hi, hi_out_of_range = _clip_int_bound("randint", maxval, dtype)
    if broadcast_shapes("randint", shape, lo.shape, hi.shape, operands=(lo, hi)) != shape:
        raise_error(ShapeError, "randint", f"minval {lo._value.aval.short()} and maxval "
                    f"{hi._value.aval.short()} must broadcast to the shape {shape}")
    lo, hi = broadcast_to_shape(lo, shape), broadcast_to_shape(hi, shape)
    nbits = dtype.bits
    unsigned = _UINT_BY_BITS[nbits]
    keys = split(key, 2)
    k1, k2 = (_row(keys, 0), _row(keys, 1))
    high_bits = _random_bits(k1, nbits, shape)
    low_bits = _random_bits(k2, nbits, shape)
    span = cast(sub(hi, lo), unsigned)  # wraps to the unsigned difference
    one = full_in(span._value.ctx, (), 1, unsigned)
    span = where(less_equal(hi, lo), one, span)
    # A maxval past the dtype's max asks for one more value than the clipped span holds.
    widen = where(greater(hi, lo), hi_out_of_range, False)
    span = where(widen, add(span, one), span)
    offset = bind(span_offset_p, high_bits, low_bits, broadcast_to_shape(span, shape))
    return add(lo, cast(offset, dtype))


def _row(keys: Tensor, i: int) -> Tensor:
    from .shape import reshape, static_slice
    return reshape(static_slice(keys, (i, 0), (i + 1, 2)), (2,))


# ---------------------------------------------------------------------------
# Stateful API
# ---------------------------------------------------------------------------
class _GlobalState:
    """The seed and the number of stateful draws since `seed()`: Python ints only. One
    generator for the process, as PyTorch's: draws from several threads take distinct
    counters (under `lock`), so no two draws repeat a stream."""

    seed = 0
    counter = 0
    base_key: Tensor | None = None
    lock = threading.Lock()


_state = _GlobalState()


def seed(n: int) -> None:
    """Reset the global generator of the stateful functions (`gaussian`, `uniform`, `rand`,
    `randn`), as `torch.manual_seed`: the draws after `seed(n)` are the same every time.

    Example:
        >>> nb.seed(42)
        >>> nb.randn(3)
        Tensor([ 0.0759 -0.4863  1.2903] : f32[3])
        >>> nb.seed(42); nb.randn(3)   # the same numbers again
        Tensor([ 0.0759 -0.4863  1.2903] : f32[3])
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise_error(DTypeError, "seed", f"seed must be a Python int, got {n!r}")
    with _state.lock:
        _state.seed = int(n)
        _state.counter = 0
        _state.base_key = None


def _next_key() -> Tensor:
    with _state.lock:
        if _state.base_key is None:
            _state.base_key = _host_key(_state.seed)
        base, n = _state.base_key, _state.counter
        _state.counter += 1
    return fold_in(base, n)


def _shape_varargs(op: str, shape: tuple):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return shape_arg(op, shape[0])
    return shape_arg(op, shape)


def gaussian(shape=(), mean=0.0, std=1.0, dtype=None) -> Tensor:
    """Normal floats of `shape` with `mean` and `std` from the global generator (alias:
    nb.normal), as `torch.normal`; `dtype` defaults to the default float. Each call draws
    from a new key (see `seed`); the key-based form is `nb.random.normal`.

    Example:
        >>> nb.seed(0)
        >>> nb.gaussian((2,), mean=1.0, std=0.1)
        Tensor([1.1004 0.9094] : f32[2])
    """
    from .elementwise import add, mul
    dtype = _float_dtype("gaussian", default_float if dtype is None else dtype)
    out = normal(_next_key(), shape_arg("gaussian", shape), dtype)
    if not (isinstance(std, (int, float)) and std == 1):
        out = mul(out, std)
    if not (isinstance(mean, (int, float)) and mean == 0):
        out = add(out, mean)
    return out


def stateful_uniform(shape=(), low=0.0, high=1.0, dtype=None) -> Tensor:
    """Uniform floats of `shape` in [low, high) from the global generator (alias:
    nb.uniform); `dtype` defaults to the default float. Each call draws from a new key (see
    `seed`); the key-based form is `nb.random.uniform`.

    Example:
        >>> nb.seed(0)
        >>> nb.uniform((3,), -0.1, 0.1)
        Tensor([ 0.0685 -0.0635 -0.0546] : f32[3])
    """
    dtype = _float_dtype("uniform", default_float if dtype is None else dtype)
    return _uniform("uniform", _next_key(), shape_arg("uniform", shape), dtype, low, high)


def rand(*shape, dtype=None) -> Tensor:
    """Uniform floats in [0, 1) of the given shape from the global generator.

    Example:
        >>> nb.rand(2, 3).shape
        (2, 3)
    """
    return stateful_uniform(_shape_varargs("rand", shape), dtype=dtype)


def randn(*shape, dtype=None) -> Tensor:
    """Standard normal floats of the given shape from the global generator.

    Example:
        >>> nb.randn(2, 3).shape
        (2, 3)
    """
    return gaussian(_shape_varargs("randn", shape), dtype=dtype)


__all__ = ["gaussian", "rand", "randn", "seed"]
