"""The creation functions and Tensor methods ported code expects: checked arguments (a
clear NablaError naming the function, never a process abort or a silent wrong answer),
snapshots of host data, requires_grad leaves, t/to_numpy/zero_/grad_fn/unbind, and
`x[idx] = v` as a recorded, differentiable update; values against NumPy and PyTorch."""
import numpy as np
import pytest
import torch

import nabla_like as nb


def raises(cls, op, call):
    """`call()` raises `cls` with a message that starts with the function's name."""
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, nb.NablaError)
    assert str(info.value).startswith(f"{op}:"), str(info.value)
    return info.value


def same(got, want):
    got = np.asarray(got.numpy() if isinstance(got, nb.Tensor) else got)
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# 1. Shapes too large to address, and the other non-tensor arguments
# ---------------------------------------------------------------------------
HUGE = (1 << 31, 1 << 31)  # 2**62 elements: 2**64 bytes of float32


@pytest.mark.parametrize("op,call", [
    ("ones", lambda: nb.ones(HUGE)),
    ("ones", lambda: nb.ones(shape=HUGE)),
    ("zeros", lambda: nb.zeros(*HUGE)),
    ("zeros", lambda: nb.zeros(HUGE, dtype=nb.float64)),
    ("full", lambda: nb.full(HUGE, 1.5)),
    ("full", lambda: nb.full(HUGE, nb.tensor([1.0]))),
    ("eye", lambda: nb.eye(1 << 40)),
    ("identity", lambda: nb.identity(1 << 40)),
    ("arange", lambda: nb.arange(0, 1 << 70)),
    ("arange", lambda: nb.arange(0.0, 1e300, 1e-300)),
    ("linspace", lambda: nb.linspace(0, 1, 1 << 62)),
    ("iota", lambda: nb.iota(HUGE)),
])
def test_shapes_whose_byte_size_overflows_are_refused_at_the_call(op, call):
    err = raises(nb.ShapeError, op, call)
    assert "too large" in str(err) or "too many" in str(err)


def test_large_but_addressable_shapes_are_still_fine():
    assert nb.zeros((1 << 31, 1 << 30), dtype=nb.int8).shape == (1 << 31, 1 << 30)  # a literal


T = nb.ones((2, 2))


