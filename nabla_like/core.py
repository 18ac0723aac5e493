"""Primitives, contexts and `bind`: how an operation is recorded.

A `Primitive` is a name plus rules. Each rule has one fixed signature,
documented here once (arrays positional, static params keyword-only):

    abstract_eval(*avals, **params)            -> Aval | tuple[Aval, ...]
    jvp(primals, tangents, outs, **params)     -> tangent | tuple of tangents   (None = zero)
    vjp(cts, primals, outs, **params)          -> tuple of input cotangents     (None = zero)
    transpose(ct, *primals, **params)          -> tuple of input cotangents     (linear ops)
    batch(args, bdims, **params)               -> (out, out_bdim) | (outs, out_bdims)

A primitive whose backward pass needs values its forward pass computes inside (a scan's
per-iteration intermediates, a custom rule's residuals) may also declare a split rule,
which reverse mode prefers where it rewrites the forward pass:

    vjp_fwd(primals, **params)                 -> (node outputs, residuals)
    vjp_bwd(residuals, cts, **params)          -> tuple of input cotangents

`vjp_fwd` records ONE node on `primals` whose leading outputs are the primitive's own
(the rest may carry residuals); `residuals` are tensors of that node (outputs or inputs).
The plain `vjp` of such a primitive, if it has none, runs `vjp_fwd` again (recomputing).

`primals`, `tangents`, `outs` and `cts` are Tensors in the context the rule
runs in; single-output primitives take and return single tangents and
cotangents. A linear primitive declares `transpose` and gets its JVP (apply
the op to the tangents) and VJP (the transpose) for free.

A *context* is where recording happens: the lazy eager context (level 0,
leaves are device buffers) or a trace (level >= 1, leaves are abstract
inputs). An op records into the innermost context among its inputs; values
from outer contexts are captured as constants of the inner trace.
"""
from __future__ import annotations

import contextlib
import operator
import threading
from typing import Any, Callable

from .dtypes import INT_BOUNDS, DType, as_dtype, result_type, scalar_dtype
from .errors import ConcretizationError, RangeError, TracerLeakError, make_error, raise_error
from .ir import Aval, Node, Value, interned_aval, node_signature, param_key
from .tensor import Tensor

# ---------------------------------------------------------------------------
# Primitives
# ---------------------------------------------------------------------------
PRIMITIVES: dict[str, "Primitive"] = {}


class Primitive:
    """A named operation and its rules. See the module docstring for signatures."""

    def __init__(self, name: str, *, multiple_results: bool = False, linear: bool = False,
                 differentiable: bool = True):
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} registered twice")
        self.name = name
        self.multiple_results = multiple_results
        self.linear = linear
        self.differentiable = differentiable
        self.abstract_eval: Callable | None = None
        self.jvp: Callable | None = None
        self.vjp: Callable | None = None
        self.transpose: Callable | None = None
        self.batch: Callable | None = None
        self.vjp_fwd: Callable | None = None
        self.vjp_bwd: Callable | None = None
        # Optional peephole: fold(args, **params) -> Tensor | None, tried before recording
        # (constant splats through shape ops, x * 1, x + 0). See ops/folding.py.
        # `fold_eager`: the fold can apply in the eager context (to scalar literals).
        self.fold: Callable | None = None
        self.fold_eager = False
        # Estimated floating-point work of a node (scheduling hints only): one per output
        # element unless the primitive says otherwise (contractions do).
        self.flops: Callable = _output_elements
        # Optional: grad_flow(node, flags) -> one bool per output, whether it depends
        # differentiably on the inputs whose `flags` are set (requires_grad). Without it every
        # float output of a node with such an input requires grad; primitives holding graphs
        # say which outputs do, so that values computed under no_grad (or stop_gradient)
        # inside the graph carry no history, and a loop of calls builds no chain of nodes.
        self.grad_flow: Callable | None = None
        PRIMITIVES[name] = self

    def __repr__(self) -> str:
        return self.name

    # Decorators that attach rules; each returns the function unchanged.
    def def_abstract_eval(self, fn):
        self.abstract_eval = fn
        return fn

    def def_jvp(self, fn):
        self.jvp = fn
        return fn

    def def_vjp(self, fn):
        self.vjp = fn
        return fn

    def def_transpose(self, fn):
        self.transpose = fn
        if self.vjp is None:
            self.vjp = lambda ct, primals, outs, **params: fn(ct, *primals, **params)
        if self.jvp is None:
            self.jvp = _linear_jvp(self)
        return fn

    def def_batch(self, fn):
        self.batch = fn
        return fn

    def def_vjp_split(self, fwd, bwd) -> None:
        self.vjp_fwd, self.vjp_bwd = fwd, bwd
        if self.vjp is None:
            def vjp(cts, primals, outs, **params):
                _, residuals = fwd(primals, **params)
                return bwd(residuals, cts, **params)
            self.vjp = vjp

    def bind(self, *args: Tensor, **params):
        return bind(self, *args, **params)


