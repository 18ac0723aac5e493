"""Custom derivative rules: custom_vjp and custom_jvp, JAX-compatible.

A call of a decorated function traces the function into a closed sub-graph held by one
node (`custom_vjp_call` / `custom_jvp_call`), which evaluates (and lowers) as that
sub-graph. What differs is differentiation:

* custom_vjp: reverse mode runs the user's `fwd` as the forward part of a split rule
  (its residuals become the node's extra outputs) and the user's `bwd` as the backward
  part; forward mode is an error, as in JAX.
* custom_jvp: forward mode calls the user's rule; reverse mode transposes it: the
  rule's tangent output is linear in the tangents, so the VJP is the reverse mode of
  that linear map, taken at zero tangents.

Batching vmaps the sub-graph and the user's rules. `nondiff_argnums` are static
arguments passed to the rules first; closed-over tensors are constants of the rule.
"""
from __future__ import annotations

import functools
from typing import Callable

from .. import tree as tree_util
from ..args import as_callable
from ..core import Primitive, bind
from ..errors import ShapeError, TransformError, raise_error
from ..ir import Aval, ClosedGraph
from ..tensor import Tensor
from ._common import batch_size, move_bdim, to_tensor
from .control import _avals, _describe, _same_types, trace_fn


class _Rule:
    """The user's rule of one custom function for one set of static arguments and one
    argument structure, made once (nodes of repeated calls then compare equal). Works on
    flat lists of leaves."""

    def __init__(self, owner, nondiff: dict, n_args: int, in_tree):
        self.owner = owner
        self.nondiff = nondiff        # position -> static value
        self.n_args = n_args
        self.in_tree = in_tree        # structure of the differentiated arguments
        self.res_trees: dict = {}     # primal input avals -> structure of fwd's residuals
        self.out_trees: dict = {}     # primal input avals -> structure of the output
        self._batched: dict = {}

    def full_args(self, diff_leaves) -> list:
        return self.merge(tree_util.unflatten(self.in_tree, list(diff_leaves)))

    def merge(self, diff_args) -> list:
        """All arguments in order: the static ones with the differentiated `diff_args`."""
        diff = iter(diff_args)
        return [self.nondiff[i] if i in self.nondiff else next(diff) for i in range(self.n_args)]

    def statics(self) -> list:
        return [self.nondiff[i] for i in sorted(self.nondiff)]

    def fwd_flat(self, key, leaves):
        out, res = _pair(self.owner.__name__ + " fwd", self.owner.fwd(*self.full_args(leaves)))
        out_leaves, _ = tree_util.flatten(out)
        res_leaves, self.res_trees[key] = tree_util.flatten(res)
        return ([to_tensor(o, "custom_vjp") for o in out_leaves],
                [to_tensor(r, "custom_vjp") for r in res_leaves])

    def bwd_flat(self, key, res_leaves, ct_leaves, in_avals):
        res = tree_util.unflatten(self.res_trees[key], list(res_leaves))
        ct = tree_util.unflatten(self.out_trees[key], list(ct_leaves))
        grads = self.owner.bwd(*self.statics(), res, ct)
        n_diff = self.n_args - len(self.nondiff)
        if not isinstance(grads, (tuple, list)) or len(grads) != n_diff:
            raise_error(TransformError, "custom_vjp", f"bwd must return a tuple with one cotangent "
                        f"per differentiated argument ({n_diff}), got {type(grads).__name__}"
                        + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else ""))
        leaves, tree = tree_util.flatten(tuple(grads), is_leaf=lambda x: x is None)
        if tree != self.in_tree and len(leaves) != len(in_avals):
            raise_error(TransformError, "custom_vjp", f"bwd returned cotangents of structure {tree}, "
                        f"the arguments are {self.in_tree}")
        out = []
        for g, a in zip(leaves, in_avals):
            if g is None:
                out.append(None)
                continue
            g = to_tensor(g, "custom_vjp")
            if g.shape != a.shape:
                raise_error(ShapeError, "custom_vjp", f"bwd returned a cotangent "
                            f"{g._value.aval.short()} for an argument {a.short()}")
            out.append(g if g.dtype is a.dtype else g.astype(a.dtype))
        return out

    def jvp_flat(self, primals, tangents):
        p = tree_util.unflatten(self.in_tree, list(primals))
        t = tree_util.unflatten(self.in_tree, list(tangents))
        out, tan = _pair(self.owner.__name__ + " jvp", self.owner.jvp(*self.statics(), tuple(p), tuple(t)))
        return ([to_tensor(o, "custom_jvp") for o in tree_util.leaves(out)],
                [to_tensor(o, "custom_jvp") for o in tree_util.leaves(tan)])


