"""Benchmark workloads, each written once per library.

A workload is a function `make(lib) -> step` where `step()` runs one timed unit of
work to completion (results read back or blocked on); `step.per = n` reports the
time per one of n repetitions inside it. `lib` is "nabla", "jax", "numpy" or
"torch"; a workload returns None for a library it does not apply to. Imports
happen inside, so the nabla worker never imports jax (or torch).
"""
from __future__ import annotations

import numpy as np

REGISTRY: dict[str, dict] = {}


def workload(name: str, title: str, group: str, fresh: bool = False, kind: str = "time",
             devices: int = 1):
    """Register a workload. `fresh`: each measurement starts from empty compile caches.
    `kind="count"`: make(lib) returns a function whose result (a number) is reported, once,
    from cold caches, instead of a time. `devices`: the host CPU devices its workers have
    (XLA's host platform split, in workers of their own)."""
    def deco(fn):
        REGISTRY[name] = {"make": fn, "title": title, "group": group, "fresh": fresh, "kind": kind,
                          "devices": devices}
        return fn
    return deco


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------------
# Core engine (eager)
# ---------------------------------------------------------------------------
@workload("chain200", "200-op elementwise chain, f32[1000], eager", "engine")
def chain200(lib):
    x0 = _rand(1000)
    if lib == "nabla":
        import nabla_like as nb
        x = nb.tensor(x0)

        def step():
            y = x
            for _ in range(50):
                y = nb.sin(y) * 1.01 + 0.5
                y = nb.tanh(y) - 0.1
            return y.numpy()
    elif lib == "jax":
        import jax.numpy as jnp
        x = jnp.asarray(x0)

        def step():
            y = x
            for _ in range(50):
                y = jnp.sin(y) * 1.01 + 0.5
                y = jnp.tanh(y) - 0.1
            return y.block_until_ready()
    else:
        x = x0

        def step():
            y = x
            for _ in range(50):
                y = np.sin(y) * np.float32(1.01) + np.float32(0.5)
                y = np.tanh(y) - np.float32(0.1)
            return y
    return step


@workload("matmul1000", "1000x1000 f32 matmul, eager", "engine")
def matmul1000(lib):
    a0, b0 = _rand(1000, 1000, seed=1), _rand(1000, 1000, seed=2)
    if lib == "nabla":
        import nabla_like as nb
        a, b = nb.tensor(a0), nb.tensor(b0)
        return lambda: (a @ b).numpy()
    if lib == "jax":
        import jax.numpy as jnp
        a, b = jnp.asarray(a0), jnp.asarray(b0)
        return lambda: (a @ b).block_until_ready()
    return lambda: a0 @ b0


# ---------------------------------------------------------------------------
# Shared model: an MLP 784-512-512-10 with softmax cross-entropy, batch 128
# ---------------------------------------------------------------------------
def _mlp_data():
    rng = np.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((a, b)).astype(np.float32) * np.float32(np.sqrt(2 / a)),
                       np.zeros(b, np.float32)))
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    onehot = np.eye(10, dtype=np.float32)[labels]
    return params, x, onehot


def _nb_mlp():
    import nabla_like as nb

    def predict(params, x):
        for w, b in params[:-1]:
            x = nb.relu(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    def loss(params, x, y):
        return -nb.mean(nb.sum(nb.log_softmax(predict(params, x)) * y, axis=1))
    return nb, loss


def _jax_mlp():
    import jax
    import jax.numpy as jnp

    def predict(params, x):
        for w, b in params[:-1]:
            x = jax.nn.relu(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    def loss(params, x, y):
        return -jnp.mean(jnp.sum(jax.nn.log_softmax(predict(params, x)) * y, axis=1))
    return jax, jnp, loss


def _mlp_step(lib, jitted: bool):
    params0, x0, y0 = _mlp_data()
    if lib == "nabla":
        nb, loss = _nb_mlp()

        def step_fn(params, x, y):
            value, grads = nb.value_and_grad(loss)(params, x, y)
            return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)], value
        step_fn = nb.jit(step_fn) if jitted else step_fn
        state = {"p": [(nb.tensor(w), nb.tensor(b)) for w, b in params0]}
        x, y = nb.tensor(x0), nb.tensor(y0)

        def step():
            state["p"], value = step_fn(state["p"], x, y)
            return value.item()
        return step
    if lib == "jax":
        jax, jnp, loss = _jax_mlp()

        def step_fn(params, x, y):
            value, grads = jax.value_and_grad(loss)(params, x, y)
            return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)], value
        step_fn = jax.jit(step_fn) if jitted else step_fn
        state = {"p": [(jnp.asarray(w), jnp.asarray(b)) for w, b in params0]}
        x, y = jnp.asarray(x0), jnp.asarray(y0)

        def step():
            state["p"], value = step_fn(state["p"], x, y)
            return float(value)
        return step
    return None


