"""Indexing beyond the op table: every NumPy index form, errors, out-of-range index
tensors, `.at[]` updates with repeated indices and their derivatives, lowering."""
import numpy as np
import pytest

import nabla_like as nb

X = np.arange(6 * 7 * 8 * 9, dtype=np.float32).reshape(6, 7, 8, 9)

INDEX_FORMS = [
    (1,), (-1,), (slice(None, None, -1),), (slice(5, 1, -2),), (slice(None), 3), (Ellipsis, 2),
    (None, 1, None), (0, None, slice(None), [0, 1]), (None, 0, slice(None), [0, 1]),
    (slice(None), [0, 1], None, [0, 1]), (Ellipsis, [0, 1], None, [0, 1]),
    ([0, 1], None, None, [0, 1]), (None, [0, 1], None, [0, 1]),
    (slice(None), None, [0, 1], None, [0, 1]), (slice(None), [0, 1], Ellipsis, [0, 1]),
    (slice(None), [0, 1], [0, 1], Ellipsis), (None, slice(None), [0, 1], [0, 1]),
    (slice(None), [0, 1], [0, 1], None), (slice(None), 1, Ellipsis, [0, 1]), (Ellipsis, 1, [0, 1]),
    ([0, 1], Ellipsis, [0, 1]), ([0, 1], Ellipsis, 0), (True,), (False,), (Ellipsis, True),
    ([0], True), (slice(None), True, [0, 1]), (0, True), (0, slice(None), True), (True, True),
    ([[0, 1], [2, 3]], slice(None), [1, -1]), (np.array([[1], [2]]), np.array([0, 1, 2])),
    (X[:, 0, 0, 0] > 1000,), (slice(None), X[0, :, :, 0] > 200),
    (Ellipsis, slice(1, None, 3), [-1, 0]), ([],), (slice(None), []), (slice(10, 20),),
    (slice(-100, 100, 4),), (np.array(2),), (np.int64(3), slice(None, None, -3)),
    (slice(None), slice(None), slice(None), slice(None), None), (slice(1, 1),),
    (np.uint8(2), [np.int8(-1)]), (slice(None, None, -1), slice(None, None, -1), 0, [3, 2]),
]


@pytest.mark.parametrize("index", INDEX_FORMS, ids=[str(i) for i in range(len(INDEX_FORMS))])
def test_getitem_matches_numpy(index):
    want = X[index]
    got = nb.tensor(X)[index].numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("index", INDEX_FORMS[:30], ids=[str(i) for i in range(30)])
def test_getitem_under_jit_and_vmap(index):
    x = nb.tensor(X)
    np.testing.assert_array_equal(nb.jit(lambda t: t[index])(x).numpy(), X[index])
    stacked = np.stack([X, X + 1])
    got = nb.vmap(lambda t: t[index])(nb.tensor(stacked)).numpy()
    np.testing.assert_array_equal(got, np.stack([X[index], (X + 1)[index]]))


def test_index_tensors():
    x = nb.tensor(X)
    i = nb.tensor([0, -1, 2])
    np.testing.assert_array_equal(x[:, i].numpy(), X[:, [0, -1, 2]])
    np.testing.assert_array_equal(x[nb.tensor(2), 1].numpy(), X[2, 1])
    np.testing.assert_array_equal(x[nb.tensor(X[:, 0, 0, 0] > 1000)].numpy(), X[X[:, 0, 0, 0] > 1000])
    np.testing.assert_array_equal(x[nb.tensor(np.array([1, 2], np.uint8))].numpy(), X[[1, 2]])
    np.testing.assert_array_equal(x[nb.tensor(np.array([1, -2], np.int64)), 0].numpy(),
                                  X[[1, -2], 0])
    # a traced index under jit
    got = nb.jit(lambda t, j: t[j, :, j])(x, nb.tensor([1, 3])).numpy()
    np.testing.assert_array_equal(got, X[[1, 3], :, [1, 3]])


def test_basic_indexing_lowers_without_gather():
    text = nb.jit(lambda t: t[1:, ::-2, None, 3]).lower(nb.tensor(X)).as_text()
    assert "stablehlo.gather" not in text
    assert "stablehlo.reverse" in text or "stablehlo.rev" in text
    text = nb.jit(lambda t: t[:, [1, 2]]).lower(nb.tensor(X)).as_text()
    assert "stablehlo.gather" in text


