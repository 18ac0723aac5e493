"""Convolutions and pooling beyond the op table: values and gradients against PyTorch's
torch.nn.functional and JAX's lax, under jit, vmap, grad and backward(); argument errors;
the StableHLO ops the family lowers to."""
import numpy as np
import pytest

import nabla_like as nb
from nabla_like.ops import conv as conv_ops

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

rng = np.random.default_rng(0)


def _torch_case(fn, torch_fn, *shapes):
    """Output and gradients (of <out, ct>) of `fn` and `torch_fn` on random float64 inputs."""
    arrays = [rng.standard_normal(s) for s in shapes]
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    want = torch_fn(*leaves)
    ct = rng.standard_normal(tuple(want.shape))
    want.backward(torch.tensor(ct))
    got = fn(*[nb.tensor(a) for a in arrays])
    grads = nb.grad(lambda *xs: nb.sum(fn(*xs) * nb.tensor(ct)),
                    argnums=tuple(range(len(arrays))))(*[nb.tensor(a) for a in arrays])
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-10)
    for g, leaf in zip(grads, leaves):
        np.testing.assert_allclose(g.numpy(), leaf.grad.numpy(), rtol=1e-10, atol=1e-10)


TORCH_CASES = {
    "conv1d": (lambda x, w, b: nb.conv1d(x, w, b, stride=2, padding=2, dilation=2),
               lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2),
               (2, 3, 9), (4, 3, 3), (4,)),
    "conv2d_groups": (lambda x, w: nb.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                             groups=2),
                      lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                            groups=2), (2, 4, 6, 7), (6, 2, 3, 3)),
    "conv2d_depthwise": (lambda x, w: nb.conv2d(x, w, padding=1, groups=3),
                         lambda x, w: F.conv2d(x, w, padding=1, groups=3), (1, 3, 5, 5), (6, 1, 3, 3)),
    "conv2d_same": (lambda x, w: nb.conv2d(x, w, padding="same", dilation=2),
                    lambda x, w: F.conv2d(x, w, padding="same", dilation=2), (1, 2, 6, 7), (3, 2, 3, 2)),
    "conv2d_valid_unbatched": (lambda x, w: nb.conv2d(x, w, padding="valid"),
                               lambda x, w: F.conv2d(x, w, padding="valid"), (2, 5, 5), (3, 2, 2, 3)),
    "conv2d_pad_past_kernel": (lambda x, w: nb.conv2d(x, w, padding=2, stride=2),
                               lambda x, w: F.conv2d(x, w, padding=2, stride=2), (1, 2, 5, 5), (3, 2, 1, 1)),
    "conv3d": (lambda x, w: nb.conv3d(x, w, stride=2, padding=1, groups=2),
               lambda x, w: F.conv3d(x, w, stride=2, padding=1, groups=2), (1, 4, 4, 3, 4), (2, 2, 2, 3, 2)),
    "conv2d_transpose": (
        lambda x, w, b: nb.conv2d_transpose(x, w, b, stride=2, padding=1, output_padding=1, groups=2,
                                            dilation=(1, 2)),
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,
                                           dilation=(1, 2)), (2, 4, 3, 3), (4, 3, 3, 3), (6,)),
    "conv2d_transpose_big_padding": (lambda x, w: nb.conv2d_transpose(x, w, stride=(2, 3), padding=2),
                                     lambda x, w: F.conv_transpose2d(x, w, stride=(2, 3), padding=2),
                                     (1, 2, 4, 4), (2, 3, 2, 3)),
    "max_pool2d": (lambda x: nb.max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1), (2, 3, 7, 6)),
    # windows that tile the input (stride == kernel): the reshaped, compare-in-order gradient
    "max_pool2d_tiled_floor": (lambda x: nb.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), (2, 3, 7, 6)),
    "max_pool2d_tiled_padded": (lambda x: nb.max_pool2d(x, (3, 2), padding=1),
                                lambda x: F.max_pool2d(x, (3, 2), padding=1), (1, 2, 7, 5)),
    "max_pool2d_tiled_ties": (lambda x: nb.max_pool2d(nb.relu(nb.round(x)), 2),
                              lambda x: F.max_pool2d(torch.relu(torch.round(x)), 2), (2, 2, 6, 6)),
    "max_pool2d_dilated": (lambda x: nb.max_pool2d(x, (2, 3), 1, 1, dilation=2),
                           lambda x: F.max_pool2d(x, (2, 3), 1, 1, dilation=2), (1, 2, 7, 6)),
    "avg_pool2d": (lambda x: nb.avg_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1), (2, 3, 7, 6)),
    "avg_pool2d_exclude_pad": (lambda x: nb.avg_pool2d(x, (3, 2), (2, 1), (1, 1), count_include_pad=False),
                               lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1), count_include_pad=False),
                               (2, 3, 7, 6)),
    # ceil_mode: a last, partial window; none may start inside the right padding
    "max_pool2d_ceil": (lambda x: nb.max_pool2d(x, 3, 2, ceil_mode=True),
                        lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True), (2, 3, 8, 6)),
    "max_pool2d_ceil_tiled": (lambda x: nb.max_pool2d(x, 2, ceil_mode=True),
                              lambda x: F.max_pool2d(x, 2, ceil_mode=True), (1, 2, 7, 5)),
    "max_pool2d_ceil_padded_dilated": (lambda x: nb.max_pool2d(x, 2, 2, 1, dilation=2, ceil_mode=True),
                                       lambda x: F.max_pool2d(x, 2, 2, 1, dilation=2, ceil_mode=True),
                                       (1, 2, 8, 7)),
    "max_pool2d_ceil_dropped_window": (lambda x: nb.max_pool2d(x, 2, 2, 1, ceil_mode=True),
                                       lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True), (1, 1, 4, 5)),
    "avg_pool2d_ceil": (lambda x: nb.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8, 6)),
    "avg_pool2d_ceil_exclude_pad": (lambda x: nb.avg_pool2d(x, (3, 2), 2, 1, True, False),
                                    lambda x: F.avg_pool2d(x, (3, 2), 2, 1, True, False), (2, 1, 8, 7)),
    "avg_pool2d_ceil_unbatched": (lambda x: nb.avg_pool2d(x, 2, ceil_mode=True),
                                  lambda x: F.avg_pool2d(x, 2, ceil_mode=True), (3, 5, 7)),
    "adaptive_avg_pool2d": (lambda x: nb.adaptive_avg_pool2d(x, (3, 4)),
                            lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (2, 3, 7, 6)),
    "adaptive_avg_pool2d_none_unbatched": (lambda x: nb.adaptive_avg_pool2d(x, (None, 4)),
                                           lambda x: F.adaptive_avg_pool2d(x, (None, 4)), (3, 5, 8)),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_against_torch(name):
    _torch_case(*TORCH_CASES[name])