@workload("data_parallel_mlp", "data-parallel MLP 784-512-512-10 train step, batch 256 over 8 "
          "host devices (params replicated, batch split), jitted", "scale-out", devices=8)
def data_parallel_mlp(lib):
    params0, x0, y0 = _mlp_data()
    x0, y0 = np.concatenate([x0, x0[::-1]]), np.concatenate([y0, y0[::-1]])
    if lib == "nabla":
        nb, loss = _nb_mlp()
        mesh = nb.make_mesh((8,), ("data",))
        rows, rep = nb.NamedSharding(mesh, nb.P("data")), nb.NamedSharding(mesh, nb.P())
        put = lambda a, s: nb.shard(a, s)  # noqa: E731
        jit = lambda f: nb.jit(f, in_shardings=(rep, rows, rows), out_shardings=rep)  # noqa: E731
        grad, read = nb.value_and_grad, lambda v: v.item()  # noqa: E731
    elif lib == "jax":
        jax, jnp, loss = _jax_mlp()
        from jax.sharding import Mesh, NamedSharding, PartitionSpec
        mesh = Mesh(np.array(jax.devices()[:8]), ("data",))
        rows, rep = NamedSharding(mesh, PartitionSpec("data")), NamedSharding(mesh, PartitionSpec())
        put = jax.device_put
        jit = lambda f: jax.jit(f, in_shardings=(rep, rows, rows), out_shardings=rep)  # noqa: E731
        grad, read = jax.value_and_grad, float
    else:
        return None

    @jit
    def step_fn(params, x, y):
        value, grads = grad(loss)(params, x, y)
        return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)], value
    state = {"p": [(put(w, rep), put(b, rep)) for w, b in params0]}
    x, y = put(x0, rows), put(y0, rows)

    def step():
        state["p"], value = step_fn(state["p"], x, y)
        return read(value)
    return step


@workload("mlp_step_jit", "MLP 784-512-512-10 train step, batch 128, jitted", "training")
def mlp_step_jit(lib):
    return _mlp_step(lib, jitted=True)


@workload("mlp_step_eager", "MLP train step, eager value_and_grad", "training")
def mlp_step_eager(lib):
    return _mlp_step(lib, jitted=False)


@workload("mlp_step_backward", "MLP train step, eager loss.backward() (JAX: eager value_and_grad)",
          "training")
def mlp_step_backward(lib):
    if lib != "nabla":
        return _mlp_step(lib, jitted=False) if lib == "jax" else None
    params0, x0, y0 = _mlp_data()
    nb, loss = _nb_mlp()
    params = [(nb.tensor(w).requires_grad_(), nb.tensor(b).requires_grad_()) for w, b in params0]
    x, y = nb.tensor(x0), nb.tensor(y0)

    def step():
        value = loss(params, x, y)
        value.backward()
        with nb.no_grad():
            for w, b in params:
                w -= 0.01 * w.grad
                b -= 0.01 * b.grad
                w.grad = b.grad = None
        return value.item()
    return step


@workload("mlp_first_call", "MLP jitted step: first call (trace + lower + compile + run)",
          "training", fresh=True)
def mlp_first_call(lib):
    params0, x0, y0 = _mlp_data()
    if lib == "nabla":
        nb, loss = _nb_mlp()
        params = [(nb.tensor(w), nb.tensor(b)) for w, b in params0]
        x, y = nb.tensor(x0), nb.tensor(y0)

        def step():
            f = nb.jit(lambda p, x, y: nb.value_and_grad(loss)(p, x, y))
            return f(params, x, y)[0].item()
        return step
    if lib == "jax":
        jax, jnp, loss = _jax_mlp()
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params0]
        x, y = jnp.asarray(x0), jnp.asarray(y0)

        def step():
            f = jax.jit(lambda p, x, y: jax.value_and_grad(loss)(p, x, y))
            return float(f(params, x, y)[0])
        return step
    return None


