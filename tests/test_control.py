"""Control flow (cond, switch, scan, map, while_loop, fori_loop) under eager execution, jit,
grad, jvp, vmap and backward(), against closed forms, NumPy loops, finite differences and
JAX's lax as an oracle."""
import numpy as np
import pytest

import nabla_like as nb

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", False)


def close(a, b, rtol=1e-5, atol=1e-5):
    a = a.numpy() if isinstance(a, nb.Tensor) else np.asarray(a)
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def fd_grad(f, x, eps=1e-3):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# ---------------------------------------------------------------------------
# cond / switch
# ---------------------------------------------------------------------------
def piecewise(x):
    return nb.cond(nb.sum(x) > 0, lambda x: x * x * 3.0, lambda x: nb.sin(x), x)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_value_and_gradient_on_both_sides(sign):
    x0 = sign * np.array([0.5, 1.5], np.float32)
    x = nb.tensor(x0)
    take = x0.sum() > 0
    close(piecewise(x), 3 * x0 ** 2 if take else np.sin(x0))
    close(nb.jit(piecewise)(x), 3 * x0 ** 2 if take else np.sin(x0))
    g = nb.grad(lambda x: nb.sum(piecewise(x)))(x)
    close(g, 6 * x0 if take else np.cos(x0))
    close(nb.jit(nb.grad(lambda x: nb.sum(piecewise(x))))(x), 6 * x0 if take else np.cos(x0))
    _, t = nb.jvp(piecewise, (x,), (nb.ones((2,)),))
    close(t, 6 * x0 if take else np.cos(x0))


def test_cond_with_captured_values_and_pytrees():
    w = nb.tensor([2.0, 3.0])

    def f(x):
        out = nb.cond(x[0] > 0, lambda p: {"a": p["a"] * w, "b": p["b"]},
                      lambda p: {"a": p["a"] - w, "b": p["b"] * 2.0}, {"a": x, "b": x[1]})
        return nb.sum(out["a"]) + out["b"]
    x = nb.tensor([1.0, 4.0])
    close(f(x), 2 + 12 + 4)
    close(nb.grad(f)(x), [2.0, 3.0 + 1.0])
    close(nb.grad(f)(nb.tensor([-1.0, 4.0])), [1.0, 1.0 + 2.0])


@pytest.mark.parametrize("batched_pred", [True, False])
def test_vmap_of_cond_against_examples(batched_pred):
    xs = np.array([[1.0, 2.0], [-3.0, 1.0], [0.5, -2.0]], np.float32)
    if batched_pred:
        f = piecewise
    else:
        def f(x):
            return nb.cond(nb.tensor(True), lambda x: x * 2.0, lambda x: x, x)
    got = nb.vmap(f)(nb.tensor(xs))
    want = np.stack([f(nb.tensor(x)).numpy() for x in xs])
    close(got, want)
    g = nb.vmap(nb.grad(lambda x: nb.sum(f(x))))(nb.tensor(xs))
    close(g, np.stack([nb.grad(lambda x: nb.sum(f(x)))(nb.tensor(x)).numpy() for x in xs]))


def test_unbatched_predicate_stays_a_cond_under_vmap():
    g = nb.make_graph(nb.vmap(lambda x: nb.cond(nb.tensor(True), lambda x: x * 2.0, nb.sin, x)))(
        nb.ones((3, 2)))
    assert any(n.prim.name == "cond" for n in g.nodes)


def test_switch_clamps_and_selects():
    fs = [lambda x: x, lambda x: x * 2.0, lambda x: x ** 2]
    x = nb.tensor([3.0])
    for k, want in [(-5, 3.0), (0, 3.0), (1, 6.0), (2, 9.0), (9, 9.0)]:
        close(nb.switch(k, fs, x), [want])
    close(nb.grad(lambda x: nb.sum(nb.switch(2, fs, x)))(x), [6.0])
    close(nb.vmap(lambda k, x: nb.switch(k, fs, x))(nb.tensor([0, 1, 2]), nb.tensor([3.0, 3.0, 3.0])),
          [3.0, 6.0, 9.0])


def test_cond_errors_name_both_branches():
    x = nb.ones((2,))
    with pytest.raises(nb.TransformError) as e:
        nb.cond(True, lambda x: x, lambda x: nb.sum(x), x)
    assert "f32[2]" in str(e.value) and "f32[]" in str(e.value)
    with pytest.raises(nb.ShapeError):
        nb.cond(nb.ones((2,)) > 0, lambda x: x, lambda x: x, x)


