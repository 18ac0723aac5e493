"""The examples of the seed documents (shared/seeds), reproduced with their documented results.

Rune (000), Nabla's API reference (001) and worked example (002), the compiled array
language (003) and TenfloweRS autograd (004)."""
import numpy as np

import nabla_like as nb


def close(a, b, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


def from_np(a):
    return nb.Tensor.from_dlpack(np.asarray(a, dtype=np.float32))


# ---------------------------------------------------------------------------
# 000: Rune
# ---------------------------------------------------------------------------
def test_rune_grad():
    x = nb.tensor([1.0, 2.0, 3.0])
    close(nb.grad(lambda x: nb.sum(x * x))(x), [2, 4, 6])


def test_rune_grads_two_inputs():
    gs = nb.grad(lambda x, y: nb.sum(x * x + y * y), argnums=(0, 1))(nb.tensor(3.0), nb.tensor(4.0))
    assert [round(g.item(), 1) for g in gs] == [6.0, 8.0]


def test_rune_value_and_grad_aux():
    def f(x):
        pred = x * 2.0
        loss = nb.sum(pred * pred)
        return loss, pred
    (loss, pred), gradient = nb.value_and_grad(f, has_aux=True)(nb.tensor([1.0, 2.0]))
    close(loss, 20.0)
    close(pred, [2, 4])
    close(gradient, [8, 16])


def test_rune_vjp_and_jvp():
    x, v = nb.tensor([1.0, 2.0, 3.0]), nb.ones((3,))
    y, pullback = nb.vjp(lambda x: x * x, x)
    close(y, [1, 4, 9])
    close(pullback(v)[0], [2, 4, 6])
    y, tangent = nb.jvp(lambda x: x * x, (x,), (v,))
    close(y, [1, 4, 9])
    close(tangent, [2, 4, 6])


def test_rune_no_grad_and_detach():
    x = nb.tensor([1.0, 2.0])

    def f(x):
        with nb.no_grad():
            baseline = nb.mean(x)
        target = nb.detach(x * 3)
        return nb.sum((x - baseline) * target)
    # baseline and target are constants: d/dx sum((x - c) * t) = t = 3x
    close(nb.grad(f)(x), [3, 6])


def test_rune_vmap_and_axes():
    f = lambda x: nb.sum(x * x)  # noqa: E731
    batch = nb.tensor(np.random.default_rng(0).random((10, 5)).astype(np.float32))
    assert nb.vmap(f)(batch).shape == (10,)
    assert nb.vmap(f, in_axes=1)(batch).shape == (5,)
    shared = nb.vmap(lambda x, y: nb.sum(x * y), in_axes=(0, None))(batch, nb.ones((5,)))
    close(shared, batch.numpy().sum(1))


def test_rune_per_example_grad():
    loss_fn = lambda x: nb.sum(nb.sin(x))  # noqa: E731
    xs = nb.tensor(np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3))
    close(nb.vmap(nb.grad(loss_fn))(xs), np.cos(xs.numpy()))


def test_rune_finite_diff_and_check_gradient():
    f = lambda x: nb.sum(x * x)  # noqa: E731
    x = nb.tensor([1.0, 2.0, 3.0])
    close(nb.finite_diff(f, x), [2, 4, 6], rtol=1e-2, atol=1e-2)
    close(nb.grad(f)(x), [2, 4, 6])
    for method in ("forward", "backward"):
        close(nb.finite_diff(f, nb.tensor(np.array([1.0, 2.0, 3.0])), method=method, eps=1e-6),
              [2, 4, 6], rtol=1e-4, atol=1e-4)
    result = nb.check_gradient(lambda x: nb.sum(nb.sin(x) * x), nb.tensor(np.array([0.3, 1.2])))
    assert result.passed and result.num_failed == 0 and result.num_checked > 0
    assert result.max_abs_error < 1e-6


def test_rune_debug_prints_each_operation(capsys):
    nb.debug(lambda x: nb.add(nb.mul(x, x), nb.sin(x)))(nb.tensor(2.0))
    out = capsys.readouterr().out
    assert "mul" in out and "sin" in out and "add" in out and "4." in out


# ---------------------------------------------------------------------------
# 001 / 002: Nabla
# ---------------------------------------------------------------------------
def test_nabla_reference_examples():
    assert nb.grad(lambda x: x ** 2)(nb.tensor(3.0)).item() == 6.0

    @nb.value_and_grad
    def my_loss(x):
        return x ** 2
    value, grads = my_loss(nb.tensor(3.0))
    assert (value.item(), grads.item()) == (9.0, 6.0)
    y, vjp_fn = nb.vjp(lambda x: x ** 2, nb.tensor(3.0))
    (grad_x,) = vjp_fn(nb.tensor(1.0))
    assert grad_x.item() == 6.0
    output, vjp_fn = nb.vjp(lambda x, y: x * y + x ** 2, nb.tensor(3.0), nb.tensor(4.0))
    grad_x, grad_y = vjp_fn(nb.tensor(1.0))
    assert (grad_x.item(), grad_y.item()) == (10.0, 3.0)
    y, y_dot = nb.jvp(lambda x: x ** 2, (nb.tensor(3.0),), (nb.tensor(1.0),))
    assert y_dot.item() == 6.0
    output, tangent_out = nb.jvp(lambda x, y: x * y + x ** 2, (nb.tensor(3.0), nb.tensor(4.0)),
                                 (nb.tensor(1.0), nb.tensor(0.0)))
    assert tangent_out.item() == 10.0


