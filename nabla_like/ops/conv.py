"""Convolutions and pooling: the `conv_general_dilated` primitive (StableHLO's convolution),
windowed reductions (`reduce_window_sum`, `reduce_window_max`), `select_and_scatter_add`
(the max's VJP), and the PyTorch-style functions built on them (conv1d/2d/3d,
conv2d_transpose, max_pool2d, avg_pool2d, adaptive_avg_pool2d).

The primitive's layout is fixed: lhs [N, C, *spatial], rhs [O, I, *spatial], out
[N', O, *spatial]. It is bilinear: its JVP is two convolutions, and each cotangent is a
convolution of the output cotangent with the other operand (a transposed convolution for
lhs, a correlation of lhs with the cotangent for rhs), with the feature and batch group
counts trading places where groups are involved.

Windowed reductions take one window entry per operand dim. The sum is linear (its transpose
is a window sum of the padded, dilated cotangent). The max's JVP gathers the tangent at
each window's first maximum; its VJP scatters the cotangent there (`select_and_scatter_add`,
whose transpose is that gather), so forward and reverse mode agree on ties.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..args import as_bool, as_int, as_int_tuple
from ..core import Primitive, bind, context_of, full_in
from ..dtypes import int32, result_type
from ..errors import ArgumentError, ArgumentValueError, DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import add_any, batch_size, cast, move_bdim, to_tensor

Ints = tuple[int, ...]
Pairs = tuple[tuple[int, int], ...]


def _dilate(n: int, d: int) -> int:
    return 0 if n == 0 else (n - 1) * d + 1


def _window_count(size: int, window: int, stride: int, pad: tuple[int, int], base: int,
                  dilation: int) -> int:
    """How many windows fit along one dim (StableHLO's convolution/reduce_window rule)."""
    padded = _dilate(size, base) + pad[0] + pad[1]
    span = _dilate(window, dilation)
    return 0 if padded < span or span == 0 else (padded - span) // stride + 1


def _short(x) -> str:
    return x._value.aval.short() if isinstance(x, Tensor) else x.short()


# ---------------------------------------------------------------------------
# conv_general_dilated
# ---------------------------------------------------------------------------
conv_general_dilated_p = Primitive("conv_general_dilated")


@conv_general_dilated_p.def_abstract_eval
def _conv_abstract_eval(lhs: Aval, rhs: Aval, *, window_strides: Ints, padding: Pairs,
                        lhs_dilation: Ints, rhs_dilation: Ints, feature_group_count: int,
                        batch_group_count: int) -> Aval:
    op = "conv_general_dilated"
    if lhs.dtype is not rhs.dtype or lhs.dtype.kind != "f":
        raise_error(DTypeError, op, f"operands must be floating point of one dtype, got "
                    f"{lhs.short()} and {rhs.short()}")
    ns = lhs.ndim - 2
    params = (window_strides, padding, lhs_dilation, rhs_dilation)
    if ns < 0 or rhs.ndim != lhs.ndim or any(len(p) != ns for p in params) or min(
            window_strides + lhs_dilation + rhs_dilation, default=1) < 1:
        raise_error(ShapeError, op, f"invalid convolution of {lhs.short()} with {rhs.short()}: "
                    f"strides {window_strides}, padding {padding}, dilations {lhs_dilation}, "
                    f"{rhs_dilation}")
    (n, c), (o, i) = lhs.shape[:2], rhs.shape[:2]
    fgc, bgc = feature_group_count, batch_group_count
    if (fgc < 1 or bgc < 1 or (fgc > 1 and bgc > 1) or c != i * fgc or o % fgc
            or n % bgc or o % bgc):
        raise_error(ShapeError, op, f"channels do not fit: lhs {lhs.short()} (N, C, ...) and rhs "
                    f"{rhs.short()} (O, I, ...) with feature_group_count={fgc}, "
                    f"batch_group_count={bgc} need C == I * feature_group_count and O, N "
                    f"divisible by the group counts")
    spatial = tuple(_window_count(*args) for args in zip(lhs.shape[2:], rhs.shape[2:],
                                                          window_strides, padding,
                                                          lhs_dilation, rhs_dilation))
    return Aval((n // bgc, o) + spatial, lhs.dtype, lhs.weak and rhs.weak)


def _conv_flops(node) -> float:
    """A multiply and an add per output element and kernel entry it reads."""
    rhs = node.inputs[1].aval.shape
    return 2.0 * node.out_avals[0].size * math.prod(rhs[1:])


conv_general_dilated_p.flops = _conv_flops


def _conv(lhs: Tensor, rhs: Tensor, strides, padding, lhs_dilation, rhs_dilation,
          feature_group_count: int = 1, batch_group_count: int = 1) -> Tensor:
    return bind(conv_general_dilated_p, lhs, rhs, window_strides=tuple(strides),
                padding=tuple((int(lo), int(hi)) for lo, hi in padding),
                lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(rhs_dilation),
                feature_group_count=int(feature_group_count),
                batch_group_count=int(batch_group_count))


def conv_general_dilated(lhs, rhs, *, window_strides=None, padding=None, lhs_dilation=None,
                         rhs_dilation=None, feature_group_count: int = 1,
                         batch_group_count: int = 1) -> Tensor:
    """StableHLO's convolution in the layout lhs [N, C, *spatial], rhs [O, I, *spatial],
    out [N / batch_group_count, O, *spatial] (a cross-correlation, as in every framework).

    `padding` is one (lo, hi) pair per spatial dim (negative values crop); strides and
    dilations default to 1. With `feature_group_count` G the channels split into G groups
    (C == I * G); with `batch_group_count` B the batch splits into B groups, each read by
    O / B of the output features.

    Example:
        >>> x, w = nb.ones((1, 2, 5, 5)), nb.ones((3, 2, 3, 3))
        >>> nb.conv_general_dilated(x, w, padding=((1, 1), (1, 1))).shape
        (1, 3, 5, 5)
    """
    lhs, rhs = _float_pair("conv_general_dilated", lhs, rhs)
    ns = max(lhs.ndim - 2, 0)
    ones = (1,) * ns
    op = "conv_general_dilated"

    def ints(name, value):
        return ones if value is None else as_int_tuple(op, name, value, min=1)
    padding = ((0, 0),) * ns if padding is None else _pairs(op, padding)
    return _conv(lhs, rhs, ints("window_strides", window_strides), padding,
                 ints("lhs_dilation", lhs_dilation), ints("rhs_dilation", rhs_dilation),
                 as_int(op, "feature_group_count", feature_group_count, min=1),
                 as_int(op, "batch_group_count", batch_group_count, min=1))


@conv_general_dilated_p.def_jvp
def _conv_jvp(primals, tangents, outs, **params):
    (lhs, rhs), (t_lhs, t_rhs) = primals, tangents
    return add_any(None if t_lhs is None else bind(conv_general_dilated_p, t_lhs, rhs, **params),
                   None if t_rhs is None else bind(conv_general_dilated_p, lhs, t_rhs, **params))


def _spatial(x: Tensor) -> Ints:
    return tuple(range(2, x.ndim))


def _lhs_cotangent(ct: Tensor, rhs: Tensor, lhs_shape: Ints, *, window_strides, padding,
                   lhs_dilation, rhs_dilation, feature_group_count, batch_group_count) -> Tensor:
    """A transposed convolution: the cotangent dilated by the strides, correlated with the
    flipped kernel whose O and I swap (within each group)."""
    (o, i), kernel = rhs.shape[:2], rhs.shape[2:]
    groups = max(feature_group_count, batch_group_count)
    k = _shape.reshape(rhs, (groups, o // groups, i) + kernel)
    k = _shape.transpose(k, (0, 2, 1) + tuple(range(3, k.ndim)))
    k = _shape.reshape(k, (groups * i, o // groups) + kernel)
    k = _shape.flip(k, _spatial(k))
    pads = []
    for n, m, w, s, (lo, _), ld, rd in zip(lhs_shape[2:], ct.shape[2:], kernel, window_strides,
                                           padding, lhs_dilation, rhs_dilation):
        before = _dilate(w, rd) - 1 - lo
        pads.append((before, _dilate(n, ld) + _dilate(w, rd) - 1 - _dilate(m, s) - before))
    out = _conv(ct, k, lhs_dilation, pads, window_strides, rhs_dilation, groups)
    if batch_group_count > 1:  # [N/B, B*I, ...]: the batch groups come back out of the features
        b = batch_group_count
        rest = out.shape[2:]
        out = _shape.reshape(out, (out.shape[0], b, i) + rest)
        out = _shape.transpose(out, (1, 0) + tuple(range(2, out.ndim)))
        out = _shape.reshape(out, (lhs_shape[0], i) + rest)
    return out


def _rhs_cotangent(ct: Tensor, lhs: Tensor, rhs_shape: Ints, *, window_strides, padding,
                   lhs_dilation, rhs_dilation, feature_group_count, batch_group_count) -> Tensor:
    """lhs correlated with the cotangent, batch and feature dims swapped on both; feature
    groups become batch groups and vice versa."""
    swap = (1, 0) + _spatial(lhs)
    pads = []
    for n, m, w, s, (lo, _), ld, rd in zip(lhs.shape[2:], ct.shape[2:], rhs_shape[2:],
                                           window_strides, padding, lhs_dilation, rhs_dilation):
        pads.append((lo, _dilate(m, s) - _dilate(n, ld) + _dilate(w, rd) - lo - 1))
    out = _conv(_shape.transpose(lhs, swap), _shape.transpose(ct, swap), rhs_dilation, pads,
                lhs_dilation, window_strides, batch_group_count, feature_group_count)
    return _shape.transpose(out, swap)


@conv_general_dilated_p.def_vjp
def _conv_vjp(ct, primals, outs, **params):
    lhs, rhs = primals
    if ct.size == 0 or lhs.size == 0 or rhs.size == 0:  # nothing flows; avoid empty windows
        return (full_in(ct._value.ctx, lhs.shape, 0, lhs.dtype),
                full_in(ct._value.ctx, rhs.shape, 0, rhs.dtype))
    return _lhs_cotangent(ct, rhs, lhs.shape, **params), _rhs_cotangent(ct, lhs, rhs.shape, **params)


def _merge(x: Tensor, dim: int) -> Tensor:
    """Merge dims `dim` and `dim` + 1 of `x` into one (`dim` the major)."""
    return _shape.reshape(x, x.shape[:dim] + (x.shape[dim] * x.shape[dim + 1],) + x.shape[dim + 2:])


def _split(x: Tensor, dim: int, sizes: Ints) -> Tensor:
    return _shape.reshape(x, x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])


def _swap01(x: Tensor) -> Tensor:
    return _shape.transpose(x, (1, 0) + tuple(range(2, x.ndim)))


@conv_general_dilated_p.def_batch
def _conv_batch(args, bdims, **params):
    """The vmapped axis folds into N for lhs; into O for rhs (inside each group when there are
    groups); both batched: into the channels as extra feature (or batch) groups."""
    size = batch_size(args, bdims)
    lhs, rhs = (move_bdim(a, d, 0, size) if d is not None else a for a, d in zip(args, bdims))
    bl, br = bdims
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]
    if size == 0:  # no examples: group counts would become 0
        aval = _conv_abstract_eval(*[Aval(a.shape[1:] if d is not None else a.shape, a.dtype)
                                     for a, d in zip((lhs, rhs), bdims)], **params)
        return full_in(context_of(args), (0,) + aval.shape, 0, aval.dtype), 0
    if bl is not None and br is not None:
        rhs = _merge(rhs, 0)  # [B*O, I, ...]
        if bgc > 1:  # batch groups: example-major batch of the lhs
            out = bind(conv_general_dilated_p, _merge(lhs, 0), rhs,
                       **dict(params, batch_group_count=size * bgc))
        else:  # example-major channels: B * fgc feature groups
            lhs = _merge(_swap01(lhs), 1)  # [N, B*C, ...]
            out = bind(conv_general_dilated_p, lhs, rhs, **dict(params, feature_group_count=size * fgc))
        return _split(out, 1, (size, out.shape[1] // size)), 1
    if bl is not None:
        n = lhs.shape[1]
        if bgc > 1:  # keep the batch groups outermost: [bgc, B, N/bgc, ...]
            lhs = _split(lhs, 1, (bgc, n // bgc))
            lhs = _swap01(lhs)
            lhs = _merge(_merge(lhs, 0), 0)
        else:
            lhs = _merge(lhs, 0)
        out = bind(conv_general_dilated_p, lhs, rhs, **params)
        return _split(out, 0, (size, out.shape[0] // size)), 0
    o = rhs.shape[1]
    groups = max(fgc, bgc)
    if groups > 1:  # keep the groups outermost: [G, B, O/G, ...]
        rhs = _swap01(_split(rhs, 1, (groups, o // groups)))
        rhs = _merge(_merge(rhs, 0), 0)
        out = bind(conv_general_dilated_p, lhs, rhs, **params)
        out = _split(out, 1, (groups, size, o // groups))
        out = _shape.transpose(out, (0, 2, 1) + tuple(range(3, out.ndim)))
        return _merge(out, 2), 1
    out = bind(conv_general_dilated_p, lhs, _merge(rhs, 0), **params)
    return _split(out, 1, (size, o)), 1


# ---------------------------------------------------------------------------
# Windowed reductions: reduce_window_sum, reduce_window_max, select_and_scatter_add
# ---------------------------------------------------------------------------
def _window_shape(op: str, x: Aval, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation) -> Ints:
    params = (window_dimensions, window_strides, padding, base_dilation, window_dilation)
    if any(len(p) != x.ndim for p in params) or min(
            window_dimensions + window_strides + base_dilation + window_dilation,
            default=1) < 1:
        raise_error(ShapeError, op, f"invalid window for {x.short()}: dimensions "
                    f"{window_dimensions}, strides {window_strides}, padding {padding}, "
                    f"dilations {base_dilation}, {window_dilation}")
    return tuple(_window_count(*args) for args in zip(x.shape, *params))


def _window_primitive(name: str, **kwargs) -> Primitive:
    p = Primitive(name, **kwargs)

    @p.def_abstract_eval
    def _abstract_eval(x: Aval, **params) -> Aval:
        if x.dtype.kind not in "iuf":
            raise_error(DTypeError, name, f"expects a numeric operand, got {x.short()}")
        return Aval(_window_shape(name, x, **params), x.dtype, x.weak)

    @p.def_batch
    def _batch(args, bdims, **params):
        (x,), (b,) = args, bdims
        return bind(p, x, **_insert_window_dim(params, b)), b

    return p


def _insert_window_dim(params: dict, at: int) -> dict:
    """The window params with a trivial window entry (size 1, no padding) at dim `at`."""
    trivial = {"window_dimensions": 1, "window_strides": 1, "padding": (0, 0),
               "base_dilation": 1, "window_dilation": 1}
    out = dict(params)
    for k, v in trivial.items():
        if k in params:
            out[k] = params[k][:at] + (v,) + params[k][at:]
    return out


def _window_params(x: Tensor, window_dimensions, window_strides=None, padding=None,
                   base_dilation=None, window_dilation=None) -> dict:
    ones = (1,) * x.ndim
    def ints(name, value):
        return ones if value is None else as_int_tuple("reduce_window", name, value, min=1)
    return {"window_dimensions": as_int_tuple("reduce_window", "window_dimensions",
                                              window_dimensions, min=1),
            "window_strides": ints("window_strides", window_strides),
            "padding": ((0, 0),) * x.ndim if padding is None else _pairs("reduce_window", padding),
            "base_dilation": ints("base_dilation", base_dilation),
            "window_dilation": ints("window_dilation", window_dilation)}


def _pairs(op: str, padding) -> Pairs:
    """Explicit (lo, hi) padding pairs, one per dim (negative values crop)."""
    if not isinstance(padding, (tuple, list)) or not all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in padding):
        raise_error(ArgumentError, op, f"padding must be (lo, hi) pairs of ints, got {padding!r}")
    return tuple(as_int_tuple(op, "padding", p) for p in padding)


reduce_window_sum_p = _window_primitive("reduce_window_sum", linear=True)


@reduce_window_sum_p.def_transpose
def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding,
                                 base_dilation, window_dilation):
    # Each input element is summed into the windows that cover it: a window sum (stride =
    # base dilation) over the cotangent spread out by the strides and padded at the edges.
    lows, highs = [], []
    for n, m, w, s, (lo, _), bd, wd in zip(x.shape, ct.shape, window_dimensions, window_strides,
                                           padding, base_dilation, window_dilation):
        before = _dilate(w, wd) - 1 - lo
        lows.append(before)
        highs.append(_dilate(n, bd) + _dilate(w, wd) - 1 - _dilate(m, s) - before)
    spread = _shape.pad_general(ct, 0, lows, highs, tuple(s - 1 for s in window_strides))
    ones = (1,) * x.ndim
    return (bind(reduce_window_sum_p, spread, window_dimensions=window_dimensions,
                 window_strides=base_dilation, padding=((0, 0),) * x.ndim, base_dilation=ones,
                 window_dilation=window_dilation),)


def reduce_window_sum(x, window_dimensions, window_strides=None, padding=None,
                      base_dilation=None, window_dilation=None) -> Tensor:
    """Sum over sliding windows (StableHLO reduce_window), one window entry per dim of `x`;
    `padding` is one (lo, hi) pair per dim (zeros are added).

    Example:
        >>> nb.reduce_window_sum(nb.ones((4,)), (2,), (2,)).numpy()
        array([2., 2.], dtype=float32)
    """
    x = to_tensor(x, "reduce_window_sum")
    return bind(reduce_window_sum_p, x, **_window_params(x, window_dimensions, window_strides,
                                                          padding, base_dilation, window_dilation))


reduce_window_max_p = _window_primitive("reduce_window_max")


def reduce_window_max(x, window_dimensions, window_strides=None, padding=None,
                      base_dilation=None, window_dilation=None) -> Tensor:
    """Maximum over sliding windows (StableHLO reduce_window), padding with -inf. The
    derivative goes to the first maximum of each window (in row-major window order).

    Example:
        >>> nb.reduce_window_max(nb.arange(4.0), (2,), (2,)).numpy()
        array([1., 3.], dtype=float32)
    """
    x = to_tensor(x, "reduce_window_max")
    return bind(reduce_window_max_p, x, **_window_params(x, window_dimensions, window_strides,
                                                          padding, base_dilation, window_dilation))


def _lowest(x: Tensor):
    return float("-inf") if x.dtype.kind == "f" else int(np.iinfo(x.dtype.np).min)


def _window_offsets(params: dict):
    """Per window entry (row-major order): its start in the padded operand, per dim."""
    ranges = [range(w) for w in params["window_dimensions"]]
    for k in itertools.product(*ranges):
        yield tuple(i * d for i, d in zip(k, params["window_dilation"]))


def _padded(x: Tensor, fill, params: dict) -> Tensor:
    lows, highs = (tuple(p[k] for p in params["padding"]) for k in (0, 1))
    return _shape.pad_general(x, fill, lows, highs, tuple(d - 1 for d in params["base_dilation"]))


def _patches(x: Tensor, fill, params: dict, out_shape: Ints) -> Tensor:
    """The windows of `x` as a trailing axis: [*out_shape, window entries]."""
    padded = _padded(x, fill, params)
    strides = params["window_strides"]
    pieces = [_shape.static_slice(padded, start, tuple(s + _dilate(m, st)
                                                       for s, m, st in zip(start, out_shape, strides)),
                                  strides)
              for start in _window_offsets(params)]
    return _shape.stack(pieces, axis=-1)


def _first_max_mask(x: Tensor, params: dict, out_shape: Ints) -> Tensor:
    """Bool [*out_shape, window entries]: true at the first maximum of each window."""
    from ..creation import iota
    from .elementwise import equal
    from .reduce import argmax
    patches = _patches(_ew.stop_gradient(x), _lowest(x), params, out_shape)
    first = _shape.expand_dims(argmax(patches, axis=-1), -1)
    return equal(iota(patches.shape, patches.ndim - 1, int32),
                 _shape.broadcast_to(first, patches.shape))


def window_gather(t: Tensor, x: Tensor, params: dict) -> Tensor:
    """The entry of `t` at the first maximum of `x` in each window (the max's JVP)."""
    from .reduce import reduce_sum
    out_shape = _window_shape("reduce_window_max", x._value.aval, **params)
    mask = _first_max_mask(x, params, out_shape)
    picked = _ew.select(mask, _patches(t, 0.0, params, out_shape), _zeros(t, mask.shape))
    return reduce_sum(picked, axis=-1)


def _window_scatter(ct: Tensor, x: Tensor, params: dict) -> Tensor:
    """The transpose of `window_gather` in its tangent: each window's cotangent added at
    its first maximum. Used where select_and_scatter (which has no dilations) cannot be."""
    out_shape = ct.shape
    mask = _first_max_mask(x, params, out_shape)
    spread = _ew.select(mask, _shape.broadcast_to(_shape.expand_dims(ct, -1), mask.shape),
                        _zeros(ct, mask.shape))
    padded_shape = _padded(x, 0.0, params).shape
    strides = params["window_strides"]
    total = None
    for k, start in enumerate(_window_offsets(params)):
        piece = _shape.reshape(_shape.slice_axis(spread, spread.ndim - 1, k, k + 1), out_shape)
        high = tuple(p - s - _dilate(m, st) for p, s, m, st in zip(padded_shape, start, out_shape,
                                                                    strides))
        total = add_any(total, _shape.pad_general(piece, 0.0, start, high,
                                                  tuple(st - 1 for st in strides)))
    lows, highs = (tuple(p[k] for p in params["padding"]) for k in (0, 1))
    unpadded = _shape.pad_general(total, 0.0, tuple(-lo for lo in lows), tuple(-hi for hi in highs))
    return _shape.static_slice(unpadded, (0,) * x.ndim, unpadded.shape, params["base_dilation"])


def _tiled_window_scatter(ct: Tensor, x: Tensor, maxima: Tensor, params: dict) -> Tensor:
    """`select_and_scatter_add` for windows that tile the operand (stride == window, no
    dilation; the pools of CNNs): each window becomes axes of its own by a reshape, and its
    first maximum is found by comparing the entries in order. These are elementwise ops XLA
    fuses into one loop, 3-4x faster on the CPU than its select_and_scatter, which walks the
    windows one by one. `maxima` is the forward result. Entries beyond the last whole window
    get no cotangent."""
    from .bitwise import logical_and, logical_not, logical_or
    from .elementwise import equal
    window, out = params["window_dimensions"], ct.shape
    padded = _padded(_ew.stop_gradient(x), _lowest(x), params)
    used = tuple(o * w for o, w in zip(out, window))
    split = _shape.reshape(_shape.static_slice(padded, (0,) * x.ndim, used),
                           tuple(n for o, w in zip(out, window) for n in (o, w)))
    top = _shape.reshape(_ew.stop_gradient(maxima), tuple(n for o in out for n in (o, 1)))
    spread = _shape.reshape(ct, top.shape)
    zeros = _zeros(ct, top.shape)
    taken, pieces = None, {}
    for offset in itertools.product(*(range(w) for w in window)):
        start = tuple(i for k in offset for i in (0, k))
        limit = tuple(i for o, k in zip(out, offset) for i in (o, k + 1))
        hit = equal(_shape.static_slice(split, start, limit), top)
        if taken is not None:
            hit = logical_and(hit, logical_not(taken))
        taken = hit if taken is None else logical_or(taken, hit)
        pieces[offset] = _ew.select(hit, spread, zeros)

    def assemble(prefix: tuple) -> Tensor:  # concatenate the pieces back, one window axis at a time
        d = len(prefix)
        if d == len(window):
            return pieces[prefix]
        parts = [assemble(prefix + (k,)) for k in range(window[d])]
        return parts[0] if len(parts) == 1 else _shape.concatenate(parts, axis=2 * d + 1)
    tiled = _shape.reshape(assemble(()), used)
    lows, highs = (tuple(p[k] for p in params["padding"]) for k in (0, 1))
    rest = tuple(n - u - hi for n, u, hi in zip(padded.shape, used, highs))
    return _shape.pad_general(tiled, 0.0, tuple(-lo for lo in lows), rest)


def _zeros(x: Tensor, shape: Ints) -> Tensor:
    return full_in(x._value.ctx, tuple(shape), 0, x.dtype)


@reduce_window_max_p.def_jvp
def _reduce_window_max_jvp(primals, tangents, outs, **params):
    return window_gather(tangents[0], primals[0], params)


@reduce_window_max_p.def_vjp
def _reduce_window_max_vjp(ct, primals, outs, **params):
    (x,) = primals
    undilated = all(d == 1 for d in params["base_dilation"] + params["window_dilation"])
    if undilated and params["window_strides"] == params["window_dimensions"]:
        return (_tiled_window_scatter(ct, x, outs[0], params),)
    if undilated:
        return (bind(select_and_scatter_add_p, ct, x, window_dimensions=params["window_dimensions"],
                     window_strides=params["window_strides"], padding=params["padding"]),)
    return (_window_scatter(ct, x, params),)


# select_and_scatter_add(source, operand): each source entry added at the first maximum of
# its window of `operand` (StableHLO select_and_scatter with `ge` and `add`). Linear in
# source; piecewise constant (zero derivative) in operand.
select_and_scatter_add_p = Primitive("select_and_scatter_add")


def _full_window(params: dict, ndim: int) -> dict:
    return dict(params, base_dilation=(1,) * ndim, window_dilation=(1,) * ndim)


@select_and_scatter_add_p.def_abstract_eval
def _select_and_scatter_add_abstract_eval(source: Aval, operand: Aval, **params) -> Aval:
    op = "select_and_scatter_add"
    expected = _window_shape(op, operand, **_full_window(params, operand.ndim))
    if source.dtype is not operand.dtype or source.dtype.kind != "f" or source.shape != expected:
        raise_error(ShapeError, op, f"source {source.short()} must be floating point, of the "
                    f"operand's dtype and of its window shape {expected} (operand {operand.short()})")
    return Aval(operand.shape, operand.dtype, source.weak and operand.weak)


def select_and_scatter_add(source: Tensor, operand: Tensor, window_dimensions, window_strides=None,
                           padding=None) -> Tensor:
    """Add each entry of `source` at the first maximum of its window of `operand`: the
    cotangent of reduce_window_max (windows without dilation)."""
    params = _window_params(operand, window_dimensions, window_strides, padding)
    return bind(select_and_scatter_add_p, source, operand, window_dimensions=params["window_dimensions"],
                window_strides=params["window_strides"], padding=params["padding"])


@select_and_scatter_add_p.def_jvp
def _select_and_scatter_add_jvp(primals, tangents, outs, **params):
    if tangents[0] is None:
        return None
    return bind(select_and_scatter_add_p, tangents[0], primals[1], **params)


@select_and_scatter_add_p.def_vjp
def _select_and_scatter_add_vjp(ct, primals, outs, **params):
    return window_gather(ct, primals[1], _full_window(params, ct.ndim)), None


@select_and_scatter_add_p.def_batch
def _select_and_scatter_add_batch(args, bdims, **params):
    size = batch_size(args, bdims)
    source, operand = (move_bdim(a, d, 0, size) for a, d in zip(args, bdims))
    return bind(select_and_scatter_add_p, source, operand, **_insert_window_dim(params, 0)), 0


# ---------------------------------------------------------------------------
# PyTorch-style convolutions
# ---------------------------------------------------------------------------
def _float_pair(op: str, x, w) -> tuple[Tensor, Tensor]:
    x, w = to_tensor(x, op), to_tensor(w, op)
    dtype, _ = result_type((x.dtype, x._value.aval.weak), (w.dtype, w._value.aval.weak))
    if dtype.kind != "f":
        raise_error(DTypeError, op, f"expects floating-point input and weight, got {_short(x)} "
                    f"and {_short(w)}")
    return cast(x, dtype), cast(w, dtype)


def _ints(op: str, name: str, value, n: int, low: int = 1) -> Ints:
    """An int or n ints, each at least `low`."""
    values = as_int_tuple(op, name, value, length=n)
    if not all(v >= low for v in values):
        bound = "positive" if low == 1 else "non-negative"
        raise_error(ArgumentValueError, op, f"{name} must be a {bound} int or {n} of them, "
                    f"got {value!r}")
    return values


def _conv_padding(op: str, padding, sizes: Ints, kernel: Ints, strides: Ints,
                  dilation: Ints) -> Pairs:
    """padding: "SAME" (output size ceil(input / stride), the extra cell at the end),
    "VALID", an int, one int per dim, or one (lo, hi) pair per dim."""
    n = len(sizes)
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return ((0, 0),) * n
        if mode != "SAME":
            raise_error(ArgumentValueError, op, f"padding must be 'SAME', 'VALID' or ints, "
                        f"got {padding!r}")
        pads = []
        for size, k, s, d in zip(sizes, kernel, strides, dilation):
            total = max((-(-size // s) - 1) * s + _dilate(k, d) - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = tuple(as_int_tuple(op, "padding", p, min=0) for p in padding)
        if all(len(p) == 2 for p in pairs):
            return pairs
        raise_error(ArgumentValueError, op, f"padding pairs must be non-negative (lo, hi) ints, "
                    f"got {padding!r}")
    return tuple((p, p) for p in _ints(op, "padding", padding, n, low=0))


def _batched_input(op: str, x: Tensor, ns: int) -> tuple[Tensor, bool]:
    """`x` with a batch dim (added for an unbatched [C, *spatial] input) and whether it was."""
    if x.ndim == ns + 1:
        return _shape.expand_dims(x, 0), True
    if x.ndim != ns + 2:
        raise_error(ShapeError, op, f"expects a {ns + 2}-D (batched) or {ns + 1}-D (unbatched) "
                    f"input, got {_short(x)}")
    return x, False


def _check_windows(op: str, x: Tensor, what: str, sizes: Ints, kernel: Ints, strides: Ints,
                   pads: Pairs, lhs_dilation: Ints, dilation: Ints) -> None:
    for args in zip(sizes, kernel, strides, pads, lhs_dilation, dilation):
        if _window_count(*args) <= 0:
            raise_error(ShapeError, op, f"{what} {kernel} (dilation {dilation}) is larger than the "
                        f"padded input {_short(x)} (padding {pads})")


def _add_bias(op: str, out: Tensor, bias, channels: int) -> Tensor:
    if bias is None:
        return out
    bias = cast(to_tensor(bias, op), out.dtype)
    if bias.shape != (channels,):
        raise_error(ShapeError, op, f"bias must have shape ({channels},) (the output channels), "
                    f"got {_short(bias)}")
    return _ew.add(out, _shape.reshape(bias, (channels,) + (1,) * (out.ndim - 2)))


def _conv_nd(op: str, ns: int, x, w, bias, stride, padding, dilation, groups) -> Tensor:
    x, w = _float_pair(op, x, w)
    x, unbatched = _batched_input(op, x, ns)
    if w.ndim != ns + 2:
        raise_error(ShapeError, op, f"weight must be {ns + 2}-D [out, in / groups, *kernel], got "
                    f"{_short(w)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise_error(ShapeError, op, f"groups must be a positive int, got {groups!r}")
    (c, sizes), (o, i, kernel) = (x.shape[1], x.shape[2:]), (w.shape[0], w.shape[1], w.shape[2:])
    if c % groups or o % groups:
        raise_error(ShapeError, op, f"groups={groups} must divide the input channels ({_short(x)}) "
                    f"and the output channels ({_short(w)})")
    if c != i * groups:
        raise_error(ShapeError, op, f"input {_short(x)} has {c} channels but weight {_short(w)} "
                    f"expects {i * groups} (= {i} per group x groups={groups})")
    strides = _ints(op, "stride", stride, ns)
    dilation = _ints(op, "dilation", dilation, ns)
    pads = _conv_padding(op, padding, sizes, kernel, strides, dilation)
    _check_windows(op, x, "kernel", sizes, kernel, strides, pads, (1,) * ns, dilation)
    out = _conv(x, w, strides, pads, (1,) * ns, dilation, groups)
    out = _add_bias(op, out, bias, o)
    return _shape.squeeze(out, 0) if unbatched else out


def conv1d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution with PyTorch's semantics: x [N, C_in, L] (or [C_in, L]), w [C_out,
    C_in / groups, k], bias [C_out]. `padding`: an int, (lo, hi) pairs, "SAME" or "VALID".

    Example:
        >>> nb.conv1d(nb.ones((1, 2, 8)), nb.ones((4, 2, 3)), padding=1).shape
        (1, 4, 8)
    """
    return _conv_nd("conv1d", 1, x, w, bias, stride, padding, dilation, groups)


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution with PyTorch's semantics: x [N, C_in, H, W] (or [C_in, H, W]),
    w [C_out, C_in / groups, kH, kW], bias [C_out]. `stride`, `dilation`: an int or one per
    dim; `padding`: an int, one per dim, one (lo, hi) pair per dim, "SAME" or "VALID".

    Example:
        >>> x, w = nb.ones((2, 3, 8, 8)), nb.ones((4, 3, 3, 3))
        >>> nb.conv2d(x, w, stride=2, padding=1).shape
        (2, 4, 4, 4)
    """
    return _conv_nd("conv2d", 2, x, w, bias, stride, padding, dilation, groups)


def conv3d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution with PyTorch's semantics: x [N, C_in, D, H, W] (or unbatched),
    w [C_out, C_in / groups, kD, kH, kW], bias [C_out].

    Example:
        >>> nb.conv3d(nb.ones((1, 2, 4, 4, 4)), nb.ones((3, 2, 3, 3, 3)), padding="SAME").shape
        (1, 3, 4, 4, 4)
    """
    return _conv_nd("conv3d", 3, x, w, bias, stride, padding, dilation, groups)


def conv2d_transpose(x, w, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                     groups=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input), with
    PyTorch's conv_transpose2d semantics: x [N, C_in, H, W] (or unbatched), w [C_in,
    C_out / groups, kH, kW], bias [C_out]; output size (H - 1) * stride - 2 * padding +
    dilation * (kH - 1) + output_padding + 1.

    Example:
        >>> nb.conv2d_transpose(nb.ones((1, 4, 3, 3)), nb.ones((4, 2, 3, 3)), stride=2).shape
        (1, 2, 7, 7)
    """
    op, ns = "conv2d_transpose", 2
    x, w = _float_pair(op, x, w)
    x, unbatched = _batched_input(op, x, ns)
    if w.ndim != ns + 2:
        raise_error(ShapeError, op, f"weight must be 4-D [in, out / groups, kH, kW], got {_short(w)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise_error(ShapeError, op, f"groups must be a positive int, got {groups!r}")
    c, (i, o_per, kernel) = x.shape[1], (w.shape[0], w.shape[1], w.shape[2:])
    if c != i:
        raise_error(ShapeError, op, f"input {_short(x)} has {c} channels but weight {_short(w)} "
                    f"expects {i} (weight is [in, out / groups, kH, kW])")
    if c % groups:
        raise_error(ShapeError, op, f"groups={groups} must divide the input channels ({_short(x)})")
    strides = _ints(op, "stride", stride, ns)
    dilation = _ints(op, "dilation", dilation, ns)
    pads = _ints(op, "padding", padding, ns, low=0)
    extra = _ints(op, "output_padding", output_padding, ns, low=0)
    if any(e >= s and e >= d for e, s, d in zip(extra, strides, dilation)):
        raise_error(ShapeError, op, f"output_padding {extra} must be smaller than the stride "
                    f"{strides} or the dilation {dilation}")
    conv_pads = tuple((d * (k - 1) - p, d * (k - 1) - p + e)
                      for k, p, e, d in zip(kernel, pads, extra, dilation))
    sizes = x.shape[2:]
    for n, k, p, e, s, d in zip(sizes, kernel, pads, extra, strides, dilation):
        if (n - 1) * s - 2 * p + d * (k - 1) + e + 1 <= 0:
            raise_error(ShapeError, op, f"padding {pads} leaves no output for input {_short(x)} "
                        f"and weight {_short(w)}")
    # [in, out/g, k] -> [out, in/g, k] within each group, flipped: a conv of the dilated input
    k = _shape.reshape(w, (groups, i // groups, o_per) + kernel)
    k = _shape.transpose(k, (0, 2, 1) + tuple(range(3, k.ndim)))
    k = _shape.flip(_shape.reshape(k, (groups * o_per, i // groups) + kernel), (2, 3))
    out = _conv(x, k, (1,) * ns, conv_pads, strides, dilation, groups)
    out = _add_bias(op, out, bias, groups * o_per)
    return _shape.squeeze(out, 0) if unbatched else out


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------
def _pool_args(op: str, x, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    """Checks a pooling call and returns (x batched, whether it was unbatched, reduce_window
    params, the user's padding per spatial dim). With `ceil_mode` the output size rounds up,
    as PyTorch's does: the last window may hang past the padded input (the overhang is extra
    high padding) but never starts inside the right padding."""
    x = to_tensor(x, op)
    if x.dtype.kind != "f":
        raise_error(DTypeError, op, f"expects a floating-point input, got {_short(x)}")
    x, unbatched = _batched_input(op, x, 2)
    kernel = _ints(op, "kernel_size", kernel_size, 2)
    strides = kernel if stride is None else _ints(op, "stride", stride, 2)
    pads = _ints(op, "padding", padding, 2, low=0)
    dilation = _ints(op, "dilation", dilation, 2)
    ceil_mode = as_bool(op, "ceil_mode", ceil_mode)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise_error(ShapeError, op, f"padding {pads} must be at most half of kernel_size {kernel}")
    pairs = tuple((p, p) for p in pads)
    _check_windows(op, x, "kernel_size", x.shape[2:], kernel, strides, pairs, (1, 1), dilation)
    if ceil_mode:
        pairs = tuple((p, p + _ceil_overhang(n, k, s, p, d))
                      for n, k, s, p, d in zip(x.shape[2:], kernel, strides, pads, dilation))
    params = {"window_dimensions": (1, 1) + kernel, "window_strides": (1, 1) + strides,
              "padding": ((0, 0), (0, 0)) + pairs, "base_dilation": (1,) * 4,
              "window_dilation": (1, 1) + dilation}
    return x, unbatched, params, pads


def _ceil_overhang(n: int, k: int, s: int, p: int, d: int) -> int:
    """How far the last window of a ceil_mode pool reaches past the padded input (n + 2p)."""
    span = n + 2 * p - _dilate(k, d)
    count = -(-span // s) + 1
    if (count - 1) * s >= n + p:  # a window starting in the right padding is dropped
        count -= 1
    return max(0, (count - 1) * s + _dilate(k, d) - (n + 2 * p))


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> Tensor:
    """2-D max pooling with PyTorch's semantics over x [N, C, H, W] (or [C, H, W]): `stride`
    defaults to `kernel_size`; padding (at most half the kernel) counts as -inf; `ceil_mode`
    rounds the output size up (a last, partial window). The gradient goes to the first
    maximum of each window.

    Example:
        >>> nb.max_pool2d(nb.ones((1, 3, 8, 8)), 2).shape
        (1, 3, 4, 4)
        >>> nb.max_pool2d(nb.ones((1, 3, 7, 7)), 2, ceil_mode=True).shape
        (1, 3, 4, 4)
    """
    x, unbatched, params, _ = _pool_args("max_pool2d", x, kernel_size, stride, padding, dilation,
                                         ceil_mode)
    out = bind(reduce_window_max_p, x, **params)
    return _shape.squeeze(out, 0) if unbatched else out


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """2-D average pooling with PyTorch's semantics over x [N, C, H, W] (or [C, H, W]).
    With `count_include_pad` the zero padding counts in each window's size; without, each
    window averages only the input cells it covers. `ceil_mode` rounds the output size up;
    a last, partial window divides by the cells it covers (padding included or not, as
    above; the overhang past the padding never counts).

    Example:
        >>> nb.avg_pool2d(nb.ones((1, 1, 4, 4)), 2, padding=1, count_include_pad=False).shape
        (1, 1, 3, 3)
        >>> nb.avg_pool2d(nb.arange(9.0).reshape(1, 1, 3, 3), 2, ceil_mode=True)
        Tensor(
        [[[[2.  3.5]
           [6.5 8. ]]]] : f32[1,1,2,2]
        )
    """
    count_include_pad = as_bool("avg_pool2d", "count_include_pad", count_include_pad)
    x, unbatched, params, pads = _pool_args("avg_pool2d", x, kernel_size, stride, padding,
                                            ceil_mode=ceil_mode)
    total = bind(reduce_window_sum_p, x, **params)
    kernel, strides = params["window_dimensions"][2:], params["window_strides"][2:]
    overhang = any(hi != p for (_, hi), p in zip(params["padding"][2:], pads))
    if count_include_pad and not overhang:
        out = _ew.div(total, float(math.prod(kernel)))
    else:  # the cells each window covers: a static count, per dim an outer product
        counts = np.ones((), np.float64)
        for n, k, s, p, m in zip(x.shape[2:], kernel, strides, pads, total.shape[2:]):
            starts = np.arange(m) * s - p
            lo, hi = (-p, n + p) if count_include_pad else (0, n)
            counts = np.multiply.outer(counts, np.minimum(starts + k, hi) - np.maximum(starts, lo))
        out = _ew.div(total, _constant(counts, x))
    return _shape.squeeze(out, 0) if unbatched else out


def _constant(array: np.ndarray, like: Tensor) -> Tensor:
    from ..creation import tensor
    return tensor(np.asarray(array).astype(like.dtype.np))


def _adaptive_weights(n: int, m: int) -> np.ndarray:
    """[m, n]: row i averages PyTorch's bin [floor(i n / m), ceil((i + 1) n / m))."""
    weights = np.zeros((m, n), np.float64)
    for i in range(m):
        lo, hi = (i * n) // m, -(-((i + 1) * n) // m)
        weights[i, lo:hi] = 1.0 / (hi - lo)
    return weights


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """2-D adaptive average pooling with PyTorch's bins over x [N, C, H, W] (or [C, H, W]):
    output cell i averages rows floor(i H / out) to ceil((i + 1) H / out). `output_size`: an
    int or (oH, oW); None keeps that dim.

    Example:
        >>> nb.adaptive_avg_pool2d(nb.ones((1, 3, 7, 5)), (3, 2)).shape
        (1, 3, 3, 2)
    """
    op = "adaptive_avg_pool2d"
    x = to_tensor(x, op)
    if x.dtype.kind != "f":
        raise_error(DTypeError, op, f"expects a floating-point input, got {_short(x)}")
    x, unbatched = _batched_input(op, x, 2)
    sizes = x.shape[2:]
    if not isinstance(output_size, (tuple, list)):
        output_size = (output_size, output_size)
    if len(output_size) != 2:
        raise_error(ArgumentValueError, op, f"output_size must be an int or a pair, got {output_size!r}")
    out_sizes = tuple(n if m is None else m for n, m in zip(sizes, output_size))
    _ints(op, "output_size", out_sizes, 2)
    if any(n == 0 for n in sizes):
        raise_error(ShapeError, op, f"input {_short(x)} has an empty spatial dim")
    if all(n % m == 0 for n, m in zip(sizes, out_sizes)):  # equal bins: a plain average pool
        kernel = tuple(n // m for n, m in zip(sizes, out_sizes))
        out = avg_pool2d(x, kernel, kernel)
    else:
        from .linalg import matmul
        rows, cols = (_constant(_adaptive_weights(n, m), x) for n, m in zip(sizes, out_sizes))
        out = matmul(rows, matmul(x, _shape.transpose(cols)))
    return _shape.squeeze(out, 0) if unbatched else out


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "conv2d_transpose", "conv3d",
           "conv_general_dilated", "max_pool2d", "reduce_window_max", "reduce_window_sum"]
from . import elementwise as _ew, shape as _shape  # noqa: E402  (families used at call time)
