"""vmap of every op of the op table against stacking per-example results.

Each case's batched calls (every in_axes placement at batch sizes 3, 1 and 0; for
compositions of other ops, OpCase.composite, the placements of size 3 that every case gets)
are staged into one jitted program, so a case costs one XLA compile rather than one per
placement and kernel, with the per-example references (the function called on each example,
stacked) in the same program. vmap traces the function and rewrites its graph the same way
in eager code and under jit, only where the rewritten nodes then run differs; the ops with
batching rules of their own also run their first placement eagerly, op by op, as user code
does.
"""
import numpy as np
import pytest

import nabla_like as nb

from .optable import all_cases, case_seed

CASES = [c for c in all_cases() if c.vmap]


def placements(case, arrays, every_axis: bool):
    """in_axes choices: all 0, all last, each argument shared (None) in turn, and with
    `every_axis` each argument mapped along each of its possible axes. Those last ones
    rotate together: in the j-th, argument i is mapped along axis (j + i) mod (rank + 1),
    so every argument meets every axis while the others sit at different axes."""
    n = len(arrays)
    out = [tuple(0 for _ in arrays), tuple(-1 for _ in arrays)]
    for k in range(n):
        if n > 1:
            out.append(tuple(None if i == k else 0 for i in range(n)))
    if every_axis and arrays:
        for j in range(max(a.ndim for a in arrays) + 1):
            out.append(tuple((j + i) % (a.ndim + 1) for i, a in enumerate(arrays)))
    return list(dict.fromkeys(out))


def _insert(shape, ax, n):
    s = list(shape)
    s.insert(ax if ax >= 0 else len(s) + 1 + ax, n)
    return tuple(s)


def _stack(arrays_per_example, shared, in_axes, size):
    batched = []
    for i, ax in enumerate(in_axes):
        if ax is None:
            batched.append(shared[i])
        else:
            exs = [arrays_per_example[b][i] for b in range(size)]
            batched.append(np.stack(exs, axis=ax if ax >= 0 else exs[0].ndim + 1 + ax)
                           if size else np.zeros(_insert(shared[i].shape, ax, 0), shared[i].dtype))
    return batched


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _checks(case, dtype):
    """(size, in_axes, per-example inputs, batched inputs) for every check of `case`."""
    rng = np.random.default_rng(case_seed(case))
    shared = case.make_inputs(rng, dtype)
    sizes = (3,) if case.composite else (3, 1, 0)
    checks = []
    for size in sizes:
        per_example = [case.make_inputs(rng, dtype) for _ in range(size)]
        for in_axes in placements(case, shared, every_axis=size == 3 and not case.composite):
            examples = [[shared[i] if ax is None else ex[i] for i, ax in enumerate(in_axes)]
                        for ex in per_example]  # shared args are the same for every example
            checks.append((size, in_axes, examples, _stack(examples, shared, in_axes, size)))
    return shared, checks


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_vmap(case):
    dtype = "float32" if "float32" in case.dtypes else case.dtypes[0]
    shared, checks = _checks(case, dtype)

    def staged(batched_args, example_args):
        """[(vmap outputs, [outputs of each example])] for every check."""
        outs = []
        for (size, in_axes, _, _), args, examples in zip(checks, batched_args, example_args):
            try:
                got = _as_list(nb.vmap(case.fn, in_axes=in_axes)(*args))
            except Exception as e:
                e.add_note(f"{case.name}: vmap with in_axes={in_axes}, batch size {size}")
                raise
            outs.append((got, [_as_list(case.fn(*ex)) for ex in examples]))
        return outs

    results = nb.jit(staged)([[nb.tensor(a) for a in batched] for _, _, _, batched in checks],
                             [[[nb.tensor(a) for a in ex] for ex in examples]
                              for _, _, examples, _ in checks])
    if not case.composite:  # and the first placement eagerly: its batched kernels on their own
        results[0] = (_as_list(nb.vmap(case.fn)(*[nb.tensor(a) for a in checks[0][3]])),
                      results[0][1])
    single = _as_list(nb.eval_shape(case.fn, *[nb.tensor(a) for a in shared]))
    for (size, in_axes, _, _), (outs, want) in zip(checks, results):
        what = f"{case.name} in_axes={in_axes} size={size}"
        assert len(outs) == len(single), what
        if size == 0:
            for g, s in zip(outs, single):
                assert g.shape == (0,) + tuple(s.shape), f"{what}: {g.shape}"
                assert g.dtype == s.dtype, f"{what}: {g.dtype} vs {s.dtype}"
            continue
        for k, g in enumerate(outs):
            expected = np.stack([np.asarray(w[k].numpy()) for w in want])
            assert g.dtype == want[0][k].dtype, f"{what}: {g.dtype} vs {want[0][k].dtype}"
            # Float results may differ in the last bits between a program run op by op and
            # one compiled fused (XLA contracts and reorders float arithmetic when fusing).
            rtol = 100 * float(np.finfo(expected.dtype).eps) if expected.dtype.kind == "f" else 0
            np.testing.assert_allclose(np.asarray(g.numpy()).astype(np.float64),
                                       expected.astype(np.float64), rtol=rtol, atol=rtol,
                                       err_msg=what)
