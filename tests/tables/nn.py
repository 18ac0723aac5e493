"""Op table: nb.nn.functional's compositions (normalizations, losses, attention, activations)
against NumPy references, so each gets the forward, derivative (orders 1-2) and vmap checks."""
import numpy as np

import nabla_like.nn.functional as F

from ..optable import Arg, OpCase, mark_composite

F32_64 = ("float32", "float64")


def _ln_ref(x, w, b, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def _rms_ref(x, w, eps=1e-6):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def _gn_ref(x, w, b, groups=2, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    m = g.mean(-1, keepdims=True)
    v = ((g - m) ** 2).mean(-1, keepdims=True)
    y = ((g - m) / np.sqrt(v + eps)).reshape(x.shape)
    return y * w.reshape(1, c, 1, 1) + b.reshape(1, c, 1, 1)


def _bn_ref(x, w, b, eps=1e-5):
    m = x.mean((0, 2, 3), keepdims=True)
    v = ((x - m) ** 2).mean((0, 2, 3), keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)


def _log_softmax(z, axis):
    z = z - z.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def _ce_int_ref(z, t):
    return -np.mean(np.take_along_axis(_log_softmax(z, 1), t[:, None], 1))


def _ce_smooth_ref(z, t, s=0.2):
    lp = _log_softmax(z, 1)
    nll = -np.take_along_axis(lp, t[:, None], 1)[:, 0]
    return np.mean((1 - s) * nll - s * lp.mean(1))


def _ce_prob_ref(z, p):
    return np.mean(-(p * _log_softmax(z, 1)).sum(1))


def _bce_logits_ref(z, t):
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))


def _huber_ref(a, b, d=1.0):
    e = np.abs(a - b)
    return np.mean(np.where(e < d, 0.5 * e * e, d * (e - 0.5 * d)))


def _sdpa_ref(q, k, v, causal=False):
    s = q @ np.swapaxes(k, -1, -2) * q.dtype.type(1 / np.sqrt(q.shape[-1]))
    if causal:
        L, S = s.shape[-2:]
        s = np.where(np.arange(L)[:, None] >= np.arange(S)[None, :], s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


def _kl_ref(logq, p):
    return np.sum(p * (np.log(p) - logq)) / logq.shape[0]


CASES = [
    OpCase("embedding", lambda w, i: F.embedding(i, w), lambda w, i: w[i],
           [(5, 3), Arg((2, 4), "int", 0, 5)], dtypes=F32_64),
    OpCase("one_hot", lambda i: F.one_hot(i, 4), lambda i: np.eye(4, dtype=np.float32)[i],
           [Arg((2, 3), "int", 0, 4)], dtypes=("float32",), grad=False),
    OpCase("l1_loss", F.l1_loss, lambda a, b: np.mean(np.abs(a - b)), [(3, 4), (3, 4)],
           dtypes=F32_64, grad_order=1),
    OpCase("nll_loss", F.nll_loss, lambda z, t: -np.mean(np.take_along_axis(z, t[:, None], 1)),
           [(4, 5), Arg((4,), "int", 0, 5)], dtypes=F32_64),
    OpCase("binary_cross_entropy", F.binary_cross_entropy,
           lambda p, t: np.mean(-(t * np.log(p) + (1 - t) * np.log1p(-p))),
           [Arg((3, 4), low=0.05, high=0.95), Arg((3, 4), low=0, high=1)], dtypes=F32_64),
    OpCase("kl_div_batchmean", lambda q, p: F.kl_div(q, p, "batchmean"), _kl_ref,
           [Arg((3, 4), low=-3, high=-0.1), Arg((3, 4), low=0.1, high=1)], dtypes=F32_64),
    OpCase("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), _ln_ref,
           [(3, 4), (4,), (4,)], dtypes=F32_64),
    OpCase("rms_norm", lambda x, w: F.rms_norm(x, 4, w, eps=1e-6), _rms_ref, [(3, 4), (4,)],
           dtypes=F32_64),
    OpCase("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), _gn_ref,
           [(2, 4, 2, 3), (4,), (4,)], dtypes=F32_64),
    OpCase("batch_norm_training", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           _bn_ref, [(3, 2, 2, 2), (2,), (2,)], dtypes=F32_64),
    OpCase("cross_entropy_int", F.cross_entropy, _ce_int_ref, [(4, 5), Arg((4,), "int", 0, 5)],
           dtypes=F32_64),
    OpCase("cross_entropy_smoothing", lambda z, t: F.cross_entropy(z, t, label_smoothing=0.2),
           _ce_smooth_ref, [(4, 5), Arg((4,), "int", 0, 5)], dtypes=F32_64),
    OpCase("cross_entropy_probs", F.cross_entropy, _ce_prob_ref, [(4, 5), Arg((4, 5), low=0, high=1)],
           dtypes=F32_64),
    OpCase("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
           _bce_logits_ref, [(3, 4), Arg((3, 4), low=0, high=1)], dtypes=F32_64),
    OpCase("mse_loss", F.mse_loss, lambda a, b: np.mean((a - b) ** 2), [(3, 4), (3, 4)],
           dtypes=F32_64),
    OpCase("huber_loss", F.huber_loss, _huber_ref, [(3, 4), (3, 4)], dtypes=F32_64,
           low=-3, high=3, grad_order=1),
    OpCase("scaled_dot_product_attention", F.scaled_dot_product_attention, _sdpa_ref,
           [(2, 3, 4), (2, 5, 4), (2, 5, 3)], dtypes=F32_64),
    OpCase("scaled_dot_product_attention_causal",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
           lambda q, k, v: _sdpa_ref(q, k, v, True), [(2, 4, 4), (2, 4, 4), (2, 4, 3)],
           dtypes=F32_64),
    OpCase("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), [(3, 4)],
           dtypes=F32_64, grad_order=1),
    OpCase("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, [(3, 4)],
           dtypes=F32_64, low=-2.5, high=2.5, grad_order=1),
]

# every nn.functional op here is a composition of table primitives
mark_composite(CASES, [c.name for c in CASES])