# ---------------------------------------------------------------------------
# Transforms
# ---------------------------------------------------------------------------
def _per_example(lib, jitted: bool):
    params0, x0, y0 = _mlp_data()
    if lib == "nabla":
        nb, loss = _nb_mlp()
        f = nb.vmap(nb.grad(lambda p, x, y: loss(p, x[None], y[None])), in_axes=(None, 0, 0))
        f = nb.jit(f) if jitted else f
        params = [(nb.tensor(w), nb.tensor(b)) for w, b in params0]
        x, y = nb.tensor(x0[:32]), nb.tensor(y0[:32])
        return lambda: nb.block_until_ready(f(params, x, y))
    if lib == "jax":
        jax, jnp, loss = _jax_mlp()
        f = jax.vmap(jax.grad(lambda p, x, y: loss(p, x[None], y[None])), in_axes=(None, 0, 0))
        f = jax.jit(f) if jitted else f
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params0]
        x, y = jnp.asarray(x0[:32]), jnp.asarray(y0[:32])
        return lambda: jax.block_until_ready(f(params, x, y))
    return None


@workload("per_example_grads_jit", "vmap(grad) per-example MLP gradients, 32 examples, jitted",
          "transforms")
def per_example_grads_jit(lib):
    return _per_example(lib, True)


@workload("per_example_grads_eager", "vmap(grad) per-example MLP gradients, eager", "transforms")
def per_example_grads_eager(lib):
    return _per_example(lib, False)


def _hessian(lib, jitted: bool):
    x0 = np.random.default_rng(3).standard_normal(200).astype(np.float32)
    a0 = np.random.default_rng(4).standard_normal((200, 200)).astype(np.float32) / 20
    if lib == "nabla":
        import nabla_like as nb
        a = nb.tensor(a0)
        f = nb.jacfwd(nb.jacrev(lambda x: nb.sum(nb.tanh(a @ x) ** 2) + nb.sum(nb.sin(x) * x)))
        f = nb.jit(f) if jitted else f
        x = nb.tensor(x0)
        return lambda: f(x).block_until_ready()
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        a = jnp.asarray(a0)
        f = jax.jacfwd(jax.jacrev(lambda x: jnp.sum(jnp.tanh(a @ x) ** 2) + jnp.sum(jnp.sin(x) * x)))
        f = jax.jit(f) if jitted else f
        x = jnp.asarray(x0)
        return lambda: f(x).block_until_ready()
    return None


@workload("hessian_jit", "jit(jacfwd(jacrev(f))), f: R^200 -> R", "transforms")
def hessian_jit(lib):
    return _hessian(lib, True)


@workload("hessian_eager", "jacfwd(jacrev(f)), f: R^200 -> R, eager", "transforms")
def hessian_eager(lib):
    return _hessian(lib, False)


def _chain(lib_ns, x, n):
    for i in range(n):
        x = lib_ns.sin(x) * 0.999 if i % 2 else lib_ns.tanh(x) + 0.001
    return lib_ns.sum(x)


@workload("trace_grad_10k", "trace + differentiate a 10,000-op chain (graph only)", "transforms",
          fresh=True)
def trace_grad_10k(lib):
    x0 = np.ones(8, np.float32)
    if lib == "nabla":
        import nabla_like as nb
        return lambda: len(nb.make_graph(nb.grad(lambda x: _chain(nb, x, 5000)))(nb.tensor(x0)).nodes)
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        return lambda: len(jax.make_jaxpr(jax.grad(lambda x: _chain(jnp, x, 5000)))(x0).eqns)
    return None


@workload("deep_chain_compile", "trace + compile + run grad of a 1000-op chain", "jit", fresh=True)
def deep_chain_compile(lib):
    x0 = np.ones(1000, np.float32)
    if lib == "nabla":
        import nabla_like as nb
        x = nb.tensor(x0)
        return lambda: nb.jit(nb.grad(lambda x: _chain(nb, x, 1000)))(x).numpy()
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        x = jnp.asarray(x0)
        return lambda: jax.jit(jax.grad(lambda x: _chain(jnp, x, 1000)))(x).block_until_ready()
    return None


