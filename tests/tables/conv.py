"""Op table: conv_general_dilated (strides, padding, both dilations, feature and batch
groups, 1-3 spatial dims), the PyTorch-style convolutions, windowed sums and maxima,
select_and_scatter_add and the pooling functions, against loop references in NumPy.

Max-pooling inputs are continuous random values, so windows have no ties and the
gradient checks are smooth. Cases that reach the primitive the same way as another case
(padding modes, unbatched inputs, 1-D/3-D wrappers) check the forward pass only, and
compositions of primitives checked elsewhere skip vmap or order 2, which keeps this
table's compile time small."""
import itertools

import numpy as np

import nabla_like as nb
from nabla_like.ops import conv as conv_ops

from ..optable import Arg, OpCase


def _dilate(n, d):
    return 0 if n == 0 else (n - 1) * d + 1


def _dilate_pad(x, first, dilation, padding, fill):
    """Dilate the dims from `first` on by `dilation` (holes take `fill`), then pad them with
    `fill` (negative pads crop)."""
    shape = x.shape[:first] + tuple(_dilate(n, d) for n, d in zip(x.shape[first:], dilation))
    out = np.full(shape, fill, x.dtype)
    out[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = x
    for k, (lo, hi) in enumerate(padding):
        ax = first + k
        widths = [(0, 0)] * out.ndim
        widths[ax] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, widths, constant_values=fill)
        crop = [slice(None)] * out.ndim
        crop[ax] = slice(max(-lo, 0), out.shape[ax] - max(-hi, 0))
        out = out[tuple(crop)]
    return out


