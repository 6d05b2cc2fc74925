"""Decoding: turning a next-token model into sequences, and scoring sequences under it.

Everything here is model-agnostic. A model is anything that can take one step:

    logits, state = step(tokens, state)     # tokens (B,) int, state as returned before (None at the start)
                                            # logits (B, V): unnormalised log-probabilities of the next token

`step` may be a plain function or an object with a `.step` method (e.g. `rnn_utils.models.LanguageModel`).
The state can be anything the model likes, as long as decoding can pick rows of the batch out of it (beam
search keeps the states of its best beams, sampling copies the state after the prefix once per sample). By
default the state is None, an array whose *second-to-last* axis is the batch axis (h of shape (B, H) or
(num_layers, B, H), as everywhere in the course), or a tuple/list of such (the LSTM's (h, c)). Any other
layout: give the model a `select_state(state, index) -> state` method, or pass `select_state=...`.

Decoding always starts by feeding a non-empty `prefix` (at least a start token, e.g. <eos> as the separator
before a sentence) and then generates up to `max_len` new tokens, stopping early at `stop_token` if one is given.

    greedy(step, prefix, max_len)                            -> Hypothesis        argmax at every step
    sample(step, prefix, max_len, rng, temperature=1.0,
           top_k=None, top_p=None, num_samples=1)            -> [Hypothesis]      ancestral sampling
    beam_search(step, prefix, max_len, width, alpha=0.7)     -> [Hypothesis]      best first
    sequence_log_prob(step, prefix, tokens)                  -> float             log P(tokens | prefix), nats
    token_log_probs(step, prefix, tokens)                    -> (L,) array        the chain-rule terms, nats
    filter_probs(logits, temperature, top_k, top_p)          -> probabilities the sampler draws from

Every function takes the model first and the prefix second. All log-probabilities are natural logarithms (nats)
under the model's own (unfiltered) distribution: temperature, top-k and top-p change what is *drawn*, never the
reported `log_prob`. Divide by log(2) for bits.

Logits may contain -inf, the standard way to ban a token (its probability is exactly 0 and it is never chosen);
NaN and +inf are errors, and so is a row with no finite logit. Token ids (prefix, tokens, stop_token) are checked
against the vocabulary size V: before the first step if the model has a `vocab_size` attribute, otherwise as soon
as the first logits tell V.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import numpy as np

from ._checks import (check_array, check_count, check_positive_int, check_real, check_rng, check_token_ids,
                      renamed)
from .losses import log_softmax, softmax
from .recurrent import select_state as _select_state_default

__all__ = [
    "Hypothesis",
    "length_normalised",
    "filter_probs",
    "greedy",
    "sample",
    "beam_search",
    "sequence_log_prob",
    "token_log_probs",
]


DEFAULT_ALPHA = 0.7
"""The length-normalisation exponent used by `beam_search` and `Hypothesis.score` unless told otherwise."""


@dataclass
class Hypothesis:
    """One decoded continuation of the prefix.

    tokens:    the generated token ids (prefix excluded; the stop token included when it was generated)
    log_prob:  log P(tokens | prefix) under the model, in nats, the sum of the per-token terms
    finished:  True if the sequence ended with the stop token
    """

    tokens: List[int] = field(default_factory=list)
    log_prob: float = 0.0
    finished: bool = False

    def score(self, alpha: float = DEFAULT_ALPHA) -> float:
        """Length-normalised log-probability log_prob / len(tokens)**alpha in nats (see `beam_search`)."""
        return length_normalised(self.log_prob, len(self.tokens), alpha)


def length_normalised(log_prob: float, length: int, alpha: float) -> float:
    """log_prob / length**alpha (same unit as log_prob): alpha=0 is the raw log-probability, alpha=1 the mean per
    token. length: an integer >= 0 (0 returns log_prob unchanged); alpha: a real number >= 0."""
    log_prob = _check_log_prob(log_prob)
    length = check_count("length", length)
    alpha = _check_alpha(alpha)
    if length == 0:
        return log_prob
    return log_prob / length**alpha


# ----------------------------------------------------------------------------------------------------------------
# argument checks (the generic ones live in rnn_utils._checks)
# ----------------------------------------------------------------------------------------------------------------
def _check_log_prob(log_prob) -> float:
    if isinstance(log_prob, (bool, np.bool_)) or not isinstance(log_prob, (int, float, np.integer, np.floating)) \
            or math.isnan(log_prob) or log_prob > 0:
        raise ValueError(f"log_prob: expected a log-probability (a real number <= 0, -inf allowed), got {log_prob!r}")
    return float(log_prob)


def _check_temperature(temperature) -> float:
    return check_real("temperature", temperature, 0.0, low_open=True)


def _check_top_k(top_k) -> Optional[int]:
    return None if top_k is None else check_positive_int("top_k", top_k)


def _check_top_p(top_p) -> Optional[float]:
    return None if top_p is None else check_real("top_p", top_p, 0.0, 1.0, low_open=True)


def _check_alpha(alpha) -> float:
    return check_real("alpha", alpha, 0.0)


def _check_tokens(name: str, tokens, allow_empty: bool, vocab_size: Optional[int] = None) -> np.ndarray:
    arr = check_token_ids(name, tokens, vocab_size, (None,), ("L",))
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name}: expected at least one token (e.g. a start token), got an empty sequence")
    return arr


def _check_stop(stop_token, vocab_size: Optional[int] = None) -> Optional[int]:
    if stop_token is None:
        return None
    if vocab_size is None:
        return check_count("stop_token", stop_token)
    return int(check_token_ids("stop_token", [check_count("stop_token", stop_token)], vocab_size)[0])


# ----------------------------------------------------------------------------------------------------------------
# the model interface
# ----------------------------------------------------------------------------------------------------------------
def _resolve(step, select=None):
    """(step function, state selector, V or None) from a function or a model object with .step (and maybe
    .select_state and .vocab_size)."""
    fn = getattr(step, "step", step)
    if not callable(fn):
        raise ValueError(f"step: expected a function step(tokens, state) or an object with .step, got {step!r}")
    if select is None:
        select = getattr(step, "select_state", _select_state_default)
    elif not callable(select):
        raise ValueError(f"select_state: expected a function select_state(state, index), got {select!r}")
    vocab_size = getattr(step, "vocab_size", None)
    if not (isinstance(vocab_size, (int, np.integer)) and not isinstance(vocab_size, bool) and vocab_size > 0):
        vocab_size = None
    return fn, select, vocab_size


def _call(step_fn, tokens: np.ndarray, state, vocab_size: Optional[int] = None):
    """One checked step: tokens (B,) -> logits (B, V) float64 (-inf allowed), new state."""
    out = step_fn(tokens, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else type(out).__name__
        raise ValueError(f"step: expected step(tokens, state) to return a pair (logits of shape (B, V), new state), "
                         f"got {got}")
    logits, new_state = out
    logits = check_array("logits returned by step", logits, (tokens.shape[0], vocab_size), ("B", "V"),
                         allow_neg_inf=True)
    if logits.shape[1] == 0 or not np.isfinite(logits).any(axis=1).all():
        raise ValueError("logits returned by step: every row needs at least one finite logit (V >= 1; -inf only "
                         "bans a token)")
    return logits.astype(np.float64, copy=False), new_state


def _feed_prefix(step_fn, prefix: np.ndarray, state, vocab_size: Optional[int]):
    """Feed the prefix one token at a time (batch 1). Returns (logits (1, V) for the next token, state, V).

    A token the model rejects is reported as the caller's `prefix`, not as the model's own argument name."""
    logits = None
    with renamed("tokens", "prefix"):
        for token in prefix:
            logits, state = _call(step_fn, np.array([token], dtype=np.int64), state,
                                  vocab_size if logits is None else logits.shape[1])
    V = logits.shape[1]
    if prefix.max() >= V:
        _check_tokens("prefix", prefix, False, V)
    return logits, state, V


# ----------------------------------------------------------------------------------------------------------------
# the distribution a sampler draws from
# ----------------------------------------------------------------------------------------------------------------
TOP_P_TOLERANCE = 1e-9
"""Nucleus boundary: a set of tokens whose total probability is at least p - TOP_P_TOLERANCE counts as reaching p."""


def filter_probs(logits, temperature: float = 1.0, top_k: Optional[int] = None,
                 top_p: Optional[float] = None) -> np.ndarray:
    """The probabilities a sampler draws from, for logits of shape (..., V); the result has the same shape.

    Applied in this order:
        temperature T:  p_i proportional to exp((o_i - max_j o_j) / T)   (the max subtracted *before* dividing, so
                        nothing overflows: T < 1 sharpens, T > 1 flattens, and as T -> 0 the result tends to the
                        argmax, ties shared equally; at T = 1e-308 it is the argmax)
        top_k = k:      keep the k most probable tokens (ties broken by the lower index), renormalise
        top_p = p:      nucleus: walk the tokens from most to least probable (ties: lower index first) and keep
                        each token while the probability of the tokens kept before it is < p - 1e-9
                        (TOP_P_TOLERANCE, so that a sum that equals p up to rounding counts as reaching p);
                        renormalise. Always keeps at least the most probable token; p = 1 keeps everything.
    Logits of -inf (banned tokens) get probability exactly 0. Every row of the result is non-negative and sums
    to 1.
    """
    temperature = _check_temperature(temperature)
    top_k = _check_top_k(top_k)
    top_p = _check_top_p(top_p)
    logits = check_array("logits", logits, (None,) * max(1, np.ndim(logits)), allow_neg_inf=True)
    if logits.shape[-1] == 0:
        raise ValueError(f"logits: expected shape (..., V) with V >= 1, got {logits.shape}")
    logits = logits.astype(np.float64)
    if not np.isfinite(logits).any(axis=-1).all():
        raise ValueError("logits: every row needs at least one finite logit (-inf only bans a token)")
    with np.errstate(over="ignore"):                                 # (-1e308) - 1e308 = -inf: probability 0
        z = (logits - logits.max(axis=-1, keepdims=True)) / temperature   # <= 0, the max entry exactly 0
    probs = softmax(z)
    if top_k is None and (top_p is None or top_p == 1.0):
        return probs
    order = np.argsort(-probs, axis=-1, kind="stable")          # most probable first
    sorted_p = np.take_along_axis(probs, order, axis=-1)
    keep_sorted = np.ones(sorted_p.shape, dtype=bool)
    if top_k is not None:
        keep_sorted[..., top_k:] = False
        sorted_p = np.where(keep_sorted, sorted_p, 0.0)
        sorted_p /= sorted_p.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        mass_before = np.zeros_like(sorted_p)                   # exclusive prefix sums: no cumsum - p cancellation
        np.cumsum(sorted_p[..., :-1], axis=-1, out=mass_before[..., 1:])
        nucleus = mass_before < top_p - TOP_P_TOLERANCE
        nucleus[..., 0] = True                                  # the most probable token is always kept
        keep_sorted &= nucleus
    kept = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(kept, order, keep_sorted, axis=-1)
    probs = np.where(kept, probs, 0.0)
    return probs / probs.sum(axis=-1, keepdims=True)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of probs (N, V), by inverting the cumulative distribution with one uniform per row.

    A token of probability zero is never drawn (its interval [cdf_{i-1}, cdf_i) is empty).
    """
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cdf[:, -1]                   # scaled so rounding in cdf[-1] cannot overflow
    return (cdf <= u[:, None]).sum(axis=1)


