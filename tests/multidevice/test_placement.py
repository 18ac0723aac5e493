"""Placement over several CPU devices: results live where their operands live, programs run
there, mixing devices raises, and jit compiles once per device."""
import threading

import numpy as np
import pytest

import nabla_like as nb
from nabla_like.lowering import runtime


_probes: dict = {}


def on(t):
    """The device a tensor's buffer really lives on, asked of PJRT, not of nabla_like: a
    program compiled for device k accepts only buffers that live on device k."""
    nb.block_until_ready(t)
    aval = t._value.aval
    text = nb.jit(lambda x: x).lower(t).as_text()
    where = []
    for dev in nb.devices("cpu"):
        exe = _probes.get((aval, dev))
        if exe is None:
            exe = _probes[(aval, dev)] = runtime.compile(text, [aval], dev)
        try:
            exe([t._value.buffer])
        except Exception as e:  # noqa: BLE001 - PJRT's "is on device cpu:i" refusal
            assert "is on device" in str(e), e
        else:
            where.append(str(dev))
    assert len(where) == 1, where
    return where[0]


def test_creation_places_data_and_ops_follow():
    a = nb.tensor([1.0, 2.0], device="cpu:1")
    b = nb.arange(2, dtype=nb.float32, device="cpu:1")
    c = nb.sin(a) * 2.0 + b
    assert a.device == nb.device("cpu:1") and c.device == nb.device("cpu:1")
    np.testing.assert_allclose(c.numpy(), np.sin([1.0, 2.0]) * 2 + [0.0, 1.0], rtol=1e-6)
    assert on(c) == "cpu:1"
    z = nb.zeros(2)  # a constant without device= joins the device it is used on
    assert on(a + z) == "cpu:1"
    assert nb.zeros(2, device="cpu:3").device == nb.device("cpu:3")
    assert nb.zeros_like(a).device == a.device  # *_like follow their argument


def test_mixing_devices_raises_naming_both():
    a = nb.tensor([1.0], device="cpu:0")
    b = nb.tensor([1.0], device="cpu:2")
    with pytest.raises(nb.DeviceError, match=r"add.*cpu:0 and cpu:2"):
        a + b
    with pytest.raises(nb.DeviceError, match="cpu:0 and cpu:2"):
        nb.jit(lambda x, y: x * y)(a, b)
    with pytest.raises(nb.DeviceError, match="concatenate|different devices"):
        nb.concatenate([a, b])


def test_to_copies_between_devices():
    x = nb.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = x.to("cpu:5")
    assert y.device == nb.device("cpu:5") and on(y) == "cpu:5"
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert x.to(x.device) is x
    pending = (x * 2).to("cpu:4")  # a pending value is computed where it lives, then copied
    np.testing.assert_array_equal(pending.numpy(), x.numpy() * 2)
    w = nb.tensor([1.0], requires_grad=True)
    with pytest.raises(nb.UsageError, match="gradient history"):
        (w * 2).to("cpu:1")


def test_pending_work_for_several_devices_runs_per_device():
    xs = [nb.tensor([float(i)], device=f"cpu:{i}") for i in range(4)]
    ys = [x * 10.0 + 1.0 for x in xs]
    nb.realize_all(*ys)
    for i, y in enumerate(ys):
        assert on(y) == f"cpu:{i}"
        assert y.item() == 10.0 * i + 1.0


def test_jit_compiles_for_the_device_of_its_arguments():
    f = nb.jit(lambda x: nb.tanh(x) @ x.T)
    data = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    expected = np.tanh(data) @ data.T
    for dev in ("cpu:0", "cpu:6", "cpu:6", "cpu:2"):
        out = f(nb.tensor(data, device=dev))
        assert out.device == nb.device(dev) and on(out) == dev
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_training_on_another_device_matches_the_default_device():
    rng = np.random.default_rng(1)
    w0, x0, y0 = (rng.standard_normal(s).astype(np.float32) for s in ((4, 1), (8, 4), (8, 1)))

    def train(dev):
        w = nb.tensor(w0, device=dev, requires_grad=True)
        x, y = nb.tensor(x0, device=dev), nb.tensor(y0, device=dev)
        for _ in range(5):
            loss = nb.mean((x @ w - y) ** 2)
            loss.backward()
            with nb.no_grad():
                w -= 0.1 * w.grad
                w.grad = None
        assert w.device == nb.device(dev) and on(w) == dev
        return w.numpy()
    np.testing.assert_allclose(train("cpu:3"), train("cpu:0"), rtol=1e-6)
    g = nb.grad(lambda w: nb.sum(nb.sin(w)))(nb.tensor(w0, device="cpu:7"))
    assert on(g) == "cpu:7"
    np.testing.assert_allclose(g.numpy(), np.cos(w0), rtol=1e-6)


def test_default_device_is_per_thread():
    seen = {}

    def worker():
        seen["worker"] = nb.tensor([1.0]).device

    with nb.default_device("cpu:4"):
        inner = nb.tensor([1.0])
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert nb.get_default_device() == nb.device("cpu:4")
    assert inner.device == nb.device("cpu:4") and on(inner) == "cpu:4"
    assert seen["worker"] == nb.devices()[0]  # another thread keeps the process default
    assert nb.tensor([1.0]).device == nb.devices()[0]


def test_module_to_moves_parameters_in_place():
    model = nb.nn.Sequential(nb.nn.Linear(3, 4, key=nb.random.PRNGKey(0)), nb.nn.Tanh(),
                             nb.nn.Linear(4, 1, key=nb.random.PRNGKey(1)))
    opt = nb.optim.SGD(model.parameters(), lr=0.1)
    before = [p.numpy().copy() for p in model.parameters()]
    assert model.to("cpu:2") is model
    assert all(p.device == nb.device("cpu:2") and p.requires_grad for p in model.parameters())
    x = nb.tensor(np.ones((5, 3), np.float32), device="cpu:2")
    loss = nb.mean(model(x) ** 2)
    loss.backward()
    opt.step()  # the optimizer's tensors are the moved ones
    after = [p.numpy() for p in model.parameters()]
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    assert on(model.parameters()[0]) == "cpu:2"
    assert model.to(nb.float64).parameters()[0].dtype == nb.float64
