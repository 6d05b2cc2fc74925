"""Softmax and the softmax cross-entropy loss of a sequence model, with a mask for padded positions.

    p = softmax(o)                                          # along the last axis, numerically stable
    loss, dO = softmax_cross_entropy(O, targets, mask)      # O (T, B, V) logits, targets (T, B) ints
    total, n = cross_entropy_sum(O, targets, mask)          # summed nats and token count (e.g. for bits/char)

With N real (unmasked) tokens, the loss is the mean negative log-likelihood in nats,

    loss = -(1/N) * sum over real (t, b) of log softmax(o_{t,b})[y_{t,b}],

and its exact gradient is dloss/do_{t,b} = (softmax(o_{t,b}) - onehot(y_{t,b})) * m_{t,b} / N.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from ._checks import check_array, check_token_ids

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy", "cross_entropy_sum"]


def _check_logits_any(name: str, z, axis: int) -> Tuple[np.ndarray, int]:
    if z is None:
        raise ValueError(f"{name}: expected a real array with at least one axis, got None")
    arr = np.asarray(z)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected a real array with at least one axis, got a 0-d array")
    arr = check_array(name, arr, arr.shape, allow_neg_inf=True)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)) or not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis: expected an integer in [-{arr.ndim}, {arr.ndim}) for a {arr.ndim}-d {name}, got {axis!r}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.size and not np.isfinite(arr).any(axis=axis).all():
        raise ValueError(f"{name}: every slice along axis {axis} needs at least one finite value (-inf only gives "
                         f"probability 0), got a slice of all -inf")
    return arr, int(axis)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """log softmax(z) along `axis`, in nats: z - max - log(sum(exp(z - max))). Same shape and float dtype as z.

    Never overflows: the largest shifted entry is 0, so the sum is in [1, size along axis]. Entries of -inf
    (a banned class) give -inf; NaN and +inf are errors. The one implementation in the package: decoding and the
    language model use this one.
    """
    z, axis = _check_logits_any("z", z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis: int = -1) -> np.ndarray:
    """softmax(z) = exp(z) / sum(exp(z)) along `axis` (shifted by the max first). Same shape and dtype as z.
    Entries of -inf get probability exactly 0."""
    z, axis = _check_logits_any("z", z, axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _check_loss_inputs(logits, targets, mask):
    """Validate and return (logits (T, B, V) float, targets (T, B) int, real (T, B) bool)."""
    logits = check_array("logits", logits, (None, None, None), "TBV")
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float64)
    T, B, V = logits.shape
    targets = check_array("targets", targets, (T, B), "TB", kind="int")
    if mask is None:
        real = np.ones((T, B), dtype=bool)
    else:
        m = check_array("mask", mask, (T, B), "TB", finite=False)
        if m.dtype != bool:
            if not np.isin(m, (0, 1)).all():
                raise ValueError("mask: expected a bool array or one holding only 0 and 1 (1 = real token)")
            m = m.astype(bool)
        real = m
    n = int(real.sum())
    if n == 0:
        raise ValueError(f"mask: every position is masked out (shape {real.shape}): no real token to average over")
    check_token_ids("targets", targets, V, where=real, size_name="V")       # padded positions may hold anything
    return logits, targets, real


def _real_log_probs(logits, targets, real):
    """log p(target) at the real positions (1-d, length N) and the full log-softmax (T, B, V)."""
    logp = log_softmax(logits, axis=-1)
    safe_targets = np.where(real, targets, 0)  # padded positions may hold any integer; never read them
    picked = np.take_along_axis(logp, safe_targets[..., None], axis=-1)[..., 0]  # (T, B)
    return picked[real], logp


def softmax_cross_entropy(logits, targets, mask=None) -> Tuple[float, np.ndarray]:
    """Mean cross-entropy over the real tokens of a batch of sequences, and its gradient.

    Args:
        logits:  (T, B, V) unnormalised scores o_t (finite floats).
        targets: (T, B) integer class indices in [0, V) at every real position. At padded positions
                 (mask False/0) the value is ignored and may be anything, e.g. -1.
        mask:    None (every position is real) or (T, B), bool or 0/1: True/1 = real token, False/0 = padding.
                 At least one position must be real.

    Returns:
        loss:    Python float, -(1/N) sum_real log softmax(o_{t,b})[y_{t,b}] in nats, N = number of real tokens.
        dlogits: (T, B, V), same dtype as logits: (softmax(o) - onehot(y)) / N at real positions, 0 at padded ones.
    """
    logits, targets, real = _check_loss_inputs(logits, targets, mask)
    logp_target, logp = _real_log_probs(logits, targets, real)
    n = logp_target.size
    loss = -float(np.sum(logp_target, dtype=np.float64)) / n
    dlogits = np.exp(logp)  # softmax, (T, B, V)
    t_idx, b_idx = np.nonzero(real)
    dlogits[t_idx, b_idx, targets[real]] -= 1.0
    dlogits *= (real / n)[..., None].astype(dlogits.dtype)
    return loss, dlogits


def cross_entropy_sum(logits, targets, mask=None) -> Tuple[float, int]:
    """Summed cross-entropy over the real tokens and their number (no gradient).

    Same arguments and checks as `softmax_cross_entropy`. Returns (total, n): total = -sum_real log p(target) in
    nats (Python float), n = number of real tokens (int). Sum these over many batches, then total / n is the mean
    loss per token in nats and total / (n * log 2) the bits per token (bits per character for a character model).
    """
    logits, targets, real = _check_loss_inputs(logits, targets, mask)
    logp_target, _ = _real_log_probs(logits, targets, real)
    return -float(np.sum(logp_target, dtype=np.float64)), int(logp_target.size)