@pytest.mark.parametrize("index,message", [
    ((6,), "index 6 is out of bounds for axis 0 with size 6"),
    ((0, -8), "index -8 is out of bounds for axis 1 with size 7"),
    ((slice(None), [0, 8]), "index 8 is out of bounds for axis 1 with size 7"),
    ((1, 2, 3, 4, 5), "too many indices"),
    ((Ellipsis, Ellipsis), "single ellipsis"),
    ((1.5,), "valid indices"),
    ((slice(None, None, 0),), "step cannot be zero"),
    (([0, 1], [0, 1, 2]), "could not be broadcast"),
    ((np.array([True, False]),), "boolean index"),
    ((nb.tensor([1.0]),), "integer or bool"),
    (("a",), "valid indices"),
])
def test_getitem_errors(index, message):
    with pytest.raises(nb.IndexingError, match=message) as info:
        nb.tensor(X)[index]
    assert isinstance(info.value, IndexError)
    assert "f32[6,7,8,9]" in str(info.value) or "index" in str(info.value)
    assert "test_indexing.py" in str(info.value)  # the user's line


def test_traced_bool_mask_is_a_clear_error():
    x = nb.tensor(X[:, 0, 0, 0])
    with pytest.raises(nb.ConcretizationError, match="boolean mask"):
        nb.jit(lambda t: t[t > 10])(x)
    with pytest.raises(nb.ConcretizationError):
        nb.grad(lambda t: nb.sum(t[t > 10]))(x)
    # an eager mask is fine, and so is differentiating through it
    g = nb.grad(lambda t: nb.sum(t[np.asarray(X[:, 0, 0, 0]) > 1000] ** 2))(x)
    np.testing.assert_allclose(g.numpy(), np.where(X[:, 0, 0, 0] > 1000, 2 * X[:, 0, 0, 0], 0))


def test_traced_slice_bounds_are_an_error():
    x = nb.tensor(np.arange(5.0))
    with pytest.raises(nb.ConcretizationError):
        nb.jit(lambda t, n: t[:n])(x, nb.tensor(2))


