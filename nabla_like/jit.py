"""jit: trace once per signature, compile the whole function into one XLA executable.

The cache key is the argument structure, the avals of the dynamic leaves (Python
scalars count by type only, so their values do not retrace) and the static
argument values. A hit costs a key, a dict lookup and one execute. Called with
values of an outer trace (`grad(jit(f))`, `vmap(jit(f))`), the traced graph is
replayed into that trace instead; called with tensors that require grad for the
imperative backward(), it is replayed into the lazy graph so that backward()
can see through it.

Like JAX, a traced function reads global tensors once, at trace time: they
become inputs of the executable bound to the values seen then.
"""
from __future__ import annotations

import functools
import inspect
import threading
import time
import weakref
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np

from . import lowering
from .lowering import runtime

from . import tree as tree_util
from .core import DONATED, _leak, _new_tensor, grad_recording
from .errors import (ArgumentError, CompileError, DeviceError, JitError, RangeError,
                     TransformError, UnsupportedError, raise_error)
from .ir import Aval, Graph, Value
from .lazy import LAZY, flush, realize, scalar_buffer, to_numpy
from .ops.call import call_eager
from .sharding import Mesh, NamedSharding, Sharding
from .tensor import Tensor
from .transforms.api import trace_function
from .transforms.arguments import check_argnames, check_argnums, check_fun, signature_of
from .transforms.graphs import apply_graph, const_args

_all_jitted: "weakref.WeakSet[Jitted]" = weakref.WeakSet()
_all_jitted_lock = threading.Lock()


class JitStats:
    """Cache statistics of one jitted function."""

    def __init__(self):
        self.hits = 0
        self.misses = 0
        self.compile_seconds = 0.0
        self.trace_seconds = 0.0
        self.last_miss_reason: str | None = None

    def __repr__(self) -> str:
        return (f"JitStats(hits={self.hits}, misses={self.misses}, "
                f"trace_seconds={self.trace_seconds:.4f}, compile_seconds={self.compile_seconds:.4f})")


class _Entry:
    __slots__ = ("graph", "out_tree", "executable", "text", "donated", "out_avals", "key_desc",
                 "fast_key", "on_devices", "mesh", "in_layouts", "out_layouts", "spmd", "platform",
                 "lower_kwargs", "texts")

    def __init__(self, graph: Graph, out_tree, text: str, executable, donated: tuple[int, ...],
                 key_desc):
        self.graph = graph
        self.out_tree = out_tree
        self.text = text
        self.executable = executable
        self.donated = donated
        self.out_avals = [v.aval for v in graph.outputs]
        self.key_desc = key_desc
        self.fast_key = None  # the _fast_signature key that also finds it, if any
        self.on_devices: dict = {}  # Device -> the executable compiled for it (see for_device)
        self.mesh = None          # set for a function run over a mesh (see Jitted._run_spmd)
        self.in_layouts: list = []   # per dynamic leaf: its in_shardings entry or None
        self.out_layouts: list = []  # per output: its out_shardings entry or None
        self.spmd: dict = {}      # (mesh, input layouts) -> SpmdExecutable
        self.platform = "cpu"     # the platform `text` was lowered for
        self.lower_kwargs: dict = {}  # lower_graph's arguments, to lower for another platform
        self.texts: dict = {}     # platform -> StableHLO, for the platforms besides `platform`

    def text_for(self, platform: str) -> str:
        """The StableHLO for `platform` (a few ops lower differently per platform)."""
        if platform == self.platform:
            return self.text
        if platform not in self.texts:
            self.texts[platform] = lowering.lower_graph(self.graph, platform=platform,
                                                        **self.lower_kwargs)
        return self.texts[platform]

    def _compile(self, device):
        device = device or runtime.default_device()
        return runtime.compile(self.text_for(device.platform), self.out_avals, device,
                               tiny=lowering.largest_array(self.graph) <= runtime.TINY_PROGRAM_ELEMENTS,
                               kind="jit")

    def for_device(self, device):
        """The executable for `device` (compiled from the same graph on first use)."""
        exe = self.executable
        if exe is None:  # traced for a mesh first: the one-device program compiles on demand
            exe = self.executable = self._compile(device)
            return exe
        if device is None or device is exe.device:
            return exe
        other = self.on_devices.get(device)
        if other is None:
            other = self.on_devices[device] = self._compile(device)
        return other


