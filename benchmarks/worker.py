"""A benchmark worker: runs workloads of one library on request (JSON lines on stdin).

`--lib` is nabla, numpy, jax, or torch1/torch2 (PyTorch at 1 or 2 threads: the runner
reports PyTorch at its best thread count)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def clear_caches(lib: str) -> None:
    if lib == "nabla":
        import nabla_like as nb
        nb.clear_caches()
    elif lib == "jax":
        import jax
        jax.clear_caches()


def measure(lib: str, name: str, reps: int, min_seconds: float) -> dict:
    from workloads import REGISTRY
    spec = REGISTRY[name]
    step = spec["make"](lib)
    if step is None:
        return {"skip": True}
    if spec["kind"] == "count":
        clear_caches(lib)
        return {"value": step()}
    per = getattr(step, "per", 1)
    times = []
    if spec["fresh"]:
        for _ in range(reps):
            clear_caches(lib)
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
    else:
        for _ in range(3):
            step()  # warm: compile and fill caches
        start = time.perf_counter()
        while len(times) < reps or (time.perf_counter() - start < min_seconds and len(times) < 100 * reps):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
    return {"median": statistics.median(times) / per, "n": len(times), "min": min(times) / per}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True, choices=["nabla", "jax", "numpy", "torch1", "torch2"])
    args = p.parse_args()
    lib = args.lib
    if lib != "jax" and "jax" in sys.modules:
        raise SystemExit("jax must not be imported in this worker")
    if lib.startswith("torch"):
        import torch
        torch.set_num_threads(int(lib[-1]))
        lib = "torch"
    for line in sys.stdin:
        req = json.loads(line)
        try:
            res = measure(lib, req["workload"], req.get("reps", 20), req.get("min_seconds", 0.5))
        except Exception as e:  # report, keep serving
            res = {"error": f"{type(e).__name__}: {e}"}
        if lib == "nabla":
            res["jax_imported"] = "jax" in sys.modules
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
