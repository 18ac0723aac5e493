"""Lazy eager execution: what a read computes, where steps end, the two tiers, compile
counts in every read pattern, and memory that stays flat."""
import gc
import time
import tracemalloc

import numpy as np
import pytest

import nabla_like as nb
from nabla_like import lazy
from nabla_like.ir import toposort


def fused_compiles():
    return nb.compile_stats().fused_compiles


def pending(t):
    return t._value.buffer is None and t._value.node is not None


def test_ops_are_pending_until_read():
    x = nb.tensor([1.0, 2.0, 3.0])
    y = nb.sin(x) * 2.0
    assert pending(y)
    np.testing.assert_allclose(y.numpy(), np.sin([1.0, 2.0, 3.0]) * 2, rtol=1e-6)
    assert y._value.buffer is not None and y._value.node is None  # producer dropped


@pytest.mark.parametrize("read", ["numpy", "item", "repr", "array", "tolist", "bool", "realize",
                                  "dlpack", "float", "int"])
def test_every_read_materializes(read):
    x = nb.tensor([3.0])
    y = x * 2.0
    readers = {
        "numpy": lambda t: t.numpy(), "item": lambda t: t.item(), "repr": repr,
        "array": np.asarray, "tolist": lambda t: t.tolist(), "bool": bool,
        "realize": lambda t: t.realize(), "dlpack": lambda t: np.from_dlpack(t),
        "float": float, "int": int,
    }
    readers[read](y)
    assert y._value.buffer is not None
    assert float(np.asarray(y)[0]) == 6.0


# ---------------------------------------------------------------------------
# A read computes what it needs
# ---------------------------------------------------------------------------
def test_reading_one_tensor_leaves_the_others_pending():
    x = nb.tensor([1.0, 2.0])
    a = x * 3
    b = x - 1
    a.numpy()
    assert pending(b)
    np.testing.assert_allclose(b.numpy(), [0.0, 1.0])


def test_a_read_writes_out_the_intermediates_that_are_still_held(monkeypatch):
    outputs = []
    real = lazy._outputs
    monkeypatch.setattr(lazy, "_outputs", lambda plan, known: outputs.append(real(plan, known))
                        or outputs[-1])
    x = nb.tensor(np.arange(4, dtype=np.float32))
    held = nb.exp(x)                 # a tensor the user keeps
    y = nb.sin(nb.tanh(held)) + 1.0  # its tanh and sin are referred to by nothing else
    y.numpy()
    assert [v.aval.short() for v in outputs[-1]] == ["f32[4]", "f32[4]"]
    assert held._value.buffer is not None  # computed once, with y
    np.testing.assert_allclose(held.numpy(), np.exp(np.arange(4)), rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), np.sin(np.tanh(np.exp(np.arange(4)))) + 1, rtol=1e-6)


def test_pending_work_that_a_read_left_joins_the_next_program():
    x = nb.tensor(np.ones(3, np.float32))
    h = x * 2.0            # needed by the read and by pending work
    out = h + 1.0
    later = h * 10.0
    out.numpy()
    assert h._value.buffer is not None  # a pending node still reads it
    assert pending(later)
    np.testing.assert_allclose(later.numpy(), [20.0] * 3)


def test_list_comprehension_read_once_computes_one_element():
    x = nb.tensor(np.linspace(0, 1, 64, dtype=np.float32))
    start = time.perf_counter()
    outs = [x * float(i) for i in range(1000)]
    before = nb.compile_stats()
    last = outs[-1].numpy()
    delta = nb.compile_stats() - before
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(last, np.linspace(0, 1, 64) * 999, rtol=1e-5)
    assert delta.fused_compiles == 0 and delta.kernel_compiles <= 1 and delta.executions == 1
    assert sum(pending(t) for t in outs) == 999
    assert elapsed < 30  # seconds, generous: the point is no 1000-output program
    np.testing.assert_allclose(outs[10].numpy(), np.linspace(0, 1, 64) * 10, rtol=1e-5)


