"""Sharding: one program over a mesh of devices, split by XLA's SPMD partitioner.

A `Mesh` names the axes of an array of devices; a partition spec `P("data", None)` says
which mesh axes split which dimensions of a tensor; `NamedSharding(mesh, spec)` is the
pair. `nb.shard(t, mesh, spec)` lays a tensor out over the mesh; `nb.jit(f,
in_shardings=..., out_shardings=...)` and `nb.with_sharding_constraint` annotate a
program, which is lowered with `mhlo.sharding` attributes and compiled for all the mesh's
devices: XLA splits it and inserts the collectives (all-reduce for a data-parallel
gradient, all-gather, ...). Eager ops on sharded tensors run the same way, as pending
programs placed on the mesh. Mixing a sharded tensor with a single-device one raises
nb.DeviceError (see placement.py): shard both, or move one with `.to()`.

Why XLA's partitioner (hard to undo, so noted here): the shardings travel as annotations
on one program, so transforms (grad, vmap) apply unchanged and every collective is chosen
and scheduled by XLA, as in JAX.
"""
from __future__ import annotations

import math

import numpy as np

from .lowering import runtime

from . import core
from .core import Primitive, bind
from .errors import ArgumentError, DeviceError, ShapeError, UsageError, raise_error
from .ir import Value
from .tensor import Tensor

__all__ = ["Mesh", "P", "PartitionSpec", "NamedSharding", "Sharding", "make_mesh", "shard",
           "with_sharding_constraint"]


class Mesh:
    """An n-dimensional array of devices with a name for each axis.

    Example:
        >>> mesh = nb.Mesh(nb.devices()[:1], ("data",))
        >>> mesh.shape
        {'data': 1}
    """

    def __init__(self, devices, axis_names):
        from .placement import resolve
        if isinstance(axis_names, str):
            axis_names = (axis_names,)
        axis_names = tuple(axis_names)
        if not all(isinstance(n, str) for n in axis_names) or len(set(axis_names)) != len(axis_names):
            raise_error(ArgumentError, "Mesh", f"axis_names must be distinct strings, got {axis_names!r}")
        grid = np.empty(np.shape(np.asarray(devices, dtype=object)), dtype=object)
        flat = [resolve(d, "Mesh") for d in np.asarray(devices, dtype=object).flat]
        if not flat:
            raise_error(ArgumentError, "Mesh", "a mesh needs at least one device")
        grid.flat[:] = flat
        if grid.ndim != len(axis_names):
            raise_error(ShapeError, "Mesh", f"{len(axis_names)} axis names for a device array of "
                        f"shape {grid.shape}")
        if len({id(d) for d in flat}) != len(flat):
            raise_error(ArgumentError, "Mesh", "a device appears twice in the mesh")
        self.devices = grid
        self.axis_names = axis_names
        self.shape = dict(zip(axis_names, grid.shape))
        self.size = grid.size
        self.group = runtime.DeviceGroup(flat)
        self.ident = ("mesh", self.group.ident, grid.shape, axis_names)

    def __eq__(self, other) -> bool:
        return isinstance(other, Mesh) and self.ident == other.ident

    def __hash__(self) -> int:
        return hash(self.ident)

    def __repr__(self) -> str:
        axes = ", ".join(f"{n}={k}" for n, k in self.shape.items())
        return f"Mesh({axes})"

    __str__ = __repr__

    def put(self, host: np.ndarray):
        """A copy of `host` on every device of the mesh (replicated)."""
        return runtime.put_sharded(host, self.group, "{replicated}")


def make_mesh(shape, axis_names, devices=None) -> Mesh:
    """A mesh of the first prod(shape) devices (or `devices`) laid out as `shape`.

    Example:
        >>> nb.make_mesh((1,), ("data",))
        Mesh(data=1)
    """
    from .args import as_int_tuple
    shape = as_int_tuple("make_mesh", "shape", shape)
    devs = list(devices) if devices is not None else _all_devices()
    n = math.prod(shape)
    if n > len(devs) or n < 1:
        raise_error(DeviceError, "make_mesh", f"a mesh of shape {shape} needs {n} devices, "
                    f"{len(devs)} available")
    return Mesh(np.array(devs[:n], dtype=object).reshape(shape), axis_names)


def _all_devices():
    from .placement import get_default_device
    return runtime.devices(get_default_device().platform)


class PartitionSpec(tuple):
    """For each dimension of a tensor, the mesh axis (or tuple of axes) splitting it, or None
    (not split). Trailing dimensions left out are not split.

    Example:
        >>> nb.P("data", None)
        P('data', None)
    """

    def __new__(cls, *entries):
        for e in entries:
            ok = e is None or isinstance(e, str) or (
                isinstance(e, tuple) and all(isinstance(n, str) for n in e))
            if not ok:
                raise_error(ArgumentError, "P", f"each entry is a mesh axis name, a tuple of them "
                            f"or None, got {type(e).__name__} {e!r:.40}")
        return super().__new__(cls, entries)

    def __repr__(self) -> str:
        return "P(" + ", ".join(repr(e) for e in self) + ")"