class Lowered:
    """The StableHLO of a jitted function for one signature."""

    def __init__(self, jitted: "Jitted", entry: _Entry, text: str | None = None):
        self._jitted = jitted
        self._entry = entry
        self._text = text  # the text of a run over a mesh (with its layouts)

    def as_text(self) -> str:
        return self._text if self._text is not None else self._entry.text

    def compile(self) -> "Compiled":
        return Compiled(self._jitted, self._entry)

    def __repr__(self) -> str:
        return f"Lowered({self._jitted.__name__})"


class Compiled:
    """A compiled executable for one signature; callable with matching arguments."""

    def __init__(self, jitted: "Jitted", entry: _Entry):
        self._jitted = jitted
        self._entry = entry

    def __call__(self, *args, **kwargs):
        jitted = self._jitted
        key, *_, leaves = jitted._key(args, kwargs)
        if key != self._entry.key_desc:
            why = jitted._explain_against(self._entry.key_desc, key)
            raise_error(JitError, "compiled", f"the arguments do not match the signature this "
                        f"executable was compiled for ({why})")
        jitted._hit(self._entry)
        return jitted._run(self._entry, leaves)

    def as_text(self) -> str:
        return self._entry.text

    def hlo_text(self) -> str:
        return self._entry.executable.hlo_text()

    def memory_analysis(self):
        return self._entry.executable.memory_stats()

    def cost_analysis(self):
        return self._entry.executable.cost_analysis()


def _leaf_sig(leaf):
    """The cache-key part of one dynamic leaf; raises JitError for unsupported types."""
    if isinstance(leaf, Tensor):
        return leaf._value.aval
    if isinstance(leaf, np.ndarray):
        return ("array", leaf.shape, leaf.dtype.str)
    if isinstance(leaf, (bool, int, float)):
        return ("py", type(leaf))
    if isinstance(leaf, np.generic):
        return ("array", (), leaf.dtype.str)
    return None


DEFAULT_CACHE_SIZE = 64  # signatures a jitted function keeps compiled (least recently used go)


