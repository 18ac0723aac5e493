"""Lazy eager execution: pending work recorded per thread, run as cached XLA programs.

Eager ops record nodes into the eager context; each thread keeps a *tape* of
the values it recorded. Work runs at three kinds of points:

* **Step boundaries** flush the thread's whole tape as one program: the end of
  `backward()` (and its start too when the pending forward pass is heavy, see
  autograd.SPLIT_FLOPS), the end of an eager transform call (grad, vjp, vmap, ...),
  and, when a long tape has built up, an in-place update under `no_grad`. These
  points recur at the same place of every iteration of a training loop, so the
  programs they cut repeat exactly whatever the loop reads, and each structure
  compiles once. XLA runs them asynchronously: Python records the next step while
  the device computes this one. (Eager transforms and backward() record their
  rewritten graphs as single `call` nodes, ops/call.py, so a step stays short.
  backward() numbers the pending work once, `step_plan`, for both its memo of the
  gradient rewrite and the program's key; the flush ending the step then numbers only
  what came after.)
* **Reads** (`numpy()`, `item()`, `repr`, ...) compute what the read tensor needs
  and nothing else; the rest stays pending and joins the next program.
* **Auto flushes** bound a tape that never meets a boundary (a loop that never
  reads): once `AUTO_FLUSH_NODES` recorded values are pending, the tape is cut at a
  node that looks like the node of the first cut, so periodic loops cut at the
  same place. Values that die are dropped from the tape as it grows.

A program's outputs are the values something outside it still refers to (a
Tensor, a pending node of another program, a graph kept for backward()); that is
read off the reference counts, so intermediates nobody holds are never written
out. Programs are keyed by structure (buffer contents and scalar literals are
inputs), and run in two tiers, as JIT runtimes do:

* a structure seen for the first time runs **op by op** on one-primitive kernels
  cached by signature (compiled in parallel, ~30 ms each, shared by every program);
* a structure that repeats is compiled **fused** into one program and reused: at
  its second run for programs up to `FUSE_SMALL_NODES` nodes, later for larger ones
  (see `fuse_threshold`), whose compile time grows with their size (~1.3 ms a node).

After a run each output Value holds its buffer and forgets its producer node (a
Value that a pending backward() may still differentiate keeps it), so recorded
graphs are freed as soon as no Tensor refers to them.

Why reference counts and weak tapes (hard to undo, so noted here): a tape that held
its values strongly would keep every discarded result alive until the next flush, and
deciding outputs by "every live tensor" compiled one program per set of live tensors
(the list-comprehension case). Counting references is exact on CPython and costs one
C call per value; `_outputs` documents the references it expects.
"""
from __future__ import annotations

import functools
import math
import sys
import threading
import weakref
from collections import OrderedDict

import numpy as np

from . import lowering
from .lowering import runtime

from . import core
from .core import EAGER, _tls, concrete_check
from .errors import ArgumentError, CompileError, OutOfMemoryError, raise_error
from .ir import Graph, Value, toposort
from .tensor import Tensor
from .sharding import Mesh as _Mesh, Sharding as _Sharding, gather as _gather

LAZY = EAGER  # the eager context (one object for every thread; tapes are per thread)

# Measured on the 2-core development machine (benchmarks/ and the notes in the README):
# a one-primitive kernel compiles in 25-45 ms, a fused program in about 25 ms + 1.3 ms per
# node, and an op-by-op run costs about 10 us per node.
AUTO_FLUSH_NODES = 1024    # records after which a tape without boundaries is cut
SOFT_FLUSH_NODES = 256     # in-place updates under no_grad flush tapes at least this long
FUSE_SMALL_NODES = 256     # programs up to this size fuse at their second run
PROGRAM_CACHE_SIZE = 512   # fused programs kept (least recently used dropped)
KERNEL_CACHE_SIZE = 4096   # one-primitive kernels kept
_SIGHTINGS_SIZE = 8192     # structures whose run count is remembered

_ref = weakref.ref
_refcount = sys.getrefcount


def fuse_threshold(num_nodes: int) -> int:
    """The run at which a pending structure of `num_nodes` nodes is compiled fused: the
    second for small ones; for larger ones when the op-by-op runs so far have cost about
    a third of the fused compile time (~10 us a node a run against ~1.3 ms a node once)."""
    if num_nodes <= FUSE_SMALL_NODES:
        return 2
    return 2 + (num_nodes - FUSE_SMALL_NODES) // 16


