"""Products: the `dot_general` primitive (StableHLO's), and matmul, dot, inner, outer,
vdot, tensordot and einsum on top of it.

dot_general contracts `contracting` dim pairs and keeps `batch` dim pairs; its
result is laid out as batch dims, then the free dims of lhs, then those of rhs
(each in order). It is bilinear: its JVP is two dot_generals, and each
cotangent is a dot_general of the output cotangent with the other operand,
transposed back into the operand's layout.
"""
from __future__ import annotations

from ..args import as_int, as_int_tuple
from ..core import Primitive, bind
from ..dtypes import bool_, int32, result_type
from ..errors import DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import add_any, batch_size, broadcast_shapes, broadcast_to_shape, move_bdim, to_tensor

Dims = tuple[int, ...]


def _free(ndim: int, contract: Dims, batch: Dims) -> Dims:
    return tuple(d for d in range(ndim) if d not in contract and d not in batch)


# ---------------------------------------------------------------------------
# dot_general
# ---------------------------------------------------------------------------
dot_general_p = Primitive("dot_general")


@dot_general_p.def_abstract_eval
def _dot_general_abstract_eval(lhs: Aval, rhs: Aval, *, contracting: tuple[Dims, Dims],
                               batch: tuple[Dims, Dims]) -> Aval:
    (lc, rc), (lb, rb) = contracting, batch
    if lhs.dtype is not rhs.dtype:
        raise_error(DTypeError, "dot_general", f"operands must have one dtype, got {lhs.short()} "
                    f"and {rhs.short()}")
    ls, rs = lhs.shape, rhs.shape
    try:
        ok = (len(lc) == len(rc) and len(lb) == len(rb)
              and [ls[i] for i in lc + lb] == [rs[j] for j in rc + rb]
              and min(lc + lb + rc + rb, default=0) >= 0)
    except IndexError:
        ok = False
    lf, rf = _free(len(ls), lc, lb), _free(len(rs), rc, rb)
    if not ok or len(lf) + len(lc) + len(lb) != len(ls) or len(rf) + len(rc) + len(rb) != len(rs):
        raise_error(ShapeError, "dot_general", f"cannot contract {lhs.short()} and {rhs.short()} "
                    f"over dims {contracting} with batch dims {batch}")
    shape = tuple([ls[d] for d in lb] + [ls[d] for d in lf] + [rs[d] for d in rf])
    return Aval(shape, lhs.dtype, lhs.weak and rhs.weak)


def _dot_general_flops(node) -> float:
    """A multiply and an add per output element and contracted index."""
    lhs = node.inputs[0].aval.shape
    k = 1
    for d in node.params["contracting"][0]:
        k *= lhs[d]
    return 2.0 * node.out_avals[0].size * k


dot_general_p.flops = _dot_general_flops


def dot_general(lhs, rhs, contracting: tuple[Dims, Dims], batch: tuple[Dims, Dims] = ((), ())
                ) -> Tensor:
    """Contract dims `contracting = (lhs_dims, rhs_dims)` pairwise, keeping the dim pairs
    `batch = (lhs_dims, rhs_dims)`; result: batch dims, lhs free dims, rhs free dims.

    Example:
        >>> a, b = nb.ones((5, 2, 3)), nb.ones((5, 3, 4))
        >>> nb.dot_general(a, b, ((2,), (1,)), ((0,), (0,))).shape
        (5, 2, 4)
    """
    lhs, rhs = _promote_pair("dot_general", lhs, rhs)
    contracting = tuple(tuple(int(d) for d in c) for c in contracting)
    batch = tuple(tuple(int(d) for d in b) for b in batch)
    return bind(dot_general_p, lhs, rhs, contracting=contracting, batch=batch)


@dot_general_p.def_jvp
def _dot_general_jvp(primals, tangents, outs, *, contracting, batch):
    lhs, rhs = primals
    tl, tr = tangents
    return add_any(None if tl is None else bind(dot_general_p, tl, rhs, contracting=contracting,
                                                batch=batch),
                   None if tr is None else bind(dot_general_p, lhs, tr, contracting=contracting,
                                                batch=batch))


def _ranks(dims: Dims) -> list[int]:
    """Position of each entry of `dims` once sorted."""
    order = sorted(dims)
    return [order.index(d) for d in dims]


def _cotangent(ct: Tensor, other: Tensor, ndim: int, mine: tuple[Dims, Dims, Dims],
               theirs: tuple[Dims, Dims], ct_other_free: Dims) -> Tensor:
    """Cotangent of one operand (rank `ndim`, with contracting/batch/free dims `mine`):
    contract `ct` with `other` over the dims of `ct` that came from the other operand's
    free dims, then transpose into the operand's layout."""
    contract, batch_dims, free = mine
    other_contract, other_batch = theirs
    nbatch = len(batch_dims)
    other_free = _free(other.ndim, other_contract, other_batch)
    out = bind(dot_general_p, ct, other, contracting=(ct_other_free, other_free),
               batch=(tuple(range(nbatch)), other_batch))
    # `out` is: batch dims, this operand's free dims, then its contracting dims in the
    # order of the other operand's contracting dims once sorted.
    perm = [0] * ndim
    for i, d in enumerate(batch_dims):
        perm[d] = i
    for j, d in enumerate(free):
        perm[d] = nbatch + j
    for d, r in zip(contract, _ranks(other_contract)):
        perm[d] = nbatch + len(free) + r
    return _shape.transpose(out, tuple(perm))


