"""StableHLO text emission: types, attributes, an SSA emitter and the graph walk.

Ops are written in MLIR's generic form (`%1 = "stablehlo.add"(%0, %0) : (...) -> ...`),
which has one syntax for every op, so each lowering rule is a few lines.
Rules are registered by primitive name:

    @register("add")
    def _add(ctx, x, y):            # ctx.avals_in, ctx.avals_out, ctx.em; SSA names positional
        return ctx.em.op("stablehlo.add", [x, y], ctx.avals_out)

and return one SSA name, or a list for multi-output primitives.
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np

LOWERINGS: dict[str, Callable] = {}


def register(*names: str):
    def deco(fn):
        for name in names:
            LOWERINGS[name] = fn
        return fn
    return deco


# ---------------------------------------------------------------------------
# Types and attributes
# ---------------------------------------------------------------------------
def ttype(aval) -> str:
    """`tensor<2x3xf32>` for an aval (anything with .shape and .dtype.mlir)."""
    dims = "x".join(str(d) for d in aval.shape)
    return f"tensor<{dims}x{aval.dtype.mlir}>" if dims else f"tensor<{aval.dtype.mlir}>"


def stype(shape: Sequence[int], mlir_dtype: str) -> str:
    dims = "x".join(str(d) for d in shape)
    return f"tensor<{dims}x{mlir_dtype}>" if dims else f"tensor<{mlir_dtype}>"


def i64_array(xs: Sequence[int]) -> str:
    return f"array<i64{': ' if len(xs) else ''}{', '.join(str(int(x)) for x in xs)}>"


def bool_array(xs: Sequence[bool]) -> str:
    return f"array<i1{': ' if len(xs) else ''}{', '.join('true' if x else 'false' for x in xs)}>"


def dense_i64(xs: Sequence[int], shape=None) -> str:
    shape = (len(xs),) if shape is None else shape
    return f"dense<[{', '.join(str(int(x)) for x in xs)}]> : {stype(shape, 'i64')}"


def scalar_literal(value, dtype) -> str:
    """An exact MLIR literal for a scalar of `dtype` (a DType with .mlir and .np)."""
    m = dtype.mlir
    if m == "i1":
        return "true" if value else "false"
    if dtype.kind in "iu":
        return str(int(value))
    x = np.asarray(value, dtype=dtype.np)
    f = float(x)
    r = repr(f)
    if np.isfinite(f) and "." in r and "e" not in r and len(r) < 12:
        return r
    # Bit patterns are exact for every float type (and spell inf/nan).
    bits = x.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.itemsize])
    return f"0x{int(bits):0{x.itemsize * 2}X}"


def dense_splat(value, aval) -> str:
    return f"dense<{scalar_literal(value, aval.dtype)}> : {ttype(aval)}"


# ---------------------------------------------------------------------------
# The emitter
# ---------------------------------------------------------------------------
class Emitter:
    """Collects lines of one function body and the type of every SSA name."""

    def __init__(self, indent: str = "    ", platform: str = "cpu"):
        self.platform = platform  # what the module is compiled for: rules may lower per platform
        self.lines: list[str] = []
        self.types: dict[str, str] = {}
        self.indent = indent
        self._ids = itertools.count()

    def fresh(self, prefix: str = "v") -> str:
        return f"%{prefix}{next(self._ids)}"

    def typed(self, name: str, type_: str) -> str:
        self.types[name] = type_
        return name

    def op(self, opname: str, operands: Sequence[str], results, attrs: dict | None = None,
           regions: Sequence[str] = ()):
        """Emit a generic-form op. `results` is an aval, a type string, or a list of them
        (a list always yields a list of names)."""
        many = isinstance(results, (list, tuple))
        res_types = [r if isinstance(r, str) else ttype(r) for r in (results if many else [results])]
        in_types = ", ".join(self.types[o] for o in operands)
        attr_text = ""
        if attrs:
            attr_text = " {" + ", ".join(f"{k} = {v}" for k, v in attrs.items()) + "}"
        region_text = ""
        if regions:
            region_text = " (" + ", ".join(regions) + ")"
        name = self.fresh()
        if len(res_types) == 1:
            lhs = f"{name} = "
            out_names = [name]
            res_text = res_types[0]
        elif len(res_types) == 0:
            lhs = ""
            out_names = []
            res_text = "()"
        else:
            lhs = f"{name}:{len(res_types)} = "
            out_names = [f"{name}#{i}" for i in range(len(res_types))]
            res_text = "(" + ", ".join(res_types) + ")"
        self.lines.append(f'{self.indent}{lhs}"{opname}"({", ".join(operands)}){region_text}'
                          f'{attr_text} : ({in_types}) -> {res_text}')
        for n, t in zip(out_names, res_types):
            self.types[n] = t
        return out_names if many else out_names[0]

    def constant(self, value, aval) -> str:
        return self.op("stablehlo.constant", [], aval, {"value": dense_splat(value, aval)})

    def region(self, arg_types: Sequence[str], body: Callable) -> str:
        """A one-block region: `body(sub_emitter, *arg_names)` returns the names to yield.
        The region may use values defined outside it (names are unique across regions)."""
        sub = Emitter(self.indent + "    ", self.platform)
        sub._ids = self._ids
        sub.types = self.types
        args = []
        for t in arg_types:
            a = sub.fresh("r")
            sub.types[a] = t
            args.append(a)
        results = body(sub, *args)
        if isinstance(results, str):
            results = [results]
        sub.lines.append(f'{sub.indent}"stablehlo.return"({", ".join(results)}) : '
                         f'({", ".join(sub.types[r] for r in results)}) -> ()')
        if args:
            header = f"{{\n{self.indent}  ^bb0({', '.join(f'{a}: {t}' for a, t in zip(args, arg_types))}):\n"
        else:
            header = "{\n"
        return header + "\n".join(sub.lines) + f"\n{self.indent}}}"


class RuleContext:
    __slots__ = ("em", "avals_in", "avals_out")

    def __init__(self, em: Emitter, avals_in, avals_out):
        self.em = em
        self.avals_in = avals_in
        self.avals_out = avals_out

    @property
    def aval_out(self):
        return self.avals_out[0]


# ---------------------------------------------------------------------------
# Graph -> module text
# ---------------------------------------------------------------------------
def largest_array(graph) -> int:
    """The element count of the largest array a graph reads or makes."""
    sizes = [v.aval.size for v in graph.inputs]
    for node in graph.nodes:
        sizes.extend(a.size for a in node.out_avals)
    return max(sizes, default=0)


class LoweringError(Exception):
    pass


def emit_nodes(em: Emitter, nodes, env: dict) -> None:
    """Emit `nodes` in order; `env` maps value ids to SSA names (inputs on entry, every
    node output on exit). Shared by whole modules and by inlined sub-graphs."""
    for node in nodes:
        rule = LOWERINGS.get(node.prim.name)
        if rule is None:
            raise LoweringError(f"no StableHLO lowering for primitive {node.prim.name!r}")
        ins = [env[v.id] for v in node.inputs]
        ctx = RuleContext(em, [v.aval for v in node.inputs], node.out_avals)
        outs = rule(ctx, *ins, **node.params)
        if isinstance(outs, str):
            outs = [outs]
        for oid, o in zip(node.out_ids, outs):
            env[oid] = o


def emit_graph(em: Emitter, graph, input_names: Sequence[str]) -> list[str]:
    """Emit the nodes of `graph` (inline, into `em`) on SSA names for its inputs; returns
    the names of its outputs. Sub-graphs of higher-order primitives lower this way, in
    regions or straight into their parent."""
    env = {v.id: n for v, n in zip(graph.inputs, input_names)}
    emit_nodes(em, graph.nodes, env)
    return [env[v.id] for v in graph.outputs]


def lower_graph(graph, name: str = "main", literal_packs: Sequence = (),
                arg_attrs: dict[int, str] | None = None, pack_attrs: str | None = None,
                result_attrs: dict[int, str] | None = None, platform: str = "cpu") -> str:
    """StableHLO module text for `graph` (inputs, nodes, outputs of the IR).

    `literal_packs` is a list of `(dtype, [leaf Values])`: each pack becomes one
    extra trailing vector parameter, and each leaf (a scalar splat constant of
    the lazy context) is sliced out of it and broadcast to its shape. Feeding
    scalars this way keeps one compiled program for every value they take.
    `arg_attrs` maps an input position to MLIR argument attributes (e.g. buffer
    donation: `tf.aliasing_output = 0 : i32`; an SPMD layout: `mhlo.sharding = "..."`);
    `pack_attrs` are the attributes of every literal pack, `result_attrs` of results.
    `platform` ("cpu", "gpu") is the one the module is for: a few rules lower differently.
    """
    em = Emitter(platform=platform)
    env: dict[int, str] = {}
    params = []
    for i, v in enumerate(graph.inputs):
        a = em.typed(f"%arg{i}", ttype(v.aval))
        attrs = f" {{{arg_attrs[i]}}}" if arg_attrs and i in arg_attrs else ""
        params.append(f"{a}: {em.types[a]}{attrs}")
        env[v.id] = a
    for j, (dtype, leaves) in enumerate(literal_packs):
        pack_t = stype((len(leaves),), dtype.mlir)
        p = em.typed(f"%pack{j}", pack_t)
        params.append(f"{p}: {pack_t}" + (f" {{{pack_attrs}}}" if pack_attrs else ""))
        scalar_t = stype((), dtype.mlir)
        for k, leaf in enumerate(leaves):
            s = em.op("stablehlo.slice", [p], stype((1,), dtype.mlir),
                      {"start_indices": i64_array([k]), "limit_indices": i64_array([k + 1]),
                       "strides": i64_array([1])})
            s = em.op("stablehlo.reshape", [s], scalar_t)
            if leaf.aval.shape:
                s = em.op("stablehlo.broadcast_in_dim", [s], leaf.aval,
                          {"broadcast_dimensions": i64_array([])})
            env[leaf.id] = s
    emit_nodes(em, graph.nodes, env)
    results = [env[v.id] for v in graph.outputs]
    res_types = [em.types[r] for r in results]
    em.lines.append(f'    "func.return"({", ".join(results)}) : ({", ".join(res_types)}) -> ()')
    declared = [t + (f" {{{result_attrs[i]}}}" if result_attrs and i in result_attrs else "")
                for i, t in enumerate(res_types)]
    head = (f"module @{name} {{\n  func.func public @main({', '.join(params)}) -> "
            f"({', '.join(declared)}) {{")
    return head + "\n" + "\n".join(em.lines) + "\n  }\n}\n"

