"""Shape ops beyond the op table: tuple-returning ops (split, chunk), batched start indices
of the dynamic slices, NumPy's pad modes over many widths, no-op fast paths, Tensor methods
and error messages."""
import numpy as np
import pytest

import nabla_like as nb
from nabla_like.lowering import lower_graph

from .tables.shape import np_dynamic_slice, np_dynamic_update_slice, np_pad_general


def _np(t):
    return np.asarray(t.numpy())


def _assert_pieces(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(_np(g), w)


# ---------------------------------------------------------------------------
# split and chunk
# ---------------------------------------------------------------------------
SPLITS = [((6,), 3, 0), ((6,), [2, 5], 0), ((2, 6), 2, 1), ((2, 6), [1, -2], -1),
          ((4, 3), [3, 1], 0), ((4, 3), [0, 10], 0), ((5,), [], 0), ((0, 2), 4, 0),
          ((3, 2), np.array([1]), 0)]


@pytest.mark.parametrize("shape,sections,axis", SPLITS)
def test_split_matches_numpy(shape, sections, axis):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    got = nb.split(nb.tensor(x), sections, axis=axis)
    assert isinstance(got, list)
    _assert_pieces(got, np.split(x, sections, axis=axis))


# torch.chunk: pieces of ceil(n / chunks); an empty axis keeps `chunks` empty pieces.
CHUNKS = [(6, 4, [2, 2, 2]), (5, 3, [2, 2, 1]), (7, 7, [1] * 7), (3, 5, [1, 1, 1]),
          (6, 1, [6]), (0, 3, [0, 0, 0])]


@pytest.mark.parametrize("n,chunks,sizes", CHUNKS)
def test_chunk_sizes_like_torch(n, chunks, sizes):
    x = np.arange(2 * n, dtype=np.int32).reshape(2, n)
    got = nb.chunk(nb.tensor(x), chunks, axis=-1)
    assert isinstance(got, tuple)
    bounds = np.cumsum([0] + sizes)
    _assert_pieces(got, [x[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])])


@pytest.mark.parametrize("pieces_of", [lambda x: nb.split(x, [1, 3], axis=1),
                                       lambda x: nb.chunk(x, 3, axis=1)])
def test_grad_of_weighted_sum_over_pieces(pieces_of):
    x = np.random.default_rng(0).standard_normal((2, 5))

    def f(x):
        return sum((k + 1.0) * nb.sum(nb.sin(p)) for k, p in enumerate(pieces_of(x)))

    pieces = pieces_of(nb.tensor(x))
    weights = np.concatenate([np.full(p.shape[1], k + 1.0) for k, p in enumerate(pieces)])
    g = nb.grad(f)(nb.tensor(x))
    np.testing.assert_allclose(_np(g), weights * np.cos(x), rtol=1e-12)


@pytest.mark.parametrize("pieces_of,ref", [
    (lambda x: nb.split(x, 2, axis=-1), lambda x: np.split(x, 2, axis=-1)),
    (lambda x: nb.chunk(x, 2, axis=0), lambda x: [x[:2], x[2:]]),
])
@pytest.mark.parametrize("in_axis", [0, 1, -1])
def test_vmap_of_pieces(pieces_of, ref, in_axis):
    xs = np.random.default_rng(1).standard_normal((3, 4, 6)).astype(np.float32)
    batched = np.moveaxis(xs, 0, in_axis)
    got = nb.vmap(pieces_of, in_axes=in_axis)(nb.tensor(batched))
    want = [np.stack(ps) for ps in zip(*[ref(x) for x in xs])]
    _assert_pieces(got, want)


def test_split_and_chunk_errors():
    x = nb.zeros((2, 5))
    with pytest.raises(nb.ShapeError, match=r"split.*f32\[2,5\].*3 equal sections"):
        nb.split(x, 3, axis=1)
    with pytest.raises(nb.ShapeError, match="split"):
        nb.split(x, 0)
    with pytest.raises(nb.AxisError, match="split"):
        nb.split(x, 1, axis=2)
    with pytest.raises(nb.AxisError, match="split"):
        nb.split(nb.zeros(()), 1)
    with pytest.raises(nb.ShapeError, match="chunk"):
        nb.chunk(x, 0)
    with pytest.raises(nb.AxisError, match="chunk"):
        nb.chunk(x, 2, axis=-3)


