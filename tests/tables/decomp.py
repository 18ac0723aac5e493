"""Op table: nb.linalg's decompositions, solvers and norms.

The generated inputs are uniform in [-2, 2]; each case maps them to the matrices it needs
inside both `fn` and `ref` (the same formula in nabla_like and NumPy): `_spd` makes them
symmetric positive definite, `_dominant` diagonally dominant (well conditioned).
Decompositions are compared through quantities they fix uniquely: factors with signs
normalized, reconstructions, eigen- and singular values.
"""
import numpy as np

import nabla_like as nb

from ..optable import Arg, OpCase, mark_composite

F = ("float32", "float64")
# The eager programs of these cases compile one by one; most cases check first derivatives
# only (LIGHT) or values only (FORWARD), the primitives themselves get the full treatment.
# (Gradients of inv, det, slogdet and pinv are checked against jax.grad in
# test_linalg_public.py.)
LIGHT = {"grad_order": 1, "vmap": False}
FORWARD = {"grad": False, "vmap": False}
L = nb.linalg


def _mT(x):
    return x.mT if isinstance(x, nb.Tensor) else np.swapaxes(x, -1, -2)


def _eye(x):
    return np.eye(x.shape[-1], dtype=x.dtype) if isinstance(x, np.ndarray) else \
        nb.eye(x.shape[-1], dtype=x.dtype)


def _spd(x):
    return x @ _mT(x) + x.shape[-1] * _eye(x)


def _dominant(x):
    return x + 2 * x.shape[-1] * _eye(x)


def _sign(x):
    return nb.sign(x) if isinstance(x, nb.Tensor) else np.sign(x)


def _case(name, fn, ref, args, **kw):
    kw.setdefault("dtypes", F)
    kw.setdefault("rtol", 2e-4)
    kw.setdefault("atol", 2e-5)
    return OpCase(name, fn, ref, args, **kw)


# factors with their signs fixed (eigenvectors: first row >= 0; QR: R's diagonal >= 0;
# SVD: U's first row >= 0), so that they are unique and comparable to NumPy's
def _eigh_fixed(eigh):
    def f(x):
        w, v = eigh(_spd(x))
        return w, v * _sign(v[..., :1, :])
    return f


def _qr_fixed(qr):
    def f(x):
        q, r = qr(x)
        k = r.shape[-2]
        d = _sign((r[..., :, :k] * _eye(r[..., :, :k])).sum(-1))  # R's diagonal (square part)
        return q * d[..., None, :], r * d[..., :, None]
    return f


def _svd_fixed(svd):
    def f(x):
        u, s, vh = svd(x)
        d = _sign(u[..., :1, :])
        return u * d, s, vh * _mT(d)
    return f


def _np_qr(x):
    return np.linalg.qr(x)


def _np_svd(x):
    return np.linalg.svd(x, full_matrices=False)


def _scipy_lu(x):
    import scipy.linalg
    return scipy.linalg.lu(x)


def _np_solve_tri(a, b, lower, trans):
    t = np.tril(a) if lower else np.triu(a)
    return np.linalg.solve(_mT(t) if trans else t, b)


def _norm(name, shape, grad=False, **kw):
    return _case(f"linalg_norm_{name}", lambda x: L.norm(x, **kw), lambda x: np.linalg.norm(x, **kw),
                 [shape], grad=grad, dtypes=("float64",), **LIGHT)