def test_cond_in_eager_backward():
    w = nb.tensor([1.0, -2.0]).requires_grad_()
    loss = nb.sum(nb.cond(nb.sum(w) < 0, lambda w: w * w, lambda w: w, w))
    loss.backward()
    close(w.grad, [2.0, -4.0])


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------
def _rnn_data(seed=0, t=6, b=3, d=4, h=5):
    r = np.random.default_rng(seed)
    return (r.standard_normal((t, b, d)).astype(np.float32) * 0.5,
            r.standard_normal((d, h)).astype(np.float32) * 0.4,
            r.standard_normal((h, h)).astype(np.float32) * 0.4,
            np.zeros((b, h), np.float32))


def _rnn_loss(lib, xs, wx, wh, h0):
    ns = nb if lib == "nb" else jnp
    scan = nb.scan if lib == "nb" else jax.lax.scan

    def step(h, x):
        h = ns.tanh(x @ wx + h @ wh)
        return h, ns.sum(h ** 2)
    h, ys = scan(step, h0, xs)
    return ns.sum(ys) + ns.sum(h)


def test_scan_rnn_value_and_gradients_match_jax():
    xs, wx, wh, h0 = _rnn_data()
    args_nb = [nb.tensor(a) for a in (xs, wx, wh, h0)]
    args_jx = [jnp.asarray(a) for a in (xs, wx, wh, h0)]
    close(_rnn_loss("nb", *args_nb), _rnn_loss("jx", *args_jx), rtol=1e-5)
    gn = nb.grad(lambda *a: _rnn_loss("nb", *a), argnums=(0, 1, 2, 3))(*args_nb)
    gj = jax.grad(lambda *a: _rnn_loss("jx", *a), argnums=(0, 1, 2, 3))(*args_jx)
    for a, b in zip(gn, gj):
        close(a, b, rtol=2e-4, atol=1e-5)
    gjit = nb.jit(nb.grad(lambda *a: _rnn_loss("nb", *a), argnums=(1, 2)))(*args_nb)
    for a, b in zip(gjit, gj[1:3]):
        close(a, b, rtol=2e-4, atol=1e-5)


def test_scan_matches_a_python_loop_both_directions_and_unrolled():
    xs = np.linspace(-1, 1, 7).astype(np.float32)

    def step(c, x):
        c = c * 0.9 + nb.sin(x)
        return c, c * x

    for reverse in (False, True):
        c, ys_ref = 0.5, np.zeros(7)
        for i in (range(6, -1, -1) if reverse else range(7)):
            c = c * 0.9 + np.sin(xs[i])
            ys_ref[i] = c * xs[i]
        for unroll in (1, 2, 3, 7, True):
            cn, ys = nb.scan(step, nb.tensor(0.5), nb.tensor(xs), reverse=reverse, unroll=unroll)
            close(cn, c)
            close(ys, ys_ref)


def test_scan_jvp_and_grad_against_finite_differences():
    xs0 = np.array([0.3, -0.2, 0.5, 0.1], np.float32)

    def f(xs):
        def step(c, x):
            c = nb.tanh(c * 1.3 + x)
            return c, c * c
        c, ys = nb.scan(step, nb.tensor(0.2), xs)
        return nb.sum(ys) + c

    def f_np(xs):
        c, total = 0.2, 0.0
        for x in xs:
            c = np.tanh(c * 1.3 + x)
            total += c * c
        return total + c
    want = fd_grad(f_np, xs0)
    close(nb.grad(f)(nb.tensor(xs0)), want, rtol=1e-3, atol=1e-4)
    v = np.array([1.0, -1.0, 0.5, 2.0])
    _, t = nb.jvp(f, (nb.tensor(xs0),), (nb.tensor(v.astype(np.float32)),))
    close(t, want @ v, rtol=1e-3, atol=1e-4)
    h = nb.hessian(f)(nb.tensor(xs0))  # forward over reverse through the scan
    h_fd = np.stack([fd_grad(lambda x, i=i: fd_grad(f_np, x, 1e-2)[i], xs0, 1e-2) for i in range(4)])
    close(h, h_fd, rtol=5e-2, atol=5e-3)


def test_vmap_of_scan_against_examples():
    xs, wx, wh, h0 = _rnn_data()
    batch = np.stack([xs, xs * 0.5, -xs])
    f = lambda xs: _rnn_loss("nb", xs, nb.tensor(wx), nb.tensor(wh), nb.tensor(h0))  # noqa: E731
    got = nb.vmap(f)(nb.tensor(batch))
    close(got, [f(nb.tensor(b)).numpy() for b in batch], rtol=1e-5)
    g = nb.vmap(nb.grad(f))(nb.tensor(batch))
    close(g, np.stack([nb.grad(f)(nb.tensor(b)).numpy() for b in batch]), rtol=1e-4, atol=1e-5)


