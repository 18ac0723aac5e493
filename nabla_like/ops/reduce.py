"""Reductions: sum, max, min, prod, all, any, argmax, argmin, and the statistics built on them.

Reduction primitives take sorted, unique `axes` and drop them; `keepdims` is
a reshape in the wrapper. They share one abstract-eval and one batching rule
(`reduction_primitive`). mean, var, std, logsumexp, softmax and log_softmax
are composites. The cumulative ops (cumsum, cumprod) live in `cumulative.py`
and are re-exported from here.

This module exports `sum`, `max`, `min`, `all` and `any`, so inside it the
Python builtins are spelled `builtins.sum` etc.
"""
from __future__ import annotations

import builtins

from ..core import Primitive, bind, full_in
from ..dtypes import DType, bool_, default_float, int32, uint32
from ..errors import ArgumentValueError, DTypeError, ShapeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ..args import as_bool, as_float
from ._common import canonical_axes, canonical_axis, cast, to_tensor

_KIND_NAMES = {"f": "floating", "i": "signed integer", "u": "unsigned integer", "b": "bool"}


def _check_kind(op: str, x: Aval, kinds: str | None) -> None:
    if kinds is not None and x.dtype.kind not in kinds:
        allowed = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise_error(DTypeError, op, f"expects a {allowed} operand, got {x.short()}")


def _reduce_abstract_eval(x: Aval, *, axes: tuple[int, ...]) -> Aval:
    return Aval(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype, x.weak)


def _batch_axes(axes: tuple[int, ...], bdim: int) -> tuple[int, tuple[int, ...]]:
    """Axes of the batched operand and the batch dim of the result."""
    new_axes = tuple(a + 1 if a >= bdim else a for a in axes)
    out_bdim = bdim - builtins.sum(1 for a in axes if a < bdim)
    return out_bdim, new_axes


def reduction_primitive(name: str, kinds: str | None = None, **kwargs) -> Primitive:
    """A primitive reducing one operand over static `axes`, with the shared shape and
    batching rules. `kinds` restricts the operand dtype kinds ('f', 'i', 'u', 'b')."""
    p = Primitive(name, **kwargs)

    @p.def_abstract_eval
    def _abstract_eval(x: Aval, *, axes: tuple[int, ...]) -> Aval:
        _check_kind(name, x, kinds)
        return _reduce_abstract_eval(x, axes=axes)

    @p.def_batch
    def _batch(args, bdims, *, axes):
        (x,), (b,) = args, bdims
        out_bdim, new_axes = _batch_axes(axes, b)
        return bind(p, x, axes=new_axes), out_bdim

    if not p.differentiable:
        p.def_jvp(lambda primals, tangents, outs, **params: None)
        p.def_vjp(lambda ct, primals, outs, **params: (None,))
    return p


def _widen_small_ints(x: Tensor) -> Tensor:
    """Sums and products of bool and sub-32-bit ints accumulate in 32 bits (as JAX does)."""
    kind = x.dtype.kind
    if kind == "b" or (kind == "i" and x.dtype.bits < 32):
        return cast(x, int32)
    if kind == "u" and x.dtype.bits < 32:
        return cast(x, uint32)
    return x


