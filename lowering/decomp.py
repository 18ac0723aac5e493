"""StableHLO rules for the decompositions (mirrors nabla_like/ops/decomp.py).

cholesky, triangular_solve, lu, qr, eigh and svd call jaxlib's LAPACK kernels (typed FFI custom calls named
`lapack_<s|d><routine>_ffi`), registered with XLA once, on first use. The kernels
read and write column-major matrices, so matrix operands and results carry the layout
{rank-2, rank-1, rank-3, ..., 0} (minor to major); vectors keep the default row-major
layout. Leading dims are a batch the kernels loop over. Where a kernel reports failure
(`info != 0`) the results are NaN, as in JAX.
"""
from __future__ import annotations

import threading

from .mlir import i64_array, register, stype, ttype

_registered = False
_register_lock = threading.Lock()


def _register_lapack() -> None:
    """Hand jaxlib's LAPACK FFI handlers to XLA (before the first module that calls one
    is compiled)."""
    global _registered
    if _registered:
        return
    with _register_lock:
        if _registered:
            return
        from jaxlib import xla_client
        from jaxlib.cpu import _lapack
        _lapack.initialize()
        for name, capsule in _lapack.registrations().items():
            if name.endswith("_ffi"):  # api_version 1: the typed FFI
                xla_client.register_custom_call_target(name, capsule, platform="cpu",
                                                       api_version=1)
        _registered = True


def _prefix(dtype) -> str:
    return {"f32": "s", "f64": "d"}[dtype.mlir]


def _layout(rank: int, matrix: bool) -> str:
    dims = [rank - 2, rank - 1] + list(range(rank - 3, -1, -1)) if matrix and rank >= 2 \
        else list(range(rank - 1, -1, -1))
    return f"dense<[{', '.join(map(str, dims))}]> : tensor<{rank}xindex>" if rank \
        else "dense<> : tensor<0xindex>"


def _lapack_call(em, routine: str, dtype, operands, in_shapes, results, attrs=None):
    """A LAPACK custom call; `results` are (shape, mlir dtype) pairs. Arrays of the largest
    rank among the operands are the matrices (column-major)."""
    _register_lapack()
    rank = max(len(s) for s in in_shapes)
    operand_layouts = [_layout(len(s), len(s) == rank) for s in in_shapes]
    result_layouts = [_layout(len(s), len(s) == rank) for s, _ in results]
    config = ", ".join(f"{k} = {ord(v)} : ui8" for k, v in (attrs or {}).items())
    return em.op("stablehlo.custom_call", operands, [stype(s, t) for s, t in results], {
        "call_target_name": f'"lapack_{_prefix(dtype)}{routine}_ffi"',
        "api_version": "4 : i32",
        "backend_config": "{" + config + "}",
        "operand_layouts": "[" + ", ".join(operand_layouts) + "]",
        "result_layouts": "[" + ", ".join(result_layouts) + "]",
    })


# ---------------------------------------------------------------------------
# small emit helpers
# ---------------------------------------------------------------------------
def _const(em, value, shape, mlir: str) -> str:
    """A splat constant; `value` is a number or an MLIR literal (a hex bit pattern)."""
    if mlir.startswith("f") and not isinstance(value, str):
        value = repr(float(value))
    t = stype((), mlir)
    scalar = em.op("stablehlo.constant", [], t, {"value": f"dense<{value}> : {t}"})
    if not shape:
        return scalar
    return em.op("stablehlo.broadcast_in_dim", [scalar], stype(shape, mlir),
                 {"broadcast_dimensions": i64_array([])})


def _compare(em, x, y, shape, direction: str, signed: bool = True) -> str:
    kind = "SIGNED" if signed else "FLOAT"
    return em.op("stablehlo.compare", [x, y], stype(shape, "i1"),
                 {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                  "compare_type": f"#stablehlo<comparison_type {kind}>"})


def _iota(em, shape, dim: int) -> str:
    return em.op("stablehlo.iota", [], stype(shape, "i32"), {"iota_dimension": f"{dim} : i64"})


def _triangle(em, x, shape, mlir: str, lower: bool) -> str:
    """The lower (or upper) triangle of the last two dims of `x`, zeros elsewhere."""
    rank = len(shape)
    rows, cols = _iota(em, shape, rank - 2), _iota(em, shape, rank - 1)
    keep = _compare(em, cols, rows, shape, "LE" if lower else "GE")
    return em.op("stablehlo.select", [keep, x, _const(em, 0, shape, mlir)], stype(shape, mlir))


def _slice(em, x, shape, limits, mlir: str) -> str:
    return em.op("stablehlo.slice", [x], stype(limits, mlir),
                 {"start_indices": i64_array([0] * len(shape)), "limit_indices": i64_array(limits),
                  "strides": i64_array([1] * len(shape))})


