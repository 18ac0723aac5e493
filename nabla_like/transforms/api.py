"""User-facing transforms: grad, value_and_grad, vjp, jvp, linearize, vmap (the Jacobians
are in jacobians.py).

Each call traces the function on abstract inputs (one Graph per call, as in
JAX: a transform never reuses a trace whose Python may have changed), rewrites
the Graph, and replays the rewritten Graph on the actual arguments. Pytrees
in and out; non-tensor leaves (Python objects, ints, strings) are static.
"""
from __future__ import annotations

import functools
import inspect
import operator
from typing import Any, Callable

import numpy as np

from .. import tree as tree_util
from ..args import as_bool, as_opt_int
from ..core import context_stack, full_in
from ..errors import (ArgumentError, ConcretizationError, GradError, ShapeError, TransformError,
                      raise_error)
from ..ir import Aval, Graph
from ..lazy import step_end
from ..tensor import Tensor
from .arguments import (check_argnums, check_axes_spec, check_fun, check_grad_options,
                        positional_arity)
from .concrete import ConcreteCall, can_run_concrete
from .graphs import (apply_graph, const_args, eval_graph, jvp_graph, jvp_interpret, trace_flat,
                     vjp_graph, vmap_graph)


# ---------------------------------------------------------------------------
# Flattening arguments into traced inputs
# ---------------------------------------------------------------------------
def _is_array_like(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray))


class Traced:
    """A function traced on the tensor leaves of its arguments.

    `graph` inputs are the traced leaves (then captured consts); `args` are the actual
    tensors to replay it on; `out_tree` is the structure of what the function returned.
    """

    def __init__(self, graph: Graph, args: list[Tensor], leaf_index: list[int], out_tree):
        self.graph = graph
        self.args = args
        self.leaf_index = leaf_index  # for each traced input: its position among all leaves
        self.out_tree = out_tree

    def run(self, graph: Graph | None = None) -> list[Tensor]:
        """Replay `graph` (this trace or a rewrite with the same inputs) on the arguments
        and on the consts this trace captured."""
        return apply_graph(graph or self.graph, list(self.args) + const_args(self.graph))


def _as_traceable(x, op: str):
    from ..ops._common import to_tensor
    if isinstance(x, Tensor):
        return x
    return to_tensor(x, op)


def trace_function(f: Callable, args: tuple, kwargs: dict, transform: str,
                   traced: Callable[[int, Any], bool] | None = None,
                   avals_of: Callable[[int, Tensor], Aval] | None = None,
                   flat: tuple | None = None) -> Traced:
    """Trace `f(*args, **kwargs)`. Leaves that are tensors (or that `traced(i, leaf)` selects)
    become graph inputs; other leaves stay Python values. `avals_of` overrides the traced aval;
    `flat`: (leaves, treedef) of (args, kwargs), when the caller flattened them already."""
    leaves, in_tree = flat if flat is not None else tree_util.flatten((tuple(args), dict(kwargs)))
    leaf_index, tensors = [], []
    for i, leaf in enumerate(leaves):
        if _is_array_like(leaf) or (traced is not None and traced(i, leaf)):
            leaf_index.append(i)
            tensors.append(_as_traceable(leaf, transform))
    avals = [avals_of(i, t) if avals_of else t._value.aval for i, t in zip(leaf_index, tensors)]
    out_tree_box: list = []

    def flat_fn(*inputs):
        full = list(leaves)
        for i, t in zip(leaf_index, inputs):
            full[i] = t
        a, k = tree_util.unflatten(in_tree, full)
        out = f(*a, **k)
        out_leaves, out_tree = tree_util.flatten(out)
        for leaf in out_leaves:
            if not isinstance(leaf, (Tensor, int, float, bool, np.ndarray, np.generic)):
                raise_error(TransformError, transform, f"the function returned a "
                            f"{type(leaf).__name__}; outputs must be tensors (in pytrees)")
        out_tree_box.append(out_tree)
        return out_leaves

    graph = trace_flat(flat_fn, avals, transform)
    return Traced(graph, tensors, leaf_index, out_tree_box[0])


def _zeros_like_in(t: Tensor) -> Tensor:
    return full_in(t._value.ctx, t.shape, 0, t.dtype)


