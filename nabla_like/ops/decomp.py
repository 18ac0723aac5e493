"""Matrix decompositions: the `cholesky`, `triangular_solve`, `lu`, `qr`, `eigh` and `svd`
primitives (the public functions built on them live in `nabla_like/linalg.py`).

Each acts on the last two dims of its operands; leading dims are a batch, so every batch
rule moves the vmapped axis to the front, where it is one more leading dim. Operands are
float32 or float64 (LAPACK's s and d routines; StableHLO's own cholesky and
triangular_solve). Derivatives are those of the real case:

* cholesky, triangular_solve, lu (any shape): exact wherever the factorization exists;
* qr: any shape with reduced factors, and square ones complete (JAX's rules); tall
  matrices with full_matrices raise UnsupportedError (Q's extra columns are not unique);
* eigh: undefined at repeated eigenvalues (the rule divides by their differences);
* svd: reduced factors with distinct nonzero singular values; full_matrices raises.

cholesky and eigh read only the lower triangle of their operand, and their rules
differentiate exactly that: a tangent ta acts as tril(ta) + tril(ta, -1)^T.
"""
from __future__ import annotations

from ..core import Primitive, bind
from ..dtypes import float32, float64, int32
from ..errors import DTypeError, ShapeError, UnsupportedError, raise_error
from ..ir import Aval
from ._common import batch_size, move_bdim

FLOAT_DTYPES = (float32, float64)


def check_matrix(op: str, aval: Aval, *, square: bool = True) -> None:
    """A float32/float64 operand of rank >= 2 (square if asked)."""
    if aval.ndim < 2 or (square and aval.shape[-1] != aval.shape[-2]):
        what = "a square matrix [..., n, n]" if square else "a matrix [..., m, n]"
        raise_error(ShapeError, op, f"expected {what}, got {aval.short()}")
    if aval.dtype not in FLOAT_DTYPES:
        raise_error(DTypeError, op, f"expected float32 or float64, got {aval.short()}")


# ---------------------------------------------------------------------------
# Helpers for the rules (written with ordinary ops; they record wherever the rule runs)
# ---------------------------------------------------------------------------
def _mT(x):
    return _shape.swapaxes(x, -1, -2)


def _mm(a, b):
    return _la.matmul(a, b)


def _eye(n: int, like):
    return _creation.eye(n, dtype=like.dtype)


def _diag_part(x):
    """x with everything off the diagonal zeroed (square x)."""
    return _ew.mul(x, _eye(x.shape[-1], x))


def _diag(x):
    return _red.sum(_diag_part(x), axis=-1)


def _diag_embed(v):
    return _ew.mul(_shape.expand_dims(v, -2), _eye(v.shape[-1], v))


def _sym_lower(t):
    """The symmetric matrix a routine that reads only the lower triangle sees."""
    return _ew.add(_creation.tril(t), _mT(_creation.tril(t, -1)))


def _sym_lower_T(g):
    """Adjoint of `_sym_lower`."""
    return _ew.add(_creation.tril(g), _creation.tril(_mT(g), -1))


def _solve(a, b, *, left_side=True, lower=True, transpose_a=False, unit_diagonal=False):
    return bind(triangular_solve_p, a, b, left_side=left_side, lower=lower,
                transpose_a=transpose_a, unit_diagonal=unit_diagonal)


def _front(args, bdims):
    size = batch_size(args, bdims)
    return [move_bdim(x, d, 0, size) for x, d in zip(args, bdims)]


def _batch_front(prim: Primitive):
    """Batch rule of a decomposition: the vmapped axis becomes the first leading dim."""
    def rule(args, bdims, **params):
        outs = bind(prim, *_front(args, bdims), **params)
        if prim.multiple_results:
            return outs, (0,) * len(outs)
        return outs, 0
    return rule


# ---------------------------------------------------------------------------
# cholesky: A = L L^T, L lower (reads the lower triangle of A)
# ---------------------------------------------------------------------------
cholesky_p = Primitive("cholesky")


@cholesky_p.def_abstract_eval
def _cholesky_abstract_eval(a: Aval) -> Aval:
    check_matrix("cholesky", a)
    return a.strong()


