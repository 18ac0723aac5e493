"""nb.linalg: decompositions, solvers and norms, in the manner of numpy.linalg.

Every function takes a batch of matrices [..., m, n] (or vectors), works in float32 or
float64, and differentiates where the math allows (see each docstring). The
decompositions are primitives (nabla_like/ops/decomp.py); everything else is written
with them, so it jits, vmaps and differentiates like any composite. Shapes and dtypes
are checked at the call, before anything is recorded.

Example:
    >>> a = nb.tensor([[4.0, 1.0], [1.0, 3.0]])
    >>> nb.linalg.solve(a, nb.tensor([1.0, 2.0])).numpy().round(4)
    array([0.0909, 0.6364], dtype=float32)
"""
import builtins as _builtins

from . import creation as _creation
from .core import bind as _bind
from .dtypes import finfo as _finfo, int32 as _int32
from .args import as_bool as _as_bool, as_choice as _as_choice, as_float as _as_float
from .errors import (ArgumentValueError as _ArgumentValueError, DTypeError as _DTypeError,
                     ShapeError as _ShapeError, raise_error as _raise)
from .ops import elementwise as _ew, indexing as _ix, reduce as _red, shape as _shape
from .ops._common import (broadcast_shapes as _broadcast_shapes,
                          broadcast_to_shape as _broadcast_to_shape,
                          canonical_axis as _canonical_axis, to_tensor as _to_tensor)
from .ops.decomp import (FLOAT_DTYPES as _FLOAT_DTYPES, cholesky_p as _cholesky_p,
                         eigh_p as _eigh_p, lu_p as _lu_p, qr_p as _qr_p, svd_p as _svd_p,
                         triangular_solve_p as _triangular_solve_p)
from .ops.linalg import dot, dot_general, einsum, inner, matmul, outer, tensordot, vdot
from .tensor import Tensor as _Tensor

__all__ = ["cholesky", "det", "dot", "dot_general", "eigh", "eigvalsh", "einsum", "inner", "inv",
           "lu", "matmul", "matrix_power", "matrix_rank", "norm", "outer", "pinv", "qr",
           "slogdet", "solve", "solve_triangular", "svd", "tensordot", "triangular_solve", "vdot"]


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def _short(x: _Tensor) -> str:
    return x._value.aval.short()


def _float(op: str, x) -> _Tensor:
    x = _to_tensor(x, op)
    if x.dtype not in _FLOAT_DTYPES:
        _raise(_DTypeError, f"linalg.{op}", f"expected float32 or float64, got {_short(x)} "
                    f"(cast integer and low-precision inputs first)")
    return x


def _matrix(op: str, x, *, square: bool = True) -> _Tensor:
    x = _float(op, x)
    if x.ndim < 2:
        _raise(_ShapeError, f"linalg.{op}", f"expected a matrix [..., m, n], got {_short(x)}")
    if square and x.shape[-1] != x.shape[-2]:
        _raise(_ShapeError, f"linalg.{op}", f"expected square matrices [..., n, n], got "
                    f"{_short(x)}")
    return x


def _mT(x: _Tensor) -> _Tensor:
    return _shape.swapaxes(x, -1, -2)


def _eye_like(a: _Tensor) -> _Tensor:
    n = a.shape[-1]
    return _broadcast_to_shape(_creation.eye(n, dtype=a.dtype), a.shape[:-2] + (n, n))


def _diagonal(a: _Tensor) -> _Tensor:
    return _red.sum(_ew.mul(a, _creation.eye(a.shape[-1], dtype=a.dtype)), axis=-1)


