"""Optimizers in both styles over the same per-parameter math.

Functional, over pytrees (modules included), jit-friendly:

    >>> params = {"w": nb.tensor([1.0, -1.0])}
    >>> opt = nb.optim.SGD(lr=0.1)
    >>> state = opt.init(params)
    >>> grads = nb.grad(lambda p: nb.sum(p["w"] ** 2))(params)
    >>> params, state = opt.update(grads, state, params)
    >>> params["w"]
    Tensor([ 0.8 -0.8] : f32[2])

Stateful, PyTorch-style, updating the parameters' values in place from their `.grad`:

    >>> model = nb.nn.Linear(2, 1)
    >>> opt = nb.optim.AdamW(model.parameters(), lr=1e-3)
    >>> loss = nb.sum(model(nb.ones((3, 2))) ** 2)
    >>> loss.backward(); _ = opt.step(); opt.zero_grad()
    >>> model.weight.grad is None
    True

`lr` is a number or a schedule (a function of the step count: `cosine_decay`,
`warmup_cosine`, ...). Functional updates leave the buffers of modules alone
(`nb.nn.trainable`). Also here: gradient clipping by global norm, accumulation of
gradients over micro-batches (`accumulate`), and the empirical Fisher diagonal.
"""
from __future__ import annotations

import math
from typing import Callable

import nabla_like as nb  # public ops, read at call time

import numpy as np

from . import tree as tree_util
from .args import as_bool, as_callable, as_float, as_int, as_probability, class_op
from .core import context_stack, no_grad
from .errors import ArgumentError, ArgumentValueError, TreeError, UsageError, raise_error
from .tensor import Tensor


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------
def _non_negative(op: str, name: str, value) -> float:
    return as_float(op, name, value, min=0.0)


def _lr_arg(op: str, name: str, lr):
    """A learning rate: a non-negative number, or a schedule (a function of the step)."""
    return lr if callable(lr) else _non_negative(op, name, lr)


def _betas(op: str, name: str, betas) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise_error(ArgumentError, op, f"{name} must be a pair of numbers in [0, 1), got {betas!r}")
    return tuple(as_probability(op, name, b, below_one=True) for b in betas)


# How each optimizer hyperparameter is checked (PyTorch's checks, and the types).
_HYPER = {"lr": _lr_arg, "momentum": _non_negative, "dampening": as_float,
          "weight_decay": _non_negative, "eps": _non_negative, "alpha": _non_negative,
          "betas": _betas, "nesterov": as_bool, "maximize": as_bool, "amsgrad": as_bool,
          "centered": as_bool}


def _leaves(op: str, name: str, tree, leaves: list | None = None) -> list:
    """The leaves of `tree` (a pytree of tensors or NumPy arrays; a module included), or
    `leaves`, its leaves already flattened, checked."""
    leaves = tree_util.leaves(tree) if leaves is None else leaves
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, (Tensor, np.ndarray)):
            raise_error(ArgumentError, op, f"{name} must be a pytree of tensors, but leaf {i} is "
                        f"{leaf!r} of type {type(leaf).__name__}")
    return leaves


def _state(op: str, state, keys: tuple[str, ...]) -> dict:
    if not (isinstance(state, dict) and all(k in state for k in keys)):
        raise_error(ArgumentError, op, f"state must be the dict that init() returned (with "
                    f"{', '.join(keys)}), got {state!r:.80}")
    return state


def _tensors(op: str, name: str, values) -> list:
    """An iterable of tensors (a single tensor too, as PyTorch takes one) as a list."""
    if isinstance(values, Tensor):
        return [values]
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise_error(ArgumentError, op, f"{name} must be an iterable of tensors, got "
                    f"{type(values).__name__}")
    values = list(values)
    for v in values:
        if not isinstance(v, Tensor):
            raise_error(ArgumentError, op, f"{name} must be tensors, got {type(v).__name__}")
    return values


