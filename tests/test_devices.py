"""Devices: what works with one CPU device here, and the multi-device suite run in a process
of its own with XLA's host platform split into 8 devices."""
import os
import subprocess
import sys

import numpy as np
import pytest

import nabla_like as nb
from nabla_like.lowering import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_devices_and_specs():
    cpu0 = nb.devices()[0]
    assert nb.device("cpu") is cpu0 and nb.device("cpu:0") is cpu0 and nb.device(cpu0) is cpu0
    x = nb.tensor([1.0, 2.0])
    assert x.device is cpu0 and nb.device(x) is cpu0
    assert nb.device_count("cpu") == len(nb.devices("cpu"))
    for bad, pattern in (("tpu", "no 'tpu' device"), ("cpu:99", "no device 'cpu:99'"),
                         ("cpu:x", "cannot read"), (3, "a device is")):
        with pytest.raises(nb.DeviceError, match=pattern):
            nb.tensor([1.0], device=bad)
        with pytest.raises(nb.DeviceError, match=pattern):
            nb.default_device(bad)  # checked at the call, not when the block is entered


def test_no_gpu_is_a_clear_error():
    if runtime.cuda_plugin_path() is not None:
        pytest.skip("a CUDA plugin is installed here")
    with pytest.raises(nb.DeviceError, match="CUDA PJRT plugin is not installed"):
        nb.devices("gpu")
    with pytest.raises(nb.DeviceError, match="no 'gpu' device"):
        nb.ones(3, device="gpu")
    with pytest.raises(nb.DeviceError, match="no 'gpu' device"):
        nb.tensor([1.0]).to("cuda")


def test_plugin_discovery_finds_the_wheel_layout(tmp_path, monkeypatch):
    """The CUDA plugin is found where the jax-cuda12-pjrt wheel puts it, without running the
    wheel's Python package (which imports jax)."""
    pkg = tmp_path / "jax_plugins" / "xla_cuda12"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (pkg / "xla_cuda_plugin.so").write_bytes(b"")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("jax_plugins")]:
        monkeypatch.delitem(sys.modules, name)
    assert runtime.cuda_plugin_path() == str(pkg / "xla_cuda_plugin.so")
    assert "jax_plugins.xla_cuda12" not in sys.modules


def test_to_a_dtype_converts():
    x = nb.tensor([1.5, 2.5])
    assert x.to(nb.float16).dtype == nb.float16
    assert x.to("int32").dtype == nb.int32
    np.testing.assert_array_equal(x.to("cpu").numpy(), [1.5, 2.5])


def test_multidevice_suite():
    env = dict(os.environ, NABLA_CPU_DEVICES="8", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-x", os.path.join(ROOT, "tests", "multidevice")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]


def test_bad_meshes_and_specs():
    cpu0 = nb.devices()[0]
    with pytest.raises(nb.ArgumentError, match="distinct strings"):
        nb.Mesh([cpu0], ("a", 3))
    with pytest.raises(nb.ShapeError, match="2 axis names"):
        nb.Mesh([cpu0], ("a", "b"))
    with pytest.raises(nb.ArgumentError, match="twice"):
        nb.Mesh([cpu0, cpu0], ("a",))
    with pytest.raises(nb.DeviceError, match="needs 64 devices"):
        nb.make_mesh((8, 8), ("a", "b"))
    mesh = nb.make_mesh((1,), ("data",))
    with pytest.raises(nb.ArgumentError, match="mesh axis name"):
        nb.P(1.5)
    with pytest.raises(nb.ArgumentError, match="unknown mesh axis 'model'"):
        nb.NamedSharding(mesh, nb.P("model"))
    with pytest.raises(nb.ShapeError, match="names 2 dimensions"):
        nb.shard(nb.ones(3), mesh, nb.P("data", None))
    with pytest.raises(nb.ArgumentError, match="in_shardings"):
        nb.jit(lambda x: x, in_shardings=[mesh])


def test_one_device_mesh_is_a_mesh():
    """A 1-device mesh runs the SPMD path end to end (the 8-device suite does the splitting)."""
    mesh = nb.make_mesh((1,), ("data",))
    x0 = np.arange(6, dtype=np.float32).reshape(3, 2)
    x = nb.shard(x0, mesh, nb.P("data"))
    assert x.sharding.mesh == mesh and x.device == mesh
    np.testing.assert_array_equal((x * 2).numpy(), x0 * 2)
    f = nb.jit(lambda a: nb.sum(a * a), in_shardings=nb.NamedSharding(mesh, nb.P("data")))
    assert f(nb.tensor(x0)).item() == pytest.approx(float((x0 * x0).sum()))
