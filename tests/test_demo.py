"""`make demo`: the digits classifier trains to over 95% test accuracy in every style, and the
three styles, started from the same parameters, follow the same trajectory."""
import numpy as np
import pytest

pytest.importorskip("sklearn")


def test_demo_trains_every_style_to_95_percent(tmp_path, capsys):
    from nabla_like import demo
    results = demo.main(["--epochs", "12", "--timing-steps", "5", "--no-torch", "--out", str(tmp_path)])
    for style in ("jit", "eager", "backward"):
        assert results[style]["accuracy"] > 0.95, (style, results[style]["accuracy"])
        assert results[style]["step_seconds"] > 0
    losses = [results[s]["final_loss"] for s in ("jit", "eager", "backward")]
    np.testing.assert_allclose(losses, losses[0], rtol=1e-3)
    text = (tmp_path / "train_step.stablehlo.mlir").read_text()
    assert text.startswith("module @") and '"stablehlo.dot_general"' in text
    out = capsys.readouterr().out
    assert "test accuracy" in out and "{" not in out.split("style")[-1]  # a table, no raw dicts
