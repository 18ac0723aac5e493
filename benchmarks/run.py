"""Run the benchmark suite side by side and print a table (also written as markdown).

nabla_like and NumPy run in an environment without the jax package (as users run
nabla_like); JAX runs in its own environment. Workers stay up for the whole run and
are asked in turn (nabla, jax, numpy, nabla, ...) so that both see the same machine
state; each figure is the median over all timed calls of all rounds.

    python benchmarks/run.py --nabla-python .venv/bin/python --jax-python .venv-jax/bin/python
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Worker:
    def __init__(self, python: str, lib: str):
        self.lib = lib
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), TF_CPP_MIN_LOG_LEVEL="2")
        self.proc = subprocess.Popen([python, os.path.join(HERE, "worker.py"), "--lib", lib],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)

    def ask(self, workload: str, reps: int, min_seconds: float) -> dict:
        self.proc.stdin.write(json.dumps({"workload": workload, "reps": reps,
                                          "min_seconds": min_seconds}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return {"error": "worker died"}
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# (label, (workload, lib), (workload, lib), goal): the ratio first/second must be <= goal
GOALS = [
    ("lazy 200-op chain vs JAX eager", ("chain200", "nabla"), ("chain200", "jax"), 0.5),
    ("1000x1000 matmul vs JAX", ("matmul1000", "nabla"), ("matmul1000", "jax"), 1.1),
    ("jitted MLP step vs jax.jit", ("mlp_step_jit", "nabla"), ("mlp_step_jit", "jax"), 1.1),
    ("first call vs JAX", ("mlp_first_call", "nabla"), ("mlp_first_call", "jax"), 1.0),
    ("eager value_and_grad step vs JAX jitted step", ("mlp_step_eager", "nabla"),
     ("mlp_step_jit", "jax"), 2.0),
    ("eager value_and_grad step vs JAX eager step", ("mlp_step_eager", "nabla"),
     ("mlp_step_eager", "jax"), 0.5),
    ("eager backward() step vs JAX jitted step", ("mlp_step_backward", "nabla"),
     ("mlp_step_jit", "jax"), 2.0),
    ("eager backward() step vs JAX eager step", ("mlp_step_backward", "nabla"),
     ("mlp_step_eager", "jax"), 0.5),
    ("per-example grads (jit) vs JAX", ("per_example_grads_jit", "nabla"),
     ("per_example_grads_jit", "jax"), 1.2),
    ("jacfwd(jacrev) Hessian (jit) vs JAX", ("hessian_jit", "nabla"), ("hessian_jit", "jax"), 1.2),
    ("dispatch of a cached jitted call vs JAX", ("dispatch_f32x3", "nabla"),
     ("dispatch_f32x3", "jax"), 3.0),
    ("trace+compile of grad of a 1000-op chain vs JAX", ("deep_chain_compile", "nabla"),
     ("deep_chain_compile", "jax"), 1.0),
]


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    from workloads import REGISTRY
    p = argparse.ArgumentParser()
    p.add_argument("--nabla-python", default=sys.executable)
    p.add_argument("--jax-python", default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--out", default=os.path.join(HERE, "results", "latest.md"))
    args = p.parse_args()
    names = args.only or list(REGISTRY)
    workers = {"nabla": Worker(args.nabla_python, "nabla"), "numpy": Worker(args.nabla_python, "numpy")}
    if args.jax_python:
        workers["jax"] = Worker(args.jax_python, "jax")
    results: dict = {n: {lib: [] for lib in workers} for n in names}
    notes = []
    for name in names:
        spec = REGISTRY[name]
        reps = max(3, args.reps // 4) if spec["fresh"] else args.reps
        for _ in range(args.rounds):
            for lib, w in workers.items():
                r = w.ask(name, reps, 0.3)
                if "error" in r:
                    notes.append(f"{name} [{lib}]: {r['error']}")
                elif not r.get("skip"):
                    results[name][lib].append(r["median"])
                if r.get("jax_imported"):
                    notes.append(f"{name}: jax was imported in the nabla worker")
        line = " | ".join(f"{lib} {fmt_time(statistics.median(v)) if v else '-'}"
                          for lib, v in results[name].items())
        print(f"{name:24s} {line}", flush=True)
    for w in workers.values():
        w.close()
    rows = ["| workload | nabla_like | JAX | NumPy | nabla/JAX | nabla/NumPy |",
            "|---|---|---|---|---|---|"]
    for name in names:
        med = {lib: (statistics.median(v) if v else None) for lib, v in results[name].items()}
        nbl, jx, npy = med.get("nabla"), med.get("jax"), med.get("numpy")
        r_j = f"{nbl / jx:.2f}" if nbl and jx else "-"
        r_n = f"{nbl / npy:.2f}" if nbl and npy else "-"
        rows.append(f"| {REGISTRY[name]['title']} | {fmt_time(nbl)} | {fmt_time(jx)} | "
                    f"{fmt_time(npy)} | {r_j} | {r_n} |")
    goal_rows = ["| goal | ratio | target | met |", "|---|---|---|---|"]
    for label, (wa, la), (wb, lb), goal in GOALS:
        if wa not in results or wb not in results:
            continue
        a, b = results[wa].get(la), results[wb].get(lb)
        if not a or not b:
            continue
        ratio = statistics.median(a) / statistics.median(b)
        goal_rows.append(f"| {label} | {ratio:.2f} | <= {goal} | {'yes' if ratio <= goal else 'NO'} |")
    header = (f"# nabla_like benchmarks\n\n{datetime.datetime.now():%Y-%m-%d %H:%M}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; medians of "
              f"{args.rounds} alternating rounds. Ratios below 1 mean nabla_like is faster.\n\n")
    text = header + "\n".join(rows) + "\n"
    if len(goal_rows) > 2:
        text += "\n## Goals (ratios nabla_like / JAX)\n\n" + "\n".join(goal_rows) + "\n"
    if notes:
        text += "\nNotes:\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print()
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
