"""Op table: products (matmul over every rank combination, dot, inner, outer, vdot,
tensordot) and einsum over a dozen subscripts."""
import numpy as np

import nabla_like as nb

from ..optable import ALL, FLOATS, NUMERIC, OpCase, mark_composite

INTEGERS = ("int32", "int64")


def _einsum(spec, *shapes, dtypes=FLOATS, name=None):
    label = name or "einsum_" + spec.replace(",", "_").replace("->", "_to_").replace("...", "E")
    return OpCase(label, lambda *xs: nb.einsum(spec, *xs), lambda *xs: np.einsum(spec, *xs),
                  [s for s in shapes], dtypes=dtypes)


CASES = [
    OpCase("matmul_2d", nb.matmul, np.matmul, [(2, 3), (3, 4)], dtypes=ALL),
    OpCase("matmul_1d_1d", nb.matmul, np.matmul, [(3,), (3,)], dtypes=FLOATS + INTEGERS),
    OpCase("matmul_1d_2d", nb.matmul, np.matmul, [(3,), (3, 4)]),
    OpCase("matmul_2d_1d", nb.matmul, np.matmul, [(2, 3), (3,)]),
    OpCase("matmul_batched", nb.matmul, np.matmul, [(2, 3, 4), (2, 4, 5)], dtypes=NUMERIC),
    OpCase("matmul_broadcast", nb.matmul, np.matmul, [(2, 1, 3, 4), (5, 4, 2)]),
    OpCase("matmul_batched_2d", nb.matmul, np.matmul, [(5, 2, 3), (3, 4)]),
    OpCase("matmul_2d_batched", nb.matmul, np.matmul, [(2, 3), (5, 3, 4)]),
    OpCase("matmul_1d_batched", nb.matmul, np.matmul, [(3,), (2, 3, 4)]),
    OpCase("matmul_batched_1d", nb.matmul, np.matmul, [(2, 3, 4), (4,)]),
    OpCase("matmul_empty", nb.matmul, np.matmul, [(2, 0), (0, 3)]),
    OpCase("matmul_operator", lambda a, b: a @ b, lambda a, b: a @ b, [(4, 3), (3, 2)]),
    OpCase("dot_nd", nb.dot, np.dot, [(2, 3, 4), (5, 4, 2)], dtypes=FLOATS + INTEGERS),
    OpCase("dot_1d", nb.dot, np.dot, [(4,), (4,)]),
    OpCase("dot_scalar", nb.dot, np.dot, [(), (2, 3)]),
    OpCase("inner", nb.inner, np.inner, [(2, 3), (4, 3)], dtypes=FLOATS + INTEGERS),
    OpCase("outer", nb.outer, np.outer, [(2, 2), (3,)], dtypes=ALL),
    OpCase("vdot", nb.vdot, np.vdot, [(2, 3), (6,)]),
    OpCase("tensordot_2", nb.tensordot, np.tensordot, [(2, 3, 4), (3, 4, 5)]),
    OpCase("tensordot_pairs", lambda a, b: nb.tensordot(a, b, axes=([1, 0], [0, 2])),
           lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])), [(2, 3, 4), (3, 5, 2)]),
    OpCase("tensordot_0", lambda a, b: nb.tensordot(a, b, axes=0),
           lambda a, b: np.tensordot(a, b, axes=0), [(2,), (3,)]),
    _einsum("ij,jk->ik", (2, 3), (3, 4), dtypes=FLOATS + INTEGERS),
    _einsum("bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    _einsum("ii->", (3, 3), name="einsum_trace"),
    _einsum("ii->i", (3, 3), name="einsum_diagonal"),
    _einsum("bii->bi", (2, 3, 3)),
    _einsum("i,j->ij", (2,), (3,), name="einsum_outer"),
    _einsum("ij->ji", (2, 3), name="einsum_transpose"),
    _einsum("ijk->", (2, 3, 4), name="einsum_sum_all"),
    _einsum("ij->i", (2, 3), name="einsum_sum_axis"),
    _einsum("ij,ij->ij", (2, 3), (2, 3), name="einsum_hadamard"),
    _einsum("i,i", (4,), (4,), name="einsum_implicit_inner"),
    _einsum("ij,kj", (2, 3), (4, 3), name="einsum_implicit"),
    _einsum("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2), name="einsum_ellipsis"),
    _einsum("i...->...", (3, 2, 2), name="einsum_ellipsis_sum"),
    _einsum("ijk,kl,lm->ijm", (2, 2, 3), (3, 4), (4, 2), name="einsum_chain"),
    _einsum("iij,j->i", (3, 3, 2), (2,), name="einsum_diag_contract"),
    _einsum("ij,jk", (2, 1), (3, 4), name="einsum_size1_broadcast"),
]

# products made of broadcasts and multiplies, and einsums of diagonals (gathers)
mark_composite(CASES, ["dot_scalar", "outer", "einsum_trace", "einsum_diagonal", "einsum_bii_to_bi",
                       "einsum_diag_contract"])