def _output_elements(node) -> float:
    return float(sum(a.size for a in node.out_avals))


def _linear_jvp(prim: Primitive):
    def jvp(primals, tangents, outs, **params):
        if all(t is None for t in tangents):
            return None
        args = []
        for p, t in zip(primals, tangents):
            if t is not None:
                args.append(t)
            elif p.dtype.is_floating:
                args.append(zeros_like(p))
            else:  # integer operands (indices) pass through unchanged
                args.append(p)
        return bind(prim, *args, **params)
    return jvp


# ---------------------------------------------------------------------------
# Contexts
# ---------------------------------------------------------------------------
class Context:
    level: int = 0
    alive: bool = True
    name: str = "context"


class EagerContext(Context):
    """The lazy eager context: level 0, leaves are device buffers or scalar literals.

    One object serves every thread; what is pending belongs to the thread that
    recorded it (`lazy.py` keeps a tape per thread and installs `track`).
    """

    level = 0
    alive = True
    name = transform = "eager"

    def __repr__(self) -> str:
        return "EagerContext()"


EAGER = EagerContext()


class TraceContext(Context):
    """Records a graph whose leaves are abstract inputs.

    Values of outer contexts used inside are captured once each: they become
    extra inputs (`const_inputs`) fed with the outer values (`const_values`).
    """

    name = "trace"

    def __init__(self, transform: str = "trace"):
        self.level = len(_tls.stack)
        self.alive = True
        self.transform = transform
        self.inputs: list[Value] = []
        self.const_values: list[Value] = []
        self.const_inputs: list[Value] = []
        self._captured: dict[int, Value] = {}
        self.constants: dict[tuple, Value] = {}

    def new_input(self, aval: Aval) -> Value:
        v = Value(aval, None, 0, self)
        self.inputs.append(v)
        return v

    def lift(self, outer: Value) -> Value:
        inner = self._captured.get(outer.id)
        if inner is None:
            inner = Value(outer.aval, None, 0, self)
            inner.requires_grad = outer.requires_grad
            self._captured[outer.id] = inner
            self.const_values.append(outer)
            self.const_inputs.append(inner)
        return inner

    def release(self) -> None:
        """Drop the context's references to its Values once a Graph holds them: Values
        point at their context, so keeping both would make reference cycles that only
        the cycle collector frees."""
        self.inputs = []
        self.const_values = []
        self.const_inputs = []
        self._captured = {}
        self.constants = {}

    def __repr__(self) -> str:
        return f"TraceContext({self.transform}, level={self.level})"


class _ThreadState(threading.local):
    """What belongs to one thread, as PyTorch's grad mode does: the context stack (the
    eager context at the bottom, open traces above it) and the gradient recording mode.
    `grad_saved` holds the modes that no_grad/enable_grad blocks restore on exit, so one
    decorator object can be entered by several threads or recursively."""

    def __init__(self):
        self.stack: list[Context] = [EAGER]
        self.grad_enabled = True
        self.grad_depth = 0
        self.grad_saved: list[tuple[bool, int]] = []
        self.device = None  # set by nb.default_device(...); None: the process's first device


