"""nb.nn: functional ops, modules and their two styles, against PyTorch as the oracle
(values, gradients, parameter names, state_dict loading, transformer layers)."""
import numpy as np
import pytest

import nabla_like as nb
import nabla_like.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = np.random.default_rng(0)


def close(a, b, rtol=1e-5, atol=1e-5):
    a = a.numpy() if isinstance(a, nb.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def both(fn_nb, fn_torch, *arrays, grad_args=(0,)):
    """Value of fn and the gradient of sum(fn * weights) in both libraries."""
    out = fn_torch(*[torch.tensor(a, requires_grad=i in grad_args) if a.dtype.kind == "f"
                     else torch.tensor(a) for i, a in enumerate(arrays)])
    wt = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    ts = [torch.tensor(a, requires_grad=(i in grad_args)) if a.dtype.kind == "f" else torch.tensor(a)
          for i, a in enumerate(arrays)]
    t_out = fn_torch(*ts)
    t_grads = torch.autograd.grad((t_out * torch.tensor(wt)).sum(), [ts[i] for i in grad_args])
    nbs = [nb.tensor(a) for a in arrays]
    n_out = fn_nb(*nbs)
    n_grads = nb.grad(lambda *a: nb.sum(fn_nb(*a) * nb.tensor(wt)), argnums=tuple(grad_args))(*nbs)
    close(n_out, t_out)
    for g, tg in zip(n_grads, t_grads):
        close(g, tg, rtol=1e-4, atol=1e-5)


X = rng.standard_normal((4, 6)).astype(np.float32)
IMG = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
LABELS = rng.integers(0, 6, 4).astype(np.int64)
LABELS_IGNORED = np.array([1, -100, 3, 0], np.int64)
PROBS = np.abs(rng.standard_normal((4, 6))).astype(np.float32)
PROBS /= PROBS.sum(1, keepdims=True)
W6 = rng.standard_normal(6).astype(np.float32)
W4 = rng.standard_normal(4).astype(np.float32)


FUNCTIONAL = {
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (6,), w, b),
                   lambda x, w, b: TF.layer_norm(x, (6,), w, b), (X, W6, W6), (0, 1, 2)),
    "rms_norm": (lambda x, w: F.rms_norm(x, (6,), w), lambda x, w: TF.rms_norm(x, (6,), w),
                 (X, W6), (0, 1)),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
                   (IMG, W4, W4), (0, 1, 2)),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
                         (IMG, W4, W4), (0, 1, 2)),
    "cross_entropy": (F.cross_entropy, TF.cross_entropy, (X, LABELS), (0,)),
    "cross_entropy_sum_smooth": (lambda z, t: F.cross_entropy(z, t, "sum", 0.1),
                                 lambda z, t: TF.cross_entropy(z, t, reduction="sum", label_smoothing=0.1),
                                 (X, LABELS), (0,)),
    "cross_entropy_ignore": (lambda z, t: F.cross_entropy(z, t, label_smoothing=0.2),
                             lambda z, t: TF.cross_entropy(z, t, label_smoothing=0.2),
                             (X, LABELS_IGNORED), (0,)),
    "cross_entropy_probs": (lambda z, p: F.cross_entropy(z, p, label_smoothing=0.1),
                            lambda z, p: TF.cross_entropy(z, p, label_smoothing=0.1), (X, PROBS), (0, 1)),
    "cross_entropy_spatial": (F.cross_entropy, TF.cross_entropy,
                              (IMG, rng.integers(0, 4, (2, 3, 3)).astype(np.int64)), (0,)),
    # more classes than the masked-sum path takes: the target picked by a gather
    "cross_entropy_many_classes": (lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1),
                                   lambda z, t: TF.cross_entropy(z, t, label_smoothing=0.1),
                                   (rng.standard_normal((3, 1500)).astype(np.float32),
                                    np.array([1499, -100, 7], np.int64)), (0,)),
    "nll_loss": (lambda z, t: F.nll_loss(F.log_softmax(z, 1), t),
                 lambda z, t: TF.nll_loss(TF.log_softmax(z, 1), t), (X, LABELS_IGNORED), (0,)),
    "bce": (lambda p, t: F.binary_cross_entropy(nb.sigmoid(p), t),
            lambda p, t: TF.binary_cross_entropy(torch.sigmoid(p), t), (X, PROBS), (0,)),
    "bce_logits_pos_weight": (lambda z, t: F.binary_cross_entropy_with_logits(
                                  z, t, pos_weight=nb.tensor(W6 ** 2)),
                              lambda z, t: TF.binary_cross_entropy_with_logits(
                                  z, t, pos_weight=torch.tensor(W6 ** 2)), (X, PROBS), (0, 1)),
    "mse_none": (lambda a, b: F.mse_loss(a, b, "none"), lambda a, b: TF.mse_loss(a, b, reduction="none"),
                 (X, PROBS), (0, 1)),
    "l1": (F.l1_loss, TF.l1_loss, (X, PROBS), (0, 1)),
    "huber": (lambda a, b: F.huber_loss(a, b, delta=0.5), lambda a, b: TF.huber_loss(a, b, delta=0.5),
              (X, PROBS), (0, 1)),
    "smooth_l1": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
                  lambda a, b: TF.smooth_l1_loss(a, b, beta=0.5), (X, PROBS), (0, 1)),
    "kl_div_batchmean": (lambda a, b: F.kl_div(F.log_softmax(a, 1), b, "batchmean"),
                         lambda a, b: TF.kl_div(TF.log_softmax(a, 1), b, reduction="batchmean"),
                         (X, PROBS), (0, 1)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), (X,), (0,)),
    "elu": (F.elu, TF.elu, (X,), (0,)),
    "relu6": (F.relu6, TF.relu6, (X * 5,), (0,)),
    "hardswish": (F.hardswish, TF.hardswish, (X * 3,), (0,)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, (X,), (0,)),
    "linear": (F.linear, TF.linear, (X, rng.standard_normal((3, 6)).astype(np.float32), W6[:3]),
               (0, 1, 2)),
    "embedding_padding": (lambda i, w: F.embedding(i, w, padding_idx=2),
                          lambda i, w: TF.embedding(i, w, padding_idx=2),
                          (np.array([[0, 2], [2, 1]]), rng.standard_normal((4, 3)).astype(np.float32)),
                          (1,)),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_matches_torch(name):
    fn_nb, fn_torch, arrays, grad_args = FUNCTIONAL[name]
    both(fn_nb, fn_torch, *arrays, grad_args=grad_args)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(mask):
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)))
    m = {"none": None, "bool": rng.random((5, 6)) < 0.7,
         "float": rng.standard_normal((3, 5, 6)).astype(np.float32), "causal": None}[mask]
    if mask == "bool":
        m[:, 0] = True  # every query attends somewhere
    causal = mask == "causal"
    both(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, None if m is None else nb.tensor(m),
                                                        is_causal=causal),
         lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, None if m is None else torch.tensor(m),
                                                         is_causal=causal),
         q, k, v, grad_args=(0, 1, 2))


