"""Every example in the docstrings of the public API runs, and prints what it says where it
says it (examples written without an output only have to run). The examples see `nb`, `np`
and `F` (nabla_like.nn.functional), as the docs write them."""
import doctest
import importlib
import inspect

import numpy as np
import pytest

import nabla_like as nb

MODULES = ["nabla_like", "nabla_like.nn", "nabla_like.nn.functional", "nabla_like.linalg",
           "nabla_like.optim", "nabla_like.random"]


class _Checker(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return not want.strip() or super().check_output(want, got, optionflags)


def _public(module):
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")])
    return [(n, getattr(mod, n)) for n in names
            if hasattr(mod, n) and not inspect.ismodule(getattr(mod, n))]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    globs = {"nb": nb, "np": np, "F": importlib.import_module("nabla_like.nn.functional")}
    runner = doctest.DocTestRunner(checker=_Checker(),
                                   optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report = []
    for name, obj in _public(module):
        for test in doctest.DocTestFinder(recurse=False).find(obj, f"{module}.{name}", globs=globs):
            runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0
    assert results.failed == 0, "".join(report)[:6000]