def test_realize_all_computes_its_tensors_together():
    x = nb.tensor(np.arange(4, dtype=np.float32))
    a, b, c = x * 2, x + 1, nb.exp(x)
    before = nb.compile_stats()
    nb.realize_all(a, b, c)
    delta = nb.compile_stats() - before
    assert delta.fused_runs + delta.op_by_op_runs == 1
    for t, want in ((a, [0, 2, 4, 6]), (b, [1, 2, 3, 4]), (c, np.exp(np.arange(4)))):
        assert t._value.buffer is not None
        np.testing.assert_allclose(t.numpy(), want, rtol=1e-6)


def test_shared_subexpressions_computed_once_per_program():
    x = nb.tensor(np.ones(8, np.float32))
    y = nb.exp(x)
    z = y + y
    g = nb.make_graph(lambda t: (lambda u: u + u)(nb.exp(t)))(x)
    assert [n.prim.name for n in g.nodes] == ["exp", "add"]
    np.testing.assert_allclose(z.numpy(), 2 * np.e * np.ones(8), rtol=1e-6)


def test_literal_constants_need_no_program():
    before = nb.compile_stats().compiles
    z = nb.zeros((2, 3))
    assert z.numpy().tolist() == [[0.0] * 3] * 2
    assert nb.full((), 7.0).item() == 7.0
    assert nb.compile_stats().compiles == before


# ---------------------------------------------------------------------------
# Tiers: op by op first, fused when a structure repeats
# ---------------------------------------------------------------------------
def test_first_run_is_op_by_op_and_a_repeat_is_fused():
    x = nb.tensor(np.linspace(0, 1, 37, dtype=np.float32))

    def chain(t):
        return nb.tanh(nb.sin(t) * 1.5 + 0.25)

    before = nb.compile_stats()
    first = chain(x).numpy()
    d1 = nb.compile_stats() - before
    assert d1.op_by_op_runs == 1 and d1.fused_compiles == 0
    second = chain(x).numpy()
    d2 = nb.compile_stats() - before
    assert d2.fused_compiles == 1 and d2.fused_runs == 1
    third = chain(x).numpy()
    d3 = nb.compile_stats() - before
    assert d3.fused_compiles == 1 and d3.fused_runs == 2 and d3.kernel_compiles == d1.kernel_compiles
    want = np.tanh(np.sin(np.linspace(0, 1, 37)) * 1.5 + 0.25)
    for got in (first, second, third):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_kernels_are_shared_by_structures():
    x = nb.tensor(np.ones(23, np.float32))
    nb.exp(nb.sin(x)).numpy()
    before = nb.compile_stats()
    nb.sin(nb.exp(x)).numpy()  # a new structure of known kernels: nothing to compile
    d = nb.compile_stats() - before
    assert d.compiles == 0 and d.op_by_op_runs == 1


def test_large_structures_fuse_later():
    assert lazy.fuse_threshold(10) == 2
    assert lazy.fuse_threshold(lazy.FUSE_SMALL_NODES) == 2
    assert lazy.fuse_threshold(1000) > 2
    assert lazy.fuse_threshold(2000) > lazy.fuse_threshold(1000)


def test_loop_with_same_structure_compiles_one_program():
    x = nb.tensor(np.linspace(0, 1, 100, dtype=np.float32))
    x = (nb.sin(x) * 1.5 + 0.25).realize()
    before = nb.compile_stats()
    for i in range(50):
        x = nb.tanh(nb.sin(x) * 1.5 + 0.25)
        x.realize()
    d = nb.compile_stats() - before
    assert d.fused_compiles == 1
    assert d.compiles <= 2  # and at most the tanh kernel of its first, op-by-op run