# ---------------------------------------------------------------------------
# dynamic_slice / dynamic_update_slice
# ---------------------------------------------------------------------------
def test_dynamic_slice_clamps_like_xla():
    x = np.arange(20.0).reshape(4, 5)
    for i in range(-3, 8):
        for j in range(-3, 8):
            got = nb.dynamic_slice(nb.tensor(x), (nb.tensor(i), nb.tensor(j)), (2, 3))
            np.testing.assert_array_equal(_np(got), np_dynamic_slice(x, (i, j), (2, 3)))
    # Python ints take a static path with the same clamping
    np.testing.assert_array_equal(_np(nb.dynamic_slice(x, (-1, 9), (2, 3))), x[0:2, 2:5])


def test_dynamic_slice_index_dtypes():
    x = nb.tensor(np.arange(10.0))
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint32"):
        got = nb.dynamic_slice(x, (nb.tensor(np.asarray(7, dtype)),), (2,))
        np.testing.assert_array_equal(_np(got), [7.0, 8.0])
    got = nb.dynamic_slice(nb.zeros((3, 4)), (nb.tensor(1, dtype=nb.int64), nb.tensor(np.uint8(2))),
                           (1, 2))
    assert got.shape == (1, 2)


def test_dynamic_slice_traced_start_under_grad_and_jvp():
    x = np.random.default_rng(2).standard_normal(6)

    def f(x, i):
        return nb.sum(nb.dynamic_slice(x, (i,), (3,)) ** 2)

    for i in (-1, 2, 5):
        g = nb.grad(f)(nb.tensor(x), nb.tensor(i))
        lo = min(max(i, 0), 3)
        want = np.zeros(6)
        want[lo:lo + 3] = 2 * x[lo:lo + 3]
        np.testing.assert_allclose(_np(g), want)
    t = np.arange(6.0)
    _, tout = nb.jvp(lambda x: nb.dynamic_slice(x, (nb.tensor(4),), (3,)), (nb.tensor(x),),
                     (nb.tensor(t),))
    np.testing.assert_array_equal(_np(tout), t[3:6])


def test_dynamic_update_slice_grads():
    rng = np.random.default_rng(3)
    x, u = rng.standard_normal((4, 5)), rng.standard_normal((2, 2))
    w = rng.standard_normal((4, 5))

    def f(x, u):
        return nb.sum(nb.dynamic_update_slice(x, u, (nb.tensor(3), nb.tensor(-4))) * w)

    gx, gu = nb.grad(f, argnums=(0, 1))(nb.tensor(x), nb.tensor(u))
    mask = np.ones((4, 5))
    mask[2:4, 0:2] = 0
    np.testing.assert_allclose(_np(gx), w * mask)
    np.testing.assert_allclose(_np(gu), w[2:4, 0:2])


BATCHED_STARTS = [(0, 0, 0), (None, 0, 0), (0, None, 0), (1, 0, None), (None, 0, None),
                  (-1, None, 0)]


@pytest.mark.parametrize("x_axis,i_axis,j_axis", BATCHED_STARTS)
@pytest.mark.parametrize("dtype", ["float32", "int8", "bool"])
def test_vmap_dynamic_slice_batched_starts(x_axis, i_axis, j_axis, dtype):
    rng = np.random.default_rng(4)
    b = 7
    xs = (rng.standard_normal((b, 5, 6)) * 4).astype(dtype)
    i_s = rng.integers(-3, 8, b).astype(np.int32)
    j_s = rng.integers(-3, 8, b).astype(np.int32)
    args = [np.moveaxis(xs, 0, x_axis) if x_axis is not None else xs[0],
            i_s if i_axis is not None else i_s[0], j_s if j_axis is not None else j_s[0]]
    def f(x, i, j):
        return nb.dynamic_slice(x, (i, j), (2, 4))

    got = nb.vmap(f, in_axes=(x_axis, i_axis, j_axis))(*[nb.tensor(a) for a in args])
    want = np.stack([np_dynamic_slice(xs[k] if x_axis is not None else xs[0],
                                      (i_s[k] if i_axis is not None else i_s[0],
                                       j_s[k] if j_axis is not None else j_s[0]), (2, 4))
                     for k in range(b)])
    np.testing.assert_array_equal(_np(got), want)


