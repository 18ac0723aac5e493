"""Elementwise ops: arithmetic, transcendental functions, comparisons, select, casts.

Every primitive here takes operands of one shape and dtype (the user-facing
wrapper promotes and broadcasts first, NumPy-style), so they share one
abstract-eval and one batching rule (`elementwise_primitive`). Each block is
the wrapper, the primitive, then its JVP and VJP (or transpose).
"""
from __future__ import annotations

from ..core import Primitive, bind, full_in
from ..dtypes import DType, as_dtype, bool_, default_float
from ..ir import Aval
from ..tensor import Tensor
from ._common import add_any, elementwise_batch, elementwise_primitive, promote, to_tensor

FLOAT = "f"
NUMERIC = "iuf"
INTEGRAL = "iub"


def _zeros(x: Tensor) -> Tensor:
    return full_in(x._value.ctx, x.shape, 0, x.dtype)


def _const(x: Tensor, value) -> Tensor:
    return full_in(x._value.ctx, x.shape, value, x.dtype)


# ---------------------------------------------------------------------------
# add, sub, neg: linear
# ---------------------------------------------------------------------------
add_p = elementwise_primitive("add", NUMERIC + "b", nargs=2, linear=True)


def add(x, y) -> Tensor:
    """Elementwise x + y with NumPy broadcasting.

    Example:
        >>> nb.add(nb.tensor([1.0, 2.0]), 1.0)
    """
    return bind(add_p, *promote("add", x, y))


add_p.def_jvp(lambda primals, tangents, outs: add_any(*tangents))
add_p.def_transpose(lambda ct, x, y: (ct, ct))

sub_p = elementwise_primitive("sub", NUMERIC, nargs=2, linear=True)


def sub(x, y) -> Tensor:
    """Elementwise x - y."""
    return bind(sub_p, *promote("sub", x, y, kinds=NUMERIC))


@sub_p.def_jvp
def _sub_jvp(primals, tangents, outs):
    tx, ty = tangents
    if ty is None:
        return tx
    return neg(ty) if tx is None else sub(tx, ty)


sub_p.def_transpose(lambda ct, x, y: (ct, neg(ct)))

neg_p = elementwise_primitive("neg", NUMERIC, linear=True)


def neg(x) -> Tensor:
    """Elementwise -x."""
    return bind(neg_p, *promote("neg", x, kinds=NUMERIC))


neg_p.def_transpose(lambda ct, x: (neg(ct),))

# ---------------------------------------------------------------------------
# mul, div
# ---------------------------------------------------------------------------
mul_p = elementwise_primitive("mul", NUMERIC + "b", nargs=2)


def mul(x, y) -> Tensor:
    """Elementwise x * y."""
    return bind(mul_p, *promote("mul", x, y))


@mul_p.def_jvp
def _mul_jvp(primals, tangents, outs):
    x, y = primals
    tx, ty = tangents
    return add_any(None if tx is None else mul(tx, y), None if ty is None else mul(x, ty))


mul_p.def_vjp(lambda ct, primals, outs: (mul(ct, primals[1]), mul(primals[0], ct)))

div_p = elementwise_primitive("div", NUMERIC, nargs=2)


def div(x, y) -> Tensor:
    """Elementwise true division x / y (integers divide to the default float type)."""
    x, y = promote("div", x, y)
    if x.dtype.kind != "f":
        x, y = cast(x, default_float), cast(y, default_float)
    return bind(div_p, x, y)


@div_p.def_jvp
def _div_jvp(primals, tangents, outs):
    x, y = primals
    tx, ty = tangents
    out = outs[0]
    t = None if tx is None else div(tx, y)
    return add_any(t, None if ty is None else neg(mul(ty, div(out, y))))


@div_p.def_vjp
def _div_vjp(ct, primals, outs):
    x, y = primals
    ct_x = div(ct, y)
    return ct_x, neg(mul(ct_x, outs[0]))


# ---------------------------------------------------------------------------
# Unary transcendental functions
# ---------------------------------------------------------------------------
def _unary(name: str, kinds: str = FLOAT):
    prim = elementwise_primitive(name, kinds)

    def wrapper(x) -> Tensor:
        x = to_tensor(x, name)
        if x.dtype.kind not in kinds:
            if kinds == FLOAT:  # integer and bool inputs compute in the default float type
                x = cast(x, default_float)
            else:
                promote(name, x, kinds=kinds)  # raises the dtype error
        return bind(prim, x)

    wrapper.__name__ = name
    wrapper.__doc__ = f"Elementwise {name}(x); integer inputs are computed in float32."
    return prim, wrapper