def test_batch_norm_running_statistics_match_torch():
    x = rng.standard_normal((5, 3, 4, 4)).astype(np.float32) * 2 + 1
    ours, theirs = nb.nn.BatchNorm2d(3, momentum=0.2), torch.nn.BatchNorm2d(3, momentum=0.2)
    for _ in range(3):
        close(ours(nb.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4)
    close(ours.running_mean, theirs.running_mean)
    close(ours.running_var, theirs.running_var, rtol=1e-4)
    ours.eval(), theirs.eval()
    close(ours(nb.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4)
    assert [n for n, _ in ours.named_buffers()] == ["running_mean", "running_var"]
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]


def test_batch_norm_statistics_survive_jit_when_the_module_is_returned():
    bn = nb.nn.BatchNorm2d(2)
    x = nb.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32) + 3)
    step = nb.jit(lambda m, x: (m(x), m))
    y, bn2 = step(bn, x)
    close(bn2.running_mean, 0.1 * np.mean(x.numpy(), axis=(0, 2, 3)), rtol=1e-5)
    assert bn.running_mean.numpy().sum() == 0  # the caller's module is left as it was


@pytest.mark.parametrize("classes", [5, 1500])
def test_cross_entropy_of_a_class_out_of_range_is_nan(classes):
    # Both paths (masked sum, gather): an index outside [0, C) other than ignore_index has
    # no class to pick, so its loss is NaN, never the loss of another class.
    z = nb.tensor(rng.standard_normal((4, classes)).astype(np.float32))
    t = nb.tensor(np.array([0, classes, -1, -100], np.int64))
    per = F.cross_entropy(z, t, reduction="none").numpy()
    want = TF.cross_entropy(torch.tensor(z.numpy()[:1]), torch.tensor([0]), reduction="none")
    close(per[:1], want)
    assert np.isnan(per[1]) and np.isnan(per[2]) and per[3] == 0
    assert np.isnan(F.cross_entropy(z, t).item())
    close(F.cross_entropy(z, nb.tensor(np.array([0, 1, -100, 2], np.int64))),
          TF.cross_entropy(torch.tensor(z.numpy()), torch.tensor([0, 1, -100, 2])))