@pytest.mark.parametrize("x_axis,i_axis,j_axis", BATCHED_STARTS)
@pytest.mark.parametrize("u_axis", [0, None])
def test_vmap_dynamic_update_slice_batched_starts(x_axis, i_axis, j_axis, u_axis):
    rng = np.random.default_rng(5)
    b = 6
    xs = rng.standard_normal((b, 4, 6))
    us = rng.standard_normal((b, 2, 3))
    i_s = rng.integers(-3, 8, b).astype(np.int32)
    j_s = rng.integers(-3, 8, b).astype(np.int32)
    axes = (x_axis, u_axis, i_axis, j_axis)
    full = [xs, us, i_s, j_s]
    args = [np.moveaxis(a, 0, ax) if ax is not None else a[0] for a, ax in zip(full, axes)]
    def f(x, u, i, j):
        return nb.dynamic_update_slice(x, u, (i, j))

    got = nb.vmap(f, in_axes=axes)(*[nb.tensor(a) for a in args])
    pick = [(lambda k, a=a, ax=ax: a[k] if ax is not None else a[0]) for a, ax in zip(full, axes)]
    want = np.stack([np_dynamic_update_slice(pick[0](k), pick[1](k), (pick[2](k), pick[3](k)))
                     for k in range(b)])
    np.testing.assert_array_equal(_np(got), want)


def test_vmap_batched_starts_keep_nan_and_inf_in_place():
    x = np.array([np.nan, 1.0, np.inf, 3.0, -np.inf])
    starts = np.array([0, 1, 2, 3], np.int32)
    got = nb.vmap(lambda i: nb.dynamic_slice(nb.tensor(x), (i,), (2,)))(nb.tensor(starts))
    want = np.stack([x[s:s + 2] for s in starts])
    np.testing.assert_array_equal(_np(got), want)


def test_vmap_of_grad_with_batched_starts():
    x = np.random.default_rng(6).standard_normal((5, 4))
    starts = np.array([0, 3, -1, 2], np.int32)

    def loss(x, i):
        return nb.sum(nb.sin(nb.dynamic_slice(x, (i, nb.tensor(1)), (2, 3))))

    got = nb.vmap(nb.grad(loss), in_axes=(None, 0))(nb.tensor(x), nb.tensor(starts))
    for k, s in enumerate(starts):
        want = np.zeros_like(x)
        lo = min(max(s, 0), 3)
        want[lo:lo + 2, 1:4] = np.cos(x[lo:lo + 2, 1:4])
        np.testing.assert_allclose(_np(got[k]), want, rtol=1e-12)


def test_dynamic_slice_errors():
    x = nb.zeros((3, 4))
    with pytest.raises(nb.ShapeError, match=r"dynamic_slice.*f32\[3,4\]"):
        nb.dynamic_slice(x, (0,), (1, 1))
    with pytest.raises(nb.ShapeError, match=r"dynamic_slice.*\(4, 1\)"):
        nb.dynamic_slice(x, (0, 0), (4, 1))
    with pytest.raises(nb.DTypeError, match="dynamic_slice"):
        nb.dynamic_slice(x, (nb.tensor(1.0), 0), (1, 1))
    with pytest.raises(nb.DTypeError, match="dynamic_slice"):
        nb.dynamic_slice(x, (nb.tensor([1, 2]), 0), (1, 1))
    with pytest.raises(nb.ShapeError, match=r"dynamic_update_slice.*f32\[1,5\]"):
        nb.dynamic_update_slice(x, nb.zeros((1, 5)), (0, 0))
    with pytest.raises(nb.ShapeError, match="dynamic_update_slice"):
        nb.dynamic_update_slice(x, nb.zeros(2), (0, 0))


