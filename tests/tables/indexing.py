"""Op table: indexing (getitem, .at[] updates, take, take_along_axis, gather, scatter_add).

Integer index arguments are `Arg(shape, "int", low, high)` (random, so repeated
indices occur) or fixed values; the gradient and vmap checks run through them
(batched indices, batched operands, both).
"""
import numpy as np

import nabla_like as nb

from ..optable import ALL, NUMERIC, Arg, OpCase


def np_at(how):
    """NumPy reference for x.at[idx].<how>(v): unbuffered ufunc.at (repeated indices
    accumulate), or plain assignment for set."""
    def ref(x, idx, v):
        out = np.array(x, copy=True)
        if isinstance(idx, np.ndarray):
            idx = idx.astype(np.int64)
        if how == "set":
            out[idx] = v
        else:
            ufunc = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}[how]
            ufunc.at(out, idx, np.broadcast_to(v, out[idx].shape).astype(out.dtype))
        return out
    return ref


def np_torch_gather(x, axis, index):
    region = tuple(slice(0, n) if d != axis else slice(None) for d, n in enumerate(index.shape))
    return np.take_along_axis(x[region], index.astype(np.int64), axis)


def np_scatter_add(x, axis, index, src):
    out = np.array(x, copy=True)
    coords = list(np.indices(index.shape))
    coords[axis] = index.astype(np.int64)
    region = tuple(slice(0, n) for n in index.shape)
    np.add.at(out, tuple(coords), src[region])
    return out


MASK = np.array([True, False, True])
IDX2 = np.array([2, 0])  # unique indices: set has one answer