CASES = [
    _case("linalg_cholesky", lambda x: L.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_spd(x)),
          [(3, 3)]),
    _case("linalg_cholesky_batched", lambda x: L.cholesky(_spd(x)),
          lambda x: np.linalg.cholesky(_spd(x)), [(2, 3, 3)], **FORWARD),
    _case("linalg_triangular_solve_lower",
          lambda a, b: L.triangular_solve(_dominant(a), b),
          lambda a, b: _np_solve_tri(_dominant(a), b, True, False), [(3, 3), (3, 2)]),
    _case("linalg_triangular_solve_upper_transposed",
          lambda a, b: L.triangular_solve(_dominant(a), b, lower=False, transpose_a=True),
          lambda a, b: _np_solve_tri(_dominant(a), b, False, True), [(3, 3), (3, 2)], **LIGHT),
    _case("linalg_triangular_solve_right_unit",
          lambda a, b: L.triangular_solve(a, b, left_side=False, unit_diagonal=True),
          lambda a, b: b @ np.linalg.inv(np.tril(a, -1) + _eye(a)), [(3, 3), (2, 3)], **LIGHT),
    _case("linalg_solve_triangular_vector",
          lambda a, b: L.solve_triangular(_dominant(a), b),
          lambda a, b: _np_solve_tri(_dominant(a), b, False, False), [(3, 3), (3,)], **FORWARD),
    _case("linalg_solve_vector", lambda a, b: L.solve(_dominant(a), b),
          lambda a, b: np.linalg.solve(_dominant(a), b), [(3, 3), (3,)], **FORWARD),
    _case("linalg_solve_matrix", lambda a, b: L.solve(a + 3 * _eye(a), b),
          lambda a, b: np.linalg.solve(a + 3 * _eye(a), b), [(3, 3), (3, 2)], grad_order=1),
    _case("linalg_solve_broadcast", lambda a, b: L.solve(_dominant(a), b),
          lambda a, b: np.linalg.solve(_dominant(a), b), [(2, 3, 3), (3, 2)], **FORWARD),
    _case("linalg_inv", lambda x: L.inv(_dominant(x)), lambda x: np.linalg.inv(_dominant(x)),
          [(3, 3)], **FORWARD),
    _case("linalg_inv_pivoting", L.inv, np.linalg.inv,
          [Arg(value=np.array([[0.5, 2.0, 0.1], [3.0, 0.2, 1.0], [0.3, 1.0, 4.0]]))], **LIGHT),
    _case("linalg_det", lambda x: L.det(_dominant(x)), lambda x: np.linalg.det(_dominant(x)),
          [(3, 3)], **FORWARD),
    _case("linalg_det_general", L.det, np.linalg.det, [(2, 3, 3)], **FORWARD),
    _case("linalg_slogdet", lambda x: tuple(L.slogdet(x + _eye(x))),
          lambda x: tuple(np.linalg.slogdet(x + _eye(x))), [(3, 3)], **LIGHT),
    _case("linalg_lu", L.lu, _scipy_lu, [(3, 3)]),
    _case("linalg_lu_tall", L.lu, _scipy_lu, [(4, 2)], **LIGHT),
    _case("linalg_lu_wide", L.lu, _scipy_lu, [(2, 4)], **LIGHT),
    _case("linalg_qr_reduced", _qr_fixed(L.qr), _qr_fixed(_np_qr), [(4, 3)]),
    _case("linalg_qr_square", _qr_fixed(L.qr), _qr_fixed(_np_qr), [(3, 3)], **LIGHT),
    _case("linalg_qr_wide", _qr_fixed(L.qr), _qr_fixed(_np_qr), [(2, 4)], **LIGHT),
    _case("linalg_qr_wide_r", lambda x: nb.abs(L.qr(x, mode="r")),
          lambda x: np.abs(np.linalg.qr(x, mode="r")), [(2, 4)], **FORWARD),
    _case("linalg_eigh", _eigh_fixed(L.eigh), _eigh_fixed(np.linalg.eigh), [(3, 3)]),
    _case("linalg_eigvalsh", lambda x: L.eigvalsh(_spd(x)), lambda x: np.linalg.eigvalsh(_spd(x)),
          [(4, 4)], **FORWARD),
    _case("linalg_svd_tall", _svd_fixed(lambda x: L.svd(x, full_matrices=False)),
          _svd_fixed(_np_svd), [(4, 3)]),
    _case("linalg_svd_wide", _svd_fixed(lambda x: L.svd(x, full_matrices=False)),
          _svd_fixed(_np_svd), [(2, 4)], **LIGHT),
    _case("linalg_svd_square", _svd_fixed(lambda x: L.svd(x, full_matrices=False)),
          _svd_fixed(_np_svd), [(3, 3)], **LIGHT),
    _case("linalg_svdvals", lambda x: L.svd(x, compute_uv=False),
          lambda x: np.linalg.svd(x, compute_uv=False), [(3, 4)], **LIGHT),
    _case("linalg_pinv", L.pinv, np.linalg.pinv, [(4, 3)], **FORWARD),
    _case("linalg_matrix_power_3", lambda x: L.matrix_power(x, 3),
          lambda x: np.linalg.matrix_power(x, 3), [(3, 3)], **LIGHT),
    _case("linalg_matrix_power_neg", lambda x: L.matrix_power(_dominant(x), -2),
          lambda x: np.linalg.matrix_power(_dominant(x), -2), [(3, 3)], **FORWARD),
    _case("linalg_matrix_power_0", lambda x: L.matrix_power(x, 0),
          lambda x: np.linalg.matrix_power(x, 0), [(3, 3)], **FORWARD),
    _case("linalg_matrix_rank", L.matrix_rank, np.linalg.matrix_rank,
          [Arg(value=np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]))],
          grad=False, vmap=False, check_dtype=False),
    _norm("default", (3, 4)),
    _norm("vector_1", (5,), ord=1),
    _norm("vector_inf", (5,), ord=np.inf),
    _norm("vector_neg_inf", (5,), ord=-np.inf),
    _norm("vector_p3", (5,), grad=True, ord=3),
    _norm("vector_axis_keepdims", (3, 4), axis=1, keepdims=True),
    _norm("fro", (3, 4), grad=True, ord="fro"),
    _norm("nuc", (3, 4), grad=True, ord="nuc"),
    _norm("matrix_1", (3, 4), ord=1),
    _norm("matrix_inf", (3, 4), ord=np.inf),
    _norm("matrix_2", (3, 4), grad=True, ord=2),
    _norm("matrix_neg_2", (4, 3), ord=-2),
    _norm("matrix_axes", (2, 3, 4), ord=1, axis=(2, 0)),
    _norm("matrix_axes_keepdims", (2, 3, 4), ord="nuc", axis=(0, 2), keepdims=True),
]

# solvers, inverses, determinants, powers and norms are built from the factorizations
# (lu, triangular_solve, svd) and products; the factorization cases are the primitives'
_COMPOSITE_PREFIXES = ("linalg_solve_", "linalg_inv", "linalg_det", "linalg_slogdet", "linalg_pinv",
                       "linalg_matrix_power", "linalg_matrix_rank", "linalg_norm_")
mark_composite(CASES, [c.name for c in CASES if c.name.startswith(_COMPOSITE_PREFIXES)
                       and c.name != "linalg_solve_triangular_vector"])