@pytest.mark.parametrize("cls,op,call", [
    (nb.ArgumentError, "eye", lambda: nb.eye(2.0)),
    (nb.ArgumentError, "eye", lambda: nb.eye("3")),
    (nb.ArgumentError, "eye", lambda: nb.eye(3, None, 1.5)),
    (nb.ArgumentError, "eye", lambda: nb.eye(3, m=[2])),
    (nb.ShapeError, "eye", lambda: nb.eye(-1)),
    (nb.DTypeError, "eye", lambda: nb.eye(3, dtype="float13")),
    (nb.ArgumentError, "identity", lambda: nb.identity(None)),
    (nb.ArgumentError, "tril", lambda: nb.tril(T, k=1.5)),
    (nb.ArgumentError, "triu", lambda: nb.triu(T, k="1")),
    (nb.ArgumentError, "linspace", lambda: nb.linspace(0, 1, 2.5)),
    (nb.ArgumentError, "linspace", lambda: nb.linspace(0, 1, None)),
    (nb.ShapeError, "linspace", lambda: nb.linspace(0, 1, -1)),
    (nb.ArgumentError, "linspace", lambda: nb.linspace(0, 1, 5, endpoint="yes")),
    (nb.ArgumentError, "linspace", lambda: nb.linspace(0, 1, 5, endpoint=None)),
    (nb.DTypeError, "linspace", lambda: nb.linspace(0, 1, 5, dtype=3.5)),
    (nb.DTypeError, "arange", lambda: nb.arange("3")),
    (nb.DTypeError, "arange", lambda: nb.arange(0, 3, None)),
    (nb.DTypeError, "arange", lambda: nb.arange(5, dtype="nope")),
    (nb.ShapeError, "arange", lambda: nb.arange(0, 5, 0)),
    (nb.ArgumentError, "iota", lambda: nb.iota((2, 3), 1.5)),
    (nb.AxisError, "iota", lambda: nb.iota((2, 3), 2)),
    (nb.ArgumentError, "zeros", lambda: nb.zeros(2, shape=(3,))),
    (nb.ShapeError, "zeros", lambda: nb.zeros(shape="ab")),
    (nb.ShapeError, "ones", lambda: nb.ones(shape=(2.0, 3))),
    (nb.DTypeError, "ones", lambda: nb.ones(2, dtype=object())),
    (nb.ArgumentError, "full", lambda: nb.full((2,), "abc")),
    (nb.ArgumentError, "full", lambda: nb.full((2,), None)),
    (nb.ArgumentError, "full", lambda: nb.full((2,), object())),
    (nb.ArgumentError, "full_like", lambda: nb.full_like(T, {"a": 1})),
    (nb.DTypeError, "zeros_like", lambda: nb.zeros_like("abc")),
    (nb.DTypeError, "ones_like", lambda: nb.ones_like(None)),
    (nb.DTypeError, "zeros_like", lambda: nb.zeros_like(T, dtype="float13")),
    (nb.DTypeError, "tensor", lambda: nb.tensor(None)),
    (nb.DTypeError, "tensor", lambda: nb.tensor(None, dtype=nb.float32)),  # NumPy gives nan
    (nb.DTypeError, "tensor", lambda: nb.tensor("abc")),
    (nb.DTypeError, "tensor", lambda: nb.tensor([[1], [1, 2]])),
    (nb.DTypeError, "tensor", lambda: nb.tensor([1.0], dtype="float13")),
    (nb.ArgumentError, "tensor", lambda: nb.tensor([1.0], requires_grad="yes")),
    (nb.ArgumentError, "Tensor", lambda: nb.Tensor([1.0], requires_grad=[True])),
    (nb.DTypeError, "asarray", lambda: nb.asarray(np.ones(2), dtype="float13")),
    (nb.ArgumentError, "from_dlpack", lambda: nb.from_dlpack("abc")),
    (nb.ArgumentError, "from_dlpack", lambda: nb.Tensor.from_dlpack(object())),
])
def test_bad_arguments_name_the_function(cls, op, call):
    raises(cls, op, call)


def test_argument_errors_are_the_builtins_numpy_raises():
    with pytest.raises(TypeError):
        np.eye(3, k=1.5)
    with pytest.raises(TypeError):
        nb.eye(3, k=1.5)
    with pytest.raises(TypeError):
        np.linspace(0, 1, 2.5)
    with pytest.raises(TypeError):
        nb.linspace(0, 1, 2.5)


def test_shape_keyword_and_int_overflow_safe_ranges():
    same(nb.zeros(shape=(2, 3)), np.zeros((2, 3)))
    same(nb.ones(shape=[3], dtype=nb.int32), np.ones(3, np.int32))
    assert nb.ones(shape=4).dtype == nb.float32
    # k far past the corners keeps everything or nothing, as NumPy
    a = np.arange(6.0).reshape(2, 3)
    for k in (1 << 40, -(1 << 40), 2, -2):
        same(nb.tril(a, k=k), np.tril(a, k))
        same(nb.triu(a, k=k), np.triu(a, k))
    same(nb.eye(3, k=1 << 40), np.eye(3, k=1 << 40))


# ---------------------------------------------------------------------------
# 2. Host data is copied at the call: a snapshot, whatever the alignment
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [nb.asarray, nb.from_dlpack, nb.Tensor.from_dlpack, nb.tensor])
def test_host_data_is_a_snapshot_at_every_alignment(make):
    raw = np.empty(4096, np.uint8)
    aligned = (-raw.ctypes.data) % 64  # the offset of a 64-byte aligned address
    offsets = sorted({aligned, aligned + 4, aligned + 16, aligned + 32, (aligned + 8) % 64})
    n = 50
    for off in offsets:
        arr = raw[off:off + 4 * n].view(np.float32)
        old = np.arange(n, dtype=np.float32) + off
        arr[:] = old
        t = make(arr)
        pending = t * 2.0  # not computed yet
        arr[:] = -1.0  # the caller writes to its array afterwards
        same(pending, 2.0 * old)
        same(t, old)


