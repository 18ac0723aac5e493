"""Tests that need several devices: run by tests/test_devices.py in a process of their own
with NABLA_CPU_DEVICES=8 (XLA's host platform split into 8 CPU devices)."""
import os

import pytest

import nabla_like as nb


def pytest_collection_modifyitems(config, items):
    if len(nb.devices("cpu")) < 8:
        skip = pytest.mark.skip(reason="needs NABLA_CPU_DEVICES=8 (run through tests/test_devices.py)")
        for item in items:
            item.add_marker(skip)


os.environ.setdefault("NABLA_CPU_DEVICES", "8")
