"""XLA through jaxlib's PJRT client: devices, buffers in and out, compile, execute.

The jax package is never imported. Two details keep the per-call cost at a few
microseconds (see shared notes on jaxlib):

* inputs go in with `batched_device_put` (zero-copy for 64-byte aligned host
  arrays), not through DLPack capsules;
* outputs come back through result handlers built once per executable, so
  jaxlib never tries to import jax to describe a result array.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

# XLA logs through absl to stderr; its errors reach users as exceptions, so keep stderr
# quiet unless the user asks (TF_CPP_MIN_LOG_LEVEL=0 shows everything).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_lock = threading.Lock()
_clients: dict[str, object] = {}
_xc = None
_jax = None


def _jaxlib():
    global _xc, _jax
    if _xc is None:
        from jaxlib import _jax as jx
        from jaxlib import xla_client as xc
        # jaxlib records the Python traceback of every array it makes unless told not to;
        # the records are never freed (about 110 bytes per program run, measured), and
        # taking them costs time on every dispatch. Errors here point at the user's line
        # by other means (errors.py).
        jx.set_tracebacks_enabled(False)
        _xc, _jax = xc, jx
    return _xc, _jax


class OutOfDeviceMemory(MemoryError):
    """XLA could not allocate device memory (RESOURCE_EXHAUSTED). nabla_like turns it into
    nb.OutOfMemoryError naming the computation."""


def _is_out_of_memory(e: Exception) -> bool:
    text = str(e)
    return "RESOURCE_EXHAUSTED" in text or "Out of memory" in text


def _out_of_memory(e: Exception) -> OutOfDeviceMemory:
    return OutOfDeviceMemory(str(e).strip())


class HostAval:
    """The duck-typed aval jaxlib wants: shape, NumPy dtype, weak_type."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, np_dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(np_dtype)
        self.weak_type = False


_sharding_cls = None


def _sharding_class():
    global _sharding_cls
    if _sharding_cls is None:
        xc, jx = _jaxlib()

        class DeviceSharding(jx.SingleDeviceSharding):
            memory_kind = None

            def _to_xla_hlo_sharding(self, ndim):
                return xc.HloSharding.replicate()

        _sharding_cls = DeviceSharding
    return _sharding_cls


class Device:
    """One PJRT device (a CPU, or a GPU when a CUDA plugin is present): what `t.device`
    returns and what `device=`, `t.to(...)` and `nb.default_device(...)` accept. Devices
    are made once per process (get them from `nb.device` / `nb.devices`), named
    "platform:index", and compare equal by platform and index.

    Example:
        >>> d = nb.device("cpu:0")
        >>> d, d.platform, d.index
        (Device(cpu:0), 'cpu', 0)
        >>> nb.tensor([1.0, 2.0], device=d).device == d
        True
    """

    def __init__(self, platform: str, index: int, pjrt_device, client):
        self.platform = platform
        self.index = index
        self.ident = (platform, index)  # what cache keys hold (hashed in C, unlike self)
        self.pjrt = pjrt_device
        self.client = client
        self.sharding = _sharding_class()(pjrt_device)
        xc, _ = _jaxlib()
        self.device_list = xc.DeviceList((pjrt_device,))
        self.assignment = xc.DeviceAssignment.create(np.array([[pjrt_device.id]]))

    def __repr__(self) -> str:
        return f"Device({self.platform}:{self.index})"

    def __str__(self) -> str:
        return f"{self.platform}:{self.index}"

    def __eq__(self, other) -> bool:
        return isinstance(other, Device) and (self.platform, self.index) == (other.platform, other.index)

    def __hash__(self) -> int:
        return hash((self.platform, self.index))

    # -- data in and out -------------------------------------------------
    def put(self, array: np.ndarray):
        """A device buffer holding `array`. For the CPU this aliases `array` when it is
        64-byte aligned: the caller keeps it alive and never writes to it."""
        xc, _ = _jaxlib()
        try:
            return xc.batched_device_put(HostAval(array.shape, array.dtype), self.sharding,
                                         [array], [self.pjrt], True, False,
                                         xc.HostBufferSemantics.ZERO_COPY, True)
        except Exception as e:
            if _is_out_of_memory(e):
                raise _out_of_memory(e) from None
            raise


