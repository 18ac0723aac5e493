"""Python control flow on values inside eager grad/vjp/jvp/linearize and backward(): the
transforms run on concrete values, as JAX does outside jit and PyTorch always does.
Closed forms are the reference."""
import numpy as np
import pytest

import nabla_like as nb


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a.numpy() if isinstance(a, nb.Tensor) else a),
                               np.asarray(b), rtol=rtol, atol=atol)


def piecewise(x):
    return x * x if x > 0 else -3.0 * x


@pytest.mark.parametrize("x, want", [(2.0, 4.0), (-1.5, -3.0)])
def test_grad_through_if(x, want):
    close(nb.grad(piecewise)(x), want)
    close(nb.grad(piecewise)(nb.tensor(x)), want)


def doubling(x):
    y = x
    while nb.sum(y) < 10.0:  # iterations depend on the values
        y = y * 2.0
    return nb.sum(y * y)


def test_value_and_grad_through_while():
    x = nb.tensor([1.0, 0.5])
    value, g = nb.value_and_grad(doubling)(x)
    # 1.5 -> 3 -> 6 -> 12: three doublings, y = 8x, f = 64 * sum(x^2), f' = 128 x
    close(value, 64 * (1.0 + 0.25))
    close(g, [128.0, 64.0])
    assert not value.requires_grad and not g.requires_grad


def test_item_and_int_inside_grad():
    def f(x):
        n = int(nb.round(x).item())  # the exponent is read off the value
        return x ** n
    close(nb.grad(f)(nb.tensor(3.0)), 27.0)      # d/dx x^3 = 3 x^2
    close(nb.grad(f)(nb.tensor(2.2)), 2 * 2.2)   # d/dx x^2


def test_vjp_through_control_flow_pulls_back_twice():
    def f(x):
        return nb.sin(x) if nb.sum(x) > 0 else nb.cos(x)
    x = nb.tensor([0.3, 0.4])
    y, pullback = nb.vjp(f, x)
    close(y, np.sin([0.3, 0.4]))
    (g1,) = pullback(nb.ones((2,)))
    (g2,) = pullback(nb.tensor([2.0, -1.0]))
    close(g1, np.cos([0.3, 0.4]))
    close(g2, np.cos([0.3, 0.4]) * [2.0, -1.0])


def test_jvp_through_control_flow():
    def f(x):
        return nb.sin(x) if nb.sum(x) > 0 else nb.cos(x)
    x = nb.tensor([-0.3, -0.4])
    y, t = nb.jvp(f, (x,), (nb.tensor([1.0, 2.0]),))
    close(y, np.cos([-0.3, -0.4]))
    close(t, -np.sin([-0.3, -0.4]) * [1.0, 2.0])


def test_linearize_through_control_flow():
    def f(x):
        return x ** 3 if x > 1.0 else x
    y, f_jvp = nb.linearize(f, nb.tensor(2.0))
    close(y, 8.0)
    close(f_jvp(nb.tensor(1.0)), 12.0)
    close(f_jvp(nb.tensor(0.5)), 6.0)


def test_second_derivative_through_control_flow():
    def f(x):
        return x ** 3 if x > 0 else -x
    close(nb.grad(nb.grad(f))(2.0), 12.0)   # 6x
    close(nb.grad(nb.grad(f))(-2.0), 0.0)


def test_has_aux_and_several_arguments():
    def f(x, y):
        z = x * y if nb.sum(x) > nb.sum(y) else x + y
        return nb.sum(z), z
    (gx, gy), aux = nb.grad(f, argnums=(0, 1), has_aux=True)(nb.tensor([3.0]), nb.tensor([2.0]))
    close(gx, [2.0])
    close(gy, [3.0])
    close(aux, [6.0])


def test_a_function_that_reads_values_is_traced_once_then_run_concretely():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0 if x > 0 else x
    g = nb.grad(f)
    close(g(1.0), 2.0)
    first = len(calls)
    close(g(3.0), 2.0)
    assert first == 2 and len(calls) == 3  # a failed trace, a run; then runs only


def test_parameters_that_require_grad_keep_their_grad():
    w = nb.tensor([2.0]).requires_grad_()

    def f(x):
        return nb.sum(x * w) if x > 0 else nb.sum(x)
    close(nb.grad(f)(nb.tensor(3.0)), 2.0)
    assert w.grad is None


def test_integer_argument_still_raises():
    with pytest.raises(nb.GradError):
        nb.grad(lambda n: n * 2 if n > 0 else n)(nb.tensor(3))


def test_backward_through_control_flow():
    w = nb.tensor([1.0, -2.0]).requires_grad_()
    for expected in ([2.0, -4.0], [2.0, -4.0]):
        loss = nb.sum(w * w)
        if loss.item() > 100:  # read before backward, in the loop
            loss = loss * 0.0
        loss.backward()
        close(w.grad, expected)
        w.grad = None
    y = w * 3.0
    total = nb.sum(y) if y[0].item() > 0 else nb.sum(-y)
    total.backward()
    close(w.grad, [3.0, 3.0])


def test_jit_and_vmap_keep_the_concretization_error():
    with pytest.raises(nb.ConcretizationError):
        nb.jit(nb.grad(piecewise))(nb.tensor(1.0))
    with pytest.raises(nb.ConcretizationError):
        nb.vmap(nb.grad(piecewise))(nb.ones((3,)))
    with pytest.raises(nb.ConcretizationError):
        nb.grad(lambda x: nb.jit(piecewise)(x))(nb.tensor(1.0))
