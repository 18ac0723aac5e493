"""Op table: reductions (sum, max, min, prod, all, any, argmax, argmin, mean, var, std,
logsumexp, softmax, log_softmax, cumsum, cumprod).

Every name starts with `reduce_` (run them with `-k reduce_`). NumPy widens integer
sums and products to 64 bits and integer statistics to float64, nabla_like (like JAX)
to 32 bits and float32: those cases compare values only (`check_dtype=False`).
"""
import numpy as np

import nabla_like as nb

from ..optable import ALL, FLOATS, INTS, Arg, OpCase, mark_composite

# (suffix, axis, keepdims, shape): the axis forms every reduction is checked over
AXES = [
    ("all", None, False, (2, 3, 4)),
    ("axis1", 1, False, (2, 3, 4)),
    ("neg_axis", -1, False, (2, 3, 4)),
    ("tuple", (0, 2), False, (2, 3, 4)),
    ("neg_tuple_keepdims", (-1, 0), True, (2, 3, 4)),
    ("all_keepdims", None, True, (3, 4)),
    ("empty_tuple", (), False, (3, 2)),
    ("scalar", None, False, ()),
]
EMPTY = [("size0_axis0", 0, False, (0, 3)), ("size0_all", None, False, (2, 0))]
# Reducing the nonempty axis of a size-0 tensor is defined even without an identity.
EMPTY_OTHER_AXIS = [("size0_other_axis", 1, True, (0, 3))]


def family(name, fn, ref, forms, **kw):
    """One OpCase per axis form: fn(x, axis=..., keepdims=...) against ref(x, ...)."""
    cases = []
    for suffix, axis, keepdims, shape in forms:
        cases.append(OpCase(
            f"reduce_{name}_{suffix}",
            lambda x, axis=axis, keepdims=keepdims: fn(x, axis=axis, keepdims=keepdims),
            lambda x, axis=axis, keepdims=keepdims: ref(x, axis=axis, keepdims=keepdims),
            [shape], **kw))
    return cases


def np_flip_cum(fn):
    """NumPy's cumsum/cumprod with nabla_like's `reverse` flag."""
    def ref(x, axis=None, reverse=False):
        if axis is None:
            x, axis = x.reshape(-1), 0
        if not reverse:
            return fn(x, axis=axis)
        return np.flip(fn(np.flip(x, axis), axis=axis), axis)
    return ref


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def np_logsumexp(x, axis=None, keepdims=False):
    return np.logaddexp.reduce(x, axis=axis, keepdims=keepdims) if x.ndim else x


INT_VALUES = {"dtypes": INTS + ("bool",), "grad": False, "check_dtype": False}
# Integer statistics are floats: the vmap test compares them exactly when no float dtype is
# listed, and XLA may fold x / n into x * (1/n) in one program and not the other. Their
# batching is the float cases' (the same primitives after one convert).
INT_STATS = {**INT_VALUES, "rtol": 1e-6, "atol": 1e-6, "vmap": False}
NAN = np.nan
INF = np.inf
WITH_ZEROS = np.array([[1.5, 0.0, 2.0, -0.5], [0.0, 0.7, 0.0, 3.0], [1.2, -2.0, 0.5, 1.1]])
TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [5.0, -7.0, 5.0, 0.0]])

CASES = []

# -- sum -------------------------------------------------------------------------------
CASES += family("sum", nb.sum, np.sum, AXES + EMPTY)
CASES += family("sum_ints", nb.sum, np.sum, AXES[:4] + EMPTY, **INT_VALUES)
CASES += [
    OpCase("reduce_sum_method", lambda x: x.sum(axis=0), lambda x: x.sum(axis=0), [(3, 2)]),
    OpCase("reduce_sum_reduce_sum_alias", lambda x: nb.reduce_sum(x, 1),
           lambda x: np.sum(x, 1), [(3, 2)]),
    # float16/bfloat16 accumulate in float32: 4096 elements, still within tolerance
    OpCase("reduce_sum_long_low_precision", nb.sum, np.sum, [(4096,)], low=0.0, high=1.0,
           dtypes=("float16", "bfloat16"), grad=False, rtol=4e-3),
]