def test_one_hot_and_dropout():
    close(F.one_hot(nb.tensor([0, 2]), 3), np.eye(3)[[0, 2]])
    close(F.one_hot(nb.tensor([1, 3])), np.eye(4)[[1, 3]])
    x = nb.ones((20000,))
    y = F.dropout(nb.random.key(0), x, 0.25).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1.0 / 0.75)} and abs((y == 0).mean() - 0.25) < 0.02
    assert F.dropout(nb.random.key(0), x, 0.25, training=False) is x
    layer = nb.nn.Dropout(0.5)
    a, b = layer(x).numpy(), layer(x).numpy()
    assert (a != b).any()  # eager calls draw fresh masks
    with pytest.raises(nb.NablaError, match="rng="):
        nb.jit(lambda x: layer(x))(x)
    out = nb.jit(lambda x, k: layer(x, rng=k))(x, nb.random.key(1))
    assert abs((out.numpy() == 0).mean() - 0.5) < 0.02
    layer.eval()
    assert layer(x) is x


def _copy_torch(module_nb, module_torch):
    module_nb.load_state_dict({k: v for k, v in module_torch.state_dict().items()})


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first, batch_first):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                              batch_first=batch_first, norm_first=norm_first,
                                              activation="gelu").eval()
    ours = nb.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                         batch_first=batch_first, norm_first=norm_first,
                                         activation="gelu")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_torch(ours, theirs)
    x = rng.standard_normal((2, 5, 16) if batch_first else (5, 2, 16)).astype(np.float32)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)  # True: not attended (PyTorch)
    with torch.no_grad():
        ref = theirs(torch.tensor(x), src_mask=mask, src_key_padding_mask=torch.tensor(pad))
    got = ours(nb.tensor(x), src_mask=nb.tensor(mask.numpy()), src_key_padding_mask=nb.tensor(pad))
    close(got, ref, rtol=1e-4, atol=1e-5)
    got_jit = nb.jit(lambda m, x: m(x))(ours, nb.tensor(x))
    with torch.no_grad():
        close(got_jit, theirs(torch.tensor(x)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_weights_match_torch(average, batch_first):
    torch.manual_seed(2)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).eval()
    ours = nb.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    _copy_torch(ours, theirs)
    q = rng.standard_normal((2, 3, 8) if batch_first else (3, 2, 8)).astype(np.float32)
    kv = rng.standard_normal((2, 5, 8) if batch_first else (5, 2, 8)).astype(np.float32)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    mask = np.triu(np.ones((3, 5), bool), 3)  # True: not attended (PyTorch)
    with torch.no_grad():
        out, w = theirs(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), attn_mask=torch.tensor(mask),
                        key_padding_mask=torch.tensor(pad), average_attn_weights=average)
    got, got_w = ours(nb.tensor(q), nb.tensor(kv), nb.tensor(kv), attn_mask=nb.tensor(mask),
                      key_padding_mask=nb.tensor(pad), average_attn_weights=average)
    close(got, out, rtol=1e-4, atol=1e-5)
    close(got_w, w, rtol=1e-4, atol=1e-6)
    assert got_w.shape == ((2, 3, 5) if average else (2, 2, 3, 5))
    # without the weights: the fused path, the same output
    fused, none = ours(nb.tensor(q), nb.tensor(kv), nb.tensor(kv), attn_mask=nb.tensor(mask),
                       key_padding_mask=nb.tensor(pad), need_weights=False)
    assert none is None
    close(fused, out, rtol=1e-4, atol=1e-5)