def test_torch_data_is_a_snapshot_too():
    src = torch.arange(5, dtype=torch.float32)
    t = nb.from_dlpack(src)
    src.zero_()
    same(t, np.arange(5, dtype=np.float32))


def test_asarray_returns_a_tensor_as_is():
    x = nb.ones(3)
    assert nb.asarray(x) is x
    assert nb.asarray(x, dtype=nb.int32).dtype == nb.int32


# ---------------------------------------------------------------------------
# 3. requires_grad= on every creation function: a leaf, float dtypes only
# ---------------------------------------------------------------------------
CREATORS = [
    ("tensor", lambda: nb.tensor([1.0, 2.0, 3.0], requires_grad=True),
     lambda: torch.tensor([1.0, 2.0, 3.0], requires_grad=True)),
    ("Tensor", lambda: nb.Tensor([1.0, 2.0], requires_grad=True),
     lambda: torch.tensor([1.0, 2.0], requires_grad=True)),
    ("zeros", lambda: nb.zeros(2, 3, requires_grad=True),
     lambda: torch.zeros(2, 3, requires_grad=True)),
    ("zeros", lambda: nb.zeros(shape=(2, 3), requires_grad=True),
     lambda: torch.zeros((2, 3), requires_grad=True)),
    ("ones", lambda: nb.ones((3,), requires_grad=True),
     lambda: torch.ones(3, requires_grad=True)),
    ("full", lambda: nb.full((2, 2), 1.5, requires_grad=True),
     lambda: torch.full((2, 2), 1.5, requires_grad=True)),
    ("zeros_like", lambda: nb.zeros_like(nb.ones(3), requires_grad=True),
     lambda: torch.zeros_like(torch.ones(3), requires_grad=True)),
    ("ones_like", lambda: nb.ones_like(nb.ones(3), requires_grad=True),
     lambda: torch.ones_like(torch.ones(3), requires_grad=True)),
    ("full_like", lambda: nb.full_like(nb.ones(3), 2.5, requires_grad=True),
     lambda: torch.full_like(torch.ones(3), 2.5, requires_grad=True)),
    ("arange", lambda: nb.arange(0.0, 2.0, 0.5, requires_grad=True),
     lambda: torch.arange(0.0, 2.0, 0.5, requires_grad=True)),
    ("linspace", lambda: nb.linspace(0, 1, 5, requires_grad=True),
     lambda: torch.linspace(0, 1, 5, requires_grad=True)),
    ("eye", lambda: nb.eye(3, requires_grad=True), lambda: torch.eye(3, requires_grad=True)),
    ("identity", lambda: nb.identity(2, requires_grad=True),
     lambda: torch.eye(2, requires_grad=True)),
]


@pytest.mark.parametrize("name,make,make_torch", CREATORS, ids=[c[0] for c in CREATORS])
def test_requires_grad_makes_a_leaf_like_torch(name, make, make_torch):
    x, xt = make(), make_torch()
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    assert xt.requires_grad and xt.is_leaf and xt.grad_fn is None
    same(x, xt)
    nb.sum(x * x * 3.0).backward()
    (xt * xt * 3.0).sum().backward()
    same(x.grad, xt.grad)


@pytest.mark.parametrize("name,call", [
    ("zeros", lambda: nb.zeros(3, dtype=nb.int32, requires_grad=True)),
    ("arange", lambda: nb.arange(3, requires_grad=True)),
    ("tensor", lambda: nb.tensor([1, 2], requires_grad=True)),
    ("Tensor", lambda: nb.Tensor([1, 2], requires_grad=True)),
    ("full", lambda: nb.full(2, True, requires_grad=True)),
    ("eye", lambda: nb.eye(2, dtype=nb.int64, requires_grad=True)),
    ("ones_like", lambda: nb.ones_like(nb.tensor([1, 2]), requires_grad=True)),
])
def test_requires_grad_of_an_int_dtype_raises_as_torch(name, call):
    err = raises(nb.DTypeError, name, call)
    assert "floating-point" in str(err)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.zeros(3, dtype=torch.int32, requires_grad=True)