# -- max, min ----------------------------------------------------------------------------
for name, fn, ref in [("max", nb.max, np.max), ("min", nb.min, np.min)]:
    CASES += family(name, fn, ref, AXES + EMPTY_OTHER_AXIS)
    CASES += family(f"{name}_ints", fn, ref, AXES[:4], dtypes=INTS + ("bool",), grad=False)
    CASES += [
        # ties: the forward value only here (not differentiable there; see test_reduce.py)
        OpCase(f"reduce_{name}_ties", lambda x, fn=fn: fn(x, axis=1),
               lambda x, ref=ref: ref(x, axis=1), [Arg(value=TIES)], dtypes=("float64",),
               grad=False),
        OpCase(f"reduce_{name}_nan", lambda x, fn=fn: fn(x, axis=1),
               lambda x, ref=ref: ref(x, axis=1),
               [Arg(value=np.array([[1.0, NAN, 2.0], [INF, -INF, 0.0]]))],
               dtypes=("float64",), grad=False),
    ]
CASES += [
    OpCase("reduce_max_reduce_max_alias", lambda x: nb.reduce_max(x, 0),
           lambda x: np.max(x, 0), [(3, 2)]),
    OpCase("reduce_min_reduce_min_alias", lambda x: nb.reduce_min(x, 0),
           lambda x: np.min(x, 0), [(3, 2)]),
    OpCase("reduce_max_method", lambda x: x.max(axis=-1), lambda x: x.max(axis=-1), [(3, 2)]),
]

# -- prod ----------------------------------------------------------------------------------
# |x| <= 1.5 keeps 24-element products inside float16's range
CASES += family("prod", nb.prod, np.prod, AXES + EMPTY, low=-1.5, high=1.5)
CASES += family("prod_ints", nb.prod, np.prod, AXES[:4] + EMPTY,
                dtypes=INTS + ("bool",), grad=False, check_dtype=False, low=-2, high=3)
CASES += [
    OpCase("reduce_prod_zeros_axis1", lambda x: nb.prod(x, axis=1),
           lambda x: np.prod(x, axis=1), [Arg(value=WITH_ZEROS)], dtypes=("float64",)),
    OpCase("reduce_prod_zeros_axis0", lambda x: nb.prod(x, axis=0),
           lambda x: np.prod(x, axis=0), [Arg(value=WITH_ZEROS)], dtypes=("float64",)),
    OpCase("reduce_prod_zeros_all", nb.prod, np.prod, [Arg(value=WITH_ZEROS[:, :3])],
           dtypes=("float64",)),
    OpCase("reduce_prod_zeros_tuple", lambda x: nb.prod(x, axis=(0, 2)),
           lambda x: np.prod(x, axis=(0, 2)), [Arg(value=WITH_ZEROS.reshape(2, 3, 2))],
           dtypes=("float64",)),
]

# -- all, any ----------------------------------------------------------------------------
for name, fn, ref in [("all", nb.all, np.all), ("any", nb.any, np.any)]:
    CASES += family(name, fn, ref, AXES + EMPTY, dtypes=("bool",), grad=False)
    CASES += family(f"{name}_nonbool", fn, ref, AXES[:4], dtypes=ALL, grad=False,
                    low=-1, high=2)
CASES += [
    OpCase("reduce_all_sparse", lambda x: nb.all(x, axis=0), lambda x: np.all(x, axis=0),
           [Arg(value=np.array([[1.0, 0.0, NAN], [2.0, 3.0, 1.0]]))], dtypes=("float64",),
           grad=False),
]

# -- argmax, argmin ------------------------------------------------------------------------
ARG_FORMS = [
    ("flat", None, False, (3, 4)),
    ("flat_keepdims", None, True, (2, 3, 4)),
    ("axis0", 0, False, (3, 4)),
    ("neg_axis_keepdims", -1, True, (2, 3, 4)),
    ("scalar", None, False, ()),
    ("scalar_axis", 0, False, ()),
    ("size0_other_axis", 1, False, (0, 3)),
]
for name, fn, ref in [("argmax", nb.argmax, np.argmax), ("argmin", nb.argmin, np.argmin)]:
    CASES += family(name, fn, ref, ARG_FORMS, dtypes=FLOATS + INTS + ("bool",), grad=False,
                    check_dtype=False)
    CASES += [
        OpCase(f"reduce_{name}_ties_nan", lambda x, fn=fn: fn(x, axis=1),
               lambda x, ref=ref: ref(x, axis=1),
               [Arg(value=np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0],
                                    [NAN, 1.0, NAN, 0.0], [5.0, NAN, -7.0, 5.0],
                                    [-INF, -INF, -INF, -INF], [INF, INF, 0.0, -INF]]))],
               dtypes=("float64",), grad=False, check_dtype=False),
        OpCase(f"reduce_{name}_ties_ints", lambda x, fn=fn: fn(x, axis=0),
               lambda x, ref=ref: ref(x, axis=0), [Arg((40, 3), low=-2, high=2)],
               dtypes=INTS + ("bool",), grad=False, check_dtype=False),
    ]

