"""checkpoint/remat and its policies, checkpoint_name and optimization_barrier: gradients
equal the plain function's under every policy and transform, the compiled program holds
the barrier, and XLA's reported temporary memory shows the saving (JAX as the oracle)."""
import numpy as np
import pytest

import nabla_like as nb

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", False)

POLICIES = [None, nb.nothing_saveable, nb.checkpoint_policies.dots_saveable, nb.everything_saveable,
            nb.save_only_these_names("pre"), nb.save_any_names_but_these("pre")]


def close(a, b, rtol=2e-5, atol=2e-6):
    a = a.numpy() if isinstance(a, nb.Tensor) else np.asarray(a)
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=rtol, atol=atol)


rng = np.random.default_rng(0)
X = rng.standard_normal((4, 5)).astype(np.float32)
W1 = (rng.standard_normal((5, 5)) / 2).astype(np.float32)
W2 = (rng.standard_normal((5, 5)) / 2).astype(np.float32)


def block(h, w):
    return nb.sin(nb.tanh(nb.checkpoint_name(h @ w, "pre")))


def net(layer, x, w1, w2):
    return nb.sum(layer(layer(x, w1), w2) ** 2)


def jax_net(x, w1, w2):
    def b(h, w):
        return jnp.sin(jnp.tanh(h @ w))
    return jnp.sum(b(b(x, w1), w2) ** 2)


JAX_GRADS = jax.grad(jax_net, argnums=(0, 1, 2))(X, W1, W2)


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_gradients_equal_the_plain_function_under_every_policy(policy):
    layer = nb.checkpoint(block, policy=policy)
    args = [nb.tensor(a) for a in (X, W1, W2)]
    g = nb.grad(lambda *a: net(layer, *a), argnums=(0, 1, 2))
    for got in (g(*args), nb.jit(g)(*args)):
        for a, b in zip(got, JAX_GRADS):
            close(a, b)
    # Forward value, jvp and reverse-over-forward (hessian-vector product).
    close(net(layer, *args), jax_net(X, W1, W2))
    v = np.ones_like(X)
    _, t = nb.jvp(lambda x: net(layer, x, args[1], args[2]), (args[0],), (nb.tensor(v),))
    _, jt = jax.jvp(lambda x: jax_net(x, W1, W2), (X,), (v,))
    close(t, jt, rtol=1e-4)
    hvp = nb.jvp(nb.grad(lambda x: net(layer, x, args[1], args[2])), (args[0],), (nb.tensor(v),))[1]
    jhvp = jax.jvp(jax.grad(lambda x: jax_net(x, W1, W2)), (X,), (v,))[1]
    close(hvp, jhvp, rtol=1e-4, atol=1e-5)


def test_hessian_and_vmap_through_checkpoint():
    f = nb.checkpoint(lambda x: nb.sum(nb.tanh(x) * nb.exp(x)))
    x = rng.standard_normal(3).astype(np.float32)
    jf = lambda x: jnp.sum(jnp.tanh(x) * jnp.exp(x))  # noqa: E731
    close(nb.hessian(f)(nb.tensor(x)), jax.hessian(jf)(x), rtol=1e-4, atol=1e-5)
    xs = rng.standard_normal((6, 3)).astype(np.float32)
    close(nb.vmap(nb.grad(f))(nb.tensor(xs)), jax.vmap(jax.grad(jf))(xs), rtol=1e-5)
    close(nb.grad(lambda x: nb.sum(nb.vmap(f)(x)))(nb.tensor(xs)),
          jax.grad(lambda x: jnp.sum(jax.vmap(jf)(x)))(xs), rtol=1e-5)


def test_backward_through_checkpoint_fills_grads():
    w = nb.tensor(W1, requires_grad=True)
    layer = nb.checkpoint(block, policy=nb.dots_saveable)
    loss = nb.sum(layer(layer(nb.tensor(X), w), w))
    loss.backward()
    ref = jax.grad(lambda w: jnp.sum(jnp.sin(jnp.tanh(jnp.sin(jnp.tanh(X @ w)) @ w))))(W1)
    close(w.grad, ref)


def test_static_argnums_and_pytree_arguments():
    @nb.checkpoint(static_argnums=(1,))
    def f(params, n):
        h = params["x"]
        for _ in range(n):
            h = nb.tanh(h * params["a"])
        return h

    def jf(a, x, n):
        for _ in range(n):
            x = jnp.tanh(x * a)
        return x
    x = rng.standard_normal(4).astype(np.float32)
    g = nb.grad(lambda a, x: nb.sum(f({"a": a, "x": x}, 3)))(nb.tensor(1.5), nb.tensor(x))
    close(g, jax.grad(lambda a: jnp.sum(jf(a, x, 3)))(1.5), rtol=1e-5)