def _param_groups(op: str, params) -> list[dict]:
    """An optimizer's parameter groups from `params`: a module, an iterable of tensors, or
    one of dicts (groups) with a "params" entry; PyTorch's checks, and that some of them
    require grad (else step() never updates anything)."""
    if isinstance(params, nb.nn.Module):
        params = params.parameters()
    if isinstance(params, (Tensor, str, bytes, dict)) or not hasattr(params, "__iter__"):
        raise_error(ArgumentError, op, f"params must be an iterable of tensors or of dicts "
                    f"(parameter groups), got {type(params).__name__}")
    params = list(params)
    if not params:
        raise_error(ArgumentValueError, op, "params is empty: nothing to optimize (leave it out "
                    "for the functional style, init/update)")
    groups = params if isinstance(params[0], dict) else [{"params": params}]
    out = []
    for g in groups:
        if not isinstance(g, dict) or "params" not in g:
            raise_error(ArgumentError, op, f"a parameter group must be a dict with a 'params' "
                        f"entry, got {g!r:.80}")
        ps = _tensors(op, "params", g["params"])
        for p in ps:
            if p.dtype.kind != "f" or not p.is_leaf:
                raise_error(ArgumentValueError, op, f"can only optimize floating-point leaf "
                            f"tensors, got {p._value.aval.short()}"
                            + ("" if p.is_leaf else " computed by an operation"))
        out.append({**g, "params": ps})
    if not any(p.requires_grad for g in out for p in g["params"]):
        raise_error(ArgumentValueError, op, "no parameter requires grad, so step() would never "
                    "update one: make them with requires_grad=True (or take model.parameters())")
    return out


# ---------------------------------------------------------------------------
# Schedules: step count (an int, or a tensor under jit) -> learning rate
# ---------------------------------------------------------------------------
def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _cos(x):
    return nb.cos(x) if _is_tensor(x) else math.cos(x)


def _minimum(x, y):
    return nb.minimum(x, y) if _is_tensor(x) or _is_tensor(y) else min(x, y)


def _sqrt(x):
    return nb.sqrt(x) if _is_tensor(x) else math.sqrt(x)


def _float_step(step):
    return nb.cast(step, nb.float32) if _is_tensor(step) else float(step)