P = PartitionSpec


class Sharding:
    """How a tensor is laid out over a mesh, as XLA's HLO sharding text (`hlo`): what
    `t.sharding` of a sharded tensor returns. The sharding XLA chose for a result has no
    partition spec (`spec` None); one made from a NamedSharding keeps its spec. Two are
    equal when mesh and layout are.

    Example:
        >>> mesh = nb.make_mesh((1,), ("data",))
        >>> s = nb.shard(nb.ones((4, 2)), mesh, nb.P("data")).sharding
        >>> s, s.spec, s.is_fully_replicated
        (Sharding(Mesh(data=1), {replicated}), P('data'), True)
    """

    def __init__(self, mesh: Mesh, hlo: str, spec: PartitionSpec | None = None):
        self.mesh = mesh
        self.hlo = hlo
        self.spec = spec

    @property
    def is_fully_replicated(self) -> bool:
        return self.hlo == "{replicated}"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sharding) and self.mesh == other.mesh and self.hlo == other.hlo

    def __hash__(self) -> int:
        return hash((self.mesh, self.hlo))

    def __repr__(self) -> str:
        return f"Sharding({self.mesh}, {self.hlo})"


class NamedSharding(Sharding):
    """A mesh and a partition spec: `NamedSharding(mesh, P("data"))`.

    Example:
        >>> nb.NamedSharding(nb.make_mesh((1,), ("data",)), nb.P("data"))
        NamedSharding(Mesh(data=1), P('data'))
    """

    def __init__(self, mesh: Mesh, spec=PartitionSpec()):
        if not isinstance(mesh, Mesh):
            raise_error(ArgumentError, "NamedSharding", f"expects a nb.Mesh, got {type(mesh).__name__}")
        if not isinstance(spec, PartitionSpec):
            spec = PartitionSpec(*spec) if isinstance(spec, (tuple, list)) else PartitionSpec(spec)
        names = [n for e in spec if e is not None for n in ((e,) if isinstance(e, str) else e)]
        unknown = [n for n in names if n not in mesh.shape]
        if unknown or len(set(names)) != len(names):
            what = f"unknown mesh axis {unknown[0]!r}" if unknown else "a mesh axis used twice"
            raise_error(ArgumentError, "NamedSharding", f"{what} in {spec!r} (mesh axes: "
                        f"{', '.join(mesh.axis_names)})")
        super().__init__(mesh, None, spec)
        self._hlo: dict[int, str] = {}

    def hlo_for(self, ndim: int) -> str:
        """The HLO sharding text of this layout for a tensor of rank `ndim`."""
        text = self._hlo.get(ndim)
        if text is None:
            if len(self.spec) > ndim:
                raise_error(ShapeError, "sharding", f"{self.spec!r} names {len(self.spec)} "
                            f"dimensions, the tensor has {ndim}")
            text = self._hlo[ndim] = hlo_text(self.mesh, self.spec, ndim)
        return text

    def on(self, ndim: int) -> Sharding:
        return Sharding(self.mesh, self.hlo_for(ndim), self.spec)

    def __eq__(self, other) -> bool:
        return isinstance(other, NamedSharding) and self.mesh == other.mesh and self.spec == other.spec

    def __hash__(self) -> int:
        return hash((self.mesh, self.spec))

    def __repr__(self) -> str:
        return f"NamedSharding({self.mesh}, {self.spec!r})"


def hlo_text(mesh: Mesh, spec: PartitionSpec, ndim: int) -> str:
    """XLA's sharding text for `spec` over `mesh`: the tile of each tensor dimension is the
    product of the mesh axes splitting it; mesh axes that split nothing replicate."""
    sizes = mesh.devices.shape
    index = {n: i for i, n in enumerate(mesh.axis_names)}
    used, tiles = [], []
    for entry in tuple(spec) + (None,) * (ndim - len(spec)):
        names = () if entry is None else (entry,) if isinstance(entry, str) else entry
        used.extend(index[n] for n in names)
        tiles.append(math.prod(sizes[index[n]] for n in names))
    if all(t == 1 for t in tiles):
        return "{replicated}"
    rest = [a for a in range(len(sizes)) if a not in used]
    replicas = math.prod(sizes[a] for a in rest)
    dims = tiles + ([replicas] if replicas > 1 else [])
    order = np.arange(mesh.size).reshape(sizes).transpose(used + rest).reshape(dims)
    tail = " last_tile_dim_replicate" if replicas > 1 else ""
    return "{devices=[" + ",".join(map(str, dims)) + "]" + ",".join(map(str, order.flat)) + tail + "}"


