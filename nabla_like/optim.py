"""Optimizers in both styles over the same per-parameter math.

Functional, over pytrees (modules included), jit-friendly:

    >>> opt = nb.optim.Adam(lr=1e-3)
    >>> state = opt.init(params)
    >>> params, state = opt.update(grads, state, params)

Stateful, PyTorch-style, updating the parameters' values in place from their `.grad`:

    >>> opt = nb.optim.AdamW(model.parameters(), lr=1e-3)
    >>> loss.backward(); opt.step(); opt.zero_grad()

`lr` is a number or a schedule (a function of the step count: `cosine_decay`,
`warmup_cosine`, ...). Functional updates leave the buffers of modules alone
(`nb.nn.trainable`). Also here: gradient clipping by global norm, accumulation of
gradients over micro-batches (`accumulate`), and the empirical Fisher diagonal.
"""
from __future__ import annotations

import math
from typing import Callable

import nabla_like as nb  # public ops, read at call time

from . import tree as tree_util
from .core import no_grad
from .errors import TreeError, UsageError, raise_error
from .tensor import Tensor


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
    return lambda step: lr


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Callable:
    """lr * gamma ** (step // step_size) (PyTorch's StepLR, counted in optimizer steps)."""
    return lambda step: lr * gamma ** _float_step(step // step_size)


def exponential_decay(lr: float, gamma: float) -> Callable:
    return lambda step: lr * gamma ** _float_step(step)


def cosine_decay(lr: float, total_steps: int, final_lr: float = 0.0) -> Callable:
    """From lr to final_lr along half a cosine over total_steps, then final_lr."""
    def schedule(step):
        t = _minimum(_float_step(step), float(total_steps)) / total_steps
        return final_lr + (lr - final_lr) * 0.5 * (1.0 + _cos(math.pi * t))
    return schedule


def linear_warmup(schedule, warmup_steps: int) -> Callable:
    """`schedule` (a number or a schedule) scaled by a linear ramp that reaches 1 at
    warmup_steps."""
    inner = schedule if callable(schedule) else constant(schedule)

    def warm(step):
        return _minimum((_float_step(step) + 1.0) / warmup_steps, 1.0) * inner(step)
    return warm if warmup_steps > 0 else inner


def warmup_cosine(lr: float, warmup_steps: int, total_steps: int, final_lr: float = 0.0) -> Callable:
    """Linear warmup to lr, then cosine decay to final_lr by total_steps."""
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
    """sqrt of the sum of squares of every leaf of `tree`."""
    leaves = [t for t in tree_util.leaves(tree) if t is not None]
    return nb.sqrt(sum(nb.sum(nb.square(nb.cast(t, nb.float32))) for t in leaves))


def clip_by_global_norm(grads, max_norm: float):
    """`grads` scaled by min(1, max_norm / global_norm(grads)) (functional)."""
    norm = global_norm(grads)
    scale = nb.minimum(1.0, max_norm / (norm + 1e-6))
    return tree_util.map(lambda g: g * nb.cast(scale, g.dtype), grads)


def clip_grad_norm_(parameters, max_norm: float) -> Tensor:
    """Scale the `.grad` of `parameters` in place so that their global norm is at most
    max_norm (PyTorch's clip_grad_norm_); returns the norm before clipping."""
    params = [p for p in (parameters.parameters() if isinstance(parameters, nb.nn.Module)
                          else parameters) if p._grad is not None]
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
    """Subclasses define `defaults`, `_slots(p)` (the per-parameter state, a tuple of
    tensors) and `_leaf(g, p, slots, t, lr, h) -> (new_p, new_slots)` with `t` the step
    (1 for the first update) and `h` the hyperparameters."""

    defaults: dict = {}

    def __init__(self, params=None, **hyper):
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise_error(UsageError, type(self).__name__, f"unknown arguments {sorted(unknown)}; "
                        f"it takes {sorted(self.defaults)}")
        self.hyper = {**self.defaults, **hyper}
        self._check(self.hyper)
        self.param_groups: list[dict] = []
        self.state: dict[int, tuple] = {}
        self._step = 0
        if params is not None:
            if isinstance(params, nb.nn.Module):
                params = params.parameters()
            params = list(params)
            groups = params if params and isinstance(params[0], dict) else [{"params": params}]
            for g in groups:
                group = {**self.hyper, **g, "params": list(g["params"])}
                self._check(group)
                for p in group["params"]:
                    if not isinstance(p, Tensor):
                        raise_error(UsageError, type(self).__name__, f"parameters must be "
                                    f"tensors, got {type(p).__name__}")
                self.param_groups.append(group)

    def _check(self, h: dict) -> None:
        lr = h.get("lr")
        if not callable(lr) and not (isinstance(lr, (int, float)) and lr >= 0):
            raise_error(UsageError, type(self).__name__, f"lr must be a non-negative number or "
                        f"a schedule, got {lr!r}")

    def _lr(self, h: dict, t):
        lr = h["lr"]
        return lr(t - 1) if callable(lr) else lr

    # -- functional ------------------------------------------------------------------
    def init(self, params) -> dict:
        """The optimizer state for `params` (a pytree): the step count and each trainable
        leaf's slots."""
        leaves = tree_util.leaves(params)
        flags = nb.nn.trainable(params)
        return {"step": nb.tensor(0, dtype=nb.int32),
                "slots": [self._slots(p) if f else () for p, f in zip(leaves, flags)]}

    def update(self, grads, state: dict, params):
        """(new params, new state) after one step with `grads` (the structure of `params`)."""
        p_leaves, treedef = tree_util.flatten(params)
        g_leaves, g_def = tree_util.flatten(grads)
        if len(g_leaves) != len(p_leaves):
            raise_error(TreeError, f"{type(self).__name__}.update", f"grads have {len(g_leaves)} "
                        f"leaves but params have {len(p_leaves)} ({g_def} vs {treedef})")
        flags = nb.nn.trainable(params)
        t = state["step"] + 1
        h = self.hyper
        lr = self._lr(h, t)
        new_p, new_slots = [], []
        with no_grad():
            for p, g, s, f in zip(p_leaves, g_leaves, state["slots"], flags):
                if not f or g is None:
                    new_p.append(p)
                    new_slots.append(s)
                    continue
                q, s = self._leaf(nb.cast(g, p.dtype), p, s, t, lr, h)
                new_p.append(q)
                new_slots.append(s)
        return tree_util.unflatten(treedef, new_p), {"step": t, "slots": new_slots}

    # -- stateful ----------------------------------------------------------------------
    def step(self, closure: Callable | None = None):
        """Update every parameter that has a `.grad`, in place; `closure` (re-evaluating
        the loss) runs first when given, and its result is returned."""
        if not self.param_groups:
            raise_error(UsageError, f"{type(self).__name__}.step", "this optimizer was made "
                        "without parameters (functional style): use init/update, or pass "
                        "model.parameters()")
        loss = None
        if closure is not None:
            with nb.enable_grad():
                loss = closure()
        self._step += 1
        t = self._step
        with no_grad():
            for group in self.param_groups:
                lr = self._lr(group, t)
                for p in group["params"]:
                    if p._grad is None:
                        continue
                    slots = self.state.get(id(p))
                    if slots is None:
                        slots = self._slots(p)
                    new_p, slots = self._leaf(nb.cast(p._grad, p.dtype), p, slots, t, lr, group)
                    self.state[id(p)] = slots
                    p.data = new_p
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            nb.zero_grad(group["params"], set_to_none=set_to_none)

    @property
    def lr(self):
        return self.param_groups[0]["lr"] if self.param_groups else self.hyper["lr"]

    @lr.setter
    def lr(self, value) -> None:
        for group in self.param_groups:
            group["lr"] = value
        self.hyper["lr"] = value

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({shown})"


def _zeros_like(p: Tensor) -> Tensor:
    return nb.zeros(p.shape, dtype=p.dtype)


class SGD(Optimizer):
    """p -= lr * g, with momentum (PyTorch's buffer: the first step stores g), dampening,
    Nesterov momentum and L2 weight decay."""

    defaults = {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                "nesterov": False, "maximize": False}

    def _check(self, h):
        super()._check(h)
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise_error(UsageError, "SGD", "Nesterov momentum needs momentum > 0 and zero dampening")

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
    and AMSGrad."""

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
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the step."""

    defaults = {**Adam.defaults, "weight_decay": 1e-2}
    decoupled = True


class RMSprop(Optimizer):
    """RMSprop (PyTorch's): a running mean of g**2 (centered: minus the mean's square),
    optional momentum and L2 weight decay."""

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
        >>> opt = nb.optim.accumulate(nb.optim.SGD(lr=0.1), every=4)
    """

    def __init__(self, opt: Optimizer, every: int):
        if not isinstance(every, int) or every < 1:
            raise_error(UsageError, "accumulate", f"every must be a positive int, got {every!r}")
        self.opt, self.every = opt, every

    def init(self, params) -> dict:
        return {"inner": self.opt.init(params), "count": nb.tensor(0, dtype=nb.int32),
                "acc": tree_util.map(_zeros_like, params)}

    def update(self, grads, state: dict, params):
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
    `batch` has the examples along axis 0). Returns a pytree like `params`."""
    per_example = nb.vmap(nb.grad(loss_fn), in_axes=(None,) + (0,) * len(batch))(params, *batch)
    return tree_util.map(lambda g: nb.mean(g * g, axis=0), per_example)


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "accumulate", "constant",
           "step_decay", "exponential_decay", "cosine_decay", "linear_warmup", "warmup_cosine",
           "global_norm", "clip_by_global_norm", "clip_grad_norm_", "empirical_fisher_diagonal"]