# ---------------------------------------------------------------------------
# The per-thread tape
# ---------------------------------------------------------------------------
class _Tape(threading.local):
    def __init__(self):
        self.values: list = []     # weakrefs of the Values recorded since the last flush
        self.limit = AUTO_FLUSH_NODES  # tape length at which _long_tape looks at it
        self.armed_at = None       # pending values when the tape was found long
        self.anchor = None         # fingerprint of the node where auto flushes cut
        self.inplace_anchor = None  # weakref of the tensor whose in-place update cut last
        self.step_depth = 0        # nesting of eager transform calls
        self.held = None           # (plan, known, refs covered) scheduled early by step_plan


_tape = _Tape()


def _track(value: Value) -> None:
    t = _tape
    vals = t.values
    vals.append(_ref(value))
    if len(vals) >= t.limit:
        _long_tape(t, value)


core.track = _track


def _fingerprint(v: Value) -> tuple:
    node = v.node
    return (node.sig, tuple(u.node.sig if u.node is not None else u.aval for u in node.inputs))


def _long_tape(t: _Tape, value: Value) -> None:
    """The tape reached its limit. Drop what died or was computed; if at least
    AUTO_FLUSH_NODES values are still pending, cut the tape at a node that matches the first
    cut's, so that a periodic loop cuts at the same place of its body (at the latest after
    AUTO_FLUSH_NODES more records)."""
    if t.armed_at is None:
        live = [r for r in t.values if _is_pending(r())]
        t.values = live
        t.held = None  # (its count of covered records no longer holds)
        if len(live) < AUTO_FLUSH_NODES:
            t.limit = len(live) + AUTO_FLUSH_NODES
            return
        t.armed_at = len(live)
    if t.anchor is None or len(t.values) >= t.armed_at + AUTO_FLUSH_NODES:
        t.anchor = _fingerprint(value)
        flush("auto")
    elif _fingerprint(value) == t.anchor:
        flush("auto")
    else:
        t.limit = len(t.values) + 1


def _is_pending(v: Value | None) -> bool:
    return v is not None and v.buffer is None and v.node is not None


def pending_count() -> int:
    """Values recorded by this thread since its last flush that are still pending."""
    return sum(1 for r in _tape.values if _is_pending(r()))


def flush(reason: str = "step") -> None:
    """Run everything this thread has pending, as one program (a step boundary)."""
    t = _tape
    held, t.held = t.held, None
    if t.values:
        refs = t.values
        t.values = []
        t.limit = AUTO_FLUSH_NODES
        t.armed_at = None
        if held is not None:  # the step's plan so far (step_plan): schedule only the rest
            plan, known, covered = held
            del held
            _, nodes = _collect(refs[covered:], known)
            if nodes and _schedule(nodes, known, plan, complete=True) is None:
                plan = None
            _run_known(known, None, reason, plan)
            return
        known, nodes = _collect(refs)
        if known:
            _run_known(known, nodes, reason)


def step_plan() -> "_Plan | None":
    """Schedule what this thread has pending now, and keep the plan for the flush that ends
    the step, which then only schedules what was recorded after (backward() numbers the
    forward pass once for both its gradient rewrite and the step's program). None when the
    pending work is not one device's program of recorded nodes."""
    t = _tape
    if t.held is not None:
        return t.held[0]
    known, nodes = _collect(t.values)
    if not known or _by_device(known) is not None:
        return None
    plan = _schedule(nodes, known, complete=True)
    if plan is not None:
        t.held = (plan, known, len(t.values))
    return plan


def drop_step_plan() -> None:
    """Forget the plan step_plan kept (a backward() that raised ends no step)."""
    _tape.held = None


def _collect(refs: list, known: dict | None = None) -> tuple[dict, list]:
    """The pending values among the weak references `refs` (recording order), by id (added
    to `known` if given), and their nodes in that order (a topological one), in one pass.
    (A function of its own, so that no loop variable of the caller still refers to a value
    when _outputs counts.)"""
    if known is None:
        known = {}
    nodes = []
    last = None
    for r in refs:
        v = r()
        if v is not None and v.buffer is None:
            node = v.node
            if node is not None:
                known[v.id] = v
                if node is not last:  # the outputs of a multi-output node come together
                    nodes.append(node)
                    last = node
    return known, nodes