def _normalize_argnums(fn_name: str, argnums, nargs: int) -> tuple[tuple[int, ...], bool]:
    """(non-negative positions, whether a single int was given). None means 0 (Nabla's
    default); NumPy integers are ints."""
    if argnums is None:
        argnums = 0
    single = not isinstance(argnums, (tuple, list))
    try:
        nums = (operator.index(argnums),) if single else tuple(operator.index(a) for a in argnums)
    except TypeError:
        raise_error(TransformError, fn_name, f"argnums must be an int or a tuple of ints, got "
                    f"{argnums!r}")
    if not nums:
        raise_error(TransformError, fn_name, "argnums is empty")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise_error(TransformError, fn_name, f"argnums {argnums!r} is out of range for a call "
                        f"with {nargs} positional argument{'s' if nargs != 1 else ''}")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise_error(TransformError, fn_name, f"argnums {argnums!r} names an argument twice")
    return tuple(out), single


def _resolve_wrt(fn_name: str, f: Callable, wrt, args: tuple, kwargs: dict):
    """Argument keys (positions, or names of keyword arguments) for the parameter names in
    `wrt`, and whether a single name was given."""
    single = isinstance(wrt, str)
    names = (wrt,) if single else tuple(wrt)
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        params = []
    keys = []
    for name in names:
        if name in kwargs:
            keys.append(name)
        elif name in params and params.index(name) < len(args):
            keys.append(params.index(name))
        else:
            passed = params[:len(args)] + sorted(kwargs)
            raise_error(TransformError, fn_name, f"wrt names an unknown parameter {name!r} "
                        f"(parameters passed in this call: {', '.join(passed) or 'none'})")
    if len(set(keys)) != len(keys):
        raise_error(TransformError, fn_name, f"wrt {wrt!r} names a parameter twice")
    return tuple(keys), single


def _split_aux(fn_name: str, out, has_aux: bool):
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise_error(TransformError, fn_name, "with has_aux=True the function must return a pair "
                    "(output, aux)")
    return out[0], out[1]


# ---------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------
def _arg_structure(in_tree) -> tuple[dict, dict]:
    """From the TreeDef of (args, kwargs): for each argument key (position or keyword name)
    its range of leaf indices and its own TreeDef."""
    ranges, trees, start = {}, {}, 0
    args_def, kwargs_def = in_tree.children
    keys = list(range(len(args_def.children))) + list(kwargs_def.aux or ())
    for key, t in zip(keys, args_def.children + kwargs_def.children):
        ranges[key] = range(start, start + t.num_leaves)
        trees[key] = t
        start += t.num_leaves
    return ranges, trees


_ALLOW_INT = ("grad", "value_and_grad", "jacfwd", "jacrev")


def _check_diff_input(fn_name: str, t: Tensor, key) -> None:
    if t.dtype.kind != "f":
        label = f"argument {key}" if isinstance(key, int) else f"argument {key!r}"
        hint = (" (allow_int=True gives zeros for integer inputs)" if fn_name in _ALLOW_INT
                else "")
        raise_error(GradError, fn_name, f"{label} has dtype {t.dtype} "
                    f"({t._value.aval.short()}); only floating-point inputs can be "
                    f"differentiated{hint}")


def _is_integer_leaf(leaf) -> bool:
    """Whether a numeric leaf is integer (or bool) valued."""
    if isinstance(leaf, (Tensor, np.ndarray, np.generic)):
        return np.dtype(leaf.dtype.np if isinstance(leaf, Tensor) else leaf.dtype).kind != "f"
    return not isinstance(leaf, float)


class ConcreteHint:
    """Remembers, for one transformed function, that its Python reads values: later eager
    calls run on concrete values at once instead of tracing first."""

    __slots__ = ("concrete",)

    def __init__(self):
        self.concrete = False


def _numeric_leaf(leaf) -> bool:
    if isinstance(leaf, (np.ndarray, np.generic)):
        return leaf.dtype.kind in "biuf"
    return isinstance(leaf, (Tensor, int, float))


def _python_scalars(i: int, leaf) -> bool:
    return isinstance(leaf, (int, float))


def _trace_or_concrete(fn_name: str, f: Callable, args: tuple, kwargs: dict, traced,
                       flat=None) -> Traced | None:
    """Trace `f`, or None when it read a traced value and may run on concrete values
    instead (an eager call of grad/vjp/jvp/linearize; see transforms/concrete.py)."""
    try:
        return trace_function(f, args, kwargs, fn_name, traced=traced, flat=flat)
    except ConcretizationError as e:
        if not can_run_concrete(e):
            raise
        return None


