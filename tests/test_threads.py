"""Threads: grad mode, the trace stack and pending work belong to one thread; shared caches
stay consistent; results from threads equal the single-threaded ones."""
import threading

import numpy as np
import pytest

import nabla_like as nb


def run_threads(*targets, timeout=120):
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported in the main thread
                errors.append(e)
        return run
    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def _train(steps, seed=0):
    rng = np.random.default_rng(seed)
    x = nb.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = nb.tensor(rng.standard_normal((16,)).astype(np.float32))
    w = nb.tensor(np.zeros(4, np.float32)).requires_grad_()
    for _ in range(steps):
        loss = nb.mean((nb.sum(x * w, axis=1) - y) ** 2)
        loss.backward()
        with nb.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    return w.numpy()


def test_no_grad_in_another_thread_does_not_touch_training():
    want = _train(300)
    inside, done = threading.Event(), threading.Event()
    results = {}

    def evaluator():
        with nb.no_grad():
            inside.set()
            results["grad_enabled_inside"] = nb.grad_enabled()
            x = nb.ones((8,)).requires_grad_()
            while not done.is_set():
                assert not (x * 2.0).requires_grad
        results["grad_enabled_after"] = nb.grad_enabled()

    def trainer():
        inside.wait(30)
        try:
            results["w"] = _train(300)
        finally:
            done.set()
    run_threads(evaluator, trainer)
    np.testing.assert_allclose(results["w"], want, rtol=1e-6, atol=1e-7)
    assert results["grad_enabled_inside"] is False and results["grad_enabled_after"] is True
    assert nb.grad_enabled()


def test_one_no_grad_decorator_entered_by_several_threads():
    barrier = threading.Barrier(3)
    seen = []

    @nb.no_grad()
    def evaluate():
        barrier.wait(30)  # all three threads are inside the same decorator object
        seen.append(nb.grad_enabled())
        barrier.wait(30)

    def worker():
        evaluate()
        seen.append(("after", nb.grad_enabled()))
    run_threads(worker, worker, worker)
    assert seen.count(False) == 3 and seen.count(("after", True)) == 3


def test_concurrent_eager_reads_equal_numpy():
    def worker(seed):
        def run():
            rng = np.random.default_rng(seed)
            a = rng.standard_normal((32,)).astype(np.float32)
            t = nb.tensor(a)
            for i in range(200):
                outs = [nb.tanh(t * float(i)) + float(k) for k in range(3)]
                got = outs[i % 3].numpy()
                np.testing.assert_allclose(got, np.tanh(a * i) + i % 3, rtol=1e-5, atol=1e-6)
        return run
    run_threads(*[worker(s) for s in range(4)])


def test_pending_work_of_one_thread_is_read_by_another():
    x = nb.tensor(np.arange(5, dtype=np.float32))
    y = nb.exp(x) * 2.0  # pending, recorded by this thread
    out = {}

    def reader():
        out["z"] = (y + 1.0).numpy()
    run_threads(reader)
    np.testing.assert_allclose(out["z"], np.exp(np.arange(5)) * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), np.exp(np.arange(5)) * 2, rtol=1e-6)


def test_two_threads_trace_jit_at_the_same_time():
    barrier = threading.Barrier(2)
    results = {}

    def make(name, scale):
        @nb.jit
        def f(x):
            y = nb.sin(x) * scale
            barrier.wait(30)  # both traces are open now, on different threads
            return y + nb.cos(x)

        def run():
            x = nb.tensor(np.linspace(0, 1, 7, dtype=np.float32))
            results[name] = [f(x).numpy() for _ in range(3)][-1]
        return run
    run_threads(make("a", 2.0), make("b", 3.0))
    xs = np.linspace(0, 1, 7)
    np.testing.assert_allclose(results["a"], np.sin(xs) * 2 + np.cos(xs), rtol=1e-6)
    np.testing.assert_allclose(results["b"], np.sin(xs) * 3 + np.cos(xs), rtol=1e-6)


def test_grad_traces_in_threads_equal_single_threaded():
    def f(w, x):
        return nb.sum(nb.tanh(x @ w) ** 2)
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((6, 3)).astype(np.float32)
    xs = [rng.standard_normal((5, 6)).astype(np.float32) for _ in range(4)]
    want = [nb.grad(f)(nb.tensor(w0), nb.tensor(x)).numpy() for x in xs]
    got = {}

    def worker(i):
        def run():
            for _ in range(20):
                got[i] = nb.grad(f)(nb.tensor(w0), nb.tensor(xs[i])).numpy()
        return run
    run_threads(*[worker(i) for i in range(4)])
    for i in range(4):
        np.testing.assert_allclose(got[i], want[i], rtol=1e-5, atol=1e-6)


def test_a_traced_value_used_in_another_thread_is_a_leak():
    box, ready, used = [], threading.Event(), threading.Event()
    errors = []

    def f(x):
        box.append(x)
        ready.set()
        used.wait(30)
        return x * 2.0

    def other():
        ready.wait(30)
        try:
            box[0] + 1.0
        except nb.TracerLeakError as e:
            errors.append(e)
        finally:
            used.set()
    run_threads(lambda: nb.jit(f)(nb.ones((2,))), other)
    assert errors and "escaped" in str(errors[0])


def test_stateful_random_draws_from_threads_never_repeat():
    nb.seed(7)
    draws = []
    lock = threading.Lock()

    def worker():
        for _ in range(25):
            v = nb.gaussian((4,)).numpy()
            with lock:
                draws.append(tuple(v.tolist()))
    run_threads(*[worker] * 4)
    assert len(draws) == 100 and len(set(draws)) == 100


def test_shared_caches_under_contention():
    nb.clear_caches()
    rng = np.random.default_rng(5)
    a = rng.standard_normal((8, 8)).astype(np.float32)
    want = np.tanh(a @ a) * 0.5 + np.sin(a)
    results = []

    def worker():
        t = nb.tensor(a)
        for _ in range(30):
            results.append((nb.tanh(t @ t) * 0.5 + nb.sin(t)).numpy())
    run_threads(*[worker] * 4)
    assert len(results) == 120
    for r in results:
        np.testing.assert_allclose(r, want, rtol=1e-5, atol=1e-6)
    assert nb.compile_stats().fused_programs >= 1


@pytest.mark.parametrize("style", ["backward", "functional"])
def test_training_in_two_threads_at_once(style):
    def functional(steps, seed):
        rng = np.random.default_rng(seed)
        x = nb.tensor(rng.standard_normal((16, 4)).astype(np.float32))
        y = nb.tensor(rng.standard_normal((16,)).astype(np.float32))
        w = nb.zeros((4,))
        g = nb.grad(lambda w: nb.mean((nb.sum(x * w, axis=1) - y) ** 2))
        for _ in range(steps):
            w = w - 0.1 * g(w)
        return w.numpy()
    train = _train if style == "backward" else functional
    want = [train(150, seed) for seed in (1, 2)]
    got = {}
    run_threads(*[(lambda s: lambda: got.__setitem__(s, train(150, s)))(s) for s in (1, 2)])
    np.testing.assert_allclose(got[1], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[2], want[1], rtol=1e-6)