def test_jit_vmap_and_backward_agree_with_torch():
    x = rng.standard_normal((3, 2, 6, 6))
    w = rng.standard_normal((4, 2, 3, 3))
    b = rng.standard_normal(4)

    def loss(x, w, b):
        h = nb.relu(nb.conv2d(x, w, b, padding=1))
        return nb.sum(nb.max_pool2d(h, 2) ** 2) + nb.sum(nb.avg_pool2d(h, 3, 1, 1))

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    h = torch.relu(F.conv2d(tx, tw, tb, padding=1))
    want = torch.sum(F.max_pool2d(h, 2) ** 2) + torch.sum(F.avg_pool2d(h, 3, 1, 1))
    want.backward()
    args = [nb.tensor(a) for a in (x, w, b)]
    value, grads = nb.jit(nb.value_and_grad(loss, argnums=(0, 1, 2)))(*args)
    np.testing.assert_allclose(value.numpy(), want.item(), rtol=1e-10)
    for g, t in zip(grads, (tx, tw, tb)):
        np.testing.assert_allclose(g.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-10)
    # eager backward()
    leaves = [nb.tensor(a, requires_grad=True) for a in (x, w, b)]
    loss(*leaves).backward()
    for leaf, t in zip(leaves, (tx, tw, tb)):
        np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-10)
    # vmap over examples of unbatched inputs, and per-example weights
    per_example = nb.vmap(lambda xi: nb.conv2d(xi, args[1], padding=1))(args[0])
    np.testing.assert_allclose(per_example.numpy(), F.conv2d(tx, tw, padding=1).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    ws = rng.standard_normal((3, 4, 2, 3, 3))
    per_weight = nb.jit(nb.vmap(lambda xi, wi: nb.conv2d(xi, wi)))(args[0], nb.tensor(ws))
    want_w = np.stack([F.conv2d(torch.tensor(x[k:k + 1]), torch.tensor(ws[k])).numpy()[0] for k in range(3)])
    np.testing.assert_allclose(per_weight.numpy(), want_w, rtol=1e-10, atol=1e-12)


def test_per_example_gradients_of_grouped_conv():
    """vmap of grad: the batch rule of the convolution's cotangent convolutions (batch
    groups for the weight's, feature groups for the input's)."""
    x = rng.standard_normal((3, 4, 5, 5))
    w = rng.standard_normal((6, 2, 3, 3))

    def loss(w, xi):
        return nb.sum(nb.tanh(nb.conv2d(xi, w, stride=2, padding=1, groups=2)))

    got = nb.vmap(nb.grad(loss), in_axes=(None, 0))(nb.tensor(w), nb.tensor(x)).numpy()
    for k in range(3):
        tw = torch.tensor(w, requires_grad=True)
        torch.sum(torch.tanh(F.conv2d(torch.tensor(x[k]), tw, stride=2, padding=1, groups=2))).backward()
        np.testing.assert_allclose(got[k], tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_against_jax_lax():
    jax = pytest.importorskip("jax")
    lax = pytest.importorskip("jax.lax")
    jax.config.update("jax_enable_x64", False)
    lhs = rng.standard_normal((4, 2, 5, 6)).astype(np.float32)
    rhs = rng.standard_normal((6, 2, 2, 3)).astype(np.float32)
    params = dict(window_strides=(2, 1), padding=((1, 0), (0, 2)), lhs_dilation=(1, 2),
                  rhs_dilation=(2, 1), batch_group_count=2)
    got = nb.conv_general_dilated(nb.tensor(lhs), nb.tensor(rhs), **params).numpy()
    want = lax.conv_general_dilated(lhs, rhs, dimension_numbers=("NCHW", "OIHW", "NCHW"), **params)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-5)
    x = rng.standard_normal((5, 7)).astype(np.float32)
    window = dict(window_dimensions=(2, 3), window_strides=(1, 2), padding=((1, 0), (1, 1)),
                  base_dilation=(2, 1), window_dilation=(1, 2))
    for mine, computation, init in [(nb.reduce_window_sum, lax.add, 0.0),
                                    (nb.reduce_window_max, lax.max, -np.inf)]:
        got = mine(nb.tensor(x), *window.values()).numpy()
        want = lax.reduce_window(x, np.float32(init), computation, **window)
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-6, atol=1e-6)
    # the max's gradient goes where JAX's does (select_and_scatter_add, no dilation)
    plain = dict(window, base_dilation=(1, 1), window_dilation=(1, 1))
    got = nb.grad(lambda a: nb.sum(nb.reduce_window_max(a, *plain.values()) ** 2))(nb.tensor(x))
    want = jax.grad(lambda a: (lax.reduce_window(a, -np.inf, lax.max, **plain) ** 2).sum())(x)
    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-6)