class _VJPCall:
    """Shared core of vjp/grad: trace, split reverse mode, run the forward part. When the
    function reads a traced value and the call is eager, it runs on concrete values instead
    (transforms/concrete.py)."""

    def __init__(self, fn_name: str, f, args, kwargs, argnums, has_aux: bool, scalar_out: bool,
                 hint: ConcreteHint | None = None, allow_int: bool = False):
        """`argnums`: the keys of the differentiated arguments (positions or keyword names).
        With `allow_int`, integer leaves among them get zero gradients (of their dtype)."""
        self.fn_name = fn_name
        self.allow_int = allow_int
        flat = leaves, in_tree = tree_util.flatten((tuple(args), dict(kwargs)))  # (once)
        ranges, trees = _arg_structure(in_tree)
        key_of = {i: key for key in argnums for i in ranges[key]}
        chosen = set(key_of)
        self.has_aux = has_aux
        self.arg_trees = [trees[a] for a in argnums]
        self.argnums = argnums
        self.concrete = None
        for i in sorted(key_of):  # before tracing: f would fail on them with a vaguer error
            if not _numeric_leaf(leaves[i]):
                self._non_numeric(args, kwargs, key_of[i])
        traced = None
        if hint is None or not hint.concrete or len(context_stack()) > 1:
            traced = _trace_or_concrete(
                fn_name, f, args, kwargs,
                lambda i, leaf: i in chosen and isinstance(leaf, (int, float)), flat)
            if traced is None and hint is not None:
                hint.concrete = True
        if traced is None:
            self._run_concrete(f, args, kwargs, leaves, key_of, scalar_out)
            return
        self.traced = traced
        graph = traced.graph
        missing = [i for i in chosen if i not in traced.leaf_index]
        if missing:
            self._non_numeric(args, kwargs, key_of[missing[0]])
        integer = set()
        for i, t in zip(traced.leaf_index, traced.args):
            if i in chosen and t.dtype.kind != "f":
                if not allow_int:
                    _check_diff_input(fn_name, t, key_of[i])
                integer.add(i)
        wrt = [i in chosen and i not in integer for i in traced.leaf_index] + [False] * len(graph.consts)
        self.chosen_order = [k for k, i in enumerate(traced.leaf_index) if i in chosen]
        self.integer_order = {k for k, i in enumerate(traced.leaf_index) if i in integer}
        self._split_outputs(traced.out_tree)
        n_out = len(graph.outputs)
        ct_outputs = [k < self.num_primary for k in range(n_out)]
        if scalar_out:
            self._check_scalar(graph.outputs[0].aval if graph.outputs else None)
        self.vjp = vjp_graph(graph, wrt, ct_outputs)
        fwd = traced.run(self.vjp.forward)
        self.outs = fwd[:n_out]
        self.residuals = fwd[n_out:]

    def _non_numeric(self, args, kwargs, key):
        value = args[key] if isinstance(key, int) else kwargs[key]
        label = f"argument {key}" if isinstance(key, int) else f"argument {key!r}"
        bad = next((leaf for leaf in tree_util.leaves(value) if not _numeric_leaf(leaf)), value)
        raise_error(GradError, self.fn_name, f"{label} holds a {type(bad).__name__} "
                    f"({bad!r:.40}); only floating-point tensors can be differentiated")

    def _run_concrete(self, f, args, kwargs, leaves: list, key_of: dict,
                      scalar_out: bool) -> None:
        integer = {i for i in key_of if self.allow_int and _is_integer_leaf(leaves[i])}
        self.concrete_slots = [(i, _as_traceable(leaves[i], self.fn_name) if i in integer else None)
                               for i in sorted(key_of)]
        call = ConcreteCall(self.fn_name, f, args, kwargs, [i for i in sorted(key_of) if i not in integer],
                            check_input=lambda i, t: _check_diff_input(self.fn_name, t, key_of[i]))
        self.concrete = call
        self._split_outputs(call.out_tree)
        if scalar_out:
            self._check_scalar(call.outs[0]._value.aval if call.outs else None)
        self.outs = call.detached(call.outs)

    def _split_outputs(self, out_tree) -> None:
        """Which outputs get cotangents: all of the primary output, none of aux."""
        if self.has_aux:
            if out_tree.num_leaves < 1 or out_tree.kind not in (tuple, list) or len(out_tree.children) != 2:
                raise_error(TransformError, self.fn_name, "with has_aux=True the function must "
                            "return a pair (output, aux)")
            self.num_primary = out_tree.children[0].num_leaves
            self.primary_tree = out_tree.children[0]
            self.aux_tree = out_tree.children[1]
        else:
            self.num_primary = out_tree.num_leaves
            self.primary_tree = out_tree
            self.aux_tree = None

    def _check_scalar(self, aval) -> None:
        _check_scalar_output(self.fn_name, self.num_primary, aval)

    def pull(self, cts: list[Tensor]) -> list[Tensor]:
        """Input cotangents (zeros instantiated) for the differentiated leaves, in order."""
        if self.concrete is not None:
            it = iter(self.concrete.vjp(list(cts[:self.num_primary])))
            return [next(it) if t is None else _zeros_like_in(t) for _, t in self.concrete_slots]
        v = self.vjp
        seeds = [c for c, h in zip(cts, v.out_has_ct) if h]
        results = apply_graph(v.backward, seeds + list(self.residuals) + const_args(v.backward))
        it, nonzero = iter(results), iter(v.ct_nonzero)
        grads = []
        for k in self.chosen_order:
            # (an integer input of allow_int: zeros, as JAX's float0 gradient)
            if k not in self.integer_order and next(nonzero):
                grads.append(next(it))
            else:
                grads.append(_zeros_like_in(self.traced.args[k]))
        return grads

    def unflatten_grads(self, grads: list[Tensor], single: bool):
        per_arg, pos = [], 0
        for t in self.arg_trees:
            per_arg.append(tree_util.unflatten(t, grads[pos:pos + t.num_leaves]))
            pos += t.num_leaves
        return per_arg[0] if single else tuple(per_arg)

    def primary(self):
        return tree_util.unflatten(self.primary_tree, self.outs[:self.num_primary])

    def aux(self):
        return tree_util.unflatten(self.aux_tree, self.outs[self.num_primary:])