# ---------------------------------------------------------------------------
# factorizations
# ---------------------------------------------------------------------------
def cholesky(a, *, upper: bool = False) -> _Tensor:
    """The Cholesky factor L of symmetric positive-definite matrices: a = L @ L^T, L lower
    (or U = L^T with `upper`). Reads only the lower triangle of `a`; a matrix that is not
    positive definite gives NaN (or garbage) rather than an error. Differentiable.

    Example:
        >>> nb.linalg.cholesky(nb.tensor([[4.0, 2.0], [2.0, 5.0]])).numpy()
        array([[2., 0.],
               [1., 2.]], dtype=float32)
    """
    upper = _as_bool("linalg.cholesky", "upper", upper)
    a = _matrix("cholesky", a)
    factor = _bind(_cholesky_p, a)
    return _mT(factor) if upper else factor


def triangular_solve(a, b, *, left_side: bool = True, lower: bool = True,
                     transpose_a: bool = False, unit_diagonal: bool = False) -> _Tensor:
    """x with op(a) @ x = b (`left_side`) or x @ op(a) = b, for triangular `a` [..., n, n]
    (only its `lower` or upper triangle is read; its diagonal is taken as ones with
    `unit_diagonal`); op(a) is a, or a^T with `transpose_a`. b: [..., n, k] (left) or
    [..., k, n]; leading dims broadcast. Differentiable in both operands.

    Example:
        >>> a = nb.tensor([[2.0, 0.0], [1.0, 1.0]])
        >>> nb.linalg.triangular_solve(a, nb.tensor([[2.0], [3.0]])).numpy()
        array([[1.],
               [2.]], dtype=float32)
    """
    op = "linalg.triangular_solve"
    left_side, lower = _as_bool(op, "left_side", left_side), _as_bool(op, "lower", lower)
    transpose_a = _as_bool(op, "transpose_a", transpose_a)
    unit_diagonal = _as_bool(op, "unit_diagonal", unit_diagonal)
    a = _matrix("triangular_solve", a)
    b = _matrix("triangular_solve", b, square=False)
    if a.dtype is not b.dtype:
        _raise(_DTypeError, "linalg.triangular_solve", f"a and b must have one dtype, got "
                    f"{_short(a)} and {_short(b)}")
    n, k = a.shape[-1], (b.shape[-2] if left_side else b.shape[-1])
    if k != n:
        _raise(_ShapeError, "linalg.triangular_solve", f"a {_short(a)} does not match b "
                    f"{_short(b)} (left_side={left_side}: {n} != {k})")
    a, b = _broadcast_batch("triangular_solve", a, b)
    return _bind(_triangular_solve_p, a, b, left_side=left_side, lower=lower,
                 transpose_a=transpose_a, unit_diagonal=unit_diagonal)