def test_transformer_decoder_layer_and_attention_gradients_match_torch():
    torch.manual_seed(1)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    ours = nb.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    _copy_torch(ours, theirs)
    tgt = rng.standard_normal((2, 4, 8)).astype(np.float32)
    mem = rng.standard_normal((2, 6, 8)).astype(np.float32)
    ref = theirs(torch.tensor(tgt), torch.tensor(mem), tgt_is_causal=True,
                 tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4))
    got = ours(nb.tensor(tgt), nb.tensor(mem), tgt_is_causal=True)
    close(got, ref, rtol=1e-4, atol=1e-5)
    ref.sum().backward()
    grads = nb.grad(lambda m: nb.sum(m(nb.tensor(tgt), nb.tensor(mem), tgt_is_causal=True)))(ours)
    named = dict(theirs.named_parameters())
    for name, g in grads.named_parameters():
        close(g, named[name].grad, rtol=1e-3, atol=1e-5)


class MLP(nb.nn.Module):
    def __init__(self, key):
        super().__init__()
        k1, k2 = nb.random.split(key)
        self.fc1 = nb.nn.Linear(5, 16, key=k1)
        self.norm = nb.nn.LayerNorm(16)
        self.fc2 = nb.nn.Linear(16, 3, key=k2)

    def forward(self, x):
        return self.fc2(nb.tanh(self.norm(self.fc1(x))))


