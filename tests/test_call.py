"""The `call` primitive: eager transforms and backward() record their rewritten graph as
one node; its rules differentiate and batch the sub-graph; lowering inlines it."""
import numpy as np

import nabla_like as nb
from nabla_like.autograd import pending_graph
from nabla_like.ops.call import call, call_p
from nabla_like.transforms.graphs import trace_flat


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b), rtol=rtol, atol=atol)


def test_an_eager_transform_records_one_call_node():
    x = nb.tensor([0.5, 1.0, 2.0])
    g = nb.grad(lambda x: nb.sum(nb.sin(x) * x))(x)
    close(g, np.cos([0.5, 1.0, 2.0]) * [0.5, 1.0, 2.0] + np.sin([0.5, 1.0, 2.0]))


def test_pending_call_nodes_print_their_graph_nested(capsys):
    x = nb.tensor([1.0, 2.0]).requires_grad_()
    loss = nb.sum(nb.tanh(x) * 3.0)
    nb.backward(loss, show_graph=True)
    listing = capsys.readouterr().out
    assert "call[graph=<graph of" in listing and "\n    graph(" in listing
    close(x.grad, 3.0 * (1 - np.tanh([1.0, 2.0]) ** 2))


def test_same_structure_shares_one_program():
    f = nb.value_and_grad(lambda w: nb.sum(nb.exp(w) * w))
    w = nb.tensor(np.linspace(0, 1, 9, dtype=np.float32))
    f(w)[1].numpy()
    before = nb.compile_stats()
    for _ in range(5):
        v, g = f(w)
        close(g, np.exp(np.linspace(0, 1, 9)) * (1 + np.linspace(0, 1, 9)))
    d = nb.compile_stats() - before
    assert d.fused_compiles + d.kernel_compiles <= 1


def test_backward_through_an_eager_grad_uses_the_call_vjp():
    w = nb.tensor([1.0, -2.0, 0.5]).requires_grad_()
    g = nb.grad(lambda w: nb.sum(w ** 3))(w)          # 3 w^2, a call node's output
    assert g.requires_grad
    nb.sum(g * g).backward()                           # d/dw 9 sum(w^4) = 36 w^3
    close(w.grad, 36 * np.array([1.0, -2.0, 0.5]) ** 3)


def test_double_backward_with_create_graph():
    w = nb.tensor([1.0, 2.0]).requires_grad_()
    nb.sum(w ** 3).backward(create_graph=True)
    g = w.grad                                         # 3 w^2, differentiable
    close(g, [3.0, 12.0])
    w.grad = None
    nb.sum(g).backward()                               # 6 w
    close(w.grad, [6.0, 12.0])


def test_concrete_jvp_through_an_inner_eager_grad():
    def f(x):
        inner = nb.grad(lambda x: nb.sum(nb.sin(x)))(x)   # cos x, recorded as one node
        return inner * 2.0 if nb.sum(x) > 0 else inner
    x = nb.tensor([0.2, 0.3])
    y, t = nb.jvp(f, (x,), (nb.tensor([1.0, -1.0]),))
    close(y, 2 * np.cos([0.2, 0.3]))
    close(t, -2 * np.sin([0.2, 0.3]) * [1.0, -1.0])


def _graph_of(fn, *avals):
    return trace_flat(lambda *a: [fn(*a)], list(avals))


def test_call_batching_rule_matches_the_examples():
    x = nb.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    y = nb.tensor(np.linspace(0, 2, 4, dtype=np.float32))
    graph = _graph_of(lambda a, b: nb.sin(a) * b + 1.0, y._value.aval, y._value.aval)
    outs, out_bdims = call_p.batch((x, y), (0, None), graph=graph.closed())
    assert out_bdims == (0,)
    want = np.sin(np.linspace(-1, 1, 12).reshape(3, 4)) * np.linspace(0, 2, 4) + 1
    close(outs[0], want)


def test_call_jvp_and_vjp_rules_against_closed_forms():
    x = nb.tensor([0.1, 0.7])
    graph = _graph_of(lambda a: nb.exp(a) * a, x._value.aval)
    (out,) = call(graph, [x])
    close(out, np.exp([0.1, 0.7]) * [0.1, 0.7])
    deriv = np.exp([0.1, 0.7]) * (1 + np.array([0.1, 0.7]))
    (t,) = call_p.jvp((x,), (nb.tensor([1.0, 2.0]),), (out,), graph=graph.closed())
    close(t, deriv * [1.0, 2.0])
    (ct,) = call_p.vjp([nb.tensor([3.0, -1.0])], (x,), (out,), graph=graph.closed())
    close(ct, deriv * [3.0, -1.0])


def test_call_lowers_inline():
    import nabla_like.lowering as lowering
    x = nb.tensor([1.0, 2.0])
    graph = _graph_of(lambda a: nb.tanh(a) + 2.0, x._value.aval)
    outer = trace_flat(lambda a: call(graph, [a]), [x._value.aval])
    text = lowering.lower_graph(outer)
    assert "stablehlo.tanh" in text and "call" not in text.replace("func.call", "")


def test_pending_graph_names_the_call():
    x = nb.tensor([1.0, 2.0])
    v, g = nb.value_and_grad(lambda x: nb.sum(x * x))(x)
    assert "call" not in pending_graph([v, g])  # already computed at the step's end
    close(g, [2.0, 4.0])
