"""The feature table, measured: each capability tried in each library, spelled the way that
library's users write it, in that library's own environment. A cell says "yes" only when the
probe ran and its result matched the closed form; otherwise it gives what happened.

    python benchmarks/features.py --nabla-python .venv/bin/python \
        --jax-python .venv-jax/bin/python --torch-python .venv-torch/bin/python \
        [--nabla-ml-python PATH]     # Nabla (the nabla-ml package), where it installs

Writes benchmarks/results/features.md. As a worker (`--probe LIB`), it runs LIB's probes in
this process and prints one JSON object, {capability: [status, detail]}.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
LIBS = ("nabla_like", "jax", "torch", "nabla")
TITLES = {"nabla_like": "nabla_like", "jax": "JAX 0.10.2", "torch": "PyTorch 2.13",
          "nabla": "Nabla (nabla-ml)"}

# What each library's snippet starts from: the imports, and `X` (float32 [0.5, 1, 1.5]),
# `M` (2 x 3) and `A` (a symmetric positive definite 2 x 2) as that library's arrays.
PRELUDE = {
    "nabla_like": "import nabla_like as nb\nT = lambda a: nb.tensor(a)\n",
    "jax": "import jax, jax.numpy as jnp\nT = lambda a: jnp.asarray(a)\n",
    "torch": "import torch, torch.func as tf\nT = lambda a: torch.tensor(a)\n",
    "nabla": "import nabla as nb\nT = lambda a: nb.Tensor.from_numpy(np.ascontiguousarray(a))\n",
}
COMMON = """
import numpy as np
X0 = np.array([0.5, 1.0, 1.5], np.float32)
M0 = np.array([[0.5, 1.0, 1.5], [-1.0, 0.25, 2.0]], np.float32)
A0 = np.array([[4.0, 1.0], [1.0, 3.0]], np.float32)
"""
SETUP = "X, M, A = T(X0), T(M0), T(A0)\n"

# (capability, expected value (numpy, from X0/M0/A0), {library: snippet that sets `got`}).
# A snippet that is only a comment ("# why") is not run: the cell is "-" and the note says why.
PROBES = [
    ("grad of a Python function", "np.cos(X0) * X0 + np.sin(X0)", {
        "nabla_like": "got = nb.grad(lambda x: nb.sum(nb.sin(x) * x))(X)",
        "jax": "got = jax.grad(lambda x: jnp.sum(jnp.sin(x) * x))(X)",
        "torch": "got = tf.grad(lambda x: (torch.sin(x) * x).sum())(X)",
        "nabla": "got = nb.grad(lambda x: nb.sum(nb.sin(x) * x))(X)",
    }),
    ("forward mode (jvp)", "np.sum(np.cos(X0) * X0 + np.sin(X0))", {
        "nabla_like": "got = nb.jvp(lambda x: nb.sum(nb.sin(x) * x), (X,), (nb.ones_like(X),))[1]",
        "jax": "got = jax.jvp(lambda x: jnp.sum(jnp.sin(x) * x), (X,), (jnp.ones_like(X),))[1]",
        "torch": "got = tf.jvp(lambda x: (torch.sin(x) * x).sum(), (X,), (torch.ones_like(X),))[1]",
        "nabla": "got = nb.jvp(lambda x: nb.sum(nb.sin(x) * x), (X,), (nb.ones_like(X),))[1]",
    }),
    ("vmap (batching a per-example function)", "np.sum(np.sin(M0) * M0, axis=1)", {
        "nabla_like": "got = nb.vmap(lambda r: nb.sum(nb.sin(r) * r))(M)",
        "jax": "got = jax.vmap(lambda r: jnp.sum(jnp.sin(r) * r))(M)",
        "torch": "got = tf.vmap(lambda r: (torch.sin(r) * r).sum())(M)",
        "nabla": "got = nb.vmap(lambda r: nb.sum(nb.sin(r) * r))(M)",
    }),
    ("per-example gradients, vmap(grad)", "np.cos(M0) * M0 + np.sin(M0)", {
        "nabla_like": "got = nb.vmap(nb.grad(lambda r: nb.sum(nb.sin(r) * r)))(M)",
        "jax": "got = jax.vmap(jax.grad(lambda r: jnp.sum(jnp.sin(r) * r)))(M)",
        "torch": "got = tf.vmap(tf.grad(lambda r: (torch.sin(r) * r).sum()))(M)",
        "nabla": "got = nb.vmap(nb.grad(lambda r: nb.sum(nb.sin(r) * r)))(M)",
    }),
    ("Hessian, all four jacfwd/jacrev compositions",
     "np.stack([np.diag(2 * np.cos(X0) - X0 * np.sin(X0))] * 4)", {
        "nabla_like": ("f = lambda x: nb.sum(nb.sin(x) * x)\n"
                       "got = [c(d(f))(X) for c in (nb.jacfwd, nb.jacrev) "
                       "for d in (nb.jacfwd, nb.jacrev)]\n"
                       "got = np.stack([g.numpy() for g in got])"),
        "jax": ("f = lambda x: jnp.sum(jnp.sin(x) * x)\n"
                "got = np.stack([c(d(f))(X) for c in (jax.jacfwd, jax.jacrev) "
                "for d in (jax.jacfwd, jax.jacrev)])"),
        "torch": ("f = lambda x: (torch.sin(x) * x).sum()\n"
                  "got = torch.stack([c(d(f))(X) for c in (tf.jacfwd, tf.jacrev) "
                  "for d in (tf.jacfwd, tf.jacrev)])"),
        "nabla": ("f = lambda x: nb.sum(nb.sin(x) * x)\n"
                  "got = [c(d(f))(X) for c in (nb.jacfwd, nb.jacrev) "
                  "for d in (nb.jacfwd, nb.jacrev)]\n"
                  "got = np.stack([g.to_numpy() for g in got])"),
    }),
    ("third derivative, grad(grad(grad(f)))", "-np.cos(np.float32(1.0))", {
        "nabla_like": "got = nb.grad(nb.grad(nb.grad(nb.sin)))(1.0)",
        "jax": "got = jax.grad(jax.grad(jax.grad(jnp.sin)))(1.0)",
        "torch": "got = tf.grad(tf.grad(tf.grad(torch.sin)))(torch.tensor(1.0))",
        "nabla": "got = nb.grad(nb.grad(nb.grad(nb.sin)))(T(np.float32(1.0)))",
    }),
    ("`loss.backward()` fills `.grad` (imperative autograd)", "np.cos(X0) * X0 + np.sin(X0)", {
        "nabla_like": ("w = nb.tensor(X0, requires_grad=True)\n"
                       "nb.sum(nb.sin(w) * w).backward()\ngot = w.grad"),
        "jax": ("w = jnp.asarray(X0)\n"
                "jnp.sum(jnp.sin(w) * w).backward()\ngot = w.grad"),
        "torch": ("w = torch.tensor(X0, requires_grad=True)\n"
                  "(torch.sin(w) * w).sum().backward()\ngot = w.grad"),
        "nabla": ("w = T(X0)\nw.requires_grad_(True)\n"
                  "nb.sum(nb.sin(w) * w).backward()\ngot = w.grad"),
    }),
    ("Python `if` on a value inside grad (no jit)", "np.float32(12.0)", {
        "nabla_like": "got = nb.grad(lambda x: x ** 3 if x > 0 else -x)(2.0)",
        "jax": "got = jax.grad(lambda x: x ** 3 if x > 0 else -x)(2.0)",
        "torch": "got = tf.grad(lambda x: x ** 3 if x > 0 else -x)(torch.tensor(2.0))",
        "nabla": "got = nb.grad(lambda x: x ** 3 if x > 0 else -x)(T(np.float32(2.0)))",
    }),
    ("compile a whole function into one optimized program (jit)",
     "np.cos(X0) * X0 + np.sin(X0)", {
        "nabla_like": "got = nb.jit(nb.grad(lambda x: nb.sum(nb.sin(x) * x)))(X)",
        "jax": "got = jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) * x)))(X)",
        "torch": "got = torch.compile(tf.grad(lambda x: (torch.sin(x) * x).sum()))(X)",
        "nabla": "got = nb.jit(nb.grad(lambda x: nb.sum(nb.sin(x) * x)))(X)",
    }),
    ("read the compiled program as StableHLO", "np.float32(1.0)", {
        "nabla_like": ("text = nb.jit(lambda x: nb.sin(x) * x).lower(X).as_text()\n"
                       "got = float('stablehlo.sine' in text)"),
        "jax": ("text = jax.jit(lambda x: jnp.sin(x) * x).lower(X).as_text()\n"
                "got = float('stablehlo.sine' in text)"),
        "torch": ("from torch_xla.stablehlo import exported_program_to_stablehlo\n"
                  "class F(torch.nn.Module):\n    def forward(self, x):\n"
                  "        return torch.sin(x) * x\n"
                  "ep = torch.export.export(F(), (X,))\n"
                  "got = float('stablehlo.sine' in exported_program_to_stablehlo(ep)"
                  ".get_stablehlo_text())"),
        "nabla": "# Nabla compiles through Modular MAX graphs, not StableHLO",
    }),
    ("cond under jit and grad (data-dependent branch, compiled)", "np.float32(6.0)", {
        "nabla_like": ("f = lambda x: nb.cond(x > 0, lambda x: x ** 2, lambda x: -x, x)\n"
                       "got = nb.jit(nb.grad(f))(3.0)"),
        "jax": ("f = lambda x: jax.lax.cond(x > 0, lambda x: x ** 2, lambda x: -x, x)\n"
                "got = jax.jit(jax.grad(f))(3.0)"),
        "torch": ("f = torch.compile(lambda x: torch.cond(x > 0, lambda x: x ** 2, "
                  "lambda x: -x, (x,)))\n"
                  "w = torch.tensor(3.0, requires_grad=True)\nf(w).backward()\ngot = w.grad"),
        "nabla": ("f = lambda x: nb.cond(x > 0, lambda x: x ** 2, lambda x: -x, x)\n"
                  "got = nb.jit(nb.grad(f))(T(np.float32(3.0)))"),
    }),
    ("while loop with a data-dependent trip count, compiled", "np.int32(111)", {
        "nabla_like": ("body = lambda c: (nb.where(c[0] % 2 == 0, c[0] // 2, 3 * c[0] + 1), c[1] + 1)\n"
                       "f = lambda n: nb.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]\n"
                       "got = nb.jit(f)(nb.tensor(27))"),
        "jax": ("body = lambda c: (jnp.where(c[0] % 2 == 0, c[0] // 2, 3 * c[0] + 1), c[1] + 1)\n"
                "f = lambda n: jax.lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]\n"
                "got = jax.jit(f)(jnp.int32(27))"),
        "torch": ("body = lambda n, k: (torch.where(n % 2 == 0, n // 2, 3 * n + 1), k + 1)\n"
                  "f = lambda n: torch.while_loop(lambda n, k: n != 1, body, "
                  "(n, torch.tensor(0)))[1]\n"
                  "got = torch.compile(f)(torch.tensor(27))"),
        "nabla": ("body = lambda c: (nb.where(c[0] % 2 == 0, c[0] // 2, 3 * c[0] + 1), c[1] + 1)\n"
                  "f = lambda n: nb.while_loop(lambda c: c[0] != 1, body, (n, T(np.int32(0))))[1]\n"
                  "got = nb.jit(f)(T(np.int32(27)))"),
    }),
    ("scan, differentiated without unrolling", "np.float32(3 * 0.5 ** 2)", {
        "nabla_like": ("f = lambda w: nb.scan(lambda h, _: (h * w, None), nb.tensor(1.0), "
                       "None, length=3)[0]\ngot = nb.jit(nb.grad(f))(0.5)"),
        "jax": ("f = lambda w: jax.lax.scan(lambda h, _: (h * w, None), 1.0, None, length=3)[0]\n"
                "got = jax.jit(jax.grad(f))(0.5)"),
        "torch": ("from torch._higher_order_ops.scan import scan  # no public scan\n"
                  "w = torch.tensor(0.5, requires_grad=True)\n"
                  "f = torch.compile(lambda w: scan(lambda h, x: (h * w, h.clone()), "
                  "torch.tensor(1.0), torch.zeros(3))[0])\n"
                  "f(w).backward()\ngot = w.grad"),
        "nabla": ("f = lambda w: nb.scan(lambda h, _: (h * w, None), T(np.float32(1.0)), "
                  "None, length=3)[0]\ngot = nb.grad(f)(T(np.float32(0.5)))"),
    }),
    ("custom VJP rule", "np.full(3, 0.5, np.float32)", {
        "nabla_like": ("@nb.custom_vjp\ndef f(x):\n    return x\n"
                       "f.defvjp(lambda x: (x, None), lambda res, g: (0.5 * g,))\n"
                       "got = nb.grad(lambda x: nb.sum(f(x)))(X)"),
        "jax": ("@jax.custom_vjp\ndef f(x):\n    return x\n"
                "f.defvjp(lambda x: (x, None), lambda res, g: (0.5 * g,))\n"
                "got = jax.grad(lambda x: jnp.sum(f(x)))(X)"),
        "torch": ("class F(torch.autograd.Function):\n"
                  "    @staticmethod\n    def forward(ctx, x):\n        return x.clone()\n"
                  "    @staticmethod\n    def backward(ctx, g):\n        return 0.5 * g\n"
                  "w = X.clone().requires_grad_()\nF.apply(w).sum().backward()\ngot = w.grad"),
        "nabla": ("@nb.custom_vjp\ndef f(x):\n    return x\n"
                  "f.defvjp(lambda x: (x, None), lambda res, g: (0.5 * g,))\n"
                  "got = nb.grad(lambda x: nb.sum(f(x)))(X)"),
    }),
    ("gradient checkpointing (recompute in the backward pass)", "np.cos(X0) * X0 + np.sin(X0)", {
        "nabla_like": ("f = nb.checkpoint(lambda x: nb.sin(x) * x)\n"
                       "got = nb.grad(lambda x: nb.sum(f(x)))(X)"),
        "jax": ("f = jax.checkpoint(lambda x: jnp.sin(x) * x)\n"
                "got = jax.grad(lambda x: jnp.sum(f(x)))(X)"),
        "torch": ("from torch.utils.checkpoint import checkpoint\n"
                  "w = X.clone().requires_grad_()\n"
                  "checkpoint(lambda x: torch.sin(x) * x, w, use_reentrant=False).sum().backward()\n"
                  "got = w.grad"),
        "nabla": ("f = nb.checkpoint(lambda x: nb.sin(x) * x)\n"
                  "got = nb.grad(lambda x: nb.sum(f(x)))(X)"),
    }),
    ("modules + stateful optimizer (`model.parameters()`, `opt.step()`)",
     "np.array([[0.4, 1.4]], np.float32)", {
        "nabla_like": ("m = nb.nn.Linear(2, 1)\nm.load_state_dict({'weight': nb.tensor([[1.0, 2.0]]), "
                       "'bias': nb.tensor([0.0])})\nopt = nb.optim.SGD(m.parameters(), lr=0.1)\n"
                       "nb.sum(m(nb.ones((1, 2))) ** 2).backward()\nopt.step()\ngot = m.weight"),
        "jax": "import flax, optax  # JAX itself has no modules or optimizers",
        "torch": ("m = torch.nn.Linear(2, 1)\nm.load_state_dict({'weight': torch.tensor([[1.0, 2.0]]), "
                  "'bias': torch.tensor([0.0])})\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
                  "(m(torch.ones(1, 2)) ** 2).sum().backward()\nopt.step()\n"
                  "got = m.weight.detach()"),
        "nabla": ("m = nb.nn.Linear(2, 1)  # weight stored as (in, out)\n"
                  "m.weight = T(np.array([[1.0], [2.0]], np.float32)).requires_grad_(True)\n"
                  "m.bias = T(np.zeros((1, 1), np.float32)).requires_grad_(True)\n"
                  "opt = nb.optim.SGD(m.parameters(), lr=0.1)\n"
                  "nb.sum(m(T(np.ones((1, 2), np.float32))) ** 2).backward()\nopt.step()\n"
                  "got = m.weight.to_numpy().T"),
    }),
    ("grad / jit over a module object (the module as a pytree)", "np.array([[6.0, 6.0]], np.float32)", {
        "nabla_like": ("m = nb.nn.Linear(2, 1)\nm.load_state_dict({'weight': nb.tensor([[1.0, 2.0]]), "
                       "'bias': nb.tensor([0.0])})\n"
                       "g = nb.jit(nb.grad(lambda m: nb.sum(m(nb.ones((1, 2))) ** 2)))(m)\n"
                       "got = g.weight"),
        "jax": "import flax  # JAX itself has no modules",
        "torch": ("m = torch.nn.Linear(2, 1)\nm.load_state_dict({'weight': torch.tensor([[1.0, 2.0]]), "
                  "'bias': torch.tensor([0.0])})\n"
                  "loss = lambda p: (tf.functional_call(m, p, (torch.ones(1, 2),)) ** 2).sum()\n"
                  "got = tf.grad(loss)({k: v.detach() for k, v in m.named_parameters()})['weight']"),
        "nabla": ("m = nb.nn.Linear(2, 1)  # weight stored as (in, out)\n"
                  "m.weight = T(np.array([[1.0], [2.0]], np.float32)).requires_grad_(True)\n"
                  "m.bias = T(np.zeros((1, 1), np.float32)).requires_grad_(True)\n"
                  "g = nb.jit(nb.grad(lambda m: nb.sum(m(T(np.ones((1, 2), np.float32))) ** 2)))(m)\n"
                  "got = g.weight.to_numpy().T"),
    }),
    ("linear-algebra gradients (slogdet, eigh)", "np.concatenate([np.linalg.inv(A0).T, np.eye(2)])", {
        "nabla_like": ("g1 = nb.grad(lambda a: nb.linalg.slogdet(a)[1])(A)\n"
                       "g2 = nb.grad(lambda a: nb.sum(nb.linalg.eigh(a)[0]))(A)\n"
                       "got = nb.concatenate([g1, g2])"),
        "jax": ("g1 = jax.grad(lambda a: jnp.linalg.slogdet(a)[1])(A)\n"
                "g2 = jax.grad(lambda a: jnp.sum(jnp.linalg.eigh(a)[0]))(A)\n"
                "got = jnp.concatenate([g1, g2])"),
        "torch": ("g1 = tf.grad(lambda a: torch.linalg.slogdet(a)[1])(A)\n"
                  "g2 = tf.grad(lambda a: torch.linalg.eigh(a)[0].sum())(A)\n"
                  "got = torch.cat([g1, g2])"),
        "nabla": ("g1 = nb.grad(lambda a: nb.linalg.slogdet(a)[1])(A)\n"
                  "g2 = nb.grad(lambda a: nb.sum(nb.linalg.eigh(a)[0]))(A)\n"
                  "got = nb.concatenate([g1, g2])"),
    }),
    ("jit over a mesh of 8 devices (SPMD sharding)", "np.float32(2 * 8 * 1.5)", {
        "nabla_like": ("mesh = nb.make_mesh((8,), ('d',))\n"
                       "s = nb.NamedSharding(mesh, nb.P('d'))\n"
                       "f = nb.jit(lambda x: nb.sum(x * 2), in_shardings=(s,))\n"
                       "got = f(nb.full((8,), 1.5))"),
        "jax": ("from jax.sharding import NamedSharding, PartitionSpec as P\n"
                "mesh = jax.make_mesh((8,), ('d',))\n"
                "s = NamedSharding(mesh, P('d'))\n"
                "f = jax.jit(lambda x: jnp.sum(x * 2), in_shardings=(s,))\n"
                "got = f(jnp.full((8,), 1.5))"),
        "torch": "# DTensor places one device per process (torch.distributed), not a mesh in one",
        "nabla": ("mesh = nb.DeviceMesh('m', (8,), ('d',))\n"
                  "x = nb.shard(nb.full((8,), 1.5), mesh, [nb.DimSpec(['d'])])\n"
                  "got = nb.sum(x * 2)"),
    }),
]


def _short(text: str, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 3] + "..."


def probe(lib: str) -> dict:
    """Run `lib`'s probes here; {capability: [status, detail]}."""
    import numpy as np
    env: dict = {}
    exec(COMMON + PRELUDE[lib] + SETUP, env)
    out = {}
    for name, expected, spellings in PROBES:
        src = spellings.get(lib, "# no spelling of it in this library")
        if src.startswith("#"):
            out[name] = ["-", src.lstrip("# ")]
            continue
        scope = dict(env)
        start = time.perf_counter()
        try:
            exec(src, scope)
            got = scope["got"]
            got = got.to_numpy() if hasattr(got, "to_numpy") else got
            got = np.asarray(got.detach() if hasattr(got, "detach") else got)
            want = np.asarray(eval(expected, scope))
            if want.shape == () and got.shape == (1,):  # a library whose scalars are [1]
                got = got.reshape(())
            ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-5)
            out[name] = (["yes", f"{time.perf_counter() - start:.2f} s"] if ok else
                         ["wrong", _short(f"got {got.tolist()}, expected {want.tolist()}")])
        except BaseException as e:  # noqa: BLE001 -- a probe's failure is its answer
            if isinstance(e, KeyboardInterrupt):
                raise
            last = traceback.extract_tb(e.__traceback__)[-1]
            out[name] = ["no", _short(f"{type(e).__name__}: {e}")
                         + (f" ({os.path.basename(last.filename)})" if last else "")]
    return out