def _data():
    x = nb.tensor(rng.standard_normal((32, 5)).astype(np.float32))
    y = nb.tensor(rng.integers(0, 3, 32).astype(np.int32))
    return x, y


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])  # the rest: test_optim.py vs torch
def test_both_styles_train_the_same_model_to_the_same_parameters(opt_name):
    x, y = _data()
    hyper = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
             "Adam": dict(lr=1e-2, amsgrad=True, weight_decay=1e-3),
             "AdamW": dict(lr=1e-2), "RMSprop": dict(lr=1e-3, momentum=0.5, centered=True)}[opt_name]
    Opt = getattr(nb.optim, opt_name)
    imperative = MLP(nb.random.key(3))
    functional = MLP(nb.random.key(3))
    opt = Opt(imperative.parameters(), **hyper)
    fopt = Opt(**hyper)
    state = fopt.init(functional)

    @nb.jit
    def step(model, state, x, y):
        loss, grads = nb.value_and_grad(lambda m: F.cross_entropy(m(x), y))(model)
        model, state = fopt.update(grads, state, model)
        return model, state, loss

    for _ in range(5):
        loss = F.cross_entropy(imperative(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        functional, state, floss = step(functional, state, x, y)
    for (n1, p1), (n2, p2) in zip(imperative.named_parameters(), functional.named_parameters()):
        assert n1 == n2
        close(p1, p2, rtol=1e-4, atol=1e-6)
    assert step.cache_info()["misses"] == 1


def test_module_api_state_dict_and_errors():
    m = MLP(nb.random.key(0))
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "norm.weight",
                                                    "norm.bias", "fc2.weight", "fc2.bias"]
    assert all(p.requires_grad for p in m.parameters())
    sd = {k: v.numpy() * 2 for k, v in m.state_dict().items()}
    before = m.fc1.weight
    m.load_state_dict(sd)
    assert m.fc1.weight is before and m.fc1.weight.requires_grad
    close(m.fc1.weight, sd["fc1.weight"])
    with pytest.raises(nb.NablaError, match="missing keys"):
        m.load_state_dict({"fc1.weight": sd["fc1.weight"]})
    with pytest.raises(nb.NablaError, match="fc2.bias"):
        m.load_state_dict({**sd, "fc2.bias": np.zeros(4)})
    with pytest.raises(nb.NablaError, match=r"linear.*f32\[2,4\].*f32\[16,5\]"):
        m(nb.ones((2, 4)))
    assert "Linear(in_features=5, out_features=16, bias=True)" in repr(m)
    m.eval()
    assert not m.fc1.training
    # vmap and jit over inputs with the module shared
    xs = nb.ones((3, 2, 5))
    close(nb.vmap(m, in_axes=0)(xs), np.stack([m(xs[i]).numpy() for i in range(3)]), rtol=1e-5)


def test_a_modules_tree_structure_follows_its_attributes_after_flattens():
    # A module keeps the layout it was flattened with; each change to its attributes must
    # still show in the next flatten, exactly as a fresh classification would see it.
    import copy
    import pickle
    tree = nb.tree
    m = nb.nn.Linear(3, 2)
    leaves0, td0 = tree.flatten(m)
    assert len(leaves0) == 2 and tree.flatten(m)[1] == td0
    rebuilt = tree.unflatten(td0, [x * 2 for x in leaves0])
    assert type(rebuilt) is nb.nn.Linear and list(rebuilt.__dict__) == list(m.__dict__)
    _, td_rebuilt = tree.flatten(rebuilt)
    assert td_rebuilt == td0 and hash(td_rebuilt) == hash(td0)
    close(rebuilt.weight, leaves0[0].numpy() * 2)
    m.eval()  # a static attribute changed value
    td_eval = tree.flatten(m)[1]
    assert td_eval != td0
    m.train()
    assert tree.flatten(m)[1] == td0
    m.extra = nb.ones(2)  # a new child
    assert len(tree.flatten(m)[0]) == 3
    del m.extra
    m.sizes = [1, 2]  # a static container ...
    leaves, td_sizes = tree.flatten(m)
    assert len(leaves) == 2 and td_sizes != td0
    m.sizes.append(nb.zeros(1))  # ... given a tensor in place becomes a child (its ints too)
    assert [type(x).__name__ for x in tree.flatten(m)[0]] == ["Tensor", "Tensor", "int", "int",
                                                                "Tensor"]
    m.sizes.pop()
    assert len(tree.flatten(m)[0]) == 2
    m.bias = None  # a child replaced by a static value
    assert len(tree.flatten(m)[0]) == 1
    m.register_buffer("codes", nb.tensor([1, 2], dtype=nb.int32))  # integer buffer: static
    assert len(tree.flatten(m)[0]) == 1
    m.register_buffer("scale", nb.ones(1))  # float buffer: a child
    assert len(tree.flatten(m)[0]) == 2
    # copies and pickles carry attributes only, and flatten as the original does
    for other in (copy.copy(m), copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert [x.shape for x in tree.flatten(other)[0]] == [x.shape for x in tree.flatten(m)[0]]
    assert tree.flatten(copy.copy(m))[1] == tree.flatten(m)[1]  # (its statics are m's)
    class Slotted:
        __slots__ = ("tag",)

    class Mixed(nb.nn.Module, Slotted):  # a module may mix in a class with slots
        def __init__(self):
            super().__init__()
            self.w = nb.ones(2)
    mixed = Mixed()
    mixed.tag = "x"
    assert len(tree.flatten(mixed)[0]) == 1
    # what a layout remembers of a module goes with it
    import gc
    import weakref
    from nabla_like.nn import module as module_impl
    big = nb.nn.Linear(2, 2)
    big.table = np.zeros(1000)  # a static attribute
    tree.flatten(big)
    table = weakref.ref(big.table)
    del big
    gc.collect()
    assert table() is None and all(ref() is not None for ref, _ in module_impl._layouts.values())
    seq = nb.nn.Sequential(nb.nn.Linear(2, 2), nb.nn.Tanh())
    a, b = nb.jit(lambda s, x: s(x)), tree.flatten(seq)[1]
    a(seq, nb.ones((1, 2)))
    seq.layers.append(nb.nn.Linear(2, 1))  # a child container grew in place
    assert tree.flatten(seq)[1] != b and a(seq, nb.ones((1, 2))).shape == (1, 1)


def test_sequential_and_activation_modules():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Linear(8, 8),
                                 torch.nn.SiLU(), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))
    ours = nb.nn.Sequential(nb.nn.Linear(4, 8), nb.nn.GELU(), nb.nn.Linear(8, 8), nb.nn.SiLU(),
                            nb.nn.LayerNorm(8), nb.nn.Linear(8, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_torch(ours, theirs)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    close(ours(nb.tensor(x)), theirs(torch.tensor(x)), rtol=1e-4)
    assert len(ours) == 6 and isinstance(ours[0], nb.nn.Linear)


def test_conv_layers_match_torch_with_copied_weights():
    torch.manual_seed(2)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2, ceil_mode=True),
                                 torch.nn.ConvTranspose2d(6, 4, 2, stride=2),
                                 torch.nn.AvgPool2d(3, 2, 1, True, False),
                                 torch.nn.AdaptiveAvgPool2d(3), torch.nn.Flatten(), torch.nn.Linear(36, 2))
    ours = nb.nn.Sequential(nb.nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3), nb.nn.ReLU(),
                            nb.nn.MaxPool2d(2, ceil_mode=True), nb.nn.ConvTranspose2d(6, 4, 2, stride=2),
                            nb.nn.AvgPool2d(3, 2, 1, True, False), nb.nn.AdaptiveAvgPool2d(3),
                            nb.nn.Flatten(),
                            nb.nn.Linear(36, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(t.shape) for t in ours.state_dict().values()] == \
        [tuple(t.shape) for t in theirs.state_dict().values()]
    _copy_torch(ours, theirs)
    x = rng.standard_normal((2, 3, 17, 17)).astype(np.float32)  # odd: the ceil_mode windows
    ref = theirs(torch.tensor(x))
    close(ours(nb.tensor(x)), ref, rtol=1e-4, atol=1e-5)
    ref.sum().backward()
    grads = nb.grad(lambda m: nb.sum(m(nb.tensor(x))))(ours)
    named = dict(theirs.named_parameters())
    for name, g in grads.named_parameters():
        close(g, named[name].grad, rtol=1e-3, atol=1e-4)


