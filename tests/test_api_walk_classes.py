"""The bad-argument walk over classes: constructors, the methods users call with arguments,
and the functions of nb.nn.init, nb.nn.lora and nb.optim.

The same walk as tests/test_api_walk.py (whose kinds and bad values it extends): each
public class of nb.nn, nb.nn.lora, nb.optim and nb (custom_vjp, custom_jvp, ...) has a
valid sample construction, each method of Module, Optimizer, accumulate, custom_vjp and
custom_jvp that takes arguments a valid sample call on a fresh object, and each parameter
(an optimizer's hyperparameters included: the keys of its `defaults`) a kind. Every bad
value of the kind must raise a NablaError at the call: a layer or an optimizer is checked
when it is made, not at its first forward() or step(). A new public class, method or
hyperparameter without a sample or a kind fails `test_every_public_class_is_walked`.
Only construction runs here (no forward pass, no value read), so the file stays fast.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import nabla_like as nb
from nabla_like import optim
from nabla_like.nn import init, lora

from .test_api_walk import BAD as FUNCTION_BAD
from .test_api_walk import KIND as FUNCTION_KIND
from .test_api_walk import Fresh, S, X, _fresh, f_sum

NAMESPACES = {"nb": nb, "nb.nn": nb.nn, "nb.nn.init": init, "nb.nn.lora": lora, "nb.optim": optim}
KEY = nb.random.key(0)
NAN = float("nan")


def P(*shape):
    """A parameter: a float leaf that requires grad."""
    return nb.tensor(np.ones(shape or (3,), np.float32), requires_grad=True)


def _linear():
    return nb.nn.Linear(2, 2, key=KEY)


def _mlp():
    return nb.nn.Sequential(nb.nn.Linear(4, 4, key=KEY), nb.nn.ReLU())


# Objects whose methods are walked: (class, a fresh instance for each call).
OWNERS = {
    "nb.nn.Module": (nb.nn.Module, _linear),
    "nb.optim.Optimizer": (optim.Optimizer, lambda: optim.SGD([P()], lr=0.1, momentum=0.9)),
    "nb.optim.accumulate": (optim.accumulate, lambda: optim.accumulate(optim.SGD(lr=0.1), 2)),
    "nb.custom_vjp": (nb.custom_vjp, lambda: nb.custom_vjp(f_sum)),
    "nb.custom_jvp": (nb.custom_jvp, lambda: nb.custom_jvp(f_sum)),
}

# ---------------------------------------------------------------------------
# Parameter kinds and their bad values (those of test_api_walk, and these)
# ---------------------------------------------------------------------------
BAD = {
    **FUNCTION_BAD,
    "size": FUNCTION_BAD["int"] + [-1, True],            # a non-negative int: features, channels
    "count": FUNCTION_BAD["int"] + [0, -1, True],        # a positive int: heads, groups, steps
    "dim": [1.5, "0", [0]],                              # an axis the input's rank bounds later
    "prob": FUNCTION_BAD["float"] + [-0.1, 1.5, NAN, True],
    "nonneg": FUNCTION_BAD["float"] + [-1.0, NAN, True],
    "lr": ["x", [1.0], -1.0, NAN, True, None, X(3)],     # a non-negative number (or a schedule)
    "betas": [(1.2, 0.9), (0.9, -0.1), (0.9, 1.0), 0.9, "ab", (0.9,), (0.9, "x"), None],
    "window": FUNCTION_BAD["intseq"] + [0, -1, (1, 0), (1, 1, 1)],   # positive, one per dim
    "offsets": FUNCTION_BAD["intseq"] + [-1, (1, 1, 1)],             # non-negative, one per dim
    "padding": [1.5, "3", "full", (1.5, 1), -1, (1, 1, 1), [[1]], None],
    "int_padding": [1.5, "same", (1.5, 1), -1, (1, 1, 1), None],
    "output_size": [1.5, "3", 0, -1, (1, 0), (1, 1, 1), (None, 1.5)],
    "key": ["abc", 3, 1.5, object(), X(3)],
    "module": [3, "abc", X(3), None],
    "linear": [3, "abc", None, nb.nn.Conv1d(1, 1, 1, key=KEY)],
    "optimizer": [3, "sgd", None, nb.nn.Linear(2, 2, key=KEY)],
    "params": [3, "abc", X(3), [3], ["abc"], [X(3)], [], [{"lr": 0.1}], [{"params": 3}],
               [P(), {"params": [P()]}], [P() * 2.0]],
    "parameters": [3, ["abc"], [3], None],
    "tree": ["abc", {"a": "x"}, object()],
    "grads": ["abc", {"a": "x"}, object()],
    "state": [{}, "abc", {"step": 0}, None, 3, {"step": 0, "slots": []}],
    "state_dict": [3, "abc", None, [("weight", 1.0)]],
    "str": [3, None, b"x"],
    "buffer_name": [3, None, "", "a.b"],
    "opt_tensor": ["abc", 3, [1.0], object()],
    "activation": ["tanh", 3, None],
    "strs": [3, [3], 1.5, ("fc", 3)],
    "callable": FUNCTION_BAD["callable"] + [None],
    "opt_callable": FUNCTION_BAD["callable"],
}

KIND = dict(FUNCTION_KIND)
for kind, names in {
    "size": "in_features out_features num_embeddings embedding_dim in_channels out_channels "
            "num_features num_channels warmup_steps",
    "count": "embed_dim num_heads d_model nhead dim_feedforward groups num_groups rank "
             "block_size every step_size total_steps",
    "dim": "dim start_dim end_dim",
    "prob": "p dropout",
    "nonneg": "eps layer_norm_eps weight_decay momentum max_norm final_lr",
    "lr": "lr schedule value",
    "betas": "betas",
    "bool": "bias batch_first norm_first elementwise_affine affine track_running_stats "
            "quantize nesterov maximize amsgrad centered strict flag",
    "float": "dampening gamma gain a low high param alpha",
    "key": "key",
    "window": "kernel_size stride dilation",
    "offsets": "output_padding",
    "output_size": "output_size",
    "activation": "activation",
    "linear": "base",
    "optimizer": "opt",
    "module": "model module",
    "params": "params",
    "parameters": "parameters",
    "grads": "grads",
    "state": "state",
    "strs": "target",
    "str": "prefix",
    "callable": "fun fwd bwd jvp loss_fn layers",
    "opt_callable": "closure",
    "tensor": "weight codes scales data",
    "choice": "nonlinearity mode",
    "argnums": "nondiff_argnums",
}.items():
    for n in names.split():
        KIND[n] = kind

# ---------------------------------------------------------------------------
# One valid call per public class, function and method
# ---------------------------------------------------------------------------
ACTIVATIONS = "ReLU GELU SiLU Tanh Sigmoid Softplus Mish Identity".split()
CONV = dict(stride=1, padding=0, dilation=1, groups=2, bias=True, output_padding=0, key=KEY,
            kinds={"padding": "padding"})
TRANSFORMER = dict(dim_feedforward=8, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                   batch_first=True, norm_first=False, bias=True, key=KEY)
TREE = {"params": "tree"}
UPDATE = {"grads": "grads", "params": "tree"}

SAMPLES: dict[str, S] = {f"nb.nn.{n}": S() for n in ACTIVATIONS}
SAMPLES.update({
    # nb.nn layers
    "nb.nn.Module": S(),
    "nb.nn.Linear": S(3, 4, bias=True, key=KEY),
    "nb.nn.Conv1d": S(2, 4, 3, **CONV),
    "nb.nn.Conv2d": S(2, 4, 3, **CONV),
    "nb.nn.ConvTranspose2d": S(2, 4, 3, stride=2, padding=0, dilation=1, groups=1, bias=True,
                               output_padding=1, key=KEY, kinds={"padding": "int_padding"}),
    "nb.nn.MaxPool2d": S(2, stride=None, padding=0, dilation=1, ceil_mode=False,
                         kinds={"padding": "int_padding"}),
    "nb.nn.AvgPool2d": S(2, stride=2, padding=1, ceil_mode=True, count_include_pad=True,
                         kinds={"padding": "int_padding"}),
    "nb.nn.AdaptiveAvgPool2d": S((2, None)),
    "nb.nn.Embedding": S(4, 3, padding_idx=0, key=KEY),
    "nb.nn.LayerNorm": S((3,), eps=1e-5, elementwise_affine=True, bias=True),
    "nb.nn.RMSNorm": S(3, eps=None, elementwise_affine=True),
    "nb.nn.GroupNorm": S(2, 4, eps=1e-5, affine=True),
    "nb.nn.BatchNorm1d": S(3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                           kinds={"momentum": "float"}),  # as F.batch_norm's
    "nb.nn.BatchNorm2d": S(3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                           kinds={"momentum": "float"}),
    "nb.nn.Dropout": S(0.5),
    "nb.nn.Sequential": S(nb.nn.Linear(2, 2, key=KEY), nb.nn.ReLU()),
    "nb.nn.LeakyReLU": S(0.01),
    "nb.nn.Softmax": S(dim=-1),
    "nb.nn.LogSoftmax": S(dim=-1),
    "nb.nn.Flatten": S(1, -1),
    "nb.nn.MultiheadAttention": S(4, 2, dropout=0.0, bias=True, batch_first=False, key=KEY),
    "nb.nn.TransformerEncoderLayer": S(4, 2, **TRANSFORMER),
    "nb.nn.TransformerDecoderLayer": S(4, 2, **TRANSFORMER),
    "nb.nn.trainable": S({"a": X()}, kinds={"tree": "skip"}),  # any pytree: any leaf is a leaf
    # nb.nn.lora
    "nb.nn.lora.LoRALinear": S(nb.nn.Linear(4, 4, key=KEY), rank=2, alpha=4.0, dropout=0.0,
                               quantize=False, block_size=64, key=KEY),
    "nb.nn.lora.apply": S(Fresh(_mlp), rank=2, alpha=4.0, dropout=0.0, target=None,
                          quantize=False, block_size=64, key=KEY),
    "nb.nn.lora.freeze": S(Fresh(_mlp)),
    "nb.nn.lora.merge": S(Fresh(_mlp)),
    "nb.nn.lora.unmerge": S(Fresh(_mlp)),
    "nb.nn.lora.quantize_nf4": S(X(4, 16), block_size=64),
    "nb.nn.lora.dequantize_nf4": S(*lora.quantize_nf4(np.ones((4, 16), np.float32), 64), (4, 16)),
    # nb.nn.init
    "nb.nn.init.calculate_gain": S("leaky_relu", 0.2),
    "nb.nn.init.uniform": S(KEY, (2, 3), 0.0, 1.0, dtype=nb.float32),
    "nb.nn.init.normal": S(KEY, (2, 3), 0.0, 1.0, dtype=nb.float32, kinds={"std": "nonneg"}),
    "nb.nn.init.zeros": S(KEY, (2, 3), dtype=nb.float32),
    "nb.nn.init.ones": S(KEY, (2, 3), dtype=nb.float32),
    "nb.nn.init.xavier_uniform": S(KEY, (2, 3), gain=1.0, dtype=nb.float32),
    "nb.nn.init.xavier_normal": S(KEY, (2, 3), gain=1.0, dtype=nb.float32),
    "nb.nn.init.kaiming_uniform": S(KEY, (2, 3), a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                                    dtype=nb.float32),
    "nb.nn.init.kaiming_normal": S(KEY, (2, 3), a=0.0, mode="fan_out", nonlinearity="relu",
                                   dtype=nb.float32),
    "nb.nn.init.trunc_normal": S(KEY, (2, 3), std=1.0, low=-2.0, high=2.0, dtype=nb.float32,
                                 kinds={"std": "nonneg"}),
    # nb.optim: optimizers (their hyperparameters are the keys of `defaults`)
    "nb.optim.SGD": S([P()], lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
                      nesterov=True, maximize=False),
    "nb.optim.Adam": S([P()], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                       amsgrad=False),
    "nb.optim.AdamW": S([P()], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                        amsgrad=True),
    "nb.optim.RMSprop": S([P()], lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                          centered=False, kinds={"alpha": "nonneg"}),
    "nb.optim.accumulate": S(optim.SGD(lr=0.1), 2),
    # nb.optim: schedules, clipping, second order
    "nb.optim.constant": S(0.1),
    "nb.optim.step_decay": S(0.1, 10, gamma=0.5),
    "nb.optim.exponential_decay": S(0.1, 0.9),
    "nb.optim.cosine_decay": S(0.1, 100, final_lr=0.0),
    "nb.optim.linear_warmup": S(0.1, 5),
    "nb.optim.warmup_cosine": S(0.1, 5, 100, final_lr=0.0),
    "nb.optim.global_norm": S([X()], kinds={"tree": "tree"}),
    "nb.optim.clip_by_global_norm": S([X()], 1.0),
    "nb.optim.clip_grad_norm_": S([P()], 1.0),
    "nb.optim.empirical_fisher_diagonal": S(lambda w, x: nb.sum(w * x), X(3), X(2, 3),
                                            kinds=TREE | {"batch": "skip"}),  # vmap's operands
    # nb classes
    "nb.Tensor": S([1.0, 2.0], dtype=nb.float32, requires_grad=False),
    "nb.custom_vjp": S(f_sum, nondiff_argnums=()),
    "nb.custom_jvp": S(f_sum, nondiff_argnums=()),
    "nb.default_device": S("cpu", kinds={"spec": "choice"}),  # a device name
    "nb.no_grad": S(),
    "nb.enable_grad": S(),
    # (bad meshes and specs: tests/test_devices.py::test_bad_meshes_and_specs)
    "nb.Mesh": S(nb.devices()[:1], ("data",), kinds={"devices": "skip", "axis_names": "skip"}),
    "nb.NamedSharding": S(nb.make_mesh((1,), ("data",)), nb.P("data"),
                          kinds={"mesh": "tensor", "spec": "skip"}),
    "nb.PartitionSpec": S("data", None, kinds={"entries": "skip"}),
    # methods (on a fresh OWNERS object per call)
    "nb.nn.Module.train": S(True, kinds={"mode": "bool"}),
    "nb.nn.Module.zero_grad": S(set_to_none=True),
    "nb.nn.Module.requires_grad_": S(True),
    "nb.nn.Module.load_state_dict": S(_linear().state_dict(), strict=True,
                                      kinds={"state": "state_dict"}),
    "nb.nn.Module.register_buffer": S("buf", X(3), kinds={"name": "buffer_name",
                                                          "tensor": "opt_tensor"}),
    "nb.nn.Module.named_modules": S(prefix=""),
    "nb.nn.Module.to": S("cpu"),
    "nb.optim.Optimizer.init": S([X(3)], kinds=TREE),
    "nb.optim.Optimizer.update": S([X(3)], optim.SGD(lr=0.1, momentum=0.9).init([X(3)]), [X(3)],
                                   kinds=UPDATE),
    "nb.optim.Optimizer.step": S(closure=None),
    "nb.optim.Optimizer.zero_grad": S(set_to_none=True),
    "nb.optim.Optimizer.lr": S(0.01),  # the setter: opt.lr = value
    "nb.optim.accumulate.init": S([X(3)], kinds=TREE),
    "nb.optim.accumulate.update": S([X(3)], optim.accumulate(optim.SGD(lr=0.1), 2).init([X(3)]),
                                    [X(3)], kinds=UPDATE),
    "nb.custom_vjp.defvjp": S(lambda x: (x, None), lambda r, g: (g,)),
    "nb.custom_jvp.defjvp": S(lambda p, t: (p[0], t[0])),
})

# Public names with no sample, and why.
NOT_WALKED = {
    "nb.optim.Optimizer": "the base class: its subclasses define `defaults` and the update rule "
                          "(its methods are walked on an SGD)",
    "nb.Device": "the device objects nb.device and nb.devices return",
    "nb.DType": "the dtype objects (nb.float32, ...) are made once by the library",
    "nb.AtIndexer": "made by `x.at`, never by users",
    "nb.CompileStats": "the record nb.compile_stats() returns",
    "nb.GradientCheckResult": "the record nb.check_gradient returns",
    "nb.ProgramCache": "jit's program cache, made by the library",
    "nb.Sharding": "the layout record t.sharding returns (users make NamedShardings)",
    "nb.nn.Module.forward": "a layer's computation: its tensors are checked by the nb ops it calls",
}


# ---------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------
def public_objects() -> dict[str, object]:
    """Qualified name -> class or function: the classes of every namespace, and the
    functions of those test_api_walk does not walk (nb.nn, nb.nn.init, nb.nn.lora, nb.optim).
    One name per object: an alias (nb.P of nb.PartitionSpec) is walked once, under the name
    that has a sample (or the first one)."""
    names: dict[int, list[str]] = {}
    objs = {}
    for prefix, mod in NAMESPACES.items():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # exceptions: a message, as every Exception
            if inspect.isclass(obj) or prefix != "nb":
                names.setdefault(id(obj), []).append(f"{prefix}.{name}")
                objs[id(obj)] = obj
    known = SAMPLES.keys() | NOT_WALKED.keys()
    return {next((q for q in qs if q in known), qs[0]): objs[key] for key, qs in names.items()}


def public_methods() -> list[str]:
    """The public methods (and settable properties) of OWNERS that take arguments."""
    out = []
    for owner, (cls, _) in OWNERS.items():
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(member, property):
                if member.fset is not None:
                    out.append(f"{owner}.{name}")
            elif inspect.isfunction(member) and len(inspect.signature(member).parameters) > 1:
                out.append(f"{owner}.{name}")
    return out


def _optimizer_signature(cls) -> inspect.Signature:
    """An optimizer's (params=None, *, **defaults): its hyperparameters are walked one by one."""
    P_ = inspect.Parameter
    return inspect.Signature([P_("params", P_.POSITIONAL_OR_KEYWORD, default=None)] +
                             [P_(k, P_.KEYWORD_ONLY, default=v) for k, v in cls.defaults.items()])


