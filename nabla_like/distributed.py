"""Several processes, one program: PJRT's distributed runtime (a coordination service in
process 0, a client in each) and gloo's CPU collectives over TCP.

After `nb.distributed.initialize(...)` in every process, `nb.devices()` lists the devices
of all processes and a mesh over them runs one SPMD program across the processes (and,
the same way, across machines): each process feeds the shards its own devices hold and
reads what its devices hold (`nb.shard` of the same host data in every process does both).

Example (in each of two processes, process_id 0 and 1):
    >>> nb.distributed.initialize("127.0.0.1:8476", num_processes=2, process_id=0)
    >>> mesh = nb.make_mesh((len(nb.devices()),), ("data",))
"""
from __future__ import annotations

from .lowering import runtime

from .args import as_int, as_opt_int
from .errors import DeviceError, UsageError, raise_error

__all__ = ["initialize", "shutdown", "process_index", "process_count", "local_devices"]


def initialize(coordinator_address: str, num_processes: int, process_id: int, *,
               local_device_count: int | None = None, timeout: int = 60) -> None:
    """Join a job of `num_processes` processes; process 0 serves the coordination at
    `coordinator_address` ("host:port"). Call it first, before any tensor is made.
    `local_device_count` CPU devices per process (default: NABLA_CPU_DEVICES, else one);
    `timeout` seconds to wait for the others (XLA ends a process whose peers vanish)."""
    op = "distributed.initialize"
    if not isinstance(coordinator_address, str) or ":" not in coordinator_address:
        raise_error(UsageError, op, f"coordinator_address is 'host:port', got "
                    f"{coordinator_address!r:.60}")
    num_processes = as_int(op, "num_processes", num_processes)
    process_id = as_int(op, "process_id", process_id)
    local_device_count = as_opt_int(op, "local_device_count", local_device_count)
    timeout = as_int(op, "timeout", timeout)
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise_error(UsageError, op, f"process_id must be in [0, {num_processes}), got {process_id}")
    if timeout < 1 or (local_device_count is not None and local_device_count < 1):
        raise_error(UsageError, op, "timeout and local_device_count must be at least 1")
    try:
        runtime.start_distributed(coordinator_address, num_processes, process_id,
                                  local_device_count, timeout)
    except RuntimeError as e:
        why = str(e)
        if why in ("already started", "devices in use"):
            raise_error(UsageError, op, "call it once, before any tensor or device is used "
                        f"({why})")
        raise_error(DeviceError, op, f"could not join the job at {coordinator_address}: {why}")


def shutdown() -> None:
    """Leave the job (also done at exit): a barrier with the other processes."""
    runtime.stop_distributed()


def process_index() -> int:
    return runtime.distributed_info()[0]


def process_count() -> int:
    return runtime.distributed_info()[1]


def local_devices():
    """The devices of this process."""
    cpus = runtime.devices("cpu")
    local = {d.id for d in cpus[0].client.local_devices()}
    return [d for d in cpus if d.pjrt.id in local]
