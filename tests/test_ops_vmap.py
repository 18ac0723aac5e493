"""vmap of every op of the op table against stacking per-example results."""
import numpy as np
import pytest

import nabla_like as nb

from .optable import all_cases, case_seed

CASES = [c for c in all_cases() if c.vmap]


def placements(case, arrays, every_axis: bool):
    """in_axes choices: all 0, all last, each argument shared (None) in turn, and with
    `every_axis` each argument mapped along each of its possible axes (others at 0)."""
    n = len(arrays)
    out = [tuple(0 for _ in arrays), tuple(-1 for _ in arrays)]
    for k in range(n):
        if n > 1:
            out.append(tuple(None if i == k else 0 for i in range(n)))
        if every_axis:
            for ax in range(1, arrays[k].ndim + 1):
                out.append(tuple(ax if i == k else 0 for i in range(n)))
    return list(dict.fromkeys(out))


def _stack(case, arrays_per_example, shared, in_axes, rng, size):
    batched = []
    for i, ax in enumerate(in_axes):
        if ax is None:
            batched.append(shared[i])
        else:
            exs = [arrays_per_example[b][i] for b in range(size)]
            batched.append(np.stack(exs, axis=ax if ax >= 0 else exs[0].ndim + 1 + ax)
                           if size else np.zeros(_insert(shared[i].shape, ax, 0), shared[i].dtype))
    return batched


def _insert(shape, ax, n):
    s = list(shape)
    s.insert(ax if ax >= 0 else len(s) + 1 + ax, n)
    return tuple(s)


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("size", [3, 1, 0])
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_vmap(case, size):
    dtype = "float32" if "float32" in case.dtypes else case.dtypes[0]
    rng = np.random.default_rng(case_seed(case))
    shared = case.make_inputs(rng, dtype)
    per_example = [case.make_inputs(rng, dtype) for _ in range(size)]
    for in_axes in placements(case, shared, every_axis=size == 3):
        for b in range(size):  # shared args are the same for every example
            for i, ax in enumerate(in_axes):
                if ax is None:
                    per_example[b][i] = shared[i]
        batched = _stack(case, per_example, shared, in_axes, rng, size)
        got = _as_list(nb.vmap(case.fn, in_axes=in_axes)(*[nb.tensor(a) for a in batched]))
        if size == 0:
            single = _as_list(case.fn(*[nb.tensor(a) for a in shared]))
            for g, s in zip(got, single):
                assert g.shape == (0,) + s.shape, f"{case.name} {in_axes}: {g.shape}"
            continue
        want = [_as_list(case.fn(*[nb.tensor(a) for a in ex])) for ex in per_example]
        for k, g in enumerate(got):
            expected = np.stack([np.asarray(w[k].numpy()) for w in want])
            # Float results may differ in the last bits between a program run op by op and
            # one compiled fused (XLA contracts and reorders float arithmetic when fusing).
            rtol = 100 * float(np.finfo(expected.dtype).eps) if expected.dtype.kind == "f" else 0
            np.testing.assert_allclose(np.asarray(g.numpy()).astype(np.float64),
                                       expected.astype(np.float64), rtol=rtol, atol=rtol,
                                       err_msg=f"{case.name} in_axes={in_axes} size={size}")
