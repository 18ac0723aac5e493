"""custom_vjp and custom_jvp under eager execution, jit, grad, grad-of-grad, jvp, vmap and
backward(), against closed forms and jax.custom_vjp / jax.custom_jvp as an oracle."""
import numpy as np
import pytest

import nabla_like as nb

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", False)


def close(a, b, rtol=1e-5, atol=1e-6):
    a = a.numpy() if isinstance(a, nb.Tensor) else np.asarray(a)
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------------------
# The documented example: a numerically stable log1pexp
# ---------------------------------------------------------------------------
def log1pexp_plain(x):
    return nb.log(1.0 + nb.exp(x))


@nb.custom_jvp
def log1pexp(x):
    return nb.log(1.0 + nb.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + nb.exp(x)))


def test_log1pexp_custom_rule_fixes_the_nan_gradient():
    big = nb.tensor(100.0)
    assert np.isnan(nb.grad(log1pexp_plain)(big).item())   # exp overflows: inf / inf
    close(nb.grad(log1pexp)(big), 1.0)
    xs = np.array([-20.0, -1.0, 0.0, 3.0, 100.0], np.float32)
    close(nb.vmap(nb.grad(log1pexp))(nb.tensor(xs)), sigmoid(xs.astype(np.float64)))
    close(nb.jit(nb.vmap(nb.grad(log1pexp)))(nb.tensor(xs)), sigmoid(xs.astype(np.float64)))
    # The rule is differentiable itself: the second derivative is sigmoid'(x).
    s = sigmoid(xs[:4].astype(np.float64))
    close(nb.vmap(nb.grad(nb.grad(log1pexp)))(nb.tensor(xs[:4])), s * (1 - s), atol=1e-5)


# ---------------------------------------------------------------------------
# custom_jvp
# ---------------------------------------------------------------------------
@nb.custom_jvp
def doubled_slope(x, y):
    """x * y whose derivative is, deliberately, twice the true one: a rule that is used
    leaves a visible trace."""
    return x * y


@doubled_slope.defjvp
def _doubled_slope_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return x * y, 2.0 * (tx * y + x * ty)


def test_custom_jvp_rule_is_used_by_every_transform():
    x, y = nb.tensor([1.0, 2.0]), nb.tensor([3.0, -1.0])
    close(doubled_slope(x, y), [3.0, -2.0])
    _, t = nb.jvp(doubled_slope, (x, y), (nb.ones((2,)), nb.zeros((2,))))
    close(t, [6.0, -2.0])
    gx, gy = nb.grad(lambda x, y: nb.sum(doubled_slope(x, y)), argnums=(0, 1))(x, y)
    close(gx, [6.0, -2.0])
    close(gy, [2.0, 4.0])
    close(nb.jit(nb.grad(lambda x: nb.sum(doubled_slope(x, y))))(x), [6.0, -2.0])
    close(nb.jacfwd(lambda x: doubled_slope(x, y))(x), np.diag([6.0, -2.0]))
    close(nb.jacrev(lambda x: doubled_slope(x, y))(x), np.diag([6.0, -2.0]))
    close(nb.vmap(nb.grad(lambda a, b: doubled_slope(a, b)))(x, y), [6.0, -2.0])
    # imperative backward()
    xr = nb.tensor([1.0, 2.0]).requires_grad_()
    nb.sum(doubled_slope(xr, y)).backward()
    close(xr.grad, [6.0, -2.0])


def test_custom_jvp_matches_jax_under_jit_vmap_and_hessian():
    @nb.custom_jvp
    def f(x):
        return nb.sin(x) * x

    @f.defjvp
    def f_jvp(p, t):
        (x,), (tx,) = p, t
        return f(x), (nb.cos(x) * x + nb.sin(x)) * tx * 1.5

    @jax.custom_jvp
    def jf(x):
        return jnp.sin(x) * x

    @jf.defjvp
    def jf_jvp(p, t):
        (x,), (tx,) = p, t
        return jf(x), (jnp.cos(x) * x + jnp.sin(x)) * tx * 1.5

    x0 = np.array([0.3, -1.2, 2.0], np.float32)
    x = nb.tensor(x0)
    close(nb.jit(nb.grad(lambda x: nb.sum(f(x))))(x), jax.grad(lambda x: jnp.sum(jf(x)))(x0))
    close(nb.hessian(lambda x: nb.sum(f(x)))(x), jax.hessian(lambda x: jnp.sum(jf(x)))(x0), atol=1e-5)
    close(nb.vmap(nb.jacrev(f))(x[:, None]), jax.vmap(jax.jacrev(jf))(x0[:, None]))


