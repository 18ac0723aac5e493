"""Every primitive has every rule and a StableHLO lowering, so a gap fails CI, not a user."""
import pytest

import nabla_like.lowering as lowering
import nabla_like  # noqa: F401  (registers every primitive)
from nabla_like.core import PRIMITIVES

PRIMS = sorted(PRIMITIVES.values(), key=lambda p: p.name)


@pytest.mark.parametrize("prim", PRIMS, ids=lambda p: p.name)
def test_primitive_has_every_rule(prim):
    assert prim.abstract_eval is not None, f"{prim.name}: no shape/dtype rule"
    assert prim.batch is not None, f"{prim.name}: no batching rule"
    assert prim.jvp is not None, f"{prim.name}: no JVP rule"
    assert prim.vjp is not None, f"{prim.name}: no VJP or transpose rule"
    if prim.linear:
        assert prim.transpose is not None, f"{prim.name}: linear but no transpose rule"


@pytest.mark.parametrize("prim", PRIMS, ids=lambda p: p.name)
def test_primitive_has_lowering(prim):
    assert prim.name in lowering.LOWERINGS, f"{prim.name}: no StableHLO lowering"


def test_no_orphan_lowerings():
    orphans = set(lowering.LOWERINGS) - set(PRIMITIVES)
    assert not orphans, f"lowerings without a primitive: {sorted(orphans)}"
