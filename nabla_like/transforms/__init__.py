"""Function transformations as graph rewrites.

`graphs` holds tracing, replay and the jvp / vjp / vmap rewrites (interpreters
that call each primitive's rules); `api` holds the user-facing functions.
No per-op cases live here: every op's math is in its family file.
"""
from .api import *  # noqa: F401,F403
from .graphs import eval_graph, trace_flat  # noqa: F401
