"""StableHLO rules for the indexing family (mirrors nabla_like/ops/indexing.py and
nabla_like/ops/gather_scatter.py).

gather/scatter use point indices on `axes` and full windows elsewhere; the
index vector is the last dim of the indices. XLA clamps gather indices and
skips out-of-range scatter updates; the other mode of each is emitted here
(a mask for gather "drop", a clamp for scatter "clip").
"""
from __future__ import annotations

from .mlir import i64_array, register, stype


def _dims(xs) -> str:
    return "[" + ", ".join(str(int(x)) for x in xs) + "]"


def _dimension_numbers(kind: str, fields: list[tuple[str, object]]) -> str:
    """`#stablehlo.<kind><...>`, leaving out empty lists (their default)."""
    parts = []
    for name, value in fields:
        if isinstance(value, int):
            parts.append(f"{name} = {value}")
        elif len(value):
            parts.append(f"{name} = {_dims(value)}")
    return f"#stablehlo.{kind}<{', '.join(parts)}>"


def _index_constant(em, values, idx_type: str, shape, dtype_mlir: str) -> str:
    """A constant of the indices' dtype holding `values` along the index-vector (last) dim,
    broadcast to the indices' shape."""
    vec_t = stype((len(values),), dtype_mlir)
    body = ", ".join(str(int(v)) for v in values)
    vec = em.op("stablehlo.constant", [], vec_t, {"value": f"dense<[{body}]> : {vec_t}"})
    return em.op("stablehlo.broadcast_in_dim", [vec], idx_type,
                 {"broadcast_dimensions": i64_array([len(shape) - 1])})


def _compare(em, a: str, b: str, direction: str, signed: bool, out_type: str) -> str:
    return em.op("stablehlo.compare", [a, b], out_type,
                 {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                  "compare_type": f"#stablehlo<comparison_type {'SIGNED' if signed else 'UNSIGNED'}>"})


def _in_bounds(ctx, idx: str, idx_aval, bounds) -> str:
    """tensor<B x i1>: whether every coordinate of each index vector is in range."""
    em = ctx.em
    dtype = idx_aval.dtype
    shape = idx_aval.shape
    idx_t = em.types[idx]
    pred_t = stype(shape, "i1")
    upper = _index_constant(em, [b for b in bounds], idx_t, shape, dtype.mlir)
    ok = _compare(em, idx, upper, "LT", dtype.kind == "i", pred_t)
    if dtype.kind == "i":
        zero = _index_constant(em, [0] * len(bounds), idx_t, shape, dtype.mlir)
        ok = em.op("stablehlo.and", [ok, _compare(em, idx, zero, "GE", True, pred_t)], pred_t)
    out_t = stype(shape[:-1], "i1")
    true = em.op("stablehlo.constant", [], stype((), "i1"), {"value": "dense<true> : tensor<i1>"})
    region = em.region([stype((), "i1")] * 2,
                       lambda sub, a, b: sub.op("stablehlo.and", [a, b], stype((), "i1")))
    return em.op("stablehlo.reduce", [ok, true], out_t,
                 {"dimensions": i64_array([len(shape) - 1])}, regions=[region])


def _clamp_indices(ctx, idx: str, idx_aval, bounds) -> str:
    em = ctx.em
    idx_t = em.types[idx]
    shape, mlir = idx_aval.shape, idx_aval.dtype.mlir
    low = _index_constant(em, [0] * len(bounds), idx_t, shape, mlir)
    high = _index_constant(em, [b - 1 for b in bounds], idx_t, shape, mlir)
    return em.op("stablehlo.clamp", [low, idx, high], idx_t)


@register("gather")
def _gather(ctx, x, idx, *, axes, mode):
    em = ctx.em
    x_aval, idx_aval = ctx.avals_in
    out = ctx.aval_out
    if out.size == 0 or any(x_aval.shape[a] == 0 for a in axes):
        return em.constant(0, out)  # nothing to read (a read from an empty axis reads zeros)
    nbatch = idx_aval.ndim - 1
    window = [i for i in range(x_aval.ndim) if i not in axes]
    dn = _dimension_numbers("gather", [
        ("offset_dims", list(range(nbatch, nbatch + len(window)))),
        ("collapsed_slice_dims", sorted(axes)),
        ("start_index_map", list(axes)),
        ("index_vector_dim", nbatch)])
    sizes = [1 if i in axes else d for i, d in enumerate(x_aval.shape)]
    result = em.op("stablehlo.gather", [x, idx], out,
                   {"dimension_numbers": dn, "slice_sizes": i64_array(sizes),
                    "indices_are_sorted": "false"})
    if mode == "drop":
        bounds = [x_aval.shape[a] for a in axes]
        ok = _in_bounds(ctx, idx, idx_aval, bounds)
        ok = em.op("stablehlo.broadcast_in_dim", [ok], stype(out.shape, "i1"),
                   {"broadcast_dimensions": i64_array(range(nbatch))})
        result = em.op("stablehlo.select", [ok, result, em.constant(0, out)], out)
    return result


def _scatter_rule(name: str, combine):
    @register(name)
    def rule(ctx, x, idx, upd, *, axes, mode):
        em = ctx.em
        x_aval, idx_aval, upd_aval = ctx.avals_in
        if upd_aval.size == 0 or x_aval.size == 0:
            return x  # nothing lands anywhere
        if mode == "clip":
            idx = _clamp_indices(ctx, idx, idx_aval, [x_aval.shape[a] for a in axes])
        nbatch = idx_aval.ndim - 1
        dn = _dimension_numbers("scatter", [
            ("update_window_dims", list(range(nbatch, upd_aval.ndim))),
            ("inserted_window_dims", sorted(axes)),
            ("scatter_dims_to_operand_dims", list(axes)),
            ("index_vector_dim", nbatch)])
        scalar_t = stype((), x_aval.dtype.mlir)
        is_bool = x_aval.dtype.kind == "b"
        region = em.region([scalar_t, scalar_t], lambda sub, a, b: combine(sub, a, b, scalar_t,
                                                                             is_bool))
        return em.op("stablehlo.scatter", [x, idx, upd], ctx.aval_out,
                     {"scatter_dimension_numbers": dn, "indices_are_sorted": "false",
                      "unique_indices": "false"}, regions=[region])
    return rule


def _binary(hlo: str, bool_hlo: str):
    def combine(sub, a, b, scalar_t, is_bool):
        return sub.op(bool_hlo if is_bool else hlo, [a, b], scalar_t)
    return combine


_scatter_rule("scatter", lambda sub, a, b, scalar_t, is_bool: b)
_scatter_rule("scatter_add", _binary("stablehlo.add", "stablehlo.or"))
_scatter_rule("scatter_mul", _binary("stablehlo.multiply", "stablehlo.and"))
_scatter_rule("scatter_min", _binary("stablehlo.minimum", "stablehlo.and"))
_scatter_rule("scatter_max", _binary("stablehlo.maximum", "stablehlo.or"))
