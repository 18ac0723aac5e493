"""nb.linalg as a user sees it: identities, values against NumPy and JAX, gradients against
jax.grad, under eager, jit and vmap, batched inputs, and the errors of bad calls."""
import numpy as np
import pytest

import nabla_like as nb

L = nb.linalg
RNG = np.random.default_rng(7)
A = RNG.standard_normal((8, 4, 4)) + 4 * np.eye(4)          # a batch of well-conditioned
SPD = A @ np.swapaxes(A, -1, -2) + np.eye(4)                  # ... and of SPD matrices
TALL = RNG.standard_normal((8, 5, 3))
B = RNG.standard_normal((8, 4, 2))


def close(got, want, tol=1e-9):
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol)


def test_namespace_is_public():
    assert L.__name__ == "nabla_like.linalg"
    assert not hasattr(L, "Primitive") and not hasattr(L, "bind") and not hasattr(L, "Aval")
    assert all(callable(getattr(L, name)) for name in L.__all__)
    assert L.matmul is nb.matmul  # the products stay reachable as nb.linalg.*


def test_identities_batched():
    a, spd, tall = nb.tensor(A), nb.tensor(SPD), nb.tensor(TALL)
    eye = np.eye(4)
    close((a @ L.inv(a)).numpy(), np.broadcast_to(eye, A.shape))
    chol = L.cholesky(spd).numpy()
    close(chol @ np.swapaxes(chol, -1, -2), SPD)
    close(np.triu(chol, 1), 0)
    q, r = L.qr(tall)
    close(np.swapaxes(q.numpy(), -1, -2) @ q.numpy(), np.broadcast_to(np.eye(3), (8, 3, 3)))
    close(np.tril(r.numpy(), -1), 0)
    close((q @ r).numpy(), TALL)
    qc, rc = L.qr(tall, mode="complete")
    assert qc.shape == (8, 5, 5) and rc.shape == (8, 5, 3)
    close((qc @ rc).numpy(), TALL)
    close(np.swapaxes(qc.numpy(), -1, -2) @ qc.numpy(), np.broadcast_to(np.eye(5), (8, 5, 5)))
    p, lower, upper = L.lu(a)
    close((p @ lower @ upper).numpy(), A)
    w, v = L.eigh(spd)
    close((v * w[..., None, :] @ v.mT).numpy(), SPD)
    assert np.all(np.diff(w.numpy(), axis=-1) > 0)
    for full in (False, True):
        u, s, vh = L.svd(tall, full_matrices=full)
        k = 3
        close((u[..., :, :k] * s[..., None, :] @ vh[..., :k, :]).numpy(), TALL)


def test_values_against_numpy():
    a, spd, b = nb.tensor(A), nb.tensor(SPD), nb.tensor(B)
    close(L.solve(a, b).numpy(), np.linalg.solve(A, B))
    close(L.solve(a[0], b[0, :, 0]).numpy(), np.linalg.solve(A[0], B[0, :, 0]))
    close(L.det(a).numpy(), np.linalg.det(A))
    sign, logdet = L.slogdet(-a)
    want = np.linalg.slogdet(-A)
    close(sign.numpy(), want.sign)
    close(logdet.numpy(), want.logabsdet)
    close(L.eigvalsh(spd).numpy(), np.linalg.eigvalsh(SPD))
    close(L.svd(nb.tensor(TALL), compute_uv=False).numpy(), np.linalg.svd(TALL, compute_uv=False))
    close(L.pinv(nb.tensor(TALL)).numpy(), np.linalg.pinv(TALL))
    close(L.matrix_power(a, -3).numpy(), np.stack([np.linalg.matrix_power(x, -3) for x in A]))
    close(L.matrix_power(a, 5).numpy(), np.linalg.matrix_power(A, 5), 1e-7)
    assert L.matrix_rank(nb.tensor(np.outer([1.0, 2.0], [3.0, 4.0, 5.0]))).item() == 1
    close(L.det(nb.tensor(np.array([[0.0, 1.0], [1.0, 0.0]]))).numpy(), -1.0)
    x = nb.tensor(TALL)
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        close(L.norm(x, ord=ord_, axis=(1, 2)).numpy(), np.linalg.norm(TALL, ord=ord_, axis=(1, 2)))
    for ord_ in (None, 0, 1, 2, 3, 0.5, np.inf, -np.inf):
        close(L.norm(x, ord=ord_, axis=-1, keepdims=True).numpy(),
              np.linalg.norm(TALL, ord=ord_, axis=-1, keepdims=True))
    close(L.norm(x).numpy(), np.linalg.norm(TALL))


