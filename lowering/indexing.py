"""StableHLO rules for the indexing family (mirrors nabla_like/ops/indexing.py)."""
from __future__ import annotations

from .mlir import register, i64_array, ttype  # noqa: F401
