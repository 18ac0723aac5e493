"""einsum: Einstein summation over dot_general (part of the linalg family).

Each operand is first brought to distinct labels (a label repeated within one
operand takes the diagonal, through a gather), size-1 dims that broadcast are
dropped, and labels no other operand or the output needs are summed out.
Operands are then contracted left to right with dot_general: shared labels
still needed later are batch dims, the others are contracted.
"""
from __future__ import annotations

from ..dtypes import bool_, int32
from ..errors import ShapeError, raise_error
from ..tensor import Tensor

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _bad(message: str) -> None:
    raise_error(ShapeError, "einsum", message)


def _parse_term(term: str, ndim: int | None, where: str) -> tuple[list[str], int]:
    """Labels of one term ('...' kept as one marker) and the number of ellipsis dims."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        _bad(f"{where} {term!r}: '.' may only appear in one '...'")
    labels: list[str] = []
    rest = term
    while rest:
        if rest.startswith("..."):
            labels.append("...")
            rest = rest[3:]
            continue
        c, rest = rest[0], rest[1:]
        if c not in _LETTERS:
            _bad(f"invalid subscript {c!r} in {where} {term!r} (only letters a-z, A-Z and '...')")
        labels.append(c)
    if ndim is None:
        return labels, 0
    letters = len(labels) - (1 if "..." in labels else 0)
    if "..." in labels:
        if letters > ndim:
            _bad(f"{where} {term!r} has more subscripts than the operand's {ndim} dims")
        return labels, ndim - letters
    if letters != ndim:
        _bad(f"{where} {term!r} has {letters} subscripts but the operand has {ndim} dims")
    return labels, 0


def parse_subscripts(subscripts: str, ndims: list[int]) -> tuple[list[list[str]], list[str]]:
    """Per-operand label lists and the output label list; the ellipsis dims become the
    labels '.0', '.1', ... aligned from the right across operands."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        _bad(f"subscripts {subscripts!r} have more than one '->'")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        _bad(f"subscripts {subscripts!r} name {len(terms)} operands but {len(ndims)} were given")
    parsed = [_parse_term(t, n, f"operand {i}") for i, (t, n) in enumerate(zip(terms, ndims))]
    n_ellipsis = max((k for _, k in parsed), default=0)
    ellipsis_labels = [f".{i}" for i in range(n_ellipsis)]
    inputs = []
    for labels, k in parsed:
        expanded = []
        for label in labels:
            expanded.extend(ellipsis_labels[n_ellipsis - k:] if label == "..." else [label])
        inputs.append(expanded)
    if arrow:
        out_labels, _ = _parse_term(rhs, None, "output")
        if len(set(out_labels)) != len(out_labels):
            _bad(f"output subscripts {rhs!r} repeat a label")
        seen = {label for labels in inputs for label in labels}
        for label in out_labels:
            if label != "..." and label not in seen:
                _bad(f"output subscript {label!r} does not appear in the inputs")
        if "..." not in out_labels and n_ellipsis and any(
                "..." in labels for labels, _ in parsed):
            _bad("the inputs have '...' dims but the output has no '...' to put them")
        output = []
        for label in out_labels:
            output.extend(ellipsis_labels if label == "..." else [label])
    else:
        counts: dict[str, int] = {}
        for labels in inputs:
            for label in labels:
                if not label.startswith("."):
                    counts[label] = counts.get(label, 0) + 1
        output = ellipsis_labels + sorted(label for label, c in counts.items() if c == 1)
    return inputs, output


