"""The bad-argument walk: every public callable, every parameter, a table of bad values.

Each public function (from the `__all__` of nb, nb.linalg, nb.random, nb.nn.functional) has
a valid sample call below. For each of its parameters, the walk swaps in the bad values of
the parameter's kind (a float axis, a string shape, a list flag...) and asserts the call
raises a NablaError: never a bare Python error from inside the library, never a silent
acceptance. A new public function without a sample, or a parameter without a kind, fails
`test_every_public_callable_is_walked`: validation is part of adding a function.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import nabla_like as nb
import nabla_like.nn.functional as F

NAMESPACES = {"nb": nb, "nb.linalg": nb.linalg, "nb.random": nb.random, "nb.nn.functional": F}


def public_callables() -> dict[str, object]:
    """Qualified name -> callable, one name per object: aliases are walked once, under the
    name that has a sample (or the first one)."""
    names: dict[int, list[str]] = {}
    objs = {}
    for prefix, mod in NAMESPACES.items():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or inspect.isclass(obj) or not callable(obj):
                continue
            names.setdefault(id(obj), []).append(f"{prefix}.{name}")
            objs[id(obj)] = obj
    return {next((q for q in qs if q in SAMPLES), qs[0]): objs[key] for key, qs in names.items()}


class S:
    """A valid sample call; `then` are the arguments the returned function is called with
    (transforms); `kinds` overrides the kind of a parameter for this function."""

    def __init__(self, *args, then=None, kinds=None, **kwargs):
        self.args, self.kwargs, self.then, self.kinds = args, kwargs, then, kinds or {}


class Fresh:
    """An argument built anew for every call (a loss that backward() consumes)."""

    def __init__(self, make):
        self.make = make


def X(*shape, dtype=nb.float32):
    return nb.ones(shape or (2, 3), dtype=dtype)


MESH = nb.make_mesh((1,), ("data",))


def f_sum(x):
    return nb.sum(x * x)


def f_id(x):
    return x


KEY = nb.random.key(0)
I32 = nb.tensor([0, 1])

# ---------------------------------------------------------------------------
# Parameter kinds and their bad values
# ---------------------------------------------------------------------------
BAD = {
    "tensor": [object(), "abc", {"a": 1}],
    "axis": [1.5, "0", 99, [0.5]],
    "axes": [1.5, "0", (0, 0.5), 99],
    "bool": ["yes", [True], 2.5],
    "int": [1.5, "3", [2]],
    "intseq": [1.5, "3", (1.5, 1), [[1]]],
    "float": ["x", [1.0], object()],
    "dtype": ["float13", 3.5, object()],
    "shape": [(None,), "23", (2.0, 3), (-2, 3), (1 << 31, 1 << 31)],
    "choice": ["no-such-choice", 3],
    "callable": [3, "f"],
    "argnums": [1.5, "0", 99],
    "pad_width": [1.5, "3", (1.5, 1), -1],
    "device": ["tpu", "cpu:99", "cpu:x", 5, ":0"],
    "shardings": [3, "data", [object()], (None, 1.5)],
}

KIND = {}
for kind, names in {
    "tensor": "x y a b input target bias w weight key lhs rhs indices update src pred condition "
              "query value running_mean running_var pos_weight attn_mask k1 k2 x1 x2 data "
              "fill_value tensors index init_val operand",
    "axis": "axis dim axis1 axis2 source destination start_dim end_dim dimension",
    "axes": "axes",
    "bool": "keepdims has_aux reverse endpoint retain_graph create_graph upper unit_diagonal "
            "left_side transpose_a full_matrices compute_uv symmetrize_input training "
            "return_stats log_target is_causal count_include_pad ceil_mode prevent_cse requires_grad weak "
            "set_to_none verbose show_graph holomorphic allow_int equal_nan descending stable largest "
            "sparse",
    "int": "n m k groups num chunks num_classes num_groups length max_steps cache_size "
           "padding_idx ignore_index feature_group_count batch_group_count seed order",
    "intseq": "stride dilation kernel_size output_padding output_size window_strides "
              "window_dimensions base_dilation window_dilation lhs_dilation rhs_dilation reps "
              "start_indices slice_sizes limit_indices strides starts stops steps "
              "broadcast_dimensions interior",
    "float": "eps rtol atol tol negative_slope alpha min_val max_val rate dropout_p momentum "
             "delta beta label_smoothing scale mean std ddof correction",
    "dtype": "dtype",
    "shape": "shape normalized_shape",
    "choice": "reduction approximate mode method trans platform",
    "callable": "fun f true_fn false_fn body_fn cond_fn printer",
    "argnums": "argnums static_argnums donate_argnums",
    "device": "device spec",
    "shardings": "in_shardings out_shardings",
}.items():
    for n in names.split():
        KIND[n] = kind

# Parameters checked elsewhere or with no wrong value of their own (pytrees of tensors,
# varargs of operands): "skip" with the reason in the comment.
SKIP_PARAMS = {
    "args", "kwargs", "operands", "xs", "primals", "tangents", "init", "tree", "trees",
    "outputs", "cotangents",  # pytrees of tensors: their leaves are checked as tensors
    "more", "dims",  # the varargs spelling of shape / axes, checked with them
    "names", "name",  # checkpoint names: any string
}

# ---------------------------------------------------------------------------
# One valid call per public callable
# ---------------------------------------------------------------------------
UNARY = ("abs acos acosh arcsin arcsinh arctan arctanh ceil cos cosh erf erfinv exp exp2 expm1 "
         "floor isfinite isinf isnan log log1p mish neg reciprocal relu round rsqrt sigmoid "
         "sign silu sin sinh softplus sqrt square tan tanh copy detach logical_not").split()
BINARY = ("add arctan2 div equal floor_divide greater greater_equal less less_equal logaddexp "
          "logical_and logical_or logical_xor maximum minimum mod mul not_equal pow sub").split()
INT_BINARY = "bitwise_and bitwise_or bitwise_xor left_shift right_shift".split()
REDUCE = "all any argmax argmin logsumexp max mean min prod reduce_sum".split()

SAMPLES: dict[str, S] = {}
SAMPLES.update({f"nb.{n}": S(X()) for n in UNARY})
SAMPLES.update({f"nb.{n}": S(X(), X()) for n in BINARY})
SAMPLES.update({f"nb.{n}": S(I32, I32) for n in INT_BINARY})
SAMPLES.update({f"nb.{n}": S(X(), axis=1, keepdims=False) for n in REDUCE})
SAMPLES["nb.bitwise_not"] = S(I32)
SAMPLES.update({
    "nb.adaptive_avg_pool2d": S(X(1, 1, 4, 4), (2, 2)),
    "nb.arange": S(0, 5, 1, dtype=nb.int32, kinds={"start": "float", "stop": "float",
                                                   "step": "float"}),
    "nb.asarray": S(np.ones(3), dtype=nb.float32),
    "nb.avg_pool2d": S(X(1, 1, 4, 4), 2, stride=2, padding=0, ceil_mode=False, count_include_pad=True,
                       kinds={"padding": "intseq"}),
    "nb.backward": S(Fresh(lambda: nb.sum(nb.tensor([1.0], requires_grad=True) * 2.0)),
                     kinds={"outputs": "tensor"}, retain_graph=None, create_graph=False, show_graph=False),
    "nb.block_until_ready": S(X()),
    "nb.broadcast_in_dim": S(X(3), (2, 3), (1,)),
    "nb.broadcast_to": S(X(3), (2, 3)),
    "nb.cast": S(X(), nb.int32),
    "nb.check_gradient": S(f_sum, X(3), eps=1e-3, atol=1e-2, rtol=1e-2, verbose=False,
                           kinds={"modes": "skip"}),  # a sequence of "fwd"/"rev", as check_grads
    "nb.check_gradients": S(f_sum, [X(3)]),
    "nb.checkpoint": S(f_sum, prevent_cse=True, static_argnums=(), then=(X(3),),
                       kinds={"policy": "callable"}),
    "nb.checkpoint_name": S(X(), "h"),
    "nb.chunk": S(X(4), 2, axis=0),
    "nb.clear_caches": S(),
    "nb.clip": S(X(), 0.0, 1.0, kinds={"min": "tensor", "max": "tensor"}),
    "nb.compile_stats": S(),
    "nb.concatenate": S([X(), X()], axis=0),
    "nb.cond": S(True, f_id, f_id, X()),
    "nb.conv1d": S(X(1, 1, 5), X(1, 1, 3), None, 1, 0, 1, 1, kinds={"padding": "intseq"}),
    "nb.conv2d": S(X(1, 1, 5, 5), X(1, 1, 3, 3), None, 1, 0, 1, 1, kinds={"padding": "intseq"}),
    "nb.conv3d": S(X(1, 1, 4, 4, 4), X(1, 1, 3, 3, 3), None, 1, 0, 1, 1,
                   kinds={"padding": "intseq"}),
    "nb.conv2d_transpose": S(X(1, 1, 3, 3), X(1, 1, 3, 3), None, 1, 0, 0, 1, 1,
                             kinds={"padding": "intseq"}),
    "nb.conv_general_dilated": S(X(1, 1, 5, 5), X(1, 1, 3, 3), window_strides=(1, 1),
                                 padding=((0, 0), (0, 0)), lhs_dilation=(1, 1),
                                 rhs_dilation=(1, 1), kinds={"padding": "skip",
                                                             "dimension_numbers": "skip"}),
    "nb.convert": S(X(), nb.float64, False),
    "nb.cumprod": S(X(), axis=1, reverse=False),
    "nb.cumsum": S(X(), axis=1, reverse=False),
    "nb.debug": S(f_sum, then=(X(3),)),
    "nb.devices": S("cpu"),
    "nb.device": S("cpu:0"),
    "nb.device_count": S("cpu"),
    "nb.set_default_device": S(None, kinds={"spec": "skip"}),  # None resets; see test_devices
    "nb.get_default_device": S(),
    "nb.make_mesh": S((1,), ("data",), devices=None, kinds={"axis_names": "skip", "devices": "skip"}),
    "nb.shard": S(X(), MESH, nb.P(), kinds={"mesh": "tensor", "spec": "skip"}),
    "nb.with_sharding_constraint": S(X(), nb.NamedSharding(MESH, nb.P()), kinds={"sharding": "tensor"}),
    "nb.dot": S(X(3), X(3)),
    "nb.dot_general": S(X(2, 3), X(3, 4), ((1,), (0,)), ((), ()),
                        kinds={"contracting": "skip", "batch": "skip"}),
    "nb.dynamic_slice": S(X(4, 4), (1, 1), (2, 2), kinds={"start_indices": "skip"}),
    "nb.dynamic_update_slice": S(X(4, 4), X(2, 2), (1, 1), kinds={"start_indices": "skip"}),
    "nb.einsum": S("ij,jk->ik", X(2, 3), X(3, 2), kinds={"subscripts": "choice"}),
    "nb.eval_shape": S(f_sum, X(3)),
    "nb.expand_dims": S(X(), 0),
    "nb.eye": S(3, 3, 0, dtype=nb.float32),
    "nb.finfo": S(nb.float32),
    "nb.iinfo": S(nb.int32),
    "nb.finite_diff": S(f_sum, X(3), method="central", eps=1e-3),
    "nb.flatten": S(X(2, 3, 4), 0, -1),
    "nb.flip": S(X(), axis=0),
    "nb.fori_loop": S(0, 3, lambda i, c: c + 1.0, X(), kinds={"lower": "int", "upper": "int",
                                                               "init_val": "skip"}),
    "nb.from_dlpack": S(np.ones(3)),
    "nb.full": S((2, 3), 1.5, dtype=nb.float32),
    "nb.full_like": S(X(), 1.5, dtype=nb.float32),
    "nb.gather": S(X(), 1, nb.tensor([[0], [1]])),
    "nb.gaussian": S((2, 3), 0.0, 1.0, dtype=nb.float32, kinds={"mean": "tensor",
                                                                "std": "tensor"}),
    "nb.gelu": S(X(), approximate=False, kinds={"approximate": "bool"}),
    "nb.getitem": S(X(), 0, kinds={"index": "skip"}),
    "nb.grad": S(f_sum, argnums=0, has_aux=False, then=(X(3),),
                 kinds={"wrt": "skip", "reduce_axes": "skip", "mode": "skip"}),
    "nb.value_and_grad": S(f_sum, argnums=0, has_aux=False, then=(X(3),),
                           kinds={"wrt": "skip", "reduce_axes": "skip", "mode": "skip"}),
    "nb.grad_enabled": S(),
    "nb.hessian": S(f_sum, argnums=0, has_aux=False, then=(X(3),)),
    "nb.hvp": S(f_sum, (X(3),), (X(3),)),
    "nb.identity": S(3, dtype=nb.float32),
    "nb.inner": S(X(3), X(3)),
    "nb.integer_pow": S(X(), 3),
    "nb.iota": S((2, 3), 0, dtype=nb.int32),
    "nb.jacfwd": S(f_id, argnums=0, has_aux=False, then=(X(3),)),
    "nb.jacobian": S(f_id, argnums=0, has_aux=False, then=(X(3),)),
    "nb.jacrev": S(f_id, argnums=0, has_aux=False, then=(X(3),)),
    "nb.jit": S(f_sum, static_argnums=(), then=(X(3),),
                kinds={"static_argnames": "skip", "cache_size": "int"}),
    "nb.jvp": S(f_sum, (X(3),), (X(3),), has_aux=False),
    "nb.linearize": S(f_sum, X(3)),
    "nb.linspace": S(0.0, 1.0, 5, endpoint=True, dtype=nb.float32,
                     kinds={"start": "float", "stop": "float"}),
    "nb.log_softmax": S(X(), axis=-1),
    "nb.softmax": S(X(), axis=-1),
    "nb.make_graph": S(f_sum, static_argnums=(), then=(X(3),)),
    "nb.map": S(lambda r: r * 2.0, X()),
    "nb.matmul": S(X(2, 3), X(3, 2)),
    "nb.max_pool2d": S(X(1, 1, 4, 4), 2, stride=2, padding=0, dilation=1, ceil_mode=True,
                       kinds={"padding": "intseq"}),
    "nb.moveaxis": S(X(), 0, 1),
    "nb.ones": S(2, 3, dtype=nb.float32),
    "nb.zeros": S(2, 3, dtype=nb.float32),
    "nb.rand": S(2, 3, dtype=nb.float32),
    "nb.randn": S(2, 3, dtype=nb.float32),
    "nb.ones_like": S(X(), dtype=nb.float32),
    "nb.zeros_like": S(X(), dtype=nb.float32),
    "nb.optimization_barrier": S(X(), X()),
    "nb.outer": S(X(3), X(3)),
    "nb.pad": S(X(), 1, mode="constant", constant_values=0.0,
                kinds={"pad_width": "pad_width", "constant_values": "tensor",
                       "paddings": "skip", "value": "skip"}),
    "nb.pad_general": S(X(), 0.0, (1, 1), (1, 1), (0, 0),
                        kinds={"low": "intseq", "high": "intseq"}),
    "nb.permute": S(X(), 1, 0, kinds={"order": "skip"}),  # the alias of dims
    "nb.promote_types": S(nb.float32, nb.int32, kinds={"a": "dtype", "b": "dtype"}),
    "nb.realize_all": S(X()),
    "nb.reduce_window_max": S(X(1, 4, 4), (1, 2, 2), (1, 2, 2),
                              kinds={"padding": "skip"}),
    "nb.reduce_window_sum": S(X(1, 4, 4), (1, 2, 2), (1, 2, 2),
                              kinds={"padding": "skip"}),
    "nb.repeat": S(X(), 2, axis=0, kinds={"repeats": "intseq"}),
    "nb.reshape": S(X(), (3, 2)),
    "nb.save_any_names_but_these": S("h"),
    "nb.save_only_these_names": S("h"),
    "nb.scan": S(lambda c, x: (c + x, c), X(3), X(2, 3), length=2, reverse=False, unroll=1,
                 kinds={"unroll": "int"}),
    "nb.scatter_add": S(X(), 1, nb.tensor([[0], [1]]), X(2, 1)),
    "nb.seed": S(0),
    "nb.select": S(X() > 0, X(), X()),
    "nb.slice_tensor": S(X(), (0, 0), (2, 2), (1, 1), (0, 1)),
    "nb.split": S(X(4), 2, axis=0, kinds={"indices_or_sections": "intseq", "num_splits": "int"}),
    "nb.squeeze": S(X(1, 3), axis=0),
    "nb.stack": S([X(), X()], axis=0),
    "nb.static_slice": S(X(), (0, 0), (2, 2), (1, 1)),
    "nb.std": S(X(), axis=1, ddof=0, keepdims=False),
    "nb.var": S(X(), axis=1, ddof=0, keepdims=False),
    "nb.swap_axes": S(X(), 0, 1),
    "nb.switch": S(0, [f_id, f_id], X(), kinds={"branches": "skip", "index": "int"}),
    "nb.take": S(X(), I32, axis=1),
    "nb.take_along_axis": S(X(), nb.tensor([[0], [1]]), axis=1),
    "nb.tensor": S([1.0, 2.0], dtype=nb.float32, requires_grad=False),
    "nb.tensordot": S(X(2, 3), X(3, 2), axes=1),
    "nb.tile": S(X(), (2, 1)),
    "nb.transpose": S(X(), (1, 0)),
    "nb.tril": S(X(3, 3), k=0),
    "nb.triu": S(X(3, 3), k=0),
    "nb.uniform": S((2, 3), 0.0, 1.0, dtype=nb.float32, kinds={"low": "tensor",
                                                               "high": "tensor"}),
    "nb.unsqueeze": S(X(), 0, kinds={"axis": "skip"}),  # the alias of dim: tested with it
    "nb.vdot": S(X(3), X(3)),
    "nb.vjp": S(f_sum, X(3), has_aux=False),
    "nb.vmap": S(f_sum, in_axes=0, out_axes=0, axis_size=None, then=(X(2, 3),),
                 kinds={"in_axes": "skip", "out_axes": "skip", "axis_size": "int"}),
    "nb.where": S(X() > 0, X(), X(), kinds={"size": "int", "fill_value": "skip"}),
    "nb.while_loop": S(lambda c: c < 3.0, lambda c: c + 1.0, nb.tensor(0.0), max_steps=None),
    "nb.zero_grad": S(X(), set_to_none=True),
    # NumPy / JAX / PyTorch / Nabla spellings
    "nb.allclose": S(X(), X(), rtol=1e-5, atol=1e-8, equal_nan=False),
    "nb.isclose": S(X(), X(), rtol=1e-5, atol=1e-8, equal_nan=False),
    "nb.array_equal": S(X(), X(), equal_nan=False, kinds={"a1": "tensor", "a2": "tensor"}),
    "nb.array": S([1.0, 2.0], dtype=nb.float32, copy=True, ndmin=0,
                  kinds={"object": "tensor", "copy": "skip", "ndmin": "int"}),  # copy: None too
    "nb.constant": S([1.0, 2.0], dtype=nb.float32, kinds={"value": "tensor"}),
    "nb.sort": S(X(), axis=-1, descending=False, stable=True),
    "nb.argsort": S(X(), axis=-1, descending=False, stable=True),
    "nb.topk": S(X(), 2, axis=-1, largest=True),
    "nb.clamp": S(X(), 0.0, 1.0, kinds={"min": "tensor", "max": "tensor"}),
    "nb.vstack": S([X(), X()], kinds={"tup": "tensor"}),
    "nb.hstack": S([X(), X()], kinds={"tup": "tensor"}),
    "nb.dstack": S([X(), X()], kinds={"tup": "tensor"}),
    "nb.column_stack": S([X(3), X(3)], kinds={"tup": "tensor"}),
    "nb.ravel": S(X()),
    "nb.diag": S(X(3), k=0, kinds={"v": "tensor"}),
    "nb.diagonal": S(X(3, 3), offset=0, axis1=0, axis2=1, kinds={"offset": "int"}),
    "nb.trace": S(X(3, 3), offset=0, axis1=0, axis2=1, kinds={"offset": "int"}),
    "nb.meshgrid": S(X(2), X(3), indexing="xy", sparse=False, kinds={"indexing": "choice"}),
    "nb.nonzero": S(X(), size=None, fill_value=None, kinds={"size": "int"}),
    "nb.unique": S(X(), return_index=False, return_inverse=False, return_counts=False,
                   axis=None, size=None, kinds={"return_index": "bool", "return_inverse": "bool",
                                                "return_counts": "bool", "equal_nan": "bool",
                                                "size": "int"}),
    "nb.unbind": S(X(), 0),
    "nb.slice_update": S(X(4, 4), X(2, 2), (1, 1), kinds={"start": "skip", "size": "skip"}),
    "nb.check_grads": S(f_sum, (X(3),), order=1, modes=("fwd", "rev"),
                        kinds={"modes": "skip", "args": "skip"}),
    "nb.tree_flatten": S({"a": X()}, kinds={"is_leaf": "callable"}),
    "nb.tree_leaves": S({"a": X()}, kinds={"is_leaf": "callable"}),
    "nb.tree_structure": S({"a": X()}, kinds={"is_leaf": "callable"}),
    "nb.tree_map": S(f_id, {"a": X()}, kinds={"fn": "callable", "rest": "skip",
                                               "is_leaf": "callable"}),
    "nb.tree_unflatten": S(nb.tree_structure({"a": 1}), [X()],
                           kinds={"treedef": "skip", "leaves": "skip"}),
    "nb.register_pytree_node": S(type("Pair", (), {}), lambda p: ((), None), lambda a, c: None,
                                 kinds={"nodetype": "skip", "flatten_fn": "callable",
                                        "unflatten_fn": "callable"}),
    # nb.linalg
    "nb.linalg.cholesky": S(nb.eye(3), upper=False),
    "nb.linalg.det": S(nb.eye(3)),
    "nb.linalg.eigh": S(nb.eye(3), symmetrize_input=True),
    "nb.linalg.eigvalsh": S(nb.eye(3)),
    "nb.linalg.inv": S(nb.eye(3)),
    "nb.linalg.lu": S(nb.eye(3)),
    "nb.linalg.matrix_power": S(nb.eye(3), 2),
    "nb.linalg.matrix_rank": S(nb.eye(3), tol=None),
    "nb.linalg.norm": S(X(), ord=None, axis=None, keepdims=False,
                        kinds={"ord": "choice", "axis": "axes"}),
    "nb.linalg.pinv": S(nb.eye(3), rtol=None),
    "nb.linalg.qr": S(nb.eye(3), mode="reduced"),
    "nb.linalg.slogdet": S(nb.eye(3)),
    "nb.linalg.solve": S(nb.eye(3), X(3, 2)),
    "nb.linalg.solve_triangular": S(nb.eye(3), X(3, 2), trans=0, lower=False,
                                    unit_diagonal=False, kinds={"lower": "bool"}),
    "nb.linalg.svd": S(nb.eye(3), full_matrices=True, compute_uv=True),
    "nb.linalg.triangular_solve": S(nb.eye(3), X(3, 2), left_side=True, lower=True,
                                    transpose_a=False, unit_diagonal=False,
                                    kinds={"lower": "bool"}),
    # nb.random
    "nb.random.PRNGKey": S(0),
    "nb.random.bernoulli": S(KEY, 0.5, (2, 3), kinds={"p": "tensor"}),
    "nb.random.bits": S(KEY, (2, 3), dtype=nb.uint32),
    "nb.random.fold_in": S(KEY, 3),
    "nb.random.normal": S(KEY, (2, 3), dtype=nb.float32),
    "nb.random.randint": S(KEY, (2, 3), 0, 5, dtype=nb.int32,
                           kinds={"minval": "tensor", "maxval": "tensor"}),
    "nb.random.split": S(KEY, 2, kinds={"num": "shape"}),
    "nb.random.threefry2x32": S(*(nb.tensor([1, 2], dtype=nb.uint32),) * 4),
    "nb.random.uniform": S(KEY, (2, 3), dtype=nb.float32, minval=0.0, maxval=1.0,
                           kinds={"minval": "tensor", "maxval": "tensor"}),
    # nb.nn.functional
    "nb.nn.functional.leaky_relu": S(X(), 0.01),
    "nb.nn.functional.elu": S(X(), 1.0),
    "nb.nn.functional.relu6": S(X()),
    "nb.nn.functional.hardtanh": S(X(), -1.0, 1.0),
    "nb.nn.functional.hardswish": S(X()),
    "nb.nn.functional.logsigmoid": S(X()),
    "nb.nn.functional.linear": S(X(2, 3), X(4, 3), X(4)),
    "nb.nn.functional.embedding": S(I32, X(4, 3), padding_idx=None),
    "nb.nn.functional.one_hot": S(I32, 3, dtype=nb.float32),
    "nb.nn.functional.dropout": S(KEY, X(), 0.5, training=True),
    "nb.nn.functional.layer_norm": S(X(), (3,), X(3), X(3), eps=1e-5),
    "nb.nn.functional.rms_norm": S(X(), (3,), X(3), eps=1e-5),
    "nb.nn.functional.group_norm": S(X(2, 4, 3), 2, X(4), X(4), eps=1e-5),
    "nb.nn.functional.batch_norm": S(X(2, 3), X(3), X(3), X(3), X(3), training=False,
                                     momentum=0.1, eps=1e-5, return_stats=False),
    "nb.nn.functional.mse_loss": S(X(), X(), reduction="mean"),
    "nb.nn.functional.l1_loss": S(X(), X(), reduction="mean"),
    "nb.nn.functional.huber_loss": S(X(), X(), reduction="mean", delta=1.0),
    "nb.nn.functional.smooth_l1_loss": S(X(), X(), reduction="mean", beta=1.0),
    "nb.nn.functional.cross_entropy": S(X(), I32, reduction="mean", label_smoothing=0.0,
                                        ignore_index=-100),
    "nb.nn.functional.nll_loss": S(X(), I32, reduction="mean", ignore_index=-100),
    "nb.nn.functional.binary_cross_entropy": S(X() * 0.5, X() * 0.5, reduction="mean"),
    "nb.nn.functional.binary_cross_entropy_with_logits": S(X(), X(), reduction="mean",
                                                           pos_weight=None),
    "nb.nn.functional.kl_div": S(X(), X(), reduction="mean", log_target=False),
    "nb.nn.functional.scaled_dot_product_attention": S(X(2, 4, 3), X(2, 4, 3), X(2, 4, 3),
                                                       attn_mask=None, dropout_p=0.0,
                                                       is_causal=False, scale=None,
                                                       kinds={"dropout_key": "tensor"}),
})


def kind_of(qualname: str, param: inspect.Parameter) -> str | None:
    sample = SAMPLES[qualname]
    if param.name in sample.kinds:
        return sample.kinds[param.name]
    if param.name in SKIP_PARAMS:
        return "skip"
    return KIND.get(param.name)


def test_every_public_callable_is_walked():
    missing = [q for q in public_callables() if q not in SAMPLES]
    assert not missing, f"public callables without a sample call in the walk: {missing}"
    stale = [q for q in SAMPLES if q not in public_callables()]
    assert not stale, f"samples of names that are not public: {stale}"
    unclassified = [f"{q}({p.name})" for q, fn in public_callables().items()
                    for p in inspect.signature(fn).parameters.values()
                    if kind_of(q, p) is None]
    assert not unclassified, f"parameters without a kind: {unclassified}"


def _fresh(v):
    return v.make() if isinstance(v, Fresh) else v


def _call(fn, sample: S, args, kwargs):
    out = fn(*map(_fresh, args), **{k: _fresh(v) for k, v in kwargs.items()})
    if sample.then is not None:
        out = out(*sample.then)
    return out  # not read: a bad argument must fail at the call, not when a value is read


def _bad_calls(qualname: str, fn, sample: S):
    """(description, args, kwargs) for every bad value of every parameter."""
    sig = inspect.signature(fn)
    bound = sig.bind(*sample.args, **sample.kwargs)
    for param in sig.parameters.values():
        kind = kind_of(qualname, param)
        if kind in ("skip", None):  # None: reported by test_every_public_callable_is_walked
            continue
        bads = list(BAD[kind])
        if kind == "tensor" and param.default is inspect.Parameter.empty:
            bads.append(None)
        for bad in bads:
            arguments = dict(bound.arguments)
            if param.kind == param.VAR_POSITIONAL:
                arguments[param.name] = (bad,)
            elif param.kind == param.VAR_KEYWORD:
                continue
            else:
                arguments[param.name] = bad
            ba = inspect.BoundArguments(sig, arguments)
            yield f"{qualname}({param.name}={bad!r})", ba.args, ba.kwargs


@pytest.mark.parametrize("qualname", sorted(SAMPLES))
def test_bad_arguments_raise_nabla_errors(qualname):
    fn = public_callables()[qualname]
    sample = SAMPLES[qualname]
    _call(fn, sample, sample.args, sample.kwargs)  # the sample itself is valid
    problems = []
    for desc, args, kwargs in _bad_calls(qualname, fn, sample):
        try:
            _call(fn, sample, args, kwargs)
        except nb.NablaError:
            continue
        except Exception as e:  # noqa: BLE001 - what the walk exists to find
            problems.append(f"{desc}: bare {type(e).__name__}: {str(e)[:80]}")
        else:
            problems.append(f"{desc}: accepted")
    assert not problems, "\n".join(problems)
