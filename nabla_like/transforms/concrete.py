"""grad, vjp and jvp on concrete values: Python control flow in eager transforms.

An abstract trace cannot decide `if x > 0`. When a transform applied to eager
arguments meets such a read, it runs the function again on the concrete (lazy)
values instead, as JAX does outside jit and PyTorch always does: the
differentiated inputs become fresh copies that require grad, the function's
operations record with gradient tracking (reads compute what they need), and
the reverse- or forward-mode interpreter runs over the recorded nodes, as
backward() does. Under jit and vmap the concretization error stays.

Differentiating through the copies keeps higher orders working: a copy is an
identity node on the original, so an outer concrete transform sees through it.
"""
from __future__ import annotations

from typing import Callable

from .. import tree as tree_util
from ..core import context_stack, enable_grad, full_in, no_grad
from ..ir import Graph, Value
from ..ops._common import add_any, to_tensor
from ..ops.elementwise import copy, stop_gradient
from ..tensor import Tensor
from .graphs import backward_pass, forward_needs, jvp_interpret, recorded_graph

# Transforms whose traces may be replaced by a concrete run (never jit, vmap, ...).
_CONCRETE_OK = frozenset({"grad", "value_and_grad", "vjp", "jvp", "linearize"})


def can_run_concrete(err) -> bool:
    """Whether a ConcretizationError met while tracing may be answered by a concrete run:
    no trace is open on this thread (the transform was applied to eager values) and every
    transform that was being traced is one that can run on concrete values."""
    transforms = getattr(err, "transforms", None)
    return (len(context_stack()) == 1 and transforms is not None
            and all(t in _CONCRETE_OK for t in transforms))


class ConcreteCall:
    """`f(*args, **kwargs)` run on concrete values, with fresh copies of the leaves at
    `chosen` (indices into the flattened (args, kwargs)) as the differentiated inputs."""

    def __init__(self, fn_name: str, f: Callable, args: tuple, kwargs: dict, chosen: list[int],
                 check_input: Callable[[int, Tensor], None] | None = None):
        leaves, in_tree = tree_util.flatten((tuple(args), dict(kwargs)))
        self.originals: list[Tensor] = []
        self.inputs: list[Tensor] = []
        new = list(leaves)
        with enable_grad():
            for i in chosen:
                t = to_tensor(leaves[i], fn_name)
                if check_input is not None:
                    check_input(i, t)
                x = copy(t)
                if t.dtype.kind == "f":
                    x._value.requires_grad = True
                new[i] = x
                self.originals.append(t)
                self.inputs.append(x)
            a, k = tree_util.unflatten(in_tree, new)
            out = f(*a, **k)
        out_leaves, self.out_tree = tree_util.flatten(out)
        self.outs = [o if isinstance(o, Tensor) else to_tensor(o, fn_name) for o in out_leaves]
        # The gradients are differentiable themselves only where an outer derivative (or a
        # pending backward()) can reach the original inputs.
        self.create_graph = any(t.requires_grad for t in self.originals)

    def detached(self, outs: list[Tensor]) -> list[Tensor]:
        """Outputs as the caller sees them: without the history through the fresh copies
        unless an outer derivative needs it."""
        if self.create_graph:
            return list(outs)
        return [stop_gradient(o) if o.requires_grad else o for o in outs]

    def _graph(self, roots: list[Value]):
        wrt = {x._value.id for x in self.inputs}
        nodes, seen, env = recorded_graph(roots, lambda v: not v.requires_grad or v.id in wrt)
        graph = Graph([x._value for x in self.inputs], nodes, roots)
        return graph, env

    def vjp(self, cts: list[Tensor | None]) -> list[Tensor]:
        """Input cotangents (zeros instantiated) for output cotangents `cts` (None: zero)."""
        roots, ct_env = [], {}
        for o, c in zip(self.outs, cts):
            v = o._value
            if c is None or not v.requires_grad:
                continue
            if v.id not in ct_env:
                roots.append(v)
            ct_env[v.id] = add_any(ct_env.get(v.id), c)
        graph, env = self._graph(roots)
        needs = forward_needs(graph, [True] * len(self.inputs))
        with enable_grad() if self.create_graph else no_grad():
            backward_pass(graph.nodes, env, ct_env, lambda v: v.id in needs)
        return [ct_env.get(x._value.id) if x._value.id in ct_env else _zeros(x) for x in self.inputs]

    def jvp(self, tangents: list[Tensor | None]) -> list[Tensor]:
        """Output tangents (zeros instantiated) for input tangents (None: zero)."""
        graph, env = self._graph([o._value for o in self.outs if o.requires_grad])
        with enable_grad() if self.create_graph else no_grad():
            _, touts = jvp_interpret(graph, None, tangents, primal_env=env)
        by_id = {v.id: t for v, t in zip(graph.outputs, touts) if t is not None}
        return [by_id[o._value.id] if o._value.id in by_id else _zeros(o) for o in self.outs]


def _zeros(t: Tensor) -> Tensor:
    return full_in(t._value.ctx, t.shape, 0, t.dtype)