def _label_sizes(inputs: list[list[str]], operands: list[Tensor]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for i, (labels, x) in enumerate(zip(inputs, operands)):
        for label, n in zip(labels, x.shape):
            known = sizes.get(label, 1)
            if n != 1 and known != 1 and n != known:
                name = "..." if label.startswith(".") else repr(label)
                _bad(f"label {name} has size {known} and size {n} (in operand {i}, "
                     f"{x._value.aval.short()})")
            if n != 1 or label not in sizes:
                sizes[label] = n if known == 1 else known
    return sizes


def _take_diagonals(x: Tensor, labels: list[str]) -> tuple[Tensor, list[str]]:
    """Replace each label repeated within `labels` by one dim holding the diagonal."""
    from ..creation import iota
    from .gather_scatter import gather_points, stack_indices
    from .shape import moveaxis
    while len(set(labels)) != len(labels):
        label = next(lbl for lbl in labels if labels.count(lbl) > 1)
        dims = tuple(i for i, lbl in enumerate(labels) if lbl == label)
        sizes = {x.shape[d] for d in dims}
        if len(sizes) != 1:
            _bad(f"label {label!r} repeats over dims of different sizes in {x._value.aval.short()}")
        n = sizes.pop()
        diagonal = iota((n,), 0)
        x = gather_points(x, stack_indices([diagonal] * len(dims)), dims, "clip")
        rest = [lbl for i, lbl in enumerate(labels) if i not in dims]
        x = moveaxis(x, 0, dims[0])  # keep the diagonal where the label first appeared
        labels = rest[:dims[0]] + [label] + rest[dims[0]:]
    return x, labels


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation, as np.einsum: explicit ('ij,jk->ik') or implicit ('ij,jk')
    output, '...' broadcasting, repeated labels within an operand for diagonals and
    traces, and sums over labels absent from the output.

    Example:
        >>> a, b = nb.ones((2, 3)), nb.ones((3, 4))
        >>> nb.einsum("ij,jk->ik", a, b).shape
        (2, 4)
    """
    from .elementwise import cast, not_equal
    from .linalg import _contract, _promote_pair
    from .reduce import reduce_sum
    from .shape import reshape, transpose
    if not isinstance(subscripts, str):
        _bad(f"subscripts must be a string, got {type(subscripts).__name__}")
    if not operands:
        _bad("at least one operand is needed")
    tensors = _promote_all(operands, _promote_pair)
    is_bool = tensors[0].dtype is bool_
    if is_bool:  # boolean sums of products: count in int32, then test
        tensors = [cast(t, int32) for t in tensors]
    inputs, output = parse_subscripts(subscripts, [t.ndim for t in tensors])
    sizes = _label_sizes(inputs, tensors)
    prepared = []
    for x, labels in zip(tensors, inputs):
        x, labels = _take_diagonals(x, labels)
        broadcast = [i for i, lbl in enumerate(labels) if x.shape[i] == 1 and sizes[lbl] != 1]
        if broadcast:  # a size-1 dim that broadcasts: dropping it is the same
            labels = [lbl for i, lbl in enumerate(labels) if i not in broadcast]
            x = reshape(x, tuple(x.shape[i] for i in range(x.ndim) if i not in broadcast))
        prepared.append((x, labels))
    for k, (x, labels) in enumerate(prepared):
        elsewhere = set(output)
        for j, (_, other) in enumerate(prepared):
            if j != k:
                elsewhere.update(other)
        lonely = tuple(i for i, lbl in enumerate(labels) if lbl not in elsewhere)
        if lonely:
            x = reduce_sum(x, lonely)
            labels = [lbl for i, lbl in enumerate(labels) if i not in lonely]
        prepared[k] = (x, labels)
    acc, acc_labels = prepared[0]
    for k in range(1, len(prepared)):
        x, labels = prepared[k]
        needed = set(output)
        for _, later in prepared[k + 1:]:
            needed.update(later)
        shared = [lbl for lbl in acc_labels if lbl in labels]
        batch = [lbl for lbl in shared if lbl in needed]
        summed = [lbl for lbl in shared if lbl not in needed]
        acc = _contract("einsum", acc, x,
                        (tuple(acc_labels.index(lbl) for lbl in summed),
                         tuple(labels.index(lbl) for lbl in summed)),
                        (tuple(acc_labels.index(lbl) for lbl in batch),
                         tuple(labels.index(lbl) for lbl in batch)))
        acc_labels = (batch + [lbl for lbl in acc_labels if lbl not in labels]
                      + [lbl for lbl in labels if lbl not in acc_labels])
    missing = [lbl for lbl in output if lbl not in acc_labels]
    if missing:  # only size-1 labels can be missing here (all their dims broadcast)
        acc = reshape(acc, acc.shape + (1,) * len(missing))
        acc_labels = acc_labels + missing
    perm = tuple(acc_labels.index(lbl) for lbl in output)
    if perm != tuple(range(len(perm))):
        acc = transpose(acc, perm)
    return not_equal(acc, 0) if is_bool else acc


def _promote_all(operands, promote_pair) -> list[Tensor]:
    from ._common import to_tensor
    from .elementwise import cast
    tensors = [to_tensor(x, "einsum") for x in operands]
    if len(tensors) == 1:
        return tensors
    first = tensors[0]
    for t in tensors[1:]:
        first, _ = promote_pair("einsum", first, t)
    dtype = first.dtype
    return [t if t.dtype is dtype else cast(t, dtype) for t in tensors]


__all__ = ["einsum"]