def run(python: str, lib: str) -> dict:
    env = dict(os.environ, NABLA_CPU_DEVICES="8", TF_CPP_MIN_LOG_LEVEL="2",
               XLA_FLAGS="--xla_force_host_platform_device_count=8",
               PYTHONPATH=os.path.dirname(HERE))
    proc = subprocess.run([python, os.path.abspath(__file__), "--probe", lib], env=env,
                          capture_output=True, text=True, timeout=1800)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    msg = _short(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output")
    return {name: ["no", f"the library did not start: {msg}"] for name, _, _ in PROBES}


def report(results: dict, versions: dict) -> str:
    libs = [lib for lib in LIBS if lib in results]
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = ["# Feature table", "",
             f"Measured {when} by `benchmarks/features.py`: each capability tried in each "
             "library as its users spell it, in its own environment; \"yes\" means the probe "
             "ran and matched the closed form. The snippets are in the script.", "",
             "| capability | " + " | ".join(TITLES[lib] for lib in libs) + " |",
             "|---|" + "---|" * len(libs)]
    notes = []
    for name, _, _ in PROBES:
        cells = []
        for lib in libs:
            status, detail = results[lib][name]
            if status in ("no", "wrong", "-"):
                notes.append(f"* {TITLES[lib]}, {name}: {detail}")
                cells.append(f"{status} [{len(notes)}]")
            else:
                cells.append(status)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "What the probes that did not pass raised (or why a cell was not probed):", ""]
    lines += [f"{i}. {note[2:]}" for i, note in enumerate(notes, 1)]
    if versions:
        lines += ["", "Versions: " + ", ".join(f"{TITLES[k]}: {v}" for k, v in versions.items())]
    if "nabla" in libs:
        lines += ["", "Nabla's releases from 26.2 on need a nightly build of Modular's `max` that "
                  "PyPI does not carry; the newest that installs from PyPI (with max 25.7.0, "
                  "`make features`) is the one probed. Its newer releases document more than "
                  "this one has."]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--probe", choices=LIBS, help=argparse.SUPPRESS)
    p.add_argument("--nabla-python", default=sys.executable)
    p.add_argument("--jax-python")
    p.add_argument("--torch-python")
    p.add_argument("--nabla-ml-python")
    p.add_argument("--out", default=os.path.join(HERE, "results", "features.md"))
    args = p.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    pythons = {"nabla_like": args.nabla_python, "jax": args.jax_python,
               "torch": args.torch_python, "nabla": args.nabla_ml_python}
    results, versions = {}, {}
    for lib, python in pythons.items():
        if not python:
            continue
        print(f"probing {TITLES[lib]} ({python})", flush=True)
        results[lib] = run(python, lib)
        dist = {"nabla": "nabla-ml"}.get(lib, lib)
        v = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
                           capture_output=True, text=True)
        versions[lib] = v.stdout.strip() or "?"
    text = report(results, versions)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
