"""Sharding over 8 CPU devices: sharded results equal unsharded ones (NumPy and the same
function on one device as references), the StableHLO carries the layouts, XLA inserts the
collectives, and a data-parallel training step equals the single-device step."""
import numpy as np
import pytest

import nabla_like as nb

RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.fixture(scope="module")
def mesh():
    return nb.make_mesh((8,), ("data",))


@pytest.fixture(scope="module")
def mesh2():
    return nb.make_mesh((4, 2), ("data", "model"))


def test_layouts_and_round_trip(mesh, mesh2):
    x0 = data(16, 6)
    for m, spec in ((mesh, nb.P("data")), (mesh, nb.P(None, "data")), (mesh, nb.P()),
                    (mesh2, nb.P("data", "model")), (mesh2, nb.P("model")),
                    (mesh2, nb.P(("data", "model"))), (mesh, nb.P("data"))):
        x = nb.shard(x0, m, spec)
        assert x.device == m and x.sharding.mesh == m
        np.testing.assert_array_equal(x.numpy(), x0)
    assert nb.shard(x0, mesh, nb.P()).sharding.is_fully_replicated
    uneven = nb.shard(data(10, 3), mesh, nb.P("data"))  # 10 rows over 8 devices: padded shards
    np.testing.assert_allclose(nb.sum(uneven).item(), float(uneven.numpy().sum()), rtol=1e-5)


def test_eager_ops_on_sharded_tensors(mesh, mesh2):
    x0, w0 = data(16, 4), data(4, 6)
    x = nb.shard(x0, mesh, nb.P("data"))
    y = nb.tanh(x) * 2.0 + 1.0
    np.testing.assert_allclose(y.numpy(), np.tanh(x0) * 2 + 1, rtol=1e-5, atol=1e-6)
    assert y.sharding.hlo == x.sharding.hlo  # elementwise keeps the rows split
    total = nb.sum(x)  # an all-reduce over the 8 devices
    assert total.sharding.is_fully_replicated
    np.testing.assert_allclose(total.item(), float(x0.sum()), rtol=1e-5)
    xa, wa = nb.shard(x0, mesh2, nb.P("data")), nb.shard(w0, mesh2, nb.P(None, "model"))
    np.testing.assert_allclose((xa @ wa).numpy(), x0 @ w0, rtol=1e-5, atol=1e-5)
    with pytest.raises(nb.DeviceError, match="different devices"):
        x + nb.tensor(x0)
    # a detached or .data-assigned computed tensor keeps its layout (it shares the buffer)
    for t in (nb.stop_gradient(y), y.detach()):
        assert t.sharding.hlo == y.sharding.hlo
        np.testing.assert_allclose((t + 1.0).numpy(), np.tanh(x0) * 2 + 2, rtol=1e-5, atol=1e-6)
    w = nb.tensor(np.zeros((16, 4), np.float32)).requires_grad_()
    w.data = y
    assert w.requires_grad and w.sharding.hlo == y.sharding.hlo
    np.testing.assert_allclose((w * 2.0).numpy(), (np.tanh(x0) * 2 + 1) * 2, rtol=1e-5, atol=1e-6)


def test_jit_layouts_collectives_and_text(mesh):
    rows = nb.NamedSharding(mesh, nb.P("data"))
    rep = nb.NamedSharding(mesh, nb.P())
    f = nb.jit(lambda x, w: nb.mean(x @ w, axis=0), in_shardings=(rows, rep), out_shardings=rep)
    x0, w0 = data(32, 8), data(8, 3)
    out = f(nb.tensor(x0), nb.tensor(w0))  # one-device tensors are laid out as asked
    np.testing.assert_allclose(out.numpy(), (x0 @ w0).mean(0), rtol=1e-5, atol=1e-6)
    assert out.sharding.is_fully_replicated
    text = f.lower(nb.tensor(x0), nb.tensor(w0)).as_text()
    assert '{devices=[8,1]0,1,2,3,4,5,6,7}' in text and 'mhlo.sharding = "{replicated}"' in text
    exe = next(iter(next(iter(f._cache.values())).spmd.values()))
    assert "all-reduce" in exe.hlo_text()
    g = nb.jit(lambda x: nb.with_sharding_constraint(x * 2.0, nb.NamedSharding(mesh, nb.P(None, "data"))))
    y = g(nb.shard(x0, mesh, nb.P("data")))
    assert y.sharding.hlo == "{devices=[1,8]0,1,2,3,4,5,6,7}"
    np.testing.assert_allclose(y.numpy(), x0 * 2, rtol=1e-6)
    assert "Sharding" in g.lower(nb.shard(x0, mesh, nb.P("data"))).as_text()