CASES = [
    # basic indexing: static slices, reverses and reshapes
    OpCase("getitem_int", lambda x: x[1], lambda x: x[1], [(3, 4)], dtypes=ALL),
    OpCase("getitem_neg_int", lambda x: x[-1, -2], lambda x: x[-1, -2], [(3, 4)]),
    OpCase("getitem_slices", lambda x: x[1:, ::-2], lambda x: x[1:, ::-2], [(3, 5)], dtypes=ALL),
    OpCase("getitem_neg_step", lambda x: x[4:0:-3, ::2], lambda x: x[4:0:-3, ::2], [(6, 3)]),
    OpCase("getitem_none_ellipsis", lambda x: x[None, ..., 1, None],
           lambda x: x[None, ..., 1, None], [(2, 3, 4)]),
    OpCase("getitem_empty", lambda x: x[2:2], lambda x: x[2:2], [(3, 4)]),
    OpCase("getitem_0d", lambda x: x[()], lambda x: x[()], [()]),
    OpCase("getitem_0d_newaxis", lambda x: x[None, ...], lambda x: x[None, ...], [()]),
    # advanced indexing
    OpCase("getitem_list", lambda x: x[[0, 2, 2]], lambda x: x[[0, 2, 2]], [(3, 4)], dtypes=ALL),
    OpCase("getitem_list_2d", lambda x: x[:, [[0, 1], [3, -1]]],
           lambda x: x[:, [[0, 1], [3, -1]]], [(3, 4)]),
    OpCase("getitem_adjacent", lambda x: x[:, [0, 1], [1, 2]], lambda x: x[:, [0, 1], [1, 2]],
           [(2, 3, 4)]),
    OpCase("getitem_separated", lambda x: x[[0, 1], :, [1, 1]], lambda x: x[[0, 1], :, [1, 1]],
           [(2, 3, 4)]),
    OpCase("getitem_int_and_array", lambda x: x[1, :, [0, 3]], lambda x: x[1, :, [0, 3]],
           [(2, 3, 4)]),
    OpCase("getitem_mask", lambda x: x[MASK], lambda x: x[MASK], [(3, 2)], dtypes=ALL),
    OpCase("getitem_empty_list", lambda x: x[[]], lambda x: x[np.array([], np.int64)], [(3, 2)]),
    OpCase("getitem_tensor", lambda x, i: x[i], lambda x, i: x[i], [(3, 4), Arg((5,), "int", -3, 3)],
           dtypes=ALL),
    OpCase("getitem_tensor_mixed", lambda x, i: x[:, i, 1], lambda x, i: x[:, i, 1],
           [(3, 4, 5), Arg((2, 3), "int", 0, 4)]),
    OpCase("getitem_tensor_scalar", lambda x, i: x[i, 1:], lambda x, i: x[i, 1:],
           [(3, 4), Arg((), "int", 0, 3)]),
    OpCase("getitem_two_tensors", lambda x, i, j: x[i, :, j], lambda x, i, j: x[i, :, j],
           [(3, 2, 4), Arg((3,), "int", 0, 3), Arg((2, 1), "int", 0, 4)]),
    # functional updates
    OpCase("at_set", lambda x, v: x.at[IDX2].set(v), lambda x, v: np_at("set")(x, IDX2, v),
           [(3, 4), (2, 4)], dtypes=ALL),
    OpCase("at_set_scalar", lambda x: x.at[1, 2].set(5.0), lambda x: np_at("set")(x, (1, 2), 5),
           [(3, 4)]),
    OpCase("at_set_slices", lambda x, v: x.at[1:, ::-2].set(v),
           lambda x, v: np_at("set")(x, (slice(1, None), slice(None, None, -2)), v),
           [(3, 5), (3,)]),
    OpCase("at_set_tensor", lambda x, i, v: x.at[:, i].set(v),
           lambda x, i, v: np_at("set")(x, (slice(None), i), v),
           [(2, 4), Arg(value=np.array([3, 1, 0])), (2, 3)]),
    OpCase("at_add", lambda x, i, v: x.at[i].add(v), np_at("add"),
           [(3, 4), Arg((6,), "int", 0, 3), (6, 4)], dtypes=NUMERIC),
    OpCase("at_add_broadcast", lambda x, i, v: x.at[i, 1:].add(v),
           lambda x, i, v: np_at("add")(x, (i, slice(1, None)), v),
           [(3, 4), Arg((2, 2), "int", 0, 3), (3,)]),
    OpCase("at_add_mixed", lambda x, i, v: x.at[i, :, [0, 0]].add(v),
           lambda x, i, v: np_at("add")(x, (i, slice(None), [0, 0]), v),
           [(3, 2, 4), Arg((2,), "int", 0, 3), (2, 2)]),
    OpCase("at_multiply", lambda x, i, v: x.at[i].multiply(v), np_at("mul"),
           [(3, 2), Arg((5,), "int", 0, 3), (5, 2)], dtypes=NUMERIC),
    OpCase("at_min", lambda x, i, v: x.at[i].min(v), np_at("min"),
           [(4,), Arg((6,), "int", 0, 4), (6,)], dtypes=NUMERIC),
    OpCase("at_max", lambda x, i, v: x.at[:, i].max(v),
           lambda x, i, v: np_at("max")(x, (slice(None), i), v),
           [(2, 4), Arg((3,), "int", 0, 4), (2, 3)], dtypes=NUMERIC),
    # take / take_along_axis / torch-style gather and scatter_add
    OpCase("take_axis", lambda x: nb.take(x, [2, 0, -1], axis=1),
           lambda x: np.take(x, [2, 0, -1], axis=1), [(2, 3)], dtypes=ALL),
    OpCase("take_flat", lambda x, i: nb.take(x, i), lambda x, i: np.take(x, i),
           [(3, 4), Arg((2, 3), "int", 0, 12)]),
    OpCase("take_along_axis", lambda x, i: nb.take_along_axis(x, i, axis=1),
           lambda x, i: np.take_along_axis(x, i, axis=1),
           [(3, 4), Arg((3, 5), "int", 0, 4)], dtypes=ALL),
    OpCase("take_along_axis_bcast", lambda x, i: nb.take_along_axis(x, i, axis=-1),
           lambda x, i: np.take_along_axis(x, i, axis=-1),
           [(2, 1, 4), Arg((1, 3, 2), "int", 0, 4)]),
    OpCase("gather_torch", lambda x, i: nb.gather(x, 1, i), lambda x, i: np_torch_gather(x, 1, i),
           [(3, 4), Arg((3, 2), "int", 0, 4)], dtypes=ALL),
    OpCase("gather_torch_axis0", lambda x, i: nb.gather(x, 0, i),
           lambda x, i: np_torch_gather(x, 0, i), [(3, 4), Arg((5, 2), "int", 0, 3)]),
    OpCase("scatter_add_torch", lambda x, i, s: nb.scatter_add(x, 0, i, s),
           lambda x, i, s: np_scatter_add(x, 0, i, s),
           [(3, 3), Arg((4, 2), "int", 0, 3), (5, 3)], dtypes=NUMERIC),
]