_tls = _ThreadState()
_new_tensor = object.__new__


def current_context() -> Context:
    return _tls.stack[-1]


def context_stack() -> list[Context]:
    """This thread's contexts, outermost (the eager context) first."""
    return _tls.stack


@contextlib.contextmanager
def new_trace(transform: str = "trace"):
    ctx = TraceContext(transform)
    stack = _tls.stack
    stack.append(ctx)
    try:
        yield ctx
    finally:
        ctx.alive = False
        stack.pop()


def is_tracing() -> bool:
    return len(_tls.stack) > 1


# ---------------------------------------------------------------------------
# Gradient recording mode (no_grad), per thread
# ---------------------------------------------------------------------------
def grad_recording(ctx: Context) -> bool:
    """Whether ops recorded in `ctx` now carry gradient history. `no_grad` turns it off
    for the contexts that exist when it is entered (`grad_depth` of them); traces opened
    inside it (a transform applied under no_grad) still differentiate normally."""
    s = _tls
    return s.grad_enabled or ctx.level >= s.grad_depth


def grad_enabled() -> bool:
    """Whether eager operations record gradient history in this thread (False inside
    `nb.no_grad()`, True again inside `nb.enable_grad()`), as torch.is_grad_enabled.

    Example:
        >>> nb.grad_enabled()
        True
        >>> with nb.no_grad():
        ...     nb.grad_enabled()
        False
    """
    return grad_recording(_tls.stack[-1])


class _SetGradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self._enabled = enabled

    def __enter__(self):
        s = _tls
        s.grad_saved.append((s.grad_enabled, s.grad_depth))
        s.grad_enabled = self._enabled
        if not self._enabled:
            s.grad_depth = len(s.stack)
        return self

    def __exit__(self, *exc):
        s = _tls
        s.grad_enabled, s.grad_depth = s.grad_saved.pop()
        return False


class no_grad(_SetGradMode):
    """Context manager and decorator: operations inside record no gradient history,
    and inside a transform they are constants to its derivatives. The mode belongs
    to the thread that enters it.

    Example:
        >>> w = nb.tensor([1.0, 2.0]).requires_grad_()
        >>> nb.sum(w * w).backward()
        >>> with nb.no_grad():
        ...     w -= 0.1 * w.grad
        >>> w
        Tensor([0.8 1.6] : f32[2])
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(_SetGradMode):
    """Context manager and decorator: record gradient history again inside no_grad, as
    torch.enable_grad. The mode belongs to the thread that enters it.

    Example:
        >>> w = nb.tensor([1.0, 2.0], requires_grad=True)
        >>> with nb.no_grad():
        ...     with nb.enable_grad():
        ...         y = nb.sum(w * w)
        >>> y.backward()
        >>> w.grad
        Tensor([2. 4.] : f32[2])
    """

    def __init__(self):
        super().__init__(True)


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------
_observers: list[Callable] = []  # debug hooks: called with (node, out Tensors)


def _track_unset(value: Value) -> None:
    raise RuntimeError("the lazy runtime is not loaded")


# Called with every Value recorded in the eager context; lazy.py installs its tape.
track: Callable[[Value], None] = _track_unset

def _default_device_unset() -> Any:
    return None


# The device new eager values go to when no operand has one (set by nabla_like.placement).
default_device: Callable[[], Any] = _default_device_unset


def mixed_devices(op: str, a, b):
    """Raise nb.DeviceError: one op's operands live on two devices."""
    from .errors import DeviceError
    raise_error(DeviceError, op, f"operands live on different devices, {a} and {b}; move one "
                f"with t.to(device) first (nabla_like never copies between devices implicitly)")


def device_of_values(op: str, vals) -> Any:
    """The one device among `vals` (literals have none), or the current default device."""
    dev = None
    for v in vals:
        d = v.device
        if d is not None and d is not dev:
            if dev is not None:
                mixed_devices(op, dev, d)
            dev = d
    return dev if dev is not None else default_device()