def test_custom_jvp_nondiff_argnums_and_pytrees():
    @nb.custom_jvp
    def scaled(k, p):
        return {"s": p["a"] * k + p["b"]}

    # nondiff_argnums is given as in JAX, through the decorator's keyword.
    scaled = nb.custom_jvp(scaled.fun, nondiff_argnums=(0,))

    @scaled.defjvp
    def scaled_jvp(k, primals, tangents):
        (p,), (t,) = primals, tangents
        return scaled(k, p), {"s": t["a"] * k * 10.0 + t["b"]}

    p = {"a": nb.tensor([1.0, 2.0]), "b": nb.tensor([0.5, 0.5])}
    close(scaled(3.0, p)["s"], [3.5, 6.5])
    g = nb.grad(lambda p: nb.sum(scaled(3.0, p)["s"]))(p)
    close(g["a"], [30.0, 30.0])
    close(g["b"], [1.0, 1.0])
    g = nb.jit(nb.grad(lambda p: nb.sum(scaled(2.0, p)["s"])))(p)
    close(g["a"], [20.0, 20.0])


def test_custom_jvp_with_closed_over_tensor():
    w = nb.tensor([2.0, 5.0])

    @nb.custom_jvp
    def f(x):
        return x * w

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), t[0] * w * 3.0

    close(nb.grad(lambda x: nb.sum(f(x)))(nb.ones((2,))), [6.0, 15.0])
    close(nb.jit(nb.grad(lambda x, w2: nb.sum(f(x) * w2)))(nb.ones((2,)), w), [12.0, 75.0])


def test_custom_jvp_errors():
    @nb.custom_jvp
    def f(x):
        return x * 2.0

    with pytest.raises(nb.NablaError, match="defjvp"):
        f(nb.ones((2,)))

    @f.defjvp
    def bad(p, t):
        return f(p[0]), nb.ones((3,))

    with pytest.raises(nb.NablaError, match=r"custom_jvp.*\[3\]"):
        nb.jvp(f, (nb.ones((2,)),), (nb.ones((2,)),))


# ---------------------------------------------------------------------------
# custom_vjp
# ---------------------------------------------------------------------------
@nb.custom_vjp
def clip_gradient(lo, hi, x):
    return x


clip_gradient = nb.custom_vjp(clip_gradient.fun, nondiff_argnums=(0, 1))
clip_gradient.defvjp(lambda lo, hi, x: (x, None),
                     lambda lo, hi, res, g: (nb.clip(g, lo, hi),))


def test_custom_vjp_nondiff_argnums_clip_gradient():
    x = nb.tensor([1.0, -2.0, 3.0])
    f = lambda x: nb.sum(clip_gradient(-0.5, 0.5, x * 4.0) * nb.tensor([1.0, -1.0, 0.1]))
    close(nb.grad(f)(x), [2.0, -2.0, 0.4])
    close(nb.jit(nb.grad(f))(x), [2.0, -2.0, 0.4])
    close(nb.vmap(nb.grad(lambda x: clip_gradient(-0.5, 0.5, x) * 3.0))(x), [0.5, 0.5, 0.5])


@nb.custom_vjp
def sin_rule(x):
    return nb.sin(x)


def _sin_fwd(x):
    return nb.sin(x), nb.cos(x)


def _sin_bwd(cos_x, g):
    return (g * cos_x,)


sin_rule.defvjp(_sin_fwd, _sin_bwd)


def test_custom_vjp_under_jit_vmap_and_grad_of_grad_vs_jax():
    @jax.custom_vjp
    def jsin(x):
        return jnp.sin(x)
    jsin.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda c, g: (g * c,))

    x0 = np.array([0.1, 1.3, -2.2], np.float32)
    x = nb.tensor(x0)
    close(sin_rule(x), np.sin(x0))
    close(nb.grad(lambda x: nb.sum(sin_rule(x)))(x), np.cos(x0))
    close(nb.jit(nb.grad(lambda x: nb.sum(sin_rule(x))))(x), np.cos(x0))
    close(nb.vmap(nb.grad(sin_rule))(x), jax.vmap(jax.grad(jsin))(x0))
    # grad of grad differentiates the backward rule itself: d/dx cos(x) = -sin(x).
    close(nb.vmap(nb.grad(nb.grad(sin_rule)))(x), jax.vmap(jax.grad(jax.grad(jsin)))(x0))
    close(nb.jit(nb.vmap(nb.grad(nb.grad(sin_rule))))(x), -np.sin(x0))
    xr = nb.tensor(x0).requires_grad_()
    nb.sum(sin_rule(xr) * 2.0).backward()
    close(xr.grad, 2 * np.cos(x0))


