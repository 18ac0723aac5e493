"""Lowering: IR graphs to StableHLO text, and XLA compile/execute through jaxlib.

This package reads the IR (graphs of nodes with primitive names, params and
avals) and never imports `nabla_like`. `mlir` holds the emitter and the graph
walk; each family file registers the StableHLO rules of one op family, mirroring
`nabla_like/ops/`; `runtime` owns devices, buffers and executables.
"""
# importing the family files registers their rules
from . import (call, control, conv, creation, custom, decomp, elementwise, indexing,  # noqa: F401
               linalg, random, reduce, shape)
from . import sort  # noqa: F401  (the sort family: nabla_like/ops/sort.py)
from . import sharding  # noqa: F401  (layout constraints: nabla_like/sharding.py)
from .mlir import LOWERINGS, largest_array, lower_graph, register  # noqa: F401
from . import runtime  # noqa: F401