exp_p, exp = _unary("exp")
exp_p.def_jvp(lambda primals, tangents, outs: mul(tangents[0], outs[0]))
exp_p.def_vjp(lambda ct, primals, outs: (mul(ct, outs[0]),))

log_p, log = _unary("log")
log_p.def_jvp(lambda primals, tangents, outs: div(tangents[0], primals[0]))
log_p.def_vjp(lambda ct, primals, outs: (div(ct, primals[0]),))

sin_p, sin = _unary("sin")
cos_p, cos = _unary("cos")
sin_p.def_jvp(lambda primals, tangents, outs: mul(tangents[0], cos(primals[0])))
sin_p.def_vjp(lambda ct, primals, outs: (mul(ct, cos(primals[0])),))
cos_p.def_jvp(lambda primals, tangents, outs: neg(mul(tangents[0], sin(primals[0]))))
cos_p.def_vjp(lambda ct, primals, outs: (neg(mul(ct, sin(primals[0]))),))

tanh_p, tanh = _unary("tanh")


def _tanh_deriv(out: Tensor) -> Tensor:
    return sub(_const(out, 1), mul(out, out))


tanh_p.def_jvp(lambda primals, tangents, outs: mul(tangents[0], _tanh_deriv(outs[0])))
tanh_p.def_vjp(lambda ct, primals, outs: (mul(ct, _tanh_deriv(outs[0])),))

# ---------------------------------------------------------------------------
# max, min
# ---------------------------------------------------------------------------
max_p = elementwise_primitive("max", NUMERIC + "b", nargs=2)
min_p = elementwise_primitive("min", NUMERIC + "b", nargs=2)


def maximum(x, y) -> Tensor:
    """Elementwise maximum (NaN-propagating); gradient splits evenly at ties."""
    return bind(max_p, *promote("maximum", x, y))


def minimum(x, y) -> Tensor:
    """Elementwise minimum (NaN-propagating); gradient splits evenly at ties."""
    return bind(min_p, *promote("minimum", x, y))


def _minmax_weights(x: Tensor, y: Tensor, pick_x: Tensor) -> tuple[Tensor, Tensor]:
    """Gradient weights for x and y: 1 where chosen, 1/2 at ties, 0 elsewhere."""
    tie = equal(x, y)
    half = _const(x, 0.5)
    wx = select(tie, half, select(pick_x, _const(x, 1), _zeros(x)))
    return wx, sub(_const(x, 1), wx)


def _minmax_rules(prim: Primitive, picks_x):
    def jvp(primals, tangents, outs):
        x, y = primals
        wx, wy = _minmax_weights(x, y, picks_x(x, y))
        tx, ty = tangents
        return add_any(None if tx is None else mul(tx, wx), None if ty is None else mul(ty, wy))

    def vjp(ct, primals, outs):
        x, y = primals
        wx, wy = _minmax_weights(x, y, picks_x(x, y))
        return mul(ct, wx), mul(ct, wy)

    prim.def_jvp(jvp)
    prim.def_vjp(vjp)


_minmax_rules(max_p, lambda x, y: greater(x, y))
_minmax_rules(min_p, lambda x, y: less(x, y))

# ---------------------------------------------------------------------------
# Comparisons (bool results, not differentiable)
# ---------------------------------------------------------------------------
compare_p = elementwise_primitive("compare", NUMERIC + "b", nargs=2, out_dtype=bool_,
                                  differentiable=False)
_DIRECTIONS = {"equal": "EQ", "not_equal": "NE", "less": "LT", "less_equal": "LE",
               "greater": "GT", "greater_equal": "GE"}


def _comparison(name: str):
    direction = _DIRECTIONS[name]

    def wrapper(x, y) -> Tensor:
        return bind(compare_p, *promote(name, x, y), direction=direction)

    wrapper.__name__ = name
    wrapper.__doc__ = f"Elementwise {name} comparison; returns a bool tensor."
    return wrapper


equal = _comparison("equal")
not_equal = _comparison("not_equal")
less = _comparison("less")
less_equal = _comparison("less_equal")
greater = _comparison("greater")
greater_equal = _comparison("greater_equal")

# ---------------------------------------------------------------------------
# select (where)
# ---------------------------------------------------------------------------
select_p = Primitive("select")


