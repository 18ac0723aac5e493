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