# ---------------------------------------------------------------------------
# pad, repeat, tile, slice_tensor against NumPy over many arguments
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_modes_many_widths(mode):
    for n in (1, 2, 3, 5):
        x = np.arange(2 * n, dtype=np.int16).reshape(2, n)
        for before in range(0, 9, 3):
            for after in (0, 1, 7):
                width = ((1, 0), (before, after))
                got = nb.pad(nb.tensor(x), width, mode=mode)
                np.testing.assert_array_equal(_np(got), np.pad(x, width, mode=mode),
                                              err_msg=f"{mode} n={n} {width}")


@pytest.mark.parametrize("width", [2, (2,), (1, 3), ((1, 3),), [[0, 1], [2, 0]]])
def test_pad_width_forms(width):
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_np(nb.pad(nb.tensor(x), width, constant_values=-1.5)),
                                  np.pad(x, width, constant_values=-1.5))


def test_pad_casts_value_to_dtype():
    x = np.arange(3, dtype=np.int32)
    got = nb.pad(nb.tensor(x), 1, constant_values=2.7)
    assert got.dtype == nb.int32
    np.testing.assert_array_equal(_np(got), np.pad(x, 1, constant_values=2.7))


def test_pad_general_batched_value():
    xs = np.random.default_rng(7).standard_normal((3, 2, 2))
    vs = np.array([1.5, -2.0, 7.0])
    def f(x, v):
        return nb.pad_general(x, v, (1, -1), (0, 2), (1, 0))

    for axes in [(0, 0), (None, 0)]:
        got = nb.vmap(f, in_axes=axes)(nb.tensor(xs if axes[0] == 0 else xs[0]), nb.tensor(vs))
        want = np.stack([np_pad_general(xs[k] if axes[0] == 0 else xs[0], vs[k], (1, -1),
                                        (0, 2), (1, 0)) for k in range(3)])
        np.testing.assert_array_equal(_np(got), want)
    # ... and its derivative with respect to the value: one per padded element
    g = nb.grad(lambda v: nb.sum(f(nb.tensor(xs[0]), v)))(nb.tensor(2.0))
    assert float(g) == f(nb.tensor(xs[0]), 0.0).size - 2


def test_pad_errors():
    x = nb.zeros((2, 3))
    with pytest.raises(nb.ShapeError, match="pad.*negative"):
        nb.pad(x, -1)
    with pytest.raises(nb.ShapeError, match=r"pad.*f32\[2,3\]"):
        nb.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(nb.ShapeError, match="pad.*integers"):
        nb.pad(x, 1.5)
    with pytest.raises(nb.ArgumentValueError, match="mode must be one of"):
        nb.pad(x, 1, mode="mean")
    with pytest.raises(nb.ShapeError, match="empty axis"):
        nb.pad(nb.zeros((0, 3)), 1, mode="edge")


def test_repeat_and_tile_match_numpy():
    x = np.arange(6).reshape(2, 3)
    for reps, axis in [(2, 0), (3, -1), ([1, 2], 0), ([0, 0, 4], 1), ([2], 1), (2, None),
                       (np.array([1, 0, 2]), 1), (0, None)]:
        np.testing.assert_array_equal(_np(nb.repeat(nb.tensor(x), reps, axis=axis)),
                                      np.repeat(x, reps, axis=axis), err_msg=f"{reps} {axis}")
    for reps in [1, 3, (2,), (1, 1), (2, 1), (0, 2), (2, 1, 2), (1, 1, 1, 1)]:
        np.testing.assert_array_equal(_np(nb.tile(nb.tensor(x), reps)), np.tile(x, reps),
                                      err_msg=f"{reps}")
    np.testing.assert_array_equal(_np(nb.repeat(nb.tensor(5), 3)), np.repeat(5, 3))
    with pytest.raises(nb.ShapeError, match=r"repeat.*i64\[2,3\]"):
        nb.repeat(nb.tensor(x), [1, 2], axis=1)
    with pytest.raises(nb.ShapeError, match="repeat"):
        nb.repeat(nb.tensor(x), -1)
    with pytest.raises(nb.AxisError, match="repeat"):
        nb.repeat(nb.tensor(x), 2, axis=2)
    with pytest.raises(nb.ShapeError, match="tile"):
        nb.tile(nb.tensor(x), (-1, 2))


