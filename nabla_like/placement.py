"""Placement: where eager tensors live and where their programs run.

Every eager tensor has a device (`t.device`). Host data goes to the current default
device (`nb.default_device(...)`, per thread; at first the first GPU if a CUDA plugin
is installed, else cpu:0), or to `device=`; an op's result lives where its operands
live; Python scalars and constants made without `device=` (`nb.zeros`, `nb.full`) join
whatever device they meet. Pending eager work runs as one program per device, and
`nb.jit` compiles a function once for each device its arguments live on.

An op whose operands live on two devices raises nb.DeviceError naming both, as in
PyTorch: copies between devices are explicit (`t.to(device)`). Why strict (hard to
undo, so noted here): implicit copies hide the transfers that dominate run time on a
GPU, and the device of a result would depend on the order of the operands.
"""
from __future__ import annotations

import numpy as np

from .lowering import runtime

from . import core
from .core import _tls
from .errors import DeviceError, UsageError, raise_error
from .tensor import Tensor

Device = runtime.Device

__all__ = ["Device", "devices", "device", "default_device", "get_default_device",
           "set_default_device", "device_count"]


def devices(platform: str | None = None) -> list[Device]:
    """The devices XLA can run on: `nb.devices()` -> [cpu:0]; `platform` ("cpu", "gpu")
    filters them, and a platform with no device raises nb.DeviceError.

    Example:
        >>> nb.devices("cpu")[0]
        Device(cpu:0)
    """
    return _devices("devices", platform)


def _devices(op: str, platform: str | None) -> list[Device]:
    if platform is not None and not isinstance(platform, str):
        raise_error(DeviceError, op, f"platform must be a string such as 'cpu' or "
                    f"'gpu', got {type(platform).__name__} {platform!r:.40}")
    try:
        return runtime.devices_checked(_platform_name(platform) if platform else None)
    except runtime.UnknownDevice as e:
        raise_error(DeviceError, op, str(e))


def device_count(platform: str | None = None) -> int:
    """How many devices `platform` ("cpu", "gpu") has (all platforms when None):
    `len(nb.devices(platform))`; a platform with no device raises nb.DeviceError.

    Example:
        >>> nb.device_count("cpu") == len(nb.devices("cpu")) >= 1
        True
    """
    return len(devices(platform))


def _platform_name(name: str) -> str:
    name = name.lower()
    return "gpu" if name == "cuda" else name


def device(spec) -> Device:
    """The Device `spec` names: a Device, "cpu" / "gpu" (the first one), "cpu:1", or a
    Tensor (its device).

    Example:
        >>> nb.device("cpu:0")
        Device(cpu:0)
    """
    return resolve(spec, "device")


def resolve(spec, op: str) -> Device:
    """`spec` as a Device; bad ones raise nb.DeviceError naming `op`."""
    if isinstance(spec, Device):
        return spec
    if isinstance(spec, Tensor):
        return device_of(spec)
    if not isinstance(spec, str):
        raise_error(DeviceError, op, f"a device is a Device, a Tensor or a string such as "
                    f"'cpu', 'gpu' or 'cpu:1', got {type(spec).__name__} {spec!r:.40}")
    platform, _, index = spec.partition(":")
    k = int(index) if index.isdigit() else (0 if not index and ":" not in spec else -1)
    if k < 0 or not platform:
        raise_error(DeviceError, op, f"cannot read the device {spec!r}: write 'cpu', 'gpu' "
                    f"or 'cpu:1'")
    found = _devices(op, platform)
    if k >= len(found):
        raise_error(DeviceError, op, f"there is no device {spec!r}: {platform} has "
                    f"{len(found)} device{'s' if len(found) != 1 else ''} "
                    f"({', '.join(str(d) for d in found)})")
    return found[k]


def _first_device() -> Device:
    """The process default: the first GPU when one is available, else cpu:0."""
    return runtime.default_device()


def get_default_device() -> Device:
    """The device this thread puts new data on: the device of the innermost open
    `nb.default_device(...)` block or `set_default_device` call, else the process default
    (the first GPU when a CUDA plugin is installed, else cpu:0).

    Example:
        >>> with nb.default_device("cpu:0"):
        ...     nb.get_default_device()
        Device(cpu:0)
    """
    d = _tls.device
    return d if d is not None else _first_device()


core.default_device = get_default_device


def set_default_device(spec) -> None:
    """Make `spec` (a Device, "cpu", "gpu:1", a Tensor) this thread's default device for
    new data, until changed again (None: back to the process default); the unscoped
    form of the `nb.default_device(spec)` block, as torch.set_default_device.

    Example:
        >>> nb.set_default_device("cpu:0")
        >>> nb.tensor([1.0, 2.0]).device
        Device(cpu:0)
        >>> nb.set_default_device(None)
    """
    _tls.device = None if spec is None else resolve(spec, "set_default_device")


class default_device:
    """A block in which new data of this thread goes to `spec` by default (threads each
    have their own default, as they have their own grad mode).

    Example:
        >>> with nb.default_device("cpu:0"):
        ...     x = nb.tensor([1.0, 2.0])
        >>> x.device
        Device(cpu:0)
    """

    def __init__(self, spec):
        self.device = resolve(spec, "default_device")  # checked at the call, not at `with`
        self._saved: list = []

    def __enter__(self) -> Device:
        self._saved.append(_tls.device)
        _tls.device = self.device
        return self.device

    def __exit__(self, *exc) -> None:
        _tls.device = self._saved.pop()


def device_of(t: Tensor) -> Device:
    v = t._value
    if v.ctx.level != 0:
        raise_error(UsageError, "device", "a traced tensor has no device: a jitted function "
                    "runs on the device of its arguments")
    return v.device if v.device is not None else get_default_device()


def requested_device(op: str, spec) -> Device | None:
    """The device a creation function's `device=` names, or the default of an open
    `default_device` block; None when neither says (a constant then joins its users)."""
    if spec is not None:
        return resolve(spec, op)
    return _tls.device


def to_device(t: Tensor, spec) -> Tensor:
    """`t` on the device `spec` names: `t` itself when it is there already, else a copy
    (computed first if pending). A tensor that carries gradient history while gradients
    are recorded is refused: move the leaves (data, parameters) before computing."""
    target = resolve(spec, "to")
    v = t._value
    if v.ctx.level != 0:
        return t  # inside a trace values have no device: jit runs where its inputs live
    if v.device is target or (v.device is None and v.literal is not None and v.node is None):
        if v.device is target:
            return t
        from .ir import Value
        out = Value(v.aval, None, 0, v.ctx)
        out.literal = v.literal
        out.device = target
        return Tensor._wrap(out)
    if v.requires_grad and core.grad_recording(v.ctx):
        raise_error(UsageError, "to", f"moving {v.aval.short()} from {device_of(t)} to {target} "
                    f"would cut its gradient history; move leaves before computing with them "
                    f"(x.to(device), model.to(device)), or move t.detach()")
    from . import lazy
    buffer = lazy.buffer_of(t, "to")
    from .ir import Value
    out = Value(v.aval, None, 0, v.ctx)
    out.buffer = runtime.copy_to(buffer, target, v.aval.dtype.np)
    out.device = target
    return Tensor._wrap(out)


def host_put(array: np.ndarray, target: Device | None):
    """A buffer holding `array` (aligned, owned by the caller) on `target` or the default."""
    return (target or get_default_device()).put(array)
