"""The graph IR: typed SSA values, nodes applying primitives, graphs.

* `Aval`  -- abstract value: shape, dtype and weak-typedness.
* `Value` -- an SSA value. It is produced by a `Node` (or is a graph input /
  materialized leaf) and lives in a context (the lazy eager context or a trace).
* `Node`  -- one application of a primitive with hashable static params.
* `Graph` -- input Values, Nodes in topological order, output Values.

Nodes do not point at their output Values (only at output ids) so that the
Value -> Node -> input Value chain has no reference cycles: dropping the last
Tensor of a lazy graph frees it at once, without waiting for the cycle GC.
Every walk here is iterative; a 100,000-node chain is an ordinary input.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Sequence

from .dtypes import DType

_ids = itertools.count(1)


class Aval:
    """Shape, dtype and weak-typedness of a value."""

    __slots__ = ("shape", "dtype", "weak", "_hash")

    def __init__(self, shape: tuple[int, ...], dtype: DType, weak: bool = False):
        self.shape = shape
        self.dtype = dtype
        self.weak = weak
        self._hash = hash((shape, dtype.name, weak))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def strong(self) -> "Aval":
        return self if not self.weak else Aval(self.shape, self.dtype, False)

    def update(self, shape=None, dtype=None, weak=None) -> "Aval":
        return Aval(self.shape if shape is None else tuple(shape),
                    self.dtype if dtype is None else dtype,
                    self.weak if weak is None else weak)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Aval) and self.shape == other.shape
                and self.dtype is other.dtype and self.weak == other.weak)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return self.short()

    def short(self) -> str:
        return f"{self.dtype.short}[{','.join(map(str, self.shape))}]"


_interned: dict[tuple, Aval] = {}


def interned_aval(shape: tuple[int, ...], dtype: DType, weak: bool = False) -> Aval:
    """The one Aval object of (shape, dtype, weak): structural keys then compare by identity.
    (Shape rules cached in core share their outputs the same way.)"""
    key = (shape, dtype, weak)
    aval = _interned.get(key)
    if aval is None:
        if len(_interned) >= 65536:
            _interned.clear()
        aval = _interned[key] = Aval(shape, dtype, weak)
    return aval


class Value:
    """An SSA value: produced by `node` (output `index`), or a leaf when `node` is None.

    `ctx` is the context the value was recorded in. Leaves of the lazy eager
    context carry a device `buffer`, or a Python scalar `literal`. `device` is the
    runtime Device an eager value lives on (or will be computed on); None for traced
    values and for literals that no `device=` placed, which join any device; a Mesh for
    values laid out over several devices (their `sharding` says how, once computed).
    """

    __slots__ = ("aval", "node", "index", "ctx", "buffer", "literal", "id",
                 "requires_grad", "leaf_tensor", "device", "sharding", "__weakref__")

    def __init__(self, aval: Aval, node: "Node | None", index: int, ctx: Any):
        self.aval = aval
        self.node = node
        self.index = index
        self.ctx = ctx
        self.buffer = None
        self.literal = None
        self.id = node.out_ids[index] if node is not None else next(_ids)
        self.requires_grad = False
        self.leaf_tensor = None
        self.device = None
        self.sharding = None  # how a buffer over a mesh is split (nabla_like.sharding)

    def __repr__(self) -> str:
        return f"%{self.id}:{self.aval.short()}"


class Node:
    """One application of a primitive: `prim(*inputs, **params) -> out_avals`."""

    __slots__ = ("prim", "params", "inputs", "out_avals", "out_ids", "sig", "freed")

    def __init__(self, prim, params: dict, inputs: tuple[Value, ...], out_avals: tuple[Aval, ...],
                 sig: tuple | None = None):
        self.prim = prim
        self.params = params
        self.inputs = inputs
        self.out_avals = out_avals
        self.out_ids = (next(_ids),) if len(out_avals) == 1 else tuple(next(_ids) for _ in out_avals)
        # Hashable structural signature of the op itself (inputs excluded); bind() passes
        # one shared object per (primitive, params, avals), so keys compare by identity.
        self.sig = sig if sig is not None else node_signature(prim, params, out_avals)
        self.freed = False

    def copy_to(self, inputs: tuple["Value", ...]) -> "Node":
        """The same operation on other inputs of the same avals (signature reused)."""
        new = Node.__new__(Node)
        new.prim, new.params, new.inputs, new.out_avals = self.prim, self.params, inputs, self.out_avals
        new.out_ids = tuple(next(_ids) for _ in self.out_avals)
        new.sig, new.freed = self.sig, False
        return new

    def __repr__(self) -> str:
        return f"Node({self.prim.name})"


_sig_ids: dict[tuple, int] = {}
_sig_counter = itertools.count(1)
_SIG_IDS_SIZE = 65536


def node_signature(prim, params: dict, out_avals: tuple[Aval, ...]) -> int | tuple:
    """The structural signature of a node: a small int standing for (primitive, params,
    output avals), so that the structural keys made of it hash and compare as ints.

    Ids only grow: when the table is cleared, a signature seen again gets a new id, so a
    key made before only misses, it never matches another structure. A signature whose
    params cannot be hashed stays the tuple itself (then no cache can hold its keys)."""
    sig = (prim.name, param_key(params), out_avals) if params else (prim.name, out_avals)
    try:
        sid = _sig_ids.get(sig)
    except TypeError:
        return sig
    if sid is None:
        if len(_sig_ids) >= _SIG_IDS_SIZE:
            _sig_ids.clear()
        sid = _sig_ids.setdefault(sig, next(_sig_counter))
    return sid


def param_key(params: dict) -> tuple:
    """Params as a key. Floats that compare equal but differ (-0.0 vs 0.0, and NaN,
    which equals nothing) are spelled out, so a cache never confuses or misses them."""
    items = tuple(params.items())
    for _, v in items:
        if type(v) is float and (v != v or (v == 0.0 and math.copysign(1.0, v) < 0)):
            return tuple((k, ("float", repr(v)) if type(v) is float else v) for k, v in items)
    return items


class Graph:
    """Inputs, nodes in topological order, outputs. `consts` are the outer values
    captured by the trace; they are the trailing `len(consts)` inputs."""

    __slots__ = ("inputs", "nodes", "outputs", "consts", "num_consts", "in_tree", "out_tree",
                 "_closed")

    def __init__(self, inputs: list[Value], nodes: list[Node], outputs: list[Value],
                 consts: Sequence[Value] = (), in_tree=None, out_tree=None,
                 num_consts: int | None = None):
        self.inputs = list(inputs)
        self.nodes = list(nodes)
        self.outputs = list(outputs)
        self.consts = list(consts)
        # A graph kept in a cache holds no consts (they would pin their buffers), only
        # their number: whoever replays it passes the consts of a fresh trace.
        self.num_consts = len(self.consts) if num_consts is None else num_consts
        self.in_tree = in_tree
        self.out_tree = out_tree
        self._closed = None

    @property
    def num_args(self) -> int:
        return len(self.inputs) - self.num_consts

    @property
    def in_avals(self) -> list[Aval]:
        return [v.aval for v in self.inputs]

    @property
    def out_avals(self) -> list[Aval]:
        return [v.aval for v in self.outputs]

    def __str__(self) -> str:
        return format_graph(self)

    def __repr__(self) -> str:
        return format_graph(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(format_graph(self))

    def _repr_svg_(self) -> str:  # Jupyter: the graph as a picture
        from nabla_like.display import graph_svg
        return graph_svg(self)

    def key(self) -> tuple:
        return structural_key(self)

    def closed(self) -> "ClosedGraph":
        """This graph as a primitive's parameter (made once; see ClosedGraph)."""
        if self._closed is None:
            self._closed = ClosedGraph(self)
        return self._closed