def _check_scalar_output(fn_name: str, num_outputs: int, aval) -> None:
    if num_outputs != 1:
        raise_error(GradError, fn_name, "the function must return one scalar (plus aux "
                    "with has_aux=True); use vjp or jacrev for several outputs")
    if aval.size != 1:  # one-element shapes such as f32[1] are accepted, as in Nabla
        raise_error(GradError, fn_name, f"grad requires a scalar output, got "
                    f"{aval.short()}; reduce it (e.g. nb.sum) or use vjp / jacrev")
    if aval.dtype.kind != "f":
        raise_error(GradError, fn_name, f"grad requires a floating-point output, got "
                    f"{aval.short()}")


def value_and_grad(fun: Callable | None = None, argnums=0, has_aux: bool = False, wrt=None,
                   holomorphic: bool = False, allow_int: bool = False, reduce_axes=(),
                   mode: str = "reverse"):
    """A function returning `(value, grad)` (or `((value, aux), grad)` with has_aux): the
    value of a scalar function and its gradient from one forward and one backward pass, as
    `jax.value_and_grad`. The options are grad's.

    Example:
        >>> v, g = nb.value_and_grad(lambda x: nb.sum(x ** 2))(nb.tensor([1.0, 2.0]))
        >>> v, g
        (Tensor(5. : f32[]), Tensor([2. 4.] : f32[2]))
    """
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux, wrt=wrt,
                                 holomorphic=holomorphic, allow_int=allow_int,
                                 reduce_axes=reduce_axes, mode=mode)
    argnums, has_aux, wrt, allow_int, mode = check_grad_options(
        "value_and_grad", fun, argnums, has_aux, wrt, holomorphic, allow_int, reduce_axes, mode)
    return _value_and_grad(fun, argnums, has_aux, wrt, "value_and_grad", allow_int, mode)


def _value_and_grad(fun: Callable, argnums, has_aux: bool, wrt, name: str, allow_int: bool,
                    mode: str):
    hint = ConcreteHint()

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        if wrt is not None:
            nums, single = _resolve_wrt(name, fun, wrt, args, kwargs)
        else:
            nums, single = _normalize_argnums(name, argnums, len(args))
        if mode == "forward":
            from .jacobians import forward_value_and_grad
            return forward_value_and_grad(name, fun, args, kwargs, nums, single, has_aux,
                                          allow_int)
        call = _VJPCall(name, fun, args, kwargs, nums, has_aux, scalar_out=True, hint=hint,
                        allow_int=allow_int)
        loss = call.outs[0]
        grads = call.pull([full_in(loss._value.ctx, loss.shape, 1, loss.dtype)])
        g = call.unflatten_grads(grads, single)
        value = call.primary()
        return ((value, call.aux()), g) if has_aux else (value, g)

    return step_end(wrapped)