def np_conv(lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, fgc=1, bgc=1):
    """Cross-correlation in the layout [N, C, *S] x [O, I, *K] -> [N / bgc, O, *S']."""
    x = _dilate_pad(lhs, 2, lhs_dilation, padding, 0)
    kernel = rhs.shape[2:]
    n, o = x.shape[0], rhs.shape[0]
    out_sp = tuple((p - _dilate(k, d)) // s + 1 for p, k, d, s in zip(x.shape[2:], kernel,
                                                                       rhs_dilation, strides))
    out = np.zeros((n // bgc, o) + out_sp, np.result_type(lhs, rhs))
    for offset in itertools.product(*[range(k) for k in kernel]):
        window = x[(slice(None), slice(None)) + tuple(
            slice(i * d, i * d + _dilate(m, s), s)
            for i, d, m, s in zip(offset, rhs_dilation, out_sp, strides))]
        w = rhs[(slice(None), slice(None)) + offset]
        if fgc > 1:
            xs = window.reshape((n, fgc, -1) + out_sp)
            ws = w.reshape(fgc, o // fgc, -1)
            out += np.einsum("ngi...,goi->ngo...", xs, ws).reshape(out.shape)
        elif bgc > 1:
            xs = window.reshape((bgc, n // bgc) + window.shape[1:])
            ws = w.reshape(bgc, o // bgc, -1)
            out += np.einsum("bnc...,boc->nbo...", xs, ws).reshape(out.shape)
        else:
            out += np.einsum("nc...,oc->no...", window, w)
    return out


def np_reduce_window(x, reducer, fill, window, strides, padding, base_dilation, window_dilation):
    padded = _dilate_pad(x, 0, base_dilation, padding, fill)
    out_shape = tuple((p - _dilate(w, d)) // s + 1 for p, w, d, s in zip(padded.shape, window,
                                                                          window_dilation, strides))
    pieces = [padded[tuple(slice(i * d, i * d + _dilate(m, s), s) for i, d, m, s in
                           zip(offset, window_dilation, out_shape, strides))]
              for offset in itertools.product(*[range(w) for w in window])]
    return reducer(np.stack(pieces, axis=-1), axis=-1).astype(x.dtype)


def np_select_and_scatter_add(source, operand, window, strides, padding):
    """Each source entry added at the first maximum of its window (padding never chosen)."""
    padded = _dilate_pad(operand, 0, (1,) * operand.ndim, padding, -np.inf)
    out = np.zeros(padded.shape, source.dtype)
    for index in itertools.product(*[range(m) for m in source.shape]):
        corner = tuple(i * s for i, s in zip(index, strides))
        patch = padded[tuple(slice(c, c + w) for c, w in zip(corner, window))]
        best = np.unravel_index(np.argmax(patch), patch.shape)
        out[tuple(c + b for c, b in zip(corner, best))] += source[index]
    return out[tuple(slice(lo, lo + n) for (lo, _), n in zip(padding, operand.shape))]


def _pairs(padding):
    per_dim = padding if isinstance(padding, tuple) else (padding, padding)
    return tuple((p, p) for p in per_dim)


def np_conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    s = stride if isinstance(stride, tuple) else (stride,) * 2
    d = dilation if isinstance(dilation, tuple) else (dilation,) * 2
    out = np_conv(x, w, s, _pairs(padding), (1, 1), d, groups)
    return out if bias is None else out + bias.reshape(-1, 1, 1)


def np_conv_transpose2d(x, w, bias, stride, padding, output_padding, groups):
    """By its definition: each input cell scatters its weighted kernel into the output."""
    n, c, h, wd = x.shape
    _, o_per, kh, kw = w.shape
    full = np.zeros((n, o_per * groups, (h - 1) * stride + kh + output_padding,
                     (wd - 1) * stride + kw + output_padding), np.result_type(x, w))
    cin = c // groups
    for g in range(groups):
        xs = x[:, g * cin:(g + 1) * cin]
        ws = w[g * cin:(g + 1) * cin]
        for i, j in itertools.product(range(h), range(wd)):
            full[:, g * o_per:(g + 1) * o_per, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                np.einsum("nc,cokl->nokl", xs[:, :, i, j], ws)
    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    return out + bias.reshape(-1, 1, 1)


def np_pool2d(x, kind, kernel, stride, padding, dilation=1, count_include_pad=True):
    window, strides = (1, 1, kernel, kernel), (1, 1, stride, stride)
    pads = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    dil = (1, 1, dilation, dilation)
    if kind == "max":
        return np_reduce_window(x, np.max, -np.inf, window, strides, pads, (1,) * 4, dil)
    total = np_reduce_window(x, np.sum, 0, window, strides, pads, (1,) * 4, dil)
    if count_include_pad:
        return total / (kernel * kernel)
    counts = np_reduce_window(np.ones(x.shape[2:]), np.sum, 0, (kernel,) * 2, (stride,) * 2,
                              pads[2:], (1, 1), (1, 1))
    return total / counts.astype(x.dtype)


def np_adaptive_avg_pool2d(x, out_size):
    h, w = x.shape[-2:]
    oh, ow = out_size
    out = np.zeros(x.shape[:-2] + (oh, ow), x.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        rows = slice(i * h // oh, -(-(i + 1) * h // oh))
        cols = slice(j * w // ow, -(-(j + 1) * w // ow))
        out[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return out


def _general(name, lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, fgc=1, bgc=1, vmap=True):
    params = dict(window_strides=strides, padding=padding, lhs_dilation=lhs_dilation,
                  rhs_dilation=rhs_dilation, feature_group_count=fgc, batch_group_count=bgc)
    return OpCase(name, lambda a, b: nb.conv_general_dilated(a, b, **params),
                  lambda a, b: np_conv(a, b, strides, padding, lhs_dilation, rhs_dilation, fgc, bgc),
                  [lhs, rhs], vmap=vmap)


def _window(name, reducer, fill, x, window, strides, padding, base_dilation, window_dilation):
    fn = conv_ops.reduce_window_max if reducer is np.max else conv_ops.reduce_window_sum
    return OpCase(name, lambda a: fn(a, window, strides, padding, base_dilation, window_dilation),
                  lambda a: np_reduce_window(a, reducer, fill, window, strides, padding,
                                             base_dilation, window_dilation), [x])


_SAS = ((3, 2), (2, 2), ((1, 0), (0, 1)))  # window, strides, padding of select_and_scatter_add
_SAS_SOURCE = (2, 3)                       # its window count over a (5, 6) operand

CASES = [
    _general("conv_general_1d", (2, 3, 7), (4, 3, 3), (2,), ((1, 2),), (1,), (1,)),
    _general("conv_general_2d_dilations", (1, 2, 4, 5), (3, 2, 2, 3), (1, 2), ((1, 0), (2, 1)),
             (2, 1), (1, 2), vmap=False),
    _general("conv_general_negative_padding", (1, 2, 6), (2, 2, 2), (1,), ((-1, 2),), (1,), (1,), vmap=False),
    _general("conv_general_feature_groups", (2, 4, 5, 4), (6, 2, 3, 2), (2, 1), ((1, 1), (0, 1)),
             (1, 1), (1, 1), fgc=2),
    _general("conv_general_batch_groups", (4, 3, 5, 4), (4, 3, 2, 2), (1, 2), ((0, 1), (1, 0)),
             (1, 1), (1, 1), bgc=2),
    _general("conv_general_3d", (1, 2, 4, 3, 4), (2, 2, 2, 2, 3), (1, 1, 2), ((0, 0), (1, 0), (1, 1)),
             (1, 1, 1), (1, 1, 1), vmap=False),
    OpCase("conv1d", lambda x, w: nb.conv1d(x, w, stride=2, padding=1),
           lambda x, w: np_conv(x, w, (2,), ((1, 1),), (1,), (1,)), [(2, 3, 8), (4, 3, 3)],
           grad=False, vmap=False),
    OpCase("conv2d", lambda x, w, b: nb.conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                               dilation=(1, 2), groups=2),
           lambda x, w, b: np_conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2), [(2, 4, 5, 6), (4, 2, 3, 2), (4,)],
           grad_order=1),
    OpCase("conv2d_same", lambda x, w: nb.conv2d(x, w, padding="SAME"),
           lambda x, w: np_conv(x, w, (1, 1), ((1, 1), (0, 1)), (1, 1), (1, 1)), [(1, 2, 4, 5), (3, 2, 3, 2)],
           grad=False, vmap=False),
    OpCase("conv2d_unbatched", lambda x, w: nb.conv2d(x, w, padding=1),
           lambda x, w: np_conv2d(x[None], w, padding=1)[0], [(2, 4, 4), (3, 2, 3, 3)],
           grad=False, vmap=False),
    OpCase("conv3d", lambda x, w: nb.conv3d(x, w, padding=((1, 0), (0, 0), (0, 1))),
           lambda x, w: np_conv(x, w, (1,) * 3, ((1, 0), (0, 0), (0, 1)), (1,) * 3, (1,) * 3),
           [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2)], grad=False, vmap=False),
    OpCase("conv2d_transpose", lambda x, w, b: nb.conv2d_transpose(x, w, b, stride=2, padding=1,
                                                                   output_padding=1, groups=2),
           lambda x, w, b: np_conv_transpose2d(x, w, b, 2, 1, 1, 2), [(2, 4, 3, 3), (4, 1, 3, 3), (2,)],
           grad_order=1),
    _window("reduce_window_sum", np.sum, 0, (4, 6), (2, 3), (2, 1), ((1, 0), (0, 2)), (1, 1), (1, 1)),
    _window("reduce_window_sum_dilated", np.sum, 0, (3, 5), (2, 2), (1, 2), ((0, 1), (1, 1)), (2, 1),
            (1, 2)),
    _window("reduce_window_max", np.max, -np.inf, (5, 6), (3, 2), (2, 2), ((1, 0), (0, 1)), (1, 1),
            (1, 1)),
    _window("reduce_window_max_tiled", np.max, -np.inf, (5, 7), (2, 3), (2, 3), ((1, 0), (0, 1)),
            (1, 1), (1, 1)),
    _window("reduce_window_max_dilated", np.max, -np.inf, (4, 5), (2, 2), (1, 2), ((1, 1), (0, 1)),
            (2, 1), (1, 2)),
    OpCase("select_and_scatter_add",
           lambda s, x: conv_ops.select_and_scatter_add(s, x, *_SAS),
           lambda s, x: np_select_and_scatter_add(s, x, *_SAS), [_SAS_SOURCE, (5, 6)]),
    OpCase("max_pool2d", lambda x: nb.max_pool2d(x, 3, 2, 1),
           lambda x: np_pool2d(x, "max", 3, 2, 1), [(2, 2, 5, 6)]),
    OpCase("max_pool2d_tiled", lambda x: nb.max_pool2d(x, 2), lambda x: np_pool2d(x, "max", 2, 2, 0),
           [(2, 2, 5, 6)]),
    OpCase("max_pool2d_dilated", lambda x: nb.max_pool2d(x, 2, 1, 1, dilation=2),
           lambda x: np_pool2d(x, "max", 2, 1, 1, dilation=2), [(1, 2, 5, 4)]),
    OpCase("max_pool2d_unbatched", lambda x: nb.max_pool2d(x, 2),
           lambda x: np_pool2d(x[None], "max", 2, 2, 0)[0], [(2, 4, 5)], vmap=False),
    OpCase("max_pool2d_ceil", lambda x: nb.max_pool2d(x, 2, ceil_mode=True),  # rows: 5 -> 3 windows
           lambda x: np_reduce_window(x, np.max, -np.inf, (1, 1, 2, 2), (1, 1, 2, 2),
                                      ((0, 0), (0, 0), (0, 1), (0, 0)), (1,) * 4, (1,) * 4),
           [(2, 2, 5, 6)]),
    OpCase("avg_pool2d", lambda x: nb.avg_pool2d(x, 3, 2, 1),
           lambda x: np_pool2d(x, "avg", 3, 2, 1), [(2, 2, 5, 6)]),
    OpCase("avg_pool2d_exclude_pad", lambda x: nb.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
           lambda x: np_pool2d(x, "avg", 3, 2, 1, count_include_pad=False), [(2, 2, 5, 6)],
           grad_order=1, vmap=False),
    OpCase("adaptive_avg_pool2d", lambda x: nb.adaptive_avg_pool2d(x, (3, 2)),
           lambda x: np_adaptive_avg_pool2d(x, (3, 2)), [(2, 2, 5, 7)],
           grad_order=1, vmap=False),
    OpCase("adaptive_avg_pool2d_even", lambda x: nb.adaptive_avg_pool2d(x, 2),
           lambda x: np_adaptive_avg_pool2d(x, (2, 2)), [Arg((2, 4, 6))], vmap=False),
]