def test_max_ties_go_to_the_first_maximum_in_both_modes():
    x = nb.tensor(np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 3.0, 2.0, 3.0]]))
    pool = lambda a: nb.reduce_window_max(a, (2, 2), (1, 2))
    grad = nb.grad(lambda a: nb.sum(pool(a)))(x).numpy()
    np.testing.assert_array_equal(grad, [[0, 1, 1, 0], [0, 0, 0, 0]])
    _, tangent = nb.jvp(pool, (x,), (nb.tensor(np.arange(8.0).reshape(2, 4)),))
    np.testing.assert_array_equal(tangent.numpy(), [[1.0, 2.0]])
    # the same through the composed path (dilated windows do not use select_and_scatter)
    dilated = lambda a: nb.reduce_window_max(a, (2, 2), (1, 1), window_dilation=(1, 2))
    grad = nb.grad(lambda a: nb.sum(dilated(a)))(x).numpy()
    np.testing.assert_array_equal(grad, [[0, 1, 1, 0], [0, 0, 0, 0]])
    # and where the windows tile the input (stride == window)
    tiled = lambda a: nb.reduce_window_max(a, (2, 2), (2, 2))
    grad = nb.grad(lambda a: nb.sum(tiled(a)))(x).numpy()
    np.testing.assert_array_equal(grad, [[0, 1, 1, 0], [0, 0, 0, 0]])
    grad = nb.vmap(nb.grad(lambda a: nb.sum(tiled(a))))(nb.stack([x, -x])).numpy()
    np.testing.assert_array_equal(grad, [[[0, 1, 1, 0], [0, 0, 0, 0]], [[1, 0, 0, 1], [0, 0, 0, 0]]])


