"""Cumulative reductions: cumsum and cumprod along one axis, forward or reversed.

Both are primitives lowered to `stablehlo.reduce_window` (a window as long as
the axis, padded on one side). cumsum is linear: its transpose is the cumsum
running the other way. cumprod's derivatives are written with
`_linear_recurrence` (y[i] = a[i] * y[i-1] + b[i], solved by a log-depth
parallel scan of multiplies and adds), so they never divide by the input and are exact
when it contains zeros; being composites, they differentiate again for free.
"""
from __future__ import annotations

from ..args import as_bool
from ..core import Primitive, bind, full_in
from ..ir import Aval
from ..tensor import Tensor
from ._common import canonical_axis, to_tensor
from .reduce import _check_kind, _widen_small_ints


def _cumulative_primitive(name: str, **kwargs) -> Primitive:
    p = Primitive(name, **kwargs)

    @p.def_abstract_eval
    def _abstract_eval(x: Aval, *, axis: int, reverse: bool) -> Aval:
        _check_kind(name, x, "iuf")
        return x

    @p.def_batch
    def _batch(args, bdims, *, axis, reverse):
        (x,), (b,) = args, bdims
        return bind(p, x, axis=axis + 1 if b <= axis else axis, reverse=reverse), b

    return p


def _prepare(op: str, x, axis) -> tuple[Tensor, int]:
    """The operand and the canonical axis. `axis=None` flattens (as NumPy does), and so does
    a 0-d operand, whose only valid axes are 0 and -1."""
    from .shape import reshape
    x = to_tensor(x, op)
    if axis is None or x.ndim == 0:
        if axis is not None:
            canonical_axis(op, axis, 0)
        return _widen_small_ints(reshape(x, (x.size,))), 0
    return _widen_small_ints(x), canonical_axis(op, axis, x.ndim)


# ---------------------------------------------------------------------------
# Shifts and the linear recurrence the derivative rules are built from
# ---------------------------------------------------------------------------
def _shift(x: Tensor, axis: int, s: int, fill, toward_end: bool) -> Tensor:
    """`x` moved `s` places along `axis` (to higher indices if `toward_end`), the vacated
    places holding `fill`: toward_end gives out[i] = x[i - s], otherwise out[i] = x[i + s]."""
    from .shape import pad_p
    ctx = x._value.ctx
    if s >= x.shape[axis]:
        return full_in(ctx, x.shape, fill, x.dtype)
    # one pad: `fill` added on one side, the same number of elements cropped on the other
    low, high = [0] * x.ndim, [0] * x.ndim
    low[axis], high[axis] = (s, -s) if toward_end else (-s, s)
    return bind(pad_p, x, full_in(ctx, (), fill, x.dtype), low=tuple(low), high=tuple(high),
                interior=(0,) * x.ndim)


def _pad_axis(x: Tensor, axis: int, low: int, high: int, interior: int = 0) -> Tensor:
    from .shape import pad_p
    lows, highs, interiors = [0] * x.ndim, [0] * x.ndim, [0] * x.ndim
    lows[axis], highs[axis], interiors[axis] = low, high, interior
    return bind(pad_p, x, full_in(x._value.ctx, (), 0, x.dtype), low=tuple(lows),
                high=tuple(highs), interior=tuple(interiors))