# ----------------------------------------------------------------------------------------------------------------
# decoders
# ----------------------------------------------------------------------------------------------------------------
def greedy(step, prefix: Sequence[int], max_len: int, *, stop_token: Optional[int] = None,
           state=None) -> Hypothesis:
    """Pick the most probable next token at every step (ties: the lowest id).

    step:     step(tokens (B,), state) -> (logits (B, V), state), or an object with such a .step
    prefix:   non-empty token ids fed first (batch 1); state: the state before the prefix (None: the model's zeros)
    max_len:  the most tokens generated; stops earlier right after generating stop_token
    Greedy makes the locally best choice; it need not find the most probable sequence (see beam_search).
    """
    step_fn, _, V = _resolve(step)
    prefix = _check_tokens("prefix", prefix, False, V)
    max_len = check_positive_int("max_len", max_len)
    stop_token = _check_stop(stop_token, V)
    logits, state, V = _feed_prefix(step_fn, prefix, state, V)
    stop_token = _check_stop(stop_token, V)
    hyp = Hypothesis()
    for t in range(max_len):
        logp = log_softmax(logits[0])
        token = int(np.argmax(logp))
        hyp.tokens.append(token)
        hyp.log_prob += float(logp[token])
        if token == stop_token:
            hyp.finished = True
            break
        if t + 1 < max_len:
            logits, state = _call(step_fn, np.array([token], dtype=np.int64), state, V)
    return hyp


