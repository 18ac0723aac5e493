"""Names ported NumPy/JAX/PyTorch/Nabla code needs (ops/sort.py, ops/compat.py, tree.py,
DType members, nb.compile), against jax.numpy, NumPy and torch: values, dtypes, shapes,
gradients (against jax.grad), jit/vmap, and the errors of bad arguments.

Forward, gradient and vmap checks of the differentiable ones also run from the op table
(tests/tables/sort.py)."""
import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import nabla_like as nb



@pytest.fixture(autouse=True)
def _jax_x64():
    """float64 oracles; restored after each test (other files set the flag at import)."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))


def np_of(t):
    return np.asarray(t.numpy())


# ---------------------------------------------------------------------------
# sort, argsort, topk
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_sort_argsort_match_jax(axis, descending):
    x = np.round(RNG.standard_normal((5, 6)), 0)  # many ties
    x[1, 2] = x[3, 4] = np.nan
    want = jnp.sort(x, axis=axis, descending=descending)
    np.testing.assert_array_equal(np_of(nb.sort(nb.tensor(x), axis=axis, descending=descending)),
                                  np.asarray(want))
    got = nb.argsort(nb.tensor(x), axis=axis, descending=descending)
    assert got.dtype == nb.int32
    np.testing.assert_array_equal(np_of(got), np.asarray(jnp.argsort(x, axis=axis,
                                                                      descending=descending)))


def test_sort_matches_torch_stable_descending():
    x = np.array([3.0, np.nan, 1.0, 3.0, -0.0, 0.0])
    values, indices = torch.sort(torch.tensor(x), descending=True, stable=True)
    np.testing.assert_array_equal(np_of(nb.sort(nb.tensor(x), descending=True)), values.numpy())
    np.testing.assert_array_equal(np_of(nb.argsort(nb.tensor(x), descending=True)),
                                  indices.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_torch_and_lax(largest):
    x = np.array([[3.0, np.nan, 1.0, 3.0, 2.0], [0.5, -1.0, 4.0, 4.0, -2.0]])
    got = nb.topk(nb.tensor(x), 3, largest=largest)
    values, indices = torch.topk(torch.tensor(x), 3, largest=largest, sorted=True)
    np.testing.assert_array_equal(np_of(got.values), values.numpy())
    # torch leaves the order of ties open: its indices must pick the same values
    np.testing.assert_array_equal(np.take_along_axis(x, np_of(got.indices), 1),
                                  np.take_along_axis(x, indices.numpy(), 1))
    if largest:  # lax.top_k: ties in index order, as here
        lax_values, lax_indices = jax.lax.top_k(x, 3)
        np.testing.assert_array_equal(np_of(got[0]), np.asarray(lax_values))
        np.testing.assert_array_equal(np_of(got[1]), np.asarray(lax_indices))
    assert got.indices.dtype == nb.int32


def test_sort_gradients_match_jax():
    w = RNG.standard_normal((4, 5))

    def f(x, np_):
        s = np_.sort(x, axis=0) if np_ is jnp else nb.sort(x, axis=0)
        return (s * w).sum() + (s[1] ** 3).sum()

    got = nb.grad(lambda x: f(x, nb))(nb.tensor(X))
    np.testing.assert_allclose(np_of(got), np.asarray(jax.grad(lambda x: f(x, jnp))(X)), rtol=1e-12)
    # second order, through the permutation twice
    hv = nb.grad(lambda x: nb.sum(nb.grad(lambda y: f(y, nb))(x) * w))(nb.tensor(X))
    want = jax.grad(lambda x: jnp.sum(jax.grad(lambda y: f(y, jnp))(x) * w))(X)
    np.testing.assert_allclose(np_of(hv), np.asarray(want), rtol=1e-12, atol=1e-12)


def test_topk_gradient_matches_jax():
    def nb_loss(x):
        v, _ = nb.topk(x, 2)
        return nb.sum(v * v)

    def jax_loss(x):
        v, _ = jax.lax.top_k(x, 2)
        return jnp.sum(v * v)

    np.testing.assert_allclose(np_of(nb.grad(nb_loss)(nb.tensor(X))),
                               np.asarray(jax.grad(jax_loss)(X)), rtol=1e-12)


def test_sort_jit_vmap_jvp():
    f = nb.jit(lambda x: nb.sort(x, axis=1, descending=True))
    np.testing.assert_array_equal(np_of(f(nb.tensor(X))), np.asarray(jnp.sort(X, 1, descending=True)))
    v = nb.vmap(lambda r: nb.argsort(r), in_axes=1)(nb.tensor(X))
    np.testing.assert_array_equal(np_of(v), np.asarray(jnp.argsort(X, axis=0)).T)
    t = RNG.standard_normal(X.shape)
    _, tout = nb.jvp(lambda x: nb.sort(x), (nb.tensor(X),), (nb.tensor(t),))
    _, want = jax.jvp(lambda x: jnp.sort(x), (X,), (t,))
    np.testing.assert_allclose(np_of(tout), np.asarray(want))


def test_sort_lowering_is_one_stable_sort():
    import nabla_like.lowering as lowering
    text = lowering.lower_graph(nb.make_graph(lambda x: (nb.sort(x), nb.argsort(x)))(nb.ones(3)))
    assert text.count('"stablehlo.sort"') == 2 and "is_stable = true" in text
    assert "comparison_type TOTALORDER" not in text  # -0.0 ties with 0.0, as NumPy


def test_sort_dtypes_and_empty():
    for dtype in (nb.int8, nb.uint8, nb.bool_, nb.bfloat16, nb.float16, nb.int64):
        x = nb.tensor(np.array([3, 0, 1, 1]).astype(dtype.np))
        assert nb.sort(x).dtype == dtype
        np.testing.assert_array_equal(np_of(nb.sort(x)).astype(np.float64),
                                      np.sort(np.array([3, 0, 1, 1]).astype(dtype.np)).astype(np.float64))
    assert nb.sort(nb.zeros((0, 3)), axis=0).shape == (0, 3)
    assert nb.argsort(nb.zeros((2, 0))).shape == (2, 0)


# ---------------------------------------------------------------------------
# construction and comparison
# ---------------------------------------------------------------------------
def test_array_and_constant():
    a = nb.array([[1, 2], [3, 4]], dtype=nb.float32)
    assert a.dtype == nb.float32 and a.shape == (2, 2)
    x = nb.ones(3)
    assert nb.array(x) is not x and nb.array(x, copy=False) is x and nb.array(x, copy=None) is x
    np.testing.assert_array_equal(np_of(nb.array(x)), np_of(x))
    assert nb.array(x, dtype=nb.int32, copy=False).dtype == nb.int32
    assert nb.array(1.0, ndmin=2).shape == jnp.array(1.0, ndmin=2).shape == (1, 1)
    assert nb.array(np.arange(3.0)).dtype == nb.float64
    c = nb.constant([1, 2], dtype=nb.float64)
    assert c.dtype == nb.float64 and c.tolist() == [1.0, 2.0]
    assert nb.constant(2.0).dtype == nb.float32


def test_array_copy_keeps_gradients():
    g = nb.grad(lambda x: nb.sum(nb.array(x) * 3.0))(nb.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(np_of(g), [3.0, 3.0])


@pytest.mark.parametrize("a,b,kw", [
    ([1.0, np.inf, np.inf, np.nan, 1e10], [1.0, np.inf, 1.0, np.nan, 1.00001e10], {}),
    ([1.0, np.inf, -np.inf, np.nan], [1.0 + 1e-6, np.inf, np.inf, np.nan], {"equal_nan": True}),
    ([1, 2, 3], [1, 3, 5], {"atol": 1}),
    ([1.0, 2.0], [1.1, 2.2], {"rtol": 0.1}),
    ([0.0, 1e-9], [1e-9, 0.0], {"atol": 0.0}),
])
def test_isclose_allclose_match_jnp(a, b, kw):
    got = nb.isclose(np.array(a), np.array(b), **kw)
    assert got.dtype == nb.bool_
    np.testing.assert_array_equal(np_of(got), np.asarray(jnp.isclose(np.array(a), np.array(b), **kw)))
    np.testing.assert_array_equal(np_of(got), np.isclose(a, b, **kw))
    all_close = nb.allclose(np.array(a), np.array(b), **kw)
    assert all_close.shape == () and all_close.dtype == nb.bool_
    assert bool(all_close) == bool(jnp.allclose(np.array(a), np.array(b), **kw))


def test_isclose_broadcasts_and_keeps_low_precision_inputs():
    x = nb.tensor([[1.0], [2.0]], dtype=nb.float16)
    assert nb.isclose(x, nb.tensor([1.0, 2.0], dtype=nb.float16)).shape == (2, 2)
    assert bool(nb.allclose(nb.tensor([1, 2]), [1, 2]))


@pytest.mark.parametrize("a,b,equal_nan", [
    ([1, 2], [1, 2], False), ([1, 2], [1, 3], False), ([1, 2], [1, 2, 3], False),
    ([1.0, np.nan], [1.0, np.nan], False), ([1.0, np.nan], [1.0, np.nan], True),
    ([[1, 2]], [1, 2], False),
])
def test_array_equal_matches_jnp(a, b, equal_nan):
    got = nb.array_equal(np.array(a), np.array(b), equal_nan=equal_nan)
    assert got.shape == () and got.dtype == nb.bool_
    assert bool(got) == bool(jnp.array_equal(np.array(a), np.array(b), equal_nan=equal_nan)) \
        == np.array_equal(a, b, equal_nan=equal_nan)


def test_comparisons_trace():
    f = nb.jit(lambda a, b: nb.allclose(a, b, atol=0.1))
    assert bool(f(nb.ones(3), nb.ones(3) + 0.05)) and not bool(f(nb.ones(3), nb.ones(3) + 0.5))


# ---------------------------------------------------------------------------
# stacking, diagonals, meshgrid, unbind, clamp, slice_update
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vstack", "hstack", "dstack", "column_stack"])
@pytest.mark.parametrize("shapes", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)], [(2, 3, 2), (2, 3, 2)]])
def test_stacks_match_numpy(name, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    if name == "column_stack" and len(shapes[0]) > 2:
        pytest.skip("column_stack takes 1-D and 2-D arrays")
    got = getattr(nb, name)([nb.tensor(a) for a in arrays])
    np.testing.assert_array_equal(np_of(got), getattr(np, name)(arrays))
    np.testing.assert_array_equal(np_of(got), np.asarray(getattr(jnp, name)(arrays)))


def test_stack_dtype_argument():
    assert nb.vstack([nb.ones(2), nb.ones(2)], dtype=nb.float64).dtype == nb.float64
    assert nb.hstack([nb.tensor([1]), nb.tensor([2.0])]).dtype == nb.float32


@pytest.mark.parametrize("shape,offset,axis1,axis2", [
    ((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1), ((4, 3), -2, 0, 1), ((2, 3, 4), 1, 0, 2),
    ((2, 3, 4), -1, 2, 1), ((2, 3, 4, 5), 0, -1, -3), ((2, 2), 5, 0, 1)])
def test_diagonal_trace_match_jnp(shape, offset, axis1, axis2):
    x = RNG.standard_normal(shape)
    got = nb.diagonal(nb.tensor(x), offset, axis1, axis2)
    np.testing.assert_array_equal(np_of(got), np.asarray(jnp.diagonal(x, offset, axis1, axis2)))
    got_trace = nb.trace(nb.tensor(x), offset, axis1, axis2)
    np.testing.assert_allclose(np_of(got_trace), np.asarray(jnp.trace(x, offset, axis1, axis2)))
    w = RNG.standard_normal(got.shape)
    g = nb.grad(lambda x: nb.sum(nb.diagonal(x, offset, axis1, axis2) * w))(nb.tensor(x))
    want = jax.grad(lambda x: jnp.sum(jnp.diagonal(x, offset, axis1, axis2) * w))(x)
    np.testing.assert_array_equal(np_of(g), np.asarray(want))


def test_trace_dtype():
    x = nb.tensor(np.arange(9).reshape(3, 3))
    assert nb.trace(x).dtype == jnp.trace(jnp.arange(9, dtype=jnp.int32).reshape(3, 3)).dtype
    assert nb.trace(x, dtype=nb.float64).dtype == nb.float64
    assert nb.trace(x).item() == 12


@pytest.mark.parametrize("shape,k", [((3,), 0), ((3,), 2), ((3,), -1), ((0,), 2), ((3, 4), 1),
                                     ((4, 3), -2), ((2, 2), 3)])
def test_diag_matches_jnp_and_grad(shape, k):
    v = RNG.standard_normal(shape)
    got = nb.diag(nb.tensor(v), k)
    np.testing.assert_array_equal(np_of(got), np.asarray(jnp.diag(v, k)))
    if v.size:
        w = RNG.standard_normal(got.shape)
        g = nb.grad(lambda v: nb.sum(nb.diag(v, k) * w))(nb.tensor(v))
        want = jax.grad(lambda v: jnp.sum(jnp.diag(v, k) * w))(v)
        np.testing.assert_array_equal(np_of(g), np.asarray(want))


def test_diag_under_vmap_and_jit():
    v = RNG.standard_normal((3, 4))
    got = nb.vmap(nb.jit(lambda r: nb.diag(r, 1)))(nb.tensor(v))
    np.testing.assert_array_equal(np_of(got), np.stack([np.diag(r, 1) for r in v]))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_matches_numpy_and_torch(indexing, sparse):
    xs = [np.arange(3.0), np.arange(2.0) + 10, np.arange(4.0) * 2]
    got = nb.meshgrid(*[nb.tensor(x) for x in xs], indexing=indexing, sparse=sparse)
    want = np.meshgrid(*xs, indexing=indexing, sparse=sparse)
    assert isinstance(got, list) and len(got) == 3
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np_of(g), w)
    if not sparse:
        for g, t in zip(nb.meshgrid([nb.tensor(x) for x in xs], indexing=indexing),
                        torch.meshgrid([torch.tensor(x) for x in xs], indexing=indexing)):
            np.testing.assert_array_equal(np_of(g), t.numpy())


def test_unbind_matches_torch():
    x = RNG.standard_normal((2, 3, 4))
    for dim in (0, 1, -1):
        got = nb.unbind(nb.tensor(x), dim)
        want = torch.unbind(torch.tensor(x), dim)
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np_of(g), w.numpy())
    assert [t.shape for t in nb.tensor(x).unbind(2)] == [(2, 3)] * 4


def test_ravel():
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(np_of(nb.ravel(nb.tensor(x))), np.ravel(x))
    assert nb.ravel(nb.tensor(3.0)).shape == (1,)


def test_clamp_matches_torch():
    x = RNG.standard_normal((3, 4))
    t = torch.tensor(x)
    for kw in ({"min": -0.5}, {"max": 0.3}, {"min": -0.5, "max": 0.3}, {"min": 1.0, "max": 0.0}):
        np.testing.assert_array_equal(np_of(nb.clamp(nb.tensor(x), **kw)), torch.clamp(t, **kw).numpy())
        np.testing.assert_array_equal(np_of(nb.tensor(x).clamp(**kw)), t.clamp(**kw).numpy())
    np.testing.assert_array_equal(np_of(nb.clip(nb.tensor(x), -0.5, 0.3)), np.clip(x, -0.5, 0.3))
    np.testing.assert_array_equal(np_of(nb.clip(nb.tensor(x), min=-0.5, max=0.3)),
                                  np.asarray(jnp.clip(x, min=-0.5, max=0.3)))
    with pytest.raises(nb.ArgumentValueError):
        nb.clamp(nb.tensor(x))


def test_slice_update():
    x, u = RNG.standard_normal((4, 5)), RNG.standard_normal((2, 3))
    want = x.copy()
    want[1:3, 2:5] = u
    got = nb.slice_update(nb.tensor(x), nb.tensor(u), (1, 2))
    np.testing.assert_array_equal(np_of(got), want)
    np.testing.assert_array_equal(np_of(nb.slice_update(nb.tensor(x), nb.tensor(u), [-3, -3],
                                                        size=(2, 3))), want)
    traced = nb.jit(lambda x, u, i: nb.slice_update(x, u, (i, 2)))(nb.tensor(x), nb.tensor(u),
                                                                  nb.tensor(1))
    np.testing.assert_array_equal(np_of(traced), want)
    g = nb.grad(lambda u: nb.sum(nb.slice_update(nb.tensor(x), u, (1, 2)) * 2.0))(nb.tensor(u))
    np.testing.assert_array_equal(np_of(g), np.full((2, 3), 2.0))
    with pytest.raises(nb.IndexingError):
        nb.slice_update(nb.tensor(x), nb.tensor(u), (3, 0))
    with pytest.raises(nb.ShapeError):
        nb.slice_update(nb.tensor(x), nb.tensor(u), (0, 0), size=(3, 3))


# ---------------------------------------------------------------------------
# nonzero, where(cond), unique
# ---------------------------------------------------------------------------
MASK = np.array([[0, 3, 0], [4, 0, 5]])


def test_nonzero_eager_matches_numpy():
    got = nb.nonzero(nb.tensor(MASK))
    assert isinstance(got, tuple) and all(g.dtype == nb.int32 for g in got)
    for g, w in zip(got, np.nonzero(MASK)):
        np.testing.assert_array_equal(np_of(g), w)
    for g, w in zip(nb.where(nb.tensor(MASK) > 3), np.where(MASK > 3)):
        np.testing.assert_array_equal(np_of(g), w)
    for g, w in zip(nb.tensor(MASK).nonzero(), MASK.nonzero()):
        np.testing.assert_array_equal(np_of(g), w)
    assert [g.shape for g in nb.nonzero(nb.zeros((2, 0)))] == [(0,), (0,)]


@pytest.mark.parametrize("size,fill_value", [(2, None), (3, None), (5, -1), (6, (7, 8)), (0, None)])
def test_nonzero_sized_matches_jnp_under_jit(size, fill_value):
    f = nb.jit(lambda x: nb.nonzero(x, size=size, fill_value=fill_value))
    got = f(nb.tensor(MASK))
    want = jnp.nonzero(MASK, size=size, fill_value=fill_value)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np_of(g), np.asarray(w))
    got_where = nb.where(nb.tensor(MASK), size=size, fill_value=fill_value)
    for g, w in zip(got_where, want):
        np.testing.assert_array_equal(np_of(g), np.asarray(w))


def test_nonzero_sized_vmap():
    masks = RNG.random((4, 6)) < 0.5
    got = nb.vmap(lambda m: nb.nonzero(m, size=6, fill_value=-1)[0])(nb.tensor(masks))
    want = jax.vmap(lambda m: jnp.nonzero(m, size=6, fill_value=-1)[0])(masks)
    np.testing.assert_array_equal(np_of(got), np.asarray(want))


def test_nonzero_traced_without_size_names_size():
    with pytest.raises(nb.ConcretizationError, match="size="):
        nb.jit(lambda x: nb.nonzero(x))(nb.tensor(MASK))
    with pytest.raises(nb.ConcretizationError, match="size="):
        nb.vmap(lambda x: nb.unique(x))(nb.tensor(MASK))
    # an eager grad runs such code on concrete values
    g = nb.grad(lambda x: nb.sum(x[nb.nonzero(x > 0)] ** 2))(nb.tensor([-1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(np_of(g), [0.0, 4.0, 6.0])


def test_where_argument_errors():
    with pytest.raises(nb.ArgumentError):
        nb.where(nb.tensor(MASK) > 0, 1.0)
    with pytest.raises(nb.ArgumentError):
        nb.where(nb.tensor(MASK) > 0, 1.0, 0.0, size=3)
    with pytest.raises(nb.ShapeError):
        nb.nonzero(nb.tensor(3))


UNIQUE_INPUTS = [np.array([3, 1, 3, 2, 2, 2]), np.array([[3.0, np.nan], [1.0, np.nan]]),
                 np.array([True, False, True]), np.array([5.0])]


@pytest.mark.parametrize("x", UNIQUE_INPUTS, ids=["ints", "nans", "bools", "one"])
@pytest.mark.parametrize("flags", [(False, False, False), (True, True, True), (False, True, False),
                                   (False, False, True)])
def test_unique_eager_matches_numpy(x, flags):
    got = nb.unique(nb.tensor(x), *flags)
    want = np.unique(x, *flags)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    assert got[0].dtype == nb.tensor(x).dtype
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np_of(g), w)


@pytest.mark.parametrize("x", UNIQUE_INPUTS, ids=["ints", "nans", "bools", "one"])
@pytest.mark.parametrize("size", [1, 3, 8])
def test_unique_sized_matches_jnp_under_jit(x, size):
    f = nb.jit(lambda x: nb.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                   size=size))
    got = f(nb.tensor(x))
    want = jnp.unique(x, return_index=True, return_inverse=True, return_counts=True, size=size)
    for name, g, w in zip(("values", "index", "inverse", "counts"), got, want):
        np.testing.assert_array_equal(np_of(g), np.asarray(w), err_msg=name)
    filled = nb.unique(nb.tensor(x), size=size, fill_value=9)
    np.testing.assert_array_equal(np_of(filled), np.asarray(jnp.unique(x, size=size, fill_value=9)))


def test_unique_axis_and_equal_nan():
    x = np.array([[1, 2], [1, 2], [0, 5]])
    np.testing.assert_array_equal(np_of(nb.unique(nb.tensor(x), axis=0)), np.unique(x, axis=0))
    y = np.array([np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(np_of(nb.unique(nb.tensor(y), equal_nan=False)),
                                  np.unique(y, equal_nan=False))
    with pytest.raises(nb.ArgumentValueError):
        nb.unique(nb.tensor(x), axis=0, size=3)


# ---------------------------------------------------------------------------
# pytrees, DType members, nb.compile, constants, methods
# ---------------------------------------------------------------------------
def test_tree_functions_match_jax_tree_util():
    tree = {"b": (1.0, [2.0, None]), "a": 3.0}
    leaves, treedef = nb.tree_flatten(tree)
    jleaves, jtreedef = jax.tree_util.tree_flatten(tree)
    assert leaves == jleaves
    assert nb.tree_unflatten(treedef, [x * 2 for x in leaves]) == \
        jax.tree_util.tree_unflatten(jtreedef, [x * 2 for x in jleaves])
    assert nb.tree_map(lambda x, y: x + y, tree, tree) == jax.tree_util.tree_map(lambda x, y: x + y,
                                                                                  tree, tree)
    assert nb.tree_leaves(tree) == jax.tree_util.tree_leaves(tree)
    assert nb.tree_structure(tree) == treedef
    assert nb.tree_flatten is nb.tree.flatten and nb.tree_map is nb.tree.map


def test_register_pytree_node():
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    nb.register_pytree_node(Point, lambda p: ((p.x, p.y), None), lambda aux, ch: Point(*ch))
    out = nb.jit(lambda p: Point(p.x * 2.0, p.y + 1.0))(Point(nb.ones(2), nb.zeros(2)))
    assert isinstance(out, Point) and out.x.tolist() == [2.0, 2.0]
    with pytest.raises(nb.ArgumentError):
        nb.register_pytree_node("Point", lambda p: ((), None), lambda aux, ch: None)
    with pytest.raises(nb.ArgumentError):
        nb.register_pytree_node(Point, 3, lambda aux, ch: None)
    with pytest.raises(nb.ArgumentError):
        nb.tree_unflatten([1], [1.0])


def test_dtype_members_compile_constants():
    for d in (nb.float32, nb.float64, nb.float16, nb.bfloat16, nb.int8, nb.int32, nb.int64,
              nb.uint8, nb.uint32, nb.bool_):
        assert getattr(nb.DType, d.name) is d
    assert nb.DType.bool is nb.bool_ and nb.DType.bool_ is nb.bool_
    assert nb.compile is nb.jit
    assert nb.compile(lambda x: x * 2)(nb.tensor(2.0)).item() == 4.0
    assert (nb.pi, nb.e, nb.inf, nb.newaxis) == (np.pi, np.e, np.inf, np.newaxis)
    assert np.isnan(nb.nan)
    assert nb.ones(3)[nb.newaxis].shape == (1, 3)
    for name in ("compile", "pi", "tree_flatten", "sort", "topk", "unique", "newaxis"):
        assert name in nb.__all__


def test_tensor_methods():
    x = nb.tensor(X)
    np.testing.assert_array_equal(np_of(x.sort(axis=0)), np.sort(X, axis=0))
    np.testing.assert_array_equal(np_of(x.argsort()), np.argsort(X, kind="stable"))
    np.testing.assert_array_equal(np_of(x.topk(2).indices), torch.topk(torch.tensor(X), 2).indices)
    np.testing.assert_array_equal(np_of(x.diagonal()), X.diagonal())
    np.testing.assert_allclose(x.trace().item(), X.trace())
    assert x.ravel().shape == (20,) and len(x.unbind()) == 4


# ---------------------------------------------------------------------------
# bad arguments raise NablaErrors, and the examples run
# ---------------------------------------------------------------------------
BAD_CALLS = [
    lambda: nb.sort(X, axis=1.5), lambda: nb.sort(X, axis=5), lambda: nb.sort(X, descending="y"),
    lambda: nb.sort(X, stable=[True]), lambda: nb.sort(nb.tensor(1.0)), lambda: nb.sort(object()),
    lambda: nb.argsort(X, axis="0"), lambda: nb.topk(X, 6), lambda: nb.topk(X, -1),
    lambda: nb.topk(X, 1.5), lambda: nb.topk(X, 2, axis=3), lambda: nb.topk(X, 2, largest="no"),
    lambda: nb.topk(nb.tensor(1.0), 1),
    lambda: nb.array([1.0], copy="yes"), lambda: nb.array([1.0], ndmin=-1),
    lambda: nb.array([1.0], dtype="float13"), lambda: nb.array(object()),
    lambda: nb.constant([1.0], dtype=3.5),
    lambda: nb.isclose(X, X, rtol="x"), lambda: nb.isclose(X, X, atol=[1.0]),
    lambda: nb.isclose(X, X, equal_nan=2.5), lambda: nb.isclose(X, np.ones(3)),
    lambda: nb.allclose(X, "abc"), lambda: nb.array_equal(X, X, equal_nan="yes"),
    lambda: nb.vstack(3), lambda: nb.vstack([]), lambda: nb.hstack([X, np.ones((3, 2))]),
    lambda: nb.dstack([X], dtype="float13"), lambda: nb.column_stack("ab"),
    lambda: nb.diag(np.ones((2, 2, 2))), lambda: nb.diag(np.ones(2), k=1.5),
    lambda: nb.diagonal(np.ones(3)), lambda: nb.diagonal(X, axis1=0, axis2=0),
    lambda: nb.diagonal(X, offset="1"), lambda: nb.diagonal(X, axis2=7),
    lambda: nb.trace(X, dtype=object()), lambda: nb.meshgrid(np.ones(2), indexing="xz"),
    lambda: nb.meshgrid(np.ones(2), sparse="no"), lambda: nb.unbind(X, 2),
    lambda: nb.unbind(X, dim=1.5), lambda: nb.unbind(nb.tensor(1.0)),
    lambda: nb.clamp(X, min="a"), lambda: nb.slice_update(X, np.ones((2, 2)), (0, 0.5)),
    lambda: nb.slice_update(X, np.ones(2), (0,)), lambda: nb.slice_update(X, np.ones((1, 1)), (0,)),
    lambda: nb.slice_update(X, np.ones((1, 1)), (0, 0), size="23"),
    lambda: nb.nonzero(X, size=1.5), lambda: nb.nonzero(X, size=-1),
    lambda: nb.nonzero(X, size=2, fill_value="a"), lambda: nb.nonzero(X, size=2, fill_value=(1,)),
    lambda: nb.unique(X, return_counts="yes"), lambda: nb.unique(X, axis=3),
    lambda: nb.unique(X, size=2.5), lambda: nb.unique(X, size=2, fill_value="a"),
    lambda: nb.unique(X, equal_nan=None), lambda: nb.tree_map(3, [1.0]),
]


@pytest.mark.parametrize("call", BAD_CALLS, ids=range(len(BAD_CALLS)))
def test_bad_arguments_raise_nabla_errors(call):
    with pytest.raises(nb.NablaError):
        call()


@pytest.mark.parametrize("module,names", [
    ("nabla_like.ops.sort", None), ("nabla_like.ops.compat", None),
    ("nabla_like.tree", ("flatten", "unflatten", "leaves", "structure", "map",
                         "register_pytree_node"))])
def test_docstring_examples(module, names):
    mod = importlib.import_module(module)
    names = set(names or mod.__all__)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(mod, globs={"nb": nb}):
        if test.name.rsplit(".", 1)[-1] in names:
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0 and results.failed == 0