# -- mean, var, std ----------------------------------------------------------------------
STAT_FORMS = AXES[:6] + [AXES[7]]
CASES += family("mean", nb.mean, np.mean, STAT_FORMS + EMPTY_OTHER_AXIS)
CASES += family("mean_ints", nb.mean, np.mean, AXES[:4], **INT_STATS)
CASES += family("var", nb.var, np.var, STAT_FORMS)
CASES += family("var_ints", nb.var, np.var, AXES[:4], **INT_STATS)
CASES += family("std", nb.std, np.std, STAT_FORMS[:6])
CASES += family("std_ints", nb.std, np.std, AXES[:2], **INT_STATS)
CASES += [
    OpCase("reduce_mean_size0_nan", lambda x: nb.mean(x, axis=0),
           lambda x: np.full(x.shape[1:], np.nan, x.dtype), [(0, 3)], grad=False),
    OpCase("reduce_var_ddof1", lambda x: nb.var(x, axis=1, ddof=1),
           lambda x: np.var(x, axis=1, ddof=1), [(3, 5)]),
    OpCase("reduce_var_correction", lambda x: nb.var(x, axis=(0, 1), correction=2, keepdims=True),
           lambda x: np.var(x, axis=(0, 1), ddof=2, keepdims=True), [(3, 4, 2)]),
    OpCase("reduce_std_ddof1", lambda x: nb.std(x, axis=0, ddof=1),
           lambda x: np.std(x, axis=0, ddof=1), [(4, 3)]),
    OpCase("reduce_std_correction", lambda x: nb.std(x, correction=1),
           lambda x: np.std(x, ddof=1), [(5,)]),
    OpCase("reduce_var_method", lambda x: x.var(axis=0), lambda x: x.var(axis=0), [(4, 3)]),
    OpCase("reduce_var_offset", lambda x: nb.var(x, axis=0), lambda x: np.var(x, axis=0),
           [(64, 3)], low=1000.0, high=1001.0, dtypes=("float32", "float64"), grad=False),
]

# -- logsumexp, softmax, log_softmax ---------------------------------------------------------
CASES += family("logsumexp", nb.logsumexp, np_logsumexp, AXES[:5] + AXES[6:])
CASES += [
    OpCase("reduce_logsumexp_large", lambda x: nb.logsumexp(x, axis=1),
           lambda x: np_logsumexp(x, axis=1), [(3, 4)], low=500.0, high=520.0,
           dtypes=("float32", "float64")),
    OpCase("reduce_logsumexp_ints", lambda x: nb.logsumexp(x, axis=0),
           lambda x: np_logsumexp(x.astype(np.float64), axis=0), [(3, 4)],
           dtypes=("int32", "int8"), grad=False, check_dtype=False, rtol=1e-6, atol=1e-6),
    # a row with some -inf entries is differentiable
    OpCase("reduce_logsumexp_some_neginf", lambda x: nb.logsumexp(x, axis=1),
           lambda x: np_logsumexp(x, axis=1),
           [Arg(value=np.array([[-INF, 0.3, -1.2], [0.5, -INF, -INF]]))], dtypes=("float64",)),
    OpCase("reduce_logsumexp_all_neginf", lambda x: nb.logsumexp(x, axis=1, keepdims=True),
           lambda x: np_logsumexp(x, axis=1, keepdims=True),
           [Arg(value=np.array([[-INF, -INF, -INF], [0.5, -INF, 2.0], [INF, 1.0, -INF]]))],
           dtypes=("float64",), grad=False),
    OpCase("reduce_logsumexp_size0", lambda x: nb.logsumexp(x, axis=1),
           lambda x: np.full(x.shape[:1], -INF, x.dtype), [(2, 0)], grad=False),
]
for name, fn, ref in [("softmax", nb.softmax, np_softmax),
                      ("log_softmax", nb.log_softmax, np_log_softmax)]:
    CASES += [
        OpCase(f"reduce_{name}", fn, ref, [(3, 5)]),
        OpCase(f"reduce_{name}_axis0", lambda x, fn=fn: fn(x, axis=0),
               lambda x, ref=ref: ref(x, axis=0), [(3, 4)]),
        OpCase(f"reduce_{name}_tuple", lambda x, fn=fn: fn(x, axis=(0, -1)),
               lambda x, ref=ref: ref(x, axis=(0, -1)), [(2, 3, 2)]),
        OpCase(f"reduce_{name}_large", fn, ref, [(2, 4)], low=800.0, high=810.0,
               dtypes=("float32", "float64")),
        # log_softmax is -inf there, where finite differences give NaN
        OpCase(f"reduce_{name}_neginf", fn, ref,
               [Arg(value=np.array([[-INF, 0.3, -1.2], [0.5, -INF, 2.0]]))],
               dtypes=("float64",), grad=name == "softmax"),
        OpCase(f"reduce_{name}_size0", fn, lambda x: x, [(2, 0)], grad=False),
    ]
