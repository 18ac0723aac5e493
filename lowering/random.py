"""StableHLO rules for the random family (mirrors nabla_like/ops/random.py)."""
from __future__ import annotations

from .mlir import register, i64_array, ttype  # noqa: F401
