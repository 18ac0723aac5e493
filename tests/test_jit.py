"""jit: agreement with eager code, cache keys, statics, donation, composition with transforms."""
import textwrap

import numpy as np
import pytest

import nabla_like as nb
from nabla_like.lowering import runtime

from .optable import all_cases, case_seed


def close(a, b, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


# ---------------------------------------------------------------------------
# jit vs eager over the op table
# ---------------------------------------------------------------------------
CASES = [c for c in all_cases()]
# Cases are jitted in groups, one program (one XLA compile) per group; a failing group is
# retried case by case to name the case.
GROUP = 32
GROUPS = [CASES[i:i + GROUP] for i in range(0, len(CASES), GROUP)]


def _case_args(case):
    dtype = "float32" if "float32" in case.dtypes else case.dtypes[0]
    rng = np.random.default_rng(case_seed(case))
    return [nb.tensor(a) for a in case.make_inputs(rng, dtype)]


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(case, eager, jitted):
    e_l, j_l = _as_list(eager), _as_list(jitted)
    assert len(e_l) == len(j_l), case.name
    for e, j in zip(e_l, j_l):
        assert e.dtype == j.dtype and e.shape == j.shape, (case.name, e, j)
        # XLA may fuse differently in one program than in another: allow float rounding
        tol = 0 if e.dtype.kind != "f" else 1e-5
        np.testing.assert_allclose(np.asarray(j.numpy(), np.float64), np.asarray(e.numpy(), np.float64),
                                   rtol=tol, atol=tol, err_msg=case.name)


@pytest.mark.parametrize("cases", GROUPS, ids=[f"{g[0].name}..{g[-1].name}" for g in GROUPS])
def test_jit_matches_eager(cases):
    args = [_case_args(c) for c in cases]
    eager = [c.fn(*a) for c, a in zip(cases, args)]
    nb.realize_all(eager)
    try:
        jitted = nb.jit(lambda all_args: [c.fn(*a) for c, a in zip(cases, all_args)])(args)
    except Exception:
        for c, a in zip(cases, args):  # name the case that fails
            nb.jit(c.fn)(*a)
        raise
    for case, e, j in zip(cases, eager, jitted):
        _compare(case, e, j)


# ---------------------------------------------------------------------------
# Cache keys: retrace exactly when shape, dtype, structure or a static value changes
# ---------------------------------------------------------------------------
def test_retrace_rules():
    traces = []

    @nb.jit
    def f(x, y):
        traces.append(1)
        return x * 2 + y
    a, b = nb.ones((3,)), nb.ones((3,))
    f(a, b)
    f(a * 3, b + 1)                              # same avals: hit
    assert len(traces) == 1 and f.stats.hits == 1
    f(nb.ones((4,)), nb.ones((4,)))              # shape
    assert len(traces) == 2 and "f32[3] -> f32[4]" in f.explain_cache_miss()
    f(nb.ones((3,), dtype=nb.float64), b)        # dtype
    assert len(traces) == 3 and "f64[3]" in f.explain_cache_miss()
    f(a, 2.0)                                    # a Python scalar instead of a tensor
    f(a, 5.0)                                    # its value does not retrace
    assert len(traces) == 4
    assert f.cache_info()["misses"] == 4


def test_retrace_on_structure_and_static_values():
    traces = []

    @nb.jit
    def g(params):
        traces.append(1)
        return sum(nb.sum(p) for p in nb.tree.leaves(params))
    g({"a": nb.ones((2,))})
    g({"a": nb.ones((2,))})
    g({"a": nb.ones((2,)), "b": nb.ones((2,))})
    assert len(traces) == 2 and "structure" in g.explain_cache_miss()

    calls = []

    def h(x, n, *, mode):
        calls.append((n, mode))
        return x * n if mode == "mul" else x + n
    hj = nb.jit(h, static_argnums=1, static_argnames="mode")
    close(hj(nb.ones((2,)), 3, mode="mul"), [3, 3])
    close(hj(nb.ones((2,)), 3, mode="mul"), [3, 3])
    close(hj(nb.ones((2,)), 4, mode="mul"), [4, 4])
    close(hj(nb.ones((2,)), 4, mode="add"), [5, 5])
    assert calls == [(3, "mul"), (4, "mul"), (4, "add")]
    assert "static argument 'mode' changed: 'mul' -> 'add'" == hj.explain_cache_miss()


def test_unhashable_static_argument():
    f = nb.jit(lambda x, cfg: x, static_argnums=1)
    with pytest.raises(nb.JitError, match="not hashable") as e:
        f(nb.ones(2), [1, 2])
    assert "test_jit.py" in str(e.value)
    assert isinstance(e.value, TypeError)


def test_non_array_dynamic_argument_is_an_error():
    with pytest.raises(nb.JitError, match="static_argnums"):
        nb.jit(lambda x, s: x)(nb.ones(2), "text")


# ---------------------------------------------------------------------------
# lower / compile / golden text
# ---------------------------------------------------------------------------
GOLDEN = textwrap.dedent("""\
    module @jit_affine {
      func.func public @main(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32>) {
        %v0 = "stablehlo.multiply"(%arg0, %arg1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %v1 = "stablehlo.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<3xf32>
        %v2 = "stablehlo.add"(%v0, %v1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        "func.return"(%v2) : (tensor<3xf32>) -> ()
      }
    }
    """)


def test_golden_stablehlo_of_a_jitted_function():
    def affine(w, x):
        return w * x + 1.0
    lowered = nb.jit(affine).lower(nb.ones((3,)), nb.ones((3,)))
    assert lowered.as_text() == GOLDEN
    compiled = lowered.compile()
    close(compiled(nb.tensor([1.0, 2.0, 3.0]), nb.tensor([2.0, 2.0, 2.0])), [3, 5, 7])
    assert compiled.memory_analysis().output_size_in_bytes == 12
    assert "HloModule" in compiled.hlo_text()


def test_whole_function_is_one_executable():
    @nb.jit
    def step(w, x, y):
        loss, g = nb.value_and_grad(lambda w: nb.mean((nb.sum(x * w, axis=1) - y) ** 2))(w)
        return w - 0.1 * g, loss
    w, x, y = nb.ones((3,)), nb.ones((5, 3)), nb.zeros((5,))
    w2, loss = step(w, x, y)
    before = runtime.stats.executions
    w3, loss3 = step(w2, x, y)
    assert runtime.stats.executions - before == 1
    close(loss, 9.0)
    close(w2, 1 - 0.1 * 2 * 3 * np.ones(3))
    assert "stablehlo.reduce" in step.lower(w, x, y).as_text()


# ---------------------------------------------------------------------------
# Composition with transforms
# ---------------------------------------------------------------------------
def test_grad_of_jit_and_jit_of_grad():
    f = nb.jit(lambda x: nb.sum(nb.sin(x) * x))
    x = nb.tensor([0.3, 0.6])
    expected = np.cos([0.3, 0.6]) * [0.3, 0.6] + np.sin([0.3, 0.6])
    close(nb.grad(f)(x), expected)
    close(nb.jit(nb.grad(lambda x: nb.sum(nb.sin(x) * x)))(x), expected)
    close(nb.vmap(f)(nb.tensor([[0.3], [0.6]])), np.sin([0.3, 0.6]) * [0.3, 0.6])
    close(nb.jit(nb.vmap(nb.grad(lambda x: nb.sum(x ** 3))))(nb.tensor([[1.0], [2.0]])), [[3], [12]])
    close(nb.jit(nb.jacfwd(nb.jacrev(lambda x: nb.sum(x ** 3))))(nb.tensor([1.0, 2.0])),
          np.diag([6, 12]))


def test_jit_with_pytrees_and_closures():
    scale = nb.tensor(3.0)

    @nb.jit
    def f(params, x):
        return {"out": params["w"] * x * scale, "n": params["b"]}
    out = f({"w": nb.tensor(2.0), "b": nb.tensor([1.0])}, nb.tensor(4.0))
    close(out["out"], 24.0)
    close(out["n"], [1.0])


def test_donation_reuses_the_buffer():
    f = nb.jit(lambda w, g: w - 0.1 * g, donate_argnums=0)
    w = nb.ones((1000,))
    w = w * 1.0
    w.realize()
    g = nb.ones((1000,))
    w2 = f(w, g)
    close(w2.numpy()[:3], [0.9] * 3)
    with pytest.raises(nb.JitError, match="donated"):
        w + 1.0


def test_python_scalar_arguments_share_buffers_by_exact_value():
    # A Python scalar argument's device buffer is kept per exact value (a learning rate
    # passed every step): equal bytes share one, and -0.0, 0.0 and NaN stay apart.
    f = nb.jit(lambda x, a: 1.0 / (x * a))
    x = nb.ones((2,))
    for a, want in ((2.0, 0.5), (-0.0, -np.inf), (0.0, np.inf), (2.0, 0.5), (-0.0, -np.inf)):
        np.testing.assert_array_equal(f(x, a).numpy(), [want, want])
    assert np.isnan(f(x, float("nan")).numpy()).all()
    g = nb.jit(lambda x, n, b: x * n + b)
    for n, b in ((3, True), (3, False), (True, 3), (3, True)):
        np.testing.assert_array_equal(g(x, n, b).numpy(), [n + b] * 2)
    k = nb.jit(lambda i, n: i + n)
    assert k(nb.tensor(1), 5).item() == 6 and k(nb.tensor(1), 5).item() == 6
    with pytest.raises(nb.NablaError, match="does not fit"):
        k(nb.tensor(1), 2 ** 31)  # (checked before any buffer is looked up or kept)
    # a donated scalar argument is put fresh each call (XLA may take its buffer)
    h = nb.jit(lambda w, s: w * s, donate_argnums=(0, 1))
    for s in (2.0, 2.0, 3.0):
        w = nb.ones((4,)) * 1.0
        w.realize()
        np.testing.assert_array_equal(h(w, s).numpy(), [s] * 4)


def test_dispatch_does_not_retrace_or_recompile():
    f = nb.jit(lambda x: x + 1.0)
    x = nb.ones((3,))
    f(x)
    before = runtime.stats.compiles
    for _ in range(200):
        f(x)
    assert runtime.stats.compiles == before
    assert f.stats.hits == 200


def test_jit_inside_eager_backward():
    f = nb.jit(lambda w, x: nb.sum(nb.sin(w) * x))
    w = nb.tensor([0.1, 0.2]).requires_grad_()
    loss = f(w, nb.tensor([1.0, 2.0]))
    loss.backward()
    close(w.grad, np.cos([0.1, 0.2]) * [1, 2])


def test_jit_on_grad_tracking_arguments_runs_its_program_and_records_one_call():
    """Arguments that require grad still run the compiled program (no lazy replay), and the
    outputs carry history where the program makes them depend on those arguments."""
    f = nb.jit(lambda w, x: (nb.sum(nb.sin(w) * x), w * 2, nb.argmax(x)))
    w, x = nb.tensor([0.1, 0.2]).requires_grad_(), nb.tensor([1.0, 2.0])
    f(w, x)
    before = nb.compile_stats()
    loss, doubled, idx = f(w, x)
    d = nb.compile_stats() - before
    assert (d.compiles, d.fused_runs, d.op_by_op_runs, d.executions) == (0, 0, 0, 1)
    assert loss._value.buffer is not None and loss.requires_grad and doubled.requires_grad
    assert not idx.requires_grad and int(idx) == 1
    (loss + nb.sum(doubled)).backward()
    close(w.grad, np.cos([0.1, 0.2]) * [1, 2] + 2)


def test_jax_style_loop_over_grad_tracking_module_builds_no_history():
    """A module's parameters require grad (as in PyTorch); a jitted functional step whose
    update runs under no_grad returns parameters without history, so a loop of such steps
    keeps no chain of nodes (and its memory flat)."""
    model = nb.nn.Linear(3, 1)
    x, y = nb.ones((8, 3)), nb.zeros((8, 1))
    opt = nb.optim.SGD(lr=0.1)
    state = opt.init(model)

    @nb.jit
    def step(model, state):
        loss, grads = nb.value_and_grad(lambda m: nb.mean((m(x) - y) ** 2))(model)
        model, state = opt.update(grads, state, model)
        return model, state, loss
    model, state, loss = step(model, state)
    assert loss.requires_grad  # it depends on the parameters, which require grad
    assert model.weight._value.node is None and not model.weight.requires_grad
    for _ in range(50):
        model, state, loss = step(model, state)
    assert model.weight._value.node is None and loss._value.node is None
    assert float(loss) < 1e-3


def test_donation_computes_pending_readers_first_and_rejects_aliases():
    step = nb.jit(lambda p: p * 0.5, donate_argnums=0)
    a = nb.tensor(np.array([1.0, 2.0], np.float32))
    c = a + 5  # pending, reads a
    step(a)
    close(c, [6, 7])
    f = nb.jit(lambda a, b: a + b, donate_argnums=0)
    b = (nb.tensor([1.0, 2.0]) * 1.0).realize()
    with pytest.raises(nb.JitError, match="also passed"):
        f(b, b)


def test_static_arguments_follow_the_signature():
    def f(x, n=2):
        return x * n
    close(nb.jit(f, static_argnums=1)(nb.ones(2)), [2, 2])
    close(nb.jit(f, static_argnums=1)(nb.ones(2), n=3), [3, 3])

    def g(x, n):
        for _ in range(n):  # Python control flow on a static argument
            x = x * 2
        return x
    close(nb.jit(g, static_argnames="n")(nb.ones(2), 3), [8, 8])
    close(nb.jit(g, static_argnums=-1)(nb.ones(2), 2), [4, 4])


def test_compiled_checks_its_signature():
    compiled = nb.jit(lambda x: x * 2).lower(nb.ones(3)).compile()
    close(compiled(nb.ones(3)), [2, 2, 2])
    with pytest.raises(nb.JitError, match="f32\\[3\\] -> f32\\[4\\]"):
        compiled(nb.ones(4))


def test_python_ints_that_do_not_fit_their_dtype_are_range_errors():
    u = nb.tensor([5], dtype=nb.uint8)
    close(nb.jit(lambda u: u + 250)(u), [255])
    with pytest.raises(nb.RangeError, match="-1 is out of range for uint8"):  # as NumPy 2
        nb.jit(lambda u: u + (-1))(u)
    f = nb.jit(lambda x, n: x * n)
    close(f(nb.ones(2), 3), [3, 3])
    with pytest.raises(OverflowError, match="does not fit"):  # a cache hit: the value is new
        f(nb.ones(2), 2**40)
    with pytest.raises(nb.RangeError, match="out of range for int32"):  # a miss: traced
        nb.jit(lambda x, n: x * n)(nb.ones(2), 2**40)


def test_cache_is_bounded_least_recently_used_first():
    f = nb.jit(lambda x: x * 2.0 + 1.0, cache_size=4)
    for n in range(1, 11):
        np.testing.assert_allclose(f(nb.ones((n,))).numpy(), np.full(n, 3.0))
    info = f.cache_info()
    assert info["size"] == 4 and info["max_size"] == 4 and info["misses"] == 10
    f(nb.ones((10,)))          # still held: a hit
    assert f.cache_info()["misses"] == 10
    f(nb.ones((1,)))           # dropped long ago: compiles again
    assert f.cache_info()["misses"] == 11 and f.cache_info()["size"] == 4


def test_default_cache_bound_keeps_memory_flat():
    import gc
    import tracemalloc
    default = nb.jit(lambda x: x).cache_info()["max_size"]
    assert isinstance(default, int) and 1 <= default <= 1024  # bounded unless asked otherwise
    # the bound at work, on a smaller cache (the eviction is the same at any size)
    f = nb.jit(lambda x: nb.sin(x) * 2.0, cache_size=8)
    limit = f.cache_info()["max_size"]
    for n in range(1, limit + 1):
        f(nb.ones((n,)))
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for n in range(limit + 1, limit + 61):
        f(nb.ones((n,)))
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert f.cache_info()["size"] == limit
    assert grown - base < 1_000_000, grown - base  # 60 more signatures, none kept


def test_cache_size_must_be_positive():
    with pytest.raises(nb.JitError):
        nb.jit(lambda x: x, cache_size=0)


def test_calls_hold_no_memory():
    """Every run of a program must free what it allocated (jaxlib's per-array traceback
    records once grew memory by ~110 bytes a call)."""
    import gc
    import tracemalloc
    f = nb.jit(lambda x: x * 2.0)
    x = nb.ones((16,))
    for _ in range(100):
        f(x)
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for _ in range(5000):
        f(x)
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown - base < 50_000, grown - base