def test_slice_tensor_matches_python_slices():
    x = np.arange(7 * 4).reshape(7, 4)
    bounds = [None, -9, -3, -1, 0, 2, 5, 7, 12]
    for start in bounds:
        for stop in bounds:
            for step in (None, 1, 2, 3, -1, -2, -4):
                got = nb.slice_tensor(nb.tensor(x), (start,), (stop,), (step,))
                np.testing.assert_array_equal(_np(got), x[start:stop:step],
                                              err_msg=f"{start}:{stop}:{step}")
    with pytest.raises(nb.ShapeError, match="step cannot be zero"):
        nb.slice_tensor(nb.tensor(x), (0,), (2,), (0,))
    with pytest.raises(nb.ShapeError, match="same length"):
        nb.slice_tensor(nb.tensor(x), (0, 1), (2,))
    with pytest.raises(nb.AxisError, match="slice_tensor"):
        nb.slice_tensor(nb.tensor(x), (0,), (2,), axes=(2,))


# ---------------------------------------------------------------------------
# Joining: promotion and errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("a,b", [("int8", "int16"), ("float32", "float64"), ("uint8", "int8"),
                                 ("bool", "int32"), ("uint8", "uint32")])
def test_concatenate_and_stack_promote_like_numpy(a, b):
    x, y = np.ones(2, a), np.zeros(2, b)
    want = np.result_type(a, b)
    got = nb.concatenate([nb.tensor(x), nb.tensor(y)])
    assert np.asarray(got.numpy()).dtype == want
    np.testing.assert_array_equal(_np(got), np.concatenate([x, y]))
    assert np.asarray(nb.stack([nb.tensor(x), nb.tensor(y)]).numpy()).dtype == want


def test_join_accepts_arrays_and_a_tensor_of_rows():
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(_np(nb.stack(nb.tensor(x), axis=1)), np.stack(x, axis=1))
    np.testing.assert_array_equal(_np(nb.concatenate([x, nb.tensor(x)], 1)),
                                  np.concatenate([x, x], 1))
    np.testing.assert_array_equal(_np(nb.tensor([nb.tensor(1.0), nb.tensor(2.0)])), [1.0, 2.0])


def test_join_errors_name_op_and_shapes():
    a, b = nb.zeros((2, 3)), nb.zeros((2, 4))
    with pytest.raises(nb.ShapeError, match=r"concatenate.*f32\[2,3\], f32\[2,4\]"):
        nb.concatenate([a, b], axis=0)
    with pytest.raises(nb.ShapeError, match="concatenate.*zero-dimensional"):
        nb.concatenate([nb.zeros(()), nb.zeros(())])
    with pytest.raises(nb.ShapeError, match="concatenate.*at least one"):
        nb.concatenate([])
    with pytest.raises(nb.AxisError, match="concatenate"):
        nb.concatenate([a, a], axis=2)
    with pytest.raises(nb.ShapeError, match=r"stack.*f32\[2,3\], f32\[2,4\]"):
        nb.stack([a, b])
    with pytest.raises(nb.AxisError, match="stack"):
        nb.stack([a, a], axis=3)