def _phi(x):
    """The lower triangle with a halved diagonal."""
    return _ew.sub(_creation.tril(x), _ew.mul(_diag_part(x), 0.5))


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents, outs):
    # dL = L phi(L^-1 dA L^-T)
    (chol,), (ta,) = outs, tangents
    x = _solve(chol, _solve(chol, _sym_lower(ta)), left_side=False, transpose_a=True)
    return _mm(chol, _phi(x))


@cholesky_p.def_vjp
def _cholesky_vjp(ct, primals, outs):
    (chol,) = outs
    p = _phi(_mm(_mT(chol), ct))
    g = _solve(chol, _solve(chol, p, transpose_a=True), left_side=False)  # L^-T P L^-1
    return (_sym_lower_T(g),)


cholesky_p.def_batch(_batch_front(cholesky_p))


# ---------------------------------------------------------------------------
# triangular_solve: x with op(a) x = b (left_side) or x op(a) = b; op(a) = a or a^T
# ---------------------------------------------------------------------------
triangular_solve_p = Primitive("triangular_solve")


@triangular_solve_p.def_abstract_eval
def _triangular_solve_abstract_eval(a: Aval, b: Aval, *, left_side, lower, transpose_a,
                                    unit_diagonal) -> Aval:
    check_matrix("triangular_solve", a)
    check_matrix("triangular_solve", b, square=False)
    n = a.shape[-1]
    k = b.shape[-2] if left_side else b.shape[-1]
    if a.dtype is not b.dtype or a.shape[:-2] != b.shape[:-2] or k != n:
        raise_error(ShapeError, "triangular_solve", f"cannot solve with {a.short()} and "
                    f"{b.short()} (left_side={left_side})")
    return b.strong()


def _triangle(t, *, lower, unit_diagonal):
    """The part of `t` a triangular solve reads."""
    if lower:
        return _creation.tril(t, -1 if unit_diagonal else 0)
    return _creation.triu(t, 1 if unit_diagonal else 0)


@triangular_solve_p.def_jvp
def _triangular_solve_jvp(primals, tangents, outs, **params):
    a, _ = primals
    ta, tb = tangents
    (x,) = outs
    rhs = tb
    if ta is not None:
        da = _triangle(ta, lower=params["lower"], unit_diagonal=params["unit_diagonal"])
        if params["transpose_a"]:
            da = _mT(da)
        correction = _mm(da, x) if params["left_side"] else _mm(x, da)
        rhs = _ew.neg(correction) if rhs is None else _ew.sub(rhs, correction)
    return bind(triangular_solve_p, a, rhs, **params)


@triangular_solve_p.def_vjp
def _triangular_solve_vjp(ct, primals, outs, **params):
    a, _ = primals
    (x,) = outs
    ct_b = bind(triangular_solve_p, a, ct, **{**params, "transpose_a": not params["transpose_a"]})
    g = _mm(ct_b, _mT(x)) if params["left_side"] else _mm(_mT(x), ct_b)
    if params["transpose_a"]:
        g = _mT(g)
    ct_a = _ew.neg(_triangle(g, lower=params["lower"], unit_diagonal=params["unit_diagonal"]))
    return ct_a, ct_b


triangular_solve_p.def_batch(_batch_front(triangular_solve_p))


# ---------------------------------------------------------------------------
# lu: P A = L U with partial pivoting (getrf). Outputs: L and U packed in one matrix
# (L's unit diagonal implied), the 0-based pivot rows, and the permutation `perm` with
# A[perm] = L U.
# ---------------------------------------------------------------------------
lu_p = Primitive("lu", multiple_results=True)


@lu_p.def_abstract_eval
def _lu_abstract_eval(a: Aval):
    check_matrix("lu", a, square=False)
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    return a.strong(), Aval(batch + (min(m, n),), int32), Aval(batch + (m,), int32)


def _pad_last2(x, rows: int, cols: int):
    """x with `rows` zero rows and `cols` zero columns appended."""
    lead = (0,) * (x.ndim - 2)
    return _shape.pad_general(x, 0.0, lead + (0, 0), lead + (rows, cols))