def test_values_against_jax():
    jnp = pytest.importorskip("jax.numpy")
    import jax
    jax.config.update("jax_enable_x64", True)
    a = nb.tensor(A)
    close(L.inv(a).numpy(), np.asarray(jnp.linalg.inv(A)))
    close(L.cholesky(nb.tensor(SPD)).numpy(), np.asarray(jnp.linalg.cholesky(SPD)))
    close(L.triangular_solve(a, nb.tensor(B), lower=False).numpy(),
          np.asarray(jax.scipy.linalg.solve_triangular(A, B, lower=False)))


def _jax_grads():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    jl = jnp.linalg
    sym = lambda x: (x + x.T) / 2  # noqa: E731
    # (name, nabla_like scalar function, jax scalar function, input)
    return jax, [
        ("solve", lambda x: nb.sum(L.solve(x, nb.tensor(B[0])) ** 2),
         lambda x: jnp.sum(jl.solve(x, B[0]) ** 2), A[0]),
        ("inv", lambda x: nb.sum(nb.sin(L.inv(x))), lambda x: jnp.sum(jnp.sin(jl.inv(x))), A[0]),
        ("det", lambda x: L.det(x), lambda x: jl.det(x), A[0]),
        ("slogdet", lambda x: L.slogdet(x)[1], lambda x: jl.slogdet(x)[1], -A[0]),
        ("cholesky", lambda x: nb.sum(nb.sin(L.cholesky(x @ x.mT))),
         lambda x: jnp.sum(jnp.sin(jl.cholesky(x @ x.T))), A[0]),
        ("eigh", lambda x: nb.sum(L.eigh(x @ x.mT)[0] ** 3) + nb.sum(L.eigh(x @ x.mT)[1] ** 4),
         lambda x: jnp.sum(jl.eigh(sym(x @ x.T))[0] ** 3) + jnp.sum(jl.eigh(sym(x @ x.T))[1] ** 4),
         A[0]),
        ("svd", lambda x: nb.sum(L.svd(x, full_matrices=False)[1] ** 3)
         + nb.sum(L.svd(x, full_matrices=False)[0] ** 4),
         lambda x: jnp.sum(jl.svd(x, full_matrices=False)[1] ** 3)
         + jnp.sum(jl.svd(x, full_matrices=False)[0] ** 4), TALL[0]),
        ("qr", lambda x: nb.sum(L.qr(x)[0] ** 3) + nb.sum(nb.sin(L.qr(x)[1])),
         lambda x: jnp.sum(jl.qr(x)[0] ** 3) + jnp.sum(jnp.sin(jl.qr(x)[1])), TALL[0]),
        ("norm_nuc", lambda x: L.norm(x, "nuc"), lambda x: jl.norm(x, "nuc"), TALL[0]),
        ("pinv", lambda x: nb.sum(L.pinv(x) ** 2), lambda x: jnp.sum(jl.pinv(x) ** 2), TALL[0]),
    ]


_JAX_GRADS: dict = {}  # jax's answers, computed once for the three modes


@pytest.mark.parametrize("mode", ["eager", "jit", "vmap"])
def test_gradients_against_jax(mode):
    jax, cases = _jax_grads()
    for name, fn, jfn, x in cases:
        if name not in _JAX_GRADS:
            _JAX_GRADS[name] = np.asarray(jax.jit(jax.grad(jfn))(x))
        want = _JAX_GRADS[name]
        if mode == "vmap":
            got = nb.vmap(nb.grad(fn))(nb.tensor(np.stack([x, x])))[1]
        else:
            g = nb.grad(fn)
            got = (nb.jit(g) if mode == "jit" else g)(nb.tensor(x))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-7, atol=1e-9, err_msg=f"{name} {mode}")


def test_float32_and_jit():
    a = nb.tensor(A.astype(np.float32))
    out = nb.jit(lambda x: L.det(x) * L.slogdet(x)[1])(a)
    assert out.dtype == nb.float32
    sign, logdet = np.linalg.slogdet(A)
    np.testing.assert_allclose(out.numpy(), np.linalg.det(A) * logdet, rtol=1e-4)


def test_nan_for_failed_eigh_and_empty_batches():
    w, _ = L.eigh(nb.tensor(np.full((2, 2), np.nan)))
    assert np.isnan(w.numpy()).all()
    empty = nb.tensor(np.zeros((0, 3, 3)))
    assert L.inv(empty).shape == (0, 3, 3) and L.det(empty).shape == (0,)
    assert L.svd(empty)[1].shape == (0, 3)