def test_transforms_on_sharded_inputs(mesh):
    x0, w0 = data(16, 4), data(4)
    x = nb.shard(x0, mesh, nb.P("data"))
    w = nb.shard(w0, mesh, nb.P())

    def loss(w, x):
        return nb.sum(nb.tanh(x @ w) ** 2)
    ref = nb.grad(loss)(nb.tensor(w0), nb.tensor(x0)).numpy()
    np.testing.assert_allclose(nb.grad(loss)(w, x).numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nb.jit(nb.grad(loss))(w, x).numpy(), ref, rtol=1e-5, atol=1e-6)
    per_row = nb.vmap(lambda r: nb.sum(r * r))(x)
    np.testing.assert_allclose(per_row.numpy(), (x0 * x0).sum(1), rtol=1e-5)
    batched = nb.vmap(lambda r: nb.with_sharding_constraint(r * 3.0, nb.NamedSharding(mesh, nb.P())))
    np.testing.assert_allclose(nb.jit(batched)(x).numpy(), x0 * 3, rtol=1e-6)


def _mlp_params():
    rng = np.random.default_rng(3)
    return [rng.standard_normal((8, 32)).astype(np.float32) * 0.3, np.zeros(32, np.float32),
            rng.standard_normal((32, 1)).astype(np.float32) * 0.3, np.zeros(1, np.float32)]


def _loss(p, x, y):
    h = nb.tanh(x @ p[0] + p[1])
    return nb.mean((h @ p[2] + p[3] - y) ** 2)


def _step(p, x, y):
    value, grads = nb.value_and_grad(_loss)(p, x, y)
    return [w - 0.1 * g for w, g in zip(p, grads)], value


def test_data_parallel_training_equals_single_device(mesh):
    x0, y0 = data(64, 8), data(64, 1)
    rows, rep = nb.NamedSharding(mesh, nb.P("data")), nb.NamedSharding(mesh, nb.P())
    parallel = nb.jit(_step, in_shardings=(rep, rows, rows), out_shardings=rep)
    single = nb.jit(_step)
    p_par = [nb.tensor(a) for a in _mlp_params()]
    p_one = [nb.tensor(a) for a in _mlp_params()]
    x, y = nb.shard(x0, rows), nb.shard(y0, rows)
    for _ in range(10):
        p_par, v_par = parallel(p_par, x, y)
        p_one, v_one = single(p_one, nb.tensor(x0), nb.tensor(y0))
    assert all(p.sharding.is_fully_replicated for p in p_par)
    for a, b in zip(p_par, p_one):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(v_par.item(), v_one.item(), rtol=1e-5)


def test_data_parallel_eager_backward_equals_single_device(mesh):
    x0, y0 = data(64, 8), data(64, 1)

    def train(place, x, y):
        params = [place(a).requires_grad_() for a in _mlp_params()]
        for _ in range(5):
            loss = _loss(params, x, y)
            loss.backward()
            with nb.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
                    p.grad = None
        return [p.numpy() for p in params]
    par = train(lambda a: nb.shard(a, mesh, nb.P()), nb.shard(x0, mesh, nb.P("data")),
                nb.shard(y0, mesh, nb.P("data")))
    one = train(nb.tensor, nb.tensor(x0), nb.tensor(y0))
    for a, b in zip(par, one):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_tensor_parallel_layer_on_a_2d_mesh(mesh2):
    """A matmul-heavy layer over data x model: rows split over "data", the weight's columns
    over "model"; the result is split both ways and equals the one-device result."""
    x0, w0, v0 = data(16, 12), data(12, 8), data(8, 12)
    dm = nb.NamedSharding(mesh2, nb.P("data", None))
    cols = nb.NamedSharding(mesh2, nb.P(None, "model"))
    rows_of_w2 = nb.NamedSharding(mesh2, nb.P("model", None))

    def layer(x, w, v):
        return nb.relu(x @ w) @ v  # Megatron-style: column-split then row-split, one all-reduce
    f = nb.jit(layer, in_shardings=(dm, cols, rows_of_w2), out_shardings=dm)
    out = f(nb.tensor(x0), nb.tensor(w0), nb.tensor(v0))
    np.testing.assert_allclose(out.numpy(), np.maximum(x0 @ w0, 0) @ v0, rtol=1e-4, atol=1e-5)
    exe = next(iter(next(iter(f._cache.values())).spmd.values()))
    assert "all-reduce" in exe.hlo_text()
    inner = nb.jit(lambda x, w: x @ w, out_shardings=nb.NamedSharding(mesh2, nb.P("data", "model")))
    y = inner(nb.shard(x0, dm), nb.shard(w0, cols))
    assert y.sharding.hlo == "{devices=[4,2]0,1,2,3,4,5,6,7}"
    np.testing.assert_allclose(y.numpy(), x0 @ w0, rtol=1e-5, atol=1e-5)


def test_dlpack_of_a_sharded_tensor_is_refused(mesh):
    x = nb.shard(data(8, 2), mesh, nb.P("data"))
    with pytest.raises(nb.UsageError, match="gathers"):
        x.__dlpack__()