def target(qualname: str):
    """(signature, function to call) of a sample's name."""
    owner, _, attr = qualname.rpartition(".")
    if owner in OWNERS:
        cls, make = OWNERS[owner]
        if isinstance(inspect.getattr_static(cls, attr), property):
            P_ = inspect.Parameter
            return (inspect.Signature([P_("value", P_.POSITIONAL_ONLY)]),
                    lambda value: setattr(make(), attr, value))
        return (inspect.signature(getattr(make(), attr)),
                lambda *a, **k: getattr(make(), attr)(*a, **k))
    obj = public_objects()[qualname]
    if inspect.isclass(obj) and issubclass(obj, optim.Optimizer):
        return _optimizer_signature(obj), obj
    return inspect.signature(obj), obj


def kind_of(qualname: str, param: inspect.Parameter) -> str | None:
    kinds = SAMPLES[qualname].kinds
    return kinds[param.name] if param.name in kinds else KIND.get(param.name)


def test_every_public_class_is_walked():
    names = list(public_objects()) + public_methods()
    missing = [q for q in names if q not in SAMPLES and q not in NOT_WALKED]
    assert not missing, f"public classes/functions/methods without a sample in the walk: {missing}"
    stale = [q for q in list(SAMPLES) + list(NOT_WALKED) if q not in names]
    assert not stale, f"samples of names that are not public: {stale}"
    unclassified = [f"{q}({p.name})" for q in SAMPLES
                    for p in target(q)[0].parameters.values() if kind_of(q, p) is None]
    assert not unclassified, f"parameters without a kind: {unclassified}"


