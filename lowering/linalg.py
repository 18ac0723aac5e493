"""StableHLO rules for the linalg family (mirrors nabla_like/ops/linalg.py)."""
from __future__ import annotations

from .mlir import register, i64_array, ttype  # noqa: F401
