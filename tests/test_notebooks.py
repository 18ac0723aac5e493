"""Every notebook in notebooks/ runs top to bottom without errors in a Jupyter kernel, and is
committed with its outputs (every cell that prints or displays something when run has
output in the committed file)."""
import glob
import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    committed = [bool(c.get("outputs")) for c in nb.cells if c.cell_type == "code"]
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    produced = [bool(c.get("outputs")) for c in nb.cells if c.cell_type == "code"]
    missing = [i for i, (want, have) in enumerate(zip(produced, committed)) if want and not have]
    assert not missing, f"code cells {missing} are committed without their outputs: run " \
                        f"jupyter-execute --inplace {os.path.relpath(path, ROOT)}"