def step_end(fn):
    """Decorator of transform entry points: a call on eager values (no trace open on this
    thread) is a step boundary, and the pending work flushes when the outermost one returns."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        if len(_tls.stack) > 1:
            return fn(*args, **kwargs)
        t = _tape
        t.step_depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            t.step_depth -= 1
        if t.step_depth == 0:
            flush("step")
        return out
    return wrapped


def inplace_boundary(t: Tensor) -> None:
    """After an in-place update under no_grad: flush a long tape, at the update of the same
    tensor each time (a loop that updates several tensors cuts at one place of its body)."""
    tape = _tape
    n = len(tape.values)
    if n < SOFT_FLUSH_NODES:
        return
    anchor = tape.inplace_anchor() if tape.inplace_anchor is not None else None
    if anchor is None or anchor is t or n >= 2 * SOFT_FLUSH_NODES:
        tape.inplace_anchor = _ref(t)
        flush("step")


# ---------------------------------------------------------------------------
# Caches
# ---------------------------------------------------------------------------
class _Key:
    """A program's structural key with its hash computed once."""

    __slots__ = ("parts", "hash")

    def __init__(self, parts: tuple):
        self.parts = parts
        self.hash = hash(parts)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other) -> bool:
        return self.hash == other.hash and self.parts == other.parts


_lock = threading.Lock()
_programs: "OrderedDict[_Key, runtime.Executable]" = OrderedDict()
_kernels: "OrderedDict[tuple, runtime.Executable]" = OrderedDict()
_sightings: "OrderedDict[int, int]" = OrderedDict()
_prefixes: "OrderedDict[_Key, _Key]" = OrderedDict()  # step_plan keys, one object each
_PREFIXES_SIZE = 512


class ProgramCache:
    """The eager runtime's compiled programs. `misses` counts every XLA compilation it
    makes (fused programs and op-by-op kernels alike), `hits` every run of one already
    compiled; `fused_compiles`/`kernel_compiles` split the misses. `fused_runs` counts
    programs run as one executable (a fused program, or the kernel of a one-node program),
    `op_by_op_runs` programs run node by node on kernels. The counts are class attributes
    (process-wide, read them as differences); `clear()` drops every cached program.

    Example:
        >>> x = nb.ones((3,))
        >>> for _ in range(3):                 # op by op, then compiled as one program
        ...     y = (x * 2 + 1).numpy()
        >>> hits = nb.ProgramCache.hits
        >>> (x * 2 + 1).numpy()                # the same structure: its program is reused
        array([3., 3., 3.], dtype=float32)
        >>> nb.ProgramCache.hits - hits, nb.ProgramCache.size() > 0
        (1, True)
    """

    hits = 0
    misses = 0
    fused_compiles = 0
    kernel_compiles = 0
    fused_runs = 0
    op_by_op_runs = 0

    @staticmethod
    def clear() -> None:
        with _lock:
            _programs.clear()
            _kernels.clear()
            _sightings.clear()
            _packs.clear()
            _prefixes.clear()

    @staticmethod
    def size() -> int:
        """Fused programs held."""
        return len(_programs)

    @staticmethod
    def kernels() -> int:
        """One-primitive kernels held."""
        return len(_kernels)


class CompileStats:
    """A snapshot of the compilations this process made and the caches that hold them
    (see `compile_stats` for the fields). Subtracting two snapshots gives the counts in
    between (the cache sizes are the later snapshot's).

    Example:
        >>> before = nb.compile_stats()
        >>> f = nb.jit(lambda x: x * 3 + 1)
        >>> f(nb.ones(2)), f(nb.ones(2))      # traced and compiled once, run twice
        (Tensor([4. 4.] : f32[2]), Tensor([4. 4.] : f32[2]))
        >>> (nb.compile_stats() - before).jit_compiles
        1
    """

    _COUNTS = ("compiles", "compile_seconds", "jit_compiles", "fused_compiles",
               "kernel_compiles", "executions", "fused_runs", "op_by_op_runs")
    _SIZES = ("fused_programs", "kernels", "jit_signatures", "pending")

    def __init__(self, **fields):
        for name in self._COUNTS + self._SIZES:
            setattr(self, name, fields[name])

    def __sub__(self, other: "CompileStats") -> "CompileStats":
        fields = {k: getattr(self, k) - getattr(other, k) for k in self._COUNTS}
        fields.update({k: getattr(self, k) for k in self._SIZES})
        return CompileStats(**fields)

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k):.3f}" if k == "compile_seconds" else f"{k}={getattr(self, k)}"
                 for k in self._COUNTS + self._SIZES]
        return "CompileStats(" + ", ".join(parts) + ")"