def grad(fun: Callable | None = None, argnums=0, has_aux: bool = False, wrt=None,
         holomorphic: bool = False, allow_int: bool = False, reduce_axes=(), mode: str = "reverse"):
    """The gradient of a scalar function with respect to `argnums` (or the parameters named
    in `wrt`). Returns `(grad, aux)` with has_aux. Usable as a decorator. On eager values,
    Python control flow on values (`if x > 0`) works, as in JAX outside jit.

    `allow_int=True` accepts integer (and bool) inputs and gives them zero gradients of their
    own shape and dtype (JAX gives float0 zeros; nabla_like has no float0). `mode="forward"`
    computes the gradient by forward mode (one batched JVP per input element: cheaper than
    reverse mode only for few inputs). `holomorphic=True` (complex functions) and a
    non-empty `reduce_axes` (removed from JAX) raise nb.UnsupportedError.

    Example:
        >>> nb.grad(lambda x: nb.sum(x * x))(nb.tensor([1.0, 2.0, 3.0]))
        Tensor([2. 4. 6.] : f32[3])
    """
    if fun is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux, wrt=wrt,
                                 holomorphic=holomorphic, allow_int=allow_int,
                                 reduce_axes=reduce_axes, mode=mode)
    argnums, has_aux, wrt, allow_int, mode = check_grad_options(
        "grad", fun, argnums, has_aux, wrt, holomorphic, allow_int, reduce_axes, mode)
    vg = _value_and_grad(fun, argnums, has_aux, wrt, "grad", allow_int, mode)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapped


@step_end
def vjp(fun: Callable, *primals, has_aux: bool = False):
    """`(out, vjp_fn)` where `vjp_fn(cotangent)` returns a tuple with one cotangent per primal
    (`(out, vjp_fn, aux)` with has_aux).

    Example:
        >>> y, pullback = nb.vjp(lambda x: x * x, nb.tensor([1.0, 2.0]))
        >>> pullback(nb.ones((2,)))
        (Tensor([2. 4.] : f32[2]),)
    """
    check_fun("vjp", fun)
    has_aux = as_bool("vjp", "has_aux", has_aux)
    argnums = tuple(range(len(primals)))
    if not primals:
        raise_error(TransformError, "vjp", "needs at least one primal argument")
    call = _VJPCall("vjp", fun, primals, {}, argnums, has_aux, scalar_out=False)
    out = call.primary()
    out_leaves = call.outs[:call.num_primary]

    @step_end
    def vjp_fn(cotangent):
        ct_leaves, ct_tree = tree_util.flatten(cotangent)
        if ct_tree != call.primary_tree and not (len(ct_leaves) == len(out_leaves) == 1):
            raise_error(ShapeError, "vjp", f"cotangent structure {ct_tree} does not match the "
                        f"output structure {call.primary_tree}")
        cts = []
        for c, o in zip(ct_leaves, out_leaves):
            c = _as_traceable(c, "vjp")
            if c.shape != o.shape:
                raise_error(ShapeError, "vjp", f"cotangent {c._value.aval.short()} does not match "
                            f"the output {o._value.aval.short()}")
            if c.dtype is not o.dtype and o.dtype.kind == "f":
                c = c.astype(o.dtype)
            cts.append(c)
        cts += [None] * (len(call.outs) - len(cts))
        grads = call.pull(cts)
        return call.unflatten_grads(grads, single=False)

    if has_aux:
        return out, vjp_fn, call.aux()
    return out, vjp_fn