CASES += [
    OpCase("reduce_logsoftmax_alias", nb.logsoftmax, np_log_softmax, [(2, 3)]),
    OpCase("reduce_softmax_ints", nb.softmax,
           lambda x: np_softmax(x.astype(np.float64)), [(2, 3)], dtypes=("int32",),
           grad=False, check_dtype=False, rtol=1e-6, atol=1e-7),
]

# -- cumsum, cumprod ------------------------------------------------------------------------
CUM_FORMS = [
    ("flat", None, False, (3, 4)),
    ("axis0", 0, False, (5, 3)),
    ("neg_axis", -1, False, (2, 3, 6)),
    ("reverse", 1, True, (2, 7, 3)),
    ("flat_reverse", None, True, (2, 3)),
    ("scalar", None, False, ()),
    ("length1", 0, False, (1, 3)),
    ("size0", 1, False, (2, 0)),
    ("size0_other_axis", 1, True, (0, 3)),
]


def cum_family(name, fn, ref, forms, **kw):
    return [OpCase(f"reduce_{name}_{suffix}",
                   lambda x, a=axis, r=rev: fn(x, axis=a, reverse=r) if r else fn(x, axis=a),
                   lambda x, a=axis, r=rev: ref(x, axis=a, reverse=r), [shape], **kw)
            for suffix, axis, rev, shape in forms]


CASES += cum_family("cumsum", nb.cumsum, np_flip_cum(np.cumsum), CUM_FORMS)
CASES += cum_family("cumsum_ints", nb.cumsum, np_flip_cum(np.cumsum), CUM_FORMS[:4],
                    **INT_VALUES)
CASES += cum_family("cumprod", nb.cumprod, np_flip_cum(np.cumprod), CUM_FORMS,
                    low=-1.5, high=1.5)
CASES += cum_family("cumprod_ints", nb.cumprod, np_flip_cum(np.cumprod), CUM_FORMS[:4],
                    low=-2, high=3, **INT_VALUES)
CASES += [
    # long axes: the derivative's log-depth scan over several strides
    OpCase("reduce_cumsum_long", lambda x: nb.cumsum(x, axis=0), lambda x: np.cumsum(x, axis=0),
           [(37, 2)], dtypes=("float32", "float64", "float16")),
    OpCase("reduce_cumprod_long", lambda x: nb.cumprod(x, axis=1, reverse=True),
           lambda x: np_flip_cum(np.cumprod)(x, axis=1, reverse=True), [(2, 19)],
           low=0.6, high=1.4, dtypes=("float32", "float64")),
    OpCase("reduce_cumprod_zeros", lambda x: nb.cumprod(x, axis=1),
           lambda x: np.cumprod(x, axis=1), [Arg(value=WITH_ZEROS)], dtypes=("float64",)),
    OpCase("reduce_cumprod_zeros_reverse", lambda x: nb.cumprod(x, axis=0, reverse=True),
           lambda x: np_flip_cum(np.cumprod)(x, axis=0, reverse=True),
           [Arg(value=WITH_ZEROS)], dtypes=("float64",)),
    OpCase("reduce_cumprod_zeros_flat", nb.cumprod, lambda x: np.cumprod(x),
           [Arg(value=WITH_ZEROS)], dtypes=("float64",)),
    OpCase("reduce_cumsum_method", lambda x: x.cumsum(0), lambda x: x.cumsum(0), [(3, 2)]),
]

# statistics and (log-)softmaxes are compositions of the reductions and elementwise ops
# above; the _nonbool cases compare with zero, then reduce
_COMPOSITE_PREFIXES = ("reduce_mean_", "reduce_var_", "reduce_std_", "reduce_logsumexp_",
                       "reduce_softmax", "reduce_log_softmax", "reduce_logsoftmax",
                       "reduce_all_nonbool_", "reduce_any_nonbool_")
mark_composite(CASES, [c.name for c in CASES if c.name.startswith(_COMPOSITE_PREFIXES)])