def test_a_small_cnn_learns_a_synthetic_task():
    # 4 classes: which quadrant of an 8x8 image holds a bright 2x2 blob, in noise.
    data = np.random.default_rng(5)
    n = 256
    labels = data.integers(0, 4, n)
    imgs = data.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    for i, c in enumerate(labels):
        r, q = divmod(c, 2)
        y0, x0 = 4 * r + data.integers(0, 3), 4 * q + data.integers(0, 3)
        imgs[i, 0, y0:y0 + 2, x0:x0 + 2] += 2.0
    x, y = nb.tensor(imgs), nb.tensor(labels.astype(np.int32))
    model = nb.nn.Sequential(nb.nn.Conv2d(1, 8, 3, padding=1, key=nb.random.key(0)), nb.nn.ReLU(),
                             nb.nn.MaxPool2d(2), nb.nn.Conv2d(8, 8, 3, padding=1, key=nb.random.key(1)),
                             nb.nn.ReLU(), nb.nn.MaxPool2d(2), nb.nn.Flatten(),
                             nb.nn.Linear(32, 4, key=nb.random.key(2)))
    opt = nb.optim.Adam(lr=1e-2)
    state = opt.init(model)

    @nb.jit
    def step(model, state):
        loss, grads = nb.value_and_grad(lambda m: F.cross_entropy(m(x), y))(model)
        model, state = opt.update(grads, state, model)
        return model, state, loss
    for _ in range(150):
        model, state, loss = step(model, state)
    accuracy = float(nb.mean(nb.cast(nb.argmax(model(x), axis=1) == y, nb.float32)).item())
    assert accuracy > 0.95, (accuracy, float(loss.item()))
