"""Products beyond the op table: dot_general itself, errors, integer exactness, float32
precision, many einsum subscripts, and transforms of products composed."""
import numpy as np
import pytest

import nabla_like as nb

rng = np.random.default_rng(0)


def test_dot_general_dimension_numbers():
    a = rng.standard_normal((3, 2, 4, 5))
    b = rng.standard_normal((4, 6, 3, 2))
    # contract a(2)~b(0) and a(1)~b(3); batch a(0)~b(2): result batch, a free (5), b free (6)
    out = nb.dot_general(nb.tensor(a), nb.tensor(b), ((2, 1), (0, 3)), ((0,), (2,)))
    np.testing.assert_allclose(out.numpy(), np.einsum("zyxw,xvzy->zwv", a, b), rtol=1e-12)
    text = nb.jit(lambda p, q: nb.dot_general(p, q, ((2, 1), (0, 3)), ((0,), (2,)))).lower(
        nb.tensor(a), nb.tensor(b)).as_text()
    assert "#stablehlo.dot<lhs_batching_dimensions = [0], rhs_batching_dimensions = [2], " \
           "lhs_contracting_dimensions = [2, 1], rhs_contracting_dimensions = [0, 3]>" in text


def test_dot_general_derivatives_and_batching_with_odd_dims():
    a = rng.standard_normal((3, 2, 4))
    b = rng.standard_normal((4, 3, 5))

    def f(p, q):
        return nb.dot_general(p, q, ((2,), (0,)), ((0,), (1,)))

    ga, gb = nb.grad(lambda p, q: nb.sum(nb.tanh(f(p, q))), argnums=(0, 1))(nb.tensor(a), nb.tensor(b))
    y = np.einsum("zyx,xzw->zyw", a, b)
    ct = 1 - np.tanh(y) ** 2
    np.testing.assert_allclose(ga.numpy(), np.einsum("zyw,xzw->zyx", ct, b), rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), np.einsum("zyw,zyx->xzw", ct, a), rtol=1e-10)
    # vmap with every combination of batched operands, batch dims in the middle
    stack_a = rng.standard_normal((3, 2, 6, 4))
    stack_b = rng.standard_normal((4, 3, 5, 6))
    for axes, args in [((2, 3), (stack_a, stack_b)), ((2, None), (stack_a, b)),
                       ((None, 3), (a, stack_b))]:
        got = nb.vmap(f, in_axes=axes)(*[nb.tensor(x) for x in args]).numpy()
        want = np.stack([f(*[nb.tensor(np.take(x, k, axis=ax) if ax is not None else x)
                             for x, ax in zip(args, axes)]).numpy() for k in range(6)])
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_matmul_error_names_shapes_and_line():
    with pytest.raises(nb.ShapeError) as info:
        nb.ones((2, 3)) @ nb.ones((4, 5))
    message = str(info.value)
    assert message.startswith("matmul: inner dimensions do not match: f32[2,3] @ f32[4,5] (3 != 4)")
    assert "test_linalg.py" in message and "nb.ones((2, 3)) @ nb.ones((4, 5))" in message
    assert isinstance(info.value, ValueError)
    with pytest.raises(nb.ShapeError, match="at least 1-D"):
        nb.matmul(nb.ones(()), nb.ones((2,)))
    with pytest.raises(nb.ShapeError, match="could not be broadcast"):
        nb.matmul(nb.ones((2, 2, 3)), nb.ones((3, 3, 4)))
    with pytest.raises(nb.ShapeError, match="not aligned"):
        nb.dot(nb.ones((2, 3)), nb.ones((2, 3)))
    with pytest.raises(nb.ShapeError, match="shape mismatch"):
        nb.tensordot(nb.ones((2, 3)), nb.ones((2, 3)), axes=1)
    with pytest.raises(nb.ShapeError):
        nb.vdot(nb.ones(3), nb.ones(4))


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_matmul_is_exact(dtype):
    big = 2**20 if dtype == np.int64 else 2**10
    a = rng.integers(-big, big, size=(7, 9)).astype(dtype)
    b = rng.integers(-big, big, size=(9, 4)).astype(dtype)
    got = (nb.tensor(a) @ nb.tensor(b)).numpy()
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, a @ b)
    np.testing.assert_array_equal(nb.einsum("ij,jk->ki", a, b).numpy(), np.einsum("ij,jk->ki", a, b))


def test_mixed_dtypes_promote_as_numpy():
    a = nb.tensor(np.ones((2, 3), np.int32))
    b = nb.tensor(np.ones((3, 2), np.float32))
    assert (a @ b).dtype == nb.float32
    assert nb.matmul(nb.tensor(np.ones((2, 2), np.float64)), b[:2]).dtype == nb.float64
    assert nb.dot(nb.ones(3), 2.0).dtype == nb.float32  # Python scalars stay weak


