"""Benchmark workloads, each written once per library.

A workload is a function `make(lib) -> (setup_note, step)` where `step()` runs one
timed unit of work to completion (results read back or blocked on). `lib` is
"nabla", "jax" or "numpy"; a workload returns None for a library it does not
apply to. Imports happen inside, so the nabla worker never imports jax.
"""
from __future__ import annotations

import numpy as np

REGISTRY: dict[str, dict] = {}


def workload(name: str, title: str, group: str, fresh: bool = False):
    """Register a workload. `fresh`: each measurement starts from empty compile caches."""
    def deco(fn):
        REGISTRY[name] = {"make": fn, "title": title, "group": group, "fresh": fresh}
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
