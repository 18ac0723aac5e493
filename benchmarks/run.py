"""Run the benchmark suite side by side and print a table (also written as markdown).

nabla_like and NumPy run in an environment without the jax package (as users run
nabla_like); JAX and PyTorch run in environments of their own. Workers stay up for the
whole run and are asked in turn (nabla, jax, torch at 1 thread, torch at 2, numpy,
nabla, ...) so that all see the same machine state; each figure is the median over all
timed calls of all rounds. PyTorch is reported at its best thread count.

    python benchmarks/run.py --nabla-python .venv/bin/python --jax-python .venv-jax/bin/python \
        --torch-python .venv-torch/bin/python
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
    def __init__(self, python: str, lib: str, devices: int = 1):
        self.lib = lib
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), TF_CPP_MIN_LOG_LEVEL="2")
        if devices > 1:  # XLA's host platform split into `devices` CPU devices
            env["NABLA_CPU_DEVICES"] = str(devices)
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                                f" --xla_force_host_platform_device_count={devices}").strip()
        self.proc = subprocess.Popen([python, os.path.join(HERE, "worker.py"), "--lib", lib],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)

    def ask(self, workload: str, reps: int, min_seconds: float) -> dict:
        self.proc.stdin.write(json.dumps({"workload": workload, "reps": reps,
                                          "min_seconds": min_seconds}) + "\n")
        self.proc.stdin.flush()
        while True:  # a library may print to stdout: skip anything that is not the reply
            line = self.proc.stdout.readline()
            if not line:
                return {"error": "worker died"}
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                print(f"[{self.lib} worker] {line.rstrip()}", file=sys.stderr)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# (label, (workload, lib), reference, goal): met when value / reference <= goal, where the
# reference is another (workload, lib) or, for absolute goals, None (goal in the value's unit).
GOALS = [
    ("lazy 200-op chain vs JAX eager", ("chain200", "nabla"), ("chain200", "jax"), 0.5),
    ("1000x1000 matmul vs JAX", ("matmul1000", "nabla"), ("matmul1000", "jax"), 1.1),
    ("jitted MLP step vs jax.jit", ("mlp_step_jit", "nabla"), ("mlp_step_jit", "jax"), 1.1),
    ("first call vs JAX", ("mlp_first_call", "nabla"), ("mlp_first_call", "jax"), 1.0),
    ("eager value_and_grad step vs JAX eager step", ("mlp_step_eager", "nabla"),
     ("mlp_step_eager", "jax"), 0.5),
    ("eager backward() step vs JAX eager step", ("mlp_step_backward", "nabla"),
     ("mlp_step_eager", "jax"), 0.5),
    ("per-example grads (jit) vs JAX", ("per_example_grads_jit", "nabla"),
     ("per_example_grads_jit", "jax"), 1.2),
    ("jacfwd(jacrev) Hessian (jit) vs JAX", ("hessian_jit", "nabla"), ("hessian_jit", "jax"), 1.2),
    ("dispatch of a cached jitted call vs JAX", ("dispatch_f32x3", "nabla"),
     ("dispatch_f32x3", "jax"), 3.0),
    ("trace+compile of grad of a 1000-op chain vs JAX", ("deep_chain_compile", "nabla"),
     ("deep_chain_compile", "jax"), 1.0),
    *[(f"small MLP backward() loop, read {r}, vs PyTorch eager", (f"small_loop_{p}", "nabla"),
       (f"small_loop_{p}", "torch"), 1.0) for p, r in (("every", "every step"), ("never", "never"))],
    *[(f"small MLP backward() loop, read {r}, vs nb.jit step", (f"small_loop_{p}", "nabla"),
       ("small_loop_jit", "nabla"), 3.0) for p, r in (("every", "every step"), ("never", "never"))],
    *[(f"big MLP backward() loop, read {r}, vs nb.jit step", (f"big_loop_{p}", "nabla"),
       ("big_loop_jit", "nabla"), 1.2)
      for p, r in (("every", "every step"), ("10", "every 10"), ("50", "every 50"),
                   ("never", "never"))],
    ("big MLP backward() loop, read every step, vs PyTorch eager", ("big_loop_every", "nabla"),
     ("big_loop_every", "torch"), 1.0),
    ("list comprehension of 1000, read once (seconds)", ("list_comprehension_1000", "nabla"),
     None, 0.5),
    ("list comprehension of 4000, read once (seconds)", ("list_comprehension_4000", "nabla"),
     None, 2.0),
    ("jitted scan-RNN gradient vs JAX", ("rnn_scan_grad_jit", "nabla"),
     ("rnn_scan_grad_jit", "jax"), 1.1),
    *[(f"checkpointed deep-MLP gradient memory, {p}_saveable, vs JAX",
       (f"remat_memory_{p}", "nabla"), (f"remat_memory_{p}", "jax"), 1.0)
      for p in ("nothing", "dots")],
    ("jitted small-CNN step vs JAX", ("cnn_step_jit", "nabla"), ("cnn_step_jit", "jax"), 1.1),
    ("data-parallel MLP step on 8 host devices vs JAX", ("data_parallel_mlp", "nabla"),
     ("data_parallel_mlp", "jax"), 1.1),
    ("jitted small-CNN step vs PyTorch eager", ("cnn_step_jit", "nabla"), ("cnn_step_jit", "torch"),
     1.0),
    ("jitted transformer-encoder step vs JAX", ("transformer_step_jit", "nabla"),
     ("transformer_step_jit", "jax"), 1.1),
    *[(f"linalg.{o} 8x256x256 vs JAX", (f"linalg_{o}", "nabla"), (f"linalg_{o}", "jax"), 1.2)
      for o in ("solve", "cholesky", "eigh")],
    *[(f"fused programs compiled after step 1 of 200, {s}, read {r}",
       (f"compiles_{s}_{p}", "nabla"), None, 2)
      for s in ("backward", "value_and_grad")
      for p, r in (("every", "every step"), ("10", "every 10"), ("50", "every 50"),
                   ("never", "never"))],
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
    p.add_argument("--torch-python", default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--out", default=os.path.join(HERE, "results", "latest.md"))
    p.add_argument("--chart-only", action="store_true",
                   help="redraw the chart of the table at --out without running anything")
    args = p.parse_args()
    if args.chart_only:
        chart(rows_from_table(args.out), os.path.splitext(args.out)[0] + ".png")
        return
    names = args.only or list(REGISTRY)
    workers = {"nabla": Worker(args.nabla_python, "nabla")}
    if args.jax_python:
        workers["jax"] = Worker(args.jax_python, "jax")
    if args.torch_python:
        workers["torch1"] = Worker(args.torch_python, "torch1")
        workers["torch2"] = Worker(args.torch_python, "torch2")
    workers["numpy"] = Worker(args.nabla_python, "numpy")
    results: dict = {n: {lib: [] for lib in workers} for n in names}
    split = {}  # workers with 8 host devices, for the scale-out workloads only
    if any(REGISTRY[n]["devices"] > 1 for n in names):
        split["nabla"] = Worker(args.nabla_python, "nabla", 8)
        if args.jax_python:
            split["jax"] = Worker(args.jax_python, "jax", 8)
    notes = []
    bar = _progress(len(names))
    for i, name in enumerate(names):
        spec = REGISTRY[name]
        bar.set_description(name)
        reps = max(3, args.reps // 4) if spec["fresh"] else args.reps
        rounds = 1 if spec["kind"] == "count" else args.rounds
        for _ in range(rounds):
            for lib, w in (split if spec["devices"] > 1 else workers).items():
                r = w.ask(name, reps, 0.3)
                if "error" in r:
                    notes.append(f"{name} [{lib}]: {r['error']}")
                elif not r.get("skip"):
                    results[name][lib].append(r["value"] if spec["kind"] == "count" else r["median"])
                if r.get("jax_imported"):
                    notes.append(f"{name}: jax was imported in the nabla worker")
        shown = {lib: (statistics.median(v) if v else None) for lib, v in results[name].items()}
        line = " | ".join(f"{lib} {fmt(spec, v)}" for lib, v in shown.items() if v is not None)
        bar.write(f"{name:26s} {line}")
        bar.update(1)
    bar.close()
    for w in [*workers.values(), *split.values()]:
        w.close()
    text = report(names, results, notes, args.rounds)
    print()
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    chart(ratio_rows(names, results), os.path.splitext(args.out)[0] + ".png")


class _Counter:
    """What the loop needs of a tqdm bar, as a plain counter (where tqdm is not installed)."""

    def __init__(self, total: int):
        self.total, self.n = total, 0

    def set_description(self, name: str) -> None:
        print(f"[{self.n + 1}/{self.total}] {name} ...", end="\r", flush=True)

    def write(self, line: str) -> None:
        print(line, flush=True)

    def update(self, k: int) -> None:
        self.n += k

    def close(self) -> None:
        pass


def _progress(total: int):
    """A tqdm bar over the workloads (with the elapsed and remaining time), else a counter."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _Counter(total)
    return tqdm(total=total, unit="workload", ncols=100, file=sys.stderr)