# ---------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------
def _tangent_leaves(fn_name: str, primals, tangents) -> tuple[list, list]:
    if not isinstance(primals, (tuple, list)):
        raise_error(ArgumentError, fn_name, f"primals must be a tuple or list, got "
                    f"{type(primals).__name__}")
    if not isinstance(tangents, (tuple, list)):
        raise_error(ArgumentError, fn_name, f"tangents must be a tuple or list (one entry per "
                    f"primal), got {type(tangents).__name__}")
    p_leaves, p_tree = tree_util.flatten(tuple(primals))
    t_leaves, t_tree = tree_util.flatten(tuple(tangents))
    if p_tree != t_tree:
        raise_error(TransformError, fn_name, f"tangents structure {t_tree} does not match the "
                    f"primals structure {p_tree}")
    out = []
    for p, t in zip(p_leaves, t_leaves):
        pt = _as_traceable(p, fn_name)
        tt = _as_traceable(t, fn_name)
        if pt.shape != tt.shape:
            raise_error(ShapeError, fn_name, f"tangent {tt._value.aval.short()} does not match "
                        f"primal {pt._value.aval.short()}")
        if pt.dtype.kind == "f" and tt.dtype is not pt.dtype:
            tt = tt.astype(pt.dtype)
        out.append(tt if pt.dtype.kind == "f" else None)
    return p_leaves, out


@step_end
def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """`(out, tangent_out)`: `fun(*primals)` and its directional derivative along `tangents`.

    Example:
        >>> nb.jvp(nb.sin, (nb.tensor(0.0),), (nb.tensor(1.0),))
        (Tensor(0. : f32[]), Tensor(1. : f32[]))
    """
    check_fun("jvp", fun)
    has_aux = as_bool("jvp", "has_aux", has_aux)
    p_leaves, t_leaves = _tangent_leaves("jvp", primals, tangents)
    traced = _trace_or_concrete("jvp", fun, tuple(primals), {}, _python_scalars)
    if traced is None:
        call, chosen = _concrete_forward("jvp", fun, primals, p_leaves)
        touts = call.jvp([t_leaves[i] for i in chosen])
        return _assemble_forward("jvp", call.out_tree, call.detached(call.outs), touts, has_aux)
    graph = traced.graph
    has_t = [t_leaves[i] is not None for i in traced.leaf_index] + [False] * len(graph.consts)
    jgraph, nonzero = jvp_graph(graph, has_t)
    tangent_args = [t_leaves[i] for i in traced.leaf_index if t_leaves[i] is not None]
    results = apply_graph(jgraph, list(traced.args) + const_args(graph) + tangent_args
                          + const_args(jgraph))
    n_out = len(graph.outputs)
    outs, touts_nz = results[:n_out], iter(results[n_out:])
    touts = [next(touts_nz) if nz else _zeros_like_in(o) for o, nz in zip(outs, nonzero)]
    return _assemble_forward("jvp", traced.out_tree, outs, touts, has_aux)


def _concrete_forward(fn_name: str, fun: Callable, primals, p_leaves: list):
    """`fun` run on concrete values with every numeric primal leaf as an input (the leaves a
    trace would have made inputs)."""
    chosen = [i for i, leaf in enumerate(p_leaves) if _numeric_leaf(leaf)]
    return ConcreteCall(fn_name, fun, tuple(primals), {}, chosen), chosen


def _assemble_forward(fn_name: str, out_tree, outs, touts, has_aux: bool):
    if has_aux:
        if out_tree.kind not in (tuple, list) or len(out_tree.children) != 2:
            raise_error(TransformError, fn_name, "with has_aux=True the function must return a "
                        "pair (output, aux)")
        primary, aux = out_tree.children
        n = primary.num_leaves
        return (tree_util.unflatten(primary, outs[:n]), tree_util.unflatten(primary, touts[:n]),
                tree_util.unflatten(aux, outs[n:]))
    return tree_util.unflatten(out_tree, outs), tree_util.unflatten(out_tree, touts)


@step_end
def linearize(fun: Callable, *primals):
    """`(out, jvp_fn)`: evaluates `fun` once; `jvp_fn(*tangents)` then records only the
    tangent (linear) computation, reusing the primal values, as `jax.linearize`. Cheaper
    than repeated `jvp` calls when one point is pushed many tangents.

    Example:
        >>> y, f_jvp = nb.linearize(nb.sin, nb.tensor(0.5))
        >>> f_jvp(nb.tensor(1.0))  # cos(0.5)
        Tensor(0.8776 : f32[])
        >>> f_jvp(nb.tensor(2.0))  # linear in the tangent
        Tensor(1.7552 : f32[])
    """
    check_fun("linearize", fun)
    traced = _trace_or_concrete("linearize", fun, tuple(primals), {}, _python_scalars)
    if traced is None:
        return _concrete_linearize(fun, primals)
    graph = traced.graph
    env: dict = {}
    outs = eval_graph(graph, list(traced.args) + const_args(graph), env)

    @step_end
    def jvp_fn(*tangents):
        _, t_leaves = _tangent_leaves("linearize", primals, tangents)
        tangents_in = [t_leaves[i] for i in traced.leaf_index] + [None] * len(graph.consts)
        _, touts = jvp_interpret(graph, None, tangents_in, primal_env=dict(env))
        touts = [t if t is not None else _zeros_like_in(o) for t, o in zip(touts, outs)]
        return tree_util.unflatten(traced.out_tree, touts)

    return tree_util.unflatten(traced.out_tree, outs), jvp_fn