_devices: dict[str, list[Device]] = {}


def devices(platform: str | None = None) -> list[Device]:
    """The available devices (CPU always; GPU when the CUDA PJRT plugin is installed). In a
    distributed run (start_distributed) the CPU devices of every process, in global order."""
    with _lock:
        if "cpu" not in _devices:
            xc, _ = _jaxlib()
            n = int(os.environ.get("NABLA_CPU_DEVICES", "0")) or None
            dist = {}
            if _distributed is not None:
                d = _distributed
                dist = {"distributed_client": d["client"], "node_id": d["process_id"],
                        "num_nodes": d["num_processes"], "collectives": d["collectives"]}
                n = d["local_devices"] or n
            client = xc.make_cpu_client(num_devices=n, **dist) if n else xc.make_cpu_client(**dist)
            _clients["cpu"] = client
            _devices["cpu"] = [Device("cpu", i, d, client) for i, d in enumerate(client.devices())]
        if "gpu" not in _devices and _gpu_problem is None:
            _start_gpu()
    if platform is None:
        return [d for ds in _devices.values() for d in ds]
    return list(_devices.get(platform, []))


# -- the CUDA PJRT plugin (the `cuda` extra: jax-cuda12-pjrt and NVIDIA's libraries) ------
_gpu_problem: str | None = None  # why there is no GPU, once looked for

# NVIDIA's wheels (nvidia-*-cu12) put each library under nvidia/<package>/lib; loading
# them first lets the plugin find them without LD_LIBRARY_PATH.
_NVIDIA_LIBRARIES = (
    ("cuda_runtime", "libcudart.so.12"), ("cuda_nvrtc", "libnvrtc.so.12"),
    ("nvjitlink", "libnvJitLink.so.12"), ("cublas", "libcublasLt.so.12"),
    ("cublas", "libcublas.so.12"), ("cusparse", "libcusparse.so.12"),
    ("cusolver", "libcusolver.so.11"), ("cufft", "libcufft.so.11"),
    ("cudnn", "libcudnn.so.9"), ("nccl", "libnccl.so.2"), ("cuda_cupti", "libcupti.so.12"),
)


