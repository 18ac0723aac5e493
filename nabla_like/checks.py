"""Checking derivatives and watching execution: finite_diff, check_gradient(s), check_grads,
debug.

Forward mode is compared with finite differences; reverse mode with forward mode
through the identity <t, vjp(c)> = <jvp(t), c> for random t and c, which holds
exactly (up to rounding) for correct rules and needs no step size. check_gradient returns
a result to inspect; check_grads (JAX's) raises nb.GradCheckError, an AssertionError.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import Callable, Sequence

import numpy as np

from . import tree as tree_util
from .args import as_bool, as_callable, as_choice, as_float, as_int
from .core import _observers
from .errors import ArgumentError, ArgumentValueError, GradCheckError, GradError, TransformError, raise_error
from .tensor import Tensor


def _as_tensor(x) -> Tensor:
    from .ops._common import to_tensor
    return to_tensor(x, "check")


def finite_diff(f: Callable, x, method: str = "central", eps: float = 1e-4):
    """Finite-difference derivative of `f` at `x`: the gradient for scalar `f`, else the
    Jacobian (shape out + in). All perturbed points run as one batched program.

    Example:
        >>> nb.finite_diff(lambda x: nb.sum(x * x), nb.tensor([1.0, 2.0, 3.0])).numpy().round(1)
        array([2., 4., 6.], dtype=float32)
    """
    from .creation import eye
    from .ops.shape import reshape
    from .transforms import vmap
    as_callable("finite_diff", "f", f)
    if method not in ("central", "forward", "backward"):
        raise_error(TransformError, "finite_diff", f"method must be 'central', 'forward' or "
                    f"'backward', got {method!r}")
    eps = as_float("finite_diff", "eps", eps, min=0.0)
    if eps == 0.0:
        raise_error(ArgumentValueError, "finite_diff", "eps must be > 0")
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
    """Outcome of check_gradient / check_gradients: truthy when every compared element is
    within tolerance. `max_abs_error` and `max_rel_error` are the worst errors seen,
    `num_checked` / `num_failed` count the compared elements, `failures` describes each
    failed comparison (the check, the index, the value got and expected).

    Example:
        >>> res = nb.check_gradient(lambda x: nb.sum(x ** 3), nb.tensor([1.0, 2.0]))
        >>> bool(res), res.num_checked, res.num_failed, res.failures
        (True, 3, 0, [])
        >>> res
        GradientCheckResult(passed: 3 checked, 0 failed, max_abs_error=..., max_rel_error=...)
    """
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
        (True, 3)
    """
    op = "check_gradient"
    as_callable(op, "f", f)
    eps, atol, rtol = (None if v is None else as_float(op, name, v, min=0.0)
                       for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)))
    verbose = as_bool(op, "verbose", verbose)
    order = as_int(op, "order", order, min=1)
    modes = _check_modes(op, modes)
    seed = as_int(op, "seed", seed, min=0)
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
    """check_gradient for a function of several inputs given as a sequence: `f(*args)` is
    checked with respect to every argument, with check_gradient's options. (It returns a
    result to inspect, failed or not; `check_grads` raises instead.)

    Example:
        >>> f = lambda x, y: nb.sum(x * nb.sin(y))
        >>> res = nb.check_gradients(f, (nb.tensor([0.5, 1.0]), nb.tensor([2.0, 3.0])))
        >>> res.passed, res.num_checked
        (True, 5)
    """
    as_callable("check_gradients", "f", f)
    if not isinstance(args, (tuple, list)):
        raise_error(ArgumentError, "check_gradients", f"args must be a tuple or list of f's "
                    f"arguments, got {type(args).__name__}")
    return check_gradient(f, *args, **kwargs)


# ---------------------------------------------------------------------------
# check_grads: JAX's assertion
# ---------------------------------------------------------------------------
_DEFAULTS = {64: (1e-6, 1e-5), 32: (1e-3, 1e-2), 16: (3e-2, 1e-1)}  # bits -> (eps, tolerance)
_ELEMENTWISE_LIMIT = 256  # input elements up to which a failed VJP check finds its element