@dot_general_p.def_vjp
def _dot_general_vjp(ct, primals, outs, *, contracting, batch):
    lhs, rhs = primals
    (lc, rc), (lb, rb) = contracting, batch
    lf, rf = _free(lhs.ndim, lc, lb), _free(rhs.ndim, rc, rb)
    nb_ = len(lb)
    ct_lf = tuple(range(nb_, nb_ + len(lf)))
    ct_rf = tuple(range(nb_ + len(lf), nb_ + len(lf) + len(rf)))
    ct_lhs = ct_rhs = None
    if lhs.dtype.is_floating:
        ct_lhs = _cotangent(ct, rhs, lhs.ndim, (lc, lb, lf), (rc, rb), ct_rf)
    if rhs.dtype.is_floating:
        ct_rhs = _cotangent(ct, lhs, rhs.ndim, (rc, rb, rf), (lc, lb), ct_lf)
    return ct_lhs, ct_rhs


@dot_general_p.def_batch
def _dot_general_batch(args, bdims, *, contracting, batch):
    (lhs, rhs), (bl, br) = args, bdims
    (lc, rc), (lb, rb) = contracting, batch
    size = batch_size(args, bdims)

    def shift(dims):
        return tuple(d + 1 for d in dims)

    if bl is not None and br is not None:  # one more batch dim pair, in front
        lhs, rhs = move_bdim(lhs, bl, 0, size), move_bdim(rhs, br, 0, size)
        out = bind(dot_general_p, lhs, rhs, contracting=(shift(lc), shift(rc)),
                   batch=((0,) + shift(lb), (0,) + shift(rb)))
        return out, 0
    if bl is not None:  # the batch becomes lhs's first free dim
        lhs = move_bdim(lhs, bl, 0, size)
        out = bind(dot_general_p, lhs, rhs, contracting=(shift(lc), rc), batch=(shift(lb), rb))
        return out, len(lb)
    rhs = move_bdim(rhs, br, 0, size)  # the batch becomes rhs's first free dim
    out = bind(dot_general_p, lhs, rhs, contracting=(lc, shift(rc)), batch=(lb, shift(rb)))
    return out, len(lb) + lhs.ndim - len(lc) - len(lb)


# ---------------------------------------------------------------------------
# matmul and the NumPy products
# ---------------------------------------------------------------------------
def _promote_pair(op: str, a, b) -> tuple[Tensor, Tensor]:
    """Convert and promote to one dtype, without broadcasting (bool computes as int32)."""
    if type(a) is Tensor and type(b) is Tensor and a._value.aval.dtype is b._value.aval.dtype:
        return a, b
    cast = _ew.cast
    a, b = to_tensor(a, op), to_tensor(b, op)
    dtype, _ = result_type((a.dtype, a._value.aval.weak), (b.dtype, b._value.aval.weak))
    if a.dtype is not dtype:
        a = cast(a, dtype)
    if b.dtype is not dtype:
        b = cast(b, dtype)
    return a, b


def _contract(op: str, a: Tensor, b: Tensor, contracting, batch=((), ())) -> Tensor:
    """dot_general of promoted operands; bool products are computed in int32 then tested."""
    if a._value.aval.dtype is bool_:
        out = bind(dot_general_p, _ew.cast(a, int32), _ew.cast(b, int32), contracting=contracting,
                   batch=batch)
        return _ew.not_equal(out, 0)
    return bind(dot_general_p, a, b, contracting=contracting, batch=batch)