class ClosedGraph:
    """A graph as a static parameter of a node (the `call` primitive): its inputs are all
    fed by the node's inputs (captured consts included, never baked in), and it hashes and
    compares by structure, so nodes holding graphs of one structure share compiled
    programs and cached rewrites. It keeps no data: only the graph's abstract structure."""

    __slots__ = ("graph", "key", "hash", "call_node", "flows")

    def __init__(self, graph: "Graph"):
        self.graph = Graph(graph.inputs, graph.nodes, graph.outputs)
        self.key = structural_key(self.graph)
        self.hash = hash(self.key)
        self.call_node = None  # (params, out avals, signature) of a `call` node, made once
        self.flows: dict = {}  # input requires_grad flags -> output flags (call's grad_flow)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, ClosedGraph) and self.hash == other.hash
                                 and self.key == other.key)

    def __repr__(self) -> str:
        return f"<graph of {len(self.graph.nodes)} nodes>"

    def __str__(self) -> str:
        return format_graph(self.graph)


def toposort(outputs: Iterable[Value], is_leaf) -> list[Node]:
    """Nodes reachable from `outputs` in dependency order, stopping at `is_leaf` values.

    Iterative post-order DFS: no recursion, deterministic order (inputs are
    visited left to right), each node appears once.
    """
    order: list[Node] = []
    done: set[int] = set()
    stack: list[tuple[Node, int]] = []
    for out in outputs:
        node = out.node
        if node is None or is_leaf(out) or id(node) in done:
            continue
        stack.append((node, 0))
        done.add(id(node))
        while stack:
            node, i = stack[-1]
            inputs = node.inputs
            while i < len(inputs):
                v = inputs[i]
                i += 1
                child = v.node
                if child is not None and id(child) not in done and not is_leaf(v):
                    stack[-1] = (node, i)
                    stack.append((child, 0))
                    done.add(id(child))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def structural_key(graph: Graph) -> tuple:
    """A hashable key equal for graphs of the same structure (values renamed by position)."""
    index: dict[int, int] = {}
    for i, v in enumerate(graph.inputs):
        index[v.id] = i
    n = len(graph.inputs)
    parts: list = [tuple(v.aval for v in graph.inputs)]
    for node in graph.nodes:
        parts.append((node.sig, tuple(index[v.id] for v in node.inputs)))
        for oid in node.out_ids:
            index[oid] = n
            n += 1
    parts.append(tuple(index[v.id] for v in graph.outputs))
    return tuple(parts)


