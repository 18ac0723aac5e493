"""`nb.random`: counter-based random numbers from explicit keys, and the stateful helpers.

Keys are uint32[2] tensors; the same key always gives the same numbers, under jit and
vmap too. `nb.random.seed(n)` with `gaussian`/`rand`/`randn` is the stateful alternative
(one key for the process, as PyTorch's generator, advanced under a lock on every call).

Example:
    >>> k = nb.random.key(0)
    >>> k1, k2 = nb.random.split(k)
    >>> nb.random.normal(k1, (2, 3)).shape
    (2, 3)
"""
from .ops.random import (PRNGKey, bernoulli, bits, fold_in, gaussian, key, normal,  # noqa: F401
                         rand, randint, randn, seed, split, threefry2x32, uniform)

__all__ = ["PRNGKey", "bernoulli", "bits", "fold_in", "gaussian", "key", "normal", "rand",
           "randint", "randn", "seed", "split", "threefry2x32", "uniform"]