def _call(fn, args, kwargs):
    out = fn(*map(_fresh, args), **{k: _fresh(v) for k, v in kwargs.items()})
    if inspect.isgenerator(out):
        list(out)
    return out


def _bad_calls(qualname: str, sig: inspect.Signature, sample: S):
    bound = sig.bind(*sample.args, **sample.kwargs)
    for param in sig.parameters.values():
        kind = kind_of(qualname, param)
        if kind in ("skip", None) or param.kind == param.VAR_KEYWORD:
            continue
        bads = list(BAD[kind])
        if kind == "tensor" and param.default is inspect.Parameter.empty:
            bads.append(None)
        for bad in bads:
            arguments = dict(bound.arguments)
            arguments[param.name] = (bad,) if param.kind == param.VAR_POSITIONAL else bad
            ba = inspect.BoundArguments(sig, arguments)
            yield f"{qualname}({param.name}={bad!r})", ba.args, ba.kwargs


@pytest.mark.parametrize("qualname", sorted(SAMPLES))
def test_bad_arguments_raise_nabla_errors(qualname):
    sig, fn = target(qualname)
    sample = SAMPLES[qualname]
    _call(fn, sample.args, sample.kwargs)  # the sample itself is valid
    problems = []
    for desc, args, kwargs in _bad_calls(qualname, sig, sample):
        try:
            _call(fn, args, kwargs)
        except nb.NablaError:
            continue
        except Exception as e:  # noqa: BLE001 - what the walk exists to find
            problems.append(f"{desc}: bare {type(e).__name__}: {str(e)[:80]}")
        else:
            problems.append(f"{desc}: accepted")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# Bad combinations, which no single parameter's table holds
