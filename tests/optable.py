"""The op table: one entry per op drives forward-vs-NumPy, gradient and vmap tests.

Each family file in `tests/tables/` defines `CASES`, a list of `OpCase`. An
OpCase names a nabla_like function, a NumPy reference and its arguments:

    OpCase("exp", nb.exp, np.exp, [(3, 4)])                      # one float arg
    OpCase("where", nb.where, np.where, [Arg((3,), "bool"), (3,), (3,)])
    OpCase("sum_axis", lambda x: nb.sum(x, axis=1), lambda x: np.sum(x, axis=1), [(2, 3)])

A plain shape means "a float argument of the dtype under test". `dtypes` lists
the dtypes the forward test runs over; `grad` and `vmap` switch those checks.

`composite=True` marks a function composed of other ops of the table (softmax of exp, max
and sum; a loss of logs and means), which has no derivative or batching rule of its own:
the rules it is built from are checked on their own cases. It keeps the forward, jit,
first-derivative and batching checks (at the placements every case gets), and skips the
checks that only exercise those rules again: second derivatives, and batching along
every axis and at sizes 1 and 0.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import zlib
from typing import Any, Callable, Sequence

import ml_dtypes
import numpy as np

FLOATS = ("float32", "float64", "float16", "bfloat16")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint32")
INTS = SIGNED + UNSIGNED
ALL = FLOATS + INTS + ("bool",)
NUMERIC = FLOATS + INTS

TOL = {  # (rtol, atol) for forward checks
    "float64": (1e-10, 1e-12),
    "float32": (2e-5, 2e-6),
    "float16": (5e-3, 5e-3),
    "bfloat16": (3e-2, 3e-2),
}


def np_dtype(name: str):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


@dataclasses.dataclass
class Arg:
    """An argument spec. kind: "float" (the dtype under test), "bool", "int" (indices in
    [low, high)), or a dtype name; `value` fixes the argument to a given array."""
    shape: tuple = ()
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    value: Any = None


@dataclasses.dataclass
class OpCase:
    name: str
    fn: Callable
    ref: Callable
    args: Sequence = ((3,),)
    dtypes: Sequence[str] = FLOATS
    low: float = -2.0           # range of float inputs
    high: float = 2.0
    grad: bool = True           # JVP/VJP checks in float64, orders 1 and 2
    grad_order: int = 2
    vmap: bool = True
    rtol: float | None = None   # overrides TOL for forward checks
    atol: float | None = None
    grad_rtol: float = 1e-5
    ref_dtype: str | None = None  # compute the reference in this dtype (e.g. "float64")
    check_dtype: bool = True    # result dtype must equal NumPy's computed in the tested dtype
    composite: bool = False     # built from other table ops: no order-2 or every-axis vmap checks

    def __repr__(self) -> str:
        return self.name

    def arg_specs(self) -> list[Arg]:
        return [a if isinstance(a, Arg) else Arg(tuple(a)) for a in self.args]

    def make_inputs(self, rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
        out = []
        for spec in self.arg_specs():
            out.append(make_array(rng, spec, dtype, self.low, self.high))
        return out

    def tolerance(self, dtype: str) -> tuple[float, float]:
        rtol, atol = TOL.get(dtype, (0, 0))
        return (self.rtol if self.rtol is not None else rtol,
                self.atol if self.atol is not None else atol)


def make_array(rng: np.random.Generator, spec: Arg, dtype: str, low: float, high: float):
    if spec.value is not None:
        return np.asarray(spec.value)
    kind = spec.kind
    if kind == "float":
        kind = dtype
    shape = spec.shape
    if kind == "bool":
        return rng.random(shape) < 0.5
    if kind == "int":
        lo = 0 if spec.low is None else spec.low
        hi = 3 if spec.high is None else spec.high
        return rng.integers(lo, hi, size=shape).astype(np.int32)
    if kind in INTS:
        info = np.iinfo(kind)
        lo = max(info.min, int(-5 if spec.low is None else spec.low))
        hi = min(info.max, int(6 if spec.high is None else spec.high))
        if kind.startswith("uint"):
            lo = max(lo, 0)
        return rng.integers(lo, hi, size=shape).astype(kind)
    lo = low if spec.low is None else spec.low
    hi = high if spec.high is None else spec.high
    x = rng.uniform(lo, hi, size=shape)
    return x.astype(np_dtype(kind))


def case_seed(case: OpCase, salt: int = 0) -> int:
    """A seed fixed per case (str hashes change with every process)."""
    return (zlib.crc32(case.name.encode()) + salt) % 2**32


def mark_composite(cases: list[OpCase], names) -> None:
    """Set `composite` on the cases named (each name must be one of them)."""
    names = set(names)
    by_name = {c.name: c for c in cases}
    unknown = names - set(by_name)
    assert not unknown, f"mark_composite: no cases named {sorted(unknown)}"
    for name in names:
        by_name[name].composite = True


def all_cases() -> list[OpCase]:
    from . import tables
    cases = []
    for info in sorted(pkgutil.iter_modules(tables.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{tables.__name__}.{info.name}")
        cases.extend(getattr(mod, "CASES", []))
    names = [c.name for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate op table names: {dupes}"
    return cases


def to_float64_ref(case: OpCase, arrays: list[np.ndarray], dtype: str):
    """NumPy reference output: computed in float64 for low-precision floats, then cast."""
    if dtype in ("float16", "bfloat16", "float32") and case.ref_dtype != dtype:
        wide = [a.astype(np.float64) if a.dtype.kind == "f" or a.dtype == ml_dtypes.bfloat16 else a
                for a in arrays]
        return case.ref(*wide)
    return case.ref(*arrays)