def test_second_order_through_max_pool():
    """Hessian-vector products through select_and_scatter_add (its transpose is the gather)."""
    x = rng.standard_normal((1, 1, 4, 4))
    v = rng.standard_normal((1, 1, 4, 4))
    f = lambda a: nb.sum(nb.max_pool2d(a, 2) ** 3)
    hvp = nb.jvp(nb.grad(f), (nb.tensor(x),), (nb.tensor(v),))[1].numpy()
    tx = torch.tensor(x, requires_grad=True)
    g, = torch.autograd.grad(torch.sum(F.max_pool2d(tx, 2) ** 3), tx, create_graph=True)
    want, = torch.autograd.grad(g, tx, torch.tensor(v))
    np.testing.assert_allclose(hvp, want.numpy(), rtol=1e-10, atol=1e-12)
    rev = nb.grad(lambda a: nb.sum(nb.grad(f)(a) * nb.tensor(v)))(nb.tensor(x)).numpy()
    np.testing.assert_allclose(rev, want.numpy(), rtol=1e-10, atol=1e-12)


def test_lowers_to_stablehlo_ops():
    conv = nb.jit(lambda x, w: nb.conv2d(x, w, stride=2, padding=1))
    text = conv.lower(nb.ones((1, 8, 6, 6)), nb.ones((3, 8, 3, 3))).as_text()
    assert '"stablehlo.convolution"' in text
    assert "#stablehlo.conv<[b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]>" in text
    # on the CPU, inputs of few channels are one matrix product of their patches
    x, w = nb.ones((1, 2, 6, 6)), nb.ones((3, 2, 3, 3))
    few = conv.lower(x, w)
    assert '"stablehlo.convolution"' not in few.as_text() and '"stablehlo.dot_general"' in few.as_text()
    from nabla_like.lowering import mlir
    gpu = mlir.lower_graph(few._entry.graph, platform="gpu")
    assert '"stablehlo.convolution"' in gpu and '"stablehlo.dot_general"' not in gpu
    text = nb.jit(nb.grad(lambda x: nb.sum(nb.max_pool2d(x, 3, 2)) + nb.sum(nb.avg_pool2d(x, 2)))).lower(
        x).as_text()
    assert '"stablehlo.reduce_window"' in text and '"stablehlo.select_and_scatter"' in text
    # windows that tile the input need no select_and_scatter (slow on the CPU)
    text = nb.jit(nb.grad(lambda x: nb.sum(nb.max_pool2d(x, 2)))).lower(x).as_text()
    assert '"stablehlo.select_and_scatter"' not in text