@pytest.mark.parametrize("call,cls,words", [
    (lambda: L.inv(nb.ones((2, 3))), nb.ShapeError, ["linalg.inv", "f32[2,3]"]),
    (lambda: L.det(nb.ones(3)), nb.ShapeError, ["linalg.det", "f32[3]"]),
    (lambda: L.solve(nb.ones((3, 3)), nb.ones(4)), nb.ShapeError, ["linalg.solve", "f32[4,1]"]),
    (lambda: L.solve(nb.ones((2, 3, 3)), nb.ones((4, 3, 1))), nb.ShapeError, ["linalg.solve"]),
    (lambda: L.cholesky(nb.ones((3, 3), dtype=nb.int32)), nb.DTypeError,
     ["linalg.cholesky", "i32[3,3]"]),
    (lambda: L.solve(nb.ones((3, 3)), nb.ones(3, dtype=nb.float64)), nb.DTypeError,
     ["linalg.solve"]),
    (lambda: L.eigh(nb.ones((3, 3), dtype=nb.float16)), nb.DTypeError, ["linalg.eigh"]),
    (lambda: L.qr(nb.ones((3, 3)), mode="bad"), nb.ShapeError, ["linalg.qr"]),
    (lambda: L.norm(nb.ones((2, 2, 2)), ord=1), nb.ShapeError, ["linalg.norm"]),
    (lambda: L.matrix_power(nb.ones((2, 2)), 1.5), nb.DTypeError, ["linalg.matrix_power"]),
    (lambda: L.triangular_solve(nb.ones((3, 3)), nb.ones((2, 2))), nb.ShapeError,
     ["linalg.triangular_solve"]),
])
def test_errors(call, cls, words):
    with pytest.raises(cls) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_unsupported_gradients_say_so():
    with pytest.raises(NotImplementedError, match="full_matrices"):
        nb.grad(lambda x: nb.sum(L.svd(x)[0]))(nb.tensor(TALL[0]))
    with pytest.raises(NotImplementedError, match="complete"):
        nb.grad(lambda x: nb.sum(L.qr(x, mode="complete")[0]))(nb.tensor(TALL[0]))


def test_rectangular_lu_derivatives_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    jax_lu = jax.vmap(jax.scipy.linalg.lu)  # a batch of matrices
    for shape in [(2, 3, 5), (2, 5, 3)]:
        a = np.random.default_rng(4).standard_normal(shape)
        cts = [np.random.default_rng(k).standard_normal(f.shape) for k, f in enumerate(jax_lu(a)[1:])]
        mine = nb.grad(lambda x: sum(nb.sum(f * nb.tensor(c)) for f, c in zip(L.lu(x)[1:], cts)))(
            nb.tensor(a))
        want = jax.grad(lambda x: sum(jnp.sum(f * c) for f, c in zip(jax_lu(x)[1:], cts)))(a)
        close(mine.numpy(), np.asarray(want))


def test_wide_qr_derivatives_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    a = np.random.default_rng(5).standard_normal((2, 3, 5))  # a batch of wide matrices
    for mode in ("reduced", "complete"):
        cq, cr = (np.random.default_rng(k).standard_normal(s.shape)
                  for k, s in enumerate(np.linalg.qr(a, mode=mode)))
        mine = nb.grad(lambda x: nb.sum(L.qr(x, mode=mode)[0] * nb.tensor(cq))
                       + nb.sum(L.qr(x, mode=mode)[1] * nb.tensor(cr)))(nb.tensor(a))
        want = jax.grad(lambda x: jnp.sum(jnp.linalg.qr(x, mode=mode)[0] * cq)
                        + jnp.sum(jnp.linalg.qr(x, mode=mode)[1] * cr))(a)
        close(mine.numpy(), np.asarray(want))
        t = np.random.default_rng(9).standard_normal(a.shape)
        _, (dq, dr) = nb.jvp(lambda x: L.qr(x, mode=mode), (nb.tensor(a),), (nb.tensor(t),))
        _, (jq, jr) = jax.jvp(lambda x: jnp.linalg.qr(x, mode=mode), (a,), (t,))
        close(dq.numpy(), np.asarray(jq))
        close(dr.numpy(), np.asarray(jr))


def test_docstring_examples_run():
    import doctest
    result = doctest.testmod(L, extraglobs={"nb": nb, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