def constant(lr: float) -> Callable:
    """The schedule that is `lr` at every step (what a plain number as `lr` means).

    Example:
        >>> sched = nb.optim.constant(0.1)
        >>> sched(0), sched(1000)
        (0.1, 0.1)
    """
    lr = _non_negative("nb.optim.constant", "lr", lr)
    return lambda step: lr


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Callable:
    """lr * gamma ** (step // step_size) (PyTorch's StepLR, counted in optimizer steps).

    Example:
        >>> sched = nb.optim.step_decay(0.1, step_size=10, gamma=0.5)
        >>> [round(sched(s), 4) for s in (0, 9, 10, 25)]
        [0.1, 0.1, 0.05, 0.025]
    """
    op = "nb.optim.step_decay"
    lr, step_size = _non_negative(op, "lr", lr), as_int(op, "step_size", step_size, min=1)
    gamma = as_float(op, "gamma", gamma)
    return lambda step: lr * gamma ** _float_step(step // step_size)


def exponential_decay(lr: float, gamma: float) -> Callable:
    """lr * gamma ** step (PyTorch's ExponentialLR, counted in optimizer steps).

    Example:
        >>> sched = nb.optim.exponential_decay(1.0, gamma=0.9)
        >>> [round(sched(s), 4) for s in (0, 1, 2)]
        [1.0, 0.9, 0.81]
    """
    op = "nb.optim.exponential_decay"
    lr, gamma = _non_negative(op, "lr", lr), as_float(op, "gamma", gamma)
    return lambda step: lr * gamma ** _float_step(step)


def cosine_decay(lr: float, total_steps: int, final_lr: float = 0.0) -> Callable:
    """From lr to final_lr along half a cosine over total_steps, then final_lr (PyTorch's
    CosineAnnealingLR without restarts). Works on Python ints and on step tensors (jit).

    Example:
        >>> sched = nb.optim.cosine_decay(1.0, total_steps=100, final_lr=0.1)
        >>> [round(sched(s), 4) for s in (0, 50, 100, 200)]
        [1.0, 0.55, 0.1, 0.1]
    """
    op = "nb.optim.cosine_decay"
    lr, total_steps = _non_negative(op, "lr", lr), as_int(op, "total_steps", total_steps, min=1)
    final_lr = _non_negative(op, "final_lr", final_lr)

    def schedule(step):
        t = _minimum(_float_step(step), float(total_steps)) / total_steps
        return final_lr + (lr - final_lr) * 0.5 * (1.0 + _cos(math.pi * t))
    return schedule


def linear_warmup(schedule, warmup_steps: int) -> Callable:
    """`schedule` (a number or a schedule) scaled by a linear ramp that reaches 1 at
    warmup_steps.

    Example:
        >>> sched = nb.optim.linear_warmup(0.1, warmup_steps=4)
        >>> [round(sched(s), 4) for s in range(5)]
        [0.025, 0.05, 0.075, 0.1, 0.1]
    """
    op = "nb.optim.linear_warmup"
    schedule = _lr_arg(op, "schedule", schedule)
    warmup_steps = as_int(op, "warmup_steps", warmup_steps, min=0)
    inner = schedule if callable(schedule) else constant(schedule)

    def warm(step):
        return _minimum((_float_step(step) + 1.0) / warmup_steps, 1.0) * inner(step)
    return warm if warmup_steps > 0 else inner


def warmup_cosine(lr: float, warmup_steps: int, total_steps: int, final_lr: float = 0.0) -> Callable:
    """Linear warmup to lr over warmup_steps, then cosine decay to final_lr by
    total_steps (the usual transformer schedule).

    Example:
        >>> sched = nb.optim.warmup_cosine(1.0, warmup_steps=2, total_steps=10)
        >>> [round(sched(s), 4) for s in (0, 1, 2, 6, 10)]
        [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    op = "nb.optim.warmup_cosine"
    lr, final_lr = _non_negative(op, "lr", lr), _non_negative(op, "final_lr", final_lr)
    warmup_steps = as_int(op, "warmup_steps", warmup_steps, min=0)
    total_steps = as_int(op, "total_steps", total_steps, min=1)

    def schedule(step):
        if _is_tensor(step):
            decay = cosine_decay(lr, max(total_steps - warmup_steps, 1), final_lr)(
                nb.maximum(step - warmup_steps, 0))
            return nb.where(step < warmup_steps, lr * (_float_step(step) + 1.0) / max(warmup_steps, 1),
                            decay)
        if step < warmup_steps:
            return lr * (step + 1.0) / warmup_steps
        return cosine_decay(lr, max(total_steps - warmup_steps, 1), final_lr)(step - warmup_steps)
    return schedule


# ---------------------------------------------------------------------------
# Clipping
# ---------------------------------------------------------------------------
def global_norm(tree) -> Tensor:
    """sqrt of the sum of squares of every leaf of `tree` (the norm of all of it as one
    vector), in float32.

    Example:
        >>> nb.optim.global_norm({"w": nb.tensor([3.0, 0.0]), "b": nb.tensor(4.0)})
        Tensor(5. : f32[])
    """
    leaves = _leaves("nb.optim.global_norm", "tree", tree)
    return nb.sqrt(sum(nb.sum(nb.square(nb.cast(t, nb.float32))) for t in leaves))


def clip_by_global_norm(grads, max_norm: float):
    """`grads` scaled by min(1, max_norm / global_norm(grads)) (functional, as optax's
    clip_by_global_norm): the direction kept, the norm at most max_norm.

    Example:
        >>> g = nb.optim.clip_by_global_norm({"w": nb.tensor([3.0, 4.0])}, max_norm=1.0)
        >>> g["w"].numpy().round(4)
        array([0.6, 0.8], dtype=float32)
    """
    op = "nb.optim.clip_by_global_norm"
    max_norm = _non_negative(op, "max_norm", max_norm)
    _leaves(op, "grads", grads)
    norm = global_norm(grads)
    scale = nb.minimum(1.0, max_norm / (norm + 1e-6))
    return tree_util.map(lambda g: g * nb.cast(scale, g.dtype), grads)


def clip_grad_norm_(parameters, max_norm: float) -> Tensor:
    """Scale the `.grad` of `parameters` in place so that their global norm is at most
    max_norm (PyTorch's clip_grad_norm_); returns the norm before clipping.

    Example:
        >>> w = nb.tensor([1.0, 1.0], requires_grad=True)
        >>> nb.sum(w * nb.tensor([3.0, 4.0])).backward()
        >>> nb.optim.clip_grad_norm_([w], max_norm=1.0)
        Tensor(5. : f32[])
        >>> w.grad.numpy().round(4)
        array([0.6, 0.8], dtype=float32)
    """
    op = "nb.optim.clip_grad_norm_"
    max_norm = _non_negative(op, "max_norm", max_norm)
    if isinstance(parameters, nb.nn.Module):
        parameters = parameters.parameters()
    params = [p for p in _tensors(op, "parameters", parameters) if p._grad is not None]
    with no_grad():
        norm = global_norm([p._grad for p in params])
        scale = nb.minimum(1.0, max_norm / (norm + 1e-6))
        for p in params:
            p._grad = p._grad * nb.cast(scale, p._grad.dtype)
    return norm


# ---------------------------------------------------------------------------
# The optimizer base: one leaf rule, two styles
# ---------------------------------------------------------------------------
class Optimizer:
    """The base of the optimizers, with both styles over one per-parameter rule:
    functional (`state = opt.init(params)`; `params, state = opt.update(grads, state,
    params)`, over any pytree, jit-friendly) and stateful (`opt = SGD(model.parameters())`;
    `opt.step()` updates each parameter with a `.grad` in place; `opt.zero_grad()`).
    `params` may also be a list of parameter groups, dicts with "params" and their own
    hyperparameters, as in PyTorch.

    Subclasses define `defaults`, `_slots(p)` (the per-parameter state, a tuple of
    tensors) and `_leaf(g, p, slots, t, lr, h) -> (new_p, new_slots)` with `t` the step
    (1 for the first update) and `h` the hyperparameters.

    Example:
        >>> class SignSGD(nb.optim.Optimizer):
        ...     defaults = {"lr": 0.1}
        ...     def _slots(self, p):
        ...         return ()
        ...     def _leaf(self, g, p, slots, t, lr, h):
        ...         return p - lr * nb.sign(g), slots
        >>> opt = SignSGD()
        >>> params = {"w": nb.tensor([1.0, -1.0])}
        >>> params, state = opt.update({"w": nb.tensor([5.0, -0.1])}, opt.init(params), params)
        >>> params["w"]
        Tensor([ 0.9 -0.9] : f32[2])
    """

    defaults: dict = {}

    def __init__(self, params=None, **hyper):
        op = class_op(self)
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise_error(UsageError, op, f"unknown arguments {sorted(unknown)}; "
                        f"it takes {sorted(self.defaults)}")
        self.hyper = self._check(op, {**self.defaults, **hyper})
        self.state: dict[int, tuple] = {}
        self._step = 0
        self._counts: dict = {}    # device -> (step, the step as a tensor there)
        self._programs: dict = {}  # static hyperparameters -> the jitted update of a group
        self._seen: dict = {}      # (hyperparameters, leaf avals) -> updates seen, up to 2
        groups = [] if params is None else _param_groups(op, params)
        self.param_groups: list[dict] = [self._check(op, {**self.hyper, **g}) for g in groups]

    def _check(self, op: str, h: dict) -> dict:
        """`h` with its hyperparameters checked (and as Python floats and bools)."""
        return {**h, **{k: _HYPER[k](op, k, h[k]) for k in self.defaults if k in _HYPER}}

    def _lr(self, h: dict, t):
        lr = h["lr"]
        return lr(t - 1) if callable(lr) else lr

    # -- functional ------------------------------------------------------------------
    def init(self, params) -> dict:
        """The optimizer state for `params` (a pytree): the step count and each trainable
        leaf's slots."""
        leaves = _leaves(class_op(self, "init"), "params", params)
        flags = nb.nn.trainable(params)
        return {"step": nb.tensor(0, dtype=nb.int32),
                "slots": [self._slots(p) if f else () for p, f in zip(leaves, flags)]}

    def update(self, grads, state: dict, params):
        """(new params, new state) after one step with `grads` (the structure of `params`)."""
        op = class_op(self, "update")
        p_leaves, treedef = tree_util.flatten(params)
        g_leaves, g_def = tree_util.flatten(grads)
        _leaves(op, "params", params, p_leaves)
        _leaves(op, "grads", grads, g_leaves)
        if len(g_leaves) != len(p_leaves):
            raise_error(TreeError, op, f"grads have {len(g_leaves)} "
                        f"leaves but params have {len(p_leaves)} ({g_def} vs {treedef})")
        slots = _state(op, state, ("step", "slots"))["slots"]
        if not isinstance(slots, (list, tuple)) or len(slots) != len(p_leaves):
            raise_error(TreeError, op, f"state holds the slots of "
                        f"{len(slots) if isinstance(slots, (list, tuple)) else 'no'} leaves but "
                        f"params have {len(p_leaves)}: use the state init(params) returned")
        flags = nb.nn.trainable(params)
        h = self.hyper
        new_p, new_slots = list(p_leaves), list(state["slots"])
        live = [i for i, (g, f) in enumerate(zip(g_leaves, flags)) if f and g is not None]
        grads_live, params_live = [g_leaves[i] for i in live], [p_leaves[i] for i in live]
        slots_live = [new_slots[i] for i in live]
        with no_grad():
            counted = isinstance(state["step"], Tensor) and not callable(h["lr"])
            qs, ss, t = self._apply(grads_live, params_live, slots_live, state["step"],
                                    h, counted)
        for i, q, s in zip(live, qs, ss):
            new_p[i], new_slots[i] = q, s
        return tree_util.unflatten(treedef, new_p), {"step": t, "slots": new_slots}

    def _apply(self, grads: list, params: list, slots: list, before, h: dict,
               counted: bool) -> tuple[list, list, object]:
        """The leaf rule over lists of leaves after `before` steps (a tensor or an int):
        (new params, new slots, the count after this step). On eager tensors of one device
        it runs as one jitted program per group structure (what a fused optimizer does):
        one call instead of a dozen recorded ops per parameter; `counted` (a count tensor
        and a constant learning rate): that program also counts the step."""
        program = self._program(h, params, counted) if params else None
        if program is not None and counted:
            return program(grads, params, slots, before, h["lr"])
        t = before + 1
        lr = self._lr(h, t)
        if program is not None:
            return (*program(grads, params, slots, t, lr), t)
        return (*self._leaf_rule(grads, params, slots, t, lr, h), t)

    def _leaf_rule(self, grads: list, params: list, slots: list, t, lr, h: dict) -> tuple[list, list]:
        """The leaf rule applied to each leaf in turn."""
        out_p, out_s = [], []
        for g, p, s in zip(grads, params, slots):
            q, s = self._leaf(nb.cast(g, p.dtype), p, s, t, lr, h)
            out_p.append(q)
            out_s.append(s)
        return out_p, out_s

    def _program(self, h: dict, params: list, counted: bool = False):
        """The jitted group update for hyperparameters `h`, or None where the leaves are
        traced, on several devices or a mesh, or `h` holds an unhashable value, and for the
        first update of a set of leaves: only a set that repeats is worth a compilation (a
        mixture of experts updates a different subset of its parameters at each step).
        `counted`: a program that takes the step count before the update (a tensor) and
        also returns the count after it (not for a learning-rate schedule, which reads it)."""
        if (counted and callable(h["lr"])) or _one_device(params) is None:
            return None
        static = tuple(sorted((k, v) for k, v in h.items() if k not in ("params", "lr")))
        try:
            hash(static)
        except TypeError:
            return None
        shapes = (static, tuple(p._value.aval for p in params))
        seen = self._seen.get(shapes, 0)
        if seen < 2:
            if len(self._seen) >= 4096:  # (a bound for loops whose leaves never repeat)
                self._seen.clear()
            self._seen[shapes] = seen + 1
            if seen == 0:
                return None
        program = self._programs.get((static, counted))
        if program is None:
            fixed = dict(static)
            if counted:
                def rule(grads, params, slots, step, lr):
                    t = step + 1
                    return (*self._leaf_rule(grads, params, slots, t, lr, fixed), t)
            else:
                def rule(grads, params, slots, t, lr):
                    return self._leaf_rule(grads, params, slots, t, lr, fixed)
            program = self._programs[(static, counted)] = nb.jit(rule)
        return program

    # -- stateful ----------------------------------------------------------------------
    def step(self, closure: Callable | None = None):
        """Update every parameter that has a `.grad`, in place; `closure` (re-evaluating
        the loss) runs first when given, and its result is returned."""
        op = class_op(self, "step")
        if closure is not None:
            as_callable(op, "closure", closure)
        if not self.param_groups:
            raise_error(UsageError, op, "this optimizer was made "
                        "without parameters (functional style): use init/update, or pass "
                        "model.parameters()")
        loss = None
        if closure is not None:
            with nb.enable_grad():
                loss = closure()
        self._step += 1
        t = self._step
        counts: dict = {}
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p._grad is not None]
                slots = [self.state.get(id(p)) for p in params]
                slots = [self._slots(p) if s is None else s for p, s in zip(params, slots)]
                grads = [p._grad for p in params]
                # (the count as a tensor kept on the device: no transfer every step)
                device = _one_device(params)
                counted = device is not None and t < _COUNT_LIMIT and not callable(group["lr"])
                before = self._count(t - 1, device) if counted else t - 1
                new_ps, new_slots, count = self._apply(grads, params, slots, before, group,
                                                       counted)
                if isinstance(count, Tensor):
                    counts[device] = (t, count)
                for p, q, s in zip(params, new_ps, new_slots):
                    self.state[id(p)] = s
                    p.data = q
        self._counts.update(counts)  # (every group read the count before this step)
        return loss

    def _count(self, n: int, device) -> Tensor:
        """The step count `n` as an int32 tensor on `device`: the one the last step's
        program returned when it holds `n`."""
        hit = self._counts.get(device)
        if hit is not None and hit[0] == n:
            return hit[1]
        count = nb.tensor(n, dtype=nb.int32)
        return count if count._value.device is device else count.to(device)

    def zero_grad(self, set_to_none: bool = True) -> None:
        set_to_none = as_bool(class_op(self, "zero_grad"), "set_to_none", set_to_none)
        for group in self.param_groups:
            nb.zero_grad(group["params"], set_to_none=set_to_none)

    @property
    def lr(self):
        return self.param_groups[0]["lr"] if self.param_groups else self.hyper["lr"]

    @lr.setter
    def lr(self, value) -> None:
        value = _lr_arg(class_op(self, "lr"), "lr", value)
        for group in self.param_groups:
            group["lr"] = value
        self.hyper["lr"] = value

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({shown})"


def _one_device(params: list):
    """The device of `params` when they are eager tensors on one device (not a mesh) outside
    any trace, else None."""
    if not params or len(context_stack()) != 1:
        return None
    device = params[0]._value.device
    for p in params:
        v = p._value
        if v.ctx.level != 0 or v.device is not device or v.sharding is not None:
            return None
    return device


_COUNT_LIMIT = 2 ** 31 - 2  # counted in int32 on the device up to here, then as a Python int


def _zeros_like(p: Tensor) -> Tensor:
    return nb.zeros(p.shape, dtype=p.dtype)


class SGD(Optimizer):
    """p -= lr * g, with momentum (PyTorch's buffer: the first step stores g), dampening,
    Nesterov momentum and L2 weight decay; `maximize` ascends.

    Example:
        >>> w = nb.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = nb.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     nb.sum(w * w).backward()  # grad 2w
        ...     _ = opt.step()
        >>> w.numpy().round(4)
        array([0.46, 0.92], dtype=float32)
    """

    defaults = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                "nesterov": False, "maximize": False}

    def _check(self, op, h):
        h = super()._check(op, h)
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise_error(ArgumentValueError, op, "Nesterov momentum needs momentum > 0 and zero "
                        "dampening")
        return h

    def _slots(self, p):
        return (_zeros_like(p),) if self.hyper["momentum"] or any(
            g["momentum"] for g in self.param_groups) else ()

    def _leaf(self, g, p, slots, t, lr, h):
        g = -g if h["maximize"] else g
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        mu = h["momentum"]
        if mu:
            (buf,) = slots
            moved = mu * buf + (1.0 - h["dampening"]) * g
            buf = nb.where(t == 1, g, moved) if h["dampening"] else moved
            g = g + mu * buf if h["nesterov"] else buf
            slots = (buf,)
        return p - lr * g, slots


