"""The imperative API: requires_grad, backward(), .grad, in-place parameter updates.

backward() runs the same reverse-mode interpreter as `vjp`, directly over the
nodes recorded between the outputs and the leaves that require grad: each
rule records the backward computation lazily. backward() ends a step: what
is pending when it returns (the parameter update of the last step, this
step's forward pass and the gradients) runs as one program, so a training
loop runs the same program every step. Gradients accumulate into `.grad` of
the leaves.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Sequence

from . import tree as tree_util
from .args import as_bool
from .core import enable_grad, full_in, grad_recording, no_grad
from .errors import BackwardError, DTypeError, raise_error
from .ir import Graph, Value, format_graph, toposort
from .tensor import GRADS_FILLED, Tensor
from .lazy import drop_step_plan, flush, inplace_boundary, step_plan
from .transforms.graphs import (apply_vjp, backward_pass, recorded_graph, recorded_vjp,
                                recorded_vjp_graph)


# A forward pass of at least this many floating-point operations is dispatched when
# backward() starts instead of with the gradients when it ends, so that the device
# computes it while Python records the backward pass (reads of the loss then wait for the
# forward only). On the 2-core development machine 10 MFLOP is 0.3-0.5 ms of work, about
# what recording a model's backward pass takes; below that one program a step is faster.
SPLIT_FLOPS = 1e7


# One object each: the mode they restore is kept per thread, so they can be re-entered.
_NO_GRAD, _ENABLE_GRAD = no_grad(), enable_grad()


def set_requires_grad(t: Tensor, flag: bool) -> None:
    flag = as_bool("requires_grad_", "requires_grad", flag)
    v = t._value
    if not flag:
        if v.requires_grad and v.leaf_tensor is None:
            raise_error(BackwardError, "requires_grad_", "only leaf tensors can stop requiring grad; "
                        "use t.detach() for a copy without history")
        v.requires_grad = False
        v.leaf_tensor = None
        return
    if v.aval.dtype.kind != "f":
        raise_error(DTypeError, "requires_grad_", f"only floating-point tensors can require "
                    f"gradients, got {v.aval.short()}")
    if v.requires_grad and v.leaf_tensor is None:
        return  # a result with recorded history already requires grad
    v.requires_grad = True
    v.leaf_tensor = weakref.ref(t)


def _is_leaf(v: Value) -> bool:
    return v.leaf_tensor is not None


def _outside_backward(v: Value) -> bool:
    """Where backward() stops walking: values without grad history, and the leaves."""
    return not v.requires_grad or v.leaf_tensor is not None


def backward(outputs, cotangents=None, retain_graph: bool | None = None,
             create_graph: bool = False, show_graph: bool = False) -> None:
    """Accumulate gradients of `outputs` into `.grad` of every leaf that requires grad.

    A one-element output needs no cotangent; others need `cotangents` of the same shapes.
    Without `retain_graph` the recorded graph is freed and a second backward over it raises.
    `create_graph=True` makes the gradients differentiable themselves. `show_graph=True`
    prints the pending gradient program.

    Example:
        >>> w = nb.tensor([1.0, 2.0]).requires_grad_()
        >>> loss = nb.sum(w * w)
        >>> loss.backward()
        >>> w.grad
        Tensor([2. 4.] : f32[2])
    """
    if retain_graph is not None:
        retain_graph = as_bool("backward", "retain_graph", retain_graph)
    create_graph = as_bool("backward", "create_graph", create_graph)
    show_graph = as_bool("backward", "show_graph", show_graph)
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    for out in outs:
        if not isinstance(out, Tensor):
            raise_error(BackwardError, "backward", f"outputs must be tensors, got a "
                        f"{type(out).__name__}")
        if out._value.ctx.level != 0:
            raise_error(BackwardError, "backward", "backward() works on eager tensors; inside "
                        "grad/vmap/jit use nb.grad or nb.vjp instead")
    if cotangents is None:
        cts = [None] * len(outs)
    else:
        cts = list(cotangents) if isinstance(cotangents, (list, tuple)) else [cotangents]
        if len(cts) != len(outs):
            raise_error(BackwardError, "backward", f"got {len(cts)} cotangents for {len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    seeds: dict[int, Tensor] = {}
    for out, ct in zip(outs, cts):
        v = out._value
        if not v.requires_grad:
            raise_error(BackwardError, "backward", f"the output {v.aval.short()} does not require "
                        f"grad: no leaf that requires grad (t.requires_grad_()) was used to compute "
                        f"it, or it was computed under no_grad")
        if ct is None:
            if v.aval.size != 1:
                raise_error(BackwardError, "backward", f"a cotangent is needed for the non-scalar "
                            f"output {v.aval.short()} (only one-element outputs default to ones)")
            ct = full_in(v.ctx, v.aval.shape, 1, v.aval.dtype)
        else:
            from .ops._common import to_tensor
            ct = to_tensor(ct, "backward")
            if ct.shape != v.aval.shape:
                raise_error(BackwardError, "backward", f"cotangent {ct._value.aval.short()} does "
                            f"not match the output {v.aval.short()}")
            if ct.dtype is not v.aval.dtype:
                ct = ct.astype(v.aval.dtype)
        seeds[v.id] = seeds[v.id] + ct if v.id in seeds else ct
    try:
        _backward(outs, seeds, retain_graph, create_graph, show_graph)
    except BaseException:
        drop_step_plan()  # (it holds the pending values; the next flush schedules anew)
        raise
    flush("backward")


def _backward(outs, seeds, retain_graph: bool, create_graph: bool, show_graph: bool) -> None:
    roots, cts = [], []
    for o in outs:
        v = o._value
        if v.id in seeds:
            roots.append(v)
            cts.append(seeds.pop(v.id))
    plan = step_plan()
    if plan is not None and _planned_backward(plan, roots, cts, retain_graph, create_graph,
                                              show_graph):
        return
    nodes, seen, env = recorded_graph(roots, _outside_backward)
    if sum(node.prim.flops(node) for node in nodes) >= SPLIT_FLOPS:
        # A heavy forward pass runs now, while Python records the gradients; its values
        # that the backward pass reads come out of it (they are referred to from `seen`).
        flush("backward")
    # The leaves, and the sign of a graph an earlier backward() freed: a freed node, or a
    # non-leaf that requires grad but lost its producer.
    wrt = set()
    lost = False
    for vid, v in seen.items():
        if v.leaf_tensor is not None:
            wrt.add(vid)
        elif v.requires_grad and v.node is None:
            lost = True
    if lost or any(node.freed for node in nodes):
        raise_error(BackwardError, "backward", "trying to backward through a graph a second "
                    "time: its intermediate results were freed by an earlier backward(); "
                    "pass retain_graph=True to the first call to backward through it again")
    with _ENABLE_GRAD if create_graph else _NO_GRAD:
        grads = recorded_vjp(nodes, env, roots, cts, wrt)
        if grads is None:  # a graph the cached rewrite does not take: run the rules directly
            grads = backward_pass(nodes, env, {v.id: c for v, c in zip(roots, cts)},
                                  lambda v: v.requires_grad)
        leaves = [(seen[vid], g) for vid, g in grads.items() if vid in wrt]
        _accumulate(leaves)
    if not retain_graph:
        _free(nodes, seen.values())
    if show_graph:
        _show(leaves)


def _accumulate(leaves) -> None:
    """Add each gradient to `.grad` of its leaf tensor."""
    for leaf, g in leaves:
        t = leaf.leaf_tensor()
        if t is None:
            continue
        t._grad = g if t._grad is None else t._grad + g
        GRADS_FILLED[0] = True


def _free(nodes, values) -> None:
    """Free a differentiated graph: its nodes, and the producers of its computed values."""
    for node in nodes:
        node.freed = True
    for v in values:  # values already computed no longer need their producer
        if v.buffer is not None and v.leaf_tensor is None:
            v.node = None


def _show(leaves) -> None:
    grads = [leaf.leaf_tensor()._grad for leaf, _ in leaves if leaf.leaf_tensor() is not None]
    print(pending_graph(grads, name="backward"))


# ---------------------------------------------------------------------------
# backward() of a step seen before
#
# A training loop calls backward() on a graph of the same structure every step. The
# step's pending work is numbered once (lazy.step_plan, which the flush ending the step
# reuses); keyed by that numbering, the roots and the grad flags of every value read,
# a memo says which rewrite the recorded graph takes and where in the plan its residuals
# and differentiated leaves sit, so a repeated step walks no graph and builds no key.
# The memo is a function of its key: the graph backward() walks is fixed by the
# structure and by which values require grad or are leaves (the flags), as long as it
# stays inside the plan; a graph reaching further back (a non-leaf computed earlier that
# kept its history) is refused by the key's flags and takes the walk.
# ---------------------------------------------------------------------------
class _Memo:
    __slots__ = ("vjp", "residuals", "leaves", "nodes", "flops")


_memos: "OrderedDict[tuple, _Memo | None]" = OrderedDict()
_memos_lock = threading.Lock()
_MEMOS_SIZE = 256


def clear_backward_memos() -> None:
    with _memos_lock:
        _memos.clear()


def _flags(plan, roots) -> bytes:
    """Whether each value read by the plan's nodes, and each root, requires grad (1) and is
    a leaf tensor (2)."""
    codes = bytearray()
    for node in plan.nodes:
        for u in node.inputs:
            codes.append(u.requires_grad + (2 if u.leaf_tensor is not None else 0))
    for r in roots:
        codes.append(2 if r.leaf_tensor is not None else 0)
    return bytes(codes)


def _planned_backward(plan, roots, cts, retain_graph: bool, create_graph: bool,
                      show_graph: bool) -> bool:
    """backward() by the memo of this plan's structure (made on first sight). False when
    the plan does not hold the graph, or the graph needs the walk's checks (then the
    caller walks it)."""
    index = plan.index
    positions = []
    for r in roots:
        p = index.get(r.id)
        if p is None:
            return False
        positions.append(p)
    key = (plan.key(), tuple(positions), _flags(plan, roots))
    with _memos_lock:
        memo = _memos.get(key, False)
        if memo is not False:
            _memos.move_to_end(key)
    if memo is False:
        memo = _make_memo(plan, roots)
        with _memos_lock:
            _memos[key] = memo
            if len(_memos) > _MEMOS_SIZE:
                _memos.popitem(last=False)
    if memo is None:
        return False
    pnodes = plan.nodes
    nodes = [pnodes[k] for k in memo.nodes]
    for node in nodes:
        if node.freed:  # a graph an earlier backward() freed: the walk raises
            return False

    def at(address):
        k, j = address
        return roots[j] if k < 0 else pnodes[k].inputs[j]
    residuals = [Tensor._wrap(at(a)) for a in memo.residuals]
    heavy = memo.flops >= SPLIT_FLOPS
    if heavy:
        flush("backward")  # (see _backward)
    with _ENABLE_GRAD if create_graph else _NO_GRAD:
        grads = apply_vjp(memo.vjp, cts, residuals)
        leaves = [(at(a), g) for a, g in zip(memo.leaves, grads)]
        _accumulate(leaves)
    if not retain_graph:
        # (the graph's values are still pending unless the heavy forward ran above: then
        # the computed ones drop their producers too)
        _free(nodes, [u for node in nodes for u in node.inputs] if heavy else ())
    if show_graph:
        _show(leaves)
    return True


def _make_memo(plan, roots) -> _Memo | None:
    """Walk the recorded graph once and say where its pieces sit in the plan; None when it
    is not a graph inside the plan that the cached rewrite takes."""
    nodes, seen, _ = recorded_graph(roots, _outside_backward)
    where = {id(node): k for k, node in enumerate(plan.nodes)}
    if any(id(node) not in where for node in nodes):
        return None
    wrt = set()
    for vid, v in seen.items():
        if v.leaf_tensor is not None:
            wrt.add(vid)
        elif v.requires_grad and v.node is None:
            return None  # a graph an earlier backward() freed: the walk raises
    found = recorded_vjp_graph(nodes, roots, wrt)
    if found is None:
        return None
    vjp, inputs, ids, grad_inputs = found
    address = {r.id: (-1, j) for j, r in enumerate(roots)}
    for k, node in enumerate(plan.nodes):
        for j, u in enumerate(node.inputs):
            address.setdefault(u.id, (k, j))
    memo = _Memo()
    try:
        memo.residuals = [address[ids[p]] for p in vjp.residual_positions]
        memo.leaves = [address[inputs[k].id] for k in grad_inputs]
    except KeyError:  # an output of a multi-output node that no node reads
        return None
    memo.vjp = vjp
    memo.nodes = [where[id(node)] for node in nodes]
    memo.flops = sum(node.prim.flops(node) for node in nodes)
    return memo


class GradFn:
    """A step of the recorded gradient history, for inspection (PyTorch's `grad_fn`).

    `name` is the primitive that produced the tensor (`"mul"`, `"dot_general"`...), or
    `"accumulate_grad"` for a leaf that requires grad (then `variable` is the leaf).
    `next_functions` holds one `(GradFn or None, output index)` pair per input of the
    primitive, None where the input has no gradient history.

    Example:
        >>> w = nb.ones(2, requires_grad=True)
        >>> y = nb.sum(w * 2.0)
        >>> y.grad_fn, y.grad_fn.next_functions[0][0]
        (GradFn(reduce_sum), GradFn(mul))
    """

    __slots__ = ("name", "variable", "_node")

    def __init__(self, name: str, node=None, variable: Tensor | None = None):
        self.name = name
        self.variable = variable
        self._node = node

    @property
    def next_functions(self) -> tuple:
        if self._node is None:
            return ()
        return tuple(_next_function(v) for v in self._node.inputs)

    def __repr__(self) -> str:
        return f"GradFn({self.name})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, GradFn):
            return NotImplemented
        if self._node is not None or other._node is not None:
            return self._node is other._node
        return self.name == other.name and self.variable is other.variable

    def __hash__(self) -> int:
        return hash((self.name, id(self._node) if self._node is not None else id(self.variable)))


def grad_fn_of(v: Value) -> GradFn | None:
    """The GradFn of the node that produced `v`; None for leaves and values without history."""
    if not v.requires_grad or v.leaf_tensor is not None or v.node is None:
        return None
    return GradFn(v.node.prim.name, v.node)


def _next_function(v: Value) -> tuple:
    if v.requires_grad and v.leaf_tensor is not None:
        return GradFn("accumulate_grad", variable=v.leaf_tensor()), 0
    fn = grad_fn_of(v)
    return fn, (v.index if fn is not None else 0)


def pending_graph(tensors: Sequence[Tensor], name: str = "graph") -> str:
    """The listing of the pending lazy computation of `tensors` (what realizing compiles)."""
    values = [t._value for t in tensors]
    nodes = toposort(values, lambda v: v.buffer is not None)
    inputs, seen = [], set()
    for node in nodes:
        for v in node.inputs:
            if (v.node is None or v.buffer is not None) and v.id not in seen:
                seen.add(v.id)
                inputs.append(v)
    return format_graph(Graph(inputs, nodes, values), name)


def zero_grad(*trees, set_to_none: bool = True) -> None:
    """Clear `.grad` of every tensor in the given pytrees (to None, or zeros).

    Example:
        >>> params = {"w": nb.ones((2,)).requires_grad_()}
        >>> nb.sum(params["w"] * 3).backward()
        >>> params["w"].grad
        Tensor([3. 3.] : f32[2])
        >>> nb.zero_grad(params)   # params: any pytree of tensors
        >>> params["w"].grad is None
        True
    """
    set_to_none = as_bool("zero_grad", "set_to_none", set_to_none)
    for tree in trees:
        for t in tree_util.leaves(tree):
            if isinstance(t, Tensor) and t._grad is not None:
                t._grad = None if set_to_none else full_in(t._grad._value.ctx, t.shape, 0, t.dtype)


def update_inplace(t: Tensor, result: Tensor) -> Tensor:
    """`t op= x`: rebind `t` to the result, keeping it a leaf parameter if it was one."""
    v = t._value
    if _is_leaf(v) and v.requires_grad:
        if grad_recording(v.ctx):
            raise_error(BackwardError, "in-place update", f"a leaf tensor {v.aval.short()} that "
                        f"requires grad is used in an in-place operation; update parameters "
                        f"inside `with nb.no_grad():`")
        new = result._value
        if new.requires_grad or new is v:
            from .ops.elementwise import stop_gradient
            new = stop_gradient(result)._value
        new.requires_grad = True
        ref = v.leaf_tensor
        new.leaf_tensor = ref if ref() is t else weakref.ref(t)
        t._value = new
    else:
        t._value = result._value
    if t._value.ctx.level == 0 and not grad_recording(t._value.ctx):
        inplace_boundary(t)
    return t


def assign_data(t: Tensor, other) -> None:
    """`t.data = other`: new contents, same leaf status and requires_grad."""
    from .ops._common import to_tensor
    from .ops.elementwise import shared_value, stop_gradient
    v = t._value
    was_param = _is_leaf(v) and v.requires_grad
    o = other._value if type(other) is Tensor else None
    if o is not None and o.buffer is not None and o.ctx.level == 0:
        new = shared_value(o)  # (an optimizer's result: what stop_gradient does, directly)
    else:
        with no_grad():
            new = stop_gradient(to_tensor(other, "data"))._value  # always a fresh Value
    if was_param:
        new.requires_grad = True
        new.leaf_tensor = weakref.ref(t)
    t._value = new
    if new.ctx.level == 0 and not grad_recording(new.ctx):
        inplace_boundary(t)


__all__ = ["backward", "zero_grad"]
