"""Bad input raises a specific NablaError that is also the matching builtin, names the op
and the shapes, and points at the user's own line -- never an MLIR or XLA dump."""
import numpy as np
import pytest

import nabla_like as nb

HERE = __file__.rsplit("/", 1)[-1]


def check(excinfo, *fragments):
    msg = str(excinfo.value)
    assert isinstance(excinfo.value, nb.NablaError)
    assert f"{HERE}:" in msg, f"no user line in: {msg}"
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in: {msg}"
    assert "stablehlo" not in msg.lower() and "mlir" not in msg.lower()


def test_non_broadcastable_operands():
    a, b = nb.ones((2, 3)), nb.ones((4,))
    with pytest.raises(ValueError) as e:
        a + b
    check(e, "add", "f32[2,3]", "f32[4]", "broadcast")
    assert isinstance(e.value, nb.ShapeError)


def test_bad_axis():
    with pytest.raises(nb.AxisError) as e:
        nb.sum(nb.ones((2, 3)), axis=2)
    check(e, "sum", "axis 2", "rank 2")
    assert isinstance(e.value, ValueError) and isinstance(e.value, IndexError)


def test_bad_reshape():
    with pytest.raises(ValueError) as e:
        nb.reshape(nb.ones((2, 3)), (4, 2))
    check(e, "reshape", "f32[2,3]", "(4, 2)")


def test_unknown_dtype():
    with pytest.raises(TypeError) as e:
        nb.zeros((2,), dtype="float13")
    check(e, "dtype", "float13")
    assert isinstance(e.value, nb.DTypeError)


@pytest.mark.parametrize("transform", ["jit", "vmap", "jit(grad)"])
def test_bool_of_traced_value_is_a_concretization_error(transform):
    def f(x):
        if x > 0:  # Python control flow on a traced value
            return x
        return -x
    run = {"jit": lambda: nb.jit(f)(nb.tensor(1.0)),
           "vmap": lambda: nb.vmap(f)(nb.ones((3,))),
           "jit(grad)": lambda: nb.jit(nb.grad(f))(nb.tensor(1.0))}[transform]
    with pytest.raises(TypeError) as e:
        run()
    where = {"jit": "under jit", "vmap": "under vmap", "jit(grad)": "under grad inside jit"}
    check(e, "bool", "traced", "bool[]", where[transform], "nb.where", "static_argnums",
          "nb.cond", "nb.while_loop")
    for name in ("cond", "switch", "while_loop", "fori_loop", "scan", "where"):
        assert hasattr(nb, name)  # the message names only what exists
    assert isinstance(e.value, nb.ConcretizationError)


@pytest.mark.parametrize("convert", [int, float, lambda t: t.item(), lambda t: t.numpy()])
def test_other_concretizations(convert):
    with pytest.raises(nb.ConcretizationError):
        nb.vmap(lambda x: x * convert(x))(nb.ones((3,)))


def test_leaked_tracer_used_later():
    leaked = []

    def f(x):
        leaked.append(x)
        return nb.sum(x * x)
    nb.grad(f)(nb.ones((3,)))
    with pytest.raises(RuntimeError) as e:
        leaked[0] + 1.0
    check(e, "escaped", "f32[3]")
    assert isinstance(e.value, nb.TracerLeakError)


def test_error_leaves_nothing_half_done():
    from nabla_like import lazy
    x = nb.ones((2, 3))
    pending_before = lazy.pending_count()
    with pytest.raises(nb.ShapeError):
        x + nb.ones((5,))
    assert lazy.pending_count() == pending_before


def test_incompatible_where():
    with pytest.raises(nb.ShapeError) as e:
        nb.where(nb.ones((2,)) > 0, nb.ones((3,)), 0.0)
    check(e, "where")


def test_tensor_from_unsupported_python_object():
    with pytest.raises(TypeError) as e:
        nb.tensor({"a": 1})
    assert isinstance(e.value, nb.NablaError)


def test_item_of_many_elements():
    with pytest.raises(ValueError) as e:
        nb.ones((3,)).item()
    check(e, "item", "f32[3]")


def test_errors_inside_transforms_point_at_user_code():
    def f(x):
        return nb.reshape(x, (7,))  # the line the message must show
    with pytest.raises(nb.ShapeError) as e:
        nb.grad(lambda x: nb.sum(f(x)))(nb.ones((2, 3)))
    check(e, "reshape", "return nb.reshape(x, (7,))")


def test_numpy_array_operand_works_and_bad_object_fails():
    x = nb.ones((3,))
    np.testing.assert_allclose((x + np.arange(3, dtype=np.float32)).numpy(), [1, 2, 3])
    with pytest.raises(TypeError):
        x + object()


def test_matmul_inner_dimension_mismatch():
    with pytest.raises(ValueError) as e:
        nb.ones((2, 3)) @ nb.ones((4, 5))
    check(e, "matmul", "f32[2,3]", "f32[4,5]", "3 != 4")
    assert isinstance(e.value, nb.ShapeError)


def test_bad_index():
    x = nb.ones((2, 3))
    with pytest.raises(IndexError) as e:
        x[5]
    check(e, "getitem", "index 5", "f32[2,3]")
    assert isinstance(e.value, nb.IndexingError)
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x[:, [0, 7]]


def test_vmap_errors_name_the_transform_and_line():
    with pytest.raises(nb.TransformError) as e:
        nb.vmap(lambda a, b: a + b)(nb.ones((3, 2)), nb.ones((4, 2)))
    check(e, "vmap", "inconsistent sizes", "3", "4")
    with pytest.raises(nb.TransformError) as e:
        nb.vmap(lambda a: a, in_axes=3)(nb.ones((3, 2)))
    check(e, "vmap", "in_axes 3", "(3, 2)")


def test_grad_errors_name_the_transform_and_line():
    with pytest.raises(nb.GradError) as e:
        nb.grad(lambda x: x * 2)(nb.ones((3,)))
    check(e, "grad", "f32[3]", "scalar")
    with pytest.raises(nb.TransformError) as e:
        nb.grad(lambda x, y: x, argnums=(0, 3))(nb.ones(()), nb.ones(()))
    check(e, "grad", "argnums", "2 positional arguments")


def test_more_user_mistakes_are_nabla_errors():
    with pytest.raises(nb.BackwardError, match="must be tensors"):
        nb.backward(3.0)
    with pytest.raises(nb.DeviceError) as e:
        nb.devices("tpu")
    check(e, "devices", "tpu")
    with pytest.raises(nb.UsageError):
        len(nb.tensor(1.0))
    with pytest.raises(nb.TreeError):
        nb.tree.unflatten(nb.tree.structure([1, 2]), [1])
    assert (nb.tensor([1.0]) == None) is False  # noqa: E711
    assert None not in [nb.tensor(1.0)]


def test_escaped_tracer_reads_and_jit_calls_are_leak_errors():
    leaked = []
    nb.grad(lambda x: (leaked.append(x), nb.sum(x))[1])(nb.ones(2))
    for use in (lambda t: t.numpy(), lambda t: t.item(), lambda t: nb.jit(lambda v: v)(t)):
        with pytest.raises(nb.TracerLeakError):
            use(leaked[0])
