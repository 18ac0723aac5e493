"""finite_diff, check_gradient and debug: they find wrong derivatives, not only right ones."""
import numpy as np
import pytest

import nabla_like as nb


def t64(x):
    return nb.tensor(np.asarray(x, np.float64))


@pytest.mark.parametrize("method", ["central", "forward", "backward"])
def test_finite_diff_gradient_and_jacobian(method):
    x = t64([0.3, -0.7, 1.1])
    g = nb.finite_diff(lambda x: nb.sum(nb.sin(x) * x), x, method=method, eps=1e-6)
    np.testing.assert_allclose(g.numpy(), np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy()),
                               rtol=1e-4, atol=1e-5)
    j = nb.finite_diff(lambda x: x[:2] * x[1:], x, method=method, eps=1e-6)
    assert j.shape == (2, 3)
    xn = x.numpy()
    expected = np.array([[xn[1], xn[0], 0], [0, xn[2], xn[1]]])
    np.testing.assert_allclose(j.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_finite_diff_rejects_unknown_method():
    with pytest.raises(nb.TransformError, match="method"):
        nb.finite_diff(nb.sin, t64([1.0]), method="sideways")


def test_check_gradient_passes_on_correct_derivatives():
    res = nb.check_gradient(lambda x, y: nb.sum(nb.tanh(x) * nb.exp(y)), t64([0.1, 0.5]),
                            t64([0.2, -0.4]), order=2)
    assert res.passed and bool(res) and res.num_failed == 0
    assert res.num_checked > 4
    assert res.max_abs_error < 1e-6


def test_check_gradient_catches_a_wrong_derivative():
    # stop_gradient hides half of d/dx (x * x): autodiff says x, finite differences 2x
    res = nb.check_gradient(lambda x: nb.sum(x * nb.stop_gradient(x)), t64([1.0, 2.0]),
                            modes=("fwd",))
    assert not res.passed and res.num_failed == 2 and res.max_abs_error > 0.9
    assert "forward mode vs finite differences" in res.failures[0]


def test_check_gradient_verbose_and_gradients(capsys):
    res = nb.check_gradients(lambda a, b: nb.sum(a * b), [t64([1.0, 2.0]), t64([3.0, 4.0])],
                             verbose=True)
    assert res.passed
    assert "passed" in capsys.readouterr().out


def test_debug_prints_values_and_returns_result(capsys):
    out = nb.debug(lambda x: nb.sum(nb.exp(x) * 2.0))(nb.tensor([0.0, 1.0]))
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("exp:") and "[0. 1.]" in line for line in printed)
    assert any(line.startswith("reduce_sum") for line in printed)
    np.testing.assert_allclose(out.numpy(), 2 * (1 + np.e), rtol=1e-6)


def test_debug_shows_primitives_of_transformed_functions(capsys):
    nb.debug(nb.grad(lambda x: nb.sum(nb.sin(x))))(nb.tensor([0.0]))
    printed = capsys.readouterr().out
    assert printed.startswith("cos:")
