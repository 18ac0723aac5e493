"""nb.optim against torch.optim (the same gradient sequence on the same parameters), both
styles; schedules against closed forms; clipping, accumulation and the Fisher diagonal."""
import math

import numpy as np
import pytest

import nabla_like as nb

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)
P0 = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
GRADS = [[rng.standard_normal(p.shape).astype(np.float32) for p in P0] for _ in range(6)]


def close(a, b, rtol=1e-5, atol=1e-6):
    a = a.numpy() if isinstance(a, nb.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
]


def _torch_run(name, hyper):
    params = [torch.tensor(p, requires_grad=True) for p in P0]
    opt = getattr(torch.optim, name)(params, **hyper)
    for grads in GRADS:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
    return params


@pytest.mark.parametrize("name,hyper", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_optimizers_match_torch_in_both_styles(name, hyper):
    ref = _torch_run(name, hyper)
    # stateful
    params = [nb.tensor(p, requires_grad=True) for p in P0]
    opt = getattr(nb.optim, name)(params, **hyper)
    for grads in GRADS:
        for p, g in zip(params, grads):
            p.grad = nb.tensor(g)
        opt.step()
    for a, b in zip(params, ref):
        close(a, b)
    # functional, jitted
    fopt = getattr(nb.optim, name)(**hyper)
    params = {"w": nb.tensor(P0[0]), "b": nb.tensor(P0[1])}
    state = fopt.init(params)
    update = nb.jit(fopt.update)
    for grads in GRADS:
        params, state = update({"w": nb.tensor(grads[0]), "b": nb.tensor(grads[1])}, state, params)
    close(params["w"], ref[0])
    close(params["b"], ref[1])
    assert int(state["step"].item()) == len(GRADS)
    # functional, eager: the group's update as one jitted program, and leaf by leaf
    for fused in (True, False):
        fopt = getattr(nb.optim, name)(**hyper)
        if not fused:
            fopt._program = lambda h, params, counted=False: None
        params = {"w": nb.tensor(P0[0]), "b": nb.tensor(P0[1])}
        state = fopt.init(params)
        for grads in GRADS:
            params, state = fopt.update({"w": nb.tensor(grads[0]), "b": nb.tensor(grads[1])},
                                        state, params)
        close(params["w"], ref[0])
        close(params["b"], ref[1])
        assert int(state["step"].item()) == len(GRADS)


def test_functional_eager_update_is_one_program_that_counts_the_step():
    # The jitted group update also counts the step: a repeated eager update runs one
    # program (no kernel for the count, no transfer of the learning rate).
    opt = nb.optim.Adam(lr=1e-2)
    params = [nb.tensor(p) for p in P0]
    state = opt.init(params)
    for i, grads in enumerate(GRADS):
        nb.realize_all(params, state)
        before = nb.compile_stats()
        params, state = opt.update([nb.tensor(g) for g in grads], state, params)
        nb.realize_all(params, state)
        d = nb.compile_stats() - before
        if i >= 2:
            assert (d.executions, d.compiles) == (1, 0)
    assert int(state["step"].item()) == len(GRADS)
    for a, b in zip(params, _torch_run("Adam", dict(lr=1e-2))):
        close(a, b)


def test_eager_step_updates_every_parameter_in_one_program():
    model = nb.nn.Sequential(nb.nn.Linear(4, 8), nb.nn.Tanh(), nb.nn.Linear(8, 1))
    opt = nb.optim.Adam(model.parameters(), lr=1e-2)
    x = nb.ones((5, 4))
    for i in range(4):
        nb.sum(model(x) ** 2).backward()
        before = nb.compile_stats()
        opt.step()
        d = nb.compile_stats() - before
        opt.zero_grad()
        if i == 0:  # a set of leaves seen once is updated leaf by leaf, lazily
            assert (d.executions, d.compiles) == (0, 0)
        if i >= 2:  # (the second step compiles the update once)
            assert (d.executions, d.compiles) == (1, 0)
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_param_groups_and_lr_setter():
    w, b = (torch.tensor(p, requires_grad=True) for p in P0)
    topt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    nw, nbias = (nb.tensor(p, requires_grad=True) for p in P0)
    opt = nb.optim.SGD([{"params": [nw]}, {"params": [nbias], "lr": 0.5}], lr=0.1, momentum=0.9)
    for grads in GRADS[:3]:
        for p, q, g in zip((w, b), (nw, nbias), grads):
            p.grad, q.grad = torch.tensor(g), nb.tensor(g)
        topt.step()
        opt.step()
    close(nw, w)
    close(nbias, b)
    opt.lr = 0.01
    assert all(g["lr"] == 0.01 for g in opt.param_groups)
    opt.zero_grad()
    assert nw.grad is None


def test_stateful_adam_counts_steps_on_the_device_for_every_group():
    # Each group's program reads the count before the step and returns the count after it
    # (kept on the device); Adam's bias correction shows a wrong count. The learning rate
    # changed midway must be picked up too.
    w, b = (torch.tensor(p, requires_grad=True) for p in P0)
    topt = torch.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.05}], lr=0.01)
    nw, nbias = (nb.tensor(p, requires_grad=True) for p in P0)
    opt = nb.optim.Adam([{"params": [nw]}, {"params": [nbias], "lr": 0.05}], lr=0.01)
    for i, grads in enumerate(GRADS):
        if i == 4:
            for g in (*topt.param_groups, *opt.param_groups):
                g["lr"] = 0.02
        for p, q, g in zip((w, b), (nw, nbias), grads):
            p.grad, q.grad = torch.tensor(g), nb.tensor(g)
        topt.step()
        opt.step()
        close(nw, w)
        close(nbias, b)
    assert opt._step == len(GRADS)