def _keepdims(out: Tensor, x: Tensor, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    if not keepdims:
        return out
    return _shape.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def expand_reduced(ct: Tensor, shape: tuple[int, ...], axes: tuple[int, ...]) -> Tensor:
    """Broadcast a reduced tensor back over the reduced `axes` of `shape`."""
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return _shape.broadcast_in_dim(ct, shape, kept)


def _reduced_size(x: Tensor, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _reduce(prim: Primitive, x: Tensor, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    if not axes:  # nothing to reduce: no node
        return x
    return _keepdims(bind(prim, x, axes=axes), x, axes, keepdims)


# ---------------------------------------------------------------------------
# sum
# ---------------------------------------------------------------------------
reduce_sum_p = reduction_primitive("reduce_sum", linear=True)
reduce_sum_p.def_transpose(lambda ct, x, *, axes: (expand_reduced(ct, x.shape, axes),))


def reduce_sum(x, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (an int, a tuple, or None for all axes). Alias: `sum`.

    Bool and sub-32-bit integers are summed in 32 bits; float16/bfloat16 accumulate in
    float32 and round once.

    Example:
        >>> nb.sum(nb.ones((2, 3)), axis=1)
        Tensor([3. 3.] : f32[2])
    """
    keepdims = as_bool("sum", "keepdims", keepdims)
    x = to_tensor(x, "sum")
    axes = canonical_axes("sum", axis, x.ndim)
    return _reduce(reduce_sum_p, _widen_small_ints(x), axes, keepdims)


sum = reduce_sum  # the NumPy name


# ---------------------------------------------------------------------------
# max, min: the derivative splits evenly among tied extrema (as JAX does)
# ---------------------------------------------------------------------------
reduce_max_p = reduction_primitive("reduce_max", "iufb")
reduce_min_p = reduction_primitive("reduce_min", "iufb")


def _chooser_locations(x: Tensor, out: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """1.0 where x attains the extremum `out` (0.0 elsewhere), and the number of such places."""
    from .elementwise import equal
    locations = cast(equal(x, expand_reduced(out, x.shape, axes)), x.dtype)
    return locations, reduce_sum(locations, axes)


def _chooser_rules(prim: Primitive) -> None:
    from .elementwise import div, mul

    @prim.def_jvp
    def _jvp(primals, tangents, outs, *, axes):
        locations, counts = _chooser_locations(primals[0], outs[0], axes)
        return div(reduce_sum(mul(tangents[0], locations), axes), counts)

    @prim.def_vjp
    def _vjp(ct, primals, outs, *, axes):
        (x,) = primals
        locations, counts = _chooser_locations(x, outs[0], axes)
        return (mul(expand_reduced(div(ct, counts), x.shape, axes), locations),)


_chooser_rules(reduce_max_p)
_chooser_rules(reduce_min_p)


def _check_nonempty(op: str, numpy_name: str, x: Tensor, axes: tuple[int, ...]) -> None:
    if builtins.any(x.shape[a] == 0 for a in axes):
        raise_error(ShapeError, op, f"zero-size array to reduction operation {numpy_name} which "
                    f"has no identity (operand {x._value.aval.short()}, axes {axes})")


def reduce_max(x, axis=None, keepdims: bool = False) -> Tensor:
    """Maximum over `axis` (NaN-propagating). Alias: `max`.

    The derivative is split evenly among tied maxima. Reducing an axis of size 0
    raises a ShapeError (the maximum of nothing is undefined).

    Example:
        >>> nb.max(nb.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=0)
        Tensor([3. 5.] : f32[2])
    """
    keepdims = as_bool("max", "keepdims", keepdims)
    x = to_tensor(x, "max")
    axes = canonical_axes("max", axis, x.ndim)
    _check_nonempty("max", "maximum", x, axes)
    return _reduce(reduce_max_p, x, axes, keepdims)


def reduce_min(x, axis=None, keepdims: bool = False) -> Tensor:
    """Minimum over `axis` (NaN-propagating). Alias: `min`.

    Example:
        >>> nb.min(nb.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
        Tensor([1. 2.] : f32[2])
    """
    keepdims = as_bool("min", "keepdims", keepdims)
    x = to_tensor(x, "min")
    axes = canonical_axes("min", axis, x.ndim)
    _check_nonempty("min", "minimum", x, axes)
    return _reduce(reduce_min_p, x, axes, keepdims)


max = reduce_max  # the NumPy name
min = reduce_min  # the NumPy name


# ---------------------------------------------------------------------------
# prod: derivative from products of the other elements, exact with zeros
# ---------------------------------------------------------------------------
reduce_prod_p = reduction_primitive("reduce_prod", "iuf")


def _prod_of_others(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """For each element, the product of the other elements of its reduced group.

    Formed as (exclusive cumprod from the left) * (exclusive cumprod from the right),
    never by dividing the total by the element, so zeros are no special case.
    """
    from .cumulative import exclusive_cumprod
    from .elementwise import mul
    from .shape import reshape, transpose
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    perm = kept + axes
    moved = transpose(x, perm)
    flat = reshape(moved, tuple(x.shape[i] for i in kept) + (_reduced_size(x, axes),))
    last = flat.ndim - 1
    others = mul(exclusive_cumprod(flat, last, reverse=False),
                 exclusive_cumprod(flat, last, reverse=True))
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(reshape(others, moved.shape), tuple(inverse))


@reduce_prod_p.def_jvp
def _reduce_prod_jvp(primals, tangents, outs, *, axes):
    from .elementwise import mul
    return reduce_sum(mul(tangents[0], _prod_of_others(primals[0], axes)), axes)


@reduce_prod_p.def_vjp
def _reduce_prod_vjp(ct, primals, outs, *, axes):
    from .elementwise import mul
    (x,) = primals
    return (mul(expand_reduced(ct, x.shape, axes), _prod_of_others(x, axes)),)


def prod(x, axis=None, keepdims: bool = False) -> Tensor:
    """Product over `axis`; the product over an empty axis is 1.

    Bool and sub-32-bit integers multiply in 32 bits; float16/bfloat16 accumulate in
    float32. The derivative is exact when the input contains zeros.

    Example:
        >>> nb.prod(nb.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        Tensor([ 2. 12.] : f32[2])
    """
    keepdims = as_bool("prod", "keepdims", keepdims)
    x = to_tensor(x, "prod")
    axes = canonical_axes("prod", axis, x.ndim)
    return _reduce(reduce_prod_p, _widen_small_ints(x), axes, keepdims)


# ---------------------------------------------------------------------------
# all, any
# ---------------------------------------------------------------------------
reduce_and_p = reduction_primitive("reduce_and", "b", differentiable=False)
reduce_or_p = reduction_primitive("reduce_or", "b", differentiable=False)


def _truth(x: Tensor) -> Tensor:
    if x.dtype is bool_:
        return x
    from .elementwise import not_equal
    return not_equal(x, 0)


def all(x, axis=None, keepdims: bool = False) -> Tensor:  # the NumPy name
    """Whether every element over `axis` is true (nonzero); True over an empty axis.

    Example:
        >>> nb.all(nb.tensor([[True, False], [True, True]]), axis=1)
        Tensor([False  True] : bool[2])
    """
    keepdims = as_bool("all", "keepdims", keepdims)
    x = _truth(to_tensor(x, "all"))
    return _reduce(reduce_and_p, x, canonical_axes("all", axis, x.ndim), keepdims)


def any(x, axis=None, keepdims: bool = False) -> Tensor:  # the NumPy name
    """Whether some element over `axis` is true (nonzero); False over an empty axis.

    Example:
        >>> nb.any(nb.tensor([0.0, 2.0]))
        Tensor(True : bool[])
    """
    keepdims = as_bool("any", "keepdims", keepdims)
    x = _truth(to_tensor(x, "any"))
    return _reduce(reduce_or_p, x, canonical_axes("any", axis, x.ndim), keepdims)


# ---------------------------------------------------------------------------
# argmax, argmin: first occurrence on ties; NaN counts as the extremum (as NumPy)
# ---------------------------------------------------------------------------
def _arg_primitive(name: str) -> Primitive:
    p = Primitive(name, differentiable=False)

    @p.def_abstract_eval
    def _abstract_eval(x: Aval, *, axis: int, index_dtype: DType) -> Aval:
        _check_kind(name, x, "iufb")
        return Aval(x.shape[:axis] + x.shape[axis + 1:], index_dtype)

    @p.def_batch
    def _batch(args, bdims, *, axis, index_dtype):
        (x,), (b,) = args, bdims
        if b <= axis:
            return bind(p, x, axis=axis + 1, index_dtype=index_dtype), b
        return bind(p, x, axis=axis, index_dtype=index_dtype), b - 1

    p.def_jvp(lambda primals, tangents, outs, **params: None)
    p.def_vjp(lambda ct, primals, outs, **params: (None,))
    return p


argmax_p = _arg_primitive("argmax")
argmin_p = _arg_primitive("argmin")


def _arg_reduce(prim: Primitive, op: str, x, axis, keepdims: bool) -> Tensor:
    from .shape import reshape
    x = to_tensor(x, op)
    if axis is None:
        flat = reshape(x, (x.size,))
        ax, out_shape = 0, (1,) * x.ndim
    else:
        ax = canonical_axis(op, axis, x.ndim)
        flat = reshape(x, (1,)) if x.ndim == 0 else x
        out_shape = x.shape[:ax] + (1,) + x.shape[ax + 1:] if x.ndim else ()
    if flat.shape[ax] == 0:
        raise_error(ShapeError, op, f"attempt to get {op} of an empty sequence "
                    f"(operand {x._value.aval.short()}, axis {axis})")
    out = bind(prim, flat, axis=ax, index_dtype=int32)
    return reshape(out, out_shape) if keepdims else out


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the maximum along `axis`, or into the flattened tensor when None.

    Ties give the first index; a NaN counts as the maximum (as in NumPy).

    Example:
        >>> nb.argmax(nb.tensor([[1.0, 5.0, 5.0], [3.0, 2.0, 0.0]]), axis=1)
        Tensor([1 0] : i32[2])
    """
    keepdims = as_bool("argmax", "keepdims", keepdims)
    return _arg_reduce(argmax_p, "argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index (int32) of the minimum along `axis`, or into the flattened tensor when None.

    Example:
        >>> nb.argmin(nb.tensor([3.0, 1.0, 1.0]))
        Tensor(1 : i32[])
    """
    keepdims = as_bool("argmin", "keepdims", keepdims)
    return _arg_reduce(argmin_p, "argmin", x, axis, keepdims)


# ---------------------------------------------------------------------------
# Statistics (composites)
# ---------------------------------------------------------------------------
def _stats_input(op: str, x) -> tuple[Tensor, DType]:
    """`x` in the type the statistic is computed in, and the type of the result:
    integers and bool give float32; float16/bfloat16 compute in float32 and round once."""
    x = to_tensor(x, op)
    dtype = x.dtype
    if dtype.kind != "f":
        return cast(x, default_float), default_float
    if dtype.bits < 32:
        return cast(x, default_float), dtype
    return x, dtype


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis`; integers and bool give float32 (NaN over an empty axis).

    Example:
        >>> nb.mean(nb.tensor([[1, 2], [3, 4]]), axis=0)
        Tensor([2. 3.] : f32[2])
    """
    keepdims = as_bool("mean", "keepdims", keepdims)
    x, out_dtype = _stats_input("mean", x)
    axes = canonical_axes("mean", axis, x.ndim)
    out = _ew.div(_reduce(reduce_sum_p, x, axes, keepdims), float(_reduced_size(x, axes)))
    return cast(out, out_dtype)


def var(x, axis=None, ddof: float = 0, keepdims: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Variance over `axis`: sum((x - mean)**2) / (N - ddof). `correction` is an alias of `ddof`.

    Integers and bool give float32. N - ddof <= 0 gives inf or NaN, as in NumPy.

    Example:
        >>> nb.var(nb.tensor([1.0, 2.0, 3.0, 4.0]), ddof=1)
        Tensor(1.6667 : f32[])
    """
    keepdims = as_bool("var", "keepdims", keepdims)
    ddof = as_float("var", "ddof", ddof)
    from .elementwise import div, mul, sub
    if correction is not None:
        correction = as_float("var", "correction", correction)
        if ddof != 0 and ddof != correction:
            raise_error(ArgumentValueError, "var", f"ddof={ddof} and correction={correction} disagree; "
                        f"pass only one of them")
        ddof = correction
    x, out_dtype = _stats_input("var", x)
    axes = canonical_axes("var", axis, x.ndim)
    n = _reduced_size(x, axes)
    average = div(_reduce(reduce_sum_p, x, axes, False), float(n))
    centered = sub(x, expand_reduced(average, x.shape, axes))
    out = div(reduce_sum(mul(centered, centered), axes, keepdims), float(builtins.max(n - ddof, 0)))
    return cast(out, out_dtype)


def std(x, axis=None, ddof: float = 0, keepdims: bool = False, *,
        correction: float | None = None) -> Tensor:
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof)). Integers give float32.

    Example:
        >>> nb.std(nb.tensor([1.0, 3.0]))
        Tensor(1. : f32[])
    """
    keepdims = as_bool("std", "keepdims", keepdims)
    from .elementwise import sqrt
    return sqrt(var(x, axis, ddof, keepdims, correction=correction))


def _floating(op: str, x) -> Tensor:
    x = to_tensor(x, op)
    return x if x.dtype.kind == "f" else cast(x, default_float)


def _shifted(x: Tensor, axes: tuple[int, ...], finite: bool) -> tuple[Tensor, Tensor]:
    """(x - shift, shift) with shift = max(x) over `axes` (reduced shape), a constant for the
    derivative. With `finite`, a shift that is not finite becomes 0, so that a row of -inf
    gives exp(x - shift) = 0 rather than NaN."""
    from .elementwise import equal, select, stop_gradient, sub
    if builtins.any(x.shape[a] == 0 for a in axes):  # no maximum; nothing to overflow
        shift = full_in(x._value.ctx, tuple(d for i, d in enumerate(x.shape) if i not in axes),
                        0, x.dtype)
        return x, shift
    shift = stop_gradient(_reduce(reduce_max_p, x, axes, False))
    if finite:
        # shift - shift is 0 exactly when shift is finite (inf - inf and NaN give NaN)
        shift = select(equal(sub(shift, shift), 0), shift, full_in(shift._value.ctx, shift.shape,
                                                                    0, shift.dtype))
    return sub(x, expand_reduced(shift, x.shape, axes)), shift


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed stably (shifted by the maximum).

    Rows of -inf give -inf; an empty axis gives -inf. Integers give float32.

    Example:
        >>> nb.logsumexp(nb.tensor([1000.0, 1000.0]))
        Tensor(1000.6932 : f32[])
    """
    keepdims = as_bool("logsumexp", "keepdims", keepdims)
    from .elementwise import add, exp, log
    x = _floating("logsumexp", x)
    axes = canonical_axes("logsumexp", axis, x.ndim)
    if not axes:
        return x
    shifted, shift = _shifted(x, axes, finite=True)
    out = add(log(_reduce(reduce_sum_p, exp(shifted), axes, False)), shift)
    return _keepdims(out, x, axes, keepdims)


def softmax(x, axis=-1) -> Tensor:
    """exp(x) / sum(exp(x)) over `axis` (default the last), computed stably.

    Example:
        >>> nb.softmax(nb.tensor([0.0, 0.0]))
        Tensor([0.5 0.5] : f32[2])
    """
    from .elementwise import div, exp
    x = _floating("softmax", x)
    axes = canonical_axes("softmax", axis, x.ndim)
    if x.size == 0:
        return x
    e = exp(_shifted(x, axes, finite=False)[0])
    return div(e, expand_reduced(_reduce(reduce_sum_p, e, axes, False), x.shape, axes))


def log_softmax(x, axis=-1) -> Tensor:
    """x - logsumexp(x) over `axis` (default the last), computed stably. Alias: `logsoftmax`.

    Example:
        >>> nb.log_softmax(nb.tensor([0.0, 0.0]))
        Tensor([-0.6931 -0.6931] : f32[2])
    """
    from .elementwise import exp, log, sub
    x = _floating("log_softmax", x)
    axes = canonical_axes("log_softmax", axis, x.ndim)
    if x.size == 0:
        return x
    shifted = _shifted(x, axes, finite=False)[0]
    log_sum = log(_reduce(reduce_sum_p, exp(shifted), axes, False))
    return sub(shifted, expand_reduced(log_sum, x.shape, axes))


logsoftmax = log_softmax

# The cumulative ops sit in their own file; importing it here registers them and puts
# them in `nb.*` with the rest of the family (cumulative.py imports this module).
from .cumulative import cumprod, cumsum  # noqa: E402

__all__ = ["all", "any", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logsoftmax",
           "logsumexp", "max", "mean", "min", "prod", "reduce_max", "reduce_min", "reduce_sum",
           "softmax", "std", "sum", "var"]
from . import elementwise as _ew, shape as _shape  # noqa: E402  (used at call time)
