"""Op table: the higher-order primitives (cond, switch, scan, map, while_loop, fori_loop,
custom_jvp, custom_vjp, checkpoint, checkpoint_name, optimization_barrier) against NumPy
loops, so each gets the forward, derivative and vmap checks every op gets.

custom_vjp has no forward mode (as in JAX), so its derivative checks live in
test_custom.py; while_loop without `max_steps` is not reverse-differentiable."""
import numpy as np

import nabla_like as nb

from ..optable import FLOATS, Arg, OpCase

F32_64 = ("float32", "float64")


# --- cond / switch: a data-dependent branch on each side of zero --------------------
def _cond(x):
    return nb.cond(nb.sum(x) > 0, lambda x: x * x * 3.0, lambda x: nb.sin(x) - x, x)


def _cond_ref(x):
    return 3 * x * x if x.sum() > 0 else np.sin(x) - x


def _switch(i, x):
    return nb.switch(i, [lambda x: nb.exp(x), lambda x: x * 2.0, lambda x: nb.tanh(x)], x)


def _switch_ref(i, x):
    return [np.exp, lambda x: x * 2, np.tanh][int(np.clip(i, 0, 2))](x)


# --- scan / map ----------------------------------------------------------------------
def _rnn(h, w, xs):
    def step(h, x):
        h = nb.tanh(h @ w + x)
        return h, h * 2.0
    return nb.scan(step, h, xs)


def _rnn_ref(h, w, xs):
    ys = []
    for x in xs:
        h = np.tanh(h @ w + x)
        ys.append(h * 2)
    return h, np.stack(ys)


def _scan_reverse(h, xs):
    return nb.scan(lambda c, x: (c * nb.cos(x) + x, c), h, xs, reverse=True)


def _scan_reverse_ref(h, xs):
    ys = [None] * len(xs)
    for i in reversed(range(len(xs))):
        ys[i] = h
        h = h * np.cos(xs[i]) + xs[i]
    return h, np.stack(ys)


# --- loops -----------------------------------------------------------------------------
def _fori(x):
    return nb.fori_loop(0, 4, lambda i, c: c * 0.5 + nb.sin(c) * i, x)


def _fori_ref(x):
    for i in range(4):
        x = x * 0.5 + np.sin(x) * i
    return x


def _while(x, bounded):
    # Halve until the norm is small: the trip count depends on the data.
    kw = {"max_steps": 20} if bounded else {}
    return nb.while_loop(lambda c: nb.sum(c[0] * c[0]) > 0.01,
                         lambda c: (c[0] * 0.5 + 0.01 * nb.sin(c[0]), c[1] + 1), (x, 0), **kw)


def _while_ref(x):
    n = 0
    while np.sum(x * x) > 0.01 and n < 20:
        x = x * 0.5 + 0.01 * np.sin(x)
        n += 1
    return x, np.int32(n)


# --- custom rules ----------------------------------------------------------------------
@nb.custom_jvp
def _softplus(x):
    return nb.log(1.0 + nb.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * nb.sigmoid(x)


@nb.custom_vjp
def _scaled_sin(x, y):
    return nb.sin(x) * y


_scaled_sin.defvjp(lambda x, y: (nb.sin(x) * y, (nb.cos(x), nb.sin(x), y)),
                   lambda res, g: (g * res[0] * res[2], g * res[1]))


def _remat_mlp(x, w):
    layer = nb.checkpoint(lambda h: nb.tanh(nb.checkpoint_name(h @ w, "pre")))
    return layer(layer(x))


def _remat_mlp_ref(x, w):
    return np.tanh(np.tanh(x @ w) @ w)


CASES = [
    OpCase("cond", _cond, _cond_ref, [(3,)], dtypes=F32_64),
    OpCase("cond_negative_side", _cond, _cond_ref, [(3,)], dtypes=F32_64, low=-2.0, high=-0.1),
    OpCase("switch", _switch, _switch_ref, [Arg((), "int", -1, 4), (2, 3)], dtypes=F32_64),
    OpCase("scan_rnn", _rnn, _rnn_ref, [(2, 3), (3, 3), (4, 2, 3)], dtypes=F32_64, low=-1, high=1),
    OpCase("scan_reverse", _scan_reverse, _scan_reverse_ref, [(2,), (5, 2)], dtypes=F32_64),
    OpCase("map", lambda xs: nb.map(lambda x: nb.sum(nb.exp(x) * x), xs),
           lambda xs: np.array([np.sum(np.exp(x) * x) for x in xs]), [(4, 3)], dtypes=F32_64),
    OpCase("fori_loop", _fori, _fori_ref, [(3,)], dtypes=F32_64),
    OpCase("while_loop", lambda x: _while(x, False), _while_ref, [(3,)], dtypes=F32_64,
           grad=False),
    OpCase("while_loop_max_steps", lambda x: _while(x, True), _while_ref, [(3,)], dtypes=F32_64),
    OpCase("custom_jvp", _softplus, lambda x: np.log1p(np.exp(x)), [(2, 3)], dtypes=FLOATS),
    OpCase("custom_vjp", _scaled_sin, lambda x, y: np.sin(x) * y, [(3,), (3,)], dtypes=F32_64,
           grad=False),
    OpCase("checkpoint", _remat_mlp, _remat_mlp_ref, [(2, 3), (3, 3)], dtypes=F32_64),
    OpCase("checkpoint_name", lambda x: nb.checkpoint_name(x * 2.0, "y"), lambda x: x * 2,
           [(2, 3)], dtypes=FLOATS),
    OpCase("optimization_barrier", lambda x, y: nb.optimization_barrier(nb.sin(x), y * y),
           lambda x, y: [np.sin(x), y * y], [(2, 3), (3,)], dtypes=F32_64),
]
