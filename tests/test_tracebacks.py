"""What a user sees of an error: their own frames and the message, no library frames.

In-process, the traceback an error carries (`err.__traceback__`, what traceback.extract_tb,
print_exception and debuggers read) holds no frame of nabla_like/ or lowering/; in a
subprocess, the traceback Python prints for an uncaught error (sys.excepthook, threads,
IPython) shows the user's file and line and no library frame.
NABLA_LIKE_TRACEBACK_FILTERING=off shows everything.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import traceback
from pathlib import Path

import numpy as np
import pytest

import nabla_like as nb
from nabla_like import errors

ROOT = Path(__file__).resolve().parents[1]
LIB_DIRS = (str(ROOT / "nabla_like") + os.sep, str(ROOT / "lowering") + os.sep)
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"  # the library's own environment


def library_frames(tb) -> list[str]:
    return [f"{f.filename}:{f.lineno}" for f in traceback.extract_tb(tb)
            if os.path.abspath(f.filename).startswith(LIB_DIRS)]


def user_functions(tb) -> list[str]:
    return [f.name for f in traceback.extract_tb(tb) if f.filename == __file__]


def caught(fn) -> nb.NablaError:
    try:
        fn()
    except nb.NablaError as e:
        return e
    raise AssertionError("no NablaError raised")


def _inner_bad_reshape(x):
    return nb.reshape(x, (5,))


def _inner_traced_bool(x):
    if x > 0:  # a Python branch on a traced value (jit)
        return x
    return -x


def _leaked():
    box = []
    nb.vmap(lambda x: box.append(x) or x)(nb.ones((2, 3)))
    return box[0]


CASES = {
    "reshape": lambda: nb.reshape(nb.ones((2, 3)), (5,)),
    "method": lambda: nb.ones((2, 3)).reshape(4),
    "operator": lambda: nb.ones((2, 3)) + nb.ones((4,)),
    "matmul": lambda: nb.ones((2, 3)) @ nb.ones((2, 3)),
    "getitem": lambda: nb.ones(3)[5],
    "range": lambda: nb.ones(2, dtype=nb.int32) + (2 ** 32 + 5),
    "grad_output": lambda: nb.grad(lambda x: x * 2.0)(nb.ones(3)),
    "grad_inside": lambda: nb.grad(lambda x: nb.sum(_inner_bad_reshape(x)))(nb.ones(3)),
    "grad_argnums": lambda: nb.grad(lambda x: nb.sum(x), argnums=3),
    "jit_trace": lambda: nb.jit(_inner_traced_bool)(nb.ones(())),
    "jit_static": lambda: nb.jit(lambda x: x, static_argnums=4),
    "vmap": lambda: nb.vmap(lambda a, b: a + b)(nb.ones((3, 2)), nb.ones((4, 2))),
    "hessian_none": lambda: nb.hessian(lambda x: nb.sum(x ** 3))(None),
    "leak": lambda: _leaked() + 1.0,
    "out_of_memory": lambda: nb.zeros((1 << 46,)).numpy(),
    "check_grads": lambda: nb.check_grads(lambda x: x, nb.ones(2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_caught_errors_carry_only_user_frames(case):
    e = caught(CASES[case])
    assert library_frames(e.__traceback__) == []
    assert "caught" in user_functions(e.__traceback__)  # the frame that called the library
    # every frame is still there for whoever asks
    assert library_frames(errors.full_traceback(e))


def test_user_functions_called_by_the_library_stay():
    e = caught(CASES["grad_inside"])
    assert user_functions(e.__traceback__)[-1] == "_inner_bad_reshape"
    e = caught(CASES["jit_trace"])
    assert user_functions(e.__traceback__)[-1] == "_inner_traced_bool"
    assert library_frames(e.__traceback__) == []


def test_filtering_off_shows_library_frames(monkeypatch):
    monkeypatch.setenv("NABLA_LIKE_TRACEBACK_FILTERING", "off")
    e = caught(CASES["reshape"])
    assert library_frames(e.__traceback__)
    monkeypatch.setenv("NABLA_LIKE_TRACEBACK_FILTERING", "on")
    assert library_frames(e.__traceback__) == []


def test_reraised_errors_keep_working():
    e = caught(CASES["operator"])
    with pytest.raises(nb.ShapeError) as info:
        raise e
    assert library_frames(info.value.__traceback__) == []
    e.__traceback__ = None  # the setter still sets
    assert e.__traceback__ is None
    text = "".join(traceback.format_exception(caught(CASES["reshape"])))
    assert "ShapeError" in text and "nabla_like" + os.sep not in text.replace(
        "nabla_like.errors", "")


def test_error_in_a_thread_prints_without_library_frames():
    seen = []
    previous = threading.excepthook
    hook = errors._make_thread_excepthook(lambda args: seen.append(args.exc_value))
    threading.excepthook = hook
    try:
        t = threading.Thread(target=CASES["reshape"])
        t.start()
        t.join()
    finally:
        threading.excepthook = previous
    assert len(seen) == 1 and library_frames(errors.full_traceback(seen[0])) == []


SCRIPT = textwrap.dedent('''
    import threading
    import nabla_like as nb

    def model(x):
        return nb.reshape(x, (5,))  # USER-LINE

    t = threading.Thread(target=lambda: nb.ones(3) @ nb.ones(4))
    t.start()
    t.join()
    nb.grad(lambda x: nb.sum(model(x)))(nb.ones((2, 3)))
''')


def _run_script(tmp_path, filtering: str) -> str:
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT)
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    env = dict(os.environ, NABLA_LIKE_TRACEBACK_FILTERING=filtering,
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([str(python), str(script)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    return proc.stderr


def _frames(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip().startswith('File "')]


def test_uncaught_errors_print_user_frames_only(tmp_path):
    err = _run_script(tmp_path, "on")
    frames = _frames(err)
    assert [f for f in frames if any(d in f for d in LIB_DIRS)] == [], err
    assert any("user_script.py" in f and "in model" in f for f in frames), err
    assert "return nb.reshape(x, (5,))  # USER-LINE" in err
    assert "ShapeError: reshape: cannot reshape f32[2,3]" in err
    assert "ShapeError: matmul" in err  # the thread's error, printed by threading.excepthook
    assert "NABLA_LIKE_TRACEBACK_FILTERING=off" in err


def test_uncaught_errors_with_filtering_off_print_everything(tmp_path):
    err = _run_script(tmp_path, "off")
    assert any(str(ROOT / "nabla_like") in f for f in _frames(err)), err


def test_ipython_shows_user_frames_only(tmp_path):
    pytest.importorskip("IPython")
    script = tmp_path / "ipython_session.py"
    script.write_text(textwrap.dedent('''
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="NoColor")
        shell.run_cell("import nabla_like as nb")
        import nabla_like
        assert shell.custom_exceptions == (nabla_like.NablaError,)
        shell.run_cell("def model(x):\\n    return nb.reshape(x, (5,))\\nmodel(nb.ones((2, 3)))")
    '''))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "ShapeError" in out and "return nb.reshape(x, (5,))" in out, out
    assert str(ROOT / "nabla_like") not in out.replace("nabla_like.errors", ""), out


def test_no_cost_on_the_normal_path():
    # The filter runs when a traceback is read, never on a call: NablaError's
    # __traceback__ is a property and nothing wraps the public functions.
    assert nb.Tensor.__add__ is nb.add
    assert isinstance(nb.NablaError.__dict__["__traceback__"], property)
    np.testing.assert_allclose((nb.ones(3) + nb.ones(3)).numpy(), [2, 2, 2])