@workload("dispatch_f32x3", "cached jitted call on f32[3] inputs (dispatch)", "jit")
def dispatch_f32x3(lib):
    if lib == "nabla":
        import nabla_like as nb
        f = nb.jit(lambda x, y: x * y + 1.0)
        x, y = nb.tensor([1.0, 2.0, 3.0]), nb.tensor([4.0, 5.0, 6.0])
        return lambda: f(x, y)
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        f = jax.jit(lambda x, y: x * y + 1.0)
        x, y = jnp.asarray([1.0, 2.0, 3.0]), jnp.asarray([4.0, 5.0, 6.0])
        return lambda: f(x, y)
    return None


# ---------------------------------------------------------------------------
# The eager runtime in ordinary loops (read patterns), against PyTorch eager and nb.jit
# ---------------------------------------------------------------------------
def _small_mlp_data():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((32, 64)).astype(np.float32) * np.float32(0.1),
              np.zeros(64, np.float32),
              rng.standard_normal((64, 1)).astype(np.float32) * np.float32(0.1),
              np.zeros(1, np.float32)]
    x = rng.standard_normal((64, 32)).astype(np.float32)
    y = rng.standard_normal((64, 1)).astype(np.float32)
    return params, x, y


def _pairs(p):
    return [(p[i], p[i + 1]) for i in range(0, len(p), 2)]


def _loss_fn(lib, model: str):
    """loss(flat params, x, y) of the small MLP (tanh, mean squared error) or the big one
    (relu, softmax cross-entropy), written for one library."""
    if lib == "nabla":
        import nabla_like as ns
        log_softmax = lambda z: ns.log_softmax(z, axis=1)  # noqa: E731
        row_sum = lambda z: ns.sum(z, axis=1)  # noqa: E731
    elif lib == "torch":
        import torch as ns
        log_softmax = lambda z: ns.log_softmax(z, dim=1)  # noqa: E731
        row_sum = lambda z: ns.sum(z, dim=1)  # noqa: E731
    else:
        import jax
        import jax.numpy as ns
        log_softmax = lambda z: jax.nn.log_softmax(z, axis=1)  # noqa: E731
        row_sum = lambda z: ns.sum(z, axis=1)  # noqa: E731
    relu = ns.relu if lib != "jax" else jax.nn.relu

    def small(p, x, y):
        h = ns.tanh(x @ p[0] + p[1])
        return ns.mean((h @ p[2] + p[3] - y) ** 2)

    def big(p, x, y):
        h = x
        pairs = _pairs(p)
        for w, b in pairs[:-1]:
            h = relu(h @ w + b)
        w, b = pairs[-1]
        return -ns.mean(row_sum(log_softmax(h @ w + b) * y))
    return small if model == "small" else big


def _loop(lib, model: str, steps: int, read_every: int, jitted: bool = False):
    """A training loop of `steps` steps in the backward() style (jitted: one nb.jit /
    jax.jit step function), reading the loss every `read_every` steps; the timed unit ends
    when the parameters are ready. Reported per step."""
    if model == "small":
        params0, x0, y0 = _small_mlp_data()
        lr = 0.1
    else:
        raw, x0, y0 = _mlp_data()
        params0 = [a for pair in raw for a in pair]
        lr = 0.01
    if (lib == "torch" and jitted) or lib == "numpy":
        return None
    loss = _loss_fn(lib, model)
    if lib == "nabla":
        import nabla_like as nb
        x, y = nb.tensor(x0), nb.tensor(y0)
        if jitted:
            @nb.jit
            def step_fn(p, x, y):
                value, grads = nb.value_and_grad(loss)(p, x, y)
                return [w - lr * g for w, g in zip(p, grads)], value
            state = {"p": [nb.tensor(a) for a in params0]}

            def run():
                for i in range(steps):
                    state["p"], value = step_fn(state["p"], x, y)
                    if (i + 1) % read_every == 0:
                        value.item()
                nb.block_until_ready(state["p"])
            return run
        params = [nb.tensor(a).requires_grad_() for a in params0]
        return _backward_loop(nb.no_grad, loss, params, x, y, steps, read_every, lr,
                              lambda: nb.block_until_ready(params))
    if lib == "torch":
        import torch
        x, y = torch.tensor(x0), torch.tensor(y0)
        params = [torch.tensor(a).requires_grad_() for a in params0]
        return _backward_loop(torch.no_grad, loss, params, x, y, steps, read_every, lr,
                              lambda: None)  # PyTorch on the CPU has finished already
    if not jitted:
        return None
    import jax
    import jax.numpy as jnp

    @jax.jit
    def jax_step(p, x, y):
        value, grads = jax.value_and_grad(loss)(p, x, y)
        return [w - lr * g for w, g in zip(p, grads)], value
    x, y = jnp.asarray(x0), jnp.asarray(y0)
    state = {"p": [jnp.asarray(a) for a in params0]}

    def run():
        for i in range(steps):
            state["p"], value = jax_step(state["p"], x, y)
            if (i + 1) % read_every == 0:
                float(value)
        jax.block_until_ready(state["p"])
    return run