class _GradCheck:
    """One check_grads run: its tolerances, step and random directions."""

    def __init__(self, atol: float, rtol: float, eps: float):
        self.atol, self.rtol, self.eps = atol, rtol, eps
        self.rng = np.random.default_rng(0)

    # -- pytrees of floating-point tensors ----------------------------------------
    def random_like(self, tree):
        def draw(x):
            t = _as_tensor(x)
            if t.dtype.kind != "f":
                return t * 0
            return _as_tensor(self.rng.standard_normal(t.shape).astype(t.dtype.np))
        return tree_util.map(draw, tree)

    def numerical_jvp(self, f, args: tuple, tangents: tuple) -> list[np.ndarray]:
        """Central differences of `f` at `args` along `tangents`, as float64 arrays."""
        eps = self.eps
        plus = f(*tree_util.map(lambda x, t: x + eps * t, args, tangents))
        minus = f(*tree_util.map(lambda x, t: x - eps * t, args, tangents))
        return [(_f64(p) - _f64(m)) / (2 * eps) for p, m in zip(_float_leaves(plus),
                                                                _float_leaves(minus))]

    # -- comparisons -------------------------------------------------------------------
    def compare(self, label: str, got: list, want: list, names=("analytic", "numeric"),
                what: str = "output") -> None:
        got, want = [_f64(g) for g in got], [_f64(w) for w in want]
        if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
            raise_error(GradCheckError, "check_grads", f"{label}: {names[0]} and {names[1]} "
                        f"have different structures ({[g.shape for g in got]} and "
                        f"{[w.shape for w in want]})")
        worst, bad_count, total = None, 0, 0
        for k, (g, w) in enumerate(zip(got, want)):
            err = np.abs(g - w)
            tol = self.atol + self.rtol * np.abs(w)
            with np.errstate(invalid="ignore"):
                bad = ~(err <= tol)  # NaN fails too
                score = np.where(bad, np.where(np.isnan(err), np.inf, err - tol), -np.inf)
            bad_count += int(bad.sum())
            total += bad.size
            if bad.any():
                i = np.unravel_index(int(np.argmax(score)), score.shape) if score.ndim else ()
                if worst is None or score[i] > worst[0]:
                    worst = (score[i], k, i, float(g[i]), float(w[i]))
        if worst is None:
            return
        _, k, i, g, w = worst
        where = what if len(got) == 1 else f"{what} leaf {k}"
        if i != ():
            where += f" at index {tuple(int(j) for j in i)}"
        raise_error(GradCheckError, "check_grads", f"{label}: {bad_count} of {total} element"
                    f"{'s' if total != 1 else ''} differ; the worst is {where}: {names[0]} "
                    f"{g:.7g}, {names[1]} {w:.7g} (|difference| {abs(g - w):.3g} > atol "
                    f"{self.atol:g} + rtol {self.rtol:g} * |{names[1]}|)")

    # -- the two checks ----------------------------------------------------------------
    def check_jvp(self, f, args: tuple, label: str) -> None:
        from .transforms import jvp
        tangents = self.random_like(args)
        out, t_out = jvp(f, args, tangents)
        self.compare(f"{label} primal output", _float_leaves(out), _float_leaves(f(*args)),
                     ("got", "expected"))
        self.compare(f"{label} tangent", _float_leaves(t_out),
                     self.numerical_jvp(f, args, tangents))

    def check_vjp(self, f, args: tuple, label: str) -> None:
        from .transforms import vjp
        out, pullback = vjp(f, *args)
        self.compare(f"{label} primal output", _float_leaves(out), _float_leaves(f(*args)),
                     ("got", "expected"))
        tangents = self.random_like(args)
        t_numeric = self.numerical_jvp(f, args, tangents)
        cts = self.random_like(out)
        ct_args = pullback(cts)
        analytic = _inner(_float_leaves(tangents), _float_leaves(ct_args))
        numeric = _inner(t_numeric, _float_leaves(cts))
        try:
            self.compare(f"{label} cotangent projection <t, vjp(c)> for random t, c",
                         [analytic], [numeric])
        except GradCheckError:
            # Name the element: the numerical gradient of <f(x), c>, one input at a time.
            if sum(_as_tensor(x).size for x in tree_util.leaves(args)) <= _ELEMENTWISE_LIMIT:
                self.compare(f"{label} cotangent", _float_leaves(ct_args),
                             self.numerical_vjp(f, args, cts), what="argument")
            raise

    def numerical_vjp(self, f, args: tuple, cts) -> list[np.ndarray]:
        c = _float_leaves(cts)
        leaves, tree = tree_util.flatten(args)
        out = []
        for k, leaf in enumerate(leaves):
            base = np.asarray(_as_tensor(leaf).numpy())
            grad = np.zeros(base.shape, np.float64)
            for i in np.ndindex(base.shape):
                values = []
                for sign in (1.0, -1.0):
                    moved = base.copy()
                    moved[i] += sign * self.eps
                    point = list(leaves)
                    point[k] = _as_tensor(moved)
                    values.append(_inner(_float_leaves(f(*tree_util.unflatten(tree, point))), c))
                grad[i] = (values[0] - values[1]) / (2 * self.eps)
            out.append(grad)
        return out

    def run(self, f, args: tuple, order: int, modes, label: str = "") -> None:
        from .transforms import jvp, vjp
        depth = label.count(" of ") + 2 if label else 1
        if "fwd" in modes:
            fwd = f"JVP of {label}" if label else "JVP"
            self.check_jvp(f, args, f"{fwd} (order {depth})")
            if order > 1:
                self.run(lambda p, t: jvp(f, p, t), (args, args), order - 1, modes, fwd)
        if "rev" in modes:
            rev = f"VJP of {label}" if label else "VJP"
            self.check_vjp(f, args, f"{rev} (order {depth})")
            if order > 1:
                def f_vjp(*a):
                    out, pullback = vjp(f, *a)
                    return pullback(out)
                self.run(f_vjp, args, order - 1, modes, rev)


