"""`call`: a closed sub-graph applied as one node.

An eager transform (grad, vjp, jvp, vmap, ...) or backward() applied to eager values
records its rewritten graph as one `call` node instead of replaying the graph node by
node: one bind instead of dozens, one node in the pending program's structural key (the
graph param hashes by structure), and the lowering inlines the graph, so XLA compiles the
same program. Traces replay graphs instead (transforms/graphs.py `apply_graph`), so traced
graphs, make_graph and jit hold primitives only.

The rules apply the transforms to the sub-graph: forward mode by its JVP graph, reverse
mode by its split VJP graphs (the forward part runs again to make the residuals: the node
keeps no intermediates), batching by its batched graph.
"""
from __future__ import annotations

from ..core import EAGER, Primitive, _abstract_eval, bind, record_known
from ..errors import ShapeError, raise_error
from ..ir import Aval, ClosedGraph, Graph
from ..tensor import Tensor
from ._common import batch_size

call_p = Primitive("call", multiple_results=True)


@call_p.def_abstract_eval
def _call_abstract_eval(*avals: Aval, graph: ClosedGraph) -> list[Aval]:
    want = graph.graph.in_avals
    if len(avals) != len(want) or any(a.shape != w.shape or a.dtype is not w.dtype
                                      for a, w in zip(avals, want)):
        raise_error(ShapeError, "call", f"arguments ({', '.join(a.short() for a in avals)}) do "
                    f"not match the graph's inputs ({', '.join(w.short() for w in want)})")
    return graph.graph.out_avals


def _call_grad_flow(node, flags: list[bool]) -> tuple[bool, ...]:
    """The outputs of the graph that depend on a flagged input through differentiable
    primitives (what no_grad or stop_gradient cut inside it does not), cached per graph."""
    closed = node.params["graph"]
    key = tuple(flags)
    hit = closed.flows.get(key)
    if hit is None:
        from ..transforms.graphs import forward_needs
        g = closed.graph
        needs = forward_needs(g, key)
        hit = closed.flows[key] = tuple(v.id in needs for v in g.outputs)
    return hit


call_p.grad_flow = _call_grad_flow


def call(graph: Graph, args: list[Tensor]) -> list[Tensor]:
    """`graph` applied to `args` (its inputs, captured consts included) as one node."""
    return list(bind(call_p, *args, graph=graph.closed()))


def call_eager(graph: Graph, args: list[Tensor]) -> list[Tensor]:
    """`call` for eager arguments whose avals are the graph's inputs (the caller checked):
    the node's params, output avals and signature are made once per graph, so recording
    it is one node and its outputs (the path every eager transform and backward() take)."""
    closed = graph.closed()
    info = closed.call_node
    if info is None:
        params = {"graph": closed}
        out_avals, sig = _abstract_eval(call_p, [v.aval for v in closed.graph.inputs], params)
        info = closed.call_node = (params, out_avals, sig)
    params, out_avals, sig = info
    values = record_known(EAGER, call_p, [a._value for a in args], params, out_avals, sig)
    return [Tensor._wrap(v) for v in values]


def _call_with_consts(graph: Graph, args: list[Tensor]) -> list[Tensor]:
    from ..transforms.graphs import const_args
    return call(graph, list(args) + const_args(graph))


@call_p.def_jvp
def _call_jvp(primals, tangents, outs, *, graph):
    from ..transforms.graphs import jvp_graph
    g = graph.graph
    jgraph, nonzero = jvp_graph(g, [t is not None for t in tangents])
    results = _call_with_consts(jgraph, list(primals) + [t for t in tangents if t is not None])
    touts = iter(results[len(g.outputs):])
    return [next(touts) if nz else None for nz in nonzero]


@call_p.def_vjp
def _call_vjp(cts, primals, outs, *, graph):
    from ..transforms.graphs import vjp_graph
    g = graph.graph
    wrt = [p.dtype.kind == "f" for p in primals]
    vjp = vjp_graph(g, wrt)
    forward = _call_with_consts(vjp.forward, list(primals))  # rematerialize the residuals
    residuals = forward[len(g.outputs):]
    seeds = [c for c, h in zip(cts, vjp.out_has_ct) if h]
    grads = iter(_call_with_consts(vjp.backward, seeds + residuals))
    nonzero = iter(vjp.ct_nonzero)
    return tuple(next(grads) if w and next(nonzero) else None for w in wrt)


@call_p.def_batch
def _call_batch(args, bdims, *, graph):
    from ..transforms.graphs import vmap_graph
    g = graph.graph
    batched = vmap_graph(g, list(bdims), batch_size(args, bdims), [0] * len(g.outputs))
    outs = _call_with_consts(batched, list(args))
    return outs, (0,) * len(outs)


__all__: list[str] = []