def test_scan_with_int_carry_nested_and_map():
    def outer(c, row):
        inner, _ = nb.scan(lambda s, v: (s + v * c[1], None), nb.tensor(0.0), row)
        return (c[0] + 1, c[1] * 2.0), inner
    (count, scale), sums = nb.scan(outer, (nb.tensor(0), nb.tensor(1.0)), nb.ones((3, 4)))
    assert count.item() == 3 and count.dtype == nb.int32
    close(scale, 8.0)
    close(sums, [4.0, 8.0, 16.0])
    close(nb.map(lambda r: nb.sum(r * r), nb.tensor([[1.0, 2.0], [3.0, 4.0]])), [5.0, 25.0])


def test_scan_errors():
    with pytest.raises(nb.TransformError) as e:
        nb.scan(lambda c, x: (nb.ones((3,)), x), nb.ones((2,)), nb.ones((4,)))
    assert "f32[3]" in str(e.value) and "f32[2]" in str(e.value)
    with pytest.raises(nb.ShapeError):
        nb.scan(lambda c, x: (c, x), 0.0, (nb.ones((3,)), nb.ones((4,))))
    with pytest.raises(nb.TransformError):
        nb.scan(lambda c, x: c, 0.0, nb.ones((3,)))


def test_scan_in_eager_backward_and_lazy_loops():
    xs, wx, wh, h0 = _rnn_data(t=4)
    w = nb.tensor(wh).requires_grad_()
    before = nb.compile_stats()
    for _ in range(3):
        loss = _rnn_loss("nb", nb.tensor(xs), nb.tensor(wx), w, nb.tensor(h0))
        loss.backward()
        g = w.grad.numpy()
        w.grad = None
    want = jax.grad(lambda wh: _rnn_loss("jx", jnp.asarray(xs), jnp.asarray(wx), wh, jnp.asarray(h0)))(
        jnp.asarray(wh))
    close(g, want, rtol=2e-4, atol=1e-5)
    assert (nb.compile_stats() - before).fused_compiles <= 2


# ---------------------------------------------------------------------------
# while_loop / fori_loop
# ---------------------------------------------------------------------------
def doubling(x):
    return nb.while_loop(lambda v: nb.sum(v) < 10.0, lambda v: v * 2.0, x)


def test_while_loop_forward_modes_and_jit():
    x = nb.tensor([1.0, 0.5])
    close(doubling(x), [8.0, 4.0])
    close(nb.jit(doubling)(x), [8.0, 4.0])
    _, t = nb.jvp(doubling, (x,), (nb.tensor([1.0, 0.0]),))
    close(t, [8.0, 0.0])


def test_while_loop_reverse_mode_needs_a_bound():
    x = nb.tensor([1.0, 0.5])
    with pytest.raises(nb.TransformError) as e:
        nb.grad(lambda x: nb.sum(doubling(x)))(x)
    assert "max_steps" in str(e.value)
    bounded = lambda x: nb.while_loop(lambda v: nb.sum(v) < 10.0, lambda v: v * 2.0, x,  # noqa: E731
                                      max_steps=20)
    close(bounded(x), [8.0, 4.0])
    close(nb.grad(lambda x: nb.sum(bounded(x)))(x), [8.0, 8.0])


def test_vmap_of_while_with_a_batched_condition():
    xs = nb.tensor([1.0, 3.0, 7.0, 20.0])
    got = nb.vmap(lambda a: nb.while_loop(lambda v: v < 10.0, lambda v: v * 2.0, a))(xs)
    close(got, [16.0, 12.0, 14.0, 20.0])
    steps = nb.vmap(lambda a: nb.while_loop(lambda s: s[0] < 10.0, lambda s: (s[0] * 2.0, s[1] + 1),
                                            (a, nb.tensor(0))))(xs)
    assert steps[1].tolist() == [4, 2, 1, 0]


def test_fori_loop_static_and_traced_bounds():
    close(nb.fori_loop(0, 5, lambda i, v: v * 0.5 + nb.cast(i, nb.float32), 1.0),
          jax.lax.fori_loop(0, 5, lambda i, v: v * 0.5 + i, 1.0))
    close(nb.grad(lambda a: nb.fori_loop(0, 3, lambda i, v: v * a, 1.0))(2.0), 12.0)
    close(nb.jit(lambda n: nb.fori_loop(0, n, lambda i, v: v * 2.0, 1.0))(5), 32.0)


def test_fori_loop_power_iteration_gradient():
    a0 = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)

    def top_eigenvalue(a):
        def step(i, v):
            w = a @ v
            return w / nb.sqrt(nb.sum(w * w))
        v = nb.fori_loop(0, 60, step, nb.tensor([1.0, 0.0]))
        return v @ a @ v
    vals, vecs = np.linalg.eigh(a0)
    close(top_eigenvalue(nb.tensor(a0)), vals[-1], rtol=1e-5)
    v = vecs[:, -1]
    close(nb.grad(top_eigenvalue)(nb.tensor(a0)), np.outer(v, v), rtol=1e-3, atol=1e-4)
