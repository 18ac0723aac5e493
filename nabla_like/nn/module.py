"""`Module`: parameters as attributes, usable in both styles over one object.

A Module is a pytree: its tensors, submodules and containers of them are children, every
other attribute (sizes, flags, `training`, which names are buffers) is static structure.
So the same object works

* imperatively, as in PyTorch: float tensors assigned to a module outside any transform
  become parameters (`requires_grad`), `loss.backward()` fills their `.grad`, and a
  stateful optimizer (`nb.optim.Adam(model.parameters())`) updates them in place;
* functionally, as in JAX: `nb.value_and_grad(loss)(model, x)` returns gradients as a
  module of the same structure, `nb.jit(step)(model, ...)` takes and returns modules, and
  functional optimizers map over them.

Why attributes and not a separate parameter dict (hard to undo): PyTorch users write
`self.weight = ...` and `model.fc1.weight`, and JAX users expect modules to be pytrees;
reading the attribute dictionary in insertion order gives both, with no wrapper class.
Buffers (running statistics, frozen weights) are named in `_buffers`: they are children
too (jit feeds them as inputs) but not parameters, so optimizers leave them alone. A
buffer of integers (NF4 codes) is static structure instead, so that grad over a module
never meets a non-float leaf.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Iterator

import numpy as np

from .. import tree as tree_util
from ..args import as_bool, as_str, class_op
from ..errors import ArgumentError, ArgumentValueError, ShapeError, UsageError, raise_error
from ..tensor import Tensor


def _is_data(value) -> bool:
    """Whether an attribute value holds tensors or modules (a child of the pytree)."""
    if isinstance(value, (Tensor, Module)):
        return True
    return isinstance(value, (list, tuple, dict)) and _holds_data(value)


def _holds_data(x) -> bool:
    """Whether a tensor or a module is among the leaves of `x` (walked without building
    its structure: this runs on every flatten of a module, so on every jit call)."""
    if isinstance(x, (Tensor, Module)):
        return True
    c = tree_util._children(x)
    return c is not None and any(_holds_data(child) for child in c[2])


class _Static:
    """A static attribute value in a module's tree structure: compared by equality where it
    is hashable, by identity otherwise (a list of sizes, a function)."""

    __slots__ = ("value", "key", "hash")

    def __init__(self, value):
        self.value = value
        # (made once: a module's structure is hashed and compared on every flatten)
        key = (0, value)
        try:
            h = hash(key)
        except TypeError:
            key = (1, id(value))
            h = hash(key)
        self.key, self.hash = key, h

    def __eq__(self, other) -> bool:
        return isinstance(other, _Static) and type(self.value) is type(other.value) \
            and self.key == other.key

    def __hash__(self) -> int:
        return self.hash


class _Layout:
    """A module's pytree structure (the aux data of its node): the names of its children
    and its static attributes, hashed once. `entries` lists every attribute in the order of
    the module's attributes, with its _Static, or None for a child.

    The layout a module was last flattened with (or unflatten built it from) is kept in
    `_layouts`: the next flatten only checks that each attribute is still the one the
    layout saw, instead of classifying and hashing them all again (a jit call or an
    optimizer step flattens the model several times)."""

    __slots__ = ("entries", "names", "statics", "hash")

    def __init__(self, entries: tuple):
        self.entries = entries
        self.names = tuple(name for name, s in entries if s is None)
        self.statics = tuple((name, s) for name, s in entries if s is not None)
        self.hash = hash((self.names, self.statics))

    def __eq__(self, other) -> bool:
        return isinstance(other, _Layout) and self.hash == other.hash \
            and self.names == other.names and self.statics == other.statics

    def __hash__(self) -> int:
        return self.hash

    def __repr__(self) -> str:
        return repr((self.names, tuple((name, s.value) for name, s in self.statics)))


# id(module) -> (a weak reference to it, its last _Layout). Kept outside the module, so a
# module has no attribute for it and no slot (which would keep subclasses from mixing in
# other classes with slots). The entry goes when the module dies (the layout holds its
# static values, which may be large), and the weak reference tells a reused id apart.
_layouts: dict[int, tuple] = {}
_LAYOUTS_SIZE = 65536  # (a bound all the same)


class _Ref(weakref.ref):
    __slots__ = ("key",)


def _forget(ref: _Ref) -> None:
    hit = _layouts.get(ref.key)
    if hit is not None and hit[0] is ref:
        del _layouts[ref.key]


def _remember(m: "Module", layout: _Layout) -> None:
    if len(_layouts) >= _LAYOUTS_SIZE:
        _layouts.clear()
    ref = _Ref(m, _forget)
    ref.key = id(m)
    _layouts[ref.key] = (ref, layout)


def _flatten_module(m: "Module"):
    d = m.__dict__
    hit = _layouts.get(id(m))
    layout = hit[1] if hit is not None and hit[0]() is m else None
    if layout is not None and len(d) == len(layout.entries):
        children = []
        for (name, value), (known, s) in zip(d.items(), layout.entries):
            if name != known:
                break
            if s is None:  # a child: still a tensor or module (or a container of them)
                if type(value) is Tensor:
                    if value.dtype.kind != "f" and name in d.get("_buffers", ()):
                        break
                elif not isinstance(value, Module) and not _is_data(value):
                    break
                children.append(value)
            elif value is not s.value or (isinstance(value, (list, tuple, dict))
                                          and _is_data(value)):
                break  # (a static container may have been given a tensor since)
        else:
            return children, layout
    entries, children = [], []
    buffers = d.get("_buffers", ())
    for name, value in d.items():
        if name in buffers and isinstance(value, Tensor) and value.dtype.kind != "f":
            # A non-float buffer (quantized codes) is never differentiated: it is structure,
            # compared by identity, and transforms capture it as a constant.
            entries.append((name, _Static(value)))
        elif _is_data(value):
            entries.append((name, None))
            children.append(value)
        else:
            entries.append((name, _Static(value)))
    layout = _Layout(tuple(entries))
    _remember(m, layout)
    return children, layout


def _unflatten_module(cls, layout: _Layout, children):
    obj = object.__new__(cls)
    d = obj.__dict__
    it = iter(children)
    for name, s in layout.entries:  # (in the order of the module flattened)
        d[name] = next(it) if s is None else s.value
    _remember(obj, layout)
    return obj


class Module:
    """Base class of layers and models (PyTorch's `nn.Module` API over a pytree).

    Example:
        >>> class MLP(nb.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1, self.fc2 = nb.nn.Linear(3, 16), nb.nn.Linear(16, 1)
        ...     def forward(self, x):
        ...         return self.fc2(nb.relu(self.fc1(x)))
        >>> model = MLP()
        >>> model(nb.ones((4, 3))).shape
        (4, 1)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tree_util.register_pytree_node(cls, _flatten_module,
                                       lambda aux, children, cls=cls: _unflatten_module(cls, aux, children))

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffers", frozenset())

    # -- attributes ------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_buffers" not in self.__dict__:
            raise_error(UsageError, type(self).__name__, "call super().__init__() in __init__ "
                        "before assigning attributes")
        if isinstance(value, Tensor) and name not in self._buffers:
            _make_parameter(value)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor that is state but not a parameter (running statistics, frozen weights):
        saved in state_dict and passed through jit, never trained."""
        op = class_op(self, "register_buffer")
        if not as_str(op, "name", name) or "." in name:
            raise_error(ArgumentValueError, op, f"name must be a non-empty attribute name "
                        f"without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise_error(ArgumentError, op, f"tensor must be a Tensor or None, got "
                        f"{type(tensor).__name__}")
        object.__setattr__(self, "_buffers", self._buffers | {name})
        object.__setattr__(self, name, tensor)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} defines no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- traversal -------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in self.__dict__.items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{name}.{i}", v
            elif isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, Module):
                        yield f"{name}.{k}", v

    def children(self) -> Iterator["Module"]:
        return (m for _, m in self.named_children())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield as_str(class_op(self, "named_modules"), "prefix", prefix), self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        return (m for _, m in self.named_modules())

    def _named_tensors(self, buffers: bool) -> Iterator[tuple[str, Tensor]]:
        for prefix, m in self.named_modules():
            for name, value in m.__dict__.items():
                if isinstance(value, Tensor) and (name in m._buffers) == buffers:
                    yield (f"{prefix}.{name}" if prefix else name), value
                elif not buffers and isinstance(value, (list, tuple)) and not isinstance(value, Module):
                    for i, v in enumerate(value):
                        if isinstance(v, Tensor):
                            yield (f"{prefix}.{name}.{i}" if prefix else f"{name}.{i}"), v

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) of every parameter, in definition order."""
        seen = set()
        for name, t in self._named_tensors(False):
            if id(t) not in seen:
                seen.add(id(t))
                yield name, t

    def parameters(self) -> list[Tensor]:
        return [t for _, t in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        return self._named_tensors(True)

    def buffers(self) -> list[Tensor]:
        return [t for _, t in self.named_buffers()]

    def to(self, device) -> "Module":
        """Move every parameter and buffer to `device` (or convert them to a dtype), in
        place, as PyTorch's Module.to: the tensor objects an optimizer holds stay the same
        and stay leaves that require grad; their `.grad` moves with them. Returns self.

        Example:
            >>> model = nb.nn.Linear(2, 3).to("cpu")
        """
        tensors = {id(t): t for t in [*self.parameters(), *self.buffers()]}
        moved = [(t, t.detach().to(device)) for t in tensors.values()]  # all checked first
        for t, new in moved:
            grad_leaf = t._value.requires_grad
            grad = t._grad
            t._value = new._value
            t._grad = None if grad is None else grad.detach().to(device)
            if grad_leaf:
                t.requires_grad_()
        return self

    # -- modes and gradients ---------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        mode = as_bool(class_op(self, "train"), "mode", mode)
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        from ..autograd import zero_grad
        zero_grad(self.parameters(), set_to_none=set_to_none)

    def requires_grad_(self, flag: bool = True) -> "Module":
        flag = as_bool(class_op(self, "requires_grad_"), "flag", flag)
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    # -- state -----------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Parameters and buffers by dotted name (PyTorch's names for PyTorch's layers)."""
        out = OrderedDict(self.named_parameters())
        out.update(self.named_buffers())
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values (nb tensors, NumPy arrays, or anything array-like, a PyTorch tensor
        included) into the parameters and buffers of the same names, in place: optimizers
        holding the parameters see the new values."""
        op = class_op(self, "load_state_dict")
        if not isinstance(state, Mapping):
            raise_error(ArgumentError, op, f"state must be a dict of tensors by name (as "
                        f"state_dict() returns), got {type(state).__name__}")
        strict = as_bool(op, "strict", strict)
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise_error(UsageError, op, f"missing keys {missing}, unexpected "
                        f"keys {unexpected}")
        updates = []  # checked first, all of them: a bad value leaves the module as it was
        for name, t in own.items():
            if name not in state:
                continue
            value = state[name]
            if hasattr(value, "detach") and not isinstance(value, Tensor):
                value = value.detach().cpu().numpy()  # a PyTorch tensor
            if not isinstance(value, Tensor):
                try:
                    value = np.asarray(value, dtype=t.dtype.np)
                except (TypeError, ValueError) as e:
                    raise_error(ArgumentError, op, f"{name}: the value is not an array of "
                                f"numbers ({str(e).splitlines()[0]})")
            if tuple(value.shape) != t.shape:
                raise_error(ShapeError, op, f"{name}: the value has shape "
                            f"{tuple(value.shape)}, the module's is {t.shape}")
            updates.append((t, value if not isinstance(value, Tensor) or value.dtype is t.dtype
                            else np.asarray(value, dtype=t.dtype.np)))
        for t, value in updates:
            t.data = value

    # -- printing ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        return "\n".join(lines) + "\n)"


def _make_parameter(t: Tensor) -> None:
    """A float eager leaf assigned to a module becomes a parameter (requires grad)."""
    v = t._value
    if v.ctx.level == 0 and t.dtype.kind == "f" and t.is_leaf and not t.requires_grad:
        t.requires_grad_()


tree_util.register_pytree_node(Module, _flatten_module,
                               lambda aux, children: _unflatten_module(Module, aux, children))


def trainable(tree) -> list[bool]:
    """One flag per leaf of `tree` (in nb.tree.flatten order): False at the buffers of
    every module in it, which optimizers must not update, True elsewhere. Functional
    optimizers use it to leave running statistics and frozen weights as they are.

    Example:
        >>> nb.nn.trainable(nb.nn.BatchNorm1d(2))  # weight, bias; running_mean, running_var
        [True, True, False, False]
    """
    flags: list = []

    def walk(x):
        if isinstance(x, Module):
            for name, value in x.__dict__.items():
                if name in x._buffers and isinstance(value, Tensor) and value.dtype.kind != "f":
                    continue  # static structure, not a leaf (see _flatten_module)
                if _is_data(value):
                    if name in x._buffers:
                        flags.extend([False] * len(tree_util.leaves(value)))
                    else:
                        walk(value)
        elif isinstance(x, (list, tuple, dict)) and not hasattr(x, "_fields"):
            items = [x[k] for k in tree_util.sorted_keys(x)] if isinstance(x, dict) else x
            for v in items:
                walk(v)
        else:
            leaves = tree_util.leaves(x, is_leaf=lambda y: isinstance(y, Module))
            if len(leaves) == 1 and leaves[0] is x:
                flags.append(True)
            else:
                for leaf in leaves:
                    walk(leaf)
    walk(tree)
    return flags
