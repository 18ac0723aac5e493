"""Op table: creation ops that take tensors (tril, triu); the others are in test_creation.py."""
import numpy as np

import nabla_like as nb

from ..optable import ALL, OpCase, mark_composite

CASES = [
    OpCase("tril", nb.tril, np.tril, [(4, 5)], dtypes=ALL),
    OpCase("tril_k1", lambda x: nb.tril(x, 1), lambda x: np.tril(x, 1), [(4, 3)], dtypes=ALL),
    OpCase("tril_kneg_batched", lambda x: nb.tril(x, k=-1), lambda x: np.tril(x, k=-1),
           [(2, 3, 4)]),
    OpCase("tril_k_past_edge", lambda x: nb.tril(x, -5), lambda x: np.tril(x, -5), [(3, 3)]),
    OpCase("tril_empty", nb.tril, np.tril, [(0, 3)]),
    OpCase("triu", nb.triu, np.triu, [(4, 5)], dtypes=ALL),
    OpCase("triu_kneg", lambda x: nb.triu(x, -2), lambda x: np.triu(x, -2), [(5, 3)], dtypes=ALL),
    OpCase("triu_k2_batched", lambda x: nb.triu(x, k=2), lambda x: np.triu(x, k=2),
           [(2, 1, 4, 4)]),
    OpCase("triu_square_1x1", nb.triu, np.triu, [(1, 1)]),
]

# tril and triu select against an iota mask
mark_composite(CASES, [c.name for c in CASES])
