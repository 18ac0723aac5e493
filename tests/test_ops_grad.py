"""Derivatives of every differentiable op of the op table, in float64:

* forward mode against central finite differences;
* reverse mode against forward mode by the identity <t, vjp(c)> = <jvp(t), c>;
* both again on the derivative itself (order 2).
"""
import numpy as np
import pytest

import nabla_like as nb

from .optable import all_cases, case_seed

CASES = [c for c in all_cases() if c.grad and "float64" in c.dtypes]
EPS = 1e-6


def _flat_float_positions(case, arrays):
    return [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]


def _fn_of_floats(case, arrays, pos):
    """f(*float_args) with the non-float args fixed, returning a tuple of tensors."""
    fixed = [nb.tensor(a) for a in arrays]

    def f(*xs):
        args = list(fixed)
        for p, x in zip(pos, xs):
            args[p] = x
        out = case.fn(*args)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return f


def _dot(xs, ys):
    return sum(float(np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64)))
               for x, y in zip(xs, ys))


def _check(f, primals, rng, rtol, label):
    tangents = [rng.standard_normal(p.shape) for p in primals]
    p_t = tuple(nb.tensor(p) for p in primals)
    t_t = tuple(nb.tensor(t) for t in tangents)
    outs, touts = nb.jvp(f, p_t, t_t)
    outs = [o for o in outs if o.dtype.kind == "f"]
    touts = [t for t, o in zip(touts, f(*p_t)) if o.dtype.kind == "f"]
    # forward mode vs central differences
    plus = f(*[nb.tensor(p + EPS * t) for p, t in zip(primals, tangents)])
    minus = f(*[nb.tensor(p - EPS * t) for p, t in zip(primals, tangents)])
    for tout, a, b in zip(touts, plus, minus):
        if a.dtype.kind != "f":
            continue
        fd = (np.asarray(a.numpy()) - np.asarray(b.numpy())) / (2 * EPS)
        np.testing.assert_allclose(np.asarray(tout.numpy()), fd, rtol=rtol, atol=rtol,
                                   err_msg=f"{label}: jvp vs finite differences")
    # reverse mode vs forward mode
    cts = [rng.standard_normal(o.shape) for o in outs]
    _, pullback = nb.vjp(f, *p_t)
    full_cts = []
    it = iter(cts)
    for o in f(*p_t):
        full_cts.append(nb.tensor(next(it)) if o.dtype.kind == "f" else nb.zeros_like(o))
    grads = pullback(tuple(full_cts) if len(full_cts) > 1 else full_cts[0])
    lhs = _dot(tangents, [g.numpy() for g in grads])
    rhs = _dot([t.numpy() for t in touts], cts)
    assert abs(lhs - rhs) <= 1e-8 * (1 + abs(lhs) + abs(rhs)), \
        f"{label}: <t, vjp c> {lhs} != <jvp t, c> {rhs}"


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_derivatives(case, order):
    if order > case.grad_order:
        pytest.skip("order not applicable")
    rng = np.random.default_rng(case_seed(case, order))
    arrays = case.make_inputs(rng, "float64")
    pos = _flat_float_positions(case, arrays)
    if not pos:
        pytest.skip("no float inputs")
    f = _fn_of_floats(case, arrays, pos)
    primals = [arrays[p] for p in pos]
    if order == 1:
        _check(f, primals, rng, case.grad_rtol, case.name)
    else:
        dirs = tuple(nb.tensor(rng.standard_normal(p.shape)) for p in primals)

        def df(*xs):
            return nb.jvp(f, xs, dirs)[1]
        _check(df, primals, rng, case.grad_rtol * 10, case.name + " (order 2)")