def ratio_rows(names, results) -> list:
    """(title, [nabla/JAX, nabla/PyTorch]) of each timed workload with a ratio."""
    from workloads import REGISTRY
    rows = []
    for name in names:
        if REGISTRY[name]["kind"] == "count":
            continue
        mine = _median(results, name, "nabla")[0]
        ratios = [(mine / other if mine and other else None)
                  for other in (_median(results, name, "jax")[0], _median(results, name, "torch")[0])]
        if any(r is not None for r in ratios):
            rows.append((REGISTRY[name]["title"], ratios))
    return rows


def rows_from_table(path: str) -> list:
    """ratio_rows() read back from a table this script wrote (its last two columns)."""
    rows = []
    for line in open(path).read().split("## Goals")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 7 or cells[0] in ("workload", "---"):
            continue
        ratios = [float(c) if c not in ("-", "") else None for c in cells[5:7]]
        if any(r is not None for r in ratios):
            rows.append((cells[0], ratios))
    return rows


def _label(title: str, n: int = 64) -> str:
    """A title cut to `n` characters in the middle, where workloads of a family agree."""
    return title if len(title) <= n else title[:n // 2 - 2] + " ... " + title[-(n // 2 - 3):]


def chart(rows, path: str) -> None:
    """A bar chart of the ratios (nabla_like / JAX, nabla_like / PyTorch) next to the table;
    skipped, with a word, where matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        print(f"(no chart: matplotlib is not installed; pip install matplotlib to get {path})")
        return
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.2))
    ys = range(len(rows))
    for k, (label, color) in enumerate((("vs JAX", "#4285f4"), ("vs PyTorch", "#ea4335"))):
        ax.barh([y + 0.2 * (1 - 2 * k) for y in ys], [r[1][k] or 0 for r in rows], height=0.38,
                color=color, label=f"nabla_like {label}")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys), [_label(t) for t, _ in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks([0.1, 0.2, 0.5, 1, 2, 5, 10])
    ax.set_xlabel("ratio of time (of memory where the row says so); below 1: nabla_like is better")
    ax.legend(loc="lower right", fontsize=8)
    fig.subplots_adjust(left=0.36, right=0.98, top=0.97, bottom=0.6 / (0.32 * len(rows) + 1.2))
    fig.savefig(path, dpi=110)
    print(f"chart: {path}")


def fmt(spec: dict, value) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if spec["kind"] == "count" else fmt_time(value)


def _median(results: dict, name: str, lib: str):
    """The median of `lib` on `name`; for "torch", the best of its thread counts (and
    which one)."""
    if name not in results:
        return None, ""
    if lib == "torch":
        best = None
        for threads in ("torch1", "torch2"):
            v = results[name].get(threads)
            if v and (best is None or statistics.median(v) < best[0]):
                best = (statistics.median(v), f" ({threads[-1]} thread{'s' if threads[-1] != '1' else ''})")
        return best if best else (None, "")
    v = results[name].get(lib)
    return (statistics.median(v), "") if v else (None, "")


def report(names, results, notes, rounds: int) -> str:
    from workloads import REGISTRY
    rows = ["| workload | nabla_like | JAX | PyTorch (best threads) | NumPy | nabla/JAX | nabla/PyTorch |",
            "|---|---|---|---|---|---|---|"]
    for name in names:
        spec = REGISTRY[name]
        nbl, _ = _median(results, name, "nabla")
        jx, _ = _median(results, name, "jax")
        th, threads = _median(results, name, "torch")
        npy, _ = _median(results, name, "numpy")
        r_j = f"{nbl / jx:.2f}" if nbl and jx else "-"
        r_t = f"{nbl / th:.2f}" if nbl and th else "-"
        rows.append(f"| {spec['title']} | {fmt(spec, nbl)} | {fmt(spec, jx)} | "
                    f"{fmt(spec, th)}{threads if th else ''} | {fmt(spec, npy)} | {r_j} | {r_t} |")
    goal_rows = ["| goal | value | target | met |", "|---|---|---|---|"]
    for label, (wa, la), ref, goal in GOALS:
        a, _ = _median(results, wa, la)
        if a is None:
            continue
        if ref is None:
            value = a
            shown = fmt(REGISTRY[wa], a) if REGISTRY[wa]["kind"] == "count" else f"{a:.3f}"
        else:
            b, _ = _median(results, ref[0], ref[1])
            if b is None:
                continue
            value = a / b
            shown = f"{value:.2f}"
        goal_rows.append(f"| {label} | {shown} | <= {goal} | {'yes' if value <= goal else 'NO'} |")
    header = (f"# nabla_like benchmarks\n\n{datetime.datetime.now():%Y-%m-%d %H:%M}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; medians of "
              f"{rounds} alternating rounds (counts: one cold run). Ratios below 1 mean nabla_like "
              f"is faster.\n\n")
    text = header + "\n".join(rows) + "\n"
    if len(goal_rows) > 2:
        text += "\n## Goals\n\n" + "\n".join(goal_rows) + "\n"
    if notes:
        text += "\nNotes:\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return text


if __name__ == "__main__":
    main()