def test_float32_precision_against_float64():
    a = rng.standard_normal((64, 96)).astype(np.float32)
    b = rng.standard_normal((96, 48)).astype(np.float32)
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose((nb.tensor(a) @ nb.tensor(b)).numpy(), want, rtol=1e-5, atol=1e-4)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ii->", [(3, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("iii->i", [(2, 2, 2)]),
    ("i,j->ij", [(2,), (3,)]), ("i,j", [(2,), (3,)]), ("ij->ji", [(2, 3)]), ("ji", [(2, 3)]),
    ("ijk->", [(2, 3, 4)]), ("ij->i", [(2, 3)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]), ("i,i", [(4,), (4,)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ii->...i", [(2, 3, 3)]), ("i...->...", [(3, 2, 2)]), ("...,...", [(2, 3), (3,)]),
    ("ijk,kl,lm->ijm", [(2, 2, 3), (3, 4), (4, 2)]), ("iij,j->i", [(3, 3, 2), (2,)]),
    ("ij,jk", [(2, 1), (3, 4)]), ("a,b,c->abc", [(2,), (3,), (2,)]), ("ab,cd->", [(2, 3), (4, 5)]),
    ("aBc,cB->Ba", [(2, 3, 4), (4, 3)]), (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("i,i,i->", [(3,), (3,), (3,)]),
    ("bi,bi->b", [(4, 3), (4, 3)]), ("ijij->ij", [(2, 3, 2, 3)]), ("i", [(3,)]), ("", [()]),
    ("ab,ba->", [(0, 3), (3, 0)]),
]


@pytest.mark.parametrize("spec,shapes", EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum_matches_numpy(spec, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    got = nb.einsum(spec, *[nb.tensor(a) for a in arrays]).numpy()
    want = np.einsum(spec, *arrays)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_einsum_bool_and_int():
    a = rng.random((3, 4)) < 0.5
    b = rng.random((4, 2)) < 0.5
    got = nb.einsum("ij,jk->ik", nb.tensor(a), nb.tensor(b)).numpy()
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, np.einsum("ij,jk->ik", a, b))
    i8 = rng.integers(-5, 5, size=(3, 3)).astype(np.int8)
    np.testing.assert_array_equal(nb.einsum("ij,jk", i8, i8).numpy(), np.einsum("ij,jk", i8, i8))


@pytest.mark.parametrize("spec,shapes,message", [
    ("ij,jk->ik", [(2, 3)], "name 2 operands"),
    ("ij->ik", [(2, 3)], "does not appear"),
    ("ij->ii", [(2, 3)], "repeat"),
    ("i1->i", [(2, 3)], "invalid subscript"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "label 'j' has size 3 and size 4"),
    ("ijk", [(2, 3)], "has 3 subscripts"),
    ("....", [(2,)], "'...'"),
    ("ii", [(2, 3)], "label 'i' has size 2 and size 3"),
    ("ii", [(1, 3)], "different sizes"),
    ("...ij->ij", [(4, 2, 3)], "no '...'"),
    ("i->i->i", [(2,)], "more than one"),
])
def test_einsum_errors(spec, shapes, message):
    with pytest.raises(nb.NablaError, match=message) as info:
        nb.einsum(spec, *[nb.ones(s) for s in shapes])
    assert isinstance(info.value, ValueError)


def test_products_compose_with_transforms():
    w = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)

    def f(v):
        return nb.sum(nb.tanh(nb.tensor(w) @ v))

    h = nb.jacfwd(nb.jacrev(f))(nb.tensor(x)).numpy()
    t = np.tanh(w @ x)
    want = w.T @ np.diag(-2 * t * (1 - t ** 2)) @ w
    np.testing.assert_allclose(h, want, rtol=1e-10)
    # per-example gradients: vmap of grad of a batched einsum
    xs = rng.standard_normal((5, 4))
    g = nb.vmap(nb.grad(lambda v: nb.einsum("ij,j->", nb.tensor(w), v) ** 2))(nb.tensor(xs))
    want_g = 2 * (xs @ w.T).sum(axis=1, keepdims=True) * w.sum(axis=0)
    np.testing.assert_allclose(g.numpy(), want_g, rtol=1e-10)
    jitted = nb.jit(lambda a, b: nb.einsum("bij,bjk->bik", a, b))
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(jitted(nb.tensor(a), nb.tensor(b)).numpy(), a @ b, rtol=1e-12)
