"""Regression tests of the argument checks: the cases users met, the public namespace, and the
keyword spellings ported code uses (checked against NumPy and PyTorch)."""
import numpy as np
import pytest
import torch

import nabla_like as nb

HERE = __file__.rsplit("/", 1)[-1]


def raises(cls, fn, *fragments):
    with pytest.raises(cls) as e:
        fn()
    msg = str(e.value)
    assert isinstance(e.value, nb.NablaError)
    assert f"{HERE}:" in msg, msg  # the user's line
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return e.value


X = nb.ones((2, 3))


@pytest.mark.parametrize("call, cls, fragments", [
    (lambda: nb.sum(X, axis=1.5), TypeError, ("sum", "axis", "1.5")),
    (lambda: nb.argmax(X, axis=1.5), TypeError, ("argmax", "axis", "1.5")),
    (lambda: nb.mean(X, axis="0"), TypeError, ("mean", "axis", "'0'")),
    (lambda: nb.sum(X, keepdims="yes"), TypeError, ("sum", "keepdims", "'yes'")),
    (lambda: nb.reshape(X, (None,)), TypeError, ("reshape", "shape", "None")),
    (lambda: nb.reshape(X, (2.0, 3)), TypeError, ("reshape", "2.0")),
    (lambda: nb.reshape(X, "23"), TypeError, ("reshape", "'23'")),
    (lambda: nb.gelu(X, approximate="no"), ValueError, ("gelu", "approximate", "'no'")),
    (lambda: nb.pad(X, 1 << 40), ValueError, ("pad", "too large")),
    (lambda: nb.broadcast_to(X, (1 << 40, 1 << 30, 3)), ValueError, ("broadcast_to", "too large")),
    (lambda: nb.pad(X, 1, mode="mean"), ValueError, ("pad", "mode", "'mean'")),
    (lambda: nb.conv2d(nb.ones((1, 1, 5, 5)), nb.ones((1, 1, 3, 3)), stride=1.5), TypeError,
     ("conv2d", "stride", "1.5")),
    (lambda: nb.scan(3, X, X), TypeError, ("scan", "callable", "3")),
    (lambda: nb.fori_loop(0, 2.5, lambda i, c: c, X), TypeError, ("fori_loop", "upper", "2.5")),
    (lambda: nb.fori_loop(0, nb.tensor(2.5), lambda i, c: c, X), TypeError,
     ("fori_loop", "upper", "integer scalar")),
    (lambda: nb.var(X, ddof="1"), TypeError, ("var", "ddof")),
    (lambda: nb.linalg.svd(nb.eye(2), full_matrices="no"), TypeError, ("svd", "full_matrices")),
    (lambda: nb.nn.functional.dropout(nb.random.key(0), X, rate="half"), TypeError,
     ("dropout", "rate")),
    (lambda: nb.integer_pow(X, 2.5), TypeError, ("integer_pow", "n", "2.5")),
    (lambda: nb.cumsum(X, axis=(0, 1)), IndexError, ("cumsum", "single axis")),
    (lambda: nb.split(nb.ones(6), 3, num_splits=3), TypeError, ("split", "exactly one")),
])
def test_bad_arguments(call, cls, fragments):
    raises(cls, call, *fragments)


def test_bad_call_records_nothing():
    from nabla_like import lazy
    before = lazy.pending_count()
    with pytest.raises(nb.NablaError):
        nb.pad(X * 2.0, 1, mode="mean")
    assert lazy.pending_count() <= before + 1  # the product, but no pad


def test_reading_an_unfilled_grad_warns_and_none_operands_explain():
    import subprocess
    import sys
    code = ("import warnings, nabla_like as nb\n"
            "w = nb.tensor([1.0, 2.0], requires_grad=True)\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    assert w.grad is None\n"
            "    nb.sum(w * w).backward()\n"
            "    assert w.grad is not None and nb.ones(2, requires_grad=True).grad is None\n"
            "assert [type(c.message).__name__ for c in caught] == ['GradNotFilledWarning'], caught\n"
            "assert 'backward() has not filled it' in str(caught[0].message)\n"
            "assert caught[0].filename == '<string>' and caught[0].lineno == 5\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    raises(TypeError, lambda: X - nb.mul(0.1, None), "None", ".grad", "backward()")


def test_gelu_accepts_pytorch_spellings():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    for approximate in ("none", "tanh"):
        want = torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).numpy()
        got = nb.gelu(nb.tensor(x), approximate=approximate).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nb.gelu(nb.tensor(x), approximate=True).numpy(),
                               nb.gelu(nb.tensor(x), approximate="tanh").numpy())


def test_keyword_spellings_of_ported_code():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = nb.tensor(a)
    np.testing.assert_array_equal(nb.unsqueeze(x, axis=1).numpy(), np.expand_dims(a, 1))
    np.testing.assert_array_equal(nb.permute(x, order=(2, 0, 1)).numpy(), a.transpose(2, 0, 1))
    for got, want in zip(nb.split(x, num_splits=2, axis=2), np.split(a, 2, axis=2)):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(
        nb.pad(x, paddings=[(0, 0), (1, 0), (0, 2)], value=-1.0).numpy(),
        np.pad(a, [(0, 0), (1, 0), (0, 2)], constant_values=-1.0))
    raises(TypeError, lambda: nb.unsqueeze(x), "unsqueeze", "exactly one")
    raises(TypeError, lambda: nb.permute(x, 0, 1, 2, order=(0, 1, 2)), "permute")


def test_ranges_and_arrays_are_sequences_of_ints():
    assert nb.broadcast_in_dim(nb.ones(3), (2, 3), range(1, 2)).shape == (2, 3)
    assert nb.tile(nb.ones(2), np.array([2, 1])).shape == (2, 2)
    raises(TypeError, lambda: nb.tile(nb.ones(2), [1.5]), "tile")


def test_public_namespace_is_all():
    internal = ("reduction_primitive", "expand_reduced", "eval_graph", "trace_flat",
                "Primitive", "bind", "Aval")
    for name in internal:
        assert name not in nb.__all__ and not hasattr(nb, name), name
    for mod in (nb.random, nb.linalg):
        public = {n for n in dir(mod) if not n.startswith("_")}
        assert public == set(mod.__all__), (mod.__name__, public ^ set(mod.__all__))
    assert all(hasattr(nb, n) for n in nb.__all__)
    namespace = {}
    exec("from nabla_like import *", namespace)
    assert {n for n in namespace if not n.startswith("__")} == set(nb.__all__)


def test_custom_rule_arguments():
    raises(TypeError, lambda: nb.custom_vjp(3), "custom_vjp", "callable")
    raises(TypeError, lambda: nb.custom_jvp(lambda x: x, nondiff_argnums=(1.5,)),
           "custom_jvp", "nondiff_argnums")
    raises(TypeError, lambda: nb.custom_vjp(lambda x: x).defvjp(3, 4), "defvjp", "fwd")
    raises(TypeError, lambda: nb.custom_jvp(lambda x: x).defjvp("rule"), "defjvp", "jvp")


def test_float_floor_divide_by_zero_and_numpy_scalars_follow_numpy():
    a = np.array([1.0, -1.0, 0.0, 5.0], np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal((nb.tensor(a) // 0.0).numpy(), a // np.float32(0.0))
    x = nb.ones(2, dtype=nb.int8)
    assert (x + np.int64(5)).dtype is nb.int64  # NumPy scalars are strong (NEP 50)
    assert (x + 5).dtype is nb.int8  # Python scalars are weak
    raises(OverflowError, lambda: x + 300, "add", "300", "int8")
