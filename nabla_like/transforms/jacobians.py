"""Jacobians and Hessians, built from the transforms in api.py: jacfwd is `vmap` of `jvp`
over the input basis, jacrev `vmap` of the VJP over the output basis (each one batched
program), hessian forward over reverse, hvp the same without forming the matrix.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import tree as tree_util
from ..args import as_bool
from ..core import full_in
from ..errors import GradError, TransformError, raise_error
from ..lazy import step_end
from ..tensor import Tensor
from .api import (_as_traceable, _check_diff_input, _check_scalar_output, _normalize_argnums,
                  _numeric_leaf, _split_aux, eval_shape, grad, jvp, vjp, vmap)
from .arguments import check_argnums, check_fun, check_holomorphic


def _jac_inputs(fn_name: str, args: tuple, argnums, allow_int: bool):
    """The differentiated leaves of a call: (positions, single, leaves as tensors, their
    tree, which leaves are integers that get zero blocks (allow_int))."""
    nums, single = _normalize_argnums(fn_name, argnums, len(args))
    tensors, is_int = [], []
    for n in nums:
        leaves = tree_util.leaves(args[n])
        if not leaves:
            raise_error(TransformError, fn_name, f"argument {n} is {args[n]!r}, which holds no "
                        f"tensor to differentiate (argnums={argnums!r})")
        for leaf in leaves:
            if not _numeric_leaf(leaf):
                raise_error(GradError, fn_name, f"argument {n} holds a {type(leaf).__name__} "
                            f"({leaf!r:.40}); only floating-point tensors can be differentiated")
            t = _as_traceable(leaf, fn_name)
            integer = t.dtype.kind != "f"
            if integer and not allow_int:
                _check_diff_input(fn_name, t, n)
            tensors.append(t)
            is_int.append(integer)
    tree = tree_util.structure(tuple(args[n] for n in nums))
    return nums, single, tensors, tree, is_int


def _partial_fn(fun, args: tuple, nums: tuple[int, ...], tree, tensors, is_int):
    """f of the floating-point differentiated leaves only; the other arguments (and the
    integer leaves of allow_int) are fixed."""
    def f(*float_leaves):
        it = iter(float_leaves)
        leaves = [t if integer else next(it) for t, integer in zip(tensors, is_int)]
        a = list(args)
        for n, p in zip(nums, tree_util.unflatten(tree, leaves)):
            a[n] = p
        return fun(*a)
    return f


def _basis(tensors: list[Tensor]) -> list[Tensor]:
    """Identity rows split per leaf: leaf k gets shape (N, *shape_k)."""
    from ..creation import eye
    from ..ops.shape import reshape, static_slice
    sizes = [t.size for t in tensors]
    n = int(sum(sizes))
    identity = eye(n, dtype=tensors[0].dtype)
    out, start = [], 0
    for t, s in zip(tensors, sizes):
        out.append(reshape(static_slice(identity, (0, start), (n, start + s)), (n,) + tuple(t.shape)))
        start += s
    return out


def _blocks(stacked: list[Tensor], lead_shapes, trail_shapes, lead_first: bool):
    """Split rows of `stacked` (each (N, *shape_j)) into Jacobian blocks.

    With lead_first (jacrev): stacked over output elements -> block (out_shape, in_shape).
    Otherwise (jacfwd): stacked over input elements -> block (out_shape, in_shape).
    Returns blocks[j][k] for stacked leaf j and basis leaf k.
    """
    from ..ops.shape import moveaxis, reshape, static_slice
    blocks = []
    for s, shape_j in zip(stacked, trail_shapes):
        row, start = [], 0
        for shape_k in lead_shapes:
            size_k = int(np.prod(shape_k)) if shape_k else 1
            part = static_slice(s, (start,) + (0,) * (s.ndim - 1), (start + size_k,) + s.shape[1:])
            start += size_k
            if lead_first:   # part: (size_out_k, *in_shape_j) -> (*out_shape_k, *in_shape_j)
                row.append(reshape(part, tuple(shape_k) + tuple(shape_j)))
            else:            # part: (size_in_k, *out_shape_j) -> (*out_shape_j, *in_shape_k)
                moved = moveaxis(part, 0, -1) if part.ndim > 1 else part
                row.append(reshape(moved, tuple(shape_j) + tuple(shape_k)))
        blocks.append(row)
    return blocks


def _forward_blocks(f, floats: list[Tensor], has_aux: bool, fn_name: str):
    """blocks[j][k] of out leaf j and float input leaf k, by forward mode; out tree; aux."""
    def push(*tangents):
        return jvp(f, tuple(floats), tuple(tangents), has_aux=has_aux)[1]

    out_struct = eval_shape(lambda *t: _split_aux(fn_name, f(*t), has_aux)[0], *floats)
    out_leaves, out_tree = tree_util.flatten(out_struct)
    stacked = tree_util.leaves(vmap(push)(*_basis(floats)))
    blocks = _blocks(stacked, [t.shape for t in floats], [o.shape for o in out_leaves],
                     lead_first=False)
    aux = _split_aux(fn_name, f(*floats), True)[1] if has_aux else None
    return blocks, out_leaves, out_tree, aux


def _reverse_blocks(f, floats: list[Tensor], has_aux: bool, fn_name: str):
    """blocks[j][k] of out leaf j and float input leaf k, by reverse mode; out tree; aux."""
    res = vjp(f, *floats, has_aux=has_aux)
    out, pullback = res[0], res[1]
    out_leaves, out_tree = tree_util.flatten(out)
    out_leaves = [_as_traceable(o, fn_name) for o in out_leaves]

    def pull(*cts):
        return pullback(tree_util.unflatten(out_tree, list(cts)))

    stacked = tree_util.leaves(vmap(pull)(*_basis(out_leaves)))
    by_in = _blocks(stacked, [o.shape for o in out_leaves], [t.shape for t in floats],
                    lead_first=True)
    blocks = [[by_in[k][j] for k in range(len(floats))] for j in range(len(out_leaves))]
    return blocks, out_leaves, out_tree, (res[2] if has_aux else None)


def _jacobian_call(fun, args: tuple, argnums, has_aux: bool, allow_int: bool, fn_name: str,
                   forward: bool):
    nums, single, tensors, in_tree, is_int = _jac_inputs(fn_name, args, argnums, allow_int)
    floats = [t for t, integer in zip(tensors, is_int) if not integer]
    f = _partial_fn(fun, args, nums, in_tree, tensors, is_int)
    if floats:
        blocks, out_leaves, out_tree, aux = (_forward_blocks if forward else _reverse_blocks)(
            f, floats, has_aux, fn_name)
    else:  # only integer leaves (allow_int): every block is zero
        primary, aux = _split_aux(fn_name, f(), has_aux)
        out_leaves, out_tree = tree_util.flatten(primary)
        out_leaves = [_as_traceable(o, fn_name) for o in out_leaves]
        blocks = [[] for _ in out_leaves]
    # Integer leaves (allow_int) get zero blocks: nabla_like has no float0 dtype, so a zero
    # tensor of the block's shape in the input's dtype stands for JAX's float0 block.
    full_rows = []
    for j, o in enumerate(out_leaves):
        it = iter(blocks[j])
        full_rows.append([full_in(t._value.ctx, tuple(o.shape) + tuple(t.shape), 0, t.dtype)
                          if integer else next(it) for t, integer in zip(tensors, is_int)])
    result = _assemble_jac(full_rows, out_tree, in_tree, single)
    return (result, aux) if has_aux else result


def _assemble_jac(blocks, out_tree, in_tree, single: bool):
    """Output structure of input structure: out_tree leaves become in_tree-shaped blocks."""
    per_out = []
    for row in blocks:
        parts = tree_util.unflatten(in_tree, row)
        per_out.append(parts[0] if single else parts)
    return tree_util.unflatten(out_tree, per_out)


def forward_value_and_grad(name: str, fun, args: tuple, kwargs: dict, keys, single: bool,
                            has_aux: bool, allow_int: bool):
    """value_and_grad by forward mode (mode="forward"): the Jacobian of the one-element
    output by jacfwd, each block reshaped to its input's shape."""
    from ..ops.shape import reshape
    diff = tuple(args[k] if isinstance(k, int) else kwargs[k] for k in keys)
    for key, d in zip(keys, diff):  # (named by the caller's keys, not positions in `diff`)
        for leaf in tree_util.leaves(d):
            if not _numeric_leaf(leaf):
                raise_error(GradError, name, f"argument {key!r} holds a {type(leaf).__name__} "
                            f"({leaf!r:.40}); only floating-point tensors can be differentiated")
            t = _as_traceable(leaf, name)
            if t.dtype.kind != "f" and not allow_int:
                _check_diff_input(name, t, key)

    def f_of(*parts):
        a, k = list(args), dict(kwargs)
        for key, p in zip(keys, parts):
            if isinstance(key, int):
                a[key] = p
            else:
                k[key] = p
        primary, aux = _split_aux(name, fun(*a, **k), has_aux)
        return primary, (primary, aux)

    out = tree_util.leaves(eval_shape(lambda *p: f_of(*p)[0], *diff))
    _check_scalar_output(name, len(out), out[0] if out else None)
    jac, (value, aux) = _jacobian_call(f_of, diff, tuple(range(len(keys))), True, allow_int, name,
                                       forward=True)
    grads = []
    for d, j in zip(diff, jac):
        d_leaves, d_tree = tree_util.flatten(d)
        blocks = tree_util.leaves(j)
        grads.append(tree_util.unflatten(d_tree, [reshape(b, tuple(getattr(leaf, "shape", ())))
                                                  for b, leaf in zip(blocks, d_leaves)]))
    g = grads[0] if single else tuple(grads)
    return ((value, aux), g) if has_aux else (value, g)