class _DonatedContext(Context):
    """Where a Value goes when jit donated its buffer: never alive, above every trace,
    so any later use of it stops in bind() at no cost to the normal path."""
    level = 1 << 30
    alive = False
    name = transform = "donated"


DONATED = _DonatedContext()


def _donated_error(op: str, v: Value):
    from .errors import JitError
    raise_error(JitError, op, f"this tensor {v.aval.short()} was donated to a jit call "
                f"(donate_argnums): its buffer now holds that call's output and it can no "
                f"longer be used")


def _leak(op: str, v: Value, target: Context):
    if v.ctx is DONATED:
        _donated_error(op, v)
    raise_error(TracerLeakError, op,
                f"a traced value {v.aval.short()} from a finished {getattr(v.ctx, 'transform', 'trace')} "
                f"was used outside of it (it escaped its transform, e.g. through a global, "
                f"a list, `self` or another thread); return it from the function instead")


def context_of(args) -> Context:
    """The innermost context among the Tensors in `args` (or the current one if none)."""
    target = None
    for a in args:
        if isinstance(a, Tensor):
            c = a._value.ctx
            if target is None or c.level > target.level:
                target = c
    return target if target is not None else _tls.stack[-1]


def _lift(ctx: Context, prim: Primitive, v: Value) -> Value:
    c = v.ctx
    if c is ctx:
        return v
    if not c.alive or c.level >= ctx.level or not _on_this_thread(ctx):
        _leak(prim.name, v, ctx)
    return ctx.lift(v)


def _on_this_thread(ctx: Context) -> bool:
    """A trace records only on the thread that opened it (its stack holds it)."""
    stack = _tls.stack
    return ctx.level < len(stack) and stack[ctx.level] is ctx


def _target(prim: Primitive, args) -> Context:
    """The innermost context among the arguments (the current one if there are none);
    a dead one, or a trace of another thread, means a traced value escaped."""
    ctx = None
    for a in args:
        c = a._value.ctx
        if ctx is None or c.level > ctx.level:
            ctx = c
    if ctx is None:
        return _tls.stack[-1]
    if ctx.level and (not ctx.alive or not _on_this_thread(ctx)):
        _leak(prim.name, next(a._value for a in args if a._value.ctx is ctx), ctx)
    return ctx


# (primitive, params key, input avals) -> (out aval(s), node signature): a shape rule runs
# once per distinct signature, and nodes of one signature share one `sig` id (an int, see
# ir.node_signature), which makes structural keys cheap to hash and compare. Bounded:
# cleared when it grows large.
_rule_cache: dict[tuple, tuple] = {}
_RULE_CACHE_SIZE = 65536


def _abstract_eval(prim: Primitive, avals, params: dict) -> tuple:
    pkey = param_key(params) if params else ()
    key = (prim, pkey, *avals) if params else (prim, *avals)
    try:
        hit = _rule_cache.get(key)
    except TypeError:  # an unhashable param: no caching, and no structural sharing
        hit = None
        key = None
    if hit is None:
        out = prim.abstract_eval(*avals, **params)
        # (interned: values of one shape and dtype share one Aval, which keys compare by
        # identity)
        out_avals = tuple(interned_aval(a.shape, a.dtype, a.weak)
                          for a in (out if prim.multiple_results else (out,)))
        hit = (out_avals, node_signature(prim, params, out_avals))
        if key is not None:
            if len(_rule_cache) >= _RULE_CACHE_SIZE:
                _rule_cache.clear()
            _rule_cache[key] = hit
    return hit


