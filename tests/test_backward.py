"""The imperative API: backward() semantics checked against grad on the same functions,
and lazy step caching (forward + backward + update as one reused program)."""
import gc
import tracemalloc

import numpy as np
import pytest

import nabla_like as nb
from nabla_like.lowering import runtime


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


def loss_fn(w, b, x):
    return nb.sum(nb.tanh(x * w + b) ** 2)


def make():
    rng = np.random.default_rng(0)
    return (nb.tensor(rng.standard_normal(4).astype(np.float32)),
            nb.tensor(rng.standard_normal(4).astype(np.float32)),
            nb.tensor(rng.standard_normal(4).astype(np.float32)))


def test_backward_matches_grad():
    w, b, x = make()
    gw, gb = nb.grad(loss_fn, argnums=(0, 1))(w, b, x)
    w.requires_grad_()
    b.requires_grad_()
    loss_fn(w, b, x).backward()
    close(w.grad, gw)
    close(b.grad, gb)
    assert x.grad is None and not x.requires_grad


def test_gradients_accumulate_and_zero_grad():
    w, b, x = make()
    gw = nb.grad(loss_fn)(w, b, x)
    w.requires_grad_()
    for _ in range(3):
        loss_fn(w, b, x).backward()
    close(w.grad, 3 * gw.numpy())
    nb.zero_grad([w])
    assert w.grad is None
    loss_fn(w, b, x).backward()
    close(w.grad, gw)


def test_leaf_flags():
    w = nb.ones((2,)).requires_grad_()
    y = w * 2
    assert w.is_leaf and w.requires_grad
    assert not y.is_leaf and y.requires_grad
    z = nb.ones((2,))
    assert z.is_leaf and not z.requires_grad
    with nb.no_grad():
        u = w * 2
    assert not u.requires_grad
    assert not w.detach().requires_grad
    with pytest.raises(nb.DTypeError):
        nb.tensor([1, 2]).requires_grad_()


def test_retain_graph_semantics():
    w = nb.tensor([1.0, 2.0]).requires_grad_()
    loss = nb.sum(nb.sin(w))
    loss.backward(retain_graph=True)
    loss.backward()
    close(w.grad, 2 * np.cos([1.0, 2.0]))
    with pytest.raises(nb.BackwardError, match="second time") as e:
        loss.backward()
    assert "test_backward.py" in str(e.value) and isinstance(e.value, RuntimeError)


def test_freed_graph_detected_after_values_were_read():
    w = nb.tensor([1.0, 2.0]).requires_grad_()
    loss = nb.sum(w * w)
    loss.item()            # reading the loss keeps its graph for backward
    loss.backward()
    close(w.grad, [2, 4])
    w.grad.numpy()
    with pytest.raises(nb.BackwardError):
        loss.backward()


def test_create_graph_gives_differentiable_gradients():
    x = nb.tensor([0.5, 1.5]).requires_grad_()
    y = nb.sum(x ** 3)
    y.backward(create_graph=True)
    g = x.grad
    close(g, 3 * np.array([0.5, 1.5]) ** 2)
    assert g.requires_grad
    x.grad = None
    nb.sum(g).backward()
    close(x.grad, 6 * np.array([0.5, 1.5]))
    # the same second derivative through grad
    close(nb.grad(lambda x: nb.sum(nb.grad(lambda x: nb.sum(x ** 3))(x)))(nb.tensor([0.5, 1.5])),
          x.grad)


def test_non_scalar_needs_cotangent():
    w = nb.ones((3,)).requires_grad_()
    y = w * 2
    with pytest.raises(nb.BackwardError, match="cotangent"):
        y.backward()
    y.backward(nb.tensor([1.0, 2.0, 3.0]))
    close(w.grad, [2, 4, 6])


def test_backward_of_output_without_grad_history():
    with pytest.raises(nb.BackwardError, match="does not require grad"):
        nb.sum(nb.ones((2,))).backward()


def test_nabla_style_backward_with_several_outputs(capsys):
    w = nb.tensor([1.0, 2.0]).requires_grad_()
    a, b = nb.sum(w * w), w * 3
    nb.backward([a, b], [None, nb.ones((2,))], show_graph=True)
    close(w.grad, [2 + 3, 4 + 3])
    printed = capsys.readouterr().out
    assert printed.startswith("backward(") and "mul" in printed


def test_inplace_update_rules():
    w = nb.tensor([1.0, 2.0]).requires_grad_()
    nb.sum(w * w).backward()
    with pytest.raises(nb.BackwardError, match="in-place"):
        w -= 0.1 * w.grad
    with nb.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    close(w, [0.8, 1.6])
    w.grad = None
    nb.sum(w * w).backward()
    close(w.grad, [1.6, 3.2])
    w.data = nb.tensor([5.0, 5.0])
    assert w.is_leaf and w.requires_grad
    close(w, [5, 5])


def _train(steps, read_every=1):
    rng = np.random.default_rng(1)
    x = nb.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = nb.tensor(rng.standard_normal((32,)).astype(np.float32))
    w = nb.tensor(np.zeros(8, np.float32)).requires_grad_()
    b = nb.tensor(np.zeros((), np.float32)).requires_grad_()
    losses = []
    for i in range(steps):
        pred = nb.sum(x * w, axis=1) + b
        loss = nb.mean((pred - y) ** 2)
        loss.backward()
        with nb.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad = None
        b.grad = None
        if i % read_every == 0:
            losses.append(loss.item())
    return losses, w


