"""Function transformations as graph rewrites.

`graphs` holds tracing, replay and the jvp / vjp / vmap rewrites (interpreters
that call each primitive's rules); `api` holds the user-facing functions,
`jacobians` the Jacobians and Hessians built from them, and `arguments` the checks
of their non-function arguments. No per-op cases live here: every op's math is in
its family file.
"""
from . import api, jacobians
from .api import *  # noqa: F401,F403
from .graphs import eval_graph, trace_flat  # noqa: F401  (internal, for tests and tools)
from .jacobians import *  # noqa: F401,F403

__all__ = api.__all__ + jacobians.__all__
