"""Op table: shape ops.

Shape ops move data without arithmetic, so they are dtype-agnostic: a
representative case of each op runs over ALL dtypes, the others over floats.
"""
import numpy as np

import nabla_like as nb

from ..optable import ALL, Arg, OpCase, mark_composite

START = Arg((), "int", low=-2, high=6)  # a start index, sometimes out of range (clamped)


def _clamp(i, dim, size):
    return min(max(int(i), 0), dim - size)


def np_dynamic_slice(x, starts, sizes):
    lo = [_clamp(i, d, s) for i, d, s in zip(starts, x.shape, sizes)]
    return x[tuple(slice(a, a + s) for a, s in zip(lo, sizes))]


def np_dynamic_update_slice(x, update, starts):
    out = x.copy()
    lo = [_clamp(i, d, s) for i, d, s in zip(starts, x.shape, update.shape)]
    out[tuple(slice(a, a + s) for a, s in zip(lo, update.shape))] = update
    return out


def np_pad_general(x, value, low, high, interior):
    """StableHLO pad in NumPy: interior padding, then edges (negative edges crop)."""
    shape = [d + max(d - 1, 0) * it for d, it in zip(x.shape, interior)]
    out = np.full(shape, value, dtype=x.dtype)
    out[tuple(slice(None, None, it + 1) for it in interior)] = x
    out = np.pad(out, [(max(lo, 0), max(hi, 0)) for lo, hi in zip(low, high)],
                 constant_values=value)
    return out[tuple(slice(max(-lo, 0), out.shape[i] - max(-hi, 0))
                     for i, (lo, hi) in enumerate(zip(low, high)))]