def _backward_loop(no_grad, loss, params, x, y, steps: int, read_every: int, lr: float, finish):
    """The PyTorch-style loop, the same code for nabla_like and PyTorch."""
    def run():
        for i in range(steps):
            value = loss(params, x, y)
            value.backward()
            with no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            if (i + 1) % read_every == 0:
                value.item()
        finish()
    return run


def _per_step(make, steps):
    """Mark a loop workload as reporting its time per step (the runner divides)."""
    def make_lib(lib):
        run = make(lib)
        if run is not None:
            run.per = steps
        return run
    return make_lib


_MODELS = {"small": ("small MLP 32-64-1, batch 64", 50), "big": ("MLP 784-512-512-10, batch 128", 10)}
_READS = {"every": ("every step", 1), "10": ("every 10 steps", 10), "50": ("every 50 steps", 50),
          "never": ("only at the end", 10**9)}


def _loop_workload(model: str, every: int, jitted: bool = False):
    steps = _MODELS[model][1]
    return _per_step(lambda lib: _loop(lib, model, steps, every, jitted), steps)


for _model, (_title, _) in _MODELS.items():
    for _pattern, (_read, _every) in _READS.items():
        workload(f"{_model}_loop_{_pattern}", f"{_title}: backward() loop, loss read {_read} "
                 f"(per step)", "eager loops")(_loop_workload(_model, _every))
    workload(f"{_model}_loop_jit", f"{_title}: jitted step (nb.jit / jax.jit), loss read every "
             f"step (per step)", "eager loops")(_loop_workload(_model, 1, jitted=True))


@workload("list_comprehension_1000", "[x * float(i) for i in range(1000)], read the last (cold caches)",
          "eager loops", fresh=True)
def list_comprehension_1000(lib):
    return _list_comprehension(lib, 1000)


@workload("list_comprehension_4000", "[x * float(i) for i in range(4000)], read the last (cold caches)",
          "eager loops", fresh=True)
def list_comprehension_4000(lib):
    return _list_comprehension(lib, 4000)


def _list_comprehension(lib, n):
    x0 = _rand(1000)
    if lib == "nabla":
        import nabla_like as nb
        x = nb.tensor(x0)
        return lambda: [x * float(i) for i in range(n)][-1].numpy()
    if lib == "jax":
        import jax.numpy as jnp
        x = jnp.asarray(x0)
        return lambda: [x * float(i) for i in range(n)][-1].block_until_ready()
    if lib == "torch":
        import torch
        x = torch.tensor(x0)
        return lambda: [x * float(i) for i in range(n)][-1].numpy()
    return None


@workload("record_op", "recording one eager op (x + y on f32[64], 1000 ops, not read)",
          "eager loops")
def record_op(lib):
    a = _rand(64)
    if lib == "nabla":
        import nabla_like as nb
        x, y = nb.tensor(a), nb.tensor(a)

        def run():
            for _ in range(1000):
                x + y
    elif lib == "torch":
        import torch
        x, y = torch.tensor(a), torch.tensor(a)

        def run():
            for _ in range(1000):
                x + y
    elif lib == "jax":
        import jax.numpy as jnp
        x, y = jnp.asarray(a), jnp.asarray(a)

        def run():
            for _ in range(1000):
                x + y
    else:
        return None
    run.per = 1000
    return run


def _compiles_after_first_step(style: str, every: int):
    """Fused programs the eager runtime compiles in steps 2..200 of a small-MLP loop."""
    def count():
        import nabla_like as nb
        params0, x0, y0 = _small_mlp_data()
        loss = _loss_fn("nabla", "small")
        x, y = nb.tensor(x0), nb.tensor(y0)
        if style == "backward":
            params = [nb.tensor(a).requires_grad_() for a in params0]
        else:
            params = [nb.tensor(a) for a in params0]
            vg = nb.value_and_grad(loss)
        for i in range(200):
            if style == "backward":
                value = loss(params, x, y)
                value.backward()
                with nb.no_grad():
                    for p in params:
                        p -= 0.1 * p.grad
                        p.grad = None
            else:
                value, grads = vg(params, x, y)
                params = [p - 0.1 * g for p, g in zip(params, grads)]
            if (i + 1) % every == 0:
                value.item()
            if i == 0:
                first = nb.compile_stats()
        value.item()
        return (nb.compile_stats() - first).fused_compiles
    return count