def test_varying_python_scalars_do_not_recompile():
    x = nb.tensor(np.ones(10, np.float32))
    (x * 0.5 + 1.0).realize()
    (x * 0.5 + 1.0).realize()
    before = nb.compile_stats().compiles
    outs = []
    for i in range(20):
        y = x * float(i) + float(2 * i)
        outs.append(float(y.numpy()[0]))
    assert nb.compile_stats().compiles == before
    assert outs == [float(3 * i) for i in range(20)]


def test_tiers_agree():
    rng = np.random.default_rng(0)
    a = nb.tensor(rng.standard_normal((16, 16)).astype(np.float32))

    def f(t):
        return nb.sum(nb.tanh(t @ a) * nb.exp(-t), axis=0) / 3.0

    results = [f(a).numpy() for _ in range(3)]  # op by op, then fused twice
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[1], results[2])


# ---------------------------------------------------------------------------
# Training loops: one program per step, whatever the loop reads
# ---------------------------------------------------------------------------
def _mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    x = nb.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    y = nb.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    params = [rng.standard_normal((8, 12)).astype(np.float32) * 0.3, np.zeros(12, np.float32),
              rng.standard_normal((12, 1)).astype(np.float32) * 0.3, np.zeros(1, np.float32)]
    return x, y, params


def _loss(p, x, y):
    h = nb.tanh(x @ p[0] + p[1])
    return nb.mean((h @ p[2] + p[3] - y) ** 2)


def _train_backward(steps, read_every, read_before_backward=False):
    x, y, init = _mlp_data()
    params = [nb.tensor(p).requires_grad_() for p in init]
    losses, stats = [], _StepStats()
    for i in range(steps):
        loss = _loss(params, x, y)
        if read_before_backward and i % read_every == 0:
            losses.append(loss.item())
        loss.backward()
        with nb.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        if not read_before_backward and i % read_every == read_every - 1:
            losses.append(loss.item())
        stats.step(i)
    losses.append(loss.item())
    return losses, stats.since(), [p.numpy() for p in params]


class _StepStats:
    """Compile stats after the first and the third step of a loop."""

    def step(self, i: int) -> None:
        if i == 0:
            self.after_first = nb.compile_stats()
        if i == 2:
            self.after_third = nb.compile_stats()

    def since(self):
        end = nb.compile_stats()
        return end - self.after_first, end - self.after_third


def _train_value_and_grad(steps, read_every):
    x, y, init = _mlp_data()
    params = [nb.tensor(p) for p in init]
    step = nb.value_and_grad(_loss)
    losses, stats = [], _StepStats()
    for i in range(steps):
        loss, grads = step(params, x, y)
        params = [p - 0.1 * g for p, g in zip(params, grads)]
        if i % read_every == read_every - 1:
            losses.append(loss.item())
        stats.step(i)
    losses.append(loss.item())
    return losses, stats.since(), [p.numpy() for p in params]


READ_PATTERNS = {"every step": 1, "every 10": 10, "every 50": 50, "only at the end": 10**9}


@pytest.mark.parametrize("style", ["backward", "value_and_grad"])
@pytest.mark.parametrize("pattern", list(READ_PATTERNS))
def test_training_loop_compiles_a_fixed_number_of_programs(style, pattern):
    nb.clear_caches()  # each pattern starts cold
    train = _train_backward if style == "backward" else _train_value_and_grad
    losses, (delta, warm), params = train(200, READ_PATTERNS[pattern])
    assert delta.fused_compiles <= 2, delta
    assert warm.compiles == 0, warm  # nothing compiles from the third step on
    assert warm.fused_runs == warm.executions == 197, warm  # one program a step, reads free
    x, y, init = _mlp_data()
    assert losses[-1] < 0.5 * _loss([nb.tensor(p) for p in init], x, y).item()


@pytest.mark.parametrize("read_every", [1, 10])
def test_reading_before_backward_runs_at_most_two_programs_a_step(read_every):
    nb.clear_caches()
    losses, (delta, warm), _ = _train_backward(100, read_every, read_before_backward=True)
    assert delta.fused_compiles <= 3, delta
    assert warm.fused_runs <= 2 * 97 + 1 and warm.op_by_op_runs <= 1, warm
    assert losses[-1] < losses[0]