def as_sharding(op: str, spec, mesh=None) -> NamedSharding:
    """`spec` as a NamedSharding: a Sharding given as is, or a (mesh, P) pair."""
    if isinstance(spec, NamedSharding):
        return spec
    if mesh is not None:
        return NamedSharding(mesh, spec if spec is not None else PartitionSpec())
    raise_error(ArgumentError, op, f"expects a nb.NamedSharding(mesh, P(...)) or a mesh and a "
                f"partition spec, got {type(spec).__name__} {spec!r:.40}")


# ---------------------------------------------------------------------------
# Sharded eager tensors
# ---------------------------------------------------------------------------
def shard(x, mesh, spec=None) -> Tensor:
    """`x` laid out over `mesh` as `spec` says (`nb.shard(x, sharding)` takes a
    NamedSharding). Inside jit it is a sharding constraint.

    Example:
        >>> mesh = nb.make_mesh((1,), ("data",))
        >>> nb.shard(nb.ones((4, 2)), mesh, nb.P("data")).sharding
        Sharding(Mesh(data=1), {replicated})
    """
    from .ops._common import to_tensor
    sharding = as_sharding("shard", spec, mesh) if isinstance(mesh, Mesh) else as_sharding("shard", mesh)
    x = to_tensor(x, "shard")
    v = x._value
    if v.ctx.level != 0:
        return with_sharding_constraint(x, sharding)
    target = sharding.on(len(v.aval.shape))
    if v.sharding is not None and v.sharding == target:
        return x
    if v.requires_grad and core.grad_recording(v.ctx):
        raise_error(UsageError, "shard", f"sharding {v.aval.short()} would cut its gradient "
                    f"history; shard leaves before computing with them, or shard t.detach()")
    host = host_value(x, "shard")
    out = Value(v.aval, None, 0, v.ctx)
    out.buffer = runtime.put_sharded(np.ascontiguousarray(host), sharding.mesh.group, target.hlo)
    out.device = sharding.mesh
    out.sharding = target
    return Tensor._wrap(out)


def host_value(x: Tensor, op: str) -> np.ndarray:
    """The whole value of an eager tensor on the host (sharded ones gathered)."""
    from . import lazy
    return np.asarray(lazy.to_numpy(x, op))


def gather(v: Value, op: str) -> np.ndarray:
    """The global value of a materialized sharded Value, from this process's shards."""
    s = v.sharding
    out = runtime.gather(v.buffer, s.mesh.group, s.hlo, v.aval.shape, v.aval.dtype.np)
    if out is None:
        raise_error(UsageError, op, f"{v.aval.short()} is split over devices of other processes "
                    f"({s.hlo}); only its fully replicated or local parts can be read here")
    out.flags.writeable = False
    return out


# ---------------------------------------------------------------------------
# The sharding constraint primitive (inside jit and other traces)
# ---------------------------------------------------------------------------
sharding_constraint_p = Primitive("sharding_constraint", linear=True)
sharding_constraint_p.def_abstract_eval(lambda x, *, sharding: x)
sharding_constraint_p.def_transpose(
    lambda ct, x, *, sharding: (bind(sharding_constraint_p, ct, sharding=sharding),))


def _constraint_batch(args, bdims, *, sharding):
    (x,), (b,) = args, bdims
    spec = list(sharding.spec) + [None] * (x.ndim - 1 - len(sharding.spec))
    spec.insert(b, None)  # the batch dimension is not split
    return bind(sharding_constraint_p, x, sharding=NamedSharding(sharding.mesh, P(*spec))), b


sharding_constraint_p.def_batch(_constraint_batch)


def with_sharding_constraint(x, sharding) -> Tensor:
    """Ask XLA to lay `x` out as `sharding` (a NamedSharding) at this point of a jitted
    program, as jax.lax.with_sharding_constraint; the values are unchanged. On an eager
    tensor it is `nb.shard`.

    Example:
        >>> mesh = nb.make_mesh((1,), ("data",))
        >>> s = nb.NamedSharding(mesh, nb.P("data"))
        >>> nb.jit(lambda x: nb.with_sharding_constraint(x * 2, s))(nb.ones(2))
        Tensor([2. 2.] : f32[2])
    """
    from .ops._common import to_tensor
    sharding = as_sharding("with_sharding_constraint", sharding)
    x = to_tensor(x, "with_sharding_constraint")
    if x._value.ctx.level == 0:
        return shard(x, sharding)
    sharding.hlo_for(x.ndim)  # a spec longer than the rank raises here, at the call
    return bind(sharding_constraint_p, x, sharding=sharding)