for _style in ("backward", "value_and_grad"):
    for _pattern, (_read, _every) in _READS.items():
        workload(f"compiles_{_style}_{_pattern}", f"fused programs compiled in steps 2-200, "
                 f"{_style} style, loss read {_read}", "compile counts", kind="count")(
            (lambda s, e: lambda lib: _compiles_after_first_step(s, e) if lib == "nabla" else None)(
                _style, _every))


# ---------------------------------------------------------------------------
# Control flow and rematerialization
# ---------------------------------------------------------------------------
def _rnn_data(hidden=256, steps=100, batch=32, features=64):
    rng = np.random.default_rng(5)
    wx = (rng.standard_normal((features, hidden)) / np.sqrt(features)).astype(np.float32)
    wh = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
    b = np.zeros(hidden, np.float32)
    xs = rng.standard_normal((steps, batch, features)).astype(np.float32)
    return (wx, wh, b), xs, np.zeros((batch, hidden), np.float32)


@workload("rnn_scan_grad_jit", "grad of a scan RNN (hidden 256, 100 steps, batch 32), jitted "
          "(PyTorch: eager loop + backward)", "control flow")
def rnn_scan_grad_jit(lib):
    params0, xs0, h00 = _rnn_data()
    if lib in ("nabla", "jax"):
        if lib == "nabla":
            import nabla_like as ns
            scan, grad, jit, arr = ns.scan, ns.grad, ns.jit, ns.tensor
        else:
            import jax
            import jax.numpy as ns
            scan, grad, jit, arr = jax.lax.scan, jax.grad, jax.jit, ns.asarray

        def loss(params, xs, h0):
            wx, wh, b = params
            h, hs = scan(lambda h, x: (lambda h2: (h2, ns.sum(h2)))(ns.tanh(x @ wx + h @ wh + b)),
                         h0, xs)
            return ns.sum(h * h) + ns.mean(hs)
        g = jit(grad(loss))
        params, xs, h0 = [arr(p) for p in params0], arr(xs0), arr(h00)
        if lib == "nabla":
            return lambda: ns.block_until_ready(g(params, xs, h0))
        return lambda: jax.block_until_ready(g(params, xs, h0))
    if lib == "torch":
        import torch
        params = [torch.tensor(p, requires_grad=True) for p in params0]
        xs, h0 = torch.tensor(xs0), torch.tensor(h00)

        def step():
            wx, wh, b = params
            h, total = h0, 0.0
            for x in xs:
                h = torch.tanh(x @ wx + h @ wh + b)
                total = total + h.sum()
            loss = (h * h).sum() + total / len(xs)
            grads = torch.autograd.grad(loss, params)
            return [g.sum().item() for g in grads]
        return step
    return None


# A deep tanh MLP (16 layers of 256, batch 512) as a scan over its stacked weights; the
# layer checkpointed with each policy. The figure is XLA's temporary memory of the
# compiled gradient, in MB.
_REMAT = {"plain": "no checkpoint", "nothing": "checkpoint, nothing_saveable",
          "dots": "checkpoint, dots_saveable"}


def _remat_memory(lib: str, policy: str):
    layers, width, batch = 16, 256, 512
    if lib == "nabla":
        import nabla_like as ns
        scan, grad, jit, ckpt = ns.scan, ns.grad, ns.jit, ns.checkpoint
        policies = ns.checkpoint_policies
    elif lib == "jax":
        import jax
        import jax.numpy as ns
        scan, grad, jit, ckpt = jax.lax.scan, jax.grad, jax.jit, jax.checkpoint
        policies = jax.checkpoint_policies
    else:
        return None

    def layer(h, w):
        return ns.tanh(h @ w)
    if policy != "plain":
        layer = ckpt(layer, policy=getattr(policies, f"{policy}_saveable"))

    def loss(ws, x):
        h, _ = scan(lambda h, w: (layer(h, w), None), x, ws)
        return ns.sum(h * h)

    def measure():
        ws, x = ns.zeros((layers, width, width)), ns.zeros((batch, width))
        stats = jit(grad(loss)).lower(ws, x).compile().memory_analysis()
        return stats.temp_size_in_bytes / 1e6
    return measure