def _output_values(node: Node, ctx: Context) -> list[Value]:
    """The output Values of a new node, with gradient tracking from its inputs."""
    prim = node.prim
    rg = False
    for v in node.inputs:
        if v.requires_grad:
            rg = True
            break
    rg = rg and prim.differentiable and grad_recording(ctx)
    flow = prim.grad_flow(node, [v.requires_grad for v in node.inputs]) \
        if rg and prim.grad_flow is not None else None
    outs = []
    for i, aval in enumerate(node.out_avals):
        value = Value(aval, node, i, ctx)
        if rg and aval.dtype.kind == "f" and (flow is None or flow[i]):
            value.requires_grad = True
        outs.append(value)
    if ctx.level == 0:
        dev = device_of_values(prim.name, node.inputs)
        for value in outs:
            value.device = dev
            track(value)
    return outs


def _finish(ctx: Context, prim: Primitive, result):
    """Inside traces, cut what no_grad computed."""
    if ctx.level != 0 and prim.differentiable and not grad_recording(ctx):
        result = _constant_under_no_grad(result)
    return result


def record(ctx: Context, prim: Primitive, vals: list[Value], params: dict) -> list[Value] | Value:
    """Record `prim(*vals, **params)` in `ctx` and return its output Value(s)."""
    for v in vals:
        if v.ctx is not ctx:
            vals = [_lift(ctx, prim, v) for v in vals]
            break
    out_avals, sig = _abstract_eval(prim, [v.aval for v in vals], params)
    outs = _output_values(Node(prim, params, tuple(vals), out_avals, sig), ctx)
    return outs if prim.multiple_results else outs[0]


def record_known(ctx: Context, prim: Primitive, vals: list[Value], params: dict,
                 out_avals: tuple[Aval, ...], sig) -> list[Value]:
    """Record a node whose output avals and signature are already known (its shape rule ran
    when they were made), with gradient tracking from `vals`, all in `ctx`."""
    return _output_values(Node(prim, params, tuple(vals), out_avals, sig), ctx)


def _folds_here(prim: Primitive, ctx: Context, args) -> bool:
    """Whether prim's peephole fold may apply: in traces always; in the eager context only
    for folds that act there and when an operand is a scalar literal."""
    return ctx.level != 0 or (prim.fold_eager and _has_literal(args))


def bind(prim: Primitive, *args: Tensor, **params):
    """Apply `prim` to Tensors in their innermost context; returns Tensor(s).

    This is the hot path of eager code: for a single-output primitive whose operands all
    live in one context it is one pass over the operands, one lookup of the cached shape
    rule and the new Value (multi-output primitives and mixed contexts take `record`).
    """
    ctx = None
    same = True
    for a in args:
        c = a._value.ctx
        if ctx is None:
            ctx = c
        elif c is not ctx:
            same = False
            if c.level > ctx.level:
                ctx = c
    if ctx is None:
        ctx = _tls.stack[-1]
    elif ctx.level and (not ctx.alive or not _on_this_thread(ctx)):
        _leak(prim.name, next(a._value for a in args if a._value.ctx is ctx), ctx)
    fold = prim.fold  # the test of _folds_here, inlined on the hot path
    if fold is not None and (ctx.level != 0 or (prim.fold_eager and _has_literal(args))):
        folded = fold(args, **params)
        if folded is not None:
            return folded
    if prim.multiple_results or not same:
        outs = record(ctx, prim, [a._value for a in args], params)
        result = _finish(ctx, prim, tuple(Tensor._wrap(v) for v in outs)
                         if prim.multiple_results else Tensor._wrap(outs))
    else:
        vals = []
        avals = []
        rg = False
        dev = None
        for a in args:
            v = a._value
            vals.append(v)
            avals.append(v.aval)
            if v.requires_grad:
                rg = True
            d = v.device
            if d is not None and d is not dev:
                if dev is not None:
                    mixed_devices(prim.name, dev, d)
                dev = d
        key = (prim, param_key(params), *avals) if params else (prim, *avals)
        try:
            hit = _rule_cache.get(key)
        except TypeError:  # an unhashable param (see _abstract_eval)
            hit = None
        if hit is None:
            hit = _abstract_eval(prim, avals, params)
        (out,), sig = hit
        value = Value(out, Node(prim, params, tuple(vals), (out,), sig), 0, ctx)
        if rg and prim.differentiable and out.dtype.kind == "f" and grad_recording(ctx):
            value.requires_grad = True
        result = _new_tensor(Tensor)
        result._value = value
        result._grad = None
        if ctx.level == 0:
            value.device = dev if dev is not None else default_device()
            track(value)
        elif prim.differentiable and not grad_recording(ctx):
            result = _constant_under_no_grad(result)
    if _observers:
        for obs in _observers:
            obs(prim, args, params, result)
    return result


