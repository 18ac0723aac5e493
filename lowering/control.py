"""StableHLO rules of the control-flow family (mirrors nabla_like/ops/control.py): each
sub-graph is emitted into a region of `stablehlo.case` or `stablehlo.while`; regions use
the values of the enclosing function directly."""
from __future__ import annotations

from .mlir import emit_graph, i64_array, register, scalar_literal, stype, ttype


@register("cond")
def _cond(ctx, index, *args, branches):
    em = ctx.em
    regions = [em.region([], lambda sub, g=b.graph: emit_graph(sub, g, args)) for b in branches]
    return em.op("stablehlo.case", [index], list(ctx.avals_out), regions=regions)


def _i32(em, value: int) -> str:
    return em.op("stablehlo.constant", [], "tensor<i32>", {"value": f"dense<{int(value)}> : tensor<i32>"})


def _add_i32(em, a: str, b: str) -> str:
    return em.op("stablehlo.add", [a, b], "tensor<i32>")


def _scan_index(em, i: str, length: int, reverse: bool) -> str:
    """The element an iteration reads: i counting up, or length - 1 - i."""
    if not reverse:
        return i
    return em.op("stablehlo.subtract", [_i32(em, length - 1), i], "tensor<i32>")


def _iteration(em, graph, consts, carry, ys, xs, x_avals, y_avals, idx, num_carry):
    """One scan iteration at element `idx`: slice the xs, apply the body, write the ys."""
    zero = _i32(em, 0)
    slices = []
    for x, a in zip(xs, x_avals):
        part = em.op("stablehlo.dynamic_slice", [x, idx] + [zero] * (len(a.shape) - 1),
                     stype((1,) + tuple(a.shape[1:]), a.dtype.mlir),
                     {"slice_sizes": i64_array((1,) + tuple(a.shape[1:]))})
        slices.append(em.op("stablehlo.reshape", [part], stype(a.shape[1:], a.dtype.mlir)))
    outs = emit_graph(em, graph, list(consts) + list(carry) + slices)
    new_ys = []
    for acc, y, a in zip(ys, outs[num_carry:], y_avals):
        row = em.op("stablehlo.reshape", [y], stype((1,) + tuple(a.shape[1:]), a.dtype.mlir))
        new_ys.append(em.op("stablehlo.dynamic_update_slice", [acc, row, idx]
                            + [zero] * (len(a.shape) - 1), ttype(a)))
    return outs[:num_carry], new_ys


@register("scan")
def _scan(ctx, *args, body, num_consts, num_carry, length, reverse, unroll):
    em = ctx.em
    g = body.graph
    consts = args[:num_consts]
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    x_avals = ctx.avals_in[num_consts + num_carry:]
    y_avals = ctx.avals_out[num_carry:]
    ys = []
    for a in y_avals:  # the stacked outputs start as zeros and are written row by row
        zero = em.op("stablehlo.constant", [], stype((), a.dtype.mlir),
                     {"value": f"dense<{scalar_literal(0, a.dtype)}> : {stype((), a.dtype.mlir)}"})
        ys.append(em.op("stablehlo.broadcast_in_dim", [zero], a, {"broadcast_dimensions": i64_array([])}))
    k = max(1, min(unroll, length))
    done = 0
    if k < length:  # a while loop of k iterations a trip; what does not fill a trip follows
        trips = length // k
        carry_t = [ttype(a) for a in ctx.avals_out[:num_carry]]
        ys_t = [ttype(a) for a in y_avals]

        def cond_region(sub, i, *state):
            return sub.op("stablehlo.compare", [i, _i32(sub, trips * k)], "tensor<i1>",
                          {"comparison_direction": "#stablehlo<comparison_direction LT>",
                           "compare_type": "#stablehlo<comparison_type SIGNED>"})

        def body_region(sub, i, *state):
            c, y = list(state[:num_carry]), list(state[num_carry:])
            for u in range(k):
                step = _add_i32(sub, i, _i32(sub, u)) if u else i
                c, y = _iteration(sub, g, consts, c, y, xs, x_avals, y_avals,
                                  _scan_index(sub, step, length, reverse), num_carry)
            return [_add_i32(sub, i, _i32(sub, k))] + c + y

        types = ["tensor<i32>"] + carry_t + ys_t
        state = em.op("stablehlo.while", [_i32(em, 0)] + carry + ys, types,
                      regions=[em.region(types, cond_region), em.region(types, body_region)])
        carry, ys = list(state[1:1 + num_carry]), list(state[1 + num_carry:])
        done = trips * k
    for t in range(done, length):  # unrolled iterations: all of them, or the remainder
        carry, ys = _iteration(em, g, consts, carry, ys, xs, x_avals, y_avals,
                               _i32(em, length - 1 - t if reverse else t), num_carry)
    return carry + ys


@register("while")
def _while(ctx, *args, cond, body, cond_nconsts, body_nconsts):
    em = ctx.em
    c1 = list(args[:cond_nconsts])
    c2 = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts:])
    types = [ttype(a) for a in ctx.avals_out]
    regions = [em.region(types, lambda sub, *state: emit_graph(sub, cond.graph, c1 + list(state))),
               em.region(types, lambda sub, *state: emit_graph(sub, body.graph, c2 + list(state)))]
    return em.op("stablehlo.while", carry, types, regions=regions)