def solve_triangular(a, b, *, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False) -> _Tensor:
    """scipy.linalg.solve_triangular: x with op(a) @ x = b; b is [..., n] or [..., n, k];
    `trans` 0/'N' (a), 1/'T' or 2/'C' (a^T). As in SciPy, `a` is upper by default.

    Example:
        >>> a = nb.tensor([[2.0, 1.0], [0.0, 1.0]])
        >>> nb.linalg.solve_triangular(a, nb.tensor([4.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    op = "linalg.solve_triangular"
    trans = _as_choice(op, "trans", trans, (0, 1, 2, "N", "T", "C"))
    transpose = trans not in (0, "N")
    lower, unit_diagonal = _as_bool(op, "lower", lower), _as_bool(op, "unit_diagonal", unit_diagonal)
    b = _float("solve_triangular", b)
    vector = b.ndim == 1
    x = triangular_solve(a, _shape.expand_dims(b, -1) if vector else b, left_side=True,
                         lower=lower, transpose_a=transpose, unit_diagonal=unit_diagonal)
    return _shape.squeeze(x, -1) if vector else x


def _broadcast_batch(op: str, a: _Tensor, b: _Tensor) -> tuple[_Tensor, _Tensor]:
    batch = _broadcast_shapes(f"linalg.{op}", a.shape[:-2], b.shape[:-2], operands=(a, b))
    return _broadcast_to_shape(a, batch + a.shape[-2:]), _broadcast_to_shape(b, batch + b.shape[-2:])


def _lu_parts(a: _Tensor):
    """The packed factors, the pivots and the permutation of `a` (A[perm] = L U)."""
    return _bind(_lu_p, a)


def lu(a) -> tuple[_Tensor, _Tensor, _Tensor]:
    """LU decomposition with partial pivoting, as scipy.linalg.lu: a = P @ L @ U with P a
    permutation matrix, L [..., m, k] unit lower triangular and U [..., k, n] upper
    (k = min(m, n)). Differentiable for every shape.

    Example:
        >>> p, l, u = nb.linalg.lu(nb.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> (p @ l @ u).numpy()
        array([[1., 2.],
               [3., 4.]], dtype=float32)
    """
    a = _matrix("lu", a, square=False)
    packed, _, perm = _lu_parts(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    lower = _ew.add(_creation.tril(packed[..., :, :k], -1),
                    _creation.eye(m, k, dtype=a.dtype))
    upper = _creation.triu(packed[..., :k, :])
    rows = _ew.equal(_shape.expand_dims(perm, -1), _creation.iota((m,), dtype=_int32))
    p = _mT(_ew.cast(rows, a.dtype))  # rows[i, j]: row i of L U is row j of a
    return p, lower, upper


def qr(a, mode: str = "reduced"):
    """QR decomposition: a = Q @ R with orthonormal columns in Q and R upper triangular.
    `mode`: "reduced" (Q [..., m, k], R [..., k, n], k = min(m, n)), "complete"
    (Q [..., m, m], R [..., m, n]) or "r" (R only). Signs follow LAPACK (R's diagonal may be
    negative). Differentiable for every shape in the reduced and "r" modes, and in "complete"
    mode unless m > n (the trailing columns of Q are not unique there).

    Example:
        >>> q, r = nb.linalg.qr(nb.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> (q @ r).numpy().round(4)
        array([[3., 1.],
               [4., 2.]], dtype=float32)
    """
    if mode not in ("reduced", "complete", "r"):
        _raise(_ShapeError, "linalg.qr", f"mode must be 'reduced', 'complete' or 'r', got "
                    f"{mode!r}")
    a = _matrix("qr", a, square=False)
    q, r = _bind(_qr_p, a, full_matrices=mode == "complete")
    return r if mode == "r" else (q, r)


def eigh(a, *, symmetrize_input: bool = True) -> tuple[_Tensor, _Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices:
    a = V @ diag(w) @ V^T. The input is symmetrized, (a + a^T) / 2, unless told not to
    (then only its lower triangle is read). Eigenvector signs are LAPACK's.
    Differentiable where the eigenvalues are distinct; the gradient is undefined (inf or
    NaN) at repeated eigenvalues.

    Example:
        >>> w, v = nb.linalg.eigh(nb.tensor([[2.0, 1.0], [1.0, 2.0]]))
        >>> w.numpy()
        array([1., 3.], dtype=float32)
    """
    symmetrize_input = _as_bool("linalg.eigh", "symmetrize_input", symmetrize_input)
    a = _matrix("eigh", a)
    if symmetrize_input:
        a = _ew.mul(_ew.add(a, _mT(a)), 0.5)
    w, v = _bind(_eigh_p, a)
    return w, v


def eigvalsh(a) -> _Tensor:
    """The eigenvalues of symmetric matrices, ascending (see `eigh`).

    Example:
        >>> nb.linalg.eigvalsh(nb.tensor([[2.0, 0.0], [0.0, -1.0]])).numpy()
        array([-1.,  2.], dtype=float32)
    """
    return eigh(a)[0]


def svd(a, full_matrices: bool = True, compute_uv: bool = True):
    """Singular value decomposition, as numpy.linalg.svd: a = U @ diag(s) @ Vh with s
    descending. Returns (U, s, Vh), or s alone without `compute_uv`; `full_matrices` gives
    square U and Vh. Differentiable with full_matrices=False (or without compute_uv) where
    the singular values are distinct and nonzero.

    Example:
        >>> nb.linalg.svd(nb.tensor([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False).numpy()
        array([4., 3.], dtype=float32)
    """
    a = _matrix("svd", a, square=False)
    full_matrices = _as_bool("linalg.svd", "full_matrices", full_matrices)
    compute_uv = _as_bool("linalg.svd", "compute_uv", compute_uv)
    outs = _bind(_svd_p, a, full_matrices=full_matrices and compute_uv, compute_uv=compute_uv)
    return tuple(outs) if compute_uv else outs[0]


# ---------------------------------------------------------------------------
# solvers and determinants (via LU)
# ---------------------------------------------------------------------------
def solve(a, b) -> _Tensor:
    """x with a @ x = b, by LU with partial pivoting. b: [..., n] (a vector, when 1-D, as in
    NumPy 2) or [..., n, k]; leading dims broadcast. Differentiable: the cotangent of b
    is a solve with a^T.

    Example:
        >>> nb.linalg.solve(nb.tensor([[2.0, 0.0], [0.0, 4.0]]), nb.tensor([2.0, 2.0])).numpy()
        array([1. , 0.5], dtype=float32)
    """
    a = _matrix("solve", a)
    b = _float("solve", b)
    if a.dtype is not b.dtype:
        _raise(_DTypeError, "linalg.solve", f"a and b must have one dtype, got {_short(a)} "
                    f"and {_short(b)}")
    vector = b.ndim == 1
    if vector:
        b = _shape.expand_dims(b, -1)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        _raise(_ShapeError, "linalg.solve", f"b {_short(b)} does not match a {_short(a)}: "
                    f"expected [..., {a.shape[-1]}] or [..., {a.shape[-1]}, k]")
    a, b = _broadcast_batch("solve", a, b)
    packed, _, perm = _lu_parts(a)
    index = _broadcast_to_shape(_shape.expand_dims(perm, -1), b.shape)
    y = _ix.take_along_axis(b, index, axis=-2)          # rows of b in pivot order
    y = _bind(_triangular_solve_p, packed, y, left_side=True, lower=True, transpose_a=False,
             unit_diagonal=True)
    x = _bind(_triangular_solve_p, packed, y, left_side=True, lower=False, transpose_a=False,
             unit_diagonal=False)
    return _shape.squeeze(x, -1) if vector else x


def inv(a) -> _Tensor:
    """The inverse of square matrices (by LU). Differentiable: d(inv a) = -inv a da inv a.

    Example:
        >>> nb.linalg.inv(nb.tensor([[2.0, 0.0], [0.0, 4.0]])).numpy()
        array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    a = _matrix("inv", a)
    return solve(a, _eye_like(a))


def _pivot_sign(pivots: _Tensor, like: _Tensor) -> _Tensor:
    """(-1) ** (number of row swaps)."""
    swaps = _ew.not_equal(pivots, _creation.iota((pivots.shape[-1],), dtype=_int32))
    odd = _ew.cast(_red.sum(_ew.cast(swaps, _int32), axis=-1), like.dtype)
    return _ew.sub(1.0, _ew.mul(2.0, _ew.sub(odd, _ew.mul(2.0, _ew.floor(_ew.mul(odd, 0.5))))))


def det(a) -> _Tensor:
    """The determinant of square matrices: the product of U's diagonal (LU), signed by the
    row swaps. Differentiable where a is invertible (d det = det * tr(inv(a) da)).

    Example:
        >>> nb.linalg.det(nb.tensor([[1.0, 2.0], [3.0, 4.0]])).numpy().round(4)
        np.float32(-2.0)
    """
    a = _matrix("det", a)
    packed, pivots, _ = _lu_parts(a)
    return _ew.mul(_pivot_sign(pivots, a), _red.prod(_diagonal(packed), axis=-1))


def slogdet(a) -> tuple[_Tensor, _Tensor]:
    """(sign, log|det|) of square matrices, robust to under- and overflow; a singular
    matrix gives (0, -inf). Differentiable in logabsdet (d = tr(inv(a) da)).

    Example:
        >>> sign, logabsdet = nb.linalg.slogdet(nb.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> float(sign), round(float(logabsdet), 4)
        (-1.0, 0.6931)
    """
    a = _matrix("slogdet", a)
    packed, pivots, _ = _lu_parts(a)
    diag = _diagonal(packed)
    sign = _ew.mul(_pivot_sign(pivots, a), _red.prod(_ew.sign(diag), axis=-1))
    return sign, _red.sum(_ew.log(_ew.abs(diag)), axis=-1)


def matrix_power(a, n: int) -> _Tensor:
    """a @ a @ ... (n times) by repeated squaring; a**0 is the identity, and a negative n
    raises inv(a) to -n.

    Example:
        >>> nb.linalg.matrix_power(nb.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).numpy()
        array([[1., 3.],
               [0., 1.]], dtype=float32)
    """
    if isinstance(n, _builtins.bool) or not isinstance(n, int):
        _raise(_DTypeError, "linalg.matrix_power", f"n must be an int, got {n!r}")
    a = _matrix("matrix_power", a)
    if n == 0:
        return _eye_like(a)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


# ---------------------------------------------------------------------------
# SVD-based: pinv, matrix_rank; norms
# ---------------------------------------------------------------------------
def _default_rtol(a: _Tensor) -> float:
    return _builtins.max(a.shape[-2:]) * float(_finfo(a.dtype).eps)


def pinv(a, *, rtol: float | None = None) -> _Tensor:
    """The Moore-Penrose pseudo-inverse [..., n, m] by SVD; singular values at or below
    rtol * max(s) count as zero (rtol defaults to max(m, n) * eps). Differentiable where
    the kept singular values are distinct.

    Example:
        >>> nb.linalg.pinv(nb.tensor([[2.0, 0.0], [0.0, 0.0]])).numpy()
        array([[0.5, 0. ],
               [0. , 0. ]], dtype=float32)
    """
    a = _matrix("pinv", a, square=False)
    u, s, vh = svd(a, full_matrices=False)
    rtol = _default_rtol(a) if rtol is None else _as_float("linalg.pinv", "rtol", rtol, min=0.0)
    cutoff = _ew.mul(_red.max(s, axis=-1, keepdims=True), rtol) if s.shape[-1] else s
    keep = _ew.greater(s, cutoff)
    s_inv = _ew.where(keep, _ew.reciprocal(_ew.where(keep, s, 1.0)), 0.0)
    return matmul(_mT(vh), _ew.mul(_shape.expand_dims(s_inv, -1), _mT(u)))


def matrix_rank(a, *, tol: float | None = None) -> _Tensor:
    """The number of singular values above `tol` (default max(s) * max(m, n) * eps), _int32.

    Example:
        >>> int(nb.linalg.matrix_rank(nb.tensor([[1.0, 2.0], [2.0, 4.0]])))
        1
    """
    a = _matrix("matrix_rank", a, square=False)
    s = svd(a, compute_uv=False)
    if tol is None:
        cutoff = _ew.mul(_red.max(s, axis=-1, keepdims=True), _default_rtol(a))
    else:
        cutoff = _as_float("linalg.matrix_rank", "tol", tol, min=0.0)
    return _red.sum(_ew.cast(_ew.greater(s, cutoff), _int32), axis=-1)


def _vector_norm(x: _Tensor, ord, axis: int, keepdims: bool) -> _Tensor:
    if ord is None or ord == 2:
        return _ew.sqrt(_red.sum(_ew.mul(x, x), axis=axis, keepdims=keepdims))
    magnitude = _ew.abs(x)
    if ord == float("inf"):
        return _red.max(magnitude, axis=axis, keepdims=keepdims)
    if ord == float("-inf"):
        return _red.min(magnitude, axis=axis, keepdims=keepdims)
    if ord == 0:
        return _red.sum(_ew.cast(_ew.not_equal(x, 0.0), x.dtype), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _red.sum(magnitude, axis=axis, keepdims=keepdims)
    p = float(ord)
    total = _red.sum(_ew.power(magnitude, p), axis=axis, keepdims=keepdims)
    return _ew.power(total, 1.0 / p)


def _matrix_norm(x: _Tensor, ord, axes: tuple[int, int], keepdims: bool) -> _Tensor:
    row, col = axes
    if ord is None or ord == "fro":
        return _ew.sqrt(_red.sum(_ew.mul(x, x), axis=axes, keepdims=keepdims))
    if ord in (1, -1, float("inf"), float("-inf")):
        # 1: the largest column sum of |x|; inf: the largest row sum
        summed, reduced = (row, col) if ord in (1, -1) else (col, row)
        sums = _red.sum(_ew.abs(x), axis=summed, keepdims=True)
        pick = _red.max if ord in (1, float("inf")) else _red.min
        out = pick(sums, axis=reduced, keepdims=True)
    else:  # 2, -2, "nuc": from the singular values
        moved = _shape.moveaxis(x, (row, col), (-2, -1))
        s = svd(moved, compute_uv=False)
        if ord == "nuc":
            out = _red.sum(s, axis=-1)
        else:
            out = (_red.max if ord == 2 else _red.min)(s, axis=-1)
        for ax in sorted((row, col)):
            out = _shape.expand_dims(out, ax)
    if not keepdims:
        out = _shape.squeeze(out, axes)
    return out


_VECTOR_ORDS = (None, 0, 1, 2, float("inf"), float("-inf"))
_MATRIX_ORDS = (None, "fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))


def norm(x, ord=None, axis=None, keepdims: bool = False) -> _Tensor:
    """Vector or matrix norm, as numpy.linalg.norm. With `axis` None, a 1-D `x` gets a
    vector norm, a 2-D one a matrix norm (ord None: the 2-norm of the flattened `x`);
    an int `axis` picks vector norms along it, a pair of axes matrix norms over them.
    Vector ords: None/2, 1, inf, -inf, 0 (count of nonzeros), any other p
    (sum |x|**p)**(1/p). Matrix ords: None/'fro', 'nuc', 1, -1, 2, -2, inf, -inf.

    Example:
        >>> nb.linalg.norm(nb.tensor([3.0, 4.0])).item()
        5.0
    """
    keepdims = _as_bool("linalg.norm", "keepdims", keepdims)
    x = _float("norm", x)
    if axis is None:
        if ord is None:
            return _vector_norm(_shape.reshape(x, (x.size,)), None, 0, False) if not keepdims \
                else _shape.reshape(_vector_norm(_shape.reshape(x, (x.size,)), None, 0, False),
                                    (1,) * x.ndim)
        if x.ndim not in (1, 2):
            _raise(_ShapeError, "linalg.norm", f"ord={ord!r} needs a 1-D or 2-D input or an "
                        f"axis, got {_short(x)}")
        axis = 0 if x.ndim == 1 else (0, 1)
    if not isinstance(axis, (tuple, list)):
        axis = _canonical_axis("linalg.norm", axis, x.ndim)
        if isinstance(ord, str) or (ord not in _VECTOR_ORDS and not isinstance(ord, (int, float))):
            _raise(_ArgumentValueError, "linalg.norm", f"invalid ord {ord!r} for a vector norm")
        return _vector_norm(x, ord, axis, keepdims)
    axes = tuple(_canonical_axis("linalg.norm", a, x.ndim) for a in axis)
    if len(axes) != 2 or axes[0] == axes[1]:
        _raise(_ShapeError, "linalg.norm", f"axis must be an int or two distinct axes, got "
                    f"{axis!r} for {_short(x)}")
    if ord not in _MATRIX_ORDS:
        _raise(_ArgumentValueError, "linalg.norm", f"invalid ord {ord!r} for a matrix norm")
    return _matrix_norm(x, ord, axes, keepdims)

