"""Rematerialization: checkpoint/remat, its save policies, checkpoint_name, and
optimization_barrier.

`checkpoint(f)` traces `f` into a closed sub-graph held by one `remat` node. Evaluated,
it is the sub-graph inline. Differentiated, its split rule keeps only what the policy
allows: the forward pass returns the node's inputs and the saveable intermediates as
residuals, and the backward pass recomputes everything else from them before pulling
the cotangents back. The recomputation starts from an `optimization_barrier` over those
values, so that XLA cannot merge it with the forward pass again (CSE) and the memory
saving survives compilation.

Policies (as in JAX): `None` or `nothing_saveable` saves nothing but the inputs,
`dots_saveable` saves the outputs of matrix products, `everything_saveable` saves all
(no recomputation), and `save_only_these_names(*names)` /
`save_any_names_but_these(*names)` decide by the names `checkpoint_name(x, name)` gives.
"""
from __future__ import annotations

import functools
import types
from typing import Callable

from .. import tree as tree_util
from ..args import as_bool, as_callable, as_int_tuple
from ..core import Primitive, bind
from ..errors import TransformError, raise_error
from ..ir import Aval, ClosedGraph, Graph
from ..tensor import Tensor
from ._common import to_tensor
from .control import _avals, trace_fn


# ---------------------------------------------------------------------------
# optimization_barrier
# ---------------------------------------------------------------------------
optimization_barrier_p = Primitive("optimization_barrier", multiple_results=True)
optimization_barrier_p.def_abstract_eval(lambda *avals: list(avals))


def optimization_barrier(*xs: Tensor) -> list[Tensor]:
    """The same values, through a point XLA may not optimize across (no CSE or code motion
    over it), as jax.lax.optimization_barrier. Returns a list, one tensor per argument;
    derivatives pass through it.

    Example:
        >>> x, y = nb.optimization_barrier(nb.tensor([1.0, 2.0]), nb.tensor(3.0))
        >>> x * y
        Tensor([3. 6.] : f32[2])
    """
    return list(bind(optimization_barrier_p, *[to_tensor(x, "optimization_barrier") for x in xs]))


@optimization_barrier_p.def_jvp
def _barrier_jvp(primals, tangents, outs):
    nz = [t for t in tangents if t is not None]
    if not nz:
        return [None] * len(outs)
    it = iter(optimization_barrier(*nz))
    return [next(it) if t is not None else None for t in tangents]


@optimization_barrier_p.def_vjp
def _barrier_vjp(cts, primals, outs):
    return tuple(optimization_barrier(*cts))


@optimization_barrier_p.def_batch
def _barrier_batch(args, bdims):
    return optimization_barrier(*args), tuple(bdims)


# ---------------------------------------------------------------------------
# checkpoint_name
# ---------------------------------------------------------------------------
name_p = Primitive("checkpoint_name", linear=True)
name_p.def_abstract_eval(lambda x, *, name: x)
name_p.def_transpose(lambda ct, x, *, name: (ct,))
name_p.def_batch(lambda args, bdims, *, name: (bind(name_p, args[0], name=name), bdims[0]))


def checkpoint_name(x, name: str) -> Tensor:
    """`x`, tagged `name` for the policies of `checkpoint` (the identity otherwise).

    Example:
        >>> x, w = nb.ones((2, 3)), nb.ones((3, 2)) * 0.1
        >>> nb.checkpoint_name(nb.tanh(x @ w), "hidden")
        Tensor(
        [[0.2913 0.2913]
         [0.2913 0.2913]] : f32[2,2]
        )
    """
    if not isinstance(name, str):
        raise_error(TransformError, "checkpoint_name", f"name must be a str, got {name!r}")
    return bind(name_p, to_tensor(x, "checkpoint_name"), name=name)


# ---------------------------------------------------------------------------
# Policies: node -> whether its outputs may be saved for the backward pass
# ---------------------------------------------------------------------------
class Policy:
    """A save policy: `saveable(node)` says whether the outputs of `node` (of the
    checkpointed sub-graph) may be kept from the forward pass."""

    def __init__(self, name: str, saveable: Callable):
        self.name = name
        self.saveable = saveable

    def __repr__(self) -> str:
        return self.name


nothing_saveable = Policy("nothing_saveable", lambda node: False)
everything_saveable = Policy("everything_saveable", lambda node: True)
dots_saveable = Policy("dots_saveable", lambda node: node.prim.name == "dot_general")


@functools.lru_cache(maxsize=None)
def save_only_these_names(*names: str) -> Policy:
    """The `checkpoint` policy that saves for the backward pass only the values tagged with
    one of `names` by `checkpoint_name`, and recomputes the rest (as JAX's
    checkpoint_policies.save_only_these_names). Derivatives are the same under every policy.

    Example:
        >>> policy = nb.save_only_these_names("hidden")
        >>> policy
        save_only_these_names('hidden',)
        >>> f = nb.checkpoint(lambda x: nb.checkpoint_name(nb.tanh(x), "hidden") * 2, policy=policy)
        >>> nb.grad(lambda x: nb.sum(f(x)))(nb.tensor([0.0, 1.0]))
        Tensor([2.     0.8399] : f32[2])
    """
    return Policy(f"save_only_these_names{names}",
                  lambda node: node.prim is name_p and node.params["name"] in names)