# ---------------------------------------------------------------------------
def _update_with_other_state():
    opt = optim.SGD(lr=0.1, momentum=0.9)
    opt.update([X(3)], opt.init([X(3), X(3)]), [X(3)])


COMBINATIONS = {
    "Conv2d: groups does not divide out_channels": lambda: nb.nn.Conv2d(4, 6, 3, groups=4),
    "Conv2d: groups does not divide in_channels": lambda: nb.nn.Conv2d(3, 6, 3, groups=2),
    "ConvTranspose2d: output_padding not below stride or dilation":
        lambda: nb.nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1),
    "GroupNorm: 3 groups of 4 channels": lambda: nb.nn.GroupNorm(3, 4),
    "MultiheadAttention: embed_dim 6, 4 heads": lambda: nb.nn.MultiheadAttention(6, 4),
    "TransformerEncoderLayer: d_model 6, 4 heads": lambda: nb.nn.TransformerEncoderLayer(6, 4),
    "Embedding: padding_idx past the table": lambda: nb.nn.Embedding(4, 3, padding_idx=4),
    "Embedding: padding_idx before the table": lambda: nb.nn.Embedding(4, 3, padding_idx=-5),
    "LoRALinear: NF4 blocks that do not divide the weight":
        lambda: lora.LoRALinear(nb.nn.Linear(4, 4, key=KEY), quantize=True, block_size=64),
    "lora.apply: no Linear matches": lambda: lora.apply(_mlp(), target="attn"),
    "SGD: nesterov without momentum": lambda: optim.SGD(lr=0.1, nesterov=True),
    "SGD: nesterov with dampening": lambda: optim.SGD(lr=0.1, momentum=0.9, dampening=0.1,
                                                      nesterov=True),
    "SGD: a group's lr": lambda: optim.SGD([{"params": [P()], "lr": -1.0}], lr=0.1),
    "Adam: a group's betas": lambda: optim.Adam([{"params": [P()], "betas": (1.0, 0.9)}]),
    "SGD: no parameter requires grad": lambda: optim.SGD([nb.ones(3), nb.ones(2)], lr=0.1),
    "SGD: an integer parameter": lambda: optim.SGD([P(), nb.tensor([1, 2])], lr=0.1),
    "Optimizer.update: a state for other params": _update_with_other_state,
    "load_state_dict: a value that is not numbers":
        lambda: _linear().load_state_dict({"weight": [["a", "b"], ["c", "d"]], "bias": [0.0, 0.0]}),
    "load_state_dict: a value of another shape":
        lambda: _linear().load_state_dict({"weight": np.ones((3, 2)), "bias": [0.0, 0.0]}),
}