for _policy, _title in _REMAT.items():
    workload(f"remat_memory_{_policy}", f"deep tanh MLP gradient, temp memory in MB: {_title}",
             "rematerialization", kind="count")(
        (lambda p: lambda lib: _remat_memory(lib, p))(_policy))


# ---------------------------------------------------------------------------
# Neural networks and linear algebra
# ---------------------------------------------------------------------------
def _ns(lib):
    """(ops namespace, relu, softmax, log_softmax, jit, value_and_grad, array) per library."""
    if lib == "nabla":
        import nabla_like as nb
        return (nb, nb.relu, nb.softmax, lambda z: nb.log_softmax(z, axis=-1), nb.jit,
                nb.value_and_grad, nb.tensor)
    import jax
    import jax.numpy as jnp
    return (jnp, jax.nn.relu, jax.nn.softmax, lambda z: jax.nn.log_softmax(z, axis=-1), jax.jit,
            jax.value_and_grad, jnp.asarray)


def _cnn_params(seed=6):
    r = np.random.default_rng(seed)
    return {"c1": (r.standard_normal((16, 1, 3, 3)) / 3).astype(np.float32),
            "b1": np.zeros(16, np.float32),
            "c2": (r.standard_normal((32, 16, 3, 3)) / 12).astype(np.float32),
            "b2": np.zeros(32, np.float32),
            "w": (r.standard_normal((32 * 7 * 7, 10)) / 40).astype(np.float32),
            "b": np.zeros(10, np.float32)}


@workload("cnn_step_jit", "small CNN train step (2 conv, 2 max-pool, dense; batch 64 of 1x28x28), "
          "jitted (PyTorch: eager)", "nn")
def cnn_step_jit(lib):
    p0 = _cnn_params()
    r = np.random.default_rng(7)
    x0 = r.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y0 = np.eye(10, dtype=np.float32)[r.integers(0, 10, 64)]
    if lib == "torch":
        import torch
        import torch.nn.functional as TF
        p = {k: torch.tensor(v, requires_grad=True) for k, v in p0.items()}
        x, y = torch.tensor(x0), torch.tensor(y0)

        def step():
            h = TF.max_pool2d(torch.relu(TF.conv2d(x, p["c1"], p["b1"], padding=1)), 2)
            h = TF.max_pool2d(torch.relu(TF.conv2d(h, p["c2"], p["b2"], padding=1)), 2)
            z = h.flatten(1) @ p["w"] + p["b"]
            loss = -(torch.log_softmax(z, -1) * y).sum(-1).mean()
            loss.backward()
            with torch.no_grad():
                for v in p.values():
                    v -= 0.01 * v.grad
                    v.grad = None
            return loss.item()
        return step
    if lib not in ("nabla", "jax"):
        return None
    ns, relu, _, log_softmax, jit, vg, arr = _ns(lib)
    if lib == "nabla":
        import nabla_like.nn.functional as NF
        conv = lambda h, w, b: NF.conv2d(h, w, b, padding=1)  # noqa: E731
        pool = lambda h: NF.max_pool2d(h, 2)  # noqa: E731
    else:
        import jax
        conv = lambda h, w, b: jax.lax.conv_general_dilated(  # noqa: E731
            h, w, (1, 1), ((1, 1), (1, 1))) + b[None, :, None, None]
        pool = lambda h: jax.lax.reduce_window(h, -np.inf, jax.lax.max, (1, 1, 2, 2),  # noqa: E731
                                               (1, 1, 2, 2), "VALID")

    def loss(p, x, y):
        h = pool(relu(conv(x, p["c1"], p["b1"])))
        h = pool(relu(conv(h, p["c2"], p["b2"])))
        z = ns.reshape(h, (h.shape[0], -1)) @ p["w"] + p["b"]
        return -ns.mean(ns.sum(log_softmax(z) * y, axis=-1))

    @jit
    def train(p, x, y):
        value, g = vg(loss)(p, x, y)
        return {k: p[k] - 0.01 * g[k] for k in p}, value
    state = {"p": {k: arr(v) for k, v in p0.items()}}
    x, y = arr(x0), arr(y0)

    def step():
        state["p"], value = train(state["p"], x, y)
        return value.item()
    return step