def _lu_factors(lu):
    """L [m, m] and U [n, n] of a packed [m, n] factorization, made square: L's columns past
    k = min(m, n) are those of the identity, and so are U's rows past k (JAX's convention
    for the derivative of rectangular lu; for square matrices, L and U themselves)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    lower = _ew.add(_pad_last2(_creation.tril(_shape.slice_axis(lu, lu.ndim - 1, 0, k), -1), 0, m - k),
                    _eye(m, lu))
    upper = _pad_last2(_creation.triu(_shape.slice_axis(lu, lu.ndim - 2, 0, k)), n - k, 0)
    if n > k:
        upper = _ew.add(upper, _shape.pad_general(_eye(n - k, lu), 0.0, (k, k), (0, 0)))
    return lower, upper


def _permutation_matrix(perm, like):
    """P with P[i, j] = 1 where perm[i] == j, so that P @ A = A[perm]."""
    n = perm.shape[-1]
    cols = _creation.iota((n,), dtype=int32)
    return _ew.cast(_ew.equal(_shape.expand_dims(perm, -1), cols), like.dtype)


@lu_p.def_jvp
def _lu_jvp(primals, tangents, outs):
    # With X = L^-1 P dA U^-1: dL = L tril(X, -1), dU = triu(X) U (packed like lu).
    (ta,) = tangents
    lu, _, perm = outs
    lower, upper = _lu_factors(lu)
    x = _solve(lower, _mm(_permutation_matrix(perm, lu), ta), unit_diagonal=True)
    x = _solve(upper, x, left_side=False, lower=False)
    dlu = _ew.add(_mm(lower, _creation.tril(x, -1)), _mm(_creation.triu(x), upper))
    return dlu, None, None


@lu_p.def_vjp
def _lu_vjp(cts, primals, outs):
    ct = cts[0]
    lu, _, perm = outs
    lower, upper = _lu_factors(lu)
    g = _ew.add(_creation.tril(_mm(_mT(lower), _creation.tril(ct, -1)), -1),
                _creation.triu(_mm(_creation.triu(ct), _mT(upper))))
    h = _solve(lower, g, transpose_a=True, unit_diagonal=True)
    h = _solve(upper, h, left_side=False, lower=False, transpose_a=True)
    return (_mm(_mT(_permutation_matrix(perm, lu)), h),)


lu_p.def_batch(_batch_front(lu_p))


# ---------------------------------------------------------------------------
# qr: A = Q R (geqrf + orgqr). Reduced: Q [m, k], R [k, n]; complete: Q [m, m], R [m, n].
# ---------------------------------------------------------------------------
qr_p = Primitive("qr", multiple_results=True)


@qr_p.def_abstract_eval
def _qr_abstract_eval(a: Aval, *, full_matrices: bool):
    check_matrix("qr", a, square=False)
    m, n = a.shape[-2:]
    k = m if full_matrices else min(m, n)
    batch = a.shape[:-2]
    return Aval(batch + (m, k), a.dtype), Aval(batch + (k, n), a.dtype)


def _require_differentiable_qr(a, full_matrices: bool) -> None:
    m, n = a.shape[-2:]
    if full_matrices and m > n:
        raise_error(UnsupportedError, "linalg.qr", f"the derivative with mode='complete' is not "
                    f"defined for tall matrices (the trailing columns of Q are not unique), got "
                    f"shape {a.shape}; use mode='reduced'")


def _square_qr_jvp(q, r, ta):
    """(dQ, dR) of A = QR with R square and invertible (m >= n, reduced)."""
    y = _solve(r, ta, left_side=False, lower=False)        # dA R^-1
    c = _mm(_mT(q), y)
    low = _creation.tril(c, -1)
    omega = _ew.sub(low, _mT(low))                          # Q^T dQ (skew-symmetric)
    return _ew.add(_mm(q, _ew.sub(omega, c)), y), _mm(_ew.sub(c, omega), r)


def _square_qr_vjp(q, r, ct_q, ct_r):
    m_ = _ew.sub(_mm(ct_r, _mT(r)), _mm(_mT(q), ct_q))
    n_ = _ew.sub(m_, _creation.tril(_ew.sub(m_, _mT(m_)), -1))
    ct_y = _ew.add(ct_q, _mm(q, n_))
    return _solve(r, ct_y, left_side=False, lower=False, transpose_a=True)


def _split_wide(x, m: int):
    """[X | Y] of a wide matrix: its leading m columns and the rest."""
    n = x.shape[-1]
    return _shape.slice_axis(x, x.ndim - 1, 0, m), _shape.slice_axis(x, x.ndim - 1, m, n)


# Wide A = [X | Y] (m < n): Q, R_X = qr(X) and R = [R_X | Q^T Y], so the square rule gives
# dQ and dR_X from dX, and dR_Y = dQ^T Y + Q^T dY; reverse mode is its transpose.
@qr_p.def_jvp
def _qr_jvp(primals, tangents, outs, *, full_matrices):
    (a,), (ta,) = primals, tangents
    _require_differentiable_qr(a, full_matrices)
    q, r = outs
    m, n = a.shape[-2:]
    if m >= n:
        return _square_qr_jvp(q, r, ta)
    (_, y), (tx, ty), (rx, _) = _split_wide(a, m), _split_wide(ta, m), _split_wide(r, m)
    dq, drx = _square_qr_jvp(q, rx, tx)
    dry = _ew.add(_mm(_mT(dq), y), _mm(_mT(q), ty))
    return dq, _shape.concatenate([drx, dry], axis=-1)


@qr_p.def_vjp
def _qr_vjp(cts, primals, outs, *, full_matrices):
    (a,) = primals
    _require_differentiable_qr(a, full_matrices)
    ct_q, ct_r = cts
    q, r = outs
    m, n = a.shape[-2:]
    if m >= n:
        return (_square_qr_vjp(q, r, ct_q, ct_r),)
    (_, y), (rx, _), (ct_rx, ct_ry) = _split_wide(a, m), _split_wide(r, m), _split_wide(ct_r, m)
    ct_x = _square_qr_vjp(q, rx, _ew.add(ct_q, _mm(y, _mT(ct_ry))), ct_rx)
    return (_shape.concatenate([ct_x, _mm(q, ct_ry)], axis=-1),)


qr_p.def_batch(_batch_front(qr_p))


# ---------------------------------------------------------------------------
# eigh: A = V diag(w) V^T, w ascending (syevd on the lower triangle). Outputs (w, V).
# ---------------------------------------------------------------------------
eigh_p = Primitive("eigh", multiple_results=True)


@eigh_p.def_abstract_eval
def _eigh_abstract_eval(a: Aval):
    check_matrix("eigh", a)
    return Aval(a.shape[:-1], a.dtype), a.strong()


def _gap_inverse(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it (inf at repeated values)."""
    eye = _eye(w.shape[-1], w)
    diff = _ew.sub(_shape.expand_dims(w, -2), _shape.expand_dims(w, -1))
    return _ew.sub(_ew.reciprocal(_ew.add(diff, eye)), eye)


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, outs):
    (ta,) = tangents
    w, v = outs
    k = _mm(_mT(v), _mm(_sym_lower(ta), v))
    return _diag(k), _mm(v, _ew.mul(_gap_inverse(w), k))