def sample(step, prefix: Sequence[int], max_len: int, rng: np.random.Generator, *, temperature: float = 1.0,
           top_k: Optional[int] = None, top_p: Optional[float] = None, stop_token: Optional[int] = None,
           num_samples: int = 1, state=None, select_state: Optional[Callable] = None) -> List[Hypothesis]:
    """Ancestral sampling: draw each next token from the model's distribution given everything drawn so far.

    The prefix is fed once; its state is copied to `num_samples` rows, which are then sampled as one batch.
    Each step draws from filter_probs(logits, temperature, top_k, top_p) using `rng` only, so the same seed
    gives the same samples. A sample stops at stop_token or after max_len tokens.
    Returns num_samples Hypothesis objects; log_prob is under the *unfiltered* model (temperature 1), in nats.
    """
    step_fn, select, V = _resolve(step, select_state)
    prefix = _check_tokens("prefix", prefix, False, V)
    max_len = check_positive_int("max_len", max_len)
    rng = check_rng("rng", rng)
    num_samples = check_positive_int("num_samples", num_samples)
    stop_token = _check_stop(stop_token, V)
    _check_temperature(temperature)             # checked once here, so a bad value fails before any step
    _check_top_k(top_k)
    _check_top_p(top_p)
    logits, state, V = _feed_prefix(step_fn, prefix, state, V)
    stop_token = _check_stop(stop_token, V)
    rows = np.zeros(num_samples, dtype=np.int64)
    logits, state = logits[rows], select(state, rows)
    hyps = [Hypothesis() for _ in range(num_samples)]
    alive = np.ones(num_samples, dtype=bool)
    for t in range(max_len):
        tokens = _draw(filter_probs(logits, temperature, top_k, top_p), rng)
        logp = log_softmax(logits)[np.arange(num_samples), tokens]
        for i in np.flatnonzero(alive):
            hyps[i].tokens.append(int(tokens[i]))
            hyps[i].log_prob += float(logp[i])
            if tokens[i] == stop_token:
                hyps[i].finished = True
                alive[i] = False
        if not alive.any() or t + 1 == max_len:
            break
        logits, state = _call(step_fn, tokens.astype(np.int64), state, V)
    return hyps