def _transformer_params(layers=2, d=128, ff=512, seed=8):
    r = np.random.default_rng(seed)
    out = []
    for _ in range(layers):
        out.append({"wqkv": (r.standard_normal((d, 3 * d)) / np.sqrt(d)).astype(np.float32),
                    "wo": (r.standard_normal((d, d)) / np.sqrt(d)).astype(np.float32),
                    "w1": (r.standard_normal((d, ff)) / np.sqrt(d)).astype(np.float32),
                    "w2": (r.standard_normal((ff, d)) / np.sqrt(ff)).astype(np.float32),
                    "g1": np.ones(d, np.float32), "g2": np.ones(d, np.float32)})
    return out


@workload("transformer_step_jit", "2-layer transformer encoder train step (d_model 128, 4 heads, "
          "seq 64, batch 16), jitted", "nn")
def transformer_step_jit(lib):
    if lib not in ("nabla", "jax"):
        return None
    ns, relu, softmax, _, jit, vg, arr = _ns(lib)
    p0 = _transformer_params()
    r = np.random.default_rng(9)
    x0 = r.standard_normal((16, 64, 128)).astype(np.float32)
    heads = 4

    def norm(h, g):
        m = ns.mean(h, axis=-1, keepdims=True)
        v = ns.mean((h - m) ** 2, axis=-1, keepdims=True)
        return (h - m) / ns.sqrt(v + 1e-5) * g

    def layer(h, p):
        b, s, d = h.shape
        qkv = ns.reshape(h @ p["wqkv"], (b, s, 3, heads, d // heads))
        q, k, v = (ns.transpose(qkv[:, :, i], (0, 2, 1, 3)) for i in range(3))
        att = softmax(q @ ns.swapaxes(k, -1, -2) / np.float32(np.sqrt(d // heads)), axis=-1)
        o = ns.reshape(ns.transpose(att @ v, (0, 2, 1, 3)), (b, s, d))
        h = norm(h + o @ p["wo"], p["g1"])
        return norm(h + relu(h @ p["w1"]) @ p["w2"], p["g2"])

    def loss(ps, x):
        h = x
        for p in ps:
            h = layer(h, p)
        return ns.mean(h * h)

    @jit
    def train(ps, x):
        value, g = vg(loss)(ps, x)
        return [{k: p[k] - 0.01 * gp[k] for k in p} for p, gp in zip(ps, g)], value
    state = {"p": [{k: arr(v) for k, v in p.items()} for p in p0]}
    x = arr(x0)

    def step():
        state["p"], value = train(state["p"], x)
        return value.item()
    return step


def _linalg(lib, op: str):
    r = np.random.default_rng(10)
    m = r.standard_normal((8, 256, 256)).astype(np.float32)
    spd = (m @ np.swapaxes(m, -1, -2) / 256 + np.eye(256, dtype=np.float32)).astype(np.float32)
    b = r.standard_normal((8, 256, 4)).astype(np.float32)
    if lib == "nabla":
        import nabla_like as nb
        la, jit, arr, block = nb.linalg, nb.jit, nb.tensor, nb.block_until_ready
    elif lib == "jax":
        import jax
        import jax.numpy as jnp
        la, jit, arr, block = jnp.linalg, jax.jit, jnp.asarray, jax.block_until_ready
    elif lib == "torch":
        import torch
        if torch.get_num_threads() > 1:
            # torch 2.13's oneMKL batched solve at 2 threads fails here ("Parameter 6 was
            # incorrect on entry to SLASWP") and spins: PyTorch is measured at 1 thread.
            return None
        la, arr = torch.linalg, torch.tensor
        fn = {"solve": lambda a, b: la.solve(a, b), "cholesky": lambda a, b: la.cholesky(a),
              "eigh": lambda a, b: la.eigh(a)}[op]
        a_t, b_t = arr(spd), arr(b)
        return lambda: fn(a_t, b_t)
    else:
        return None
    fn = jit({"solve": lambda a, b: la.solve(a, b), "cholesky": lambda a, b: la.cholesky(a),
              "eigh": lambda a, b: la.eigh(a)}[op])
    a_t, b_t = arr(spd), arr(b)
    return lambda: block(fn(a_t, b_t))


for _op in ("solve", "cholesky", "eigh"):
    workload(f"linalg_{_op}", f"linalg.{_op} of 8 x 256x256 float32 (SPD), jitted (PyTorch: eager)",
             "linalg")((lambda o: lambda lib: _linalg(lib, o))(_op))
