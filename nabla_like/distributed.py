"""Several processes, one program: PJRT's distributed runtime (a coordination service in
process 0, a client in each) and gloo's CPU collectives over TCP.

After `nb.distributed.initialize(...)` in every process, `nb.devices()` lists the devices
of all processes and a mesh over them runs one SPMD program across the processes (and,
the same way, across machines): each process feeds the shards its own devices hold and
reads what its devices hold (`nb.shard` of the same host data in every process does both).

Example (in each of two processes, process_id 0 and 1):
    >>> nb.distributed.initialize("127.0.0.1:8476", num_processes=2,
    ...                           process_id=0)  # doctest: +SKIP
    >>> mesh = nb.make_mesh((len(nb.devices()),), ("data",))  # doctest: +SKIP
    >>> mesh  # doctest: +SKIP
    Mesh(data=2)
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
    `timeout` seconds to wait for the others (XLA ends a process whose peers vanish).
    As jax.distributed.initialize; `shutdown` (or the exit) leaves the job.

    Example (process 0 of 2; process 1 runs the same with process_id=1):
        >>> nb.distributed.initialize("127.0.0.1:8476", num_processes=2,
        ...                           process_id=0)  # doctest: +SKIP
        >>> nb.distributed.process_index(), nb.distributed.process_count()  # doctest: +SKIP
        (0, 2)
        >>> nb.devices(), nb.distributed.local_devices()  # doctest: +SKIP
        ([Device(cpu:0), Device(cpu:1)], [Device(cpu:0)])
        >>> nb.make_mesh((len(nb.devices()),), ("data",))  # doctest: +SKIP
        Mesh(data=2)
    """
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
    """Leave the job (also done at exit): a barrier with the other processes, then process 0
    stops the coordination service. Outside a job it does nothing. As
    jax.distributed.shutdown.

    Example:
        >>> nb.distributed.shutdown()  # in a single process: nothing to leave
        >>> nb.distributed.process_count()
        1
    """
    runtime.stop_distributed()


def process_index() -> int:
    """This process's index in the job (its `process_id`), 0 outside a job; as
    jax.process_index.

    Example:
        >>> nb.distributed.process_index()  # a single process
        0
    """
    return runtime.distributed_info()[0]


def process_count() -> int:
    """The number of processes in the job, 1 outside a job; as jax.process_count.

    Example:
        >>> nb.distributed.process_count()  # a single process
        1
    """
    return runtime.distributed_info()[1]


def local_devices():
    """The CPU devices of this process (the ones a job spans), as jax.local_devices: in a
    job `nb.devices()` lists every process's devices, this only the ones whose shards this
    process feeds and reads. In a single process they are all the CPU devices
    (NABLA_CPU_DEVICES of them, default one).

    Example:
        >>> nb.distributed.local_devices()
        [Device(cpu:0)...]
    """
    cpus = runtime.devices("cpu")
    local = {d.id for d in cpus[0].client.local_devices()}
    return [d for d in cpus if d.pjrt.id in local]