# ---------------------------------------------------------------------------
# Axis functions: errors, no-op fast paths, methods
# ---------------------------------------------------------------------------
def test_axis_errors():
    x = nb.zeros((2, 1, 3))
    with pytest.raises(nb.ShapeError, match=r"reshape.*f32\[2,1,3\]"):
        nb.reshape(x, (4, 2))
    with pytest.raises(nb.ShapeError, match="reshape"):
        nb.reshape(x, (-1, -1))
    with pytest.raises(nb.ShapeError, match=r"squeeze.*axis 0.*size is 2"):
        nb.squeeze(x, 0)
    with pytest.raises(nb.AxisError, match="squeeze"):
        nb.squeeze(x, 3)
    with pytest.raises(nb.AxisError, match="expand_dims"):
        nb.expand_dims(x, 4)
    with pytest.raises(nb.AxisError, match="expand_dims"):
        nb.expand_dims(x, (0, 0))
    with pytest.raises(nb.AxisError, match="transpose"):
        nb.transpose(x, (0, 1))
    with pytest.raises(nb.AxisError, match="transpose"):
        nb.transpose(x, (0, 1, 1))
    with pytest.raises(nb.AxisError, match="swapaxes"):
        nb.swapaxes(x, 0, 3)
    with pytest.raises(nb.AxisError, match="moveaxis"):
        nb.moveaxis(x, (0, 1), (0,))
    with pytest.raises(nb.AxisError, match="moveaxis"):
        nb.moveaxis(x, -4, 0)
    with pytest.raises(nb.AxisError, match="flatten"):
        nb.flatten(x, 2, 1)
    with pytest.raises(nb.AxisError, match="flip"):
        nb.flip(x, 3)
    with pytest.raises(nb.ShapeError, match="broadcast_to"):
        nb.broadcast_to(x, (3, 1, 3))


def test_no_ops_return_the_input():
    x = nb.zeros((2, 1, 3))
    assert nb.reshape(x, (2, 1, 3)) is x
    assert nb.transpose(x, (0, 1, 2)) is x
    assert nb.moveaxis(x, 1, 1) is x
    assert nb.swapaxes(x, 2, -1) is x
    assert nb.squeeze(nb.zeros((2, 3))).shape == (2, 3)
    assert nb.flip(x, 1) is x
    assert nb.concatenate([x]) is x
    assert nb.repeat(x, 1, axis=0) is x
    assert nb.tile(x, (1, 1)) is x
    assert nb.pad(x, 0) is x
    assert nb.dynamic_slice(x, (nb.tensor(1), 0, 0), (2, 1, 3)) is x
    assert nb.slice_tensor(x, (None,), (None,)) is x


def test_tensor_methods():
    x = nb.tensor(np.arange(6.0).reshape(2, 3))
    assert x.reshape(3, 2).shape == (3, 2)
    assert x.view(-1).shape == (6,)
    assert x.transpose().shape == x.T.shape == (3, 2)
    assert x.transpose(1, 0).shape == (3, 2)
    assert x.permute(1, 0).shape == (3, 2)
    assert x.swapaxes(0, 1).shape == x.mT.shape == (3, 2)
    assert x.unsqueeze(0).squeeze(0).shape == (2, 3)
    assert x.flatten().shape == (6,)
    assert [p.shape for p in x.split(3, 1)] == [(2, 1)] * 3
    assert [p.shape for p in x.chunk(2, 1)] == [(2, 2), (2, 1)]
    np.testing.assert_array_equal(_np(x.flip(0)), np.arange(6.0).reshape(2, 3)[::-1])
    assert x.repeat(2).shape == (12,)
    assert x.tile(2).shape == (2, 6)


def test_lowering_uses_the_stablehlo_ops():
    def f(x, i):
        y = nb.concatenate([nb.flip(x, 0), x])
        return nb.dynamic_update_slice(y, nb.dynamic_slice(y, (i, 0), (1, 2)), (0, i))

    graph = nb.make_graph(f)(nb.zeros((2, 3)), nb.tensor(1))
    text = lower_graph(graph)
    for op in ("stablehlo.concatenate", "stablehlo.reverse", "stablehlo.dynamic_slice",
               "stablehlo.dynamic_update_slice"):
        assert f'"{op}"' in text


def test_docstring_examples_run():
    import doctest

    from nabla_like.ops import shape, shape_dynamic, shape_tiling
    for module in (shape, shape_dynamic, shape_tiling):
        result = doctest.testmod(module, extraglobs={"nb": nb, "np": np},
                                 optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted and not result.failed, module.__name__