def _jac_fn(fun, argnums, has_aux: bool, allow_int: bool, fn_name: str, forward: bool):
    def jac(*args):
        return _jacobian_call(fun, args, argnums, has_aux, allow_int, fn_name, forward)
    return step_end(jac)


def _check_jac(fn_name: str, fun, argnums, has_aux, allow_int=False, holomorphic=False):
    check_fun(fn_name, fun)
    check_argnums(fn_name, argnums, fun)
    check_holomorphic(fn_name, holomorphic)
    return as_bool(fn_name, "has_aux", has_aux), as_bool(fn_name, "allow_int", allow_int)


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False):
    """The Jacobian by forward mode: `vmap` of `jvp` over the input basis (one batched program).
    With `allow_int`, integer inputs get zero blocks of their dtype (JAX gives float0 ones);
    holomorphic=True raises nb.UnsupportedError (there are no complex dtypes).

    Example:
        >>> nb.jacfwd(lambda x: x ** 2)(nb.tensor([1.0, 2.0]))  # diag(2x)
        Tensor(
        [[2. 0.]
         [0. 4.]] : f32[2,2]
        )
    """
    has_aux, allow_int = _check_jac("jacfwd", fun, argnums, has_aux, allow_int, holomorphic)
    return _jac_fn(fun, argnums, has_aux, allow_int, "jacfwd", forward=True)


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False):
    """The Jacobian by reverse mode: `vmap` of the VJP over the output basis. `allow_int` and
    `holomorphic` as in jacfwd.

    Example:
        >>> nb.jacrev(lambda x: nb.sin(x))(nb.tensor([0.0, 1.0]))  # diag(cos x)
        Tensor(
        [[1.     0.    ]
         [0.     0.5403]] : f32[2,2]
        )
    """
    has_aux, allow_int = _check_jac("jacrev", fun, argnums, has_aux, allow_int, holomorphic)
    return _jac_fn(fun, argnums, has_aux, allow_int, "jacrev", forward=False)