def _f64(x) -> np.ndarray:
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64)


def _float_leaves(tree) -> list:
    return [x for x in tree_util.leaves(tree)
            if not isinstance(x, Tensor) or x.dtype.kind == "f"]


def _inner(xs, ys) -> float:
    return float(sum(np.sum(_f64(x) * _f64(y)) for x, y in zip(xs, ys)))


def _check_modes(op: str, modes) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = (modes,)
    if not isinstance(modes, (tuple, list)) or not modes:
        raise_error(ArgumentError, op, f"modes must be a non-empty sequence of 'fwd' and "
                    f"'rev', got {modes!r}")
    return tuple(as_choice(op, "modes", m, ("fwd", "rev")) for m in modes)


def check_grads(f: Callable, args, order: int = 1, modes: Sequence[str] = ("fwd", "rev"),
                atol: float | None = None, rtol: float | None = None,
                eps: float | None = None) -> None:
    """Assert that the derivatives of `f` at `args` are right, to `order`, as JAX's
    `jax.test_util.check_grads`: "fwd" compares jvp with central differences along a
    random direction, "rev" compares vjp with them through <t, vjp(c)> = <jvp(t), c>; with
    order > 1 the jvp and vjp functions themselves are checked the same way.

    Raises nb.GradCheckError (an AssertionError) naming the check ("VJP of JVP (order 2)
    tangent", ...), the worst element (its index, the analytic and the numeric value) and
    the tolerance. Returns None when everything agrees. Tolerances and step default by the
    lowest precision among the arguments (float32: eps 1e-3, atol = rtol = 1e-2).

    Example:
        >>> nb.check_grads(lambda x: nb.sum(nb.sin(x) * x), (nb.tensor([0.5, 1.0]),), order=2)
        >>> bad = nb.custom_vjp(nb.sin).defvjp(lambda x: (nb.sin(x), x), lambda x, g: (g * x,))
        >>> nb.check_grads(bad, (nb.tensor([0.5, 1.0]),), modes="rev")  # g * x is not g * cos(x)
        Traceback (most recent call last):
            ...
        nabla_like.errors.GradCheckError: check_grads: VJP (order 1) cotangent: 2 of 2 elements ...
    """
    op = "check_grads"
    as_callable(op, "f", f)
    if not isinstance(args, (tuple, list)):
        raise_error(ArgumentError, op, f"args must be a tuple or list of f's arguments, got "
                    f"{type(args).__name__} (write (x,) for one argument)")
    order = as_int(op, "order", order, min=1)
    modes = _check_modes(op, modes)
    atol, rtol, eps = (None if v is None else as_float(op, name, v, min=0.0)
                       for name, v in (("atol", atol), ("rtol", rtol), ("eps", eps)))
    if eps == 0.0:
        raise_error(ArgumentValueError, op, "eps must be > 0")
    leaves, tree = tree_util.flatten(tuple(args))
    tensors = []
    for leaf in leaves:
        t = _as_tensor(leaf)
        if t.dtype.kind != "f":
            raise_error(GradError, op, f"every argument leaf must be floating point, got "
                        f"{t._value.aval.short()}")
        tensors.append(t)
    if not tensors:
        raise_error(GradError, op, "args holds no tensor to differentiate")
    bits = min(t.dtype.bits for t in tensors)
    default_eps, tol = _DEFAULTS[64 if bits >= 64 else 32 if bits >= 32 else 16]
    check = _GradCheck(tol if atol is None else atol, tol if rtol is None else rtol,
                       default_eps if eps is None else eps)
    check.run(f, tuple(tree_util.unflatten(tree, tensors)), order, modes)


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
        mul: f32[] 2., f32[] 2. -> f32[] 4.
        sin: f32[] 2. -> f32[] 0.9093
        add: f32[] 4., f32[] 0.9093 -> f32[] 4.9093
        Tensor(4.9093 : f32[])
    """
    from .transforms.api import trace_function
    from .transforms.graphs import const_args
    as_callable("debug", "f", f)
    as_callable("debug", "printer", printer)

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


__all__ = ["finite_diff", "check_gradient", "check_gradients", "check_grads",
           "GradientCheckResult", "debug"]