def _nan_unless_ok(em, info, batch, x, shape, mlir: str) -> str:
    """`x` where the kernel's `info` is 0, NaN elsewhere (per matrix of the batch)."""
    ok = _compare(em, info, _const(em, 0, batch, "i32"), batch, "EQ")
    ok = em.op("stablehlo.broadcast_in_dim", [ok], stype(shape, "i1"),
               {"broadcast_dimensions": i64_array(range(len(batch)))})
    return em.op("stablehlo.select", [ok, x, _const(em, "0x7FF8000000000000" if mlir == "f64"
                                                   else "0x7FC00000", shape, mlir)],
                 stype(shape, mlir))


def _empty(em, avals):
    """Results for operands without elements: zeros (and the identity permutation)."""
    return [_const(em, 0, a.shape, a.dtype.mlir) for a in avals]


# ---------------------------------------------------------------------------
# cholesky and triangular_solve: StableHLO's own ops
# ---------------------------------------------------------------------------
@register("cholesky")
def _cholesky(ctx, a):
    """LAPACK's potrf (XLA's CPU expansion of stablehlo.cholesky is a scalar loop, ~10x
    slower at 256x256); the other triangle of its result is unspecified, so it is zeroed."""
    em = ctx.em
    aval = ctx.aval_out
    batch, mlir = aval.shape[:-2], aval.dtype.mlir
    if aval.size == 0:
        return _empty(em, [aval])[0]
    out, info = _lapack_call(em, "potrf", aval.dtype, [a], [aval.shape],
                             [(aval.shape, mlir), (batch, "i32")], {"uplo": "L"})
    out = _triangle(em, out, aval.shape, mlir, lower=True)
    return _nan_unless_ok(em, info, batch, out, aval.shape, mlir)


@register("triangular_solve")
def _triangular_solve(ctx, a, b, *, left_side, lower, transpose_a, unit_diagonal):
    """BLAS trsm through jaxlib's kernel: b overwritten by op(a)^-1 b (or b op(a)^-1)."""
    em = ctx.em
    a_aval, b_aval = ctx.avals_in
    if a_aval.size == 0 or b_aval.size == 0:
        return _empty(em, [ctx.aval_out])[0]
    mlir = b_aval.dtype.mlir
    (out,) = _lapack_call(em, "trsm", b_aval.dtype, [a, b],
                          [a_aval.shape, b_aval.shape], [(b_aval.shape, mlir)],
                          {"side": "L" if left_side else "R", "uplo": "L" if lower else "U",
                           "trans_x": "T" if transpose_a else "N",
                           "diag": "U" if unit_diagonal else "N"})
    return out


# ---------------------------------------------------------------------------
# lu: getrf, then the permutation the row swaps make
# ---------------------------------------------------------------------------
def _swaps_to_permutation(em, pivots, batch, k: int, m: int) -> str:
    """perm = range(m), then for i < k: swap perm[i] and perm[pivots[i]]."""
    nb = len(batch)
    shape = batch + (m,)
    perm_t, i_t = stype(shape, "i32"), "tensor<i32>"

    def cond(sub, i, perm):
        return _compare(sub, i, _const(sub, k, (), "i32"), (), "LT")

    def body(sub, i, perm):
        zero = _const(sub, 0, (), "i32")
        starts = [zero] * nb + [i]
        col_t = stype(batch + (1,), "i32")
        sizes = {"slice_sizes": i64_array(list(batch) + [1])}
        p = sub.op("stablehlo.dynamic_slice", [pivots] + starts, col_t, sizes)
        perm_i = sub.op("stablehlo.dynamic_slice", [perm] + starts, col_t, sizes)
        spread = {"broadcast_dimensions": i64_array(range(nb + 1))}
        p = sub.op("stablehlo.broadcast_in_dim", [p], perm_t, spread)
        perm_i = sub.op("stablehlo.broadcast_in_dim", [perm_i], perm_t, spread)
        positions = _iota(sub, shape, nb)
        at_i = _compare(sub, positions, sub.op("stablehlo.broadcast_in_dim", [i], perm_t,
                                               {"broadcast_dimensions": i64_array([])}), shape, "EQ")
        at_p = _compare(sub, positions, p, shape, "EQ")
        picked = sub.op("stablehlo.select", [at_p, perm, _const(sub, 0, shape, "i32")], perm_t)
        region = sub.region(["tensor<i32>", "tensor<i32>"],
                            lambda r, x, y: r.op("stablehlo.add", [x, y], "tensor<i32>"))
        perm_p = sub.op("stablehlo.reduce", [picked, zero], stype(batch, "i32"),
                        {"dimensions": i64_array([nb])}, regions=[region])
        perm_p = sub.op("stablehlo.broadcast_in_dim", [perm_p], perm_t,
                        {"broadcast_dimensions": i64_array(range(nb))})
        swapped = sub.op("stablehlo.select", [at_p, perm_i, perm], perm_t)
        swapped = sub.op("stablehlo.select", [at_i, perm_p, swapped], perm_t)
        return [sub.op("stablehlo.add", [i, _const(sub, 1, (), "i32")], i_t), swapped]

    types = [i_t, perm_t]
    start = [_const(em, 0, (), "i32"), _iota(em, shape, nb)]
    out = em.op("stablehlo.while", start, types, regions=[em.region(types, cond),
                                                          em.region(types, body)])
    return out[1]


