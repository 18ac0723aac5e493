"""Derivatives of every differentiable op of the op table, in float64:

* forward mode against central finite differences;
* reverse mode against forward mode by the identity <t, vjp(c)> = <jvp(t), c>;
* both again on the derivative itself (order 2), for the ops with derivative rules of their
  own (compositions of them, OpCase.composite, are checked at order 1).

The order-1 checks of those ops run eagerly, op by op, as user code does. The others are
staged into one jitted program per case, one XLA compile instead of one per distinct kernel:
jvp and vjp trace the function and rewrite its graph the same way in eager code and under
jit, only where the rewritten nodes then run differs.
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


def _check(f, primals, rng, rtol, label, staged=False):
    """jvp against central differences and vjp against jvp, for `f` at `primals`. Everything
    is read in one go: eagerly (op by op), or with `staged` as one jitted program."""
    tangents = [rng.standard_normal(p.shape) for p in primals]
    p_t = tuple(nb.tensor(p) for p in primals)
    t_t = tuple(nb.tensor(t) for t in tangents)
    plus = tuple(nb.tensor(p + EPS * t) for p, t in zip(primals, tangents))
    minus = tuple(nb.tensor(p - EPS * t) for p, t in zip(primals, tangents))
    out_avals = nb.eval_shape(f, *p_t)
    is_float = [o.dtype.kind == "f" for o in out_avals]
    cts = [rng.standard_normal(o.shape) for o, fl in zip(out_avals, is_float) if fl]
    it = iter(cts)
    full_cts = tuple(nb.tensor(next(it)) if fl else nb.zeros(o.shape, dtype=o.dtype)
                     for o, fl in zip(out_avals, is_float))

    def derivatives(p_t, t_t, plus, minus, full_cts):
        _, touts = nb.jvp(f, p_t, t_t)
        _, pullback = nb.vjp(f, *p_t)
        grads = pullback(full_cts if len(full_cts) > 1 else full_cts[0])
        return touts, f(*plus), f(*minus), grads

    if staged:
        touts, f_plus, f_minus, grads = nb.jit(derivatives)(p_t, t_t, plus, minus, full_cts)
    else:
        touts, f_plus, f_minus, grads = out = derivatives(p_t, t_t, plus, minus, full_cts)
        nb.realize_all(out)
    touts = [t for t, fl in zip(touts, is_float) if fl]
    # forward mode vs central differences
    for tout, a, b in zip(touts, [a for a, fl in zip(f_plus, is_float) if fl],
                          [b for b, fl in zip(f_minus, is_float) if fl]):
        fd = (np.asarray(a.numpy()) - np.asarray(b.numpy())) / (2 * EPS)
        np.testing.assert_allclose(np.asarray(tout.numpy()), fd, rtol=rtol, atol=rtol,
                                   err_msg=f"{label}: jvp vs finite differences")
    # reverse mode vs forward mode
    lhs = _dot(tangents, [g.numpy() for g in grads])
    rhs = _dot([t.numpy() for t in touts], cts)
    assert abs(lhs - rhs) <= 1e-8 * (1 + abs(lhs) + abs(rhs)), \
        f"{label}: <t, vjp c> {lhs} != <jvp t, c> {rhs}"


def _orders(case):
    # second derivatives for the ops with rules of their own (see OpCase.composite)
    return [1] if case.grad_order < 2 or case.composite else [1, 2]


@pytest.mark.parametrize("case,order", [pytest.param(c, o, id=f"{c.name}-{o}")
                                        for c in CASES for o in _orders(c)])
def test_derivatives(case, order):
    rng = np.random.default_rng(case_seed(case, order))
    arrays = case.make_inputs(rng, "float64")
    pos = _flat_float_positions(case, arrays)
    if not pos:
        pytest.skip("no float inputs")
    f = _fn_of_floats(case, arrays, pos)
    primals = [arrays[p] for p in pos]
    if order == 1:
        # eager for the ops with rules of their own: each rule's kernels run as in user code
        _check(f, primals, rng, case.grad_rtol, case.name, staged=case.composite)
    else:
        dirs = tuple(nb.tensor(rng.standard_normal(p.shape)) for p in primals)

        def df(*xs):
            return nb.jvp(f, xs, dirs)[1]
        _check(df, primals, rng, case.grad_rtol * 10, case.name + " (order 2)", staged=True)