def test_requires_grad_cuts_the_history_of_tensor_data():
    w = nb.ones(2, requires_grad=True)
    for leaf in (nb.tensor(w * 2.0, requires_grad=True), nb.tensor(w, nb.float64, True),
                 nb.full((2, 2), w, requires_grad=True), nb.Tensor(w * 1.0, requires_grad=True)):
        assert leaf.is_leaf and leaf.requires_grad
        nb.sum(leaf * leaf).backward()
        assert leaf.grad is not None
    assert w.grad is None  # no gradient flows through the data of a new leaf


def test_autograd_flags_are_checked():
    w = nb.ones(2, requires_grad=True)
    loss = nb.sum(w * w)
    raises(nb.ArgumentError, "backward", lambda: nb.backward(loss, retain_graph="yes"))
    raises(nb.ArgumentError, "backward", lambda: loss.backward(create_graph=[True]))
    raises(nb.ArgumentError, "backward", lambda: nb.backward(loss, show_graph=2.5))
    raises(nb.ArgumentError, "zero_grad", lambda: nb.zero_grad([w], set_to_none="no"))
    raises(nb.ArgumentError, "requires_grad_", lambda: nb.ones(2).requires_grad_("yes"))
    with pytest.raises(TypeError):
        torch.ones(2).requires_grad_("yes")
    loss.backward()  # nothing was half-done by the bad calls
    same(w.grad, [2.0, 2.0])


def test_requires_grad_false_gives_a_plain_tensor():
    for x in (nb.zeros(2, requires_grad=False), nb.arange(3, requires_grad=False),
              nb.tensor([1, 2], requires_grad=False)):
        assert not x.requires_grad and x.grad_fn is None


# ---------------------------------------------------------------------------
# 4. Tensor methods: t, to_numpy, zero_, grad_fn, unbind
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (1, 4)])
def test_t_matches_torch(shape):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    same(nb.tensor(a).t(), torch.tensor(a).t())


def test_t_of_more_than_two_dims_raises_as_torch():
    raises(nb.ShapeError, "t", lambda: nb.ones((2, 3, 4)).t())
    with pytest.raises(RuntimeError):
        torch.ones(2, 3, 4).t()


def test_to_numpy_is_numpy():
    x = nb.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(x.to_numpy(), x.numpy())
    assert x.to_numpy().dtype == np.int32


def test_zero_and_grad_zero_after_backward_as_torch():
    x = nb.ones((2, 2), dtype=nb.int32)
    assert x.zero_() is x
    same(x, np.zeros((2, 2)))
    assert x.dtype == nb.int32
    w, wt = nb.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for step in range(2):
        nb.sum(w * w).backward()
        (wt * wt).sum().backward()
        same(w.grad, wt.grad)
        w.grad.zero_()
        wt.grad.zero_()
        same(w.grad, wt.grad)
    nb.sum(w * 3.0).backward()  # accumulates onto the zeroed gradient
    (wt * 3.0).sum().backward()
    same(w.grad, wt.grad)


def test_zero_of_a_parameter_needs_no_grad_as_torch():
    w = nb.ones(2, requires_grad=True)
    raises(nb.BackwardError, "in-place update", lambda: w.zero_())
    with pytest.raises(RuntimeError, match="in-place"):
        torch.ones(2, requires_grad=True).zero_()
    with nb.no_grad():
        w.zero_()
    assert w.is_leaf and w.requires_grad
    same(w, np.zeros(2))


def test_grad_fn_names_the_primitive_and_links_to_the_leaves():
    w, c = nb.ones(2, requires_grad=True), nb.ones(2)
    assert w.grad_fn is None and c.grad_fn is None and (c * 2.0).grad_fn is None
    y = w * c
    assert repr(y.grad_fn) == "GradFn(mul)" and y.grad_fn.name == "mul"
    (acc, index), (none, _) = y.grad_fn.next_functions
    assert acc.name == "accumulate_grad" and acc.variable is w and index == 0 and none is None
    loss = nb.sum(nb.exp(y))
    assert loss.grad_fn.next_functions[0][0].name == "exp"
    assert loss.grad_fn.next_functions[0][0].next_functions[0][0] == y.grad_fn
    with nb.no_grad():
        assert (w * 2.0).grad_fn is None


