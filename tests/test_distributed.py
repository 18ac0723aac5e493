"""Two processes on localhost, 4 CPU devices each: a data-parallel step over all 8 devices
through PJRT's distributed runtime equals the single-device step (the worker checks each
process's result against a one-device run of the same step)."""
import os
import socket
import subprocess
import sys

import pytest

import nabla_like as nb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "multidevice", "distributed_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_data_parallel():
    address = f"127.0.0.1:{_free_port()}"
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("NABLA_CPU_DEVICES", None)
    procs = [subprocess.Popen([sys.executable, WORKER, address, str(pid)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for pid in (0, 1)]
    outputs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=240)
            outputs.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    report = "\n".join(f"process {i}: rc={rc}\n{out[-1500:]}\n{err[-3000:]}"
                       for i, (rc, out, err) in enumerate(outputs))
    assert all(rc == 0 for rc, _, _ in outputs), report
    results = [line.split() for _, out, _ in outputs for line in out.splitlines()
               if line.startswith("RESULT ")]
    assert sorted(int(r[1]) for r in results) == [0, 1], report
    for _, pid, diff, v_par, v_one, total_err in results:
        assert float(diff) < 1e-5, report
        assert abs(float(v_par) - float(v_one)) < 1e-5, report
        assert abs(float(total_err)) < 1e-3, report


def test_initialize_checks_its_arguments():
    with pytest.raises(nb.UsageError, match="host:port"):
        nb.distributed.initialize("localhost", 2, 0)
    with pytest.raises(nb.UsageError, match=r"process_id must be in \[0, 2\)"):
        nb.distributed.initialize("127.0.0.1:1234", 2, 5)
    nb.tensor([1.0]).numpy()  # devices in use: joining a job now is refused, not half-done
    with pytest.raises(nb.UsageError, match="before any tensor"):
        nb.distributed.initialize("127.0.0.1:1234", 2, 0, timeout=2)
