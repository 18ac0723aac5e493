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