def test_unbind_method():
    a = np.arange(6.0).reshape(2, 3)
    if not hasattr(nb, "unbind"):
        raises(nb.UsageError, "unbind", lambda: nb.tensor(a).unbind())
        return
    for dim in (0, 1, -1):
        got, want = nb.tensor(a).unbind(dim), torch.tensor(a).unbind(dim)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)


# ---------------------------------------------------------------------------
# 5. x[idx] = v: NumPy's semantics, torch's gradients, under jit/grad/vmap
# ---------------------------------------------------------------------------
A = np.arange(24, dtype=np.float32).reshape(4, 6) - 10.0
MASK = A > 0
INDICES = [
    1, -1, (2, 3), (-1, -2), slice(1, 3), slice(None, None, -2), (slice(None), slice(1, 5, 2)),
    (Ellipsis, 0), (None, 1), (1, None, slice(2, 4)), (), Ellipsis, [0, 2], [[0], [3]],
    (slice(None), [5, 0]), ([0, 1], [1, 2]), ([0, 2], slice(None), None),
    (0, [1, 3]), MASK, (slice(None), A[2] > 4), np.array([True, False, True, False]), np.array([3, -4]),
    ([1, 3], slice(None)), (True,), (slice(None), np.array([0, -1])),
]


def _nb_index(index, as_tensor):
    """The same index with its arrays (and masks) as nb tensors when `as_tensor`."""
    if not as_tensor:
        return index
    conv = (lambda i: nb.tensor(i) if isinstance(i, (list, np.ndarray)) else i)
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["host-index", "tensor-index"])
def test_setitem_matches_numpy(as_tensor, rng):
    got, want = [], []
    for index in INDICES:  # all recorded first: one program computes them all
        shape = A[index].shape
        for value in (7.5, rng.standard_normal(shape).astype(np.float32)):
            a = A.copy()
            a[index] = value
            x = nb.tensor(A)
            x[_nb_index(index, as_tensor)] = nb.tensor(value) if as_tensor else value
            got.append(x)
            want.append(a)
    for index, g, w in zip(np.repeat(np.arange(len(INDICES)), 2), got, want):
        np.testing.assert_array_equal(g.numpy(), w, err_msg=f"index {INDICES[index]}")


def test_setitem_casts_lists_and_scalars_like_numpy():
    a = np.arange(5, dtype=np.int32)
    x = nb.tensor(a)
    a[0], a[[1, 2]], a[3:] = 2.7, [8, 9], -1
    x[0], x[[1, 2]], x[3:] = 2.7, [8, 9], -1
    same(x, a)
    assert x.dtype == nb.int32
    b, row = A.copy(), np.arange(6.0)
    b[[0, 2]], b[1:, 3] = row, np.float32(-2)  # broadcast values, a NumPy scalar
    y = nb.tensor(A)
    y[[0, 2]], y[1:, 3] = row, np.float32(-2)
    same(y, b)


def test_setitem_full_mask_with_a_scalar_is_a_select():
    x = nb.tensor(A)
    x[x > 0] = 0.0
    assert x._value.node.prim.name == "select"  # nothing read back to find the mask
    same(x, np.where(A > 0, 0.0, A))


def test_setitem_only_rebinds_this_tensor():
    x = nb.tensor(A)
    before, alias = x * 1.0, x
    x[0] = 100.0
    same(before, A)
    assert alias is x and float(alias[0, 0]) == 100.0


def _torch_setitem_grads(index, w_shape, rng):
    a = rng.standard_normal((4, 6)).astype(np.float32)
    w0 = rng.standard_normal(w_shape).astype(np.float32)
    c = rng.standard_normal((4, 6)).astype(np.float32)
    xt, wt = torch.tensor(a, requires_grad=True), torch.tensor(w0, requires_grad=True)
    yt = xt * 1.0
    yt[index] = wt
    (yt * yt * torch.tensor(c)).sum().backward()
    return a, w0, c, xt.grad, wt.grad