def test_read_patterns_and_styles_train_the_same_parameters():
    _, _, every = _train_backward(30, 1)
    _, _, never = _train_backward(30, 10**9)
    _, _, before = _train_backward(30, 1, read_before_backward=True)
    _, _, functional = _train_value_and_grad(30, 7)
    for others in (never, before, functional):
        for a, b in zip(every, others):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_reading_the_loss_before_backward_does_not_recompute_the_forward():
    x, y, init = _mlp_data()
    params = [nb.tensor(p).requires_grad_() for p in init]
    loss = _loss(params, x, y)
    loss.item()
    # every value backward() will read was written out by the read
    nodes = toposort([loss._value], lambda v: v.buffer is not None and v.node is None)
    assert all(u.buffer is not None for n in nodes for u in n.inputs if u.node is not None)
    loss.backward()
    grads = [p.grad.numpy() for p in params]
    want = nb.grad(_loss)([nb.tensor(p) for p in init], x, y)
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# Loops without boundaries: auto flushes at the same place of the body
# ---------------------------------------------------------------------------
def test_unread_loop_is_cut_into_repeating_chunks(monkeypatch):
    monkeypatch.setattr(lazy, "AUTO_FLUSH_NODES", 60)
    monkeypatch.setattr(lazy._tape, "limit", 60)
    x = nb.tensor(np.ones(4, np.float32))
    before = nb.compile_stats()
    for _ in range(700):   # a body of 3 ops: the cut must land on the same op every time
        x = nb.sin(x * 1.0001) + 0.5
    assert lazy.pending_count() <= 2 * 60
    got = x.numpy()
    d = nb.compile_stats() - before
    assert d.fused_compiles <= 3, d
    want = np.ones(4)
    for _ in range(700):
        want = np.sin(want * 1.0001) + 0.5
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_inplace_updates_cut_long_tapes_at_the_same_update(monkeypatch):
    monkeypatch.setattr(lazy, "SOFT_FLUSH_NODES", 40)
    a = nb.tensor(np.full(3, 0.5, np.float32))
    b = nb.tensor(np.full(3, 0.25, np.float32))
    before = nb.compile_stats()
    for _ in range(300):
        with nb.no_grad():
            a -= 0.01 * nb.sin(a + b)
            b -= 0.01 * nb.cos(a * b)
    d = nb.compile_stats() - before
    assert lazy.pending_count() < 2 * 40 + 10
    assert d.fused_compiles <= 3, d
    wa, wb = np.full(3, 0.5), np.full(3, 0.25)
    for _ in range(300):
        wa = wa - 0.01 * np.sin(wa + wb)
        wb = wb - 0.01 * np.cos(wa * wb)
    np.testing.assert_allclose(a.numpy(), wa, rtol=1e-4)
    np.testing.assert_allclose(b.numpy(), wb, rtol=1e-4)


def test_discarded_results_are_freed_at_once():
    x = nb.tensor(np.ones(100, np.float32))
    y = x * 2.0
    node = y._value.node
    import weakref
    ref = weakref.ref(y._value)
    del y
    assert ref() is None and node is not None  # no tape, cache or pending set holds it


# ---------------------------------------------------------------------------
# Memory and deep graphs
# ---------------------------------------------------------------------------
def test_memory_stays_flat_over_20000_eager_steps():
    x = nb.tensor(np.ones(16, np.float32))
    w = nb.tensor(np.full(16, 0.5, np.float32))
    for _ in range(300):  # warm up caches and allocator
        x = (x * w + 1.0) * 0.5
        x.realize()
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for i in range(20_000):
        x = (x * w + 1.0) * 0.5
        if i % 10 == 0:
            x.realize()
    x.realize()
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown - base < 300_000, f"memory grew by {grown - base} bytes"
    np.testing.assert_allclose(x.numpy(), np.full(16, 2 / 3), rtol=1e-5)