def _has_literal(args) -> bool:
    for a in args:
        if a._value.literal is not None:
            return True
    return False


def _constant_under_no_grad(result):
    """Inside a transform, what `no_grad` computes is a constant to every derivative:
    float outputs pass through stop_gradient (the lazy context needs no marker, since
    there requires_grad simply does not propagate)."""
    stop = PRIMITIVES["stop_gradient"]

    def cut(t: Tensor) -> Tensor:
        return bind(stop, t) if t.dtype.kind == "f" else t
    return tuple(cut(t) for t in result) if isinstance(result, tuple) else cut(result)


def replay(node: Node, args: list[Tensor]):
    """Re-apply a recorded node to new arguments of the same avals (graph replay).

    The node's shape rule has already run and its output avals and signature carry
    over, so this skips bind()'s abstract evaluation (folding still applies: a constant
    argument may make the op trivial). Constants replayed into the lazy context
    become literal leaves, so their values stay program inputs.
    """
    prim = node.prim
    if prim is full_p:
        p = node.params
        return full_in(_tls.stack[-1], p["shape"], p["value"], p["dtype"], p["weak"])
    ctx = _target(prim, args)
    if prim.fold is not None and _folds_here(prim, ctx, args):
        folded = prim.fold(args, **node.params)
        if folded is not None:
            return folded
    vals = [a._value for a in args]
    for v in vals:
        if v.ctx is not ctx:
            vals = [_lift(ctx, prim, v) for v in vals]
            break
    outs = [Tensor._wrap(v) for v in _output_values(node.copy_to(tuple(vals)), ctx)]
    return _finish(ctx, prim, tuple(outs) if prim.multiple_results else outs[0])


# ---------------------------------------------------------------------------
# Constants and conversion of Python values
# ---------------------------------------------------------------------------
full_p = Primitive("full", differentiable=False)


@full_p.def_abstract_eval
def _full_abstract_eval(*, value, shape, dtype, weak=False):
    return Aval(shape, dtype, weak)


@full_p.def_batch
def _full_batch(args, bdims, **params):
    return bind(full_p, **params), None


full_p.def_jvp(lambda primals, tangents, outs, **params: None)
full_p.def_vjp(lambda ct, primals, outs, **params: ())


def _canonical_scalar(value, dtype: DType, op: str, weak: bool = False):
    """`value` as the Python scalar a constant of `dtype` holds. A number the dtype cannot
    hold raises RangeError (NumPy 2 and JAX raise OverflowError) instead of wrapping
    around; a float becomes an integer by truncation, as a cast does."""
    kind = dtype.kind
    if kind == "f":
        if type(value) is float:
            return value
        try:
            return float(value)
        except OverflowError:
            _range_error(op, value, dtype, weak)
    if kind == "b":
        return bool(value)
    if type(value) is not int:
        try:
            value = operator.index(value)  # bools and NumPy integers, exactly
        except TypeError:
            f = float(value)
            if f != f or f in (float("inf"), float("-inf")):
                _range_error(op, value, dtype, weak)
            value = int(f)
    lo, hi = INT_BOUNDS[dtype]
    if not lo <= value <= hi:
        _range_error(op, value, dtype, weak)
    return value