@eigh_p.def_vjp
def _eigh_vjp(cts, primals, outs):
    ct_w, ct_v = cts
    w, v = outs
    inner = _ew.add(_diag_embed(ct_w), _ew.mul(_gap_inverse(w), _mm(_mT(v), ct_v)))
    return (_sym_lower_T(_mm(v, _mm(inner, _mT(v)))),)


eigh_p.def_batch(_batch_front(eigh_p))


# ---------------------------------------------------------------------------
# svd: A = U diag(s) Vh, s descending (gesdd). Outputs (U, s, Vh), or (s,) without
# compute_uv. Reduced: U [m, k], Vh [k, n]; full: U [m, m], Vh [n, n].
# ---------------------------------------------------------------------------
svd_p = Primitive("svd", multiple_results=True)


@svd_p.def_abstract_eval
def _svd_abstract_eval(a: Aval, *, full_matrices: bool, compute_uv: bool):
    check_matrix("svd", a, square=False)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    s = Aval(batch + (k,), a.dtype)
    if not compute_uv:
        return (s,)
    u = Aval(batch + (m, m if full_matrices else k), a.dtype)
    vh = Aval(batch + (n if full_matrices else k, n), a.dtype)
    return u, s, vh


def _svd_factors(a, outs, full_matrices, compute_uv):
    if full_matrices:
        raise_error(UnsupportedError, "linalg.svd", "the derivative of the full U and V^T "
                    "(full_matrices=True) is not defined (their extra columns are not unique); "
                    "use full_matrices=False")
    if compute_uv:
        return outs
    return bind(svd_p, a, full_matrices=False, compute_uv=True)