def _pair(what: str, result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise_error(TransformError, what, "must return a pair (output, residuals or tangents)")
    return result


class _Custom:
    """Shared by custom_vjp and custom_jvp: argument handling and tracing."""

    prim: Primitive
    kind: str

    def __init__(self, fun: Callable, nondiff_argnums=()):
        from ..transforms.arguments import check_argnums
        as_callable(self.kind, "fun", fun)
        functools.update_wrapper(self, fun)
        self.fun = fun
        nums = check_argnums(self.kind, nondiff_argnums, fun, "nondiff_argnums", allow_empty=True)
        self.nondiff_argnums = tuple(sorted(nums))
        self._rules: dict = {}

    def _check_defined(self) -> None:
        raise NotImplementedError

    def _rule(self, nondiff: dict, n_args: int, in_tree) -> _Rule:
        try:
            key = (tuple(sorted(nondiff.items())), n_args, in_tree)
            hash(key)
        except TypeError:  # unhashable static arguments: a rule for this call alone
            return _Rule(self, nondiff, n_args, in_tree)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = _Rule(self, nondiff, n_args, in_tree)
        return rule

    def __call__(self, *args):
        self._check_defined()
        for i in self.nondiff_argnums:
            if not -len(args) <= i < len(args):
                raise_error(TransformError, self.kind, f"nondiff_argnums {i} is out of range for "
                            f"{len(args)} arguments")
        nondiff = {i % len(args): args[i] for i in self.nondiff_argnums}
        diff = tuple(a for i, a in enumerate(args) if i not in nondiff)
        leaves, in_tree = tree_util.flatten(diff)
        tensors = [to_tensor(x, self.kind) for x in leaves]
        rule = self._rule(nondiff, len(args), in_tree)
        graph, out_tree = trace_fn(self.kind, lambda *d: self.fun(*rule.merge(d)), in_tree,
                                   _avals(tensors))
        key = tuple(graph.in_avals[:len(tensors)])
        rule.out_trees[key] = out_tree
        from ..transforms.graphs import const_args
        consts = const_args(graph)
        outs = bind(self.prim, *tensors, *consts, graph=graph.closed(), rule=rule,
                    num_consts=len(consts))
        return tree_util.unflatten(out_tree, list(outs))


# ---------------------------------------------------------------------------
# custom_vjp
# ---------------------------------------------------------------------------
custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)