def test_schedules_follow_their_closed_forms_eagerly_and_under_jit():
    cos = nb.optim.cosine_decay(1.0, 10, final_lr=0.1)
    warm = nb.optim.warmup_cosine(1.0, warmup_steps=3, total_steps=13)
    stepd = nb.optim.step_decay(1.0, 4, gamma=0.5)
    ramp = nb.optim.linear_warmup(0.2, 5)
    for s in [0, 1, 2, 3, 7, 10, 15]:
        expected_cos = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 10) / 10))
        expected_warm = (s + 1) / 3 if s < 3 else 0.5 * (1 + math.cos(math.pi * min(s - 3, 10) / 10))
        for fn, want in ((cos, expected_cos), (warm, expected_warm), (stepd, 0.5 ** (s // 4)),
                         (ramp, 0.2 * min((s + 1) / 5, 1))):
            assert abs(float(fn(s)) - want) < 1e-6
            assert abs(float(nb.jit(fn)(nb.tensor(s)).item()) - want) < 1e-5
    # a schedule drives both styles: torch's LambdaLR with the same function agrees
    w = torch.tensor(P0[0], requires_grad=True)
    topt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(topt, lambda s: cos(s))
    nw = nb.tensor(P0[0], requires_grad=True)
    opt = nb.optim.SGD([nw], lr=cos)
    for grads in GRADS:
        w.grad, nw.grad = torch.tensor(grads[0]), nb.tensor(grads[0])
        topt.step()
        sched.step()
        opt.step()
    close(nw, w)


def test_clipping_matches_torch():
    params = [torch.tensor(p, requires_grad=True) for p in P0]
    ours = [nb.tensor(p, requires_grad=True) for p in P0]
    for p, q, g in zip(params, ours, GRADS[0]):
        p.grad, q.grad = torch.tensor(g), nb.tensor(g)
    tn = torch.nn.utils.clip_grad_norm_(params, 1.5)
    n = nb.optim.clip_grad_norm_(ours, 1.5)
    close(n, tn)
    for p, q in zip(params, ours):
        close(q.grad, p.grad)
    clipped = nb.optim.clip_by_global_norm([nb.tensor(g) for g in GRADS[0]], 1.5)
    for c, p in zip(clipped, params):
        close(c, p.grad)
    close(nb.optim.global_norm(clipped), 1.5, rtol=1e-5)


def test_accumulate_averages_micro_batches():
    inner = nb.optim.Adam(lr=0.05)
    acc = nb.optim.accumulate(nb.optim.Adam(lr=0.05), every=3)
    p_ref = p_acc = nb.tensor(P0[0])
    s_ref, s_acc = inner.init(p_ref), acc.init(p_acc)
    update = nb.jit(acc.update)
    for k in range(2):
        micro = [nb.tensor(GRADS[3 * k + i][0]) for i in range(3)]
        for i, g in enumerate(micro):
            p_acc, s_acc = update(g, s_acc, p_acc)
            if i < 2:
                close(p_acc, p_ref)  # unchanged between micro-batches
        p_ref, s_ref = inner.update((micro[0] + micro[1] + micro[2]) / 3, s_ref, p_ref)
        close(p_acc, p_ref, rtol=1e-5)


def test_empirical_fisher_diagonal_is_the_mean_squared_per_example_gradient():
    w = nb.tensor(rng.standard_normal(4).astype(np.float32))
    xs = rng.standard_normal((6, 4)).astype(np.float32)
    ys = rng.standard_normal(6).astype(np.float32)

    def loss(w, x, y):
        return (nb.sum(w * x) - y) ** 2
    fisher = nb.optim.empirical_fisher_diagonal(loss, w, nb.tensor(xs), nb.tensor(ys))
    per = [2 * (xs[i] @ w.numpy() - ys[i]) * xs[i] for i in range(6)]
    close(fisher, np.mean(np.square(per), axis=0), rtol=1e-4)


def test_functional_updates_leave_buffers_and_errors():
    bn = nb.nn.BatchNorm1d(3)
    opt = nb.optim.SGD(lr=1.0, weight_decay=0.5)
    state = opt.init(bn)
    grads = nb.grad(lambda m: nb.sum(m(nb.ones((4, 3)) * nb.arange(4.0)[:, None]) ** 3))(bn)
    new, _ = opt.update(grads, state, bn)
    close(new.running_var, bn.running_var)   # a buffer: never decayed or stepped
    assert not np.allclose(new.weight.numpy(), bn.weight.numpy())
    with pytest.raises(nb.NablaError, match="unknown arguments"):
        nb.optim.Adam(lr=0.1, momentum=0.9)
    with pytest.raises(nb.NablaError, match="lr"):
        nb.optim.SGD(lr=-1)
    with pytest.raises(nb.NablaError, match="init/update"):
        nb.optim.SGD(lr=0.1).step()
    with pytest.raises(nb.NablaError, match="leaves"):
        opt.update([nb.ones(3)], state, bn)