def _svd_gaps(s):
    """F[i, j] = 1 / (s[j]^2 - s[i]^2) off the diagonal, 0 on it."""
    return _gap_inverse(_ew.mul(s, s))


@svd_p.def_jvp
def _svd_jvp(primals, tangents, outs, *, full_matrices, compute_uv):
    (a,), (ta,) = primals, tangents
    u, s, vh = _svd_factors(a, outs, full_matrices, compute_uv)
    v = _mT(vh)
    ds_mat = _mm(_mT(u), _mm(ta, v))
    ds = _diag(ds_mat)
    if not compute_uv:
        return (ds,)
    f = _svd_gaps(s)
    s_row = _shape.expand_dims(s, -2)
    s_col = _shape.expand_dims(s, -1)
    ds_s = _ew.mul(ds_mat, s_row)                # dS diag(s)
    s_ds = _ew.mul(s_col, ds_mat)                # diag(s) dS
    du = _mm(u, _ew.mul(f, _ew.add(ds_s, _mT(ds_s))))
    dv = _mm(v, _ew.mul(f, _ew.add(s_ds, _mT(s_ds))))
    m, n = a.shape[-2:]
    if m > n:
        dav = _mm(ta, v)
        du = _ew.add(du, _ew.div(_ew.sub(dav, _mm(u, _mm(_mT(u), dav))), s_row))
    if n > m:
        dau = _mm(_mT(ta), u)
        dv = _ew.add(dv, _ew.div(_ew.sub(dau, _mm(v, _mm(vh, dau))), s_row))
    return du, ds, _mT(dv)


@svd_p.def_vjp
def _svd_vjp(cts, primals, outs, *, full_matrices, compute_uv):
    (a,) = primals
    u, s, vh = _svd_factors(a, outs, full_matrices, compute_uv)
    v = _mT(vh)
    if not compute_uv:
        return (_mm(u, _mm(_diag_embed(cts[0]), vh)),)
    ct_u, ct_s, ct_vh = cts
    ct_v = _mT(ct_vh)
    f = _svd_gaps(s)
    j = _ew.mul(f, _mm(_mT(u), ct_u))
    k = _ew.mul(f, _mm(_mT(v), ct_v))
    s_row = _shape.expand_dims(s, -2)
    s_col = _shape.expand_dims(s, -1)
    gamma = _ew.add(_diag_embed(ct_s),
                    _ew.add(_ew.mul(_ew.add(j, _mT(j)), s_row), _ew.mul(s_col, _ew.add(k, _mT(k)))))
    ct_a = _mm(u, _mm(gamma, vh))
    m, n = a.shape[-2:]
    if m > n:
        proj = _ew.sub(ct_u, _mm(u, _mm(_mT(u), ct_u)))
        ct_a = _ew.add(ct_a, _mm(_ew.div(proj, s_row), vh))
    if n > m:
        proj = _ew.sub(ct_v, _mm(v, _mm(vh, ct_v)))
        ct_a = _ew.add(ct_a, _mm(u, _mT(_ew.div(proj, s_row))))
    return (ct_a,)


svd_p.def_batch(_batch_front(svd_p))

__all__: list[str] = []  # the public functions are in nabla_like/linalg.py
from .. import creation as _creation  # noqa: E402  (families used at call time)
from . import elementwise as _ew, linalg as _la, reduce as _red, shape as _shape  # noqa: E402