@select_p.def_abstract_eval
def _select_abstract_eval(pred: Aval, x: Aval, y: Aval) -> Aval:
    from ..errors import DTypeError, ShapeError, raise_error
    if pred.dtype is not bool_:
        raise_error(DTypeError, "where", f"condition must be bool, got {pred.short()}")
    if not (pred.shape == x.shape == y.shape) or x.dtype is not y.dtype:
        raise_error(ShapeError, "where", f"operands must have equal shapes and dtypes, got "
                    f"{pred.short()}, {x.short()}, {y.short()}")
    return Aval(x.shape, x.dtype, x.weak and y.weak)


select_p.def_batch(elementwise_batch(select_p))


def select(pred: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return bind(select_p, pred, x, y)


def where(condition, x, y) -> Tensor:
    """Elementwise `x if condition else y`, with broadcasting.

    Example:
        >>> nb.where(x > 0, x, 0.0)
    """
    cond = to_tensor(condition, "where")
    if cond.dtype is not bool_:
        cond = not_equal(cond, 0)
    pred, x, y = _promote_where(cond, x, y)
    return bind(select_p, pred, x, y)


def _promote_where(cond: Tensor, x, y):
    from ._common import broadcast_shapes, broadcast_to_shape
    x, y = promote("where", x, y)
    shape = broadcast_shapes("where", cond.shape, x.shape, operands=(cond, x, y))
    return (broadcast_to_shape(cond, shape), broadcast_to_shape(x, shape),
            broadcast_to_shape(y, shape))


@select_p.def_jvp
def _select_jvp(primals, tangents, outs):
    pred, x, y = primals
    _, tx, ty = tangents
    if tx is None and ty is None:
        return None
    return select(pred, _zeros(x) if tx is None else tx, _zeros(y) if ty is None else ty)


@select_p.def_vjp
def _select_vjp(ct, primals, outs):
    pred, x, y = primals
    zeros = _zeros(ct)
    return None, select(pred, ct, zeros), select(pred, zeros, ct)


# ---------------------------------------------------------------------------
# convert (cast) and stop_gradient
# ---------------------------------------------------------------------------
convert_p = Primitive("convert")


@convert_p.def_abstract_eval
def _convert_abstract_eval(x: Aval, *, dtype: DType, weak: bool = False) -> Aval:
    return Aval(x.shape, dtype, weak)


def convert(x: Tensor, dtype: DType, weak: bool = False) -> Tensor:
    return bind(convert_p, x, dtype=dtype, weak=weak)


def cast(x, dtype) -> Tensor:
    """`x` converted to `dtype` (float to int truncates toward zero, as in NumPy).

    Example:
        >>> nb.cast(nb.tensor([1.7, -1.7]), nb.int32)
    """
    x = to_tensor(x, "cast")
    dtype = as_dtype(dtype)
    if x.dtype is dtype and not x._value.aval.weak:
        return x
    return convert(x, dtype)


@convert_p.def_jvp
def _convert_jvp(primals, tangents, outs, *, dtype, weak=False):
    (t,) = tangents
    if t is None or dtype.kind != "f":
        return None
    return convert(t, dtype, weak)


@convert_p.def_vjp
def _convert_vjp(ct, primals, outs, *, dtype, weak=False):
    (x,) = primals
    if x.dtype.kind != "f":
        return (None,)
    return (convert(ct, x.dtype, x._value.aval.weak),)


convert_p.def_batch(elementwise_batch(convert_p))

stop_gradient_p = elementwise_primitive("stop_gradient", None, differentiable=False)


def stop_gradient(x) -> Tensor:
    """The same values, treated as a constant by every derivative (alias: detach).

    Example:
        >>> nb.grad(lambda x: x * nb.stop_gradient(x))(nb.tensor(3.0))  # 3.0, not 6.0
    """
    x = to_tensor(x, "stop_gradient")
    v = x._value
    if v.buffer is not None and v.ctx.level == 0:  # materialized: share the buffer
        from ..ir import Value
        out = Value(v.aval, None, 0, v.ctx)
        out.buffer = v.buffer
        return Tensor._wrap(out)
    return bind(stop_gradient_p, x)


detach = stop_gradient

__all__ = ["add", "sub", "mul", "div", "neg", "exp", "log", "sin", "cos", "tanh", "maximum",
           "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "where", "select", "cast", "convert", "stop_gradient", "detach"]