def beam_search(step, prefix: Sequence[int], max_len: int, width: int, *, alpha: float = DEFAULT_ALPHA,
                stop_token: Optional[int] = None, state=None,
                select_state: Optional[Callable] = None) -> List[Hypothesis]:
    """Beam search, returning the hypotheses it found ranked by length-normalised log-probability.

    Score of a hypothesis y_1..y_L (L generated tokens, the stop token included), in nats:

        score = log P(y_1..y_L | prefix) / L**alpha = (sum_t log P(y_t | prefix, y_<t)) / L**alpha

    alpha = 0 ranks by the raw log-probability; alpha = 1 by the mean log-probability per token; 0.7
    (DEFAULT_ALPHA) is in between. Every token adds a term <= 0, so of two hypotheses that make equally uncertain
    choices the longer one has the lower raw log-probability; what a sentence really costs is how uncertain its
    choices were, and alpha > 0 discounts length.

    The procedure, exactly:
      1. Start with one live hypothesis (empty) and no finished ones.
      2. Each step extends every live hypothesis by every token with a finite log-probability and keeps the
         (width - number finished) best extensions by log-probability (all live ones have the same length, so
         alpha plays no part here).
      3. An extension ending in stop_token is finished and leaves the beam, which keeps one fewer live
         hypothesis from then on ("shrinking beam").
      4. Stop when `width` hypotheses have finished, or after max_len tokens (hypotheses live then are returned
         with finished=False).
      5. Rank finished and live hypotheses together by score (here alone alpha acts) and return the best `width`.
    With width 1 this is exactly greedy decoding. It is a heuristic: a wider beam is not guaranteed to find a
    more probable (or better-scoring) sentence.
    """
    step_fn, select, V = _resolve(step, select_state)
    prefix = _check_tokens("prefix", prefix, False, V)
    max_len = check_positive_int("max_len", max_len)
    width = check_positive_int("width", width)
    alpha = _check_alpha(alpha)
    stop_token = _check_stop(stop_token, V)
    logits, state, V = _feed_prefix(step_fn, prefix, state, V)
    stop_token = _check_stop(stop_token, V)
    live = [Hypothesis()]
    done: List[Hypothesis] = []
    for t in range(max_len):
        total = np.array([h.log_prob for h in live])[:, None] + log_softmax(logits)        # (n_live, V)
        n_keep = min(width - len(done), int(np.isfinite(total).sum()))                     # banned tokens never
        flat = np.argsort(-total, axis=None, kind="stable")[:n_keep]                      # best first
        beam_rows, tokens = np.divmod(flat, V)
        next_live, next_rows, next_tokens = [], [], []
        for row, token in zip(beam_rows, tokens):
            hyp = Hypothesis(live[row].tokens + [int(token)], float(total[row, token]), bool(token == stop_token))
            if hyp.finished:
                done.append(hyp)
            else:
                next_live.append(hyp)
                next_rows.append(row)
                next_tokens.append(token)
        live = next_live
        if not live or t + 1 == max_len:
            break
        state = select(state, np.array(next_rows, dtype=np.int64))
        logits, state = _call(step_fn, np.array(next_tokens, dtype=np.int64), state, V)
    return sorted(done + live, key=lambda h: -h.score(alpha))[:width]