def test_bad_policy_and_bad_name_are_clear_errors():
    with pytest.raises(nb.NablaError, match="checkpoint.*policy"):
        nb.checkpoint(lambda x: x, policy="dots")
    with pytest.raises(nb.NablaError, match="checkpoint_name.*str"):
        nb.checkpoint_name(nb.tensor(1.0), 3)


def test_compiled_gradient_holds_the_barrier_and_make_graph_nests():
    layer = nb.checkpoint(block)
    g = nb.jit(nb.grad(lambda x, w: net(layer, x, w, w), argnums=1))
    text = g.lower(nb.tensor(X), nb.tensor(W1)).as_text()
    assert "optimization_barrier" in text
    printed = str(nb.make_graph(lambda x: layer(x, nb.tensor(W1)))(nb.tensor(X)))
    assert "remat" in printed and "tanh" in printed and "policy=nothing_saveable" in printed
    # No barrier when asked not to prevent CSE.
    g2 = nb.jit(nb.grad(lambda x, w: net(nb.checkpoint(block, prevent_cse=False), x, w, w),
                        argnums=1))
    assert "optimization_barrier" not in g2.lower(nb.tensor(X), nb.tensor(W1)).as_text()


def test_optimization_barrier_is_the_identity_for_every_transform():
    x = rng.standard_normal(3).astype(np.float32)
    f = lambda x: nb.sum(nb.optimization_barrier(x * x, nb.sin(x))[0] * 3.0)  # noqa: E731
    close(nb.grad(f)(nb.tensor(x)), 6 * x)
    close(nb.vmap(nb.grad(f))(nb.tensor(np.stack([x, 2 * x]))), np.stack([6 * x, 12 * x]))
    close(nb.jit(f)(nb.tensor(x)), 3 * np.sum(x * x), rtol=1e-5)


# ---------------------------------------------------------------------------
# Memory: a deep tanh MLP as a scan over its stacked layers, the body checkpointed.
# XLA's CPU pipeline drops optimization barriers before its CSE pass, so on the CPU a
# checkpoint saves memory where the recomputation lives in a loop body (scan, fori_loop);
# that is the shape measured here.
# ---------------------------------------------------------------------------
L, N, WID = 8, 256, 128


def _temp_bytes_nb(policy):
    def layer(h, w):
        return nb.tanh(h @ w)
    body = layer if policy == "plain" else nb.checkpoint(layer, policy=policy)

    def loss(ws, x):
        h, _ = nb.scan(lambda h, w: (body(h, w), None), x, ws)
        return nb.sum(h * h)
    ws = nb.tensor((rng.standard_normal((L, WID, WID)) / np.sqrt(WID)).astype(np.float32))
    x = nb.tensor(rng.standard_normal((N, WID)).astype(np.float32))
    g = nb.jit(nb.grad(loss))
    return g.lower(ws, x).compile().memory_analysis().temp_size_in_bytes


def _temp_bytes_jax(policy):
    def layer(h, w):
        return jnp.tanh(h @ w)
    body = layer if policy == "plain" else jax.checkpoint(layer, policy=policy)

    def loss(ws, x):
        h, _ = jax.lax.scan(lambda h, w: (body(h, w), None), x, ws)
        return jnp.sum(h * h)
    ws = jnp.zeros((L, WID, WID), jnp.float32)
    x = jnp.zeros((N, WID), jnp.float32)
    return jax.jit(jax.grad(loss)).lower(ws, x).compile().memory_analysis().temp_size_in_bytes


def test_checkpoint_reduces_compiled_temporary_memory():
    plain = _temp_bytes_nb("plain")
    nothing = _temp_bytes_nb(nb.nothing_saveable)
    dots = _temp_bytes_nb(nb.dots_saveable)
    # The stored activations are L x N x WID floats (1 MB here): nothing_saveable drops
    # them, dots_saveable keeps the matmul outputs instead of the tanh outputs.
    assert nothing < plain - L * N * WID * 4 // 2
    assert nothing < dots <= plain
    assert nothing <= _temp_bytes_jax(jax.checkpoint_policies.nothing_saveable)
    assert dots <= _temp_bytes_jax(jax.checkpoint_policies.dots_saveable)
    assert plain <= _temp_bytes_jax("plain")
