"""Op table: the sort primitive (sort, argsort, topk) and the differentiable composites of
ops/compat.py (diag, diagonal, trace, stacks, meshgrid, ravel, clamp, unbind).

Names start with `sort_` or `compat_` (run them with `-k "sort_ or compat_"`). NumPy's
indices are int64, nabla_like's (like JAX's) int32: index results compare values only
(`check_dtype=False`). Random float inputs have no ties, so the permutation is unique
and sort is differentiable there.
"""
import numpy as np

import nabla_like as nb

from ..optable import ALL, FLOATS, INTS, NUMERIC, Arg, OpCase, mark_composite

NAN, INF = np.nan, np.inf
SPECIAL = np.array([[3.0, NAN, -INF, 1.0, -0.0, 0.0, NAN, INF],
                    [2.0, 2.0, NAN, -1.0, 0.0, -0.0, 5.0, 2.0]])


def np_sort_desc(x, axis=-1):
    return np.flip(np.sort(x, axis=axis), axis=axis)


def np_argsort_desc(x, axis=-1):
    """A stable descending argsort (ties in input order, NaNs first), as jnp/torch."""
    n = x.shape[axis]
    flipped = np.flip(x, axis=axis)
    return np.flip(n - 1 - np.argsort(flipped, axis=axis, kind="stable"), axis=axis)


