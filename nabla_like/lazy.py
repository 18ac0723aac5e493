"""Lazy eager execution: pending nodes compiled and run when a value is read.

Eager ops record into one `LazyContext` whose leaves are device buffers (or
scalar literals). Reading any tensor materializes *every* live pending tensor
in one program: the forward pass, a pending backward pass and a parameter
update become one XLA executable. Programs are cached by structure (literal
values and buffer contents are inputs, not part of the key), so a Python loop
that rebuilds the same pending structure compiles once.

After a run, each output Value holds its buffer and forgets its producer node,
so the recorded graph is freed as soon as no Tensor refers to it; values that
a pending `backward()` may still differentiate keep their node until then.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

import lowering
from lowering import runtime

from .core import Context, _stack, concrete_check
from .errors import CompileError
from .ir import Graph, Value, toposort
from .tensor import Tensor

# A loop that never reads a value would grow its pending graph without bound.
# Two measures keep it bounded, both on the depth of pending chains (dead
# tensors free their nodes at once, so only depth can grow):
# * at a step boundary (backward(), or a transform applied to eager tensors),
#   inputs whose pending history is deeper than STEP_REALIZE_DEPTH are realized
#   first; these boundaries recur at the same point of every iteration, so the
#   programs they cut repeat and compile once;
# * anywhere, a value deeper than AUTO_REALIZE_DEPTH triggers a realization.
STEP_REALIZE_DEPTH = 256
AUTO_REALIZE_DEPTH = 1_000
_ref = weakref.ref


class LazyContext(Context):
    level = 0
    alive = True
    name = "eager"
    transform = "eager"

    def __init__(self):
        self.pending: dict[int, weakref.ref] = {}

    def track(self, result) -> None:
        if type(result) is tuple:
            for t in result:
                self.pending[t._value.id] = _ref(t)
            if result and result[0]._value.depth > AUTO_REALIZE_DEPTH:
                realize(result, "auto", with_live=False)
        else:
            v = result._value
            self.pending[v.id] = _ref(result)
            if v.depth > AUTO_REALIZE_DEPTH:
                realize((result,), "auto", with_live=False)

    def __repr__(self) -> str:
        return "LazyContext()"


LAZY = LazyContext()
_stack.insert(0, LAZY)

_programs: "OrderedDict[tuple, runtime.Executable]" = OrderedDict()
PROGRAM_CACHE_SIZE = 512  # least recently used programs beyond this are dropped


class ProgramCache:
    """Compiled lazy programs keyed by structure; `hits`/`misses` for tests and demos."""

    hits = 0
    misses = 0

    @staticmethod
    def clear() -> None:
        _programs.clear()

    @staticmethod
    def size() -> int:
        return len(_programs)


def _pending_roots(extra, with_live: bool = True) -> list[Value]:
    roots: list[Value] = []
    seen: set[int] = set()
    for ref in (LAZY.pending.values() if with_live else ()):
        t = ref()
        if t is None:
            continue
        v = t._value
        if v.buffer is None and v.node is not None and v.id not in seen and v.ctx is LAZY:
            seen.add(v.id)
            roots.append(v)
    for t in extra:
        v = t._value
        if v.buffer is None and v.node is not None and v.id not in seen:
            seen.add(v.id)
            roots.append(v)
    if with_live:
        LAZY.pending.clear()
    return roots


def _is_materialized(v: Value) -> bool:
    return v.buffer is not None


def _schedule(roots: list[Value]):
    """Topological order of pending nodes, the leaves they read, and the structural key."""
    order = toposort(roots, _is_materialized)
    index: dict[int, int] = {}
    buffers: list[Value] = []
    literals: dict = {}  # dtype -> list of literal leaf Values
    parts: list = []
    n = 0
    for node in order:
        refs = []
        for v in node.inputs:
            i = index.get(v.id)
            if i is None:
                i = index[v.id] = n
                n += 1
                if v.buffer is not None:
                    buffers.append(v)
                    parts.append(v.aval)
                else:
                    literals.setdefault(v.aval.dtype, []).append(v)
                    parts.append(("lit", v.aval))
            refs.append(i)
        parts.append((node.sig, tuple(refs)))
        for oid in node.out_ids:
            index[oid] = n
            n += 1
    parts.append(tuple(index[v.id] for v in roots))
    return order, buffers, literals, tuple(parts)


def _compile(order, buffers, literals, roots, device):
    packs = list(literals.items())
    graph = Graph(buffers, order, roots)
    try:
        text = lowering.lower_graph(graph, literal_packs=packs)
        tiny = lowering.largest_array(graph) <= runtime.TINY_PROGRAM_ELEMENTS
        return runtime.compile(text, [v.aval for v in roots], device, tiny=tiny)
    except Exception as e:  # a failure here is a bug in nabla_like, not bad input
        raise CompileError(f"XLA could not compile a lazy program of {len(order)} ops: "
                           f"{type(e).__name__}: {str(e)[:2000]}") from e


def realize(tensors, reason: str = "realize", with_live: bool = True) -> None:
    """Materialize `tensors` together with every other live pending tensor (only `tensors`
    without `with_live`: the depth safety net cuts a chain without turning everything
    alive, a transform's intermediates say, into outputs of one program)."""
    for t in tensors:
        concrete_check(t, reason)
    roots = _pending_roots(tensors, with_live)
    for t in tensors:
        v = t._value
        if v.buffer is None and v.node is None:
            _realize_literal(v)
    if not roots:
        return
    device = runtime.default_device()
    order, buffers, literals, key = _schedule(roots)
    key = (key, device)
    exe = _programs.get(key)
    if exe is None:
        ProgramCache.misses += 1
        exe = _compile(order, buffers, literals, roots, device)
        _programs[key] = exe
        if len(_programs) > PROGRAM_CACHE_SIZE:
            _programs.popitem(last=False)
    else:
        ProgramCache.hits += 1
        _programs.move_to_end(key)
    args = [v.buffer for v in buffers]
    for dtype, leaves in literals.items():
        args.append(device.put(np.array([v.literal for v in leaves], dtype=dtype.np)))
    results = exe(args)
    for v, buf in zip(roots, results):
        v.buffer = buf
        v.depth = 0
        if not v.requires_grad or v.leaf_tensor is not None or v.node.freed:
            v.node = None


def _realize_literal(v: Value) -> None:
    host = np.full(v.aval.shape, v.literal, dtype=v.aval.dtype.np)
    v.buffer = runtime.default_device().put(runtime.aligned_copy(host))
    v.literal = None
    v.depth = 0


def step_boundary(tensors) -> None:
    """Called where a training step begins (backward(), a transform on eager tensors):
    realize pending work first if the inputs carry a long pending history."""
    for t in tensors:
        v = t._value
        if v.depth > STEP_REALIZE_DEPTH and v.ctx is LAZY:
            realize((), "step")
            return


def realize_all(*tensors) -> None:
    """Materialize several tensors (and all other pending ones) in one program.

    Example:
        >>> a, b = x * 2, x + 1
        >>> nb.realize_all(a, b)
    """
    from .tree import leaves
    realize([t for t in leaves(tensors) if isinstance(t, Tensor)], "realize_all")


def block_until_ready(tree):
    """Compute every tensor in `tree` and wait until its data is on the device.
    Returns `tree` (XLA runs programs asynchronously; reading data waits anyway).

    Example:
        >>> nb.block_until_ready(nb.jit(f)(x))
    """
    from .tree import leaves
    tensors = [t for t in leaves(tree) if isinstance(t, Tensor)]
    realize(tensors, "block_until_ready")
    runtime.block_until_ready([t._value.buffer for t in tensors if t._value.buffer is not None])
    return tree


def buffer_of(t: Tensor, reason: str):
    v = t._value
    if v.buffer is None:
        realize((t,), reason)
    return v.buffer


def to_numpy(t: Tensor, reason: str = "numpy") -> np.ndarray:
    v = t._value
    if v.buffer is None and v.literal is not None and v.node is None and v.ctx is LAZY:
        return np.full(v.aval.shape, v.literal, dtype=v.aval.dtype.np)
    return runtime.to_numpy(buffer_of(t, reason), v.aval.dtype.np)


def item(t: Tensor, reason: str = "item"):
    concrete_check(t, reason)
    if t.size != 1:
        from .errors import ShapeError, raise_error
        raise_error(ShapeError, reason,
                    f"only a one-element tensor converts to a Python scalar, got {t._value.aval.short()}")
    v = t._value
    if v.buffer is None and v.literal is not None and v.node is None:
        return v.literal
    return to_numpy(t, reason).reshape(()).item()


def dlpack(t: Tensor):
    return runtime.dlpack_capsule(buffer_of(t, "__dlpack__"))


def dlpack_device(t: Tensor):
    return (1, 0)  # kDLCPU


def device_of(t: Tensor):
    return runtime.default_device()


def format_tensor(t: Tensor) -> str:
    v = t._value
    aval = v.aval
    if v.ctx.level != 0:
        return f"Tensor(<traced {aval.short()} in {getattr(v.ctx, 'transform', 'trace')}>)"
    if not v.ctx.alive:
        return f"Tensor(<dead {aval.short()}>)"
    arr = to_numpy(t, "repr")
    if aval.dtype.name == "bfloat16":
        arr = arr.astype(np.float32)
    body = np.array2string(np.asarray(arr), precision=4, suppress_small=True, separator=" ",
                           threshold=1000, edgeitems=3)
    if aval.ndim >= 2:
        return f"Tensor(\n{body} : {aval.short()}\n)"
    return f"Tensor({body} : {aval.short()})"
