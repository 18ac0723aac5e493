"""nabla_like: a staged tracing compiler for array programs.

Write ordinary Python on tensors; nabla_like records it into its graph IR,
transforms it (grad, vjp, jvp, vmap, jacobians), lowers it to StableHLO and
runs it with XLA. Eager code is lazy: pending work compiles once per
structure and runs when a value is read.

Example:
    >>> import nabla_like as nb
    >>> x = nb.tensor([1.0, 2.0, 3.0])
    >>> nb.grad(lambda x: nb.sum(x * x))(x)
    Tensor([2. 4. 6.] : f32[3])
"""
from __future__ import annotations

from . import dtypes, errors, tree  # noqa: F401
from .core import enable_grad, grad_enabled, no_grad  # noqa: F401
from .creation import *  # noqa: F401,F403
from .creation import tensor  # noqa: F401
from .dtypes import (DType, bfloat16, bool_, finfo, float16, float32, float64, iinfo,  # noqa: F401
                     int8, int16, int32, int64, promote_types, uint8, uint16, uint32, uint64)
from .errors import (ArgumentError, ArgumentValueError, AxisError, BackwardError,  # noqa: F401
                     CompileError, ConcretizationError, DeviceError,
                     DTypeError, GradError, IndexingError, JitError, NablaError, RangeError, ShapeError,
                     TracerLeakError, TransformError, TreeError, UsageError, GradCheckError,
                     OutOfMemoryError, UnsupportedError)
from .autograd import backward, zero_grad  # noqa: F401
from .checks import *  # noqa: F401,F403
from .jit import jit  # noqa: F401
from .lazy import (CompileStats, ProgramCache, block_until_ready, compile_stats,  # noqa: F401
                   realize_all)
from .ops import *  # noqa: F401,F403
from . import random  # noqa: F401,E402  (nb.random: the key-based API, over ops/random.py)
# Loading the submodule nabla_like.linalg rebinds nb.linalg to it, over ops/linalg.py (which
# the star import above brought in): nb.linalg is the public namespace of linalg.py.
from .linalg import __all__ as _linalg_names  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .tensor import Tensor  # noqa: F401
from .placement import (Device, default_device, device, device_count, devices,  # noqa: F401
                      get_default_device, set_default_device)
from .sharding import (Mesh, NamedSharding, P, PartitionSpec, Sharding, make_mesh,  # noqa: F401
                       shard, with_sharding_constraint)
from . import distributed, nn, optim  # noqa: E402,F401  (after the ops: they are written with nb.*)

bool = bool_  # noqa: A001 - nb.bool, as numpy's np.bool
compile = jit  # noqa: A001 - nb.compile, Nabla's name for jit


__version__ = "0.1.0"


def clear_caches() -> None:
    """Drop every compiled program (lazy programs, eager kernels and jit executables), as
    jax.clear_caches; later calls compile again. Frees their memory; results are unchanged.

    Example:
        >>> f = nb.jit(lambda x: x + 1)
        >>> f(nb.ones(2))
        Tensor([2. 2.] : f32[2])
        >>> nb.clear_caches()
        >>> s = nb.compile_stats()
        >>> s.jit_signatures, s.kernels, s.fused_programs
        (0, 0, 0)
    """
    from .autograd import clear_backward_memos
    from .jit import clear_jit_caches
    from .transforms.graphs import clear_rewrite_cache
    ProgramCache.clear()
    clear_jit_caches()
    clear_rewrite_cache()
    clear_backward_memos()


# The public API: what the docs describe and `from nabla_like import *` gives. Everything
# else reachable as an attribute (the family modules, core, lazy...) is internal.
from . import checks, creation, ops, placement, sharding, transforms  # noqa: E402  (their __all__ lists)

__all__ = sorted({
    *creation.__all__, *checks.__all__, *ops.__all__, *transforms.__all__,
    "tensor", "Tensor", "DType", "bool", "bool_", "bfloat16", "float16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "finfo", "iinfo",
    "promote_types", "enable_grad", "grad_enabled", "no_grad", "backward", "zero_grad", "jit",
    "CompileStats", "ProgramCache", "block_until_ready", "compile_stats", "realize_all", "compile",
    *placement.__all__, *sharding.__all__, "clear_caches", "linalg", "random", "nn", "optim", "distributed",
    "tree", "dtypes", "errors",
    *(name for name in dir(errors) if name.endswith("Error")),
})