@pytest.mark.parametrize("index,w_shape", [
    (0, (6,)), ((slice(1, 3), 2), (2,)), ([0, 2], (2, 6)), ((slice(None), [4, 1]), (4, 2)),
    (MASK, ()), (MASK, (int(MASK.sum()),)), ((Ellipsis, 1), (1,)),
])
def test_setitem_gradients_flow_as_in_torch(index, w_shape, rng):
    a, w0, c, gx, gw = _torch_setitem_grads(index, w_shape, rng)
    x, w = nb.tensor(a, requires_grad=True), nb.tensor(w0, requires_grad=True)
    y = x * 1.0
    y[index] = w
    assert y.grad_fn is not None
    nb.sum(y * y * nb.tensor(c)).backward()
    same(x.grad, gx)  # zero where y was overwritten
    same(w.grad, gw)


def test_setitem_tensor_mask_gradients_as_torch():
    m, c = A > 0, np.arange(24.0, dtype=np.float32).reshape(4, 6)
    x, w = nb.ones((4, 6), requires_grad=True), nb.tensor(3.0, requires_grad=True)
    y = x * 2.0
    y[nb.tensor(m)] = w
    nb.sum(y * nb.tensor(c)).backward()
    xt, wt = torch.ones((4, 6), requires_grad=True), torch.tensor(3.0, requires_grad=True)
    yt = xt * 2.0
    yt[torch.tensor(m)] = wt
    (yt * torch.tensor(c)).sum().backward()
    same(x.grad, xt.grad)
    same(w.grad, wt.grad)


def test_setitem_of_a_parameter_needs_no_grad_as_torch():
    w = nb.ones(3, requires_grad=True)
    raises(nb.BackwardError, "in-place update", lambda: w.__setitem__(0, 2.0))
    with pytest.raises(RuntimeError, match="in-place"):
        torch.ones(3, requires_grad=True)[0] = 2.0
    with nb.no_grad():
        w[0] = 2.0
    assert w.is_leaf and w.requires_grad
    same(w, [2.0, 1.0, 1.0])


def _scatter_fn(x, w):
    y = x * 2.0
    y[1:, 0] = w
    y[0] = y[0] + 1.0
    y[y > 10.0] = 10.0  # a traced mask: a select
    return y


def _scatter_np(a, w):
    y = a * 2.0
    y[1:, 0] = w
    y[0] = y[0] + 1.0
    y[y > 10.0] = 10.0
    return y


def test_setitem_under_jit_grad_and_vmap(rng):
    a = rng.standard_normal((4, 6)).astype(np.float32) * 4.0
    w = rng.standard_normal(3).astype(np.float32)
    same(nb.jit(_scatter_fn)(nb.tensor(a), nb.tensor(w)), _scatter_np(a, w))
    same(_scatter_fn(nb.tensor(a), nb.tensor(w)), _scatter_np(a, w))

    def loss(x, w):
        return nb.sum(_scatter_fn(x, w) ** 2)
    gx, gw = nb.grad(loss, argnums=(0, 1))(nb.tensor(a), nb.tensor(w))
    xt, wt = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = xt * 2.0
    yt[1:, 0] = wt
    yt[0] = yt[0] + 1.0
    yt[yt > 10.0] = 10.0
    (yt ** 2).sum().backward()
    same(gx, xt.grad)
    same(gw, wt.grad)
    gx_jit, _ = nb.jit(nb.grad(loss, argnums=(0, 1)))(nb.tensor(a), nb.tensor(w))
    same(gx_jit, xt.grad)
    batch = rng.standard_normal((3, 4, 6)).astype(np.float32)
    got = nb.vmap(lambda x: _scatter_fn(x, nb.tensor(w)))(nb.tensor(batch))
    same(got, np.stack([_scatter_np(b, w) for b in batch]))