def _linear_recurrence(a: Tensor, b: Tensor, axis: int, reverse: bool) -> Tensor:
    """y with y[i] = a[i] * y[i-1] + b[i] along `axis` (y[-1] = 0); with `reverse`,
    y[i] = a[i] * y[i+1] + b[i] from the far end.

    A work-efficient parallel scan over the pairs (a, b), composed by
    (a1, b1) then (a2, b2) = (a1 * a2, a2 * b1 + b2): the down-sweep combines neighbours
    into a half-length problem until one element is left; the up-sweep fills the
    even positions from the solved odd ones. O(n) multiplies and adds in 2 log2(n)
    steps, and no division.
    """
    from .elementwise import add, mul
    from .shape import rev_p, slice_axis
    if reverse:
        a, b = bind(rev_p, a, dimensions=(axis,)), bind(rev_p, b, dimensions=(axis,))
    levels = []
    while b.shape[axis] > 1:
        n = b.shape[axis]
        levels.append((a, b))
        b = add(mul(slice_axis(a, axis, 1, n, 2), slice_axis(b, axis, 0, n - 1, 2)),
                slice_axis(b, axis, 1, n, 2))
        if b.shape[axis] > 1:  # the last level's product is never read
            a = mul(slice_axis(a, axis, 0, n - 1, 2), slice_axis(a, axis, 1, n, 2))
    for a_level, b_level in reversed(levels):
        # `b` holds y at the odd positions 1, 3, ...; y[2k] = a[2k] * y[2k-1] + b[2k].
        n = b_level.shape[axis]
        evens, odds = (n + 1) // 2, n // 2
        previous = _pad_axis(b, axis, 1, evens - odds - 1)  # y[2k-1], 0 for k = 0
        y_even = add(mul(slice_axis(a_level, axis, 0, n, 2), previous),
                     slice_axis(b_level, axis, 0, n, 2))
        b = add(_pad_axis(y_even, axis, 0, n - 2 * evens + 1, 1),
                _pad_axis(b, axis, 1, n - 2 * odds, 1))
    return bind(rev_p, b, dimensions=(axis,)) if reverse else b


def exclusive_cumprod(x: Tensor, axis: int, reverse: bool = False) -> Tensor:
    """Products of the elements strictly before each one along `axis` (strictly after with
    `reverse`); 1 for the first."""
    return _shift(cumprod(x, axis, reverse=reverse), axis, 1, 1, not reverse)


# ---------------------------------------------------------------------------
# cumsum
# ---------------------------------------------------------------------------
cumsum_p = _cumulative_primitive("cumsum", linear=True)
cumsum_p.def_transpose(lambda ct, x, *, axis, reverse:
                       (bind(cumsum_p, ct, axis=axis, reverse=not reverse),))


def cumsum(x, axis=None, reverse: bool = False) -> Tensor:
    """Running sum along `axis` (over the flattened tensor when None); with `reverse`, the
    sum of each element and those after it.

    Bool and sub-32-bit integers are summed in 32 bits.

    Example:
        >>> nb.cumsum(nb.tensor([1.0, 2.0, 3.0]))
        Tensor([1. 3. 6.] : f32[3])
    """
    x, axis = _prepare("cumsum", x, axis)
    reverse = as_bool("cumsum", "reverse", reverse)
    if x.shape[axis] <= 1:
        return x
    return bind(cumsum_p, x, axis=axis, reverse=reverse)


# ---------------------------------------------------------------------------
# cumprod
# ---------------------------------------------------------------------------
cumprod_p = _cumulative_primitive("cumprod")


@cumprod_p.def_jvp
def _cumprod_jvp(primals, tangents, outs, *, axis, reverse):
    from .elementwise import mul
    # out[i] = x[i] * out[i-1], so dout[i] = t[i] * out[i-1] + x[i] * dout[i-1]
    (x,), (t,), (out,) = primals, tangents, outs
    before = _shift(out, axis, 1, 1, not reverse)
    return _linear_recurrence(x, mul(t, before), axis, reverse)


@cumprod_p.def_vjp
def _cumprod_vjp(ct, primals, outs, *, axis, reverse):
    from .elementwise import mul
    # Transpose of the JVP's recurrence: g[j] = ct[j] + x[j+1] * g[j+1], run the other way.
    (x,), (out,) = primals, outs
    before = _shift(out, axis, 1, 1, not reverse)
    g = _linear_recurrence(_shift(x, axis, 1, 0, reverse), ct, axis, not reverse)
    return (mul(g, before),)


def cumprod(x, axis=None, reverse: bool = False) -> Tensor:
    """Running product along `axis` (over the flattened tensor when None); with `reverse`,
    the product of each element and those after it.

    Bool and sub-32-bit integers multiply in 32 bits. Derivatives are exact with zeros.

    Example:
        >>> nb.cumprod(nb.tensor([1.0, 2.0, 3.0]))
        Tensor([1. 2. 6.] : f32[3])
    """
    x, axis = _prepare("cumprod", x, axis)
    reverse = as_bool("cumprod", "reverse", reverse)
    if x.shape[axis] <= 1:
        return x
    return bind(cumprod_p, x, axis=axis, reverse=reverse)


__all__ = ["cumprod", "cumsum"]