def test_nabla_jacobian_examples():
    x = nb.tensor([1.0, 2.0, 3.0])
    close(nb.jacfwd(lambda x: x ** 2)(x), np.diag([2, 4, 6]))
    close(nb.jacrev(lambda x: x ** 2)(x), np.diag([2, 4, 6]))
    f = lambda x: nb.stack([x[0] ** 2, x[0] * x[1], x[1] ** 2])  # noqa: E731
    expected = [[6, 0], [4, 3], [0, 8]]
    close(nb.jacfwd(f)(nb.tensor([3.0, 4.0])), expected)
    close(nb.jacrev(f)(nb.tensor([3.0, 4.0])), expected)
    g = lambda x, y: x * y + x ** 2  # noqa: E731
    x, y = nb.tensor([1.0, 2.0]), nb.tensor([3.0, 4.0])
    close(nb.jacfwd(g, argnums=0)(x, y), np.diag([5, 8]))
    jx, jy = nb.jacrev(g, argnums=(0, 1))(x, y)
    close(jx, np.diag([5, 8]))
    close(jy, np.diag([1, 2]))


def test_nabla_worked_example_grad_and_value_and_grad():
    f = lambda x: x ** 3 + 2.0 * x ** 2 - 5.0 * x + 3.0  # noqa: E731
    g = nb.grad(f)(from_np([2.0]))  # a one-element output is accepted, as in Nabla
    assert repr(g) == "Tensor([15.] : f32[1])"
    value, gradient = nb.value_and_grad(lambda x: nb.reduce_sum(x * x))(from_np([1.0, 2.0, 3.0]))
    assert repr(value) == "Tensor(14. : f32[])"
    assert repr(gradient) == "Tensor([2. 4. 6.] : f32[3])"
    w, x = from_np([1.0, 2.0]), from_np([3.0, 4.0])
    weighted_sum = lambda w, x: nb.reduce_sum(w * x)  # noqa: E731
    assert repr(nb.grad(weighted_sum, argnums=0)(w, x)) == "Tensor([3. 4.] : f32[2])"
    assert repr(nb.grad(weighted_sum, argnums=1)(w, x)) == "Tensor([1. 2.] : f32[2])"
    gw, gx = nb.grad(weighted_sum, argnums=(0, 1))(w, x)
    assert (repr(gw), repr(gx)) == ("Tensor([3. 4.] : f32[2])", "Tensor([1. 2.] : f32[2])")


def test_nabla_worked_example_jvp_vjp():
    def g(x):
        r0 = nb.reshape(x[0] ** 2 + x[1], (1,))
        r1 = nb.reshape(x[0] * x[1], (1,))
        return nb.concatenate([r0, r1], axis=0)
    x = from_np([3.0, 2.0])
    output, jvp_val = nb.jvp(g, (x,), (from_np([1.0, 0.0]),))
    assert repr(output) == "Tensor([11.  6.] : f32[2])"
    assert repr(jvp_val) == "Tensor([6. 2.] : f32[2])"
    _, jvp_val2 = nb.jvp(g, (x,), (from_np([0.0, 1.0]),))
    assert repr(jvp_val2) == "Tensor([1. 3.] : f32[2])"

    def mat_fn(x):
        a = from_np([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]])
        return a @ x
    output, vjp_fn = nb.vjp(mat_fn, from_np([1.0, 2.0, 3.0]))
    assert repr(output) == "Tensor([7. 9.] : f32[2])"
    assert repr(vjp_fn(from_np([1.0, 0.0]))[0]) == "Tensor([1. 0. 2.] : f32[3])"
    assert repr(vjp_fn(from_np([0.0, 1.0]))[0]) == "Tensor([0. 3. 1.] : f32[3])"