def _concrete_linearize(fun: Callable, primals):
    call, chosen = _concrete_forward("linearize", fun, primals,
                                     tree_util.leaves(tuple(primals)))

    @step_end
    def jvp_fn(*tangents):
        _, t_leaves = _tangent_leaves("linearize", primals, tangents)
        return tree_util.unflatten(call.out_tree, call.jvp([t_leaves[i] for i in chosen]))

    return tree_util.unflatten(call.out_tree, call.detached(call.outs)), jvp_fn


# ---------------------------------------------------------------------------
# vmap
# ---------------------------------------------------------------------------
def _leaf_axes(in_axes, args: tuple) -> list:
    """One axis (or None) per leaf of `args`, from an int/None or a per-argument prefix."""
    if isinstance(in_axes, (int, type(None))):
        return [in_axes] * len(tree_util.leaves(args))
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not isinstance(in_axes, tuple) or len(in_axes) != len(args):
        raise_error(TransformError, "vmap", f"in_axes {in_axes!r} must be an int, None, or a tuple "
                    f"with one entry per positional argument ({len(args)} given)")
    try:
        return tree_util.broadcast_prefix(in_axes, args)
    except ValueError as e:
        raise_error(TransformError, "vmap", f"in_axes {in_axes!r} does not match the arguments: {e}")


def vmap(fun: Callable, in_axes=0, out_axes=0, axis_size: int | None = None):
    """Vectorize `fun` over an axis of its inputs: a graph rewrite, not a Python loop.

    `in_axes` entries are ints (negative allowed), None (shared by every example) or pytree
    prefixes of the arguments; outputs carry the batch axis at `out_axes`.

    Example:
        >>> nb.vmap(lambda x: nb.sum(x * x))(nb.ones((10, 5))).shape
        (10,)
    """
    check_fun("vmap", fun)
    in_axes = check_axes_spec("vmap", "in_axes", in_axes)
    out_axes = check_axes_spec("vmap", "out_axes", out_axes)
    axis_size = as_opt_int("vmap", "axis_size", axis_size, min=0)
    if isinstance(in_axes, dict):
        raise_error(TransformError, "vmap", f"in_axes must be an int, None or a tuple with one "
                    f"entry per positional argument, got the dict {in_axes!r} (wrap it in a "
                    f"tuple for a function of one argument)")
    n = positional_arity(fun)
    if isinstance(in_axes, (tuple, list)) and n is not None and len(in_axes) > n:
        raise_error(TransformError, "vmap", f"in_axes {in_axes!r} has {len(in_axes)} entries, "
                    f"but {getattr(fun, '__name__', 'the function')} takes {n} positional "
                    f"argument{'' if n == 1 else 's'}")

    @functools.wraps(fun)
    def batched(*args, **kwargs):
        axes = _leaf_axes(in_axes, args)
        axes += [0] * len(tree_util.leaves(kwargs))
        leaves, _ = tree_util.flatten((tuple(args), dict(kwargs)))
        size = axis_size
        sizes = []
        bdims: dict[int, int] = {}
        for i, (leaf, ax) in enumerate(zip(leaves, axes)):
            if ax is None:
                continue
            if not _is_array_like(leaf):
                continue  # Python scalars and other non-tensor leaves are shared by every example
            shape = tuple(leaf.shape)
            if not isinstance(ax, int) or not -len(shape) <= ax < len(shape):
                raise_error(TransformError, "vmap", f"in_axes {ax} is out of range for an argument "
                            f"of shape {shape} (rank {len(shape)})")
            ax %= len(shape)
            bdims[i] = ax
            sizes.append((i, shape[ax]))
        if sizes:
            distinct = sorted({s for _, s in sizes})
            if len(distinct) > 1 or (size is not None and distinct[0] != size):
                desc = ", ".join(f"argument leaf {i}: {s}" for i, s in sizes)
                raise_error(TransformError, "vmap", f"inconsistent sizes along the mapped axes "
                            f"({desc}{f'; axis_size={size}' if size is not None else ''})")
            size = distinct[0]
        elif size is None:
            raise_error(TransformError, "vmap", "no argument is mapped (all in_axes are None); "
                        "pass axis_size")

        def unbatched_aval(i, t):
            a = t._value.aval
            if i not in bdims:
                return a
            shape = list(a.shape)
            del shape[bdims[i]]
            return Aval(tuple(shape), a.dtype, a.weak)

        traced = trace_function(fun, args, kwargs, "vmap", avals_of=unbatched_aval)
        graph = traced.graph
        in_bdims = [bdims.get(i) for i in traced.leaf_index] + [None] * len(graph.consts)
        out_leaves_axes = _out_axes(out_axes, traced.out_tree)
        for ax, v in zip(out_leaves_axes, graph.outputs):
            if ax is None:
                continue
            if not -(v.aval.ndim + 1) <= ax <= v.aval.ndim:
                raise_error(TransformError, "vmap", f"out_axes {ax} is out of range for an output "
                            f"of rank {v.aval.ndim} (+1 batch axis)")
        vgraph = vmap_graph(graph, in_bdims, size, out_leaves_axes)
        outs = apply_graph(vgraph, list(traced.args) + const_args(graph) + const_args(vgraph))
        return tree_util.unflatten(traced.out_tree, outs)

    return step_end(batched)