@register("lu")
def _lu(ctx, a):
    em = ctx.em
    aval = ctx.avals_in[0]
    lu_aval, piv_aval, perm_aval = ctx.avals_out
    batch, (m, n) = aval.shape[:-2], aval.shape[-2:]
    k = min(m, n)
    if aval.size == 0:
        zeros = _empty(em, ctx.avals_out[:2])
        return zeros + [_iota(em, perm_aval.shape, len(batch))]
    lu, ipiv, _ = _lapack_call(em, "getrf", aval.dtype, [a], [aval.shape],
                               [(aval.shape, aval.dtype.mlir), (piv_aval.shape, "i32"),
                                (batch, "i32")])
    pivots = em.op("stablehlo.subtract", [ipiv, _const(em, 1, piv_aval.shape, "i32")],
                   ttype(piv_aval))  # LAPACK counts rows from 1
    return [lu, pivots, _swaps_to_permutation(em, pivots, batch, k, m)]


# ---------------------------------------------------------------------------
# qr: geqrf (R above the diagonal, Householder vectors below), orgqr (Q from them)
# ---------------------------------------------------------------------------
@register("qr")
def _qr(ctx, a, *, full_matrices):
    em = ctx.em
    aval = ctx.avals_in[0]
    q_aval, r_aval = ctx.avals_out
    dtype, mlir = aval.dtype, aval.dtype.mlir
    batch, (m, n) = aval.shape[:-2], aval.shape[-2:]
    k = min(m, n)
    if aval.size == 0 or q_aval.size == 0:
        return _empty(em, ctx.avals_out)
    tau_shape = batch + (k,)
    packed, tau = _lapack_call(em, "geqrf", dtype, [a], [aval.shape],
                               [(aval.shape, mlir), (tau_shape, mlir)])
    q_cols = q_aval.shape[-1]
    if q_cols > n:  # complete Q of a tall matrix: orgqr fills the zero columns in
        q_in = em.op("stablehlo.pad", [packed, _const(em, 0, (), mlir)], ttype(q_aval), {
            "edge_padding_low": i64_array([0] * aval.ndim),
            "edge_padding_high": i64_array([0] * (aval.ndim - 1) + [q_cols - n]),
            "interior_padding": i64_array([0] * aval.ndim)})
    elif q_cols < n:
        q_in = _slice(em, packed, aval.shape, q_aval.shape, mlir)
    else:
        q_in = packed
    q = _lapack_call(em, "orgqr", dtype, [q_in, tau], [q_aval.shape, tau_shape],
                     [(q_aval.shape, mlir)])[0]
    r = packed if r_aval.shape == aval.shape else _slice(em, packed, aval.shape, r_aval.shape, mlir)
    return [q, _triangle(em, r, r_aval.shape, mlir, lower=False)]


# ---------------------------------------------------------------------------
# eigh (syevd) and svd (gesdd)
# ---------------------------------------------------------------------------
@register("eigh")
def _eigh(ctx, a):
    em = ctx.em
    aval = ctx.avals_in[0]
    w_aval, v_aval = ctx.avals_out
    batch, mlir = aval.shape[:-2], aval.dtype.mlir
    if aval.size == 0:
        return _empty(em, ctx.avals_out)
    v, w, info = _lapack_call(em, "syevd", aval.dtype, [a], [aval.shape],
                              [(aval.shape, mlir), (w_aval.shape, mlir), (batch, "i32")],
                              {"mode": "V", "uplo": "L"})
    return [_nan_unless_ok(em, info, batch, w, w_aval.shape, mlir),
            _nan_unless_ok(em, info, batch, v, v_aval.shape, mlir)]


@register("svd")
def _svd(ctx, a, *, full_matrices, compute_uv):
    em = ctx.em
    aval = ctx.avals_in[0]
    batch, (m, n) = aval.shape[:-2], aval.shape[-2:]
    mlir = aval.dtype.mlir
    k = min(m, n)
    if aval.size == 0:
        outs = _empty(em, ctx.avals_out)
        return outs
    full = full_matrices and compute_uv
    u_shape = batch + (m, m if full else k)
    vh_shape = batch + (n if full else k, n)
    mode = ("A" if full else "S") if compute_uv else "N"
    _, s, u, vh, info = _lapack_call(em, "gesdd", aval.dtype, [a], [aval.shape], [
        (aval.shape, mlir), (batch + (k,), mlir), (u_shape, mlir), (vh_shape, mlir),
        (batch, "i32")], {"mode": mode})
    s = _nan_unless_ok(em, info, batch, s, batch + (k,), mlir)
    if not compute_uv:
        return [s]
    return [_nan_unless_ok(em, info, batch, u, u_shape, mlir), s,
            _nan_unless_ok(em, info, batch, vh, vh_shape, mlir)]