def compile_stats() -> CompileStats:
    """Compilations so far and what the caches hold: `compiles` (every XLA compilation:
    `jit_compiles` of jitted functions, `fused_compiles` of eager programs compiled whole,
    `kernel_compiles` of the one-primitive kernels eager code first runs on) and their
    `compile_seconds`; `executions`, and eager programs by tier (`fused_runs`,
    `op_by_op_runs`); cache sizes (`fused_programs`, `kernels`, `jit_signatures`) and the
    values this thread has `pending`.

    Example:
        >>> x = nb.ones((3,))
        >>> for _ in range(2):                 # run op by op, then compiled as one program
        ...     y = (x * 2 + 1).numpy()
        >>> before = nb.compile_stats()
        >>> (x * 2 + 1).numpy()                # the same structure again: reused
        array([3., 3., 3.], dtype=float32)
        >>> (nb.compile_stats() - before).compiles
        0
    """
    from .jit import jit_signatures
    s = runtime.stats
    with s.lock:
        compiles, seconds, executions = s.compiles, s.compile_seconds, s.executions
        jit_compiles = s.by_kind.get("jit", 0)
    return CompileStats(
        compiles=compiles, compile_seconds=seconds, jit_compiles=jit_compiles,
        fused_compiles=ProgramCache.fused_compiles, kernel_compiles=ProgramCache.kernel_compiles,
        executions=executions, fused_runs=ProgramCache.fused_runs,
        op_by_op_runs=ProgramCache.op_by_op_runs, fused_programs=len(_programs),
        kernels=len(_kernels), jit_signatures=jit_signatures(), pending=pending_count())


# ---------------------------------------------------------------------------
# Scheduling: nodes, leaves, outputs and the structural key of one program
# ---------------------------------------------------------------------------
def _is_materialized(v: Value) -> bool:
    return v.buffer is not None


class _Plan:
    """One program being scheduled: its nodes, the leaves they read (buffers, and scalar
    literals by dtype), the structural key parts, and the numbering of values: `index`
    (produced value id -> position), `leaf_pos` (leaf id -> position), `uses` (produced id
    -> reads by nodes here); `pos` is the next position."""

    __slots__ = ("nodes", "leaves", "literals", "parts", "index", "leaf_pos", "uses", "pos",
                 "frozen")

    def __init__(self):
        self.nodes, self.leaves, self.literals, self.parts = [], [], {}, []
        self.index, self.leaf_pos, self.uses, self.pos = {}, {}, {}, 0
        self.frozen = None

    def key(self) -> _Key:
        """The structural key of what is scheduled so far, hashed once: a program key made
        after more nodes are scheduled starts with it. An equal key made before is returned
        instead, so that the caches keyed by it compare it by identity."""
        frozen = self.frozen
        if frozen is None or frozen[1] != len(self.parts):
            key = _Key(tuple(self.parts))
            with _lock:
                key = _prefixes.setdefault(key, key)
                _prefixes.move_to_end(key)
                if len(_prefixes) > _PREFIXES_SIZE:
                    _prefixes.popitem(last=False)
            frozen = self.frozen = (key, len(self.parts))
        return frozen[0]


def _schedule(nodes: list, known: dict, plan: _Plan | None = None,
              complete: bool = False) -> _Plan | None:
    """Number the values of `nodes`, list the leaves they read and build the key parts,
    continuing `plan` if given (nodes recorded after those it holds). None if some node
    reads a pending value that no node here produces (then the caller walks the graph
    instead). Produced values met as inputs are added to `known`, unless it is `complete`
    (collected from the tape, it holds every value the nodes produce)."""
    if plan is None:
        plan = _Plan()
    index, leaf_pos, uses = plan.index, plan.leaf_pos, plan.uses
    leaves, literals, parts = plan.leaves, plan.literals, plan.parts
    pos = plan.pos
    # The key parts are flat: a node is its signature, its number of inputs, then per
    # input its position, or for a leaf met for the first time -1 (a buffer) or -2 (a
    # scalar literal) and its aval (the leaf takes the next position). Signatures are
    # ints >= 1 (or tuples), positions >= 0.
    append = parts.append
    for node in nodes:
        inputs = node.inputs
        append(node.sig)
        append(len(inputs))
        for u in inputs:
            uid = u.id
            i = index.get(uid)
            if i is not None:
                uses[uid] = uses.get(uid, 0) + 1
                if not complete and uid not in known:
                    known[uid] = u
                append(i)
                continue
            i = leaf_pos.get(uid)
            if i is not None:
                append(i)
                continue
            if u.buffer is not None:
                leaves.append(u)
                append(-1)
            elif u.node is None:
                literals.setdefault(u.aval.dtype, []).append(u)
                append(-2)
            else:
                return None
            append(u.aval)
            leaf_pos[uid] = pos
            pos += 1
        for oid in node.out_ids:
            index[oid] = pos
            pos += 1
    if plan.nodes:
        plan.nodes.extend(nodes)
    else:
        plan.nodes = nodes
    plan.pos = pos
    return plan


