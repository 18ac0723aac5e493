import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# tests/multidevice needs XLA's host platform split into 8 devices, which must be set before
# the first client starts: test_devices.py runs it in a process of its own.
collect_ignore = [] if os.environ.get("NABLA_CPU_DEVICES") == "8" else ["multidevice"]

# `make test-fast` (-m "not slow") leaves out the sweeps and the runs in other processes: the
# op table under grad and vmap, notebooks, README, demo, devices, several processes, the wheel.
SLOW_FILES = {"test_ops_grad.py", "test_ops_vmap.py", "test_properties.py", "test_notebooks.py",
              "test_readme.py", "test_demo.py", "test_devices.py", "test_distributed.py",
              "test_packaging.py", "test_seeds.py", "test_style.py"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: left out by make test-fast")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