@pytest.mark.parametrize("cls,call", [
    (nb.IndexingError, lambda x: x.__setitem__("a", 1.0)),
    (nb.IndexingError, lambda x: x.__setitem__(10, 1.0)),
    (nb.IndexingError, lambda x: x.__setitem__(1.5, 1.0)),
    (nb.IndexingError, lambda x: x.__setitem__((0, 0, 0), 1.0)),
    (nb.IndexingError, lambda x: x.__setitem__(nb.tensor([0.5]), 1.0)),
    (nb.IndexingError, lambda x: x.__setitem__(np.ones((2, 2), bool), 1.0)),
    (nb.ShapeError, lambda x: x.__setitem__(slice(0, 2), np.ones(5))),
    (nb.ArgumentError, lambda x: x.__setitem__(0, "abc")),
    (nb.ArgumentError, lambda x: x.__setitem__(0, None)),
])
def test_bad_setitem_names_setitem(cls, call):
    raises(cls, "setitem", lambda: call(nb.tensor(A)))


# ---------------------------------------------------------------------------
# 6. Python numbers that do not fit the dtype: RangeError, an OverflowError
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("op,call,numpy_call", [
    ("tensor", lambda: nb.tensor(2**40, dtype=nb.int32), lambda: np.asarray(2**40, np.int32)),
    ("tensor", lambda: nb.tensor([1, 2**70]), lambda: np.asarray([1, 2**70], np.int64)),
    ("tensor", lambda: nb.tensor([2**64 - 1]), lambda: np.asarray([2**64 - 1], np.int64)),
    ("tensor", lambda: nb.tensor([-1], dtype=nb.uint8), lambda: np.asarray([-1], np.uint8)),
    ("tensor", lambda: nb.tensor(2**1100, dtype=nb.float32),
     lambda: np.asarray(2**1100, np.float32)),
    ("Tensor", lambda: nb.Tensor([2**31], dtype=nb.int32), lambda: np.asarray([2**31], np.int32)),
    ("full", lambda: nb.full(3, 2**33, dtype=nb.int32), lambda: np.full(3, 2**33, np.int32)),
    ("full", lambda: nb.full(3, 2**70), lambda: np.full(3, 2**70, np.int64)),
    ("full", lambda: nb.full((2,), -1, nb.uint8), lambda: np.full((2,), -1, np.uint8)),
    ("full_like", lambda: nb.full_like(nb.zeros(2, dtype=nb.int8), 300),
     lambda: np.full_like(np.zeros(2, np.int8), 300)),
    ("arange", lambda: nb.arange(2**70, 2**70 + 3), None),
    ("arange", lambda: nb.arange(0, 300, dtype=nb.int8), None),  # NumPy wraps silently
    ("arange", lambda: nb.arange(-1, 3, dtype=nb.uint8), None),
    ("linspace", lambda: nb.linspace(0, 1e20, 3, dtype=nb.int32), None),
    ("setitem", lambda: nb.zeros(3, dtype=nb.int32).__setitem__(0, 2**40), None),
    ("setitem", lambda: nb.zeros(3, dtype=nb.int32).__setitem__(slice(None), [1, 2, 2**40]),
     None),
])
def test_numbers_out_of_the_dtype_range_raise_range_error(op, call, numpy_call):
    err = raises(nb.RangeError, op, call)
    assert isinstance(err, OverflowError)
    if numpy_call is not None:
        with pytest.raises(OverflowError):
            numpy_call()
    if op == "Tensor":
        assert "int32" in str(err)


def test_numbers_that_fit_keep_numpy_dtypes():
    assert nb.full(3, 2**40).dtype == nb.int64 == np.full(3, 2**40).dtype
    assert nb.tensor([1, 2**40]).dtype == nb.int64
    same(nb.tensor([1, 2**62]), np.array([1, 2**62]))
    same(nb.arange(2**62, 2**62 + 3), np.arange(2**62, 2**62 + 3))
    same(nb.arange(250, 256, dtype=nb.uint8), np.arange(250, 256, dtype=np.uint8))
    same(nb.arange(-128, 128, 51, dtype=nb.int8), np.arange(-128, 128, 51, dtype=np.int8))
    same(nb.arange(10, 0, -3, dtype=nb.uint8), np.arange(10, 0, -3, dtype=np.uint8))
    same(nb.full(2, 255, nb.uint8), np.full(2, 255, np.uint8))
    # NumPy data keeps NumPy's casts (as np.asarray(a, dtype) and torch.tensor do)
    same(nb.tensor(np.array([300]), dtype=nb.uint8), np.array([300]).astype(np.uint8))