# ----------------------------------------------------------------------------------------------------------------
# scoring
# ----------------------------------------------------------------------------------------------------------------
def token_log_probs(step, prefix: Sequence[int], tokens: Sequence[int], *, state=None) -> np.ndarray:
    """The chain-rule terms log P(y_t | prefix, y_1..y_{t-1}) of `tokens` after `prefix`: shape (L,), in nats.

    Teacher forcing: the model is fed the given tokens, not its own choices. A banned token scores -inf.
    """
    step_fn, _, V = _resolve(step)
    prefix = _check_tokens("prefix", prefix, False, V)
    tokens = _check_tokens("tokens", tokens, True, V)
    logits, state, V = _feed_prefix(step_fn, prefix, state, V)
    tokens = _check_tokens("tokens", tokens, True, V)
    out = np.empty(tokens.size)
    for t, token in enumerate(tokens):
        out[t] = log_softmax(logits[0])[token]
        if t + 1 < tokens.size:
            logits, state = _call(step_fn, np.array([token], dtype=np.int64), state, V)
    return out


def sequence_log_prob(step, prefix: Sequence[int], tokens: Sequence[int], *, state=None) -> float:
    """log P(tokens | prefix) = sum_t log P(y_t | prefix, y_<t), in nats (divide by log 2 for bits)."""
    return float(np.sum(token_log_probs(step, prefix, tokens, state=state)))