@pytest.mark.parametrize("case", sorted(COMBINATIONS))
def test_bad_combinations_raise_nabla_errors(case):
    with pytest.raises(nb.NablaError):
        COMBINATIONS[case]()


@pytest.mark.parametrize("call,cls,words", [
    (lambda: nb.nn.Linear(2.5, 3), nb.ArgumentError, ["nb.nn.Linear", "in_features", "2.5"]),
    (lambda: nb.nn.Linear(3, -1), nb.ArgumentValueError, ["nb.nn.Linear", "out_features", "-1"]),
    (lambda: nb.nn.Dropout(1.5), nb.ArgumentValueError, ["nb.nn.Dropout", "p", "1.5"]),
    (lambda: nb.nn.Conv2d(2, 2, 0), nb.ArgumentValueError, ["nb.nn.Conv2d", "kernel_size"]),
    (lambda: optim.SGD(lr=-1), nb.ArgumentValueError, ["nb.optim.SGD", "lr", "-1"]),
    (lambda: optim.Adam(betas=(1.2, 0.9)), nb.ArgumentValueError, ["nb.optim.Adam", "betas", "1.2"]),
    (lambda: optim.SGD(nb.ones(3)), nb.ArgumentError, ["nb.optim.SGD", "params", "iterable"]),
    (lambda: lora.LoRALinear(nb.nn.Linear(2, 2, key=KEY), rank=0), nb.ArgumentValueError,
     ["nb.nn.lora.LoRALinear", "rank"]),
    (lambda: _linear().train("no"), nb.ArgumentError, ["nb.nn.Linear.train", "mode"]),
])
def test_errors_name_the_class_the_value_and_the_users_line(call, cls, words):
    with pytest.raises(cls) as info:
        call()
    message = str(info.value)
    for w in words:
        assert w in message, message
    assert "test_api_walk_classes.py" in message, message