def _outputs(plan: _Plan, known: dict) -> list[Value]:
    """The produced values that must come out of the program: those referred to from
    outside it, and the inputs of nodes that outlive it (kept for a pending backward()).

    A Value here is referred to by `known`, the loop variable and getrefcount's argument
    (3; iterating `.values()`, whose iterator holds no reference, unlike `.items()`), and
    by each read of a node of this program (`uses`); any other reference is from outside:
    a Tensor, a pending node of another program, a graph kept for later.
    """
    index, uses = plan.index, plan.uses
    out_ids = set()
    kept = []  # outputs that keep their producer: it may be differentiated later
    for v in known.values():
        vid = v.id
        if vid in index and _refcount(v) - 3 - uses.get(vid, 0) > 0:
            out_ids.add(vid)
            if v.requires_grad and v.leaf_tensor is None:
                kept.append(v)
    # Nodes that outlive the program (their outputs are kept, and so on up the graph):
    # materialize what they read, so that backward() does not recompute it.
    done = set()
    while kept:
        node = kept.pop().node
        if node is None or node.freed or id(node) in done:
            continue
        done.add(id(node))
        for u in node.inputs:
            # (a materialized input is a leaf here, even if a node of this program also
            # produces it: a multi-output node whose other outputs are pending)
            uid = u.id
            if uid in index and u.buffer is None and uid not in out_ids:
                out_ids.add(uid)
                if u.requires_grad and u.leaf_tensor is None:
                    kept.append(u)
    return sorted((known[vid] for vid in out_ids), key=lambda v: index[v.id])


def _run(values: list[Value], reason: str = "realize") -> None:
    """Compute the pending `values` a read asked for (and what they need)."""
    known = {v.id: v for v in values}
    values.clear()  # from here only `known` holds the candidates (see _outputs)
    _run_known(known, None, reason)


def _run_known(known: dict, nodes: list | None, reason: str = "realize",
               plan: _Plan | None = None) -> None:
    """Compute the pending values in `known` (id -> Value, the only reference this module
    keeps to them); `nodes`: their nodes in a topological order, if known, or `plan`: all of
    them scheduled already (step_plan). `reason` (the read or boundary that asked) names the
    operation in an out-of-memory error."""
    _tape.held = None  # values it covers may be computed here: the early plan is stale
    groups = _by_device(known)
    if groups is not None:  # work for several devices: one program each
        known.clear()
        for group in groups.values():
            _run_known(group, None, reason)
        return
    if plan is None and nodes is not None:  # (nodes collected from the tape with `known`)
        plan = _schedule(nodes, known, complete=True)
    if plan is None:
        plan = _schedule(toposort(list(known.values()), _is_materialized), known)
    outs = _outputs(plan, known)
    known.clear()
    if not outs:
        return
    device = outs[0].device or core.default_device()
    index = plan.index
    frozen = plan.frozen  # (a prefix keyed early, by step_plan's caller, is hashed already)
    head = tuple(plan.parts) if frozen is None else (frozen[0], tuple(plan.parts[frozen[1]:]))
    parts = (head, tuple(index[v.id] for v in outs), device.ident)
    if isinstance(device, _Mesh):  # an SPMD program: the layouts of its inputs are part of it
        parts += (tuple(v.sharding.hlo for v in plan.leaves),)
    key = _Key(parts)
    try:
        results = _execute(plan, outs, key, device)
    except (runtime.OutOfDeviceMemory, MemoryError) as e:
        # The program's values stay pending (a read of them tries again), but later flushes
        # of unrelated work must not: they leave this thread's tape.
        _forget_pending(index)
        out_of_memory(reason, plan.nodes, e)
    for v, buf in zip(outs, results):
        v.buffer = buf  # set before the node is dropped: another thread may be walking
        node = v.node
        if not v.requires_grad or v.leaf_tensor is not None or node.freed:
            v.node = None


def _by_device(known: dict) -> dict | None:
    """`known` split by device (device -> {id: Value}), or None when it is all one's."""
    first = None
    for v in known.values():
        d = v.device
        if d is not first:
            if first is None:
                first = d
            else:
                break
    else:
        return None
    groups: dict = {}
    for vid, v in known.items():
        groups.setdefault(v.device, {})[vid] = v
    return groups


