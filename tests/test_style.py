"""The code base stays ruff-clean (configuration in pyproject.toml)."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ruff_clean():
    ruff = shutil.which("ruff") or os.path.join(os.path.dirname(sys.executable), "ruff")
    if not os.path.exists(ruff):
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "nabla_like", "lowering", "tests", "benchmarks", "notebooks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_never_imports_jax():
    code = ("import sys, numpy as np, nabla_like as nb\n"
            "x = nb.tensor(np.arange(3.0))\n"
            "y = nb.jit(nb.grad(lambda x: nb.sum(nb.sin(x))))(x)\n"
            "(x * 2).numpy(); y.numpy()\n"
            "assert 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith('jax'))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