def _out_axes(out_axes, out_tree) -> list:
    if isinstance(out_axes, (int, type(None))):
        return [out_axes] * out_tree.num_leaves
    dummy = tree_util.unflatten(out_tree, [0] * out_tree.num_leaves)
    try:
        return tree_util.broadcast_prefix(out_axes, dummy)
    except ValueError as e:
        raise_error(TransformError, "vmap", f"out_axes {out_axes!r} does not match the outputs: {e}")


# ---------------------------------------------------------------------------
# Inspection
# ---------------------------------------------------------------------------
def make_graph(fun: Callable, *, static_argnums=()):
    """A function returning the traced Graph of `fun` on its arguments (printable). After
    transforms it holds primitives only. Arguments at `static_argnums` are not graph
    inputs: their values are fixed in the graph (tensors there become constants), as
    jit's static arguments are.

    Example:
        >>> print(nb.make_graph(nb.grad(lambda x: nb.sum(nb.sin(x))))(nb.ones((3,))))
        graph(a:f32[3]) {
          b:f32[3] = cos a
          return b
        }
        >>> nb.make_graph(lambda x, w: x * w, static_argnums=1)(nb.ones(3), nb.arange(3.0))
        graph(a:f32[3]; consts b:f32[3]) {
          c:f32[3] = mul a b
          return c
        }
    """
    check_fun("make_graph", fun)
    static = check_argnums("make_graph", static_argnums, fun, "static_argnums", allow_empty=True)

    def make(*args, **kwargs):
        n = len(args)
        fixed = set()
        for i in static:
            if not -n <= i < n:
                raise_error(TransformError, "make_graph", f"static_argnums {i} is out of range "
                            f"for a call with {n} positional argument{'' if n == 1 else 's'}")
            fixed.add(i % n)
        if not fixed:
            return trace_function(fun, args, kwargs, "make_graph").graph
        dynamic = [a for i, a in enumerate(args) if i not in fixed]

        def with_statics(*dyn, **kw):
            it = iter(dyn)
            return fun(*[args[i] if i in fixed else next(it) for i in range(n)], **kw)
        return trace_function(with_statics, tuple(dynamic), kwargs, "make_graph").graph
    return make


def eval_shape(fun: Callable, *args, **kwargs):
    """The output avals (shape and dtype) of `fun(*args)`, computed by tracing only.

    Example:
        >>> nb.eval_shape(lambda x: x @ x.T, nb.ones((3, 2)))
        f32[3,3]
    """
    check_fun("eval_shape", fun)
    traced = trace_function(fun, args, kwargs, "eval_shape")
    return tree_util.unflatten(traced.out_tree, [v.aval for v in traced.graph.outputs])


__all__ = ["grad", "value_and_grad", "vjp", "jvp", "linearize", "vmap", "make_graph",
           "eval_shape"]