def test_training_loop_memory_is_flat():
    _train_backward(20, 10**9)
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    _train_backward(400, 10)
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown - base < 400_000, grown - base


def test_100k_node_chain_records_and_realizes_without_recursion(monkeypatch):
    monkeypatch.setattr(lazy._tape, "limit", 10**9)
    x = nb.tensor(np.zeros(3, np.float32))
    y = x
    for _ in range(100_000):
        y = y + 1.0
    order = toposort([y._value], lambda v: v.buffer is not None)
    assert len(order) == 100_000
    plan = lazy._schedule(order, {})
    # numbered: the leaf, and per node its literal and its output
    assert plan is not None and plan.pos == 200_001 and len(plan.nodes) == 100_000


def test_100k_node_chain_traces_and_lowers_without_recursion():
    import nabla_like.lowering as lowering

    def chain(t):
        for _ in range(100_000):
            t = t + 1.0
        return t
    g = nb.make_graph(chain)(nb.zeros((3,)))
    assert len(g.nodes) == 100_001  # one shared constant and an add per step
    text = lowering.lower_graph(g)
    assert text.count("stablehlo.add") == 100_000


def test_repr_formats():
    assert repr(nb.tensor([2.0, 4.0, 6.0])) == "Tensor([2. 4. 6.] : f32[3])"
    assert repr(nb.tensor(39.0)) == "Tensor(39. : f32[])"
    r = repr(nb.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert r.startswith("Tensor(\n[[1. 2. 3.]") and r.endswith(" : f32[2,3]\n)")
    assert repr(nb.tensor([1, 2], dtype=nb.int64)) == "Tensor([1 2] : i64[2])"


def test_dlpack_round_trip_with_numpy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = nb.Tensor.from_dlpack(a)
    np.testing.assert_array_equal(np.from_dlpack(t * 1.0), a)


def test_compile_stats_are_reachable_from_nb():
    s = nb.compile_stats()
    for field in ("compiles", "compile_seconds", "jit_compiles", "fused_compiles",
                  "kernel_compiles", "fused_programs", "kernels", "jit_signatures", "pending"):
        assert getattr(s, field) >= 0
    assert "CompileStats(" in repr(s)
    assert nb.ProgramCache.misses == s.fused_compiles + s.kernel_compiles


def test_a_heavy_forward_runs_when_backward_starts(monkeypatch):
    from nabla_like import autograd
    monkeypatch.setattr(autograd, "SPLIT_FLOPS", 0.0)  # every forward counts as heavy
    nb.clear_caches()
    losses, (delta, warm), params = _train_backward(60, 1)
    # two programs a step: the forward (and last step's update), then the gradients
    assert warm.fused_runs == warm.executions == 2 * 57, warm
    assert delta.fused_compiles <= 3, delta
    monkeypatch.setattr(autograd, "SPLIT_FLOPS", float("inf"))
    _, _, together = _train_backward(60, 1)
    for a, b in zip(params, together):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_flops_estimates():
    x = nb.ones((8, 16))
    w = nb.ones((16, 4))
    node = (x @ w)._value.node
    assert node.prim.flops(node) == 2 * 8 * 4 * 16
    y = nb.sin(x)
    assert y._value.node.prim.flops(y._value.node) == 8 * 16


def test_reading_one_output_of_a_pending_multi_output_node_then_using_its_sibling():
    # The read materializes `a` only; the next program runs the node again for `b`, and
    # `a` is then both a leaf of that program and an output of one of its nodes.
    w = nb.ones((3, 3)).requires_grad_()
    f = nb.jit(lambda w: (w * 2.0, w * 3.0))
    for _ in range(3):  # op by op, then fused
        a, b = f(w)
        np.testing.assert_allclose(a.numpy(), 2 * np.ones((3, 3)))
        np.testing.assert_allclose((nb.transpose(a) @ b).numpy(), 18 * np.ones((3, 3)))