def test_eager_training_loop_compiles_one_program_per_step_structure():
    _train(3)
    before = runtime.stats.compiles
    execs = runtime.stats.executions
    losses, _ = _train(20)
    assert runtime.stats.compiles - before <= 2     # warm structures only
    assert runtime.stats.executions - execs <= 20 + 4   # about one program per step
    assert all(a >= b for a, b in zip(losses, losses[1:]))


def test_eager_training_matches_functional_training():
    losses, w = _train(10)
    rng = np.random.default_rng(1)
    x = nb.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = nb.tensor(rng.standard_normal((32,)).astype(np.float32))
    wf, bf = nb.zeros((8,)), nb.zeros(())
    for _ in range(10):
        (gw, gb) = nb.grad(lambda w, b: nb.mean((nb.sum(x * w, axis=1) + b - y) ** 2),
                           argnums=(0, 1))(wf, bf)
        wf, bf = wf - 0.1 * gw, bf - 0.1 * gb
    close(w, wf, rtol=1e-5)


def test_training_loop_memory_is_flat():
    _train(20)
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    _train(300, read_every=10)
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown - base < 300_000, grown - base


# ---------------------------------------------------------------------------
# backward() of a repeated step goes by a memo of the step's structure
# (autograd._planned_backward); each case below repeats one structure with something that
# must change the gradients, and checks every step against closed forms.
# ---------------------------------------------------------------------------
def _w(values):
    return nb.tensor(np.asarray(values, np.float32)).requires_grad_()


def test_repeated_steps_where_a_value_is_computed_under_no_grad_in_some_steps():
    # loss = sum(m * w) with m = 2w: with grad d/dw = 4w; with m under no_grad, 2w.
    for step in range(6):
        w = _w([1.0, -2.0, 3.0])
        cut = step % 2 == 1
        if cut:
            with nb.no_grad():
                m = w * 2.0
        else:
            m = w * 2.0
        nb.sum(m * w).backward()
        close(w.grad, (2.0 if cut else 4.0) * w.numpy())


def test_repeated_steps_where_a_leaf_stops_requiring_grad():
    for step in range(6):
        a, b = _w([1.0, 2.0]), _w([3.0, 5.0])
        frozen = step % 3 == 2
        if frozen:
            b.requires_grad_(False)
        nb.sum(a * b * b).backward()
        close(a.grad, b.numpy() ** 2)
        if frozen:
            assert b.grad is None
        else:
            close(b.grad, 2 * a.numpy() * b.numpy())


def test_repeated_steps_whose_graph_starts_before_a_read():
    # The read computes h (which keeps its history); backward() then differentiates through
    # a graph that reaches back past the pending work.
    for _ in range(4):
        w = _w([0.5, -1.0])
        h = nb.exp(w)
        h.numpy()
        nb.sum(h * h).backward()
        close(w.grad, 2 * np.exp(2 * w.numpy()))


def test_repeated_steps_backward_twice_raises_without_retain_graph():
    for _ in range(3):
        w = _w([1.0, 2.0])
        loss = nb.sum(nb.sin(w) * w)
        loss.backward(retain_graph=True)
        loss.backward()  # accumulates
        expected = 2 * (np.cos(w.numpy()) * w.numpy() + np.sin(w.numpy()))
        close(w.grad, expected)
        with pytest.raises(nb.NablaError, match="second time"):
            loss.backward()


def test_repeated_steps_with_the_parameter_updated_in_place_and_pending():
    # The update of step k is pending when step k+1 runs forward: the updated parameters
    # are leaves produced inside the step's pending work.
    w = _w([1.0, -0.5, 2.0])
    ref = w.numpy().astype(np.float64)
    for _ in range(8):
        loss = nb.sum(nb.tanh(w) * 3.0)
        loss.backward()
        ref_grad = 3.0 * (1.0 - np.tanh(ref) ** 2)
        close(w.grad, ref_grad)
        with nb.no_grad():
            w -= 0.1 * w.grad
            w.grad = None
        ref = ref - 0.1 * ref_grad
    close(w.numpy(), ref)


def test_repeated_steps_with_two_roots_and_cotangents():
    for step in range(4):
        w = _w([1.0, 2.0, 3.0])
        a, b = w * w, nb.sin(w)
        ca = np.full(3, 1.0 + step, np.float32)
        cb = np.full(3, -2.0, np.float32)
        nb.backward([a, b], [nb.tensor(ca), nb.tensor(cb)])
        close(w.grad, ca * 2 * w.numpy() + cb * np.cos(w.numpy()))


def test_a_backward_that_raises_leaves_pending_work_as_it_was():
    from nabla_like import lazy
    w = _w([1.0, 2.0])
    loss = nb.sum(w * w)
    loss.backward()
    z = w * 3.0  # pending when the next backward() starts (and plans the step)
    with pytest.raises(nb.NablaError, match="second time"):
        loss.backward()
    assert lazy._tape.held is None
    close(z.numpy(), [3.0, 6.0])
    close(w.grad, [2.0, 4.0])
