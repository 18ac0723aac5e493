"""Tracing Python functions into Graphs, replaying Graphs, and the three rewrites.

Each rewrite is an interpreter traced into a new Graph:

* `jvp_graph`  -- forward mode: (primals, tangents) -> (outs, tangent outs)
* `vjp_graph`  -- reverse mode, split in two: a forward graph that also returns
  the residuals the backward pass reads, and a backward graph
  (cotangents, residuals) -> input cotangents
* `vmap_graph` -- batching: each value carries a batch dim (or None)

Applying a transformed function replays (`eval_graph`) the rewritten graph on
the actual arguments: eager arguments give lazy results, arguments of an outer
trace record into it, so transforms compose to any depth. Symbolic zeros are
`None` throughout and unused work is dropped by tracing from the outputs only
(dead code never enters a traced graph).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Sequence

from ..core import (EAGER, TraceContext, _observers, bind, context_stack, current_context,
                    full_in, new_trace, replay)
from ..errors import TransformError, raise_error
from ..ir import Aval, Graph, Node, Value, toposort
from ..ops._common import add_any, move_bdim, to_tensor
from ..ops.call import call_eager
from ..tensor import Tensor


# ---------------------------------------------------------------------------
# Tracing and replay
# ---------------------------------------------------------------------------
def _output_value(ctx: TraceContext, out) -> Value:
    if not isinstance(out, Tensor):
        out = to_tensor(out, "output", ctx)
    v = out._value
    if v.ctx is not ctx:
        if not v.ctx.alive or v.ctx.level >= ctx.level:
            from ..core import _leak
            _leak("output", v, ctx)
        v = ctx.lift(v)
    return v


def trace_flat(fn: Callable, in_avals: Sequence[Aval], transform: str = "trace") -> Graph:
    """Trace `fn(*tensors) -> list of tensors` on abstract inputs into a Graph."""
    with new_trace(transform) as ctx:
        args = [Tensor._wrap(ctx.new_input(aval)) for aval in in_avals]
        outs = fn(*args)
        out_values = [_output_value(ctx, o) for o in outs]
    nodes = toposort(out_values, lambda v: False)
    graph = Graph(ctx.inputs + ctx.const_inputs, nodes, out_values, consts=ctx.const_values)
    ctx.release()
    return graph


def const_args(graph: Graph) -> list[Tensor]:
    """The outer values a graph captured, as Tensors to pass as its trailing inputs."""
    return [Tensor._wrap(v) for v in graph.consts]


def eval_graph(graph: Graph, args: Sequence[Tensor], env: dict | None = None) -> list[Tensor]:
    """Replay `graph` on `args` (all inputs, consts included) in their context."""
    if env is None:
        env = {}
    same_avals = True
    for v, a in zip(graph.inputs, args):
        env[v.id] = a
        if a._value.aval != v.aval:
            same_avals = False
    # Arguments of the traced avals (the normal case) replay node by node without
    # re-running shape rules; anything else, or a debug() observer, goes through bind.
    fast = same_avals and not _observers
    for node in graph.nodes:
        ins = [env[v.id] for v in node.inputs]
        outs = replay(node, ins) if fast else bind(node.prim, *ins, **node.params)
        if node.prim.multiple_results:
            for oid, o in zip(node.out_ids, outs):
                env[oid] = o
        else:
            env[node.out_ids[0]] = outs
    return [env[v.id] for v in graph.outputs]


def apply_graph(graph: Graph, args: Sequence[Tensor]) -> list[Tensor]:
    """`graph` applied to `args` (all inputs, consts included). On eager values it records
    one `call` node holding the graph (ops/call.py): one bind, one node in the pending
    program's key, inlined when lowered. Anything else replays the nodes (traces keep
    primitives only; debug() observers see each one)."""
    if not _observers:
        for v, a in zip(graph.inputs, args):
            av = a._value
            if av.ctx.level != 0 or (av.aval is not v.aval and av.aval != v.aval):
                break
        else:
            if args or len(context_stack()) == 1:
                return call_eager(graph, list(args))
    return eval_graph(graph, args)


# ---------------------------------------------------------------------------
# Rewrites are cached by the structure of the graph they rewrite. A transform
# still traces the user's function on every call (its Python may read changing
# globals); when the traced graph has a structure seen before, the rewritten
# graph is reused. It is replayed on the new graph's inputs and consts (the
# consts of a cached rewrite are inputs, never baked values), so reuse is exact.
# ---------------------------------------------------------------------------
_REWRITE_CACHE_SIZE = 256
_rewrites: "OrderedDict[tuple, object]" = OrderedDict()
_rewrites_lock = threading.Lock()


def _cached(kind: str, graph: Graph, params: tuple, build: Callable):
    return _cached_key((kind, graph.key(), params), build)


def _cached_key(key: tuple, build: Callable):
    with _rewrites_lock:
        hit = _rewrites.get(key)
        if hit is not None:
            _rewrites.move_to_end(key)
            return hit
    out = build()  # outside the lock: building traces, and may itself use the cache
    with _rewrites_lock:
        _rewrites[key] = out
        if len(_rewrites) > _REWRITE_CACHE_SIZE:
            _rewrites.popitem(last=False)
    return out


def clear_rewrite_cache() -> None:
    with _rewrites_lock:
        _rewrites.clear()


def _missing_rule(kind: str, prim) -> None:
    raise_error(TransformError, prim.name, f"primitive {prim.name!r} has no {kind} rule")


# ---------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------
def jvp_interpret(graph: Graph, primals: Sequence[Tensor], tangents: Sequence[Tensor | None],
                  primal_env: dict | None = None) -> tuple[list[Tensor], list[Tensor | None]]:
    """Push tangents through `graph`. With `primal_env` (value id -> Tensor) the primal
    values are looked up instead of recomputed, so only tangent work is recorded."""
    tenv: dict[int, Tensor] = {}
    for v, t in zip(graph.inputs, tangents):
        if t is not None:
            tenv[v.id] = t
    if primal_env is None:
        env: dict[int, Tensor] = {v.id: p for v, p in zip(graph.inputs, primals)}
    else:
        env = primal_env
    for node in graph.nodes:
        prim = node.prim
        ins = [env[v.id] for v in node.inputs]
        if primal_env is None:
            outs = bind(prim, *ins, **node.params)
            outs_t = tuple(outs) if prim.multiple_results else (outs,)
            for oid, o in zip(node.out_ids, outs_t):
                env[oid] = o
        tins = tuple(tenv.get(v.id) for v in node.inputs)
        if not prim.differentiable or all(t is None for t in tins):
            continue
        if prim.jvp is None:
            _missing_rule("JVP", prim)
        outs_t = tuple(env[oid] for oid in node.out_ids)
        touts = prim.jvp(tuple(ins), tins, outs_t, **node.params)
        if not prim.multiple_results:
            touts = (touts,)
        for oid, aval, t in zip(node.out_ids, node.out_avals, touts):
            if t is not None and aval.dtype.kind == "f":
                tenv[oid] = t
    return ([env[v.id] for v in graph.outputs], [tenv.get(v.id) for v in graph.outputs])


def jvp_graph(graph: Graph, has_tangent: Sequence[bool],
              instantiate: Sequence[bool] | None = None) -> tuple[Graph, list[bool]]:
    inst = None if instantiate is None else tuple(instantiate)
    return _cached("jvp", graph, (tuple(has_tangent), inst),
                   lambda: _jvp_graph(graph, has_tangent, inst))


def _jvp_graph(graph: Graph, has_tangent: Sequence[bool],
               instantiate: Sequence[bool] | None = None) -> tuple[Graph, list[bool]]:
    """Graph (primals..., tangents of flagged inputs...) -> (outs..., nonzero tangent outs...).

    Returns the graph and, per output, whether its tangent is nonzero (zero tangents
    are symbolic and not computed). Float outputs flagged in `instantiate` always get a
    tangent (zeros if need be): higher-order primitives need one tangent pattern for all
    of their branches or iterations.
    """
    flagged = [i for i, f in enumerate(has_tangent) if f]
    avals = graph.in_avals + [graph.inputs[i].aval.strong() for i in flagged]
    n = len(graph.inputs)
    nonzero: list[bool] = []

    def fn(*args):
        primals = args[:n]
        tangents = [None] * n
        for k, i in enumerate(flagged):
            tangents[i] = args[n + k]
        outs, touts = jvp_interpret(graph, primals, tangents)
        if instantiate is not None:
            touts = [full_in(o._value.ctx, o.shape, 0, o.dtype)
                     if t is None and inst and o.dtype.kind == "f" else t
                     for o, t, inst in zip(outs, touts, instantiate)]
        nonzero[:] = [t is not None for t in touts]
        return outs + [t for t in touts if t is not None]

    return trace_flat(fn, avals, "jvp"), nonzero


# ---------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------
def forward_needs(graph: Graph, wrt: Sequence[bool]) -> set[int]:
    """Ids of the values of `graph` that depend on the inputs flagged in `wrt`."""
    needs = {v.id for v, w in zip(graph.inputs, wrt) if w}
    for node in graph.nodes:
        if node.prim.differentiable and any(v.id in needs for v in node.inputs):
            for oid, aval in zip(node.out_ids, node.out_avals):
                if aval.dtype.kind == "f":
                    needs.add(oid)
    return needs


def backward_pass(nodes: Sequence, env, ct_env: dict[int, Tensor],
                  needs: Callable[[Value], bool], split: dict | None = None) -> dict[int, Tensor]:
    """Pull cotangents back through `nodes` (in reverse). `env[value id]` gives primal
    Tensors; `ct_env` holds output cotangents on entry and input cotangents on exit.
    `split` maps id(node) of nodes made by a split rule's forward part to their backward
    (see _split_forward)."""
    for node in reversed(nodes):
        cts = [ct_env.pop(oid, None) for oid in node.out_ids]
        if all(c is None for c in cts) or not node.prim.differentiable:
            continue
        if not any(needs(v) for v in node.inputs):
            continue
        prim = node.prim
        if split is not None and id(node) in split:
            ctx = current_context()
            cts = [c if c is not None else full_in(ctx, a.shape, 0, a.dtype)
                   for c, a in zip(cts, node.out_avals)]
            cts_in = split[id(node)](cts, env)
            for v, ct in zip(node.inputs, cts_in):
                if ct is not None and needs(v):
                    ct_env[v.id] = add_any(ct_env.get(v.id), ct)
            continue
        if prim.vjp is None:
            _missing_rule("VJP", prim)
        primals = tuple(env[v.id] for v in node.inputs)
        outs = tuple(env[oid] for oid in node.out_ids)
        if prim.multiple_results:
            cts = [c if c is not None else full_in(o._value.ctx, o.shape, 0, o.dtype)
                   for c, o in zip(cts, outs)]
            cts_in = prim.vjp(cts, primals, outs, **node.params)
        else:
            cts_in = prim.vjp(cts[0], primals, outs, **node.params)
        for v, ct in zip(node.inputs, cts_in):
            if ct is not None and needs(v):
                ct_env[v.id] = add_any(ct_env.get(v.id), ct)
    return ct_env


class RecordedEnv(dict):
    """Primal Tensors of recorded values, by value id, made on first use."""

    def __init__(self, seen: dict[int, Value], nodes: list[Node]):
        super().__init__()
        self.seen = seen
        self.nodes = nodes

    def __missing__(self, vid: int) -> Tensor:
        v = self.seen.get(vid)
        if v is None:  # an output of a multi-output node that nothing downstream used
            node = next(n for n in self.nodes if vid in n.out_ids)
            i = node.out_ids.index(vid)
            sibling = next((self.seen[o] for o in node.out_ids if o in self.seen), None)
            v = Value(node.out_avals[i], node, i, sibling.ctx if sibling is not None else EAGER)
            v.device = sibling.device if sibling is not None else None
        t = Tensor._wrap(v)
        self[vid] = t
        return t


def recorded_graph(roots: list[Value], stop) -> tuple[list[Node], dict[int, Value], RecordedEnv]:
    """The recorded nodes between `roots` and the values where `stop(v)` holds, in
    topological order; every Value met on the way (by id); their primal Tensors."""
    nodes = toposort(roots, stop)
    seen: dict[int, Value] = {v.id: v for v in roots}
    for node in nodes:
        for v in node.inputs:
            seen[v.id] = v
    return nodes, seen, RecordedEnv(seen, nodes)


class _ResidualEnv(dict):
    """Primal values seen from the backward trace: each one first read becomes an input."""

    def __init__(self, ctx: TraceContext, avals: dict[int, Aval]):
        super().__init__()
        self.ctx = ctx
        self.avals = avals
        self.order: list[int] = []

    def __missing__(self, vid: int) -> Tensor:
        t = Tensor._wrap(self.ctx.new_input(self.avals[vid]))
        self[vid] = t
        self.order.append(vid)
        return t


class VJPGraphs:
    """forward: inputs -> (outs..., residuals...);  backward: (cts..., residuals...) ->
    one cotangent per flagged input (`ct_nonzero` says which are not symbolic zeros).
    `residual_positions` name the residuals by position in the forward graph's value
    numbering (inputs first, then node outputs in order), so that any graph of the same
    structure can supply them."""

    def __init__(self, forward: Graph, backward: Graph, num_outs: int, ct_nonzero: list[bool],
                 out_has_ct: list[bool], residual_positions: list[int]):
        self.forward = forward
        self.backward = backward
        self.num_outs = num_outs
        self.ct_nonzero = ct_nonzero
        self.out_has_ct = out_has_ct
        self.residual_positions = residual_positions


def vjp_graph(graph: Graph, wrt: Sequence[bool], ct_outputs: Sequence[bool] | None = None
              ) -> VJPGraphs:
    cts = None if ct_outputs is None else tuple(ct_outputs)
    return _cached("vjp", graph, (tuple(wrt), cts), lambda: _vjp_graph(graph, wrt, ct_outputs))


def _vjp_graph(graph: Graph, wrt: Sequence[bool], ct_outputs: Sequence[bool] | None = None,
               split: bool = True) -> VJPGraphs:
    """Split reverse mode of `graph` with respect to the inputs flagged in `wrt`; only the
    outputs flagged in `ct_outputs` (default: all) receive cotangents.

    With `split`, nodes whose primitives have a split rule and that the differentiated
    inputs reach are rewritten in the forward graph to also make their residuals (so the
    forward graph is no longer `graph`'s nodes); without it (a forward pass that already
    ran, as backward() differentiates) their plain VJP recomputes what it needs."""
    needs_ids = forward_needs(graph, wrt)
    hooks = None
    if split and any(n.prim.vjp_fwd is not None and any(v.id in needs_ids for v in n.inputs)
                     for n in graph.nodes):
        graph, hooks = _split_forward(graph, needs_ids)
        needs_ids = forward_needs(graph, wrt)
    avals: dict[int, Aval] = {v.id: v.aval for v in graph.inputs}
    for node in graph.nodes:
        for oid, aval in zip(node.out_ids, node.out_avals):
            avals[oid] = aval
    if ct_outputs is None:
        ct_outputs = [True] * len(graph.outputs)
    out_has_ct = [v.id in needs_ids and c for v, c in zip(graph.outputs, ct_outputs)]
    ct_nonzero: list[bool] = []
    with new_trace("vjp") as ctx:
        ct_inputs = [Tensor._wrap(ctx.new_input(v.aval.strong()))
                     for v, h in zip(graph.outputs, out_has_ct) if h]
        env = _ResidualEnv(ctx, avals)
        ct_env: dict[int, Tensor] = {}
        k = 0
        for v, h in zip(graph.outputs, out_has_ct):
            if h:
                ct_env[v.id] = add_any(ct_env.get(v.id), ct_inputs[k])
                k += 1
        backward_pass(graph.nodes, env, ct_env, lambda v: v.id in needs_ids, hooks)
        results = []
        for v, w in zip(graph.inputs, wrt):
            if w:
                ct = ct_env.get(v.id)
                ct_nonzero.append(ct is not None)
                if ct is not None:
                    results.append(ct)
        out_values = [_output_value(ctx, r) for r in results]
    nodes = toposort(out_values, lambda v: False)
    used = {v.id for n in nodes for v in n.inputs} | {v.id for v in out_values}
    residual_ids = [vid for vid in env.order if env[vid]._value.id in used]
    backward = Graph([t._value for t in ct_inputs] + [env[vid]._value for vid in residual_ids]
                     + ctx.const_inputs, nodes, out_values, consts=ctx.const_values)
    residual_values = _values_by_id(graph, residual_ids)
    forward = Graph(graph.inputs, graph.nodes, graph.outputs + residual_values,
                    num_consts=graph.num_consts)
    ctx.release()
    position = {vid: i for i, vid in enumerate(_value_ids(graph))}
    return VJPGraphs(forward, backward, len(graph.outputs), ct_nonzero, out_has_ct,
                     [position[vid] for vid in residual_ids])


def _split_forward(graph: Graph, needs_ids: set[int]) -> tuple[Graph, dict]:
    """`graph` retraced with the split rule's forward part in place of each node that has
    one and that differentiation reaches; returns the new graph and, by id of each node
    made so, its backward part (reading its residuals through the env it is given)."""
    pending: list = []

    def fn(*args):
        env = {v.id: a for v, a in zip(graph.inputs, args)}
        for node in graph.nodes:
            ins = [env[v.id] for v in node.inputs]
            prim = node.prim
            if prim.vjp_fwd is not None and any(v.id in needs_ids for v in node.inputs):
                outs, residuals = prim.vjp_fwd(ins, **node.params)
                outs = outs[:len(node.out_ids)]
                pending.append((outs[0], prim, node.params, residuals, len(node.out_ids)))
            else:
                outs = replay(node, ins)
                outs = outs if prim.multiple_results else (outs,)
            for oid, o in zip(node.out_ids, outs):
                env[oid] = o
        return [env[v.id] for v in graph.outputs]

    new = trace_flat(fn, graph.in_avals, "vjp")
    hooks = {}
    for first, prim, params, residuals, n in pending:
        res_ids = [r._value.id for r in residuals]

        def backward(cts, env, prim=prim, params=params, res_ids=res_ids, n=n):
            return prim.vjp_bwd([env[i] for i in res_ids], list(cts[:n]), **params)
        hooks[id(first._value.node)] = backward
    return Graph(new.inputs, new.nodes, new.outputs, consts=new.consts), hooks


def _value_ids(graph: Graph) -> list[int]:
    """Value ids of `graph` in structural order: inputs, then node outputs."""
    ids = [v.id for v in graph.inputs]
    for node in graph.nodes:
        ids.extend(node.out_ids)
    return ids


def abstract_copy(graph: Graph) -> Graph:
    """A graph of the same structure whose values hold no data (recorded eager graphs are
    copied so before a cached rewrite keeps them: it must not pin their buffers)."""
    env: dict[int, Value] = {}
    inputs = []
    for v in graph.inputs:
        env[v.id] = new = Value(v.aval, None, 0, None)
        inputs.append(new)
    nodes = []
    for node in graph.nodes:
        new_node = node.copy_to(tuple(env[u.id] for u in node.inputs))
        for i, (oid, aval) in enumerate(zip(node.out_ids, node.out_avals)):
            env[oid] = Value(aval, new_node, i, None)
        nodes.append(new_node)
    return Graph(inputs, nodes, [env[v.id] for v in graph.outputs])


def recorded_vjp(nodes: list, env, roots: list[Value], cts: list[Tensor],
                 wrt_ids: set[int]) -> dict[int, Tensor] | None:
    """Reverse mode over recorded eager nodes by the cached rewrite of their structure
    (what backward() does on a loop's repeating graph): the backward graph is applied to
    the cotangents and to residuals taken from this recording. Returns the cotangent of
    each input in `wrt_ids` that gets one, or None when the recording is not a graph from
    inputs to `roots` (a root that no node produces)."""
    found = recorded_vjp_graph(nodes, roots, wrt_ids)
    if found is None:
        return None
    vjp, inputs, ids, grad_inputs = found
    residuals = [env[ids[p]] for p in vjp.residual_positions]
    grads = apply_vjp(vjp, cts, residuals)
    return {inputs[k].id: g for k, g in zip(grad_inputs, grads)}


def recorded_vjp_graph(nodes: list, roots: list[Value], wrt_ids: set[int]):
    """The cached split VJP of recorded `nodes` from their inputs to `roots`, with what
    applying it needs: (vjp, the inputs in order of first use, the ids of the structural
    numbering that `residual_positions` count in, the positions among the inputs of those
    that get a cotangent). None when a root is not produced by `nodes`.

    One pass numbers the values (inputs in order of first use, node outputs as they come)
    and builds the structural key; a graph is only made on a cache miss."""
    index: dict[int, int] = {}
    inputs: list[Value] = []
    parts: list = []
    outs: list[int] = []
    for node in nodes:
        refs = []
        for u in node.inputs:
            i = index.get(u.id)
            if i is None:
                i = index[u.id] = len(index)
                inputs.append(u)
                parts.append(u.aval)
            refs.append(i)
        parts.append((node.sig, tuple(refs)))
        for oid in node.out_ids:
            index[oid] = len(index)
            outs.append(oid)
    produced = set(outs)
    if any(r.id not in produced for r in roots):
        return None
    root_pos = [index[r.id] for r in roots]
    wrt = tuple(v.id in wrt_ids for v in inputs)
    key = ("recorded vjp", tuple(parts), tuple(root_pos), wrt)
    vjp = _cached_key(key, lambda: _vjp_graph(abstract_copy(Graph(inputs, nodes, roots)), wrt,
                                              split=False))
    ids = [v.id for v in inputs] + outs  # structural order, as residual_positions count
    nonzero = iter(vjp.ct_nonzero)
    grad_inputs = [k for k, w in enumerate(wrt) if w and next(nonzero)]
    return vjp, inputs, ids, grad_inputs


def apply_vjp(vjp: VJPGraphs, cts: list[Tensor], residuals: list[Tensor]) -> list[Tensor]:
    """The backward graph of `vjp` applied to the cotangents of the outputs (those it
    takes) and the residuals: the nonzero input cotangents, in input order."""
    seeds = [c for c, h in zip(cts, vjp.out_has_ct) if h]
    return apply_graph(vjp.backward, seeds + residuals + const_args(vjp.backward))


def _values_by_id(graph: Graph, ids: Sequence[int]) -> list[Value]:
    """Value objects of `graph` named by id. Nodes hold only their output ids, so an
    output nobody consumes (of a multi-output node) gets a fresh Value with its id."""
    value_of = {v.id: v for v in graph.inputs}
    value_of.update((v.id, v) for v in graph.outputs)
    for node in graph.nodes:
        for v in node.inputs:
            value_of[v.id] = v
    wanted = set(ids) - set(value_of)
    for node in graph.nodes:
        for i, oid in enumerate(node.out_ids):
            if oid in wanted:
                value_of[oid] = Value(node.out_avals[i], node, i, None)
    return [value_of[i] for i in ids]


# ---------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------
def vmap_interpret(graph: Graph, args: Sequence[Tensor], bdims: Sequence[int | None]
                   ) -> tuple[list[Tensor], list[int | None]]:
    env: dict[int, Tensor] = {}
    benv: dict[int, int | None] = {}
    for v, a, b in zip(graph.inputs, args, bdims):
        env[v.id] = a
        benv[v.id] = b
    for node in graph.nodes:
        prim = node.prim
        ins = tuple(env[v.id] for v in node.inputs)
        bds = tuple(benv[v.id] for v in node.inputs)
        if all(b is None for b in bds):
            outs = bind(prim, *ins, **node.params)
            obds = (None,) * len(node.out_ids) if prim.multiple_results else None
        else:
            if prim.batch is None:
                _missing_rule("batching", prim)
            outs, obds = prim.batch(ins, bds, **node.params)
        if prim.multiple_results:
            for oid, o, b in zip(node.out_ids, outs, obds):
                env[oid] = o
                benv[oid] = b
        else:
            env[node.out_ids[0]] = outs
            benv[node.out_ids[0]] = obds
    return [env[v.id] for v in graph.outputs], [benv[v.id] for v in graph.outputs]


def vmap_graph(graph: Graph, in_bdims: Sequence[int | None], axis_size: int,
               out_axes: Sequence[int | None]) -> Graph:
    return _cached("vmap", graph, (tuple(in_bdims), axis_size, tuple(out_axes)),
                   lambda: _vmap_graph(graph, in_bdims, axis_size, out_axes))


def vmap_batched_outputs(graph: Graph, in_bdims: Sequence[int | None], axis_size: int) -> list[bool]:
    """Which outputs of `graph` depend on the batch when its inputs have `in_bdims` (loops
    need this to find the carries that become batched)."""
    def build():
        found: list[bool] = []

        def fn(*args):
            outs, obds = vmap_interpret(graph, args, in_bdims)
            found[:] = [b is not None for b in obds]
            return outs
        trace_flat(fn, _batched_avals(graph, in_bdims, axis_size), "vmap")
        return found
    return _cached_key(("vmap batched", graph.key(), tuple(in_bdims), axis_size), build)


def _batched_avals(graph: Graph, in_bdims: Sequence[int | None], axis_size: int) -> list[Aval]:
    avals = []
    for v, b in zip(graph.inputs, in_bdims):
        a = v.aval
        if b is not None:
            shape = list(a.shape)
            shape.insert(b, axis_size)
            a = Aval(tuple(shape), a.dtype, a.weak)
        avals.append(a)
    return avals


def _vmap_graph(graph: Graph, in_bdims: Sequence[int | None], axis_size: int,
                out_axes: Sequence[int]) -> Graph:
    """Graph over batched inputs (batch dim `in_bdims[i]` of input i, None = shared) whose
    outputs carry the batch dimension at `out_axes` (None: the output must not depend on
    the batch, and is returned once)."""
    avals = _batched_avals(graph, in_bdims, axis_size)

    def fn(*args):
        outs, obds = vmap_interpret(graph, args, in_bdims)
        moved = []
        for o, b, ax in zip(outs, obds, out_axes):
            if ax is None:
                if b is not None:
                    raise_error(TransformError, "vmap", f"out_axes=None for an output "
                                f"{o._value.aval.short()} that depends on the mapped inputs")
                moved.append(o)
                continue
            rank = o.ndim + (1 if b is None else 0)
            moved.append(move_bdim(o, b, ax % rank, axis_size))
        return moved

    return trace_flat(fn, avals, "vmap")