@functools.lru_cache(maxsize=None)
def save_any_names_but_these(*names: str) -> Policy:
    """The `checkpoint` policy that saves for the backward pass the values tagged by
    `checkpoint_name` with any name but `names`, and recomputes the rest (as JAX's
    checkpoint_policies.save_any_names_but_these).

    Example:
        >>> policy = nb.save_any_names_but_these("big")
        >>> policy
        save_any_names_but_these('big',)
        >>> def f(x):
        ...     return nb.checkpoint_name(nb.sin(x), "small") * nb.checkpoint_name(nb.exp(x), "big")
        >>> nb.grad(lambda x: nb.sum(nb.checkpoint(f, policy=policy)(x)))(nb.tensor([0.0, 1.0]))
        Tensor([1.    3.756] : f32[2])
    """
    return Policy(f"save_any_names_but_these{names}",
                  lambda node: node.prim is name_p and node.params["name"] not in names)


# ---------------------------------------------------------------------------
# checkpoint / remat
# ---------------------------------------------------------------------------
remat_p = Primitive("remat", multiple_results=True)


@remat_p.def_abstract_eval
def _remat_abstract_eval(*avals: Aval, graph: ClosedGraph, policy: Policy, prevent_cse: bool):
    from .call import call_p
    return call_p.abstract_eval(*avals, graph=graph)


def checkpoint(fun: Callable | None = None, *, policy: Policy | None = None,
               prevent_cse: bool = True, static_argnums=()):
    """`fun` whose intermediates are recomputed during the backward pass instead of stored
    (alias: remat), keeping only what `policy` allows (default: nothing but the inputs).

    Example:
        >>> w = nb.eye(2) * 0.5
        >>> layer = nb.checkpoint(lambda x: nb.tanh(x @ w))
        >>> nb.grad(lambda x: nb.sum(layer(layer(x))))(nb.ones((1, 2)))
        Tensor(
        [[0.1865 0.1865]] : f32[1,2]
        )
    """
    if fun is None:
        return functools.partial(checkpoint, policy=policy, prevent_cse=prevent_cse,
                                 static_argnums=static_argnums)
    if policy is not None and not isinstance(policy, Policy):
        raise_error(TransformError, "checkpoint", f"policy must be one of nb's checkpoint "
                    f"policies (nothing_saveable, dots_saveable, ...), got {policy!r}")
    as_callable("checkpoint", "fun", fun)
    prevent_cse = as_bool("checkpoint", "prevent_cse", prevent_cse)
    statics = as_int_tuple("checkpoint", "static_argnums", static_argnums, min=0)
    policy = policy or nothing_saveable

    @functools.wraps(fun)
    def wrapped(*args):
        if statics and max(statics) >= len(args):
            raise_error(TransformError, "checkpoint", f"static_argnums {statics} is out of range "
                        f"for a call with {len(args)} positional arguments")
        static = {i: args[i] for i in statics}
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_util.flatten(tuple(dyn))
        tensors = [to_tensor(x, "checkpoint") for x in leaves]

        def call(*d):
            it = iter(d)
            return fun(*[static[i] if i in static else next(it) for i in range(len(args))])
        graph, out_tree = trace_fn("checkpoint", call, in_tree, _avals(tensors))
        from ..transforms.graphs import const_args
        outs = bind(remat_p, *tensors, *const_args(graph), graph=graph.closed(), policy=policy,
                    prevent_cse=prevent_cse)
        return tree_util.unflatten(out_tree, list(outs))
    return wrapped


remat = checkpoint


class _Plan:
    """How a checkpointed graph is differentiated under a policy: its split VJP, the
    forward values kept as residuals (`saved`), the nodes the backward pass replays to
    rebuild the other residuals (`recompute`, in order), and the residuals that are a
    saved name's input, read through the name (`aliases`: value id -> named value)."""

    def __init__(self, graph: Graph, policy: Policy):
        from ..transforms.graphs import _values_by_id, vjp_graph
        self.wrt = tuple(a.dtype.kind == "f" for a in graph.in_avals)
        self.vjp = vjp = vjp_graph(graph, self.wrt)
        fwd = vjp.forward
        self.n_out = len(graph.outputs)
        # A saveable checkpoint_name makes its input available too (the same value).
        named = {node.inputs[0].id: node.out_ids[0] for node in fwd.nodes
                 if node.prim is name_p and policy.saveable(node)}
        # Walk back from the residuals the backward pass reads: a value made by a
        # saveable node is kept, any other is recomputed from its node's inputs.
        needed = {r.id for r in fwd.outputs[self.n_out:]} - {v.id for v in fwd.inputs}
        saved, self.aliases, recompute = [], {}, []
        for node in reversed(fwd.nodes):
            outs = [o for o in node.out_ids if o in needed]
            if not outs:
                continue
            for o in [o for o in outs if o in named]:
                self.aliases[o] = named[o]
                needed.add(named[o])
            outs = [o for o in outs if o not in named]
            if not outs:
                continue
            if policy.saveable(node):
                saved.extend(outs)
                continue
            recompute.append(node)
            needed.update(v.id for v in node.inputs)
        named_saved = [i for i in dict.fromkeys(self.aliases.values()) if i not in saved]
        inputs = {v.id for v in fwd.inputs}
        self.saved = _values_by_id(fwd, [i for i in saved + named_saved if i not in inputs])
        self.recompute = recompute[::-1]


