"""Every op of the op table against NumPy, for every dtype it supports."""
import numpy as np
import pytest

import nabla_like as nb

from .optable import all_cases, case_seed, to_float64_ref

CASES = all_cases()
PARAMS = [pytest.param(c, d, id=f"{c.name}-{d}") for c in CASES for d in c.dtypes]


def assert_close(actual, expected, rtol, atol, what=""):
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol, what)
        return
    got = np.asarray(actual)
    want = np.asarray(expected)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if want.dtype.kind in "iub" and got.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                   atol=atol, err_msg=what, equal_nan=True)


def leaves_numpy(out):
    if isinstance(out, (tuple, list)):
        return [leaves_numpy(o) for o in out]
    return np.asarray(out.numpy() if isinstance(out, nb.Tensor) else out)


@pytest.mark.parametrize("case,dtype", PARAMS)
def test_forward(case, dtype):
    rng = np.random.default_rng(case_seed(case))
    arrays = case.make_inputs(rng, dtype)
    expected = to_float64_ref(case, arrays, dtype)
    got = leaves_numpy(case.fn(*[nb.tensor(a) for a in arrays]))
    rtol, atol = case.tolerance(dtype)
    if case.check_dtype and dtype != "bfloat16":
        # the result dtype is NumPy's when NumPy computes in the dtype under test
        native = case.ref(*arrays)
        for g, n in zip(got if isinstance(got, list) else [got],
                        native if isinstance(native, (tuple, list)) else [native]):
            got_dtype, numpy_dtype = np.asarray(g).dtype, np.asarray(n).dtype
            assert got_dtype == numpy_dtype, \
                f"{case.name} [{dtype}]: result dtype {got_dtype}, NumPy gives {numpy_dtype}"
    assert_close(got, expected, rtol, atol, f"{case.name} [{dtype}]")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_forward_dtype_matches_numpy_kind(case):
    """The result dtype kind (bool/int/float) agrees with NumPy's on float64 inputs."""
    dtype = "float64" if "float64" in case.dtypes else case.dtypes[0]
    rng = np.random.default_rng(1)
    arrays = case.make_inputs(rng, dtype)
    expected = case.ref(*arrays)
    got = case.fn(*[nb.tensor(a) for a in arrays])
    exp_l = expected if isinstance(expected, (tuple, list)) else [expected]
    got_l = got if isinstance(got, (tuple, list)) else [got]
    for g, e in zip(got_l, exp_l):
        kind = np.asarray(e).dtype.kind
        gk = g.dtype.kind
        assert (gk == "f") == (kind == "f"), f"{case.name}: {g.dtype} vs numpy {np.asarray(e).dtype}"
