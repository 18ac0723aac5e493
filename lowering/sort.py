"""StableHLO rule of the sort family (mirrors nabla_like/ops/sort.py): one
`stablehlo.sort` of the operands and an iota along the axis, which comes back as the
permutation. The comparator reads the keys only; `is_stable` keeps ties in input order.
Float keys order NaNs last (first when descending), as NumPy, and -0.0 ties with 0.0
(a TOTALORDER compare would split them and put negative NaNs first)."""
from __future__ import annotations

from .mlir import register, stype

_COMPARE_TYPES = {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED", "b": "UNSIGNED"}
_I1 = stype((), "i1")


def _compare(em, a: str, b: str, direction: str, compare_type: str) -> str:
    return em.op("stablehlo.compare", [a, b], _I1,
                 {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                  "compare_type": f"#stablehlo<comparison_type {compare_type}>"})


def _before(em, a: str, b: str, dtype, descending: bool) -> str:
    """Whether key `a` sorts strictly before key `b`; NaN is the largest key."""
    ctype = _COMPARE_TYPES[dtype.kind]
    out = _compare(em, a, b, "GT" if descending else "LT", ctype)
    if dtype.kind == "f":
        big, small = (a, b) if descending else (b, a)
        nan_order = em.op("stablehlo.and", [_compare(em, big, big, "NE", ctype),
                                            _compare(em, small, small, "EQ", ctype)], _I1)
        out = em.op("stablehlo.or", [out, nan_order], _I1)
    return out


@register("sort")
def _sort(ctx, *operands, axis, descending):
    em = ctx.em
    avals = list(ctx.avals_out)
    iota = em.op("stablehlo.iota", [], avals[-1], {"iota_dimension": f"{axis} : i64"})
    scalar_types = [stype((), a.dtype.mlir) for a in avals]
    region = em.region([t for t in scalar_types for _ in (0, 1)],
                       lambda sub, *args: _before(sub, args[0], args[1], avals[0].dtype,
                                                  descending))
    return em.op("stablehlo.sort", [*operands, iota], avals,
                 {"dimension": f"{axis} : i64", "is_stable": "true"}, regions=[region])
