"""Checking derivatives and watching execution: finite_diff, check_gradient(s), debug.

Forward mode is compared with finite differences; reverse mode with forward mode
through the identity <t, vjp(c)> = <jvp(t), c> for random t and c, which holds
exactly (up to rounding) for correct rules and needs no step size.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Callable, Sequence

import numpy as np

from . import tree as tree_util
from .core import _observers
from .errors import TransformError, raise_error
from .tensor import Tensor


def _as_tensor(x) -> Tensor:
    from .ops._common import to_tensor
    return to_tensor(x, "check")


def finite_diff(f: Callable, x, method: str = "central", eps: float = 1e-4):
    """Finite-difference derivative of `f` at `x`: the gradient for scalar `f`, else the
    Jacobian (shape out + in). All perturbed points run as one batched program.

    Example:
        >>> nb.finite_diff(lambda x: nb.sum(x * x), nb.tensor([1.0, 2.0, 3.0]))  # ~[2, 4, 6]
    """
    from .creation import eye
    from .ops.shape import reshape
    from .transforms import vmap
    if method not in ("central", "forward", "backward"):
        raise_error(TransformError, "finite_diff", f"method must be 'central', 'forward' or "
                    f"'backward', got {method!r}")
    x = _as_tensor(x)
    n = x.size
    basis = reshape(eye(n, dtype=x.dtype) * eps, (n,) + x.shape)

    def shifted(delta):
        return f(x + delta)

    if method == "central":
        diff = (vmap(shifted)(basis) - vmap(shifted)(-basis)) / (2 * eps)
    elif method == "forward":
        diff = (vmap(shifted)(basis) - f(x)) / eps
    else:
        diff = (f(x) - vmap(shifted)(-basis)) / eps
    # diff: (n, *out_shape) -> (*out_shape, *in_shape)
    from .ops.shape import moveaxis
    out_shape = diff.shape[1:]
    moved = moveaxis(diff, 0, -1) if out_shape else diff
    return reshape(moved, out_shape + x.shape)


@dataclasses.dataclass
class GradientCheckResult:
    """Outcome of check_gradient: truthy when every compared element is within tolerance."""
    passed: bool
    max_abs_error: float
    max_rel_error: float
    num_checked: int
    num_failed: int
    failures: list = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        state = "passed" if self.passed else "FAILED"
        return (f"GradientCheckResult({state}: {self.num_checked} checked, {self.num_failed} "
                f"failed, max_abs_error={self.max_abs_error:.3g}, "
                f"max_rel_error={self.max_rel_error:.3g})")


class _Tally:
    def __init__(self, atol: float, rtol: float):
        self.atol, self.rtol = atol, rtol
        self.max_abs = 0.0
        self.max_rel = 0.0
        self.checked = 0
        self.failed = 0
        self.failures: list[str] = []

    def compare(self, label: str, got, want) -> None:
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        err = np.abs(got - want)
        # relative error where the expected value is not itself below the noise floor
        rel = np.where(np.abs(want) > self.atol, err / np.maximum(np.abs(want), 1e-300), 0.0)
        bad = err > self.atol + self.rtol * np.abs(want)
        self.checked += err.size
        self.failed += int(bad.sum())
        if err.size:
            self.max_abs = max(self.max_abs, float(err.max()))
            self.max_rel = max(self.max_rel, float(rel.max()))
        if bad.any():
            idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape) if err.ndim else ()
            self.failures.append(f"{label}: at {idx} got {float(got[idx]):.6g}, "
                                 f"expected {float(want[idx]):.6g}")

    def result(self) -> GradientCheckResult:
        return GradientCheckResult(self.failed == 0, self.max_abs, self.max_rel, self.checked,
                                   self.failed, self.failures)


def _flat_out(f: Callable, xs: Sequence[Tensor]) -> list[Tensor]:
    return [o for o in tree_util.leaves(f(*xs)) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _check_once(f: Callable, xs: list[Tensor], eps: float, tally: _Tally, modes, rng, label: str):
    from .transforms import jvp, vjp
    outs = _flat_out(f, xs)
    if "fwd" in modes:
        # each input direction e_i: jvp column vs central differences, in one batched program
        for k, x in enumerate(xs):
            def f_k(xk, k=k):
                args = list(xs)
                args[k] = xk
                return _flat_out(f, args)
            for j, out in enumerate(outs):
                jac = finite_diff(lambda xk: f_k(xk)[j], x, "central", eps).numpy()
                ad = _jac_fwd_column(f_k, x, j)
                tally.compare(f"{label}d out{j} / d arg{k} (forward mode vs finite differences)",
                              ad, jac)
    if "rev" in modes:
        tangents = [_as_tensor(rng.standard_normal(x.shape).astype(x.dtype.np)) for x in xs]
        cts = [_as_tensor(rng.standard_normal(o.shape).astype(o.dtype.np)) for o in outs]
        _, touts = jvp(lambda *a: _flat_out(f, a), tuple(xs), tuple(tangents))
        _, pullback = vjp(lambda *a: _flat_out(f, a), *xs)
        grads = pullback(list(cts))
        lhs = sum(float(np.sum(np.asarray(t.numpy(), np.float64) * np.asarray(g.numpy(), np.float64)))
                  for t, g in zip(tangents, grads))
        rhs = sum(float(np.sum(np.asarray(t.numpy(), np.float64) * np.asarray(c.numpy(), np.float64)))
                  for t, c in zip(touts, cts))
        scale = max(1.0, abs(lhs), abs(rhs))
        tally.compare(f"{label}<t, vjp(c)> vs <jvp(t), c> (reverse mode vs forward mode)",
                      lhs / scale, rhs / scale)


def _jac_fwd_column(f_k: Callable, x: Tensor, j: int) -> np.ndarray:
    from .transforms import jacfwd
    return jacfwd(lambda xk: f_k(xk)[j])(x).numpy()


def check_gradient(f: Callable, *args, eps: float | None = None, atol: float | None = None,
                   rtol: float | None = None, verbose: bool = False, order: int = 1,
                   modes: Sequence[str] = ("fwd", "rev"), seed: int = 0) -> GradientCheckResult:
    """Check the derivatives of `f` at `args` (every floating-point argument).

    Forward mode is compared with central finite differences, reverse mode with forward
    mode by the inner-product identity; with `order=2` the derivative function is checked
    too (a directional derivative along a random direction), and so on.

    Example:
        >>> res = nb.check_gradient(lambda x: nb.sum(nb.sin(x) * x), nb.tensor([0.5, 1.0]))
        >>> res.passed, res.num_checked
    """
    xs = [_as_tensor(a) for a in args]
    if not xs or any(x.dtype.kind != "f" for x in xs):
        raise_error(TransformError, "check_gradient", "needs floating-point tensor arguments")
    lowp = any(x.dtype.bits < 64 for x in xs)
    eps = eps if eps is not None else (1e-3 if lowp else 1e-6)
    atol = atol if atol is not None else (1e-2 if lowp else 1e-6)
    rtol = rtol if rtol is not None else (1e-2 if lowp else 1e-5)
    tally = _Tally(atol, rtol)
    rng = np.random.default_rng(seed)
    fn = f
    for level in range(1, order + 1):
        _check_once(fn, xs, eps, tally, modes, rng, f"order {level}: ")
        if level < order:
            from .transforms import jvp
            dirs = tuple(_as_tensor(rng.standard_normal(x.shape).astype(x.dtype.np)) for x in xs)
            prev = fn
            fn = (lambda prev, dirs: lambda *a: jvp(lambda *b: _flat_out(prev, b), a, dirs)[1])(prev, dirs)
    result = tally.result()
    if verbose:
        print(result)
        for line in result.failures:
            print("  " + line)
    return result


def check_gradients(f: Callable, args: Sequence, **kwargs) -> GradientCheckResult:
    """check_gradient for a function of several inputs given as a sequence."""
    return check_gradient(f, *args, **kwargs)


# ---------------------------------------------------------------------------
# debug
# ---------------------------------------------------------------------------
def _describe(t: Tensor) -> str:
    if t._value.ctx.level != 0:
        return t._value.aval.short()
    arr = np.asarray(t.numpy())
    body = np.array2string(arr.astype(np.float64) if arr.dtype.kind == "V" else arr, precision=4,
                           threshold=8, edgeitems=2, separator=" ").replace("\n", "")
    return f"{t._value.aval.short()} {body}"


def debug(f: Callable, *, printer: Callable[[str], None] = print):
    """Wrap `f` so that each call prints every primitive it executes, with the shapes and
    values of inputs and outputs (transforms inside are shown as their primitives).

    Example:
        >>> nb.debug(lambda x: x * x + nb.sin(x))(nb.tensor(2.0))
    """
    from .transforms.api import trace_function
    from .transforms.graphs import const_args

    def run(*args, **kwargs):
        traced = trace_function(f, args, kwargs, "debug")
        graph = traced.graph
        me = threading.get_ident()

        def observe(prim, ins, params, result):
            if threading.get_ident() != me:  # ops of other threads are not this call's
                return
            outs = result if isinstance(result, tuple) else (result,)
            from .ir import format_params
            p = format_params(params)
            printer(f"{prim.name}{'[' + p + ']' if p else ''}: "
                    f"{', '.join(_describe(i) for i in ins)} -> "
                    f"{', '.join(_describe(o) for o in outs)}")
        _observers.append(observe)
        try:
            from .transforms.graphs import eval_graph
            outs = eval_graph(graph, list(traced.args) + const_args(graph))
        finally:
            _observers.remove(observe)
        return tree_util.unflatten(traced.out_tree, outs)

    return run


__all__ = ["finite_diff", "check_gradient", "check_gradients", "GradientCheckResult", "debug"]
