"""Control flow: cond, switch, while_loop, fori_loop, scan, map.

Each construct traces the user's functions into closed sub-graphs (captured outer
values become inputs of the node, never baked in) held as params of one primitive,
so that every transform handles it as one node and lowering emits StableHLO
`case`/`while` (nothing is unrolled unless asked). The rules apply the transforms to
the sub-graphs:

* `cond` (cond, switch): JVP per branch with one tangent pattern for all branches;
  VJP by a cond of the branches' VJPs (each recomputes its forward: a cond keeps no
  residuals); batching keeps a cond when the index is not batched and otherwise runs
  every branch and selects per lane.
* `while` (while_loop, fori_loop with traced bounds): JVP carries tangents through the
  loop; batching runs until every lane is done, lanes that finished keep their values;
  reverse mode needs a bounded loop (`max_steps=`), which becomes a scan.
* `scan` (scan, map, fori_loop with static bounds): JVP scans the JVP of the body;
  reverse mode is split (see `transforms/graphs.py`): the forward scan also stacks the
  residuals the body's backward pass reads, and a reversed scan of that backward pass
  consumes them; batching scans the batched body.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .. import tree as tree_util
from ..args import as_bool, as_callable, as_int
from ..core import Primitive, bind
from ..dtypes import int32
from ..errors import DTypeError, ShapeError, TransformError, raise_error
from ..ir import Aval, ClosedGraph, Graph, Value
from ..tensor import Tensor
from ._common import batch_size, move_bdim, to_tensor


# ---------------------------------------------------------------------------
# Tracing user functions into sub-graphs
# ---------------------------------------------------------------------------
def _avals(tensors: Sequence[Tensor]) -> list[Aval]:
    return [t._value.aval for t in tensors]


def trace_fn(op: str, fn: Callable, in_tree, in_avals: Sequence[Aval]) -> tuple[Graph, object]:
    """`fn` (taking the pytree `in_tree` of tensors) traced on `in_avals`: a graph from the
    flat leaves to the flat outputs (captured outer values as trailing const inputs) and
    the output tree."""
    from ..transforms.graphs import trace_flat
    box: list = []

    def flat(*leaves):
        out = fn(*tree_util.unflatten(in_tree, list(leaves)))
        out_leaves, out_tree = tree_util.flatten(out)
        box.append(out_tree)
        return [to_tensor(o, op) for o in out_leaves]

    graph = trace_flat(flat, list(in_avals), op)
    return graph, box[0]


def _flatten_operands(op: str, operands) -> tuple[list[Tensor], object]:
    leaves, tree = tree_util.flatten(operands)
    return [to_tensor(leaf, op) for leaf in leaves], tree


def _describe(avals: Sequence[Aval]) -> str:
    return "(" + ", ".join(a.short() for a in avals) + ")"


def _same_types(a: Sequence[Aval], b: Sequence[Aval]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and x.dtype is y.dtype for x, y in zip(a, b))


def _padded(graphs: Sequence[Graph], n_args: int) -> tuple[list[ClosedGraph], list[Tensor]]:
    """Graphs that share `n_args` leading inputs and have consts of their own, as closed
    graphs of one signature: the leading inputs, then every graph's consts in turn (each
    graph ignores the others'). Returns them and the const values to pass."""
    from ..transforms.graphs import const_args
    const_lists = [const_args(g) for g in graphs]
    closed = []
    for i, g in enumerate(graphs):
        inputs = list(g.inputs[:n_args])
        for j, consts in enumerate(const_lists):
            if j == i:
                inputs.extend(g.inputs[n_args:])
            else:
                inputs.extend(Value(c._value.aval, None, 0, None) for c in consts)
        closed.append(Graph(inputs, g.nodes, g.outputs).closed())
    return closed, [c for consts in const_lists for c in consts]


# ---------------------------------------------------------------------------
# cond and switch
# ---------------------------------------------------------------------------
cond_p = Primitive("cond", multiple_results=True)


@cond_p.def_abstract_eval
def _cond_abstract_eval(index: Aval, *avals: Aval, branches: tuple[ClosedGraph, ...]):
    if index.shape != () or index.dtype is not int32:
        raise_error(DTypeError, "cond", f"the branch index must be an int32 scalar, got {index.short()}")
    outs = branches[0].graph.out_avals
    for k, b in enumerate(branches):
        if not _same_types(b.graph.in_avals, avals):
            raise_error(ShapeError, "cond", f"branch {k} takes {_describe(b.graph.in_avals)}, "
                        f"the operands are {_describe(avals)}")
        if not _same_types(b.graph.out_avals, outs):
            raise_error(TransformError, "cond", f"branch {k} returns {_describe(b.graph.out_avals)} "
                        f"but branch 0 returns {_describe(outs)}; every branch must return "
                        f"the same shapes and dtypes")
    return [a.strong() for a in outs]


def _bind_cond(index: Tensor, graphs: Sequence[Graph], args: Sequence[Tensor]) -> list[Tensor]:
    branches, consts = _padded(graphs, len(args))
    return list(bind(cond_p, index, *args, *consts, branches=tuple(branches)))