def _plan(graph: ClosedGraph, policy: Policy) -> _Plan:
    from ..transforms.graphs import _cached
    return _cached("remat", graph.graph, (policy,), lambda: _Plan(graph.graph, policy))


def _remat_vjp_fwd(primals, *, graph, policy, prevent_cse):
    from .call import call
    plan = _plan(graph, policy)
    fwd = plan.vjp.forward
    forward = Graph(fwd.inputs, fwd.nodes, fwd.outputs[:plan.n_out] + plan.saved)
    outs = call(forward, list(primals))
    return outs[:plan.n_out], list(primals) + outs[plan.n_out:]


def _remat_vjp_bwd(residuals, cts, *, graph, policy, prevent_cse):
    from ..core import replay
    from ..transforms.graphs import const_args, eval_graph
    plan = _plan(graph, policy)
    fwd = plan.vjp.forward
    n = len(fwd.inputs)
    primals, kept = list(residuals[:n]), list(residuals[n:])
    if prevent_cse and (primals or kept):
        # The barrier also holds the incoming cotangents, so the recomputation cannot
        # start before the backward pass reaches this block.
        live = [c for c in cts if c is not None]
        barred = optimization_barrier(*(primals + kept + live))
        primals, kept = barred[:n], barred[n:n + len(kept)]
        it = iter(barred[n + len(kept):])
        cts = [next(it) if c is not None else None for c in cts]
    env = {v.id: p for v, p in zip(fwd.inputs, primals)}
    env.update((v.id, k) for v, k in zip(plan.saved, kept))
    env.update((o, env[named]) for o, named in plan.aliases.items())
    for node in plan.recompute:
        outs = replay(node, [env[v.id] for v in node.inputs])
        env.update(zip(node.out_ids, outs if node.prim.multiple_results else (outs,)))
    residuals = [env[r.id] for r in fwd.outputs[plan.n_out:]]
    vjp = plan.vjp
    seeds = [c for c, h in zip(cts, vjp.out_has_ct) if h]
    grads = iter(eval_graph(vjp.backward, seeds + residuals + const_args(vjp.backward)))
    nonzero = iter(vjp.ct_nonzero)
    return tuple(next(grads) if w and next(nonzero) else None for w in plan.wrt)


remat_p.def_vjp_split(_remat_vjp_fwd, _remat_vjp_bwd)


@remat_p.def_jvp
def _remat_jvp(primals, tangents, outs, *, graph, policy, prevent_cse):
    from ..transforms.graphs import const_args, jvp_graph
    jg, nonzero = jvp_graph(graph.graph, [t is not None for t in tangents])
    res = bind(remat_p, *primals, *[t for t in tangents if t is not None], *const_args(jg),
               graph=jg.closed(), policy=policy, prevent_cse=prevent_cse)
    tans = iter(res[len(outs):])
    return [next(tans) if nz else None for nz in nonzero]


@remat_p.def_batch
def _remat_batch(args, bdims, *, graph, policy, prevent_cse):
    from ._common import batch_size
    from ..transforms.graphs import const_args, vmap_graph
    g = graph.graph
    vg = vmap_graph(g, list(bdims), batch_size(args, bdims), [0] * len(g.outputs))
    outs = bind(remat_p, *args, *const_args(vg), graph=vg.closed(), policy=policy,
                prevent_cse=prevent_cse)
    return list(outs), (0,) * len(outs)


# The policies under one name too, as JAX spells them: nb.checkpoint_policies.dots_saveable.
checkpoint_policies = types.SimpleNamespace(
    nothing_saveable=nothing_saveable, everything_saveable=everything_saveable,
    dots_saveable=dots_saveable, save_only_these_names=save_only_these_names,
    save_any_names_but_these=save_any_names_but_these)

__all__ = ["checkpoint", "remat", "checkpoint_policies", "checkpoint_name",
           "optimization_barrier", "nothing_saveable",
           "everything_saveable", "dots_saveable", "save_only_these_names",
           "save_any_names_but_these"]
