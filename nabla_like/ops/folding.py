"""Peephole folding applied when an op is recorded.

Constant splats (`full` nodes in traces, scalar literals in the lazy context)
stay splats through shape ops and casts, and, in traces, `x * 1`, `x + 0`, `x - 0` are `x`.
This keeps rewritten graphs small and readable (grad's seed cotangent of ones
disappears) and saves lazy nodes; XLA would simplify the same things, later and
at compile time. Folding never skips validation: a folded op still runs its
shape rule first.
"""
from __future__ import annotations

import numpy as np

from ..core import PRIMITIVES, full_in, full_p
from ..tensor import Tensor


def splat_value(t: Tensor):
    """The scalar a tensor is filled with, if it is a constant splat; else None."""
    v = t._value
    if v.requires_grad:  # a parameter that happens to hold a constant is not a constant
        return None
    node = v.node
    if node is None:
        return v.literal if v.buffer is None else None
    if node.prim is full_p:
        return node.params["value"]
    return None


def _same_splat(prim_name: str):
    """Ops whose output elements are copies of input elements: a splat stays a splat."""
    prim = PRIMITIVES[prim_name]

    def fold(args, **params):
        value = splat_value(args[0])
        if value is None:
            return None
        aval = prim.abstract_eval(*[a._value.aval for a in args], **params)
        return full_in(args[0]._value.ctx, aval.shape, value, aval.dtype, aval.weak)
    prim.fold = fold
    prim.fold_eager = True


def _fold_convert(args, *, dtype, weak=False):
    value = splat_value(args[0])
    if value is None:
        return None
    x = args[0]
    if dtype.kind in "iu" and x.dtype.kind in "fiu":
        # Out-of-range, fractional or NaN values convert as XLA decides (saturating),
        # not as NumPy does: fold only the exact cases and let XLA do the rest.
        if value != value or value != int(value) or not _fits(int(value), dtype):
            return None
    with np.errstate(all="ignore"):
        converted = np.asarray(value, dtype=x.dtype.np).astype(dtype.np).item()
    return full_in(x._value.ctx, x.shape, converted, dtype, weak)


def _fits(value: int, dtype) -> bool:
    info = np.iinfo(dtype.np)
    return int(info.min) <= value <= int(info.max)


def _identity_with(prim_name: str, unit, sides=(0, 1)):
    """x op unit -> x (for the given operand sides) when the result type is x's."""
    prim = PRIMITIVES[prim_name]

    # Only in traces (fold_eager stays False): in the lazy context literal values are
    # program inputs, and a structure that depended on them would recompile whenever
    # they change.
    def fold(args, **params):
        for side in sides:
            value = splat_value(args[side])
            if value is not None and value == unit and not isinstance(value, bool):
                other = args[1 - side]
                aval = prim.abstract_eval(*[a._value.aval for a in args], **params)
                if aval == other._value.aval:
                    return other
        return None
    prim.fold = fold


for _name in ("broadcast_in_dim", "reshape", "transpose", "slice"):
    _same_splat(_name)
PRIMITIVES["convert"].fold = _fold_convert
PRIMITIVES["convert"].fold_eager = True
_identity_with("mul", 1)
_identity_with("add", 0)
_identity_with("sub", 0, sides=(1,))