def cuda_plugin_path() -> str | None:
    """The CUDA PJRT plugin library, if its wheel is installed (found without running the
    wheel's Python package, which imports jax)."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("jax_plugins.xla_cuda12")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(folder, "xla_cuda_plugin.so")
        if os.path.exists(path):
            return path
    return None


def _preload_nvidia_libraries() -> None:
    import ctypes
    import importlib.util
    for package, library in _NVIDIA_LIBRARIES:
        try:
            spec = importlib.util.find_spec(f"nvidia.{package}")
        except (ImportError, ValueError):
            continue
        for folder in (spec.submodule_search_locations or []) if spec is not None else []:
            path = os.path.join(folder, "lib", library)
            if os.path.exists(path):
                try:
                    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                except OSError:
                    pass  # the plugin reports what it still misses


def _start_gpu() -> None:
    """Load the CUDA plugin when installed; on failure remember why (devices("gpu") then
    raises with the reason). Called with _lock held."""
    global _gpu_problem
    path = cuda_plugin_path()
    if path is None:
        _gpu_problem = "the CUDA PJRT plugin is not installed (pip install 'nabla_like[cuda]')"
        return
    xc, _ = _jaxlib()
    try:
        _preload_nvidia_libraries()
        xc.load_pjrt_plugin_dynamically("cuda", path)
        xc.initialize_pjrt_plugin("cuda")
        client = xc.make_c_api_client("cuda", {}, None)
        found = client.local_devices()
    except Exception as e:  # no driver, no GPU, a library missing: reported, never a crash
        _gpu_problem = f"the CUDA PJRT plugin could not start: {str(e).strip()[:500]}"
        return
    if not found:
        _gpu_problem = "the CUDA PJRT plugin found no GPU"
        return
    _clients["gpu"] = client
    _devices["gpu"] = [Device("gpu", i, d, client) for i, d in enumerate(found)]


class UnknownDevice(ValueError):
    pass


# -- several processes: PJRT's distributed runtime and gloo's CPU collectives -------------
_distributed: dict | None = None


def start_distributed(address: str, num_processes: int, process_id: int,
                      local_devices: int | None, timeout: int) -> None:
    """Join a job of `num_processes` processes (process 0 runs the coordination service at
    `address`) before the CPU client starts: the client then sees every process's devices,
    and programs over them run their collectives through gloo over TCP. Timeouts are in
    seconds; a peer that never comes makes XLA abort the process after `timeout`."""
    global _distributed
    _, jx = _jaxlib()
    with _lock:
        if _distributed is not None or "cpu" in _devices:
            raise RuntimeError("already started" if _distributed is not None else "devices in use")
        beat = max(2, min(10, timeout))
        service = None
        if process_id == 0:
            service = jx.get_distributed_runtime_service(
                address, num_processes, heartbeat_timeout=beat, cluster_register_timeout=timeout,
                shutdown_timeout=timeout)
        client = jx.get_distributed_runtime_client(
            address, process_id, rpc_timeout=timeout, init_timeout=timeout,
            shutdown_timeout=timeout, heartbeat_timeout=beat, shutdown_on_destruction=False)
        client.connect()
        host = address.rsplit(":", 1)[0] or None
        collectives = jx.make_gloo_tcp_collectives(client, hostname=host)
        _distributed = {"service": service, "client": client, "collectives": collectives,
                        "process_id": process_id, "num_processes": num_processes,
                        "local_devices": local_devices}
    import atexit
    atexit.register(stop_distributed)


def stop_distributed() -> None:
    """Leave the job: a barrier with the other processes, then the service stops (process
    0). Without it the processes abort at exit."""
    global _distributed
    with _lock:
        d, _distributed = _distributed, None
    if d is None:
        return
    d["client"].shutdown()
    if d["service"] is not None:
        d["service"].shutdown()


def distributed_info() -> tuple[int, int]:
    """(process index, process count): (0, 1) outside a distributed run."""
    d = _distributed
    return (0, 1) if d is None else (d["process_id"], d["num_processes"])


def devices_checked(platform: str | None = None) -> list[Device]:
    """Like devices(), but an unknown platform, or one with no device, raises."""
    found = devices(platform)
    if platform is not None and not found:
        known = sorted({d.platform for d in devices()})
        why = f"; {_gpu_problem}" if platform == "gpu" and _gpu_problem else ""
        raise UnknownDevice(f"no {platform!r} device is available (available: "
                            f"{', '.join(known)}){why}")
    return found


_default: Device | None = None


def default_device() -> Device:
    """The process's default device: the first GPU when there is one, else cpu:0
    (NABLA_DEFAULT_PLATFORM=cpu keeps the CPU)."""
    global _default
    if _default is None:
        wanted = os.environ.get("NABLA_DEFAULT_PLATFORM", "").lower()
        gpus = devices("gpu") if wanted != "cpu" else []
        cpus = devices("cpu")
        local = {d.id for d in cpus[0].client.local_devices()}
        _default = gpus[0] if gpus else next(d for d in cpus if d.pjrt.id in local)
    return _default


def aligned_copy(array: np.ndarray) -> np.ndarray:
    """A C-contiguous, 64-byte aligned copy of `array` (so device_put can alias it)."""
    nbytes = array.nbytes
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    offset = (-raw.ctypes.data) % 64
    out = raw[offset:offset + nbytes].view(array.dtype).reshape(array.shape)
    np.copyto(out, array, casting="no")
    return out


def aligned_full(shape, value, dtype) -> np.ndarray:
    """A C-contiguous, 64-byte aligned host array of `shape` filled with `value` (one
    allocation, unlike aligned_copy(np.full(...)))."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    offset = (-raw.ctypes.data) % 64
    out = raw[offset:offset + nbytes].view(dtype).reshape(shape)
    out.fill(value)
    return out


def is_aligned(array: np.ndarray) -> bool:
    return array.flags.c_contiguous and array.ctypes.data % 64 == 0


class _Capsule:
    """Hands a DLPack capsule to np.from_dlpack."""

    __slots__ = ("capsule",)

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU


_no_dlpack: set = set()  # dtypes NumPy cannot take through DLPack (bfloat16)