def _short(x: Tensor) -> str:
    return x._value.aval.short()


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy semantics (the `@` operator): 1-D operands are promoted
    to matrices (and the added dim removed), leading batch dims broadcast.

    Example:
        >>> (nb.ones((5, 2, 3)) @ nb.ones((3, 4))).shape
        (5, 2, 4)
    """
    a, b = _promote_pair("matmul", a, b)
    sa, sb = a._value.aval.shape, b._value.aval.shape
    if not sa or not sb:
        raise_error(ShapeError, "matmul", f"operands must be at least 1-D, got {_short(a)} @ "
                    f"{_short(b)} (use * to multiply by a scalar)")
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise_error(ShapeError, "matmul", f"inner dimensions do not match: {_short(a)} @ "
                    f"{_short(b)} ({k_a} != {k_b})")
    if len(sb) <= 2:
        # No batch dims on b: contract a's last dim with b's first (or only) one.
        return _contract("matmul", a, b, ((len(sa) - 1,), (0,)))
    if a.ndim == 1:
        # (k) @ (..., k, m): contract over b's second-to-last dim; result (..., m).
        return _contract("matmul", a, b, ((0,), (b.ndim - 2,)))
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2], operands=(a, b))
    a = broadcast_to_shape(a, batch + a.shape[-2:])
    b = broadcast_to_shape(b, batch + b.shape[-2:])
    nb_ = len(batch)
    return _contract("matmul", a, b, ((nb_ + 1,), (nb_,)), (tuple(range(nb_)), tuple(range(nb_))))


def dot(a, b) -> Tensor:
    """np.dot: scalar product for 0-d operands, inner product of vectors, matrix product,
    and for N-D operands a sum over the last dim of `a` and the second-to-last of `b`.

    Example:
        >>> nb.dot(nb.tensor([1.0, 2.0]), nb.tensor([3.0, 4.0])).item()
        11.0
    """
    from .elementwise import mul
    a, b = _promote_pair("dot", a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    axis_b = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[axis_b]:
        raise_error(ShapeError, "dot", f"shapes {_short(a)} and {_short(b)} not aligned: "
                    f"{a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[axis_b]} (dim {axis_b})")
    return _contract("dot", a, b, ((a.ndim - 1,), (axis_b,)))


def inner(a, b) -> Tensor:
    """np.inner: sum over the last dims of `a` and `b`; result a.shape[:-1] + b.shape[:-1].

    Example:
        >>> nb.inner(nb.ones((2, 3)), nb.ones((4, 3))).shape
        (2, 4)
    """
    from .elementwise import mul
    a, b = _promote_pair("inner", a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise_error(ShapeError, "inner", f"last dimensions do not match: {_short(a)} and "
                    f"{_short(b)} ({a.shape[-1]} != {b.shape[-1]})")
    return _contract("inner", a, b, ((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b) -> Tensor:
    """np.outer: out[i, j] = a.ravel()[i] * b.ravel()[j].

    Example:
        >>> nb.outer(nb.ones(2), nb.ones(3)).shape
        (2, 3)
    """
    from .elementwise import mul
    from .shape import reshape
    a, b = _promote_pair("outer", a, b)
    return mul(reshape(a, (a.size, 1)), reshape(b, (1, b.size)))


def vdot(a, b) -> Tensor:
    """np.vdot for real tensors: the sum of the products of the flattened operands.

    Example:
        >>> nb.vdot(nb.ones((2, 2)), nb.ones(4)).item()
        4.0
    """
    from .shape import reshape
    a, b = _promote_pair("vdot", a, b)
    if a.size != b.size:
        raise_error(ShapeError, "vdot", f"operands must have the same size, got {_short(a)} and "
                    f"{_short(b)}")
    return _contract("vdot", reshape(a, (a.size,)), reshape(b, (b.size,)), ((0,), (0,)))


def tensordot(a, b, axes=2) -> Tensor:
    """np.tensordot: sum over `axes` (an int N: the last N dims of `a` with the first N of
    `b`; or a pair of dim sequences). Result: free dims of `a`, then of `b`.

    Example:
        >>> nb.tensordot(nb.ones((2, 3, 4)), nb.ones((3, 4, 5))).shape
        (2, 5)
    """
    from ._common import canonical_axis
    a, b = _promote_pair("tensordot", a, b)
    if not isinstance(axes, (tuple, list)):
        axes = as_int("tensordot", "axes", axes)
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise_error(ShapeError, "tensordot", f"axes={axes} is out of range for {_short(a)} "
                        f"and {_short(b)}")
        dims_a = tuple(range(a.ndim - axes, a.ndim))
        dims_b = tuple(range(axes))
    else:
        try:
            dims_a, dims_b = axes
        except (TypeError, ValueError):
            raise_error(ShapeError, "tensordot", f"axes must be an int or a pair of sequences, "
                        f"got {axes!r}")
        dims_a = as_int_tuple("tensordot", "axes", dims_a)
        dims_b = as_int_tuple("tensordot", "axes", dims_b)
        if len(dims_a) != len(dims_b):
            raise_error(ShapeError, "tensordot", f"axes {dims_a} and {dims_b} differ in length")
        dims_a = tuple(canonical_axis("tensordot", d, a.ndim) for d in dims_a)
        dims_b = tuple(canonical_axis("tensordot", d, b.ndim) for d in dims_b)
    for i, j in zip(dims_a, dims_b):
        if a.shape[i] != b.shape[j]:
            raise_error(ShapeError, "tensordot", f"shape mismatch for sum: {_short(a)} dim {i} "
                        f"({a.shape[i]}) vs {_short(b)} dim {j} ({b.shape[j]})")
    return _contract("tensordot", a, b, (dims_a, dims_b))


from .linalg_einsum import einsum  # noqa: E402  (einsum builds on the functions above)

__all__ = ["dot", "dot_general", "einsum", "inner", "matmul", "outer", "tensordot", "vdot"]
from . import elementwise as _ew, shape as _shape  # noqa: E402  (families used at call time)