class Adam(Optimizer):
    """Adam with bias correction, L2 weight decay added to the gradient (PyTorch's Adam)
    and AMSGrad. The first step moves each weight by about lr against its gradient's sign.

    Example:
        >>> opt = nb.optim.Adam(lr=0.1)
        >>> params = {"w": nb.tensor([1.0, -2.0])}
        >>> state = opt.init(params)
        >>> params, state = opt.update({"w": nb.tensor([0.5, -3.0])}, state, params)
        >>> params["w"].numpy().round(4)
        array([ 0.9, -1.9], dtype=float32)
    """

    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                "amsgrad": False}
    decoupled = False

    def _slots(self, p):
        n = 3 if self.hyper["amsgrad"] or any(g["amsgrad"] for g in self.param_groups) else 2
        return tuple(_zeros_like(p) for _ in range(n))

    def _leaf(self, g, p, slots, t, lr, h):
        b1, b2 = h["betas"]
        wd = h["weight_decay"]
        if wd and self.decoupled:
            p = p * (1.0 - lr * wd)
        elif wd:
            g = g + wd * p
        m, v = slots[0], slots[1]
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        tf = _float_step(t)
        c1 = 1.0 - b1 ** tf
        c2 = 1.0 - b2 ** tf
        if h["amsgrad"]:
            vmax = nb.maximum(slots[2], v)
            denom, new = vmax, (m, v, vmax)
        else:
            denom, new = v, (m, v)
        step = (lr / c1) * m / (nb.sqrt(denom) / _sqrt(c2) + h["eps"])
        return p - nb.cast(step, p.dtype), new


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the step
    (PyTorch's AdamW; weight_decay 0.01 by default).

    Example:
        >>> model = nb.nn.Linear(2, 1)
        >>> opt = nb.optim.AdamW(model.parameters(), lr=1e-2)
        >>> opt
        AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)
        >>> nb.sum(model(nb.ones((4, 2)))).backward()
        >>> _ = opt.step()
        >>> opt.zero_grad()
        >>> model.weight.grad is None
        True
    """

    defaults = {**Adam.defaults, "weight_decay": 1e-2}
    decoupled = True


class RMSprop(Optimizer):
    """RMSprop (PyTorch's): a running mean of g**2 (centered: minus the mean's square),
    optional momentum and L2 weight decay.

    Example:
        >>> opt = nb.optim.RMSprop(lr=0.01, alpha=0.9)
        >>> params = nb.tensor([1.0, 1.0])
        >>> params, state = opt.update(nb.tensor([2.0, -0.5]), opt.init(params), params)
        >>> params.numpy().round(4)   # each moves lr / sqrt(1 - alpha)
        array([0.9684, 1.0316], dtype=float32)
    """

    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                "centered": False}

    def _slots(self, p):
        return (_zeros_like(p), _zeros_like(p), _zeros_like(p))  # g**2, g, momentum

    def _leaf(self, g, p, slots, t, lr, h):
        sq, avg_g, buf = slots
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        a = h["alpha"]
        sq = a * sq + (1.0 - a) * g * g
        if h["centered"]:
            avg_g = a * avg_g + (1.0 - a) * g
            denom = nb.sqrt(sq - avg_g * avg_g) + h["eps"]
        else:
            denom = nb.sqrt(sq) + h["eps"]
        if h["momentum"]:
            buf = h["momentum"] * buf + g / denom
            return p - lr * buf, (sq, avg_g, buf)
        return p - lr * g / denom, (sq, avg_g, buf)


# ---------------------------------------------------------------------------
# Gradient accumulation and second-order utilities
# ---------------------------------------------------------------------------
class accumulate:
    """A functional optimizer that averages the gradients of `every` calls and applies
    `opt` on the last of them (parameters unchanged in between); works under jit (the
    choice is an nb.cond).

    Example:
        >>> opt = nb.optim.accumulate(nb.optim.SGD(lr=0.1), every=2)
        >>> params = nb.tensor([1.0])
        >>> state = opt.init(params)
        >>> params, state = opt.update(nb.tensor([1.0]), state, params)
        >>> params          # waiting for the second micro-batch
        Tensor([1.] : f32[1])
        >>> params, state = opt.update(nb.tensor([3.0]), state, params)
        >>> params          # one step with the mean gradient, 2
        Tensor([0.8] : f32[1])
    """

    def __init__(self, opt: Optimizer, every: int):
        op = "nb.optim.accumulate"
        if not (callable(getattr(opt, "init", None)) and callable(getattr(opt, "update", None))):
            raise_error(ArgumentError, op, f"opt must be an optimizer (with init and update), got "
                        f"{type(opt).__name__}")
        self.opt, self.every = opt, as_int(op, "every", every, min=1)

    def init(self, params) -> dict:
        return {"inner": self.opt.init(params), "count": nb.tensor(0, dtype=nb.int32),
                "acc": tree_util.map(_zeros_like, params)}

    def update(self, grads, state: dict, params):
        op = "nb.optim.accumulate.update"
        _state(op, state, ("inner", "count", "acc"))
        _leaves(op, "grads", grads)
        with no_grad():
            acc = tree_util.map(lambda a, g: a + g, state["acc"], grads)
        count = state["count"] + 1

        def apply(operands):
            p, inner, a = operands
            mean = tree_util.map(lambda x: x / self.every, a)
            new_p, new_inner = self.opt.update(mean, inner, p)
            return new_p, new_inner, tree_util.map(_zeros_like, a)

        def wait(operands):
            return operands
        new_p, inner, acc = nb.cond(count == self.every, apply, wait, (params, state["inner"], acc))
        return new_p, {"inner": inner, "count": nb.where(count == self.every, 0, count), "acc": acc}


def empirical_fisher_diagonal(loss_fn: Callable, params, *batch):
    """The diagonal of the empirical Fisher information: the mean over the examples of
    the squared per-example gradients of `loss_fn(params, *example)` (each array of
    `batch` has the examples along axis 0). Returns a pytree like `params`.

    Example:
        >>> def loss(w, x, y):
        ...     return (nb.sum(w * x) - y) ** 2
        >>> x, y = nb.tensor([[1.0, 0.0], [0.0, 2.0]]), nb.tensor([1.0, 0.0])
        >>> nb.optim.empirical_fisher_diagonal(loss, nb.tensor([0.0, 0.5]), x, y)
        Tensor([2. 8.] : f32[2])
    """
    as_callable("nb.optim.empirical_fisher_diagonal", "loss_fn", loss_fn)
    per_example = nb.vmap(nb.grad(loss_fn), in_axes=(None,) + (0,) * len(batch))(params, *batch)
    return tree_util.map(lambda g: nb.mean(g * g, axis=0), per_example)


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "accumulate", "constant",
           "step_decay", "exponential_decay", "cosine_decay", "linear_warmup", "warmup_cosine",
           "global_norm", "clip_by_global_norm", "clip_grad_norm_", "empirical_fisher_diagonal"]