def test_nabla_worked_example_jacobians_and_hessians():
    def h(x):
        a = from_np([[2.0, -1.0], [1.0, 3.0]])
        return a @ x + nb.sin(x)
    x = from_np([1.0, 0.5])
    expected = "Tensor(\n[[ 2.5403 -1.    ]\n [ 1.      3.8776]] : f32[2,2]\n)"
    assert repr(nb.jacrev(h)(x)) == expected
    assert repr(nb.jacfwd(h)(x)) == expected

    def scalar_fn(x):
        return x[0] ** 2 * x[1] + x[1] ** 3
    x = from_np([2.0, 3.0])
    assert repr(x) == "Tensor([2. 3.] : f32[2])"
    assert repr(scalar_fn(x)) == "Tensor(39. : f32[])"
    hess = "Tensor(\n[[ 6.  4.]\n [ 4. 18.]] : f32[2,2]\n)"
    for method in (nb.jacfwd(nb.grad(scalar_fn)), nb.jacrev(nb.grad(scalar_fn)),
                   nb.jacrev(nb.jacfwd(scalar_fn)), nb.jacfwd(nb.jacrev(scalar_fn))):
        assert repr(method(x)) == hess


def test_nabla_worked_example_regression_and_descent():
    def linear_regression_loss(w, b, X, y):
        predictions = X @ w + b
        residuals = predictions - y
        return nb.mean(residuals * residuals)
    np.random.seed(42)
    n_samples, n_features = 50, 3
    X = from_np(np.random.randn(n_samples, n_features))
    w_true = from_np([[2.0], [-1.0], [0.5]])
    y = X @ w_true + 0.1 * nb.gaussian((n_samples, 1))
    w, b = nb.zeros((n_features, 1)), nb.zeros((1,))
    dw, db = nb.grad(linear_regression_loss, argnums=(0, 1))(w, b, X, y)
    assert dw.shape == (3, 1) and db.shape == (1,)
    # the gradient at zero is -2/n X^T y (and -2 mean(y)): check against NumPy
    close(dw, -2 / n_samples * X.numpy().T @ y.numpy(), rtol=1e-4)
    close(db, [-2 * y.numpy().mean()], rtol=1e-4, atol=1e-5)
    vg_fn = nb.value_and_grad(linear_regression_loss, argnums=(0, 1))
    losses = []
    for _ in range(10):
        loss, (dw, db) = vg_fn(w, b, X, y)
        w = w - 0.1 * dw
        b = b - 0.1 * db
        losses.append(loss.item())
    assert all(a > b for a, b in zip(losses, losses[1:]))  # descends every step
    assert losses[-1] < 0.5 * losses[0]


# ---------------------------------------------------------------------------
# 003: the compiled array language
# ---------------------------------------------------------------------------
def test_compiled_language_grad_wrt_and_higher_order():
    def loss_fn(w, b):
        return nb.sum((w * 3.0 + b - 1.0) ** 2)
    w, b = nb.tensor([1.0, 2.0]), nb.tensor([0.5, 0.5])
    dw, db = nb.grad(loss_fn, wrt=("w", "b"))(w, b)
    r = w.numpy() * 3 + b.numpy() - 1
    close(dw, 6 * r)
    close(db, 2 * r)
    # grad(grad(f)) is the second derivative
    close(nb.grad(nb.grad(lambda x: x ** 3))(nb.tensor(2.0)), 12.0)


def test_compiled_language_vmap_axis_and_per_example():
    process = lambda x: nb.relu(x)  # noqa: E731
    xs = nb.tensor(np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32))
    close(nb.vmap(process, in_axes=0)(xs), [[0, 2], [3, 0]])
    # reductions inside still reduce over their own axis; the batch dim passes through
    close(nb.vmap(lambda x: nb.sum(x, axis=0))(xs), [1, -1])
    # grad of a vmapped function: reduce to a scalar first
    close(nb.grad(lambda xs: nb.sum(nb.vmap(process)(xs)))(xs), [[0, 1], [1, 0]])


# ---------------------------------------------------------------------------
# 004: TenfloweRS autograd
# ---------------------------------------------------------------------------
def test_tenflowers_tape_gradient():
    x, w = nb.tensor([2.0, 3.0]), nb.tensor([1.0, 0.5])
    gx, gw = nb.grad(lambda x, w: nb.sum(x * w), argnums=(0, 1))(x, w)
    close(gx, [1.0, 0.5])
    close(gw, [2.0, 3.0])


def test_tenflowers_forward_mode_and_higher_order():
    y, dy = nb.jvp(lambda x: nb.sin(x) * x, (nb.tensor(2.0),), (nb.tensor(1.0),))
    close(y, np.sin(2) * 2)
    close(dy, np.cos(2) * 2 + np.sin(2))
    f = lambda x: x ** 3  # noqa: E731
    close(nb.grad(f)(nb.tensor(2.0)), 12.0)
    close(nb.grad(nb.grad(f))(nb.tensor(2.0)), 12.0)  # 6x at 2


def test_tenflowers_hessian_vector_product():
    f = lambda x: nb.sum(x ** 3)  # noqa: E731
    close(nb.hvp(f, nb.tensor([1.0, 2.0]), nb.tensor([1.0, 1.0])), [6, 12])


def test_tenflowers_jacobian_check():
    res = nb.check_gradient(lambda x: nb.tanh(x) * x ** 2, nb.tensor(np.array([0.1, -0.4, 0.9])),
                            order=2)
    assert res.passed, res