def test_float16_and_bfloat16():
    x = rng.standard_normal((1, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    want = F.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    for dtype, tol in [(nb.float16, 2e-2), (nb.bfloat16, 1e-1)]:
        out = nb.conv2d(nb.tensor(x, dtype=dtype), nb.tensor(w, dtype=dtype), padding=1)
        assert out.dtype is dtype
        np.testing.assert_allclose(out.astype(nb.float32).numpy(), want, rtol=tol, atol=tol * 4)
        pooled = nb.avg_pool2d(nb.tensor(x, dtype=dtype), 2)
        assert pooled.dtype is dtype


ERRORS = [
    (lambda: nb.conv2d(nb.ones((1, 3, 5, 5)), nb.ones((4, 2, 3, 3))), nb.ShapeError,
     r"conv2d: input f32\[1,3,5,5\] has 3 channels but weight f32\[4,2,3,3\] expects 2"),
    (lambda: nb.conv2d(nb.ones((1, 4, 5, 5)), nb.ones((3, 2, 3, 3)), groups=2), nb.ShapeError,
     r"groups=2 must divide"),
    (lambda: nb.conv2d(nb.ones((1, 2, 2, 2)), nb.ones((3, 2, 3, 3))), nb.ShapeError,
     r"kernel \(3, 3\) .* larger than the padded input f32\[1,2,2,2\]"),
    (lambda: nb.conv2d(nb.ones((1, 2, 5, 5)), nb.ones((3, 2, 3, 3)), stride=0), nb.ArgumentValueError,
     r"stride must be a positive int"),
    (lambda: nb.conv2d(nb.ones((1, 2, 5, 5)), nb.ones((3, 2, 3, 3)), padding=-1), nb.ArgumentValueError,
     r"padding must be a non-negative int"),
    (lambda: nb.conv2d(nb.ones((1, 2, 5, 5)), nb.ones((3, 2, 3, 3)), padding="full"), nb.ArgumentValueError,
     r"'SAME', 'VALID'"),
    (lambda: nb.conv2d(nb.ones((2, 5, 5)), nb.ones((3, 2, 3))), nb.ShapeError, r"weight must be 4-D"),
    (lambda: nb.conv2d(nb.ones((5, 5)), nb.ones((3, 2, 3, 3))), nb.ShapeError, r"4-D \(batched\)"),
    (lambda: nb.conv2d(nb.ones((1, 2, 5, 5)), nb.ones((3, 2, 3, 3)), bias=nb.ones(2)), nb.ShapeError,
     r"bias must have shape \(3,\)"),
    (lambda: nb.conv2d(nb.ones((1, 2, 5, 5), dtype=nb.int32), nb.ones((3, 2, 3, 3), dtype=nb.int32)),
     nb.DTypeError, r"floating-point input and weight"),
    (lambda: nb.conv2d_transpose(nb.ones((1, 4, 3, 3)), nb.ones((2, 2, 3, 3))), nb.ShapeError,
     r"conv2d_transpose: input f32\[1,4,3,3\] has 4 channels but weight f32\[2,2,3,3\] expects 2"),
    (lambda: nb.conv2d_transpose(nb.ones((1, 4, 3, 3)), nb.ones((4, 2, 3, 3)), output_padding=1),
     nb.ShapeError, r"output_padding"),
    (lambda: nb.max_pool2d(nb.ones((1, 1, 4, 4)), 2, padding=2), nb.ShapeError, r"at most half"),
    (lambda: nb.max_pool2d(nb.ones((1, 1, 2, 2)), 3), nb.ShapeError, r"larger than the padded input"),
    (lambda: nb.avg_pool2d(nb.ones((1, 1, 4, 4)), 2, stride=-1), nb.ArgumentValueError, r"stride"),
    (lambda: nb.max_pool2d(nb.ones((1, 1, 4, 4), dtype=nb.int32), 2), nb.DTypeError, r"floating-point"),
    (lambda: nb.adaptive_avg_pool2d(nb.ones((1, 1, 4, 4)), 0), nb.ArgumentValueError, r"output_size"),
    (lambda: nb.conv_general_dilated(nb.ones((1, 4, 5)), nb.ones((3, 2, 3)), feature_group_count=3),
     nb.ShapeError, r"channels do not fit"),
    (lambda: conv_ops.select_and_scatter_add(nb.ones((3,)), nb.ones((4,)), (2,), (2,)), nb.ShapeError,
     r"window shape \(2,\)"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors(k):
    fn, cls, pattern = ERRORS[k]
    with pytest.raises(cls, match=pattern) as info:
        fn()
    assert "test_conv.py" in str(info.value)  # the user's line