def to_numpy(buffer, dtype=None) -> np.ndarray:
    """A read-only NumPy view of a CPU device buffer, without a copy.

    Arrays made by our result handlers convert with NumPy's own protocol (a read-only
    view, ~2 us); bfloat16 (which that protocol turns into objects) and buffers made
    otherwise go through DLPack, whose capsule keeps the buffer alive as long as the view.
    """
    try:
        return _to_numpy(buffer, dtype)
    except Exception as e:  # an asynchronous run's allocation failure shows up here
        if _is_out_of_memory(e):
            raise _out_of_memory(e) from None
        raise


def _to_numpy(buffer, dtype) -> np.ndarray:
    _, jx = _jaxlib()
    if dtype is not None and dtype.kind in "biuf" and dtype.itemsize and dtype not in _no_dlpack:
        out = np.asarray(buffer)
        if out.dtype == dtype:
            return out
    if dtype is None or dtype not in _no_dlpack:
        jx.batched_block_until_ready([buffer])
        try:
            out = np.from_dlpack(_Capsule(jx.buffer_to_dlpack_managed_tensor(buffer)))
        except (TypeError, BufferError, ValueError, RuntimeError):
            if dtype is not None:
                _no_dlpack.add(dtype)
        else:
            out.flags.writeable = False
            return out
    out, _ = buffer._single_device_array_to_np_array_did_copy()
    return out


def copy_to(buffer, device: Device, np_dtype=None):
    """A copy of `buffer` on `device` (device to device, without a trip through Python)."""
    _, jx = _jaxlib()
    try:
        return jx.batched_copy_array_to_devices_with_sharding(
            [buffer], [device.device_list], [device.sharding], [jx.ArrayCopySemantics.ALWAYS_COPY])[0]
    except Exception as e:
        if _is_out_of_memory(e):
            raise _out_of_memory(e) from None
        raise


def block_until_ready(buffers) -> None:
    _, jx = _jaxlib()
    try:
        jx.batched_block_until_ready(list(buffers))
    except Exception as e:
        if _is_out_of_memory(e):
            raise _out_of_memory(e) from None
        raise


def dlpack_capsule(buffer):
    _, jx = _jaxlib()
    return jx.buffer_to_dlpack_managed_tensor(buffer)


