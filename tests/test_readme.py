"""The README's examples run as written, and print what their comments say."""
import contextlib
import io
import os
import re

import numpy as np

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
NUMBER = r"-?\d+\.?\d*(?:e[-+]?\d+)?|nan"


def _numbers(text: str) -> list[float]:
    text = re.sub(r" : \w+\[[\d,]*\]\)", ")", text)   # drop a Tensor's " : f32[2]" suffix
    return [float(n) for n in re.findall(NUMBER, text)]


def test_readme_python_blocks_run_and_print_what_they_say():
    blocks = re.findall(r"```python\n(.*?)```", open(README).read(), re.S)
    assert len(blocks) >= 2
    out = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    printed = out.getvalue().splitlines()
    prints = re.findall(r"^print\(.*?\)(?:\s+#\s*(.*))?$", "\n".join(blocks), re.M)
    assert len(prints) == len(printed)
    checked = 0
    for comment, line in zip(prints, printed):
        # A comment that starts with a value is what the line printed, up to a remark.
        want = re.match(r"^([\[(]?(?:" + NUMBER + r")[\d\s.,\[\]()e+-]*)", comment)
        if want:
            np.testing.assert_allclose(_numbers(line), _numbers(want.group(1)), rtol=1e-5)
            checked += 1
    assert checked >= 5