class custom_vjp(_Custom):
    """A function with a reverse-mode rule of its own, as `jax.custom_vjp`:
    `f.defvjp(fwd, bwd)` with `fwd(*args) -> (out, residuals)` and
    `bwd(*nondiff_args, residuals, cotangent) -> tuple of cotangents, one per argument`
    (None for an argument with no cotangent). `defvjp` returns the function. Forward mode
    (jvp, jacfwd) of it raises nb.TransformError, as in JAX; vmap works.

    Example:
        >>> @nb.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> _ = clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (nb.clip(g, -1.0, 1.0),))
        >>> nb.grad(lambda x: nb.sum(3.0 * clip_gradient(x)))(nb.tensor([1.0, 2.0]))
        Tensor([1. 1.] : f32[2])
    """

    prim = custom_vjp_call_p
    kind = "custom_vjp"

    def __init__(self, fun: Callable, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> "custom_vjp":
        self.fwd = as_callable("custom_vjp.defvjp", "fwd", fwd)
        self.bwd = as_callable("custom_vjp.defvjp", "bwd", bwd)
        return self

    def _check_defined(self) -> None:
        if self.fwd is None:
            raise_error(TransformError, "custom_vjp", f"{self.__name__} has no rule yet: call "
                        f"{self.__name__}.defvjp(fwd, bwd) first")


def _custom_abstract_eval(*avals: Aval, graph: ClosedGraph, rule, num_consts: int):
    g = graph.graph
    if not _same_types(g.in_avals, avals):
        raise_error(ShapeError, "custom rule", f"arguments {_describe(avals)} do not match the "
                    f"traced function's {_describe(g.in_avals)}")
    return [a.strong() for a in g.out_avals]


custom_vjp_call_p.def_abstract_eval(_custom_abstract_eval)


def _custom_vjp_fwd(primals, *, graph, rule, num_consts):
    from ..transforms.graphs import const_args, trace_flat
    from .call import call
    n = len(primals) - num_consts
    key = tuple(graph.graph.in_avals[:n])
    n_out = len(graph.graph.outputs)

    def fwd(*leaves):
        outs, res = rule.fwd_flat(key, leaves)
        if not _same_types(_avals(outs), graph.graph.out_avals):
            raise_error(TransformError, "custom_vjp", f"fwd returns {_describe(_avals(outs))} but "
                        f"the function returns {_describe(graph.graph.out_avals)}")
        return outs + res
    fwd_graph = trace_flat(fwd, list(key), "custom_vjp")
    outs = call(fwd_graph, list(primals[:n]) + const_args(fwd_graph))
    return outs, outs[n_out:]


def _custom_vjp_bwd(residuals, cts, *, graph, rule, num_consts):
    n = len(graph.graph.inputs) - num_consts
    key = tuple(graph.graph.in_avals[:n])
    grads = rule.bwd_flat(key, residuals, cts, key)
    return tuple(grads) + (None,) * num_consts


custom_vjp_call_p.def_vjp_split(_custom_vjp_fwd, _custom_vjp_bwd)


@custom_vjp_call_p.def_jvp
def _custom_vjp_jvp(primals, tangents, outs, **params):
    raise_error(TransformError, "custom_vjp", "forward-mode differentiation (jvp, jacfwd, "
                "hessian) of a custom_vjp function is not defined: it has a reverse-mode rule "
                "only. Give it a custom_jvp rule instead, or use reverse mode (grad, jacrev)")


class _BatchedVJPRule:
    """A custom_vjp rule on batched leaves (batch axis 0): the user's rule, vmapped."""

    def __init__(self, base, key, size: int, batched: tuple[bool, ...]):
        self.base, self.key, self.size, self.batched = base, key, size, batched
        self._batched: dict = {}

    def fwd_flat(self, key, leaves):
        from ..transforms.api import vmap
        box = []

        def per_example(*ls):
            outs, res = self.base.fwd_flat(self.key, ls)
            box.append(len(outs))
            return outs + res
        flat = vmap(per_example, in_axes=tuple(0 if b else None for b in self.batched))(*leaves)
        n = box[0]
        return list(flat[:n]), list(flat[n:])

    def bwd_flat(self, key, res_leaves, ct_leaves, in_avals):
        from ..transforms.api import vmap
        from .reduce import reduce_sum
        base_avals = [Aval(a.shape[1:], a.dtype) if b else a for a, b in zip(in_avals, self.batched)]

        def per_example(res, cts):
            grads = self.base.bwd_flat(self.key, res, cts, base_avals)
            return [g if g is not None else _zeros(a) for g, a in zip(grads, base_avals)]
        grads = vmap(per_example)(list(res_leaves), list(ct_leaves))
        # a shared (unbatched) argument's cotangent is the sum over the examples
        return [g if b else reduce_sum(g, 0) for g, b in zip(grads, self.batched)]


def _zeros(aval: Aval) -> Tensor:
    from ..core import current_context, full_in
    return full_in(current_context(), aval.shape, 0, aval.dtype)


def _custom_batch(prim: Primitive, make_rule):
    def batch(args, bdims, *, graph, rule, num_consts):
        from ..transforms.graphs import const_args, vmap_graph
        size = batch_size(args, bdims)
        g = graph.graph
        n = len(args) - num_consts
        moved = [move_bdim(a, b, 0, size) if b is not None else a for a, b in zip(args, bdims)]
        in_bd = [0 if b is not None else None for b in bdims]
        vg = vmap_graph(g, in_bd, size, [0] * len(g.outputs))
        key = tuple(g.in_avals[:n])
        batched = tuple(b is not None for b in bdims[:n])
        brule = rule._batched.get((key, size, batched))
        if brule is None:  # one batched rule per batching, so that nodes compare equal
            brule = rule._batched[(key, size, batched)] = make_rule(rule, key, size, batched)
        consts = const_args(vg)
        outs = bind(prim, *moved[:n], *consts, *moved[n:], graph=_with_trailing(vg, n, len(consts)),
                    rule=brule, num_consts=len(consts) + num_consts)
        return list(outs), (0,) * len(outs)
    return batch


def _with_trailing(vg, n: int, n_new: int) -> ClosedGraph:
    """The batched graph's inputs as (leaves, its own consts, the node's old consts)."""
    from ..ir import Graph
    k = len(vg.inputs) - n_new
    return Graph(vg.inputs[:n] + vg.inputs[k:] + vg.inputs[n:k], vg.nodes, vg.outputs).closed()


custom_vjp_call_p.def_batch(_custom_batch(custom_vjp_call_p, _BatchedVJPRule))


# ---------------------------------------------------------------------------
# custom_jvp
# ---------------------------------------------------------------------------
custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.def_abstract_eval(_custom_abstract_eval)


class custom_jvp(_Custom):
    """A function with a forward-mode rule of its own, as `jax.custom_jvp`: `f.defjvp(rule)`
    with `rule(*nondiff_args, primals, tangents) -> (out, tangent_out)`, linear in the
    tangents. Reverse mode (grad, vjp) transposes the rule; vmap works. `defjvp` can be
    used as a decorator.

    Example:
        >>> @nb.custom_jvp
        ... def log1pexp(x):
        ...     return nb.log(1.0 + nb.exp(x))
        >>> @log1pexp.defjvp
        ... def _(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t * nb.sigmoid(x)
        >>> nb.grad(log1pexp)(nb.tensor(100.0))  # the formula's own derivative gives nan here
        Tensor(1. : f32[])
    """

    prim = custom_jvp_call_p
    kind = "custom_jvp"

    def __init__(self, fun: Callable, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp: Callable) -> Callable:
        self.jvp = as_callable("custom_jvp.defjvp", "jvp", jvp)
        return jvp

    def _check_defined(self) -> None:
        if self.jvp is None:
            raise_error(TransformError, "custom_jvp", f"{self.__name__} has no rule yet: decorate "
                        f"its JVP rule with @{self.__name__}.defjvp")


def _tangents_or_zeros(primals, tangents):
    return [t if t is not None else _zeros(p._value.aval.strong()) for p, t in zip(primals, tangents)]


@custom_jvp_call_p.def_jvp
def _custom_jvp_jvp(primals, tangents, outs, *, graph, rule, num_consts):
    n = len(primals) - num_consts
    if all(t is None for t in tangents[:n]):
        return [None] * len(outs)
    _, tans = rule.jvp_flat(primals[:n], _tangents_or_zeros(primals[:n], tangents[:n]))
    want = graph.graph.out_avals
    if not _same_types(_avals(tans), want):
        raise_error(TransformError, "custom_jvp", f"the rule returns tangents {_describe(_avals(tans))} "
                    f"for outputs {_describe(want)}")
    return tans


def _tangent_map(graph: ClosedGraph, rule, n: int):
    """A graph (primals..., tangents...) -> tangent outputs of the rule (cached per rule)."""
    from ..transforms.graphs import _cached_key, trace_flat
    avals = list(graph.graph.in_avals[:n])

    def build():
        return trace_flat(lambda *a: rule.jvp_flat(a[:n], a[n:])[1],
                          avals + [a.strong() for a in avals], "custom_jvp")
    return _cached_key(("custom jvp tangent map", rule, graph.key, tuple(avals)), build)


@custom_jvp_call_p.def_vjp
def _custom_jvp_vjp(cts, primals, outs, *, graph, rule, num_consts):
    from ..transforms.graphs import const_args, eval_graph, vjp_graph
    n = len(primals) - num_consts
    tmap = _tangent_map(graph, rule, n)
    wrt = [False] * n + [a.dtype.kind == "f" for a in tmap.in_avals[n:2 * n]] + [False] * tmap.num_consts
    vjp = vjp_graph(tmap, wrt)
    zeros = [_zeros(p._value.aval.strong()) for p in primals[:n]]
    fwd = eval_graph(vjp.forward, list(primals[:n]) + zeros + const_args(tmap))
    residuals = fwd[len(tmap.outputs):]
    seeds = [c for c, h in zip(cts, vjp.out_has_ct) if h]
    grads = iter(eval_graph(vjp.backward, seeds + residuals + const_args(vjp.backward)))
    nonzero = iter(vjp.ct_nonzero)
    flags = wrt[n:2 * n]
    return tuple(next(grads) if f and next(nonzero) else None for f in flags) + (None,) * num_consts


class _BatchedJVPRule:
    """A custom_jvp rule on batched leaves (batch axis 0): the user's rule, vmapped."""

    def __init__(self, base, key, size: int, batched: tuple[bool, ...]):
        self.base, self.key, self.size, self.batched = base, key, size, batched
        self._batched: dict = {}

    def jvp_flat(self, primals, tangents):
        from ..transforms.api import vmap
        box = []

        def per_example(p, t):
            outs, tans = self.base.jvp_flat(p, t)
            box.append(len(outs))
            return outs + tans
        p = [x if b else move_bdim(x, None, 0, self.size) for x, b in zip(primals, self.batched)]
        t = [move_bdim(x, None, 0, self.size) if x.ndim == len(self.key[i].shape) else x
             for i, x in enumerate(tangents)]
        flat = vmap(per_example)(list(p), list(t))
        n = box[0]
        return list(flat[:n]), list(flat[n:])


custom_jvp_call_p.def_batch(_custom_batch(custom_jvp_call_p, _BatchedJVPRule))


__all__ = ["custom_vjp", "custom_jvp"]