def test_custom_vjp_rule_runs_instead_of_the_function_derivative():
    @nb.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * 100.0, g * res[0]))
    x, y = nb.tensor([1.0, 2.0]), nb.tensor([3.0, 4.0])
    gx, gy = nb.grad(lambda x, y: nb.sum(f(x, y)), argnums=(0, 1))(x, y)
    close(gx, [100.0, 100.0])
    close(gy, [1.0, 2.0])
    # a batched argument with an unbatched one, under vmap
    gx = nb.vmap(nb.grad(lambda x, y: nb.sum(f(x, y))), in_axes=(0, None))(nb.ones((3, 2)), y)
    close(gx, np.full((3, 2), 100.0))


def test_custom_vjp_pytree_residuals_and_outputs():
    @nb.custom_vjp
    def f(p):
        return {"prod": p["a"] * p["b"], "sum": p["a"] + p["b"]}

    def fwd(p):
        return f(p), {"a": p["a"], "b": p["b"]}

    def bwd(res, ct):
        return ({"a": ct["prod"] * res["b"] + ct["sum"], "b": ct["prod"] * res["a"] + ct["sum"]},)

    f.defvjp(fwd, bwd)
    p = {"a": nb.tensor([1.0, 2.0]), "b": nb.tensor([3.0, 5.0])}
    g = nb.grad(lambda p: nb.sum(f(p)["prod"]) + 2.0 * nb.sum(f(p)["sum"]))(p)
    close(g["a"], [3.0 + 2.0, 5.0 + 2.0])
    close(g["b"], [1.0 + 2.0, 2.0 + 2.0])


def test_custom_vjp_errors_name_the_function_and_the_shapes():
    @nb.custom_vjp
    def f(x):
        return x * 2.0

    with pytest.raises(nb.NablaError, match="defvjp"):
        f(nb.ones((2,)))
    f.defvjp(lambda x: (x * 2.0, None), lambda res, g: (nb.ones((3,)),))
    with pytest.raises(nb.NablaError, match=r"cotangent f32\[3\].*f32\[2\]"):
        nb.grad(lambda x: nb.sum(f(x)))(nb.ones((2,)))
    f.defvjp(lambda x: (x * 2.0, None), lambda res, g: g)
    with pytest.raises(nb.NablaError, match="tuple with one cotangent"):
        nb.grad(lambda x: nb.sum(f(x)))(nb.ones((2,)))
    with pytest.raises(nb.NablaError, match="forward-mode"):
        nb.jvp(f, (nb.ones((2,)),), (nb.ones((2,)),))
    with pytest.raises(nb.TransformError, match=r"nondiff_argnums=\(5,\) is out of range"):
        nb.custom_vjp(lambda x, y: x + y, nondiff_argnums=(5,))  # at the definition
    g = nb.custom_vjp(lambda *xs: xs[0] + xs[1], nondiff_argnums=(5,))  # *args: at the call
    g.defvjp(lambda *xs: (xs[0] + xs[1], None), lambda res, ct: (ct, ct))
    with pytest.raises(nb.NablaError, match="nondiff_argnums 5 is out of range"):
        g(nb.ones((2,)), nb.ones((2,)))


def test_custom_rules_are_traced_once_per_structure():
    # Repeated calls make equal nodes, so jit and the eager program cache reuse compiles.
    calls = []

    @nb.custom_vjp
    def f(x):
        calls.append(1)
        return x * 3.0

    f.defvjp(lambda x: (x * 3.0, None), lambda r, g: (g * 3.0,))
    step = nb.jit(nb.grad(lambda x: nb.sum(f(x))))
    for i in range(3):
        close(step(nb.full((4,), float(i))), [3.0] * 4)
    assert step.cache_info()["misses"] == 1
