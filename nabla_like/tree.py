"""Pytrees: nested containers of tensors that every transform accepts and returns.

Containers are tuples, lists, dicts (keys sorted), None (no leaves),
namedtuples, and types registered with `register_pytree_node` or
`register_dataclass`. Anything else is a leaf. `TreeDef`s are hashable, so
they can be part of jit cache keys.

Example:
    >>> leaves, treedef = nb.tree.flatten({"w": nb.ones(2), "b": (nb.tensor(3.0), None)})
    >>> len(leaves), treedef.num_leaves
    (2, 2)
    >>> nb.tree.unflatten(treedef, [l * 2 for l in leaves])["b"]
    (Tensor(6. : f32[]), None)
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, Callable

from .errors import ArgumentError, TreeError, raise_error

__all__ = ["flatten", "unflatten", "map", "leaves", "structure", "register_pytree_node",
           "register_dataclass", "TreeDef", "tree_map", "all_leaves_match", "sorted_keys",
           "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure"]

_registry: dict[type, tuple[Callable, Callable]] = {}


class TreeDef:
    """The structure of a pytree with its leaves taken out (`*` marks a leaf), as JAX's
    PyTreeDef: hashable and comparable, `num_leaves` counts the leaves, and
    `treedef.unflatten(leaves)` rebuilds a tree (as `nb.tree_unflatten`).

    Example:
        >>> treedef = nb.tree_structure({"w": 1.0, "b": (2.0, None)})
        >>> treedef, treedef.num_leaves
        (TreeDef({'b': (*, None), 'w': *}), 2)
        >>> treedef.unflatten([10.0, 20.0])
        {'b': (10.0, None), 'w': 20.0}
    """

    __slots__ = ("kind", "aux", "children", "num_leaves", "_hash")

    def __init__(self, kind, aux, children: tuple["TreeDef", ...]):
        self.kind = kind
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is _LEAF else sum(c.num_leaves for c in children)
        try:
            self._hash = hash((kind, aux, children))
        except TypeError:
            raise TreeError(f"the static (meta) data of a {getattr(kind, '__name__', kind)} pytree "
                            f"node must be hashable, got {aux!r}") from None

    def __eq__(self, other) -> bool:
        return (isinstance(other, TreeDef) and self._hash == other._hash and self.kind == other.kind
                and self.aux == other.aux and self.children == other.children)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"TreeDef({_describe(self)})"

    def unflatten(self, leaves):
        return unflatten(self, leaves)


class _Leaf:
    def __repr__(self) -> str:
        return "*"


_LEAF = _Leaf()
LEAF = TreeDef(_LEAF, None, ())


def _describe(t: TreeDef) -> str:
    if t.kind is _LEAF:
        return "*"
    inner = ", ".join(_describe(c) for c in t.children)
    if t.kind is tuple:
        return f"({inner}{',' if len(t.children) == 1 else ''})"
    if t.kind is list:
        return f"[{inner}]"
    if t.kind is dict:
        return "{" + ", ".join(f"{k!r}: {_describe(c)}" for k, c in zip(t.aux, t.children)) + "}"
    if t.kind is type(None):
        return "None"
    name = getattr(t.kind, "__name__", str(t.kind))
    return f"{name}({inner})"


def _kind_name(t: TreeDef) -> str:
    return "a leaf" if t.kind is _LEAF else f"a {getattr(t.kind, '__name__', t.kind)}"


def _first_difference(a: TreeDef, b: TreeDef, path: str = "the root") -> str:
    """Where two structures first differ, in words (their printouts do not show the static
    fields of registered types, which may be all that differs)."""
    if a.kind != b.kind:
        return f"at {path}: {_kind_name(a)} vs {_kind_name(b)}"
    if a.aux != b.aux:
        what = "keys" if a.kind is dict else "static fields"
        shown = [repr(x) if len(repr(x)) <= 60 else repr(x)[:57] + "..." for x in (a.aux, b.aux)]
        return f"at {path}: {_kind_name(a)} with {what} {shown[0]} vs {shown[1]}"
    if len(a.children) != len(b.children):
        return f"at {path}: {_kind_name(a)} of {len(a.children)} vs {len(b.children)} children"
    for i, (ca, cb) in enumerate(zip(a.children, b.children)):
        if ca != cb:
            key = repr(a.aux[i]) if a.kind is dict else str(i)
            return _first_difference(ca, cb, f"[{key}]" if path == "the root" else f"{path}[{key}]")
    return "they are equal"


def register_pytree_node(nodetype: type, flatten_fn: Callable, unflatten_fn: Callable) -> None:
    """Teach transforms a container type: `flatten_fn(x) -> (children, aux)` and
    `unflatten_fn(aux, children) -> x` (aux must be hashable), as
    jax.tree_util.register_pytree_node (also `nb.register_pytree_node`).

    Example:
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> nb.register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
        ...                         lambda aux, children: Pair(*children))
        >>> len(nb.tree_leaves(Pair(1.0, 2.0)))
        2
    """
    if not isinstance(nodetype, type):
        raise_error(ArgumentError, "register_pytree_node", f"nodetype must be a class, got "
                    f"{nodetype!r}")
    for name, fn in (("flatten_fn", flatten_fn), ("unflatten_fn", unflatten_fn)):
        if not callable(fn):
            raise_error(ArgumentError, "register_pytree_node", f"{name} must be a callable, "
                        f"got {fn!r}")
    _registry[nodetype] = (flatten_fn, unflatten_fn)
    _LEAF_TYPES.discard(nodetype)


def register_dataclass(nodetype=None, data_fields=None, meta_fields=None):
    """Register a dataclass as a pytree: `data_fields` are children (all fields but the
    meta ones by default), `meta_fields` are static, hashable and part of the structure, as
    jax.tree_util.register_dataclass. Usable as a decorator, with or without the fields;
    returns the class.

    Example:
        >>> import dataclasses
        >>> @nb.tree.register_dataclass(meta_fields=["name"])
        ... @dataclasses.dataclass
        ... class Layer:
        ...     w: float
        ...     name: str
        >>> nb.tree_leaves(Layer(1.0, "fc")), nb.tree_map(lambda x: x * 10, Layer(1.0, "fc"))
        ([1.0], Layer(w=10.0, name='fc'))
    """
    def register(cls):
        fields = [f.name for f in dataclasses.fields(cls)]
        meta = tuple(meta_fields or ())
        data = tuple(data_fields) if data_fields is not None else tuple(f for f in fields if f not in meta)

        def flatten_fn(x):
            return [getattr(x, f) for f in data], tuple(getattr(x, f) for f in meta)

        def unflatten_fn(aux, children):
            kwargs = dict(zip(data, children))
            kwargs.update(zip(meta, aux))
            obj = object.__new__(cls)
            for k, v in kwargs.items():
                object.__setattr__(obj, k, v)
            return obj

        register_pytree_node(cls, flatten_fn, unflatten_fn)
        return cls

    return register(nodetype) if nodetype is not None else register


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _children(x):
    """(kind, aux, children) for a container, or None for a leaf."""
    t = type(x)
    if t is tuple:
        return tuple, None, x
    if t is list:
        return list, None, x
    if t is dict:
        keys = tuple(sorted_keys(x))
        return dict, keys, [x[k] for k in keys]
    if x is None:
        return type(None), None, ()
    if t is OrderedDict:
        keys = tuple(x)
        return OrderedDict, keys, [x[k] for k in keys]
    entry = _registry.get(t)
    if entry is not None:
        children, aux = entry[0](x)
        return t, aux, children
    if _is_namedtuple(x):
        return t, None, tuple(x)
    return None


def sorted_keys(d: dict) -> list:
    """The keys of a dict in the order pytrees flatten it: sorted, numbers first, then
    other keys grouped by type name (so mixed keys still sort).

    Example:
        >>> nb.tree.sorted_keys({"b": 0, 2: 0, "a": 0, 1: 0})
        [1, 2, 'a', 'b']
    """
    return sorted(d, key=_sort_key)


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, (int, float)) else ("", k)


def flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeDef]:
    """(leaves, treedef) of a pytree, leaves in a fixed left-to-right order (dict keys
    sorted), as jax.tree_util.tree_flatten (also `nb.tree_flatten`). `is_leaf(x)` True
    stops the walk at `x`.

    Example:
        >>> leaves, treedef = nb.tree_flatten({"b": 2.0, "a": (1.0, None)})
        >>> leaves
        [1.0, 2.0]
    """
    if is_leaf is not None and not callable(is_leaf):
        raise_error(ArgumentError, "tree_flatten", f"is_leaf must be a callable or None, got "
                    f"{is_leaf!r}")
    out: list = []
    return out, _flatten(tree, out, is_leaf)


# Types that are always leaves (unless registered as nodes), tested before the container
# checks: Tensor joins when nabla_like.tensor is imported. A list or tuple of such leaves
# (a model's parameters) gets one shared TreeDef per length.
_LEAF_TYPES: set = {int, float, bool, complex}
_flat_defs: dict[tuple, TreeDef] = {}


def _flat_def(kind: type, n: int) -> TreeDef:
    key = (kind, n)
    t = _flat_defs.get(key)
    if t is None:
        t = TreeDef(kind, None, (LEAF,) * n)
        if len(_flat_defs) < 1024:
            _flat_defs[key] = t
    return t


def _flatten(x, out: list, is_leaf) -> TreeDef:
    if is_leaf is not None:
        if is_leaf(x):
            out.append(x)
            return LEAF
    else:
        t = type(x)
        if t in _LEAF_TYPES:
            out.append(x)
            return LEAF
        if t is list or t is tuple:
            for ch in x:
                if type(ch) not in _LEAF_TYPES:
                    break
            else:
                out.extend(x)
                return _flat_def(t, len(x))
    c = _children(x)
    if c is None:
        out.append(x)
        return LEAF
    kind, aux, children = c
    return TreeDef(kind, aux, tuple(_flatten(ch, out, is_leaf) for ch in children))


def unflatten(treedef: TreeDef, leaves) -> Any:
    """Rebuild a pytree of structure `treedef` from its leaves, as
    jax.tree_util.tree_unflatten (also `nb.tree_unflatten`).

    Example:
        >>> leaves, treedef = nb.tree_flatten((1.0, [2.0]))
        >>> nb.tree_unflatten(treedef, [x * 10 for x in leaves])
        (10.0, [20.0])
    """
    if not isinstance(treedef, TreeDef):
        raise_error(ArgumentError, "tree_unflatten", f"treedef must be a TreeDef (from "
                    f"tree_flatten), got {treedef!r}")
    leaves = list(leaves)
    if len(leaves) < treedef.num_leaves:
        raise TreeError(f"unflatten: {treedef} needs {treedef.num_leaves} leaves, got {len(leaves)}")
    it = iter(leaves)
    out = _unflatten(treedef, it)
    rest = object()
    if next(it, rest) is not rest:
        raise TreeError(f"unflatten: too many leaves for {treedef}")
    return out


def _unflatten(t: TreeDef, it):
    if t.kind is _LEAF:
        return next(it)
    children = [_unflatten(c, it) for c in t.children]
    kind = t.kind
    if kind is tuple:
        return tuple(children)
    if kind is list:
        return children
    if kind is dict:
        return dict(zip(t.aux, children))
    if kind is type(None):
        return None
    if kind is OrderedDict:
        return OrderedDict(zip(t.aux, children))
    entry = _registry.get(kind)
    if entry is not None:
        return entry[1](t.aux, children)
    return kind(*children)  # namedtuple


def leaves(tree, is_leaf=None) -> list:
    """The leaves of a pytree in flattening order (also `nb.tree_leaves`).

    Example:
        >>> nb.tree_leaves({"w": 1.0, "b": [2.0, 3.0]})
        [2.0, 3.0, 1.0]
    """
    return flatten(tree, is_leaf)[0]


def structure(tree, is_leaf=None) -> TreeDef:
    """The TreeDef of a pytree (also `nb.tree_structure`).

    Example:
        >>> nb.tree_structure((1.0, {"a": 2.0}))
        TreeDef((*, {'a': *}))
    """
    return flatten(tree, is_leaf)[1]


def map(fn: Callable, tree, *rest, is_leaf=None):  # noqa: A001 - mirrors jax.tree.map
    """Apply `fn` to the leaves of `tree` (and the matching leaves of `rest`), keeping the
    structure, as jax.tree_util.tree_map (also `nb.tree_map`).

    Example:
        >>> nb.tree_map(lambda a, b: a + b, {"x": 1.0, "y": 2.0}, {"x": 10.0, "y": 20.0})
        {'x': 11.0, 'y': 22.0}
    """
    if not callable(fn):
        raise_error(ArgumentError, "tree_map", f"fn must be a callable, got {fn!r}")
    xs, treedef = flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rt = flatten(r, is_leaf)
        if rt != treedef:
            raise TreeError(f"tree.map: tree structures differ: {treedef} and {rt} "
                            f"({_first_difference(treedef, rt)})")
        others.append(rl)
    return unflatten(treedef, [fn(*args) for args in zip(xs, *others)])


tree_map = map
# The JAX / Nabla names (jax.tree_util.tree_flatten(tree) -> (leaves, treedef), ...),
# also exported as nb.tree_flatten etc.
tree_flatten = flatten
tree_unflatten = unflatten
tree_leaves = leaves
tree_structure = structure


def broadcast_prefix(prefix, tree, is_leaf=None) -> list:
    """One entry of `prefix` per leaf of `tree`, where `prefix` is a tree prefix of `tree`
    (a leaf of `prefix` covers a whole subtree). Raises ValueError on a mismatch."""
    out: list = []
    _broadcast(prefix, tree, out, is_leaf)
    return out


def _broadcast(prefix, tree, out: list, is_leaf) -> None:
    pc = _children(prefix) if prefix is not None else None
    if pc is None:
        out.extend([prefix] * len(leaves(tree, is_leaf)))
        return
    tc = _children(tree) if not (is_leaf and is_leaf(tree)) else None
    if tc is None or pc[0] is not tc[0] or pc[1] != tc[1] or len(pc[2]) != len(tc[2]):
        raise TreeError(f"{structure(prefix)} is not a tree prefix of {structure(tree)}")
    for p, t in zip(pc[2], tc[2]):
        _broadcast(p, t, out, is_leaf)


def all_leaves_match(tree, predicate: Callable[[Any], bool]) -> bool:
    """Whether `predicate(leaf)` is true for every leaf of `tree` (True for no leaves).

    Example:
        >>> nb.tree.all_leaves_match({"a": 1.0, "b": [2.0, 3.0]}, lambda x: isinstance(x, float))
        True
        >>> nb.tree.all_leaves_match((1.0, None, [2]), lambda x: isinstance(x, float))
        False
    """
    return all(predicate(x) for x in leaves(tree))
