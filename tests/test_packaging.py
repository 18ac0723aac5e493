"""The wheel: everything under nabla_like/ (the compiler back end as nabla_like.lowering, no
generic top-level name), and it imports and runs once installed outside the checkout."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_one_top_level_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("nabla_like-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"nabla_like"}, sorted(tops)
    assert "nabla_like/lowering/runtime.py" in names and "nabla_like/nn/layers.py" in names
    # installed into a folder of its own, imported from elsewhere (dependencies: this venv's)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--disable-pip-version-check",
                    "--target", str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import nabla_like as nb, nabla_like.lowering.runtime as rt; "
            "assert nb.__file__.startswith(%r), nb.__file__; "
            "print(float(nb.grad(lambda x: (x * x).sum())(nb.ones((3,))).sum()))" % str(target))
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "6.0"