CASES = [
    # reshape and the size-1 axis functions
    OpCase("reshape", lambda x: nb.reshape(x, (4, -1)), lambda x: x.reshape(4, -1), [(2, 3, 2)],
           dtypes=ALL),
    OpCase("reshape_0d", lambda x: nb.reshape(x, (1, 1)), lambda x: x.reshape(1, 1), [()]),
    OpCase("reshape_to_0d", lambda x: nb.reshape(x, ()), lambda x: x.reshape(()), [(1, 1)]),
    OpCase("reshape_empty", lambda x: nb.reshape(x, (3, -1)), lambda x: x.reshape(3, -1),
           [(0, 3)]),
    OpCase("squeeze_all", nb.squeeze, np.squeeze, [(1, 3, 1, 2)], dtypes=ALL),
    OpCase("squeeze_axes", lambda x: nb.squeeze(x, (0, -1)), lambda x: np.squeeze(x, (0, -1)),
           [(1, 3, 1)]),
    OpCase("squeeze_0d", nb.squeeze, np.squeeze, [()]),
    OpCase("expand_dims", lambda x: nb.expand_dims(x, (0, -1)),
           lambda x: np.expand_dims(x, (0, -1)), [(2, 3)], dtypes=ALL),
    OpCase("unsqueeze_neg", lambda x: nb.unsqueeze(x, -2), lambda x: np.expand_dims(x, -2),
           [(2, 3)]),
    OpCase("expand_dims_0d", lambda x: nb.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), [()]),
    OpCase("flatten", nb.flatten, lambda x: x.reshape(-1), [(2, 3, 2)], dtypes=ALL),
    OpCase("flatten_mid", lambda x: nb.flatten(x, 1, -2), lambda x: x.reshape(2, 12, 5),
           [(2, 3, 4, 5)]),
    OpCase("flatten_0d", nb.flatten, lambda x: x.reshape(1), [()]),
    OpCase("flatten_empty", lambda x: nb.flatten(x, 1), lambda x: x.reshape(2, 0), [(2, 0, 3)]),
    # broadcasting
    OpCase("broadcast_to", lambda x: nb.broadcast_to(x, (2, 3, 4)),
           lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)], dtypes=ALL),
    OpCase("broadcast_to_0d", lambda x: nb.broadcast_to(x, (2, 3)),
           lambda x: np.broadcast_to(x, (2, 3)), [()]),
    OpCase("broadcast_to_empty", lambda x: nb.broadcast_to(x, (2, 0, 3)),
           lambda x: np.broadcast_to(x, (2, 0, 3)), [(0, 1)]),
    # axis permutations
    OpCase("transpose", lambda x: nb.transpose(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1),
           [(2, 3, 4)], dtypes=ALL),
    OpCase("transpose_default", nb.transpose, np.transpose, [(2, 3, 4)]),
    OpCase("transpose_neg", lambda x: nb.transpose(x, (-1, 0, -2)),
           lambda x: np.transpose(x, (-1, 0, -2)), [(2, 3, 4)]),
    OpCase("transpose_empty", nb.transpose, np.transpose, [(0, 3)]),
    OpCase("permute", lambda x: nb.permute(x, 2, 0, 1), lambda x: x.transpose(2, 0, 1),
           [(2, 3, 4)]),
    OpCase("swapaxes", lambda x: nb.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1),
           [(2, 3, 4)], dtypes=ALL),
    OpCase("swap_axes_neg", lambda x: nb.swap_axes(x, -2, -1), lambda x: np.swapaxes(x, -2, -1),
           [(2, 3, 4)]),
    OpCase("moveaxis", lambda x: nb.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
           [(2, 3, 4)], dtypes=ALL),
    OpCase("moveaxis_seq", lambda x: nb.moveaxis(x, (0, -1), (-1, 1)),
           lambda x: np.moveaxis(x, (0, -1), (-1, 1)), [(2, 3, 4, 5)]),
    # joining
    OpCase("concatenate", lambda x, y: nb.concatenate([x, y], axis=1),
           lambda x, y: np.concatenate([x, y], axis=1), [(2, 3), (2, 1)], dtypes=ALL),
    OpCase("concatenate_neg3", lambda x, y, z: nb.concatenate([x, y, z], axis=-1),
           lambda x, y, z: np.concatenate([x, y, z], axis=-1), [(2, 2), (2, 3), (2, 1)]),
    OpCase("concatenate_empty", lambda x, y: nb.concatenate([x, y]),
           lambda x, y: np.concatenate([x, y]), [(0, 3), (2, 3)]),
    OpCase("concatenate_flat", lambda x, y: nb.concatenate((x, y), axis=None),
           lambda x, y: np.concatenate((x, y), axis=None), [(2, 2), (3,)]),
    OpCase("stack", lambda x, y: nb.stack([x, y]), lambda x, y: np.stack([x, y]),
           [(2, 3), (2, 3)], dtypes=ALL),
    OpCase("stack_neg", lambda x, y, z: nb.stack([x, y, z], axis=-1),
           lambda x, y, z: np.stack([x, y, z], axis=-1), [(2, 3), (2, 3), (2, 3)]),
    OpCase("stack_0d", lambda x, y: nb.stack([x, y]), lambda x, y: np.stack([x, y]), [(), ()]),
    # splitting (lists and tuples of outputs)
    OpCase("split_sections", lambda x: nb.split(x, 3, axis=1), lambda x: np.split(x, 3, axis=1),
           [(2, 6)], dtypes=ALL),
    OpCase("split_indices", lambda x: nb.split(x, [1, -1, 10], axis=-1),
           lambda x: np.split(x, [1, -1, 10], axis=-1), [(2, 5)]),
    OpCase("chunk", lambda x: nb.chunk(x, 3), lambda x: (x[:2], x[2:4], x[4:]), [(5, 2)]),
    # reversal and slicing
    OpCase("flip", lambda x: nb.flip(x, 1), lambda x: np.flip(x, 1), [(2, 3, 4)], dtypes=ALL),
    OpCase("flip_all", nb.flip, np.flip, [(2, 3)]),
    OpCase("flip_neg", lambda x: nb.flip(x, (-1, 0)), lambda x: np.flip(x, (-1, 0)),
           [(2, 1, 3)]),
    OpCase("flip_0d", nb.flip, np.flip, [()]),
    OpCase("slice_tensor", lambda x: nb.slice_tensor(x, (1, None), (None, -1), (1, 2)),
           lambda x: x[1:, :-1:2], [(3, 6)], dtypes=ALL),
    OpCase("slice_tensor_neg_step", lambda x: nb.slice_tensor(x, (None, -2), (None, 0), (-1, -2)),
           lambda x: x[::-1, -2:0:-2], [(3, 7)]),
    OpCase("slice_tensor_axes", lambda x: nb.slice_tensor(x, (-3,), (100,), axes=(-1,)),
           lambda x: x[..., -3:100], [(2, 3, 5)]),
    OpCase("slice_tensor_empty", lambda x: nb.slice_tensor(x, (2,), (1,)), lambda x: x[2:1],
           [(4, 2)]),
    # padding
    OpCase("pad_constant", lambda x: nb.pad(x, ((1, 2), (0, 1))),
           lambda x: np.pad(x, ((1, 2), (0, 1))), [(2, 3)], dtypes=ALL),
    OpCase("pad_value", lambda x, v: nb.pad(x, (2, 1), constant_values=v),
           lambda x, v: np.pad(x, (2, 1), constant_values=v), [(2, 3), ()]),
    OpCase("pad_value_pairs", lambda x: nb.pad(x, 1, constant_values=((1, 2), (3, 4))),
           lambda x: np.pad(x, 1, constant_values=((1, 2), (3, 4))), [(2, 3)]),
    OpCase("pad_edge", lambda x: nb.pad(x, ((2, 1), (0, 3)), mode="edge"),
           lambda x: np.pad(x, ((2, 1), (0, 3)), mode="edge"), [(2, 3)], dtypes=ALL),
    OpCase("pad_reflect", lambda x: nb.pad(x, ((5, 1), (2, 7)), mode="reflect"),
           lambda x: np.pad(x, ((5, 1), (2, 7)), mode="reflect"), [(2, 3)]),
    OpCase("pad_symmetric", lambda x: nb.pad(x, (4, 2), mode="symmetric"),
           lambda x: np.pad(x, (4, 2), mode="symmetric"), [(3,)]),
    OpCase("pad_wrap", lambda x: nb.pad(x, ((1, 0), (7, 2)), mode="wrap"),
           lambda x: np.pad(x, ((1, 0), (7, 2)), mode="wrap"), [(2, 3)]),
    OpCase("pad_reflect_empty", lambda x: nb.pad(x, ((0, 0), (1, 1)), mode="reflect"),
           lambda x: np.pad(x, ((0, 0), (1, 1)), mode="reflect"), [(0, 3)]),
    OpCase("pad_general", lambda x, v: nb.pad_general(x, v, (1, -1), (2, 0), (1, 2)),
           lambda x, v: np_pad_general(x, v, (1, -1), (2, 0), (1, 2)), [(3, 2), ()]),
    # repeating
    OpCase("repeat", lambda x: nb.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1),
           [(2, 3)], dtypes=ALL),
    OpCase("repeat_flat", lambda x: nb.repeat(x, 3), lambda x: np.repeat(x, 3), [(2, 2)]),
    OpCase("repeat_counts", lambda x: nb.repeat(x, [2, 0, 3], axis=-1),
           lambda x: np.repeat(x, [2, 0, 3], axis=-1), [(2, 3)]),
    OpCase("repeat_zero", lambda x: nb.repeat(x, 0, axis=0), lambda x: np.repeat(x, 0, axis=0),
           [(2, 3)]),
    OpCase("tile", lambda x: nb.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [(2, 3)],
           dtypes=ALL),
    OpCase("tile_short", lambda x: nb.tile(x, 2), lambda x: np.tile(x, 2), [(2, 3)]),
    OpCase("tile_0d", lambda x: nb.tile(x, (2, 2)), lambda x: np.tile(x, (2, 2)), [()]),
    # dynamic slicing (start indices are tensors, batched by the vmap tests)
    OpCase("dynamic_slice", lambda x, i, j: nb.dynamic_slice(x, (i, j), (2, 3)),
           lambda x, i, j: np_dynamic_slice(x, (i, j), (2, 3)), [(4, 5), START, START], dtypes=ALL),
    OpCase("dynamic_slice_mixed", lambda x, i: nb.dynamic_slice(x, (1, i, 0), (1, 2, 2)),
           lambda x, i: np_dynamic_slice(x, (1, i, 0), (1, 2, 2)), [(2, 4, 3), START]),
    OpCase("dynamic_slice_vector", lambda x, s: nb.dynamic_slice(x, s, (2, 1)),
           lambda x, s: np_dynamic_slice(x, s, (2, 1)), [(3, 4), Arg((2,), "int", -2, 6)]),
    OpCase("dynamic_update_slice", lambda x, u, i, j: nb.dynamic_update_slice(x, u, (i, j)),
           lambda x, u, i, j: np_dynamic_update_slice(x, u, (i, j)), [(4, 5), (2, 3), START, START],
           dtypes=ALL),
    OpCase("dynamic_update_slice_mixed", lambda x, u, i: nb.dynamic_update_slice(x, u, (i, 2)),
           lambda x, u, i: np_dynamic_update_slice(x, u, (i, 2)), [(5, 4), (3, 2), START]),
]

# edge, reflect, symmetric and wrap padding concatenate slices; repeat with counts too
mark_composite(CASES, ["pad_edge", "pad_reflect", "pad_symmetric", "pad_wrap", "pad_reflect_empty",
                       "repeat_counts"])