def format_params(params: dict) -> str:
    def fmt(x):
        if isinstance(x, DType):
            return x.short
        if isinstance(x, float):
            return repr(x)
        if isinstance(x, ClosedGraph):
            return repr(x)
        return str(x)
    return ", ".join(f"{k}={fmt(v)}" for k, v in params.items())


def format_graph(graph: Graph, name: str = "graph") -> str:
    """A readable listing: one line per node, values named by position."""
    names: dict[int, str] = {}
    counter = itertools.count()

    def fresh(vid: int) -> str:
        s = _letters(next(counter))
        names[vid] = s
        return s

    args = [f"{fresh(v.id)}:{v.aval.short()}" for v in graph.inputs[:graph.num_args]]
    consts = [f"{fresh(v.id)}:{v.aval.short()}" for v in graph.inputs[graph.num_args:]]
    lines = [f"{name}({', '.join(args)}" + (f"; consts {', '.join(consts)}" if consts else "") + ") {"]
    for node in graph.nodes:
        outs = [f"{fresh(oid)}:{aval.short()}" for oid, aval in zip(node.out_ids, node.out_avals)]
        ins = " ".join(names.get(v.id, "?") for v in node.inputs)
        params = format_params(node.params)
        lines.append(f"  {', '.join(outs)} = {node.prim.name}"
                     + (f"[{params}]" if params else "") + (f" {ins}" if ins else ""))
        for key, param in node.params.items():  # sub-graphs print nested, under their node
            subs = [(key, param)] if isinstance(param, ClosedGraph) else (
                [(f"{key}[{i}]", p) for i, p in enumerate(param)]
                if isinstance(param, tuple) and param and isinstance(param[0], ClosedGraph) else [])
            for label, sub in subs:
                lines.extend("    " + line for line in format_graph(sub.graph, label).split("\n"))
    outs = ", ".join(names.get(v.id, "?") for v in graph.outputs)
    lines.append(f"  return {outs}")
    lines.append("}")
    return "\n".join(lines)


def _letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s
