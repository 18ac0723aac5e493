"""LoRA and QLoRA fine-tuning: a small model pretrained on one task, frozen, adapted to a
shifted task; only the adapters train; merge keeps the outputs; NF4 round-trips."""
import numpy as np
import pytest

import nabla_like as nb
import nabla_like.nn.functional as F

rng = np.random.default_rng(0)
X = nb.tensor(rng.standard_normal((128, 8)).astype(np.float32))
A = rng.standard_normal((8, 1)).astype(np.float32)
Y_BASE = nb.tensor(np.sin(X.numpy() @ A))
Y_SHIFT = nb.tensor(np.sin(X.numpy() @ A) + 0.5 * np.cos(X.numpy()[:, :1] * 2.0))


def _model():
    return nb.nn.Sequential(nb.nn.Linear(8, 64, key=nb.random.key(1)), nb.nn.Tanh(),
                            nb.nn.Linear(64, 64, key=nb.random.key(2)), nb.nn.Tanh(),
                            nb.nn.Linear(64, 1, key=nb.random.key(3)))


def _train(model, y, steps, lr):
    opt = nb.optim.Adam(lr=lr)
    state = opt.init(model)

    @nb.jit
    def step(model, state):
        loss, grads = nb.value_and_grad(lambda m: F.mse_loss(m(X), y))(model)
        model, state = opt.update(grads, state, model)
        return model, state, loss
    for _ in range(steps):
        model, state, loss = step(model, state)
    return model, float(loss.item())


@pytest.fixture(scope="module")
def pretrained():
    model, loss = _train(_model(), Y_BASE, 300, 1e-2)
    assert loss < 0.02
    return model


@pytest.mark.parametrize("quantize", [False, True])
def test_lora_fine_tunes_only_the_adapters_on_a_shifted_task(pretrained, quantize):
    base_loss = float(F.mse_loss(pretrained(X), Y_SHIFT).item())
    frozen = {k: v.numpy().copy() for k, v in pretrained.state_dict().items()}
    model = nb.nn.lora.apply(nb.tree.map(lambda t: t, pretrained), rank=4, alpha=8,
                             quantize=quantize, block_size=32, key=nb.random.key(7))
    names = [n for n, _ in model.named_parameters()]
    assert names and all("lora_" in n for n in names)
    if quantize:
        codes = model[0].weight_codes
        assert codes.dtype == nb.uint8 and codes.size == 8 * 64 // 2
    start = float(F.mse_loss(model(X), Y_SHIFT).item())
    np.testing.assert_allclose(start, base_loss, rtol=0.2 if quantize else 1e-5)  # B = 0 at start
    tuned, loss = _train(model, Y_SHIFT, 200, 1e-2)
    assert loss < 0.3 * base_loss
    for name, t in tuned.state_dict().items():
        if name in frozen:  # every base tensor is untouched
            np.testing.assert_array_equal(t.numpy(), frozen[name])
    if not quantize:
        before = tuned(X).numpy()
        nb.nn.lora.merge(tuned)
        np.testing.assert_allclose(tuned(X).numpy(), before, rtol=1e-4, atol=1e-5)
        nb.nn.lora.unmerge(tuned)
        np.testing.assert_allclose(tuned(X).numpy(), before, rtol=1e-4, atol=1e-5)


def test_lora_in_the_imperative_style():
    model = nb.nn.lora.apply(_model(), rank=2, target="2")
    assert [n for n, _ in model.named_parameters()] == ["2.lora_A", "2.lora_B"]
    opt = nb.optim.SGD(model.parameters(), lr=0.1)
    loss = F.mse_loss(model(X), Y_SHIFT)
    loss.backward()
    opt.step()
    assert model[2].lora_B.numpy().any()


def test_nf4_levels_and_round_trip():
    levels = nb.nn.lora.NF4
    assert levels.shape == (16,) and levels[0] == -1 and levels[-1] == 1 and 0.0 in levels
    assert np.all(np.diff(levels) > 0)
    w = rng.standard_normal((16, 32)).astype(np.float32)
    codes, scales = nb.nn.lora.quantize_nf4(w, 64)
    assert codes.dtype == np.uint8 and codes.size == w.size // 2 and scales.size == w.size // 64
    back = nb.nn.lora.dequantize_nf4(codes, nb.tensor(scales), w.shape).numpy()
    # each value lands on the nearest level: the error is at most half the widest gap
    err = np.abs(back - w) / np.repeat(scales, 64).reshape(w.shape)
    assert err.max() <= np.diff(levels).max() / 2 + 1e-6
    with pytest.raises(nb.NablaError, match="blocks"):
        nb.nn.lora.quantize_nf4(np.ones(10), 64)