def _forget_pending(ids: dict) -> None:
    t = _tape
    t.held = None
    kept = []
    for r in t.values:
        v = r()
        if v is not None and v.id not in ids:
            kept.append(r)
    t.values = kept


def _human_bytes(n: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def out_of_memory(op: str, nodes, error: BaseException):
    """Raise nb.OutOfMemoryError for a program of `nodes` that could not allocate, naming
    its largest array and the op that makes it."""
    largest, maker = None, None
    for node in nodes:
        for aval in node.out_avals:
            nbytes = aval.size * aval.dtype.itemsize
            if largest is None or nbytes > largest.size * largest.dtype.itemsize:
                largest, maker = aval, node.prim.name
    what = f"a program of {len(nodes)} op{'s' if len(nodes) != 1 else ''}"
    if largest is not None:
        what += (f" whose largest array, {largest.short()} "
                 f"({_human_bytes(largest.size * largest.dtype.itemsize)}), is made by "
                 f"{maker!r}")
    detail = str(error).strip() or type(error).__name__
    raise_error(OutOfMemoryError, op, f"out of memory running {what} ({detail})")


def _host_out_of_memory(op: str, aval):
    raise_error(OutOfMemoryError, op, f"out of memory: the host cannot allocate "
                f"{aval.short()} ({_human_bytes(aval.size * aval.dtype.itemsize)})")


def _execute(plan: _Plan, outs: list[Value], key: _Key, device) -> list:
    with _lock:
        exe = _programs.get(key)
        if exe is not None:
            _programs.move_to_end(key)
            ProgramCache.hits += 1
            ProgramCache.fused_runs += 1
        else:
            runs = _sightings.pop(key.hash, 0) + 1
            _sightings[key.hash] = runs
            if len(_sightings) > _SIGHTINGS_SIZE:
                _sightings.popitem(last=False)
    if exe is None:
        n = len(plan.nodes)
        spmd = isinstance(device, _Mesh)  # (always fused: kernels would each need layouts)
        if not spmd and (n == 1 or runs < fuse_threshold(n)):
            return _run_op_by_op(plan, outs, device, whole=n == 1)
        exe = _compile_spmd(plan, outs, device) if spmd else _compile_fused(plan, outs, device)
        with _lock:
            _programs[key] = exe
            if len(_programs) > PROGRAM_CACHE_SIZE:
                _programs.popitem(last=False)
            ProgramCache.misses += 1
            ProgramCache.fused_compiles += 1
            ProgramCache.fused_runs += 1
    args = [v.buffer for v in plan.leaves]
    for dtype, leaves in plan.literals.items():
        args.append(_literal_pack(device, dtype, [v.literal for v in leaves]))
    results = exe(args)
    if isinstance(device, _Mesh):
        for v, hlo in zip(outs, exe.out_hlo):
            v.sharding = _Sharding(device, hlo)
    return results


_packs: "OrderedDict[tuple, object]" = OrderedDict()
_PACKS_SIZE = 256


def _literal_pack(device, dtype, values: list):
    """A device vector of scalar literals (see constant_buffer: a loop feeds the same
    constants, a learning rate or a mean's divisor, every step)."""
    return constant_buffer(device, dtype, np.array(values, dtype=dtype.np))


def constant_buffer(device, dtype, host: np.ndarray):
    """A device buffer of the small host array `host` (of `dtype`), shared by every use of
    the same bytes: the buffers are kept, keyed by their exact bytes (so -0.0 and 0.0, or
    two NaNs, never share one), and must never be written to or donated."""
    return _kept_buffer((device.ident, dtype, host.shape, host.tobytes()), device, lambda: host)


def scalar_buffer(device, dtype, value, host):
    """constant_buffer of the Python scalar `value` (bool, int or float) as `dtype`, found
    by the value itself when it is hashed apart exactly (not a NaN; the sign of a float
    zero in the key), so a repeated argument makes no host array; `host()` makes it."""
    if type(value) is float:
        if value != value:
            return constant_buffer(device, dtype, host())
        key = (device.ident, dtype, float, value, math.copysign(1.0, value))
    else:
        key = (device.ident, dtype, type(value), value)
    return _kept_buffer(key, device, host)


def _kept_buffer(key, device, host):
    """The kept buffer of `key`, put from `host()` on a miss."""
    with _lock:
        buf = _packs.get(key)
        if buf is not None:
            _packs.move_to_end(key)
            return buf
    buf = device.put(host())
    with _lock:
        _packs[key] = buf
        if len(_packs) > _PACKS_SIZE:
            _packs.popitem(last=False)
    return buf


def _compile_fused(plan: _Plan, outs: list[Value], device) -> runtime.Executable:
    graph = Graph(plan.leaves, plan.nodes, outs)
    try:
        text = lowering.lower_graph(graph, literal_packs=list(plan.literals.items()),
                                    platform=device.platform)
        tiny = lowering.largest_array(graph) <= runtime.TINY_PROGRAM_ELEMENTS
        return runtime.compile(text, [v.aval for v in outs], device, tiny=tiny, kind="fused")
    except Exception as e:  # a failure here is a bug in nabla_like, not bad input
        raise CompileError(f"XLA could not compile a lazy program of {len(plan.nodes)} ops: "
                           f"{type(e).__name__}: {str(e)[:2000]}") from e


def _compile_spmd(plan: _Plan, outs: list[Value], mesh) -> runtime.SpmdExecutable:
    """A pending program over a mesh: its inputs keep their layouts, XLA chooses those of
    its results."""
    graph = Graph(plan.leaves, plan.nodes, outs)
    attrs = {i: f'mhlo.sharding = "{v.sharding.hlo}"' for i, v in enumerate(plan.leaves)}
    try:
        text = lowering.lower_graph(graph, literal_packs=list(plan.literals.items()),
                                    arg_attrs=attrs, pack_attrs='mhlo.sharding = "{replicated}"',
                                    platform=mesh.group.devices[0].platform)
        return runtime.compile_spmd(text, [v.aval for v in outs], mesh.group, kind="fused")
    except Exception as e:
        raise CompileError(f"XLA could not compile a sharded lazy program of {len(plan.nodes)} "
                           f"ops: {type(e).__name__}: {str(e)[:2000]}") from e


# ---------------------------------------------------------------------------
# The op-by-op tier
# ---------------------------------------------------------------------------
def _kernel_key(node, env: dict, device) -> tuple:
    return (node.sig, tuple(u.aval if u.id in env else ("lit", u.aval) for u in node.inputs),
            device.ident)


def _kernel_job(node, env: dict, device) -> tuple:
    """compile() arguments for a one-node program of `node` (literal operands packed by
    dtype, as in fused programs)."""
    inputs, packs, operands = [], {}, []
    for u in node.inputs:
        fresh = Value(u.aval, None, 0, None)
        if u.id in env:
            inputs.append(fresh)
        else:
            packs.setdefault(u.aval.dtype, []).append(fresh)
        operands.append(fresh)
    copy = node.copy_to(tuple(operands))
    outs = [Value(aval, copy, i, None) for i, aval in enumerate(node.out_avals)]
    graph = Graph(inputs, [copy], outs)
    try:
        text = lowering.lower_graph(graph, name=f"kernel_{node.prim.name}",
                                    literal_packs=list(packs.items()), platform=device.platform)
    except Exception as e:
        raise CompileError(f"could not lower the kernel of {node.prim.name}: {e}") from e
    tiny = lowering.largest_array(graph) <= runtime.TINY_PROGRAM_ELEMENTS
    return (text, list(node.out_avals), device, tiny, "kernel")


def _run_op_by_op(plan: _Plan, outs: list[Value], device, whole: bool = False) -> list:
    env = {v.id: v.buffer for v in plan.leaves}
    for node in plan.nodes:  # produced values are in env when their readers come
        for oid in node.out_ids:
            # (setdefault: an output already materialized is a leaf of this program too,
            # when its node runs again for outputs of it that are still pending)
            env.setdefault(oid, None)
    keys = [_kernel_key(node, env, device) for node in plan.nodes]
    with _lock:
        missing = {}
        for k, node in zip(keys, plan.nodes):
            if k in _kernels:
                _kernels.move_to_end(k)
            elif k not in missing:
                missing[k] = node
        ProgramCache.hits += len(keys) - len(missing)
        if whole:  # a one-node program: its kernel is the whole program
            ProgramCache.fused_runs += 1
        else:
            ProgramCache.op_by_op_runs += 1
    if missing:
        try:
            compiled = runtime.compile_many([_kernel_job(node, env, device) for node in missing.values()])
        except CompileError:
            raise
        except Exception as e:
            raise CompileError(f"XLA could not compile an op-by-op kernel: {type(e).__name__}: "
                               f"{str(e)[:2000]}") from e
        with _lock:
            for k, exe in zip(missing, compiled):
                _kernels[k] = exe
            while len(_kernels) > KERNEL_CACHE_SIZE:
                _kernels.popitem(last=False)
            ProgramCache.misses += len(compiled)
            ProgramCache.kernel_compiles += len(compiled)
        fresh = dict(zip(missing, compiled))
    else:
        fresh = {}
    for k, node in zip(keys, plan.nodes):
        exe = fresh.get(k) or _kernels.get(k)
        if exe is None:  # evicted by another thread in between
            exe = fresh[k] = runtime.compile(*_kernel_job(node, env, device))
        args, packs = [], None
        for u in node.inputs:
            b = env.get(u.id)
            if b is not None:
                args.append(b)
            else:
                if packs is None:
                    packs = {}
                packs.setdefault(u.aval.dtype, []).append(u.literal)
        if packs:
            for dtype, values in packs.items():
                args.append(_literal_pack(device, dtype, values))
        for oid, buf in zip(node.out_ids, exe(args)):
            env[oid] = buf
    return [env[v.id] for v in outs]


# ---------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------
def realize(tensors, reason: str = "realize") -> None:
    """Compute `tensors` (in one program) and what they need; other pending work stays
    pending. Scalar literals get a buffer of their own."""
    roots = []
    for t in tensors:
        concrete_check(t, reason)
        v = t._value
        if v.buffer is None:
            if v.node is not None:
                roots.append(v)
            else:
                _realize_literal(v, reason)
    if roots:
        _run(roots, reason)


def _realize_literal(v: Value, reason: str = "realize") -> None:
    aval = v.aval
    try:
        host = runtime.aligned_full(aval.shape, v.literal, aval.dtype.np)
        if v.device is None:
            v.device = core.default_device()
        v.buffer = v.device.put(host)
    except (runtime.OutOfDeviceMemory, MemoryError):
        _host_out_of_memory(reason, aval)
    v.literal = None


def realize_all(*tensors) -> None:
    """Compute several tensors in one program.

    Example:
        >>> x = nb.tensor([1.0, 2.0])
        >>> a, b = x * 2, x + 1
        >>> nb.realize_all(a, b)
        >>> a, b
        (Tensor([2. 4.] : f32[2]), Tensor([2. 3.] : f32[2]))
    """
    from .tree import leaves
    found = []
    for arg in tensors:
        arg_leaves = leaves(arg)
        bad = next((leaf for leaf in arg_leaves if not isinstance(leaf, Tensor)), None)
        if bad is not None or not arg_leaves:
            what = bad if bad is not None else arg
            raise_error(ArgumentError, "realize_all", f"expects tensors (or pytrees of "
                        f"them), got {type(what).__name__} {what!r:.40}")
        found.extend(arg_leaves)
    realize(found, "realize_all")


def block_until_ready(tree):
    """Compute every tensor in `tree` and wait until its data is on the device.
    Returns `tree` (XLA runs programs asynchronously; reading data waits anyway).

    Example:
        >>> f = nb.jit(lambda x: nb.sin(x) * 2)
        >>> nb.block_until_ready(f(nb.zeros((2,))))
        Tensor([0. 0.] : f32[2])
    """
    from .tree import leaves
    tensors = [t for t in leaves(tree) if isinstance(t, Tensor)]
    realize(tensors, "block_until_ready")
    try:
        runtime.block_until_ready([t._value.buffer for t in tensors if t._value.buffer is not None])
    except runtime.OutOfDeviceMemory as e:
        raise_error(OutOfMemoryError, "block_until_ready", f"out of memory ({e})")
    return tree


def buffer_of(t: Tensor, reason: str):
    v = t._value
    if v.buffer is None:
        realize((t,), reason)
    return v.buffer


def to_numpy(t: Tensor, reason: str = "numpy") -> np.ndarray:
    v = t._value
    if v.buffer is None and v.literal is not None and v.node is None and v.ctx is EAGER:
        try:
            return np.full(v.aval.shape, v.literal, dtype=v.aval.dtype.np)
        except MemoryError:
            _host_out_of_memory(reason, v.aval)
    buffer = buffer_of(t, reason)
    if v.sharding is not None:
        return _gather(v, reason)
    try:
        return runtime.to_numpy(buffer, v.aval.dtype.np)
    except runtime.OutOfDeviceMemory as e:
        raise_error(OutOfMemoryError, reason, f"out of memory computing {v.aval.short()} ({e})")


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
    buffer = buffer_of(t, "__dlpack__")
    if t._value.sharding is not None:
        from .errors import UsageError
        raise_error(UsageError, "__dlpack__", "a tensor split over a mesh has no single buffer to "
                    "share; read it with numpy() (which gathers it)")
    return runtime.dlpack_capsule(buffer)


def dlpack_device(t: Tensor):
    return (1, 0)  # kDLCPU




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