# ---------------------------------------------------------------------------
# Compilation and execution
# ---------------------------------------------------------------------------
class CompileStats:
    """XLA compilations and executions in this process, by kind of program: `jit`
    (a jitted function), `fused` (a pending eager structure compiled as one program)
    and `kernel` (a one-primitive executable of the eager runtime's op-by-op tier)."""

    def __init__(self):
        self.compiles = 0
        self.compile_seconds = 0.0
        self.executions = 0
        self.by_kind: dict[str, int] = {}
        self.lock = threading.Lock()

    def add_compile(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.compiles += 1
            self.compile_seconds += seconds
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def __repr__(self) -> str:
        return (f"CompileStats(compiles={self.compiles}, compile_seconds={self.compile_seconds:.3f}, "
                f"executions={self.executions})")


stats = CompileStats()


class Executable:
    """A compiled program with result handlers made once; calling it runs it."""

    __slots__ = ("loaded", "device", "out_avals", "handlers", "text", "compile_seconds")

    def __init__(self, loaded, device: Device, out_avals, text: str, compile_seconds: float):
        _, jx = _jaxlib()
        self.loaded = loaded
        self.device = device
        self.out_avals = out_avals
        self.text = text
        self.compile_seconds = compile_seconds
        self.handlers = [jx.array_result_handler(HostAval(a.shape, a.dtype.np), device.sharding,
                                                 True, True) for a in out_avals]

    def __call__(self, buffers: list) -> list:
        with stats.lock:
            stats.executions += 1
        try:
            return self.loaded.execute_sharded(buffers).consume_with_handlers(self.handlers)
        except Exception as e:  # (a try costs nothing until it catches)
            if _is_out_of_memory(e):
                raise _out_of_memory(e) from None
            raise

    def memory_stats(self):
        return self.loaded.get_compiled_memory_stats()

    def cost_analysis(self):
        return self.loaded.cost_analysis()

    def hlo_text(self) -> str:
        return self.loaded.hlo_modules()[0].to_string()


# ---------------------------------------------------------------------------
# SPMD: one program over a mesh of devices, partitioned by XLA
# ---------------------------------------------------------------------------
class DeviceGroup:
    """The devices of a mesh, in mesh order: what an SPMD program is compiled for."""

    def __init__(self, devices: list[Device]):
        xc, _ = _jaxlib()
        self.devices = list(devices)
        self.client = devices[0].client
        self.ident = tuple(d.ident for d in devices)
        self.device_list = xc.DeviceList(tuple(d.pjrt for d in devices))
        self.assignment = xc.DeviceAssignment.create(np.array([[d.pjrt.id for d in devices]],
                                                              dtype=np.int32))
        local = {d.id for d in self.client.local_devices()}
        self.local = [k for k, d in enumerate(devices) if d.pjrt.id in local]  # this process's

    def sharding(self, hlo: str):
        """jaxlib's sharding object for HLO sharding text over these devices."""
        xc, jx = _jaxlib()
        return jx.GSPMDSharding(self.device_list, xc.HloSharding.from_string(hlo))


def shard_slices(hlo_sharding, shape) -> list[tuple]:
    """For each position in the device group, the slice of the global array it holds
    (tile assignment values are positions; dims beyond the rank are replication)."""
    dims = hlo_sharding.tile_assignment_dimensions()
    tiles = np.asarray(hlo_sharding.tile_assignment_devices()).reshape(dims)
    out = [None] * tiles.size
    for idx in np.ndindex(*dims):
        sl = []
        for d, size in enumerate(shape):
            step = -(-size // dims[d])
            sl.append(slice(idx[d] * step, min((idx[d] + 1) * step, size)))
        out[int(tiles[idx])] = tuple(sl)
    return out


def _slices(group: DeviceGroup, hlo: str, shape) -> list[tuple]:
    xc, _ = _jaxlib()
    hs = xc.HloSharding.from_string(hlo)
    if hs.is_replicated():
        return [tuple(slice(None) for _ in shape)] * len(group.devices)
    return shard_slices(hs, shape)


def put_sharded(host: np.ndarray, group: DeviceGroup, hlo: str):
    """One global array over `group` holding `host` split as `hlo` says (this process puts
    the shards of its own devices; uneven splits are padded, XLA ignores the padding)."""
    xc, _ = _jaxlib()
    slices = _slices(group, hlo, host.shape)
    shard_shape = tuple(s.stop - s.start if s.start is not None else n
                        for s, n in zip(_first_slice(slices, host.shape), host.shape))
    shards, devices = [], []
    for k in group.local:
        piece = host[slices[k]]
        if piece.shape != shard_shape:
            padded = np.zeros(shard_shape, host.dtype)
            padded[tuple(slice(0, n) for n in piece.shape)] = piece
            piece = padded
        shards.append(aligned_copy(np.ascontiguousarray(piece)))
        devices.append(group.devices[k].pjrt)
    try:
        return xc.batched_device_put(HostAval(host.shape, host.dtype), group.sharding(hlo), shards,
                                     devices, True, False, xc.HostBufferSemantics.ZERO_COPY, False)
    except Exception as e:
        if _is_out_of_memory(e):
            raise _out_of_memory(e) from None
        raise


def _first_slice(slices, shape):
    """The largest shard's slice (the first tile along every dim): every shard has its shape."""
    return [slice(0, max((s[d].stop or n) - (s[d].start or 0) for s in slices))
            for d, n in enumerate(shape)]


def gather(buffer, group: DeviceGroup, hlo: str, shape, np_dtype) -> np.ndarray:
    """The global array of a sharded buffer, assembled on the host from this process's
    shards; None if some part of it lives only on other processes' devices."""
    slices = _slices(group, hlo, shape)
    shards = buffer._arrays
    out = np.empty(shape, np_dtype)
    filled = np.zeros(shape, bool) if len(group.local) < len(group.devices) else None
    for k, shard in zip(group.local, shards):
        piece = to_numpy(shard, np.dtype(np_dtype))
        region = out[slices[k]]
        out[slices[k]] = piece[tuple(slice(0, n) for n in region.shape)]
        if filled is not None:
            filled[slices[k]] = True
    if filled is not None and not filled.all():
        return None
    return out


_spmd_lock = threading.Lock()


class SpmdExecutable:
    """A program partitioned over a DeviceGroup. Runs are serialized and waited for: the CPU
    client runs all partitions of a program on one thread pool, and two runs whose
    collectives interleave wait on each other for ever (XLA then aborts the process)."""

    def __init__(self, loaded, group: DeviceGroup, out_avals, text: str, seconds: float):
        xc, jx = _jaxlib()
        self.loaded = loaded
        self.group = group
        self.device = group
        self.out_avals = out_avals
        self.text = text
        self.compile_seconds = seconds
        # (a one-device group is not partitioned: XLA reports no shardings, all is replicated)
        outs = loaded.get_output_shardings() or [None] * len(out_avals)
        self.out_hlo = [str(xc.HloSharding.from_proto(p)) if p is not None else "{replicated}"
                        for p in outs]
        self.handlers = [jx.array_result_handler(HostAval(a.shape, a.dtype.np), group.sharding(h),
                                                 True, True)
                         for a, h in zip(out_avals, self.out_hlo)]

    def __call__(self, buffers: list) -> list:
        with stats.lock:
            stats.executions += 1
        with _spmd_lock:
            try:
                outs = self.loaded.execute_sharded(buffers).consume_with_handlers(self.handlers)
                block_until_ready(outs)
            except Exception as e:
                if _is_out_of_memory(e):
                    raise _out_of_memory(e) from None
                raise
        return outs

    def hlo_text(self) -> str:
        return self.loaded.hlo_modules()[0].to_string()

    def memory_stats(self):
        return self.loaded.get_compiled_memory_stats()

    def cost_analysis(self):
        return self.loaded.cost_analysis()


def compile_spmd(text: str, out_avals, group: DeviceGroup, kind: str = "jit",
                 propagate_outputs: bool = True) -> SpmdExecutable:
    """Compile module text whose arguments carry `mhlo.sharding` for the devices of `group`;
    XLA's SPMD partitioner splits it and inserts the collectives. Results without an
    annotation take the sharding XLA propagates to them."""
    xc, _ = _jaxlib()
    n = len(group.devices)
    options = xc.CompileOptions()
    options.num_replicas = 1
    options.num_partitions = n
    build = options.executable_build_options
    build.num_replicas = 1
    build.num_partitions = n
    build.use_spmd_partitioning = True
    if propagate_outputs:
        build.allow_spmd_sharding_propagation_to_output = [True]
    options.device_assignment = group.assignment
    start = time.perf_counter()
    loaded = group.client.compile_and_load(text, group.device_list, options)
    seconds = time.perf_counter() - start
    stats.add_compile(kind, seconds)
    return SpmdExecutable(loaded, group, out_avals, text, seconds)


# Programs whose arrays all have at most this many elements are compiled without
# LLVM optimization: their run time is dispatch-bound either way, and LLVM can take
# minutes and tens of GB on long elementwise chains over 3..15-element arrays
# (fully unrolled straight-line code), which an eager loop on tiny tensors produces.
TINY_PROGRAM_ELEMENTS = 64


def compile(text: str, out_avals, device: Device | None = None, tiny: bool = False,
            kind: str = "jit") -> Executable:
    """Compile StableHLO module text for one device (`tiny`: skip LLVM optimization)."""
    xc, _ = _jaxlib()
    device = device or default_device()
    options = xc.CompileOptions()
    # The device the program runs on (compile_and_load's device list alone leaves it at 0).
    options.executable_build_options.device_assignment = device.assignment
    if tiny:
        options.executable_build_options.debug_options.xla_backend_optimization_level = 0
    start = time.perf_counter()
    loaded = device.client.compile_and_load(text, device.device_list, options)
    seconds = time.perf_counter() - start
    stats.add_compile(kind, seconds)
    return Executable(loaded, device, out_avals, text, seconds)


_pool = None


def compile_many(jobs: list[tuple]) -> list[Executable]:
    """Compile several modules at once, in parallel on the host's cores (XLA releases the
    interpreter while it compiles). `jobs` holds the arguments of `compile`."""
    global _pool
    if len(jobs) == 1:
        return [compile(*jobs[0])]
    with _lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor
            _pool = ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1)),
                                       thread_name_prefix="nabla-compile")
    return list(_pool.map(lambda job: compile(*job), jobs))
