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
    header = (f"# nabla_like benchmarks\n\n{datetime.datetime.now():%Y-%m-%d %H:%M}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; medians of "
              f"{args.rounds} alternating rounds. Ratios below 1 mean nabla_like is faster.\n\n")
    text = header + "\n".join(rows) + "\n"
    if notes:
        text += "\nNotes:\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print()
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