def jacobian(fun: Callable, argnums=0, has_aux: bool = False):
    """The Jacobian, by forward mode when inputs are fewer than outputs, else reverse mode.

    Example:
        >>> nb.jacobian(lambda x: x[:2] * x[1:])(nb.tensor([1.0, 2.0, 3.0])).shape
        (2, 3)
    """
    has_aux, _ = _check_jac("jacobian", fun, argnums, has_aux)

    def jac(*args):
        _, _, tensors, _, _ = _jac_inputs("jacobian", args, argnums, False)
        n_in = sum(t.size for t in tensors)
        out = eval_shape(lambda *a: _split_aux("jacobian", fun(*a), has_aux)[0], *args)
        n_out = sum(int(np.prod(o.shape)) for o in tree_util.leaves(out))
        return _jacobian_call(fun, args, argnums, has_aux, False, "jacobian", n_in <= n_out)
    return step_end(jac)


def hessian(fun: Callable, argnums=0, has_aux: bool = False):
    """The Hessian of a scalar function: `jacfwd(jacrev(f))` (forward over reverse).

    Example:
        >>> nb.hessian(lambda x: nb.sum(x ** 3))(nb.tensor([1.0, 2.0]))  # diag(6x)
        Tensor(
        [[ 6.  0.]
         [ 0. 12.]] : f32[2,2]
        )
    """
    has_aux, _ = _check_jac("hessian", fun, argnums, has_aux)
    inner = _jac_fn(fun, argnums, has_aux, False, "hessian", forward=False)
    return _jac_fn(inner, argnums, has_aux, False, "hessian", forward=True)


@step_end
def hvp(fun: Callable, primals, tangents):
    """Hessian-vector product H(x) v by forward-over-reverse, without forming H.

    `primals` and `tangents` are a tensor each, or tuples for several arguments.

    Example:
        >>> nb.hvp(lambda x: nb.sum(x ** 3), nb.tensor([1.0, 2.0]), nb.tensor([1.0, 0.0]))
        Tensor([6. 0.] : f32[2])
    """
    check_fun("hvp", fun)
    single = not isinstance(primals, (tuple, list))
    if single != (not isinstance(tangents, (tuple, list))) or (
            not single and len(primals) != len(tangents)):
        raise_error(TransformError, "hvp", f"primals and tangents must both be tensors or both "
                    f"tuples of one length, got {type(primals).__name__} and "
                    f"{type(tangents).__name__}")
    if single:
        primals, tangents = (primals,), (tangents,)
    if not primals:
        raise_error(TransformError, "hvp", "needs at least one primal argument")
    g = grad(fun, argnums=tuple(range(len(primals))))
    out = jvp(g, tuple(primals), tuple(tangents))[1]
    return out[0] if single else out


__all__ = ["jacfwd", "jacrev", "jacobian", "hessian", "hvp"]
