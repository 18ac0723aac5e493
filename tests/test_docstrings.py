"""Every public function and class has a docstring with an example and its output; every
example (the modules' own included) runs and prints what it says where it says it;
docs/api.md is the reference those docstrings render to. The examples see `nb`, `np` and
`F` (nabla_like.nn.functional), as the docs write them. The modules are docs/make_api.py's,
so the reference and the checks cover the same names."""
import doctest
import importlib
import os
import sys

import numpy as np
import pytest

import nabla_like as nb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs"))
import make_api  # noqa: E402

MODULES = [module for module, _ in make_api.MODULES]
PUBLIC = {module: make_api.public(module) for module in MODULES}

# Examples that need what a test process does not have (a cluster of processes) are marked
# `# doctest: +SKIP`, and only these may be.
MAY_SKIP = {"nabla_like.distributed.initialize"}


class _Checker(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        return not want.strip() or super().check_output(want, got, optionflags)


def _owner(obj) -> str:
    """The first module (in the reference's order) that exports `obj`."""
    return next(m for m in MODULES if any(o is obj for _, o in PUBLIC[m]))


def _globs() -> dict:
    return {"nb": nb, "np": np, "F": importlib.import_module("nabla_like.nn.functional")}


def _tests(module):
    """The doctests of `module`'s public callables, each object under the first module that
    exports it, as in the reference."""
    finder = doctest.DocTestFinder(recurse=False)
    return [(name, obj, finder.find(obj, f"{module}.{name}", globs=_globs()))
            for name, obj in PUBLIC[module]
            if callable(obj) and _owner(obj) == module]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    runner = doctest.DocTestRunner(checker=_Checker(),
                                   optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report = []
    module_doc = doctest.DocTestFinder(recurse=False).find(
        importlib.import_module(module), module, globs=_globs())
    for test in module_doc + [t for _, _, tests in _tests(module) for t in tests]:
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0
    assert results.failed == 0, "".join(report)[:6000]


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_has_an_example_with_output(module):
    missing = []
    for name, obj, tests in _tests(module):
        examples = [ex for t in tests for ex in t.examples]
        qualified = f"{module}.{name}"
        skipped = any(ex.options.get(doctest.SKIP) for ex in examples)
        if not examples or not any(ex.want.strip() for ex in examples):
            missing.append(f"{qualified}: no example with an output")
        elif skipped and qualified not in MAY_SKIP:
            missing.append(f"{qualified}: an example is skipped")
    assert not missing, "\n".join(missing)


def test_api_reference_is_current():
    with open(make_api.OUT) as f:
        current = f.read()
    assert current == make_api.render(), "docs/api.md is out of date: run `python docs/make_api.py`"