def test_out_of_range_index_tensors_clamp_on_read_and_drop_on_update():
    x = np.arange(5.0)
    t = nb.tensor(x)
    i = nb.tensor([0, 7, -1, -9])  # -1 wraps to 4; -9 wraps to -4 and clamps to 0
    np.testing.assert_array_equal(t[i].numpy(), [0.0, 4.0, 4.0, 0.0])
    np.testing.assert_array_equal(t.at[i].get().numpy(), [0.0, 4.0, 4.0, 0.0])
    np.testing.assert_array_equal(t.at[i].add(10.0).numpy(), [10.0, 1.0, 2.0, 3.0, 14.0])
    np.testing.assert_array_equal(t.at[i].set(-1.0).numpy(), [-1.0, 1.0, 2.0, 3.0, -1.0])
    np.testing.assert_array_equal(nb.take(t, i).numpy(), [0.0, 4.0, 4.0, 0.0])
    # derivatives follow: the clamped read sends its cotangent to the clamped element,
    # a dropped update gets none
    g = nb.grad(lambda y: nb.sum(y[i] * nb.tensor([1.0, 2.0, 3.0, 4.0])))(t)
    np.testing.assert_array_equal(g.numpy(), [5.0, 0.0, 0.0, 0.0, 5.0])
    gv = nb.grad(lambda v: nb.sum(t.at[i].add(v) ** 2))(nb.tensor([1.0, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(gv.numpy(), [2.0, 0.0, 2 * 5.0, 0.0])


UPDATE_FORMS = [
    (1,), (slice(None, None, -1),), (slice(5, 1, -2),), (slice(None), 3), (Ellipsis, 2),
    (None, 1, None), (0, None, slice(None), [0, 1]), (slice(None), [0, 1], None, [0, 1]),
    ([0, 0, 1],), ([0, 0], slice(1, 3), [1, 1]), ([[0, 1], [2, 3]], slice(None), [1, -1]),
    (X[:, 0, 0, 0] > 1000,), (Ellipsis, slice(1, None, 3), [-1, 0]), ([],), (slice(10, 20),),
    (True,), (slice(None),), (Ellipsis,), (slice(None), slice(None, None, 2), [3, 3, 3]),
    (slice(None), 1, [2, 2, 0]),
]
UFUNCS = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}


@pytest.mark.parametrize("index", UPDATE_FORMS, ids=[str(i) for i in range(len(UPDATE_FORMS))])
@pytest.mark.parametrize("how", ["add", "multiply", "min", "max"])
def test_at_updates_match_ufunc_at(index, how):
    x = np.random.default_rng(0).standard_normal((6, 7, 8)).astype(np.float32)
    v = np.random.default_rng(1).standard_normal(np.shape(x[index])).astype(np.float32)
    want = x.copy()
    UFUNCS[how].at(want, index, v)
    got = getattr(nb.tensor(x).at[index], how)(nb.tensor(v)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_at_set_and_broadcast_values():
    x = np.zeros((3, 4), np.float32)
    t = nb.tensor(x)
    want = x.copy()
    want[1:, ::2] = [5.0, 6.0]
    np.testing.assert_array_equal(t.at[1:, ::2].set(nb.tensor([5.0, 6.0])).numpy(), want)
    np.testing.assert_array_equal(t.at[:, 1].set(2).numpy()[:, 1], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(t.at[...].set(3.0).numpy(), np.full((3, 4), 3.0))
    np.testing.assert_array_equal(t.at[[0, 2], [1, 3]].add(np.float32(1)).numpy().sum(), 2.0)
    # the updates take the operand's dtype, as in NumPy and JAX
    out = nb.tensor(np.zeros(3, np.int32)).at[1].set(2.7)
    assert out.dtype == nb.int32 and out.numpy().tolist() == [0, 2, 0]
    with pytest.raises(nb.ShapeError, match="cannot be broadcast"):
        t.at[0].set(nb.ones(3))


def test_at_set_repeated_indices_derivatives_agree_with_the_winner():
    x = nb.tensor(np.zeros(4))
    idx = nb.tensor([1, 1, 3, 1])
    v = nb.tensor([10.0, 20.0, 30.0, 40.0])
    out = x.at[idx].set(v).numpy()
    assert out[0] == 0 and out[2] == 0 and out[3] == 30.0
    winner = [10.0, 20.0, 40.0].index(out[1])
    weights = nb.tensor([1.0, 2.0, 3.0, 4.0])
    gx, gv = nb.grad(lambda a, b: nb.sum(a.at[idx].set(b) * weights), argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx.numpy(), [1.0, 0.0, 3.0, 0.0])
    expected = np.zeros(4)
    expected[[0, 1, 3][winner]] = 2.0
    expected[2] = 4.0
    np.testing.assert_array_equal(gv.numpy(), expected)
    # forward mode agrees with reverse mode
    _, tangent = nb.jvp(lambda b: x.at[idx].set(b), (v,), (nb.tensor([1.0, 2.0, 3.0, 4.0]),))
    np.testing.assert_array_equal(tangent.numpy()[1], [1.0, 2.0, 4.0][winner])


def test_at_multiply_gradient_with_zeros_and_repeats():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(3)
    idx = np.array([0, 0, 0, 1, 1, 2])
    v = np.array([2.0, 0.0, 3.0, 0.0, 0.0, 5.0])
    w = rng.standard_normal(3)

    def f(a, b):
        return nb.sum(a.at[nb.tensor(idx)].multiply(b) * nb.tensor(w))

    gx, gv = nb.grad(f, argnums=(0, 1))(nb.tensor(x), nb.tensor(v))
    expected_v = np.zeros(6)
    for b in range(6):
        others = np.prod([v[c] for c in range(6) if idx[c] == idx[b] and c != b])
        expected_v[b] = w[idx[b]] * x[idx[b]] * others
    products = np.array([np.prod(v[idx == p]) for p in range(3)])
    np.testing.assert_allclose(gx.numpy(), w * products, rtol=1e-12)
    np.testing.assert_allclose(gv.numpy(), expected_v, rtol=1e-12)
    _, tangent = nb.jvp(lambda b: f(nb.tensor(x), b), (nb.tensor(v),), (nb.tensor(np.ones(6)),))
    np.testing.assert_allclose(tangent.item(), expected_v.sum(), rtol=1e-12)


def test_at_min_max_split_ties():
    x = nb.tensor([1.0, 5.0, 2.0])
    idx = nb.tensor([0, 0, 1])
    v = nb.tensor([1.0, 3.0, 7.0])
    gx, gv = nb.grad(lambda a, b: nb.sum(a.at[idx].min(b)), argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx.numpy(), [0.5, 1.0, 1.0])  # x[0] ties with v[0]
    np.testing.assert_array_equal(gv.numpy(), [0.5, 0.0, 0.0])
    gx, gv = nb.grad(lambda a, b: nb.sum(a.at[idx].max(b)), argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(gv.numpy(), [0.0, 1.0, 1.0])


def test_take_and_friends_errors_and_modes():
    x = nb.tensor(np.arange(12.0).reshape(3, 4))
    with pytest.raises(nb.IndexingError, match="out of bounds"):
        nb.take(x, [12])
    with pytest.raises(nb.IndexingError, match="out of bounds"):
        nb.take_along_axis(x, np.array([[4]]), axis=1)
    with pytest.raises(nb.ShapeError, match="rank"):
        nb.take_along_axis(x, np.array([1]), axis=1)
    with pytest.raises(nb.ShapeError, match="larger"):
        nb.gather(x, 0, np.zeros((2, 5), np.int64))
    with pytest.raises(nb.AxisError):
        nb.take(x, [0], axis=2)
    np.testing.assert_array_equal(nb.take(x, 5).numpy(), 5.0)
    np.testing.assert_array_equal(nb.take_along_axis(x, nb.tensor([1, 0]), axis=None).numpy(),
                                  [1.0, 0.0])
    np.testing.assert_array_equal(nb.gather(x, -1, nb.tensor([[3], [0], [-1]])).numpy(),
                                  [[3.0], [4.0], [11.0]])
    out = nb.scatter_add(nb.zeros((2, 3)), 1, nb.tensor([[0, 0], [2, 9]]), nb.ones((2, 2)))
    np.testing.assert_array_equal(out.numpy(), [[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def test_vmap_of_updates_with_batched_indices():
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((4, 5))
    idx = rng.integers(0, 5, size=(4, 3))
    vs = rng.standard_normal((4, 3))
    got = nb.vmap(lambda x, i, v: x.at[i].add(v))(nb.tensor(xs), nb.tensor(idx), nb.tensor(vs))
    want = xs.copy()
    for b in range(4):
        np.add.at(want[b], idx[b], vs[b])
    np.testing.assert_allclose(got.numpy(), want)
    # vmap of the gradient: batched operand, indices and cotangents together
    g = nb.vmap(nb.grad(lambda x, i: nb.sum(x[i] ** 2)))(nb.tensor(xs), nb.tensor(idx))
    want_g = np.zeros_like(xs)
    for b in range(4):
        np.add.at(want_g[b], idx[b], 2 * xs[b, idx[b]])
    np.testing.assert_allclose(g.numpy(), want_g)


def test_hessian_through_gather():
    idx = nb.tensor([0, 2, 2])
    h = nb.hessian(lambda x: nb.sum(x[idx] ** 3))(nb.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(h.numpy(), np.diag([6.0, 0.0, 36.0]))


def test_gather_and_scatter_lowering_text():
    x = nb.ones((3, 4))
    text = nb.jit(lambda t: t[:, [1, 2]]).lower(x).as_text()
    assert ("dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [1], "
            "start_index_map = [1], index_vector_dim = 1>, slice_sizes = array<i64: 3, 1>") in text
    text = nb.jit(lambda t, i: t.at[:, i].add(1.0)).lower(x, nb.tensor([1, 2])).as_text()
    assert ("scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], "
            "inserted_window_dims = [1], scatter_dims_to_operand_dims = [1], "
            "index_vector_dim = 1>") in text
    assert '"stablehlo.add"(%r' in text  # the update computation adds