def _range_error(op: str, value, dtype: DType, weak: bool):
    text = repr(value)
    if len(text) > 40:
        text = f"{text[:12]}...{text[-4:]} ({len(text)} digits)"
    what = f"the Python {type(value).__name__} {text}"
    if dtype.kind == "f":
        raise_error(RangeError, op, f"{what} is too large to convert to {dtype}")
    if dtype.kind not in "iu" or not isinstance(value, int):
        raise_error(RangeError, op, f"{what} cannot be converted to {dtype}")
    lo, hi = INT_BOUNDS[dtype]
    # A bare Python int is a weak int32 (as in JAX): a wider one needs a wider tensor.
    hint = (f"; Python ints alone are {dtype}: for a wider integer use a tensor "
            f"(nb.tensor(n, dtype=nb.int64))" if weak and dtype.kind == "i" else "")
    raise_error(RangeError, op, f"{what} is out of range for {dtype} ({lo} to {hi}){hint}")


def full_in(ctx: Context, shape: tuple[int, ...], value, dtype: DType, weak: bool = False,
            op: str = "constant") -> Tensor:
    """A constant splat tensor recorded in `ctx` (a literal leaf in the lazy context).
    `value` must fit `dtype` (else RangeError naming `op`)."""
    value = _canonical_scalar(value, dtype, op, weak)
    if not ctx.alive:  # next to a dead or donated value: the op using it will raise
        ctx = _tls.stack[-1]
    if ctx.level == 0:
        v = Value(interned_aval(shape, dtype, weak), None, 0, ctx)
        v.literal = value
        return Tensor._wrap(v)
    # One node per distinct constant in a trace (value and type included: 0.0 != -0.0 != 0).
    key = (repr(value), shape, dtype, weak)
    out = ctx.constants.get(key)
    if out is None:
        out = record(ctx, full_p, [], {"value": value, "shape": shape, "dtype": dtype, "weak": weak})
        ctx.constants[key] = out
    return Tensor._wrap(out)


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor of `shape` filled with `fill_value`.

    Example:
        >>> nb.full((2, 3), 7.0)
    """
    shape = _as_shape(shape)
    if isinstance(fill_value, Tensor):
        from .ops.shape import broadcast_to
        t = fill_value if dtype is None else fill_value.astype(dtype)
        return broadcast_to(t, shape)
    if dtype is None:
        dtype = scalar_dtype(fill_value) if not hasattr(fill_value, "dtype") else as_dtype(fill_value.dtype)
    return full_in(_tls.stack[-1], shape, fill_value, as_dtype(dtype))


def zeros_like(x: Tensor, dtype=None) -> Tensor:
    d = x.dtype if dtype is None else as_dtype(dtype)
    return full_in(x._value.ctx, x.shape, 0, d)


def _as_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(d) for d in shape)


def scalar_in(ctx: Context, x) -> Tensor:
    """A Python scalar as a weak-typed 0-d tensor in `ctx`."""
    return full_in(ctx, (), x, scalar_dtype(x), weak=True)


def concrete_check(t: Tensor, what: str) -> None:
    """Raise if `t` is abstract (being traced) and `what` needs its value.

    The error records the transforms being traced (`err.transforms`, outermost first),
    so that an eager grad/vjp/jvp can fall back to running on concrete values."""
    ctx = t._value.ctx
    if ctx.level != 0:
        if not ctx.alive or not _on_this_thread(ctx):
            _leak(what, t._value, ctx)
        transforms = tuple(getattr(c, "transform", "trace") for c in _tls.stack[1:ctx.level + 1])
        err = make_error(ConcretizationError, what,
                         f"the value of a traced tensor {t._value.aval.short()} is not known while "
                         f"tracing under {' inside '.join(reversed(transforms))}; Python control "
                         f"flow (if, while, bool(), int(), .item()) needs concrete values. "
                         f"Branch with nb.cond or nb.switch, loop with nb.while_loop, "
                         f"nb.fori_loop or nb.scan, choose elementwise with nb.where, or mark "
                         f"the argument static (static_argnums) under jit. Outside jit and "
                         f"vmap, grad, vjp and jvp run such code on concrete values")
        err.transforms = transforms
        raise err.with_traceback(None) from None


def dtype_join(*avals: Aval) -> tuple[DType, bool]:
    return result_type(*[(a.dtype, a.weak) for a in avals])

