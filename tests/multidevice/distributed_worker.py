"""One process of the 2-process test (tests/test_distributed.py): 4 CPU devices here, 8 in
the job; a data-parallel MLP step over all 8 against the same step on one local device."""
import sys

import numpy as np

import nabla_like as nb


def loss(p, x, y):
    h = nb.tanh(x @ p[0] + p[1])
    return nb.mean((h @ p[2] + p[3] - y) ** 2)


def step(p, x, y):
    value, grads = nb.value_and_grad(loss)(p, x, y)
    return [w - 0.1 * g for w, g in zip(p, grads)], value


def main(address: str, process_id: int) -> None:
    nb.distributed.initialize(address, num_processes=2, process_id=process_id,
                              local_device_count=4, timeout=30)
    assert nb.distributed.process_index() == process_id and nb.distributed.process_count() == 2
    assert len(nb.devices()) == 8 and len(nb.distributed.local_devices()) == 4
    rng = np.random.default_rng(0)  # the same data in both processes
    params = [rng.standard_normal((8, 32)).astype(np.float32) * 0.3, np.zeros(32, np.float32),
              rng.standard_normal((32, 1)).astype(np.float32) * 0.3, np.zeros(1, np.float32)]
    x0 = rng.standard_normal((64, 8)).astype(np.float32)
    y0 = rng.standard_normal((64, 1)).astype(np.float32)
    mesh = nb.make_mesh((8,), ("data",))
    rows, rep = nb.NamedSharding(mesh, nb.P("data")), nb.NamedSharding(mesh, nb.P())
    parallel = nb.jit(step, in_shardings=(rep, rows, rows), out_shardings=rep)
    single = nb.jit(step)
    p_par = [nb.shard(a, rep) for a in params]
    p_one = [nb.tensor(a) for a in params]
    x, y = nb.shard(x0, rows), nb.shard(y0, rows)
    total = nb.sum(x)  # an eager op over all 8 devices: a cross-process all-reduce
    for _ in range(10):
        p_par, v_par = parallel(p_par, x, y)
        p_one, v_one = single(p_one, nb.tensor(x0), nb.tensor(y0))
    diff = max(float(np.max(np.abs(a.numpy() - b.numpy()))) for a, b in zip(p_par, p_one))
    print(f"RESULT {process_id} {diff:.3e} {v_par.item():.6f} {v_one.item():.6f} "
          f"{total.item() - float(x0.sum()):.3e}", flush=True)
    nb.distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
