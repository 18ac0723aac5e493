"""StableHLO rules for the random family (mirrors nabla_like/ops/random.py).

All arithmetic here is on unsigned words, where StableHLO's add and multiply wrap
modulo 2**n: exactly what Threefry and the bit tricks below rely on.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from .mlir import register, stype

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KEY_PARITY = 0x1BD11BDA  # Threefry's constant: the third key word is k1 ^ k2 ^ this


class _Words:
    """Emits unsigned elementwise ops of one tensor type, creating each constant once."""

    def __init__(self, em, type_: str):
        self.em = em
        self.type = type_
        self._consts: dict = {}

    def const(self, value) -> str:
        name = self._consts.get(value)
        if name is None:
            name = self.em.op("stablehlo.constant", [], self.type,
                              {"value": f"dense<{value}> : {self.type}"})
            self._consts[value] = name
        return name

    def __call__(self, op: str, *operands: str) -> str:
        return self.em.op(f"stablehlo.{op}", list(operands), self.type)

    def rotate_left(self, x: str, bits: int, width: int = 32) -> str:
        left = self("shift_left", x, self.const(bits))
        right = self("shift_right_logical", x, self.const(width - bits))
        return self("or", left, right)


@register("threefry2x32")
def _threefry2x32(ctx, k1, k2, x1, x2):
    w = _Words(ctx.em, stype(ctx.avals_in[0].shape, "ui32"))
    ks = (k1, k2, w("xor", w("xor", k1, k2), w.const(_KEY_PARITY)))
    a, b = w("add", x1, ks[0]), w("add", x2, ks[1])
    # Five groups of four mix rounds; after each group inject the next key word pair
    # and the group number.
    for group in range(5):
        for bits in _ROTATIONS[group % 2]:
            a = w("add", a, b)
            b = w("xor", a, w.rotate_left(b, bits))
        a = w("add", a, ks[(group + 1) % 3])
        b = w("add", w("add", b, ks[(group + 2) % 3]), w.const(group + 1))
    return [a, b]


@register("threefry_seed")
def _threefry_seed(ctx, seed):
    em = ctx.em
    src = ctx.avals_in[0]
    shape = src.shape
    word = stype(shape, "ui32")
    low = em.op("stablehlo.convert", [seed], word)  # integer conversion keeps the low bits
    if src.dtype.bits > 32:
        s = _Words(em, stype(shape, src.dtype.mlir))
        high = em.op("stablehlo.convert", [s("shift_right_logical", seed, s.const(32))], word)
    else:
        high = _Words(em, word).const(0)
    column = stype(shape + (1,), "ui32")
    parts = [em.op("stablehlo.reshape", [x], column) for x in (high, low)]
    return em.op("stablehlo.concatenate", parts, ctx.aval_out,
                 {"dimension": f"{len(shape)} : i64"})


@register("random_combine_bits")
def _combine_bits(ctx, y1, y2, *, bit_width):
    em = ctx.em
    shape = ctx.avals_in[0].shape
    if bit_width == 64:
        w = _Words(em, stype(shape, "ui64"))
        high = em.op("stablehlo.convert", [y1], w.type)
        low = em.op("stablehlo.convert", [y2], w.type)
        return w("or", w("shift_left", high, w.const(32)), low)
    mixed = _Words(em, stype(shape, "ui32"))("xor", y1, y2)
    if bit_width == 32:
        return mixed
    return em.op("stablehlo.convert", [mixed], ctx.aval_out)  # keeps the low bits


@register("random_bits_to_float")
def _bits_to_float(ctx, bits, *, dtype):
    em = ctx.em
    shape = ctx.avals_in[0].shape
    nbits = dtype.bits
    nmant = ml_dtypes.finfo(dtype.np).nmant
    w = _Words(em, stype(shape, f"ui{nbits}"))
    in_bits = ctx.avals_in[0].dtype.bits
    if in_bits != nbits:
        bits = em.op("stablehlo.convert", [bits], w.type)
    one_bits = int(np.array(1.0, dtype.np).view(f"uint{nbits}"))
    # The top `nmant` random bits become the mantissa of a float in [1, 2).
    mantissa = w("shift_right_logical", bits, w.const(in_bits - nmant))
    in_one_two = em.op("stablehlo.bitcast_convert", [w("or", mantissa, w.const(one_bits))],
                       ctx.aval_out)
    one = em.op("stablehlo.constant", [], ctx.aval_out,
                {"value": f"dense<1.0> : {stype(shape, dtype.mlir)}"})
    return em.op("stablehlo.subtract", [in_one_two, one], ctx.aval_out)


@register("random_span_offset")
def _span_offset(ctx, hi, lo, span):
    aval = ctx.avals_in[0]
    w = _Words(ctx.em, stype(aval.shape, aval.dtype.mlir))
    # (hi * 2**n + lo) mod span without 2n-bit words: 2**n mod span is the square of
    # 2**(n/2) mod span, reduced once more.
    multiplier = w("remainder", w.const(2 ** (aval.dtype.bits // 2)), span)
    multiplier = w("remainder", w("multiply", multiplier, multiplier), span)
    offset = w("add", w("multiply", w("remainder", hi, span), multiplier),
               w("remainder", lo, span))
    return w("remainder", offset, span)