def np_topk(x, k, axis=-1, largest=True):
    idx = (np_argsort_desc(x, axis) if largest else np.argsort(x, axis=axis, kind="stable"))
    idx = np.take(idx, np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx


CASES = []

# -- sort ------------------------------------------------------------------------------
for suffix, axis, shape in [("last", -1, (3, 5)), ("axis0", 0, (4, 3)), ("middle", 1, (2, 4, 3)),
                            ("flat", None, (3, 4)), ("vector", 0, (6,)), ("size1", 0, (1, 3)),
                            ("empty", 1, (2, 0))]:
    CASES += [
        OpCase(f"sort_{suffix}", lambda x, axis=axis: nb.sort(x, axis=axis),
               lambda x, axis=axis: np.sort(x, axis=axis), [shape]),
        OpCase(f"sort_desc_{suffix}", lambda x, axis=axis: nb.sort(x, axis=axis, descending=True),
               lambda x, axis=axis: np_sort_desc(np.ravel(x) if axis is None else x,
                                                 -1 if axis is None else axis), [shape]),
        OpCase(f"sort_argsort_{suffix}", lambda x, axis=axis: nb.argsort(x, axis=axis),
               lambda x, axis=axis: np.argsort(x, axis=axis, kind="stable"), [shape],
               dtypes=("float32", "float64"), grad=False, check_dtype=False),
    ]
CASES += [
    OpCase("sort_ints", lambda x: nb.sort(x, axis=1), lambda x: np.sort(x, axis=1), [(3, 6)],
           dtypes=INTS + ("bool",), grad=False),
    OpCase("sort_ints_desc", lambda x: nb.sort(x, axis=0, descending=True),
           lambda x: np_sort_desc(x, axis=0), [(6, 3)], dtypes=INTS + ("bool",), grad=False),
    # ties (ints in a small range): stable, in both orders
    OpCase("sort_argsort_ties", lambda x: nb.argsort(x, axis=1),
           lambda x: np.argsort(x, axis=1, kind="stable"), [(3, 8)], dtypes=NUMERIC + ("bool",),
           low=-1, high=2, check_dtype=False, grad=False),
    OpCase("sort_argsort_ties_desc", lambda x: nb.argsort(x, axis=1, descending=True),
           lambda x: np_argsort_desc(x, axis=1), [(3, 8)], dtypes=NUMERIC + ("bool",),
           low=-1, high=2, check_dtype=False, grad=False),
    # NaN, infinities and signed zeros: NaNs last (first descending), -0.0 ties with 0.0
    OpCase("sort_special", lambda x: nb.sort(x, axis=1), lambda x: np.sort(x, axis=1),
           [Arg(value=SPECIAL)], dtypes=("float64",), grad=False),
    OpCase("sort_argsort_special", lambda x: nb.argsort(x, axis=1),
           lambda x: np.argsort(x, axis=1, kind="stable"), [Arg(value=SPECIAL)],
           dtypes=("float64",), grad=False, check_dtype=False),
    OpCase("sort_argsort_special_desc", lambda x: nb.argsort(x, axis=1, descending=True),
           lambda x: np_argsort_desc(x, axis=1), [Arg(value=SPECIAL)],
           dtypes=("float64",), grad=False, check_dtype=False),
    OpCase("sort_method", lambda x: x.sort(), lambda x: np.sort(x), [(2, 5)]),
    OpCase("sort_argsort_method", lambda x: x.argsort(axis=0),
           lambda x: np.argsort(x, axis=0, kind="stable"), [(4, 2)], grad=False,
           check_dtype=False),
]

# -- topk ------------------------------------------------------------------------------
for suffix, k, axis, largest, shape in [("last", 2, -1, True, (3, 5)), ("axis0", 3, 0, True, (4, 3)),
                                        ("smallest", 2, 1, False, (2, 4, 3)),
                                        ("all", 4, 0, True, (4,)), ("zero", 0, -1, True, (2, 3))]:
    CASES.append(OpCase(
        f"sort_topk_{suffix}", lambda x, k=k, axis=axis, largest=largest:
        nb.topk(x, k, axis=axis, largest=largest),
        lambda x, k=k, axis=axis, largest=largest: np_topk(x, k, axis, largest), [shape],
        check_dtype=False))
CASES += [
    OpCase("sort_topk_ints", lambda x: nb.topk(x, 3), lambda x: np_topk(x, 3), [(2, 7)],
           dtypes=INTS, low=-2, high=3, grad=False, check_dtype=False),
    OpCase("sort_topk_special", lambda x: nb.topk(x, 5), lambda x: np_topk(x, 5),
           [Arg(value=SPECIAL)], dtypes=("float64",), grad=False, check_dtype=False),
    OpCase("sort_topk_method", lambda x: x.topk(2, axis=0), lambda x: np_topk(x, 2, 0), [(3, 2)],
           check_dtype=False),
]

# -- diagonals ---------------------------------------------------------------------------
for suffix, args, shape in [("main", (), (3, 3)), ("wide_up", (1,), (3, 5)),
                            ("wide_down", (-1,), (3, 5)), ("tall_up", (2,), (5, 3)),
                            ("tall_down", (-3,), (5, 3)), ("outside", (4,), (2, 3)),
                            ("batch", (0, 1, 2), (2, 3, 4)), ("swapped", (-1, 2, 0), (3, 2, 4))]:
    CASES += [
        OpCase(f"compat_diagonal_{suffix}", lambda x, args=args: nb.diagonal(x, *args),
               lambda x, args=args: np.diagonal(x, *args), [shape], dtypes=ALL),
        OpCase(f"compat_trace_{suffix}", lambda x, args=args: nb.trace(x, *args),
               lambda x, args=args: np.trace(x, *args), [shape], dtypes=FLOATS),
    ]
for suffix, k, shape in [("main", 0, (3,)), ("up", 2, (3,)), ("down", -1, (4,)), ("one", 0, (1,)),
                         ("empty", 1, (0,)), ("of_matrix", 1, (3, 4)), ("of_matrix_down", -2, (4, 3))]:
    CASES.append(OpCase(f"compat_diag_{suffix}", lambda x, k=k: nb.diag(x, k),
                        lambda x, k=k: np.diag(x, k), [shape], dtypes=ALL))
CASES += [
    OpCase("compat_trace_ints", nb.trace, np.trace, [(3, 3)], dtypes=INTS, grad=False,
           check_dtype=False),
    OpCase("compat_diagonal_method", lambda x: x.diagonal(1), lambda x: x.diagonal(1), [(3, 4)]),
    OpCase("compat_trace_method", lambda x: x.trace(), lambda x: x.trace(), [(3, 3)]),
]

# -- stacking, ravel, meshgrid, unbind, clamp -------------------------------------------
CASES += [
    OpCase("compat_vstack", lambda a, b: nb.vstack([a, b]), lambda a, b: np.vstack([a, b]),
           [(3,), (2, 3)]),
    OpCase("compat_hstack_vectors", lambda a, b: nb.hstack([a, b]), lambda a, b: np.hstack([a, b]),
           [(3,), (2,)]),
    OpCase("compat_hstack_matrices", lambda a, b: nb.hstack((a, b)),
           lambda a, b: np.hstack((a, b)), [(2, 1), (2, 3)]),
    OpCase("compat_dstack", lambda a, b: nb.dstack([a, b]), lambda a, b: np.dstack([a, b]),
           [(3,), (1, 3)]),
    OpCase("compat_dstack_matrices", lambda a, b: nb.dstack([a, b]),
           lambda a, b: np.dstack([a, b]), [(2, 3), (2, 3, 2)]),
    OpCase("compat_column_stack", lambda a, b: nb.column_stack([a, b]),
           lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    OpCase("compat_ravel", nb.ravel, np.ravel, [(2, 3, 2)], dtypes=ALL),
    OpCase("compat_ravel_method", lambda x: x.ravel(), lambda x: x.ravel(), [(3, 2)]),
    OpCase("compat_meshgrid_xy", lambda a, b, c: nb.meshgrid(a, b, c),
           lambda a, b, c: list(np.meshgrid(a, b, c)), [(3,), (2,), (4,)]),
    OpCase("compat_meshgrid_ij", lambda a, b: nb.meshgrid(a, b, indexing="ij"),
           lambda a, b: list(np.meshgrid(a, b, indexing="ij")), [(3,), (2,)]),
    OpCase("compat_meshgrid_sparse", lambda a, b: nb.meshgrid(a, b, sparse=True),
           lambda a, b: list(np.meshgrid(a, b, sparse=True)), [(3,), (2,)]),
    OpCase("compat_unbind", lambda x: nb.unbind(x, 1),
           lambda x: tuple(np.moveaxis(x, 1, 0)), [(2, 3, 2)], dtypes=ALL),
    OpCase("compat_clamp", lambda x: nb.clamp(x, min=-0.5, max=1.0),
           lambda x: np.clip(x, -0.5, 1.0), [(3, 4)]),
    OpCase("compat_clamp_tensor_bounds", lambda x, lo, hi: nb.clamp(x, lo - 1.0, hi + 1.0),
           lambda x, lo, hi: np.clip(x, lo - 1.0, hi + 1.0), [(3, 4), (4,), (3, 1)],
           low=-3.0, high=3.0, grad=False),
    OpCase("compat_clamp_method", lambda x: x.clamp(max=0.0), lambda x: np.minimum(x, 0.0),
           [(5,)]),
]

# clamp is min and max; trace sums a diagonal slice
mark_composite(CASES, [c.name for c in CASES if c.name.startswith(("compat_clamp", "compat_trace"))])