def cond(pred, true_fn: Callable, false_fn: Callable, *operands):
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`, as one staged primitive
    (StableHLO `case`) that works under jit, grad, vmap and eager execution alike. Both
    branches must return the same structure of shapes and dtypes.

    Example:
        >>> x = nb.tensor(3.0)
        >>> nb.cond(x > 0, lambda x: x * 2, lambda x: -x, x)
        Tensor(6. : f32[])
    """
    as_callable("cond", "true_fn", true_fn)
    as_callable("cond", "false_fn", false_fn)
    pred = to_tensor(pred, "cond")
    if pred.shape != ():
        raise_error(ShapeError, "cond", f"the predicate must be a scalar, got "
                    f"{pred._value.aval.short()} (use nb.where for elementwise choices)")
    from .elementwise import cast, not_equal
    index = cast(not_equal(pred, 0) if pred.dtype.kind != "b" else pred, int32)
    return _switch("cond", index, [false_fn, true_fn], operands, ("false_fn", "true_fn"))


def switch(index, branches: Sequence[Callable], *operands):
    """`branches[index](*operands)` as one staged primitive; `index` is clamped to the
    valid range, as `jax.lax.switch` does.

    Example:
        >>> nb.switch(nb.tensor(2), [lambda x: x, lambda x: x * 2, lambda x: x ** 2], nb.tensor(3.0))
        Tensor(9. : f32[])
    """
    branches = list(branches)
    if not branches or not all(callable(b) for b in branches):
        raise_error(TransformError, "switch", "branches must be a non-empty sequence of functions")
    index = to_tensor(index, "switch")
    if index.shape != () or index.dtype.kind not in "iub":
        raise_error(DTypeError, "switch", f"the index must be an integer scalar, got "
                    f"{index._value.aval.short()}")
    from .elementwise import cast, clip
    index = cast(clip(cast(index, int32), 0, len(branches) - 1), int32)
    return _switch("switch", index, branches, operands,
                   tuple(f"branches[{k}]" for k in range(len(branches))))


def _switch(op: str, index: Tensor, fns: Sequence[Callable], operands, names) -> object:
    tensors, in_tree = _flatten_operands(op, tuple(operands))
    avals = _avals(tensors)
    traced = [trace_fn(op, fn, in_tree, avals) for fn in fns]
    graphs = [g for g, _ in traced]
    out_tree = traced[0][1]
    for k, (g, tree) in enumerate(traced):
        if tree != out_tree:
            raise_error(TransformError, op, f"{names[k]} returns {tree} but {names[0]} returns "
                        f"{out_tree}; every branch must return the same structure")
        if not _same_types(g.out_avals, graphs[0].out_avals):
            raise_error(TransformError, op, f"{names[k]} returns {_describe(g.out_avals)} but "
                        f"{names[0]} returns {_describe(graphs[0].out_avals)}; every branch "
                        f"must return the same shapes and dtypes")
    if len(graphs) == 1:
        from ..transforms.graphs import apply_graph, const_args
        return tree_util.unflatten(out_tree, apply_graph(graphs[0], tensors + const_args(graphs[0])))
    return tree_util.unflatten(out_tree, _bind_cond(index, graphs, tensors))


@cond_p.def_jvp
def _cond_jvp(primals, tangents, outs, *, branches):
    from ..transforms.graphs import jvp_graph
    index, ops, tans = primals[0], list(primals[1:]), list(tangents[1:])
    has_t = [t is not None for t in tans]
    nonzero = [False] * len(outs)
    for b in branches:  # one tangent pattern for every branch: the union
        _, nz = jvp_graph(b.graph, has_t)
        nonzero = [x or y for x, y in zip(nonzero, nz)]
    graphs = [jvp_graph(b.graph, has_t, instantiate=nonzero)[0] for b in branches]
    results = _bind_cond(index, graphs, ops + [t for t in tans if t is not None])
    touts = iter(results[len(outs):])
    return [next(touts) if nz else None for nz in nonzero]


@cond_p.def_vjp
def _cond_vjp(cts, primals, outs, *, branches):
    index, ops = primals[0], list(primals[1:])
    wrt = tuple(o.dtype.kind == "f" for o in ops)
    graphs = [branch_vjp_graph(b.graph, wrt) for b in branches]
    grads = iter(_bind_cond(index, graphs, ops + list(cts)))
    return (None, *[next(grads) if w else None for w in wrt])


def branch_vjp_graph(graph: Graph, wrt: tuple[bool, ...]) -> Graph:
    """A graph (inputs..., output cotangents...) -> cotangents of the inputs flagged in
    `wrt` (zeros where none), recomputing the forward pass inside (cached by structure)."""
    from ..transforms.graphs import _cached_key, _vjp_graph, abstract_copy, eval_graph, trace_flat
    from ..transforms.graphs import const_args

    def build():
        copy = abstract_copy(graph)
        vjp = _vjp_graph(copy, wrt)
        n = len(copy.inputs)
        ct_avals = [v.aval.strong() for v in copy.outputs]

        def fn(*args):
            ins, cts = list(args[:n]), list(args[n:])
            fwd = eval_graph(vjp.forward, ins)
            residuals = fwd[len(copy.outputs):]
            seeds = [c for c, h in zip(cts, vjp.out_has_ct) if h]
            res = iter(eval_graph(vjp.backward, seeds + residuals + const_args(vjp.backward)))
            nonzero = iter(vjp.ct_nonzero)
            out = []
            for v, w in zip(copy.inputs, wrt):
                if w:
                    g = next(res) if next(nonzero) else None
                    out.append(g if g is not None else _zeros(v.aval))
            return out

        return trace_flat(fn, [v.aval for v in copy.inputs] + ct_avals, "vjp")
    return _cached_key(("branch vjp", graph.key(), wrt), build)


def _zeros(aval: Aval) -> Tensor:
    from ..core import current_context, full_in
    return full_in(current_context(), aval.shape, 0, aval.dtype)


@cond_p.def_batch
def _cond_batch(args, bdims, *, branches):
    from ..transforms.graphs import eval_graph, vmap_graph
    index, ops, ib, op_bdims = args[0], list(args[1:]), bdims[0], list(bdims[1:])
    size = batch_size(args, bdims)
    n_out = len(branches[0].graph.outputs)
    graphs = [vmap_graph(b.graph, op_bdims, size, [0] * n_out) for b in branches]
    if ib is None:  # one branch for the whole batch: still a cond
        outs = _bind_cond(index, graphs, ops)
        return outs, (0,) * len(outs)
    # The lanes may take different branches: every branch runs on the batch, lanes select.
    from .elementwise import equal, select
    from .shape import broadcast_in_dim
    from ..transforms.graphs import const_args
    results = [eval_graph(g, ops + const_args(g)) for g in graphs]
    index = move_bdim(index, ib, 0, size)
    outs = list(results[0])
    for k in range(1, len(results)):
        for j, (cur, new) in enumerate(zip(outs, results[k])):
            take = broadcast_in_dim(equal(index, k), cur.shape, (0,))
            outs[j] = select(take, new, cur)
    return outs, (0,) * len(outs)


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------
scan_p = Primitive("scan", multiple_results=True)


def _split3(items, num_consts: int, num_carry: int):
    return (list(items[:num_consts]), list(items[num_consts:num_consts + num_carry]),
            list(items[num_consts + num_carry:]))


def _slice_aval(a: Aval) -> Aval:
    return Aval(a.shape[1:], a.dtype, a.weak)


def _stacked_aval(a: Aval, length: int) -> Aval:
    return Aval((length,) + a.shape, a.dtype)


@scan_p.def_abstract_eval
def _scan_abstract_eval(*avals: Aval, body: ClosedGraph, num_consts: int, num_carry: int,
                        length: int, reverse: bool, unroll: int):
    consts, carry, xs = _split3(avals, num_consts, num_carry)
    for x in xs:
        if not x.shape or x.shape[0] != length:
            raise_error(ShapeError, "scan", f"every scanned input needs a leading axis of the "
                        f"length {length}, got {x.short()}")
    want = consts + carry + [_slice_aval(x) for x in xs]
    if not _same_types(body.graph.in_avals, want):
        raise_error(ShapeError, "scan", f"the body takes {_describe(body.graph.in_avals)}, the "
                    f"consts, carry and slices are {_describe(want)}")
    outs = body.graph.out_avals
    if not _same_types(outs[:num_carry], carry):
        raise_error(TransformError, "scan", f"the body returns the carry "
                    f"{_describe(outs[:num_carry])} but the carry is {_describe(carry)}")
    return [c.strong() for c in carry] + [_stacked_aval(y, length) for y in outs[num_carry:]]


def _bind_scan(body: Graph, consts, carry, xs, *, length: int, reverse: bool, unroll: int,
               extra_consts: Sequence[Tensor] = ()) -> list[Tensor]:
    """Scan `body` (inputs: its own consts, then `consts`, carry, slices of `xs`)."""
    from ..transforms.graphs import const_args
    own = const_args(body)
    if own:  # captured values of the body graph: move them in front, as scan consts
        k = len(body.inputs) - len(own)
        body = Graph(body.inputs[k:] + body.inputs[:k], body.nodes, body.outputs)
    consts = own + list(extra_consts) + list(consts)
    return list(bind(scan_p, *consts, *carry, *xs, body=body.closed(), num_consts=len(consts),
                     num_carry=len(carry), length=length, reverse=reverse, unroll=unroll))


def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False,
         unroll: int | bool = 1):
    """Loop `f(carry, x) -> (carry, y)` over the leading axis of `xs`, as `jax.lax.scan`:
    returns the final carry and the stacked `y`s. One staged primitive (a StableHLO while
    loop, `unroll` iterations per trip), differentiable in both modes: reverse mode stores
    the per-iteration values the backward pass needs.

    Example:
        >>> w = nb.eye(2) * 0.5
        >>> def step(h, x):
        ...     h = nb.tanh(h @ w + x)
        ...     return h, nb.sum(h)
        >>> h, ys = nb.scan(step, nb.zeros((2,)), nb.ones((5, 2)))
        >>> ys.shape
        (5,)
    """
    as_callable("scan", "f", f)
    reverse = as_bool("scan", "reverse", reverse)
    carry, carry_tree = _flatten_operands("scan", init)
    carry = [_strong(t) for t in carry]
    xs_leaves, _ = _flatten_operands("scan", xs) if xs is not None else ([], None)
    lengths = set()
    for x in xs_leaves:
        if not x.shape:
            raise_error(ShapeError, "scan", f"a scanned input must have a leading axis, got "
                        f"{x._value.aval.short()}")
        lengths.add(x.shape[0])
    if length is not None:
        length = as_int("scan", "length", length, min=0)
        lengths.add(length)
    if len(lengths) != 1:
        raise_error(ShapeError, "scan", "no length: pass xs or length=" if not lengths else
                    f"the scanned inputs disagree on the length: {sorted(lengths)}")
    length = lengths.pop()
    unroll = length if unroll is True else 1 if unroll is False else as_int("scan", "unroll",
                                                                            unroll, min=1)
    pair_tree = tree_util.structure((init, xs))
    in_avals = _avals(carry) + [_slice_aval(x._value.aval) for x in xs_leaves]
    body, out_tree = trace_fn("scan", f, pair_tree, in_avals)
    if out_tree.kind not in (tuple, list) or len(out_tree.children) != 2:
        raise_error(TransformError, "scan", f"the body must return a pair (carry, y), got {out_tree}")
    if out_tree.children[0] != carry_tree:
        raise_error(TransformError, "scan", f"the body returns a carry of structure "
                    f"{out_tree.children[0]}, the initial carry is {carry_tree}")
    n = len(carry)
    if not _same_types(body.out_avals[:n], _avals(carry)):
        raise_error(TransformError, "scan", f"the body returns the carry "
                    f"{_describe(body.out_avals[:n])} but the initial carry is "
                    f"{_describe(_avals(carry))}; shapes and dtypes must stay the same")
    outs = _bind_scan(body, [], carry, xs_leaves, length=length, reverse=reverse, unroll=unroll)
    return (tree_util.unflatten(carry_tree, outs[:n]),
            tree_util.unflatten(out_tree.children[1], outs[n:]))


def _strong(t: Tensor) -> Tensor:
    if not t._value.aval.weak:
        return t
    from ._common import cast
    return cast(t, t.dtype, False)


def map(f: Callable, xs):  # noqa: A001 - jax.lax.map's name
    """`f` applied to each slice of `xs` along its leading axis, stacked: a scan without a
    carry (sequential, unlike vmap).

    Example:
        >>> nb.map(lambda row: nb.sum(row ** 2), nb.ones((4, 3)))
        Tensor([3. 3. 3. 3.] : f32[4])
    """
    as_callable("map", "f", f)
    _, ys = scan(lambda carry, x: ((), f(x)), (), xs)
    return ys


@scan_p.def_jvp
def _scan_jvp(primals, tangents, outs, *, body, num_consts, num_carry, length, reverse, unroll):
    from ..transforms.graphs import jvp_graph
    g = body.graph
    nc, ncar = num_consts, num_carry
    c_t, carry_t, x_t = _split3(tangents, nc, ncar)
    c_flags, x_flags = [t is not None for t in c_t], [t is not None for t in x_t]
    carry_nz = [t is not None for t in carry_t]
    while True:  # the carries with a tangent: a fixed point over one iteration
        _, nz = jvp_graph(g, c_flags + carry_nz + x_flags)
        grown = [a or b for a, b in zip(carry_nz, nz[:ncar])]
        if grown == carry_nz:
            break
        carry_nz = grown
    n_ys = len(g.outputs) - ncar
    jg, nz = jvp_graph(g, c_flags + carry_nz + x_flags, instantiate=carry_nz + [False] * n_ys)
    n = len(g.inputs)
    prim_in = jg.inputs[:n]
    tan_in = iter(jg.inputs[n:n + sum(c_flags) + sum(carry_nz) + sum(x_flags)])
    p_c, p_carry, p_x = _split3(prim_in, nc, ncar)
    t_c = [next(tan_in) for f in c_flags if f]
    t_carry = [next(tan_in) for f in carry_nz if f]
    t_x = [next(tan_in) for f in x_flags if f]
    rest = jg.inputs[len(jg.inputs) - jg.num_consts:] if jg.num_consts else []
    ys_nz = nz[ncar:]
    o_carry, o_ys = jg.outputs[:ncar], jg.outputs[ncar:len(g.outputs)]
    o_t = iter(jg.outputs[len(g.outputs):])
    o_tcarry = [next(o_t) for f in carry_nz if f]
    o_tys = [next(o_t) for f in ys_nz if f]
    new_body = Graph(rest + p_c + t_c + p_carry + t_carry + p_x + t_x, jg.nodes,
                     o_carry + o_tcarry + o_ys + o_tys)
    p_consts, p_carry_v, p_xs = _split3(primals, nc, ncar)
    tc = [t for t in c_t if t is not None]
    tcarry = [t if t is not None else _zeros_like(p) for t, p, f in zip(carry_t, p_carry_v, carry_nz) if f]
    tx = [t for t in x_t if t is not None]
    from ..transforms.graphs import const_args
    res = _bind_scan(Graph(new_body.inputs, new_body.nodes, new_body.outputs), p_consts + tc,
                     list(p_carry_v) + tcarry, list(p_xs) + tx, length=length, reverse=reverse,
                     unroll=unroll, extra_consts=const_args(jg))
    k = ncar + sum(carry_nz)
    carry_tan = iter(res[ncar:k])
    ys_tan = iter(res[k + n_ys:])
    return ([next(carry_tan) if f else None for f in carry_nz]
            + [next(ys_tan) if f else None for f in ys_nz])


def _zeros_like(t: Tensor) -> Tensor:
    from ..core import full_in
    return full_in(t._value.ctx, t.shape, 0, t.dtype)


def _scan_residual_plan(body: ClosedGraph, num_consts: int, num_carry: int):
    """The body's split VJP and, for each residual its backward pass reads, where the
    reversed scan finds it: ("stack", k) the k-th residual the forward scan stacks,
    ("const", i) the i-th const, ("x", i) the slice of the i-th scanned input."""
    from ..transforms.graphs import vjp_graph
    g = body.graph
    wrt = tuple(a.dtype.kind == "f" for a in g.in_avals)
    vjp = vjp_graph(g, wrt)
    position = {v.id: i for i, v in enumerate(vjp.forward.inputs)}
    plan, stacked = [], []
    for r in vjp.forward.outputs[len(g.outputs):]:
        i = position.get(r.id)
        if i is not None and i < num_consts:
            plan.append(("const", i))
        elif i is not None and i >= num_consts + num_carry:
            plan.append(("x", i - num_consts - num_carry))
        else:  # computed in the body, or a carry value: one per iteration
            plan.append(("stack", len(stacked)))
            stacked.append(r)
    return vjp, wrt, plan, stacked


def _scan_vjp_fwd(primals, *, body, num_consts, num_carry, length, reverse, unroll):
    vjp, _, plan, stacked = _scan_residual_plan(body, num_consts, num_carry)
    g = body.graph
    forward = Graph(vjp.forward.inputs, vjp.forward.nodes,
                    vjp.forward.outputs[:len(g.outputs)] + stacked)
    consts, carry, xs = _split3(primals, num_consts, num_carry)
    outs = _bind_scan(forward, consts, carry, xs, length=length, reverse=reverse, unroll=unroll)
    n_out = len(g.outputs)
    return outs, outs[n_out:] + list(primals)


def _scan_vjp_bwd(residuals, cts, *, body, num_consts, num_carry, length, reverse, unroll):
    from ..transforms.graphs import const_args, eval_graph, trace_flat
    vjp, wrt, plan, stacked = _scan_residual_plan(body, num_consts, num_carry)
    g = body.graph
    nc, ncar = num_consts, num_carry
    stacks = residuals[:len(stacked)]
    consts, carry, xs = _split3(residuals[len(stacked):], nc, ncar)
    ct_carry, ct_ys = list(cts[:ncar]), list(cts[ncar:len(g.outputs)])
    c_wrt, carry_wrt, x_wrt = _split3(wrt, nc, ncar)
    acc_avals = [a.strong() for a, w in zip(_avals(consts), c_wrt) if w]
    n_acc = len(acc_avals)
    carry_ct_avals = [a.strong() for a in _avals(carry)]

    def step(*args):
        b_consts, b_carry, b_xs = _split3(args, nc, ncar + n_acc)
        ct_c, acc = b_carry[:ncar], b_carry[ncar:]
        ct_y = b_xs[:len(ct_ys)]
        stack_k = b_xs[len(ct_ys):len(ct_ys) + len(stacks)]
        x_k = b_xs[len(ct_ys) + len(stacks):]
        res = [stack_k[i] if kind == "stack" else b_consts[i] if kind == "const" else x_k[i]
               for kind, i in plan]
        seeds = [c for c, h in zip(ct_c + ct_y, vjp.out_has_ct) if h]
        grads = iter(eval_graph(vjp.backward, seeds + res + const_args(vjp.backward)))
        nonzero = iter(vjp.ct_nonzero)
        in_cts = [next(grads) if w and next(nonzero) else None for w in wrt]
        g_c, g_carry, g_x = _split3(in_cts, nc, ncar)
        from .elementwise import add
        new_acc = [add(a, gc) if gc is not None else a
                   for a, gc in zip(acc, [gc for gc, w in zip(g_c, c_wrt) if w])]
        new_ct = [gcar if gcar is not None else _zeros(a) for gcar, a in zip(g_carry, carry_ct_avals)]
        xs_ct = [gx if gx is not None else _zeros(_slice_aval(a))
                 for gx, a, w in zip(g_x, _avals(xs), x_wrt) if w]
        return new_ct + new_acc + xs_ct

    in_avals = (_avals(consts) + carry_ct_avals + acc_avals
                + [_slice_aval(c._value.aval).strong() for c in ct_ys]
                + [_slice_aval(s._value.aval) for s in stacks] + [_slice_aval(a) for a in _avals(xs)])
    bwd_body = trace_flat(step, in_avals, "vjp")
    init = [c if c is not None else _zeros_like(p) for c, p in zip(ct_carry, carry)]
    init += [_zeros(a) for a in acc_avals]
    outs = _bind_scan(bwd_body, consts, init, ct_ys + list(stacks) + list(xs), length=length,
                      reverse=not reverse, unroll=unroll)
    ct_init, ct_consts, ct_xs = outs[:ncar], iter(outs[ncar:ncar + n_acc]), iter(outs[ncar + n_acc:])
    return tuple([next(ct_consts) if w else None for w in c_wrt]
                 + [c if w else None for c, w in zip(ct_init, carry_wrt)]
                 + [next(ct_xs) if w else None for w in x_wrt])


scan_p.def_vjp_split(_scan_vjp_fwd, _scan_vjp_bwd)


@scan_p.def_batch
def _scan_batch(args, bdims, *, body, num_consts, num_carry, length, reverse, unroll):
    from ..transforms.graphs import vmap_batched_outputs, vmap_graph
    g = body.graph
    nc, ncar = num_consts, num_carry
    size = batch_size(args, bdims)
    c_b, carry_b, x_b = _split3(bdims, nc, ncar)
    consts, carry, xs = _split3(args, nc, ncar)
    carry_batched = [b is not None for b in carry_b]
    slice_bd = [0 if b is not None else None for b in x_b]
    const_bd = [0 if b is not None else None for b in c_b]
    while True:  # the carries that become batched: a fixed point over one iteration
        in_bd = const_bd + [0 if f else None for f in carry_batched] + slice_bd
        out_b = vmap_batched_outputs(g, in_bd, size)
        grown = [a or b for a, b in zip(carry_batched, out_b[:ncar])]
        if grown == carry_batched:
            break
        carry_batched = grown
    n_ys = len(g.outputs) - ncar
    vg = vmap_graph(g, in_bd, size, [0 if f else None for f in carry_batched] + [0] * n_ys)
    consts = [move_bdim(c, b, 0, size) if b is not None else c for c, b in zip(consts, c_b)]
    carry = [move_bdim(c, b, 0, size) if f else c for c, b, f in zip(carry, carry_b, carry_batched)]
    xs = [move_bdim(x, b, 1, size) if b is not None else x for x, b in zip(xs, x_b)]
    outs = _bind_scan(vg, consts, carry, xs, length=length, reverse=reverse, unroll=unroll)
    return outs, tuple([0 if f else None for f in carry_batched] + [1] * n_ys)


# ---------------------------------------------------------------------------
# while_loop and fori_loop
# ---------------------------------------------------------------------------
while_p = Primitive("while", multiple_results=True)


@while_p.def_abstract_eval
def _while_abstract_eval(*avals: Aval, cond: ClosedGraph, body: ClosedGraph, cond_nconsts: int,
                         body_nconsts: int):
    c1, c2, carry = _split3(avals, cond_nconsts, body_nconsts)
    if not _same_types(cond.graph.in_avals, c1 + carry):
        raise_error(ShapeError, "while_loop", f"the condition takes {_describe(cond.graph.in_avals)}, "
                    f"its consts and the carry are {_describe(c1 + carry)}")
    pred = cond.graph.out_avals
    if len(pred) != 1 or pred[0].shape != () or pred[0].dtype.kind != "b":
        raise_error(TransformError, "while_loop", f"the condition must return a boolean scalar, "
                    f"got {_describe(pred)}")
    if not _same_types(body.graph.in_avals, c2 + carry):
        raise_error(ShapeError, "while_loop", f"the body takes {_describe(body.graph.in_avals)}, "
                    f"its consts and the carry are {_describe(c2 + carry)}")
    if not _same_types(body.graph.out_avals, carry):
        raise_error(TransformError, "while_loop", f"the body returns {_describe(body.graph.out_avals)} "
                    f"but the carry is {_describe(carry)}; shapes and dtypes must stay the same")
    return [a.strong() for a in carry]


def _bind_while(cond: Graph, body: Graph, carry: Sequence[Tensor],
                cond_consts: Sequence[Tensor] = (), body_consts: Sequence[Tensor] = ()) -> list[Tensor]:
    """A while loop of `cond` (inputs: cond_consts, carry, then its own captured consts) and
    `body` (body_consts, carry, captured consts)."""
    from ..transforms.graphs import const_args
    graphs = []
    consts = []
    for g, given in ((cond, list(cond_consts)), (body, list(body_consts))):
        own = const_args(g)
        k = len(g.inputs) - len(own)
        n = len(given)
        graphs.append(Graph(g.inputs[k:] + g.inputs[:n] + g.inputs[n:k], g.nodes, g.outputs).closed())
        consts.append(own + given)
    return list(bind(while_p, *consts[0], *consts[1], *carry, cond=graphs[0], body=graphs[1],
                     cond_nconsts=len(consts[0]), body_nconsts=len(consts[1])))


def while_loop(cond_fn: Callable, body_fn: Callable, init, max_steps: int | None = None):
    """`while cond_fn(carry): carry = body_fn(carry)`, as one staged primitive (a StableHLO
    while loop). Forward-mode differentiable and batchable (a batched condition runs until
    every lane is done; lanes that finished keep their values). Reverse mode needs a bound:
    with `max_steps=N` the loop runs as a scan of N steps (stopping early in value, not in
    time) and is differentiable both ways.

    Example:
        >>> nb.while_loop(lambda x: nb.sum(x) < 10.0, lambda x: x * 2.0, nb.ones((2,)))
        Tensor([8. 8.] : f32[2])
    """
    as_callable("while_loop", "cond_fn", cond_fn)
    as_callable("while_loop", "body_fn", body_fn)
    if max_steps is not None:
        return _bounded_while(cond_fn, body_fn, init, as_int("while_loop", "max_steps", max_steps, min=0))
    carry, tree = _flatten_operands("while_loop", init)
    carry = [_strong(t) for t in carry]
    in_tree = tree_util.structure((init,))
    cond_g, _ = trace_fn("while_loop", cond_fn, in_tree, _avals(carry))
    body_g, body_tree = trace_fn("while_loop", body_fn, in_tree, _avals(carry))
    if body_tree != tree:
        raise_error(TransformError, "while_loop", f"the body returns {body_tree}, the carry is {tree}")
    if not _same_types(body_g.out_avals, _avals(carry)):
        raise_error(TransformError, "while_loop", f"the body returns {_describe(body_g.out_avals)} "
                    f"but the initial carry is {_describe(_avals(carry))}; shapes and dtypes must "
                    f"stay the same")
    return tree_util.unflatten(tree, _bind_while(cond_g, body_g, carry))


def _bounded_while(cond_fn: Callable, body_fn: Callable, init, max_steps: int):
    from .bitwise import logical_and, logical_not

    def step(state, _):
        value, done = state
        go = logical_and(logical_not(done), cond_fn(value))
        value = cond(go, body_fn, lambda v: v, value)
        return (value, logical_not(go)), None

    from ..core import full_in, current_context
    from ..dtypes import bool_
    (value, _), _ = scan(step, (init, full_in(current_context(), (), False, bool_)), None,
                         length=max_steps)
    return value


def fori_loop(lower, upper, body_fn: Callable, init_val):
    """`for i in range(lower, upper): val = body_fn(i, val)`. Static (Python int) bounds
    make a scan, differentiable in both modes; traced bounds a while loop (forward mode
    only, as in JAX).

    Example:
        >>> nb.fori_loop(0, 10, lambda i, x: x * 0.5 + i, 1.0)
        Tensor(16.0049 : f32[])
    """
    from ..core import current_context, full_in
    from .elementwise import add, cast, less
    as_callable("fori_loop", "body_fn", body_fn)
    if not isinstance(lower, Tensor) and not isinstance(upper, Tensor):
        lower, upper = as_int("fori_loop", "lower", lower), as_int("fori_loop", "upper", upper)
        def step(state, _):
            i, val = state
            return (add(i, 1), body_fn(i, val)), None
        i0 = full_in(current_context(), (), lower, int32)
        (_, val), _ = scan(step, (i0, init_val), None, length=max(upper - lower, 0))
        return val
    lo, hi = to_tensor(lower, "fori_loop"), to_tensor(upper, "fori_loop")
    for name, bound in (("lower", lo), ("upper", hi)):
        if bound.shape != () or bound.dtype.kind not in "iu":
            raise_error(DTypeError, "fori_loop", f"{name} must be an integer scalar, got "
                        f"{bound._value.aval.short()}")
    lo, hi = cast(lo, int32), cast(hi, int32)
    _, _, val = while_loop(lambda s: less(s[0], s[1]),
                           lambda s: (add(s[0], 1), s[1], body_fn(s[0], s[2])), (lo, hi, init_val))
    return val


@while_p.def_jvp
def _while_jvp(primals, tangents, outs, *, cond, body, cond_nconsts, body_nconsts):
    from ..transforms.graphs import jvp_graph
    c1, c2, carry = _split3(primals, cond_nconsts, body_nconsts)
    _, t2, t_carry = _split3(tangents, cond_nconsts, body_nconsts)
    c_flags = [t is not None for t in t2]
    carry_nz = [t is not None for t in t_carry]
    g = body.graph
    while True:
        _, nz = jvp_graph(g, c_flags + carry_nz)
        grown = [a or b for a, b in zip(carry_nz, nz)]
        if grown == carry_nz:
            break
        carry_nz = grown
    if not any(carry_nz):
        return [None] * len(carry)
    jb, _ = jvp_graph(g, c_flags + carry_nz, instantiate=carry_nz)
    n, nc2 = len(g.inputs), body_nconsts
    tan_in = iter(jb.inputs[n:n + sum(c_flags) + sum(carry_nz)])
    t_c = [next(tan_in) for f in c_flags if f]
    t_cy = [next(tan_in) for f in carry_nz if f]
    rest = jb.inputs[n + sum(c_flags) + sum(carry_nz):]
    ncar = len(carry)
    body2 = Graph(rest + jb.inputs[:nc2] + t_c + jb.inputs[nc2:n] + t_cy, jb.nodes, jb.outputs)
    cg = cond.graph
    dummies = [Value(v.aval, None, 0, None) for v in t_cy]
    cond2 = Graph(cg.inputs + dummies, cg.nodes, cg.outputs)
    tcarry = [t if t is not None else _zeros_like(p) for t, p, f in zip(t_carry, carry, carry_nz) if f]
    from ..transforms.graphs import const_args
    res = _bind_while(cond2, body2, list(carry) + tcarry, c1,
                      const_args(jb) + list(c2) + [t for t in t2 if t is not None])
    tans = iter(res[ncar:])
    return [next(tans) if f else None for f in carry_nz]


@while_p.def_vjp
def _while_vjp(cts, primals, outs, **params):
    raise_error(TransformError, "while_loop", "a while_loop (or a fori_loop with traced bounds) "
                "is not differentiable in reverse mode: its number of iterations is unknown "
                "until it runs. Pass max_steps=N (an upper bound) to make it a bounded loop, "
                "or give fori_loop Python int bounds, or use scan")


@while_p.def_batch
def _while_batch(args, bdims, *, cond, body, cond_nconsts, body_nconsts):
    from ..transforms.graphs import const_args, eval_graph, trace_flat, vmap_batched_outputs, vmap_graph
    size = batch_size(args, bdims)
    c1, c2, carry = _split3(args, cond_nconsts, body_nconsts)
    b1, b2, bc = _split3(bdims, cond_nconsts, body_nconsts)
    d1 = [0 if b is not None else None for b in b1]
    d2 = [0 if b is not None else None for b in b2]
    carry_batched = [b is not None for b in bc]
    while True:
        dc = [0 if f else None for f in carry_batched]
        pred_batched = vmap_batched_outputs(cond.graph, d1 + dc, size)[0]
        if pred_batched:  # lanes stop at different times: every carry keeps a value per lane
            grown = [True] * len(carry)
        else:
            grown = [a or b for a, b in zip(carry_batched, vmap_batched_outputs(body.graph, d2 + dc, size))]
        if grown == carry_batched:
            break
        carry_batched = grown
    dc = [0 if f else None for f in carry_batched]
    c1 = [move_bdim(c, b, 0, size) if b is not None else c for c, b in zip(c1, b1)]
    c2 = [move_bdim(c, b, 0, size) if b is not None else c for c, b in zip(c2, b2)]
    carry = [move_bdim(c, b, 0, size) if f else c for c, b, f in zip(carry, bc, carry_batched)]
    vbody = vmap_graph(body.graph, d2 + dc, size, dc)
    if not pred_batched:
        vcond = vmap_graph(cond.graph, d1 + dc, size, [None])
        return _bind_while(vcond, vbody, carry, c1, c2), tuple(dc)
    vcond = vmap_graph(cond.graph, d1 + dc, size, [0])
    from .elementwise import select
    from .reduce import any as any_
    from .shape import broadcast_in_dim
    n1, n2 = len(c1), len(c2)
    avals = _avals(c1) + _avals(c2) + _avals(carry)

    def any_lane(*a):  # the loop goes on while some lane's condition holds
        return [any_(eval_graph(vcond, list(a[:n1]) + list(a[n1 + n2:]) + const_args(vcond))[0])]

    def step(*a):  # every lane steps; the ones whose condition failed keep their values
        k1, k2, cy = list(a[:n1]), list(a[n1:n1 + n2]), list(a[n1 + n2:])
        go = eval_graph(vcond, k1 + cy + const_args(vcond))[0]
        new = eval_graph(vbody, k2 + cy + const_args(vbody))
        return [select(broadcast_in_dim(go, old.shape, (0,)), nw, old) for nw, old in zip(new, cy)]

    cond2, body2 = trace_flat(any_lane, avals, "vmap"), trace_flat(step, avals, "vmap")
    return _bind_while(cond2, body2, carry, list(c1) + list(c2), list(c1) + list(c2)), tuple(dc)


__all__ = ["cond", "switch", "scan", "map", "while_loop", "fori_loop"]