class Jitted:
    """A jitted function. Call it like the original; see `jit`."""

    def __init__(self, fun: Callable, static_argnums=(), static_argnames=(), donate_argnums=(),
                 cache_size: int = DEFAULT_CACHE_SIZE, in_shardings=None, out_shardings=None):
        check_fun("jit", fun)
        self.in_shardings = _check_shardings("in_shardings", in_shardings)
        self.out_shardings = _check_shardings("out_shardings", out_shardings)
        if (in_shardings is not None or out_shardings is not None) and donate_argnums not in ((), None):
            raise_error(UnsupportedError, "jit", "donate_argnums together with in_shardings / "
                        "out_shardings is not supported yet")
        # Like JAX: argnums must be in range for the parameters the signature lists (unless
        # it takes *args), names must be parameters (unless it takes **kwargs).
        nums = set(check_argnums("jit", static_argnums, fun, "static_argnums", allow_empty=True))
        names = set(check_argnames("jit", static_argnames, fun, "static_argnames"))
        donate = check_argnums("jit", donate_argnums, fun, "donate_argnums", allow_empty=True)
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 1:
            raise_error(JitError, "jit", f"cache_size must be a positive int, got {cache_size!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        # Like JAX, a static parameter is static however it is passed: map argnums to
        # names and names to argnums through the signature.
        positional = _positional_params(fun)
        if positional is not None:
            n = len(positional)
            sig = signature_of(fun)
            if sig is not None and not sig.varargs:  # (with *args, -1 is the last one passed)
                nums = {i + n if i < 0 else i for i in nums}
                donate = tuple(i + n if i < 0 else i for i in donate)
            names |= {positional[i] for i in nums if 0 <= i < n}
            nums |= {positional.index(name) for name in names if name in positional}
        both = sorted(set(donate) & nums)
        if both:
            raise_error(TransformError, "jit", f"argument {both[0]} is both static "
                        f"(static_argnums / static_argnames) and donated (donate_argnums): a "
                        f"static argument has no buffer to donate")
        self.static_argnums = tuple(sorted(nums))
        self.static_argnames = tuple(sorted(names))
        self.donate_argnums = tuple(donate)
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()  # full key -> entry, least recently used first
        self._fast: dict = {}  # _fast_signature key -> entry (a shortcut into _cache)
        self._lock = threading.Lock()
        self._last_key = None
        self.stats = JitStats()
        with _all_jitted_lock:
            _all_jitted.add(self)

    def __repr__(self) -> str:
        return f"<jit {getattr(self.fun, '__qualname__', self.fun)}>"

    def __get__(self, obj, objtype=None):  # jit on methods
        if obj is None:
            return self
        return functools.partial(self, obj)

    # -- keys ------------------------------------------------------------------
    def _split(self, args: tuple, kwargs: dict):
        """(dynamic args, dynamic kwargs, static key part)."""
        if not self.static_argnums and not self.static_argnames:
            return args, kwargs, ()
        n = len(args)
        statics_pos = {i + n if i < 0 else i for i in self.static_argnums}
        static_vals = []
        dyn_args = []
        for i, a in enumerate(args):
            if i in statics_pos:
                static_vals.append(("pos", i, a))
            else:
                dyn_args.append(a)
        dyn_kwargs = {}
        for k, v in kwargs.items():
            if k in self.static_argnames:
                static_vals.append(("kw", k, v))
            else:
                dyn_kwargs[k] = v
        for kind, where, v in static_vals:
            try:
                hash(v)
            except TypeError:
                label = f"argument {where}" if kind == "pos" else f"argument {where!r}"
                raise_error(JitError, "jit", f"static {label} of type {type(v).__name__} is not "
                            f"hashable, so it cannot be part of the cache key (pass a tuple instead "
                            f"of a list, or make it a dynamic tensor argument)")
        return tuple(dyn_args), dyn_kwargs, tuple(static_vals)

    def _key(self, args: tuple, kwargs: dict):
        dyn_args, dyn_kwargs, statics = self._split(args, kwargs)
        leaves, treedef = tree_util.flatten((dyn_args, dyn_kwargs))
        sigs = []
        for i, leaf in enumerate(leaves):
            sig = _leaf_sig(leaf)
            if sig is None:
                raise_error(JitError, "jit", f"argument leaf {i} of type {type(leaf).__name__} is "
                            f"not an array; mark its argument static (static_argnums / "
                            f"static_argnames) or pass a tensor")
            sigs.append(sig)
        return (treedef, tuple(sigs), statics), dyn_args, dyn_kwargs, statics, leaves

    # -- calls -----------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        fast = None if kwargs or self.static_argnums or self.in_shardings is not None \
            else _fast_signature(args)
        if fast is not None:
            entry = self._fast.get(fast[0])
            if entry is not None:
                self._hit(entry)
                return self._run(entry, fast[1])
        key, dyn_args, dyn_kwargs, statics, leaves = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._compile_entry(key, dyn_args, dyn_kwargs, statics)
            if fast is not None:
                with self._lock:
                    entry.fast_key = fast[0]
                    if entry.key_desc in self._cache:
                        self._fast[entry.fast_key] = entry
        else:
            self._hit(entry)
        return self._run(entry, leaves)

    def _hit(self, entry: _Entry) -> None:
        with self._lock:
            self.stats.hits += 1
            if entry.key_desc in self._cache:
                self._cache.move_to_end(entry.key_desc)

    def _store(self, key, entry: _Entry) -> None:
        """Keep `entry`, dropping the least recently used beyond `cache_size`."""
        with self._lock:
            self._cache[key] = entry
            self._last_key = key
            while len(self._cache) > self.cache_size:
                _, old = self._cache.popitem(last=False)
                if old.fast_key is not None:
                    self._fast.pop(old.fast_key, None)

    def _run(self, entry: _Entry, leaves: list):
        if entry.mesh is not None:
            return self._run_spmd(entry, leaves)
        if entry.donated:
            return self._run_general(entry, leaves)
        # The common case in one pass: materialized eager tensors without grad history.
        buffers = []
        dev = None
        for leaf in leaves:
            if type(leaf) is not Tensor:
                return self._run_general(entry, leaves)
            v = leaf._value
            b = v.buffer
            if b is None or v.ctx is not LAZY or (v.requires_grad and grad_recording(LAZY)):
                return self._run_general(entry, leaves)
            buffers.append(b)
            if v.device is not dev:
                if v.sharding is not None:
                    return self._run_spmd(entry, leaves)
                dev = self._device(dev, v)
        for v in entry.graph.consts:
            if v.buffer is None:
                return self._run_general(entry, leaves)
            buffers.append(v.buffer)
            if v.device is not dev:
                dev = self._device(dev, v)
        return self._execute(entry, leaves, buffers, dev)

    def _device(self, dev, v):
        """The device of the arguments so far, `dev`, joined with that of `v`."""
        if dev is None:
            return v.device
        if v.device is None:
            return dev
        raise_error(DeviceError, f"jit({self.__name__})", f"arguments live on different "
                    f"devices, {dev} and {v.device}; move them to one with t.to(device)")

    def _run_general(self, entry: _Entry, leaves: list):
        """Traced arguments replay the graph; pending tensors are realized first; Python
        scalars and arrays are put on the device. With eager arguments that require grad
        the compiled program runs as well, and its outputs also record the graph as one
        `call` node, so that backward() can differentiate through the call."""
        tensors = [leaf for leaf in leaves if isinstance(leaf, Tensor)]
        for t in tensors:
            if not t._value.ctx.alive:
                _leak("jit", t._value, LAZY)
        if any(t._value.ctx.level != 0 for t in tensors):
            return self._replay(entry, leaves)
        history = None
        if grad_recording(LAZY) and any(t._value.requires_grad for t in tensors):
            history = self._history_args(entry, leaves)
            if history is None:
                return self._replay(entry, leaves)
        graph = entry.graph
        pending = [t for t in tensors if t._value.buffer is None]
        pending += [Tensor._wrap(v) for v in graph.consts if v.buffer is None]
        if entry.donated:
            self._check_donation(entry, leaves)
        if entry.donated:  # pending work may read a buffer about to be donated: run it all
            flush("jit")
        if pending:
            realize(pending, "jit")
        if any(isinstance(t._value.device, Mesh) for t in tensors):
            return self._run_spmd(entry, leaves)
        dev = None
        for v in [t._value for t in tensors] + list(graph.consts):
            if v.device is not dev:
                dev = self._device(dev, v)
        exe = entry.for_device(dev)
        buffers = []
        for i, (leaf, aval) in enumerate(zip(leaves, graph.in_avals)):
            if isinstance(leaf, Tensor):
                buffers.append(leaf._value.buffer)
            elif type(leaf) in _PY_SCALARS and i not in entry.donated:
                # (a learning rate passed every step: its buffer is put once)
                buffers.append(scalar_buffer(exe.device, aval.dtype, leaf,
                                             lambda: _host_scalar(leaf, aval)))
            else:
                buffers.append(exe.device.put(_host_scalar(leaf, aval)))
        buffers.extend(v.buffer for v in graph.consts)
        return self._execute(entry, leaves, buffers, exe.device, history)

    def _history_args(self, entry: _Entry, leaves: list) -> list | None:
        """The call node's arguments (the leaves as tensors, then the captured consts), or
        None where the run cannot record one: donation (it replays instead), or an argument
        whose aval differs from the traced one (a weakly typed Python scalar). (Arguments
        on a mesh go to _run_spmd, which replays.)"""
        from .ops._common import to_tensor
        if entry.donated:
            return None
        args = [to_tensor(leaf, "jit") for leaf in leaves] + const_args(entry.graph)
        for a, v in zip(args, entry.graph.inputs):
            if a._value.aval is not v.aval and a._value.aval != v.aval:
                return None
        return args

    def _run_spmd(self, entry: _Entry, leaves: list):
        """Run over a mesh: each input laid out as in_shardings says (else as it is, else
        replicated), the program compiled once per set of input layouts with XLA's SPMD
        partitioner, results laid out as out_shardings says or as XLA propagates."""
        tensors = [leaf for leaf in leaves if isinstance(leaf, Tensor)]
        if any(t._value.ctx.level != 0 for t in tensors) or (
                grad_recording(LAZY) and any(t._value.requires_grad for t in tensors)):
            return self._replay(entry, leaves)
        pending = [t for t in tensors if t._value.buffer is None]
        if pending:
            realize(pending, "jit")
        graph = entry.graph
        op = f"jit({self.__name__})"
        mesh, targets = self._spmd_layouts(entry, leaves)
        buffers = []
        for leaf, aval, target in zip(list(leaves) + list(graph.consts), graph.in_avals, targets):
            v = leaf._value if isinstance(leaf, Tensor) else leaf if isinstance(leaf, Value) else None
            if v is not None and v.sharding == target:
                buffers.append(v.buffer)
            else:  # host data, a one-device tensor, another layout: put as the target says
                host = np.asarray(to_numpy(Tensor._wrap(v), "jit")) if v is not None \
                    else _host_scalar(leaf, aval)
                buffers.append(runtime.put_sharded(np.ascontiguousarray(host), mesh.group, target.hlo))
        key = (mesh.ident, tuple(t.hlo for t in targets))
        exe = entry.spmd.get(key)
        if exe is None:
            exe = entry.spmd[key] = self._compile_spmd(entry, mesh, targets)
        try:
            results = exe(buffers)
        except runtime.OutOfDeviceMemory as e:
            from .lazy import out_of_memory
            out_of_memory(op, graph.nodes, e)
        outs = []
        for aval, buf, hlo in zip(entry.out_avals, results, exe.out_hlo):
            v = Value(aval, None, 0, LAZY)
            v.buffer, v.device, v.sharding = buf, mesh, Sharding(mesh, hlo)
            outs.append(Tensor._wrap(v))
        if entry.out_tree.kind is tree_util.LEAF.kind:
            return outs[0]
        return tree_util.unflatten(entry.out_tree, outs)

    def _spmd_layouts(self, entry: _Entry, leaves: list):
        """The mesh a call runs over and the layout of each input (dynamic leaves, then the
        graph's captured constants): its in_shardings entry, else its own, else replicated."""
        graph = entry.graph
        values = [leaf._value if isinstance(leaf, Tensor) else None for leaf in leaves]
        values += list(graph.consts)
        mesh = entry.mesh or next(v.device for v in values
                                  if v is not None and isinstance(v.device, Mesh))
        layouts = list(entry.in_layouts) + [None] * len(graph.consts)
        targets = []
        for v, aval, want in zip(values, graph.in_avals, layouts):
            if v is not None and isinstance(v.device, Mesh) and v.device != mesh:
                raise_error(DeviceError, f"jit({self.__name__})", f"an argument is laid out "
                            f"over {v.device}, the function runs over {mesh}")
            if want is not None:
                targets.append(want.on(len(aval.shape)))
            elif v is not None and v.sharding is not None:
                targets.append(v.sharding)
            else:
                targets.append(Sharding(mesh, "{replicated}"))
        return mesh, targets

    def _spmd_text(self, entry: _Entry, targets: list) -> str:
        """The StableHLO of a run over a mesh: every argument carries its layout, results
        the out_shardings given for them."""
        graph = entry.graph
        args = {i: f'mhlo.sharding = "{t.hlo}"' for i, t in enumerate(targets)}
        results = {i: f'mhlo.sharding = "{s.hlo_for(len(v.aval.shape))}"'
                   for i, (s, v) in enumerate(zip(entry.out_layouts, graph.outputs)) if s is not None}
        return lowering.lower_graph(graph, name=_module_name(self.fun), arg_attrs=args,
                                    result_attrs=results,
                                    platform=_platform_of(targets[0].mesh if targets else None))

    def _compile_spmd(self, entry: _Entry, mesh, targets: list):
        start = time.perf_counter()
        try:
            text = self._spmd_text(entry, targets)
            exe = runtime.compile_spmd(text, entry.out_avals, mesh.group, kind="jit")
        except Exception as e:
            raise CompileError(f"jit: XLA could not compile {self.__name__} for {mesh}: "
                               f"{str(e)[:2000]}") from e
        self.stats.compile_seconds += time.perf_counter() - start
        return exe

    def _check_donation(self, entry: _Entry, leaves: list) -> None:
        ids = [id(leaf._value) for leaf in leaves if isinstance(leaf, Tensor)]
        for i in entry.donated:
            v = leaves[i]._value if isinstance(leaves[i], Tensor) else None
            if v is not None and ids.count(id(v)) > 1:
                raise_error(JitError, "jit", f"a donated tensor {v.aval.short()} is also "
                            f"passed as another argument; XLA cannot reuse a buffer it still reads")

    def _execute(self, entry: _Entry, leaves: list, buffers: list, device=None, history=None):
        """Run the compiled program on `buffers`; with `history` (the call node's arguments)
        its outputs also record the call, with the results as their values."""
        exe = entry.for_device(device)
        try:
            results = exe(buffers)
        except runtime.OutOfDeviceMemory as e:
            from .lazy import out_of_memory
            out_of_memory(f"jit({self.__name__})", entry.graph.nodes, e)
        for i in entry.donated:
            leaf = leaves[i]
            if isinstance(leaf, Tensor):  # its memory now belongs to an output
                leaf._value.buffer = None
                leaf._value.ctx = DONATED
        device = exe.device
        if history is not None:
            outs = call_eager(entry.graph, history)
            for t, buf in zip(outs, results):
                v = t._value
                v.buffer, v.device = buf, device
                if not v.requires_grad:
                    v.node = None
        else:
            outs = []
            for aval, buf in zip(entry.out_avals, results):
                v = Value(aval, None, 0, LAZY)
                v.buffer = buf
                v.device = device
                t = _new_tensor(Tensor)
                t._value = v
                t._grad = None
                outs.append(t)
        if entry.out_tree.kind is tree_util.LEAF.kind:
            return outs[0]
        return tree_util.unflatten(entry.out_tree, outs)

    def _replay(self, entry: _Entry, leaves: list):
        from .ops._common import to_tensor
        tensors = [to_tensor(leaf, "jit") for leaf in leaves]
        outs = apply_graph(entry.graph, tensors + const_args(entry.graph))
        return tree_util.unflatten(entry.out_tree, outs)

    # -- misses ------------------------------------------------------------------------
    def _traceable(self, statics):
        fun = self.fun
        pos = {where: v for kind, where, v in statics if kind == "pos"}
        kws = {where: v for kind, where, v in statics if kind == "kw"}

        def call(*dyn_args, **dyn_kwargs):
            args, it = [], iter(dyn_args)
            for i in range(len(dyn_args) + len(pos)):
                args.append(pos[i] if i in pos else next(it))
            return fun(*args, **dyn_kwargs, **kws)
        return call

    def _compile_entry(self, key, dyn_args, dyn_kwargs, statics) -> _Entry:
        with self._lock:
            self.stats.misses += 1
            self.stats.last_miss_reason = self._explain(key)
        start = time.perf_counter()
        traced = trace_function(self._traceable(statics), dyn_args, dyn_kwargs, "jit",
                                traced=lambda i, leaf: _leaf_sig(leaf) is not None)
        graph = traced.graph
        self.stats.trace_seconds += time.perf_counter() - start
        donated = self._donated_leaves(dyn_args, statics)
        attrs, used = {}, set()
        for i in donated:
            for k, v in enumerate(graph.outputs):
                if k not in used and v.aval.strong() == graph.inputs[i].aval.strong():
                    attrs[i] = f"tf.aliasing_output = {k} : i32"
                    used.add(k)
                    break
        in_layouts, out_layouts, mesh = self._layouts(dyn_args, dyn_kwargs, traced.out_tree, graph)
        arg_leaves = tree_util.leaves((dyn_args, dyn_kwargs))
        device = next((leaf._value.device for leaf in arg_leaves
                       if isinstance(leaf, Tensor) and leaf._value.device is not None), None)
        platform = _platform_of(mesh or device)
        lower_kwargs = {"name": _module_name(self.fun), "arg_attrs": attrs}
        try:
            text = lowering.lower_graph(graph, platform=platform, **lower_kwargs)
        except Exception as e:
            raise CompileError(f"jit: could not lower {self.__name__}: {e}") from e
        if mesh is None:
            mesh = next((leaf._value.device for leaf in arg_leaves if isinstance(leaf, Tensor)
                         and isinstance(leaf._value.device, Mesh)), None)
            spmd_now = mesh is not None
            mesh = None  # sharded arguments alone: the same function may run on one device later
        else:
            spmd_now = True
        exe = None
        if not spmd_now:
            start = time.perf_counter()
            try:
                tiny = lowering.largest_array(graph) <= runtime.TINY_PROGRAM_ELEMENTS
                exe = runtime.compile(text, [v.aval for v in graph.outputs], device, tiny=tiny,
                                      kind="jit")
            except Exception as e:
                raise CompileError(f"jit: XLA could not compile {self.__name__}: {str(e)[:2000]}") from e
            self.stats.compile_seconds += time.perf_counter() - start
        entry = _Entry(graph, traced.out_tree, text, exe, tuple(sorted(attrs)), key)
        entry.platform, entry.lower_kwargs = platform, lower_kwargs
        entry.mesh, entry.in_layouts, entry.out_layouts = mesh, in_layouts, out_layouts
        self._store(key, entry)
        return entry

    def _layouts(self, dyn_args, dyn_kwargs, out_tree, graph):
        """Per dynamic leaf its in_shardings entry, per output its out_shardings entry, and
        the mesh they (or the graph's sharding constraints) name, if any."""
        is_leaf = lambda x: x is None or isinstance(x, NamedSharding)  # noqa: E731
        n_kw = len(tree_util.leaves(dyn_kwargs))
        if self.in_shardings is None:
            ins = [None] * (len(tree_util.leaves(dyn_args)) + n_kw)
        else:
            try:
                ins = tree_util.broadcast_prefix(self.in_shardings, tuple(dyn_args), is_leaf) + [None] * n_kw
            except Exception as e:  # noqa: BLE001 - a tree mismatch, reported at the call
                raise_error(JitError, "jit", f"in_shardings do not match the arguments: {e}")
        n_out = len(graph.outputs)
        if self.out_shardings is None:
            outs = [None] * n_out
        else:
            placeholder = tree_util.unflatten(out_tree, list(range(n_out)))
            try:
                outs = tree_util.broadcast_prefix(self.out_shardings, placeholder, is_leaf)
            except Exception as e:  # noqa: BLE001
                raise_error(JitError, "jit", f"out_shardings do not match the outputs: {e}")
        named = [s for s in ins + outs if s is not None]
        named += [n.params["sharding"] for n in _all_nodes(graph) if n.prim.name == "sharding_constraint"]
        meshes = {s.mesh for s in named}
        if len(meshes) > 1:
            raise_error(DeviceError, "jit", f"the shardings of {self.__name__} name several meshes: "
                        f"{', '.join(map(str, meshes))}")
        return ins, outs, (meshes.pop() if meshes else None)

    def _donated_leaves(self, dyn_args, statics) -> list[int]:
        if not self.donate_argnums:
            return []
        static_pos = {where for kind, where, _ in statics if kind == "pos"}
        total = len(dyn_args) + len(static_pos)
        donate = {i + total if i < 0 else i for i in self.donate_argnums}
        out, leaf = [], 0
        dyn_index = 0
        for i in range(total):
            if i in static_pos:
                continue
            n = len(tree_util.leaves(dyn_args[dyn_index]))
            if i in donate:
                out.extend(range(leaf, leaf + n))
            leaf += n
            dyn_index += 1
        return out

    def _explain(self, key) -> str:
        if self._last_key is None:
            return "first call"
        return self._explain_against(self._last_key, key)

    def _explain_against(self, prev, key) -> str:
        (t0, s0, st0), (t1, s1, st1) = prev, key
        if t0 != t1:
            return f"the argument structure changed: {t0} -> {t1}"
        for i, (a, b) in enumerate(zip(s0, s1)):
            if a != b:
                return f"dynamic argument leaf {i} changed: {_sig_str(a)} -> {_sig_str(b)}"
        for a, b in zip(st0, st1):
            if a != b:
                label = f"static argument {a[1]}" if a[0] == "pos" else f"static argument {a[1]!r}"
                return f"{label} changed: {a[2]!r} -> {b[2]!r}"
        return "a signature seen before was evicted"

    # -- inspection ----------------------------------------------------------------------
    def lower(self, *args, **kwargs) -> Lowered:
        """The StableHLO for these arguments (tracing and compiling on a cache miss)."""
        key, dyn_args, dyn_kwargs, statics, leaves = self._key(args, kwargs)
        entry = self._cache.get(key) or self._compile_entry(key, dyn_args, dyn_kwargs, statics)
        if entry.mesh is not None or any(isinstance(leaf, Tensor) and leaf._value.sharding is not None
                                         for leaf in leaves):
            return Lowered(self, entry, self._spmd_text(entry, self._spmd_layouts(entry, leaves)[1]))
        return Lowered(self, entry)

    def cache_info(self) -> dict:
        s = self.stats
        return {"hits": s.hits, "misses": s.misses, "size": len(self._cache),
                "max_size": self.cache_size,
                "compile_seconds": s.compile_seconds, "trace_seconds": s.trace_seconds,
                "last_miss_reason": s.last_miss_reason}

    def explain_cache_miss(self) -> str | None:
        """Why the last call that missed the cache missed it."""
        return self.stats.last_miss_reason

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._fast.clear()
            self._last_key = None


def _check_shardings(what: str, tree):
    """in_shardings / out_shardings: None, a NamedSharding, or a pytree of them and None."""
    if tree is None:
        return None
    bad = [s for s in tree_util.leaves(tree, lambda x: x is None or isinstance(x, NamedSharding))
           if s is not None and not isinstance(s, NamedSharding)]
    if bad:
        raise_error(ArgumentError, "jit", f"{what} takes nb.NamedSharding(mesh, nb.P(...)) "
                    f"entries (or None), got {type(bad[0]).__name__} {bad[0]!r:.40}")
    return tree


def _all_nodes(graph):
    """The nodes of `graph` and of the graphs its nodes hold (call, control flow, ...)."""
    for node in graph.nodes:
        yield node
        for p in node.params.values():
            inner = getattr(p, "graph", None)
            if inner is not None and hasattr(inner, "nodes"):
                yield from _all_nodes(inner)


def _fast_signature(args: tuple):
    """(key, leaves) for positional arguments that are tensors or flat lists/tuples of
    tensors (a training step's usual arguments), without the general pytree flattening;
    None for anything else. The key tells containers from tensors, so it never equals the
    signature of other arguments with the same leaves."""
    key, leaves = [], []
    for a in args:
        t = type(a)
        if t is Tensor:
            key.append(a._value.aval)
            leaves.append(a)
        elif t is list or t is tuple:
            avals = []
            for x in a:
                if type(x) is not Tensor:
                    return None
                avals.append(x._value.aval)
                leaves.append(x)
            key.append((t, tuple(avals)))
        else:
            return None
    return tuple(key), leaves


def _positional_params(fun) -> list[str] | None:
    """Names of the parameters that can be passed by position, or None if unknown."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


_PY_SCALARS = (bool, int, float)


def _host_scalar(leaf, aval: Aval) -> np.ndarray:
    """A dynamic Python scalar or array argument as an aligned host array of its aval."""
    try:
        return runtime.aligned_copy(np.asarray(leaf, aval.dtype.np))
    except OverflowError:
        raise_error(RangeError, "jit", f"the Python value {leaf!r} does not fit the argument's "
                    f"type {aval.short()} (Python ints are traced as int32; pass a tensor of a "
                    f"wider dtype or mark the argument static)")


def _sig_str(sig) -> str:
    if isinstance(sig, Aval):
        return sig.short() + (" (weak)" if sig.weak else "")
    if sig[0] == "py":
        return f"Python {sig[1].__name__}"
    return f"ndarray {np.dtype(sig[2])}{list(sig[1])}"


def _platform_of(place) -> str:
    """The platform of a device or mesh (None: the default device's)."""
    if isinstance(place, Mesh):
        return place.devices.flat[0].platform
    return (place or runtime.default_device()).platform


def _module_name(fun) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in getattr(fun, "__name__", "jit"))
    return f"jit_{name}" if name and not name[0].isdigit() else "jit_fn"


def jit(fun: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), donate_argnums: int | Sequence[int] = (),
        cache_size: int = DEFAULT_CACHE_SIZE, in_shardings=None, out_shardings=None):
    """Compile `fun` into one XLA executable per argument signature. The `cache_size` most
    recently used signatures (64 by default) stay compiled; older ones are dropped and
    compile again if they come back. `in_shardings` / `out_shardings` (a NamedSharding, or
    a pytree prefix of the arguments / results with NamedSharding or None leaves) lay the
    program out over a mesh: XLA's SPMD partitioner splits it (see nabla_like.sharding).

    Example:
        >>> @nb.jit
        ... def step(w, x):
        ...     return w - 0.1 * nb.grad(lambda w: nb.sum((x * w) ** 2))(w)
        >>> step(nb.ones((3,)), nb.ones((3,)))
        Tensor([0.8 0.8 0.8] : f32[3])
        >>> step.lower(nb.ones((3,)), nb.ones((3,))).as_text()  # the StableHLO
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, donate_argnums=donate_argnums,
                                 cache_size=cache_size, in_shardings=in_shardings,
                                 out_shardings=out_shardings)
    return Jitted(fun, static_argnums, static_argnames, donate_argnums, cache_size,
                  in_shardings, out_shardings)


def jit_signatures() -> int:
    """Signatures compiled and held by all jitted functions alive."""
    with _all_jitted_lock:
        jitted = list(_all_jitted)
    return sum(len(j._cache) for j in jitted)


def clear_jit_caches() -> None:
    with _all_jitted_lock:
        jitted = list(_all_jitted)
    for j in jitted:
        j.clear_cache()


__all__ = ["jit", "Jitted", "Lowered", "Compiled", "JitStats"]

