"""Golden StableHLO text for a few lowerings, and exact constants through XLA."""
# ruff: noqa: E501  (golden StableHLO lines are long)
import textwrap

import ml_dtypes
import numpy as np
import pytest

import nabla_like.lowering as lowering
import nabla_like as nb


def lower(f, *args):
    return lowering.lower_graph(nb.make_graph(f)(*args))


GOLDEN_ADD_SIN = textwrap.dedent("""\
    module @main {
      func.func public @main(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>) {
        %v0 = "stablehlo.add"(%arg0, %arg1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %v1 = "stablehlo.sine"(%v0) : (tensor<3xf32>) -> tensor<3xf32>
        "func.return"(%v1) : (tensor<3xf32>) -> ()
      }
    }
    """)

GOLDEN_SUM_BROADCAST = textwrap.dedent("""\
    module @main {
      func.func public @main(%arg0: tensor<2x3xf32>, %arg1: tensor<3xf32>) -> (tensor<2xf32>) {
        %v0 = "stablehlo.broadcast_in_dim"(%arg1) {broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<2x3xf32>
        %v1 = "stablehlo.multiply"(%arg0, %v0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
        %v2 = "stablehlo.constant"() {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
        %v6 = "stablehlo.reduce"(%v1, %v2) ({
          ^bb0(%r3: tensor<f32>, %r4: tensor<f32>):
            %v5 = "stablehlo.add"(%r3, %r4) : (tensor<f32>, tensor<f32>) -> tensor<f32>
            "stablehlo.return"(%v5) : (tensor<f32>) -> ()
        }) {dimensions = array<i64: 1>} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2xf32>
        "func.return"(%v6) : (tensor<2xf32>) -> ()
      }
    }
    """)

GOLDEN_GRAD_SIN = textwrap.dedent("""\
    module @main {
      func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3xf32>) {
        %v0 = "stablehlo.cosine"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
        "func.return"(%v0) : (tensor<3xf32>) -> ()
      }
    }
    """)


def test_golden_add_sin():
    assert lower(lambda x, y: nb.sin(x + y), nb.ones((3,)), nb.ones((3,))) == GOLDEN_ADD_SIN


def test_golden_broadcast_multiply_sum():
    assert lower(lambda x, y: nb.sum(x * y, axis=1), nb.ones((2, 3)), nb.ones((3,))) == \
        GOLDEN_SUM_BROADCAST


def test_golden_gradient_folds_the_seed_cotangent():
    # d/dx sum(sin x) = cos x: the ones cotangent is a splat that multiplies away
    assert lower(nb.grad(lambda x: nb.sum(nb.sin(x))), nb.ones((3,))) == GOLDEN_GRAD_SIN


@pytest.mark.parametrize("dtype,values", [
    (np.float32, [np.inf, -np.inf, -0.0, 0.1, 3.4e38, 1e-45]),
    (np.float64, [np.pi, -1e-300, 1e300, np.inf]),
    (np.float16, [65504.0, 6e-8, -0.0, 0.1]),
    (ml_dtypes.bfloat16, [3.0e38, 0.1, -2.5]),
    (np.int64, [2**62, -2**63, 7]),
    (np.uint32, [2**32 - 1, 0]),
    (np.int8, [-128, 127]),
    (np.bool_, [True, False]),
])
def test_constants_are_exact(dtype, values):
    for v in values:
        want = np.asarray(v, dtype=dtype)
        got = nb.make_graph(lambda: nb.full((2,), v, dtype=nb.dtypes.as_dtype(np.dtype(dtype))))()
        out = nb.transforms.eval_graph(got, [])[0].numpy()
        np.testing.assert_array_equal(out, np.full((2,), want))


def test_nan_constant():
    g = nb.make_graph(lambda: nb.full((1,), float("nan")))()
    assert np.isnan(nb.transforms.eval_graph(g, [])[0].numpy()).all()
