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
    sequence_log_prob(step, tokens, prefix)                  -> float             log P(tokens | prefix)
    token_log_probs(step, tokens, prefix)                    -> (L,) array        the chain-rule terms
    filter_probs(logits, temperature, top_k, top_p)          -> probabilities the sampler draws from

All log-probabilities are natural logarithms under the model's own (unfiltered) distribution: temperature,
top-k and top-p change what is *drawn*, never the reported `log_prob`. Divide by log(2) for bits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import numpy as np

from ._checks import check_array, check_positive_int

__all__ = [
    "Hypothesis",
    "length_normalised",
    "filter_probs",
    "select_state",
    "greedy",
    "sample",
    "beam_search",
    "sequence_log_prob",
    "token_log_probs",
]


@dataclass
class Hypothesis:
    """One decoded continuation of the prefix.

    tokens:    the generated token ids (prefix excluded; the stop token included when it was generated)
    log_prob:  log P(tokens | prefix) under the model, natural log, the sum of the per-token terms
    finished:  True if the sequence ended with the stop token
    """

    tokens: List[int] = field(default_factory=list)
    log_prob: float = 0.0
    finished: bool = False

    def score(self, alpha: float = 0.7) -> float:
        """Length-normalised log-probability log_prob / len(tokens)**alpha (see `beam_search`)."""
        return length_normalised(self.log_prob, len(self.tokens), alpha)


def length_normalised(log_prob: float, length: int, alpha: float) -> float:
    """log_prob / length**alpha: alpha=0 is the raw log-probability, alpha=1 the mean per token."""
    if length == 0:
        return float(log_prob)
    return float(log_prob) / length**alpha


# ----------------------------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------------------------
def _check_temperature(temperature) -> float:
    if isinstance(temperature, (bool, np.bool_)) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature: expected a positive finite number, got {temperature!r}")
    return float(temperature)


def _check_top_k(top_k) -> Optional[int]:
    if top_k is None:
        return None
    if isinstance(top_k, (bool, np.bool_)) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k: expected None or an integer k >= 1, got {top_k!r}")
    return int(top_k)


def _check_top_p(top_p) -> Optional[float]:
    if top_p is None:
        return None
    if isinstance(top_p, (bool, np.bool_)) or not isinstance(top_p, (int, float, np.integer, np.floating)):
        raise ValueError(f"top_p: expected None or a number p in (0, 1], got {top_p!r}")
    if not (0.0 < top_p <= 1.0):
        raise ValueError(f"top_p: expected None or a number p in (0, 1], got {top_p!r}")
    return float(top_p)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise ValueError(f"alpha: expected a number >= 0, got {alpha!r}")
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha: expected a finite number >= 0, got {alpha!r}")
    return float(alpha)


def _check_tokens(name: str, tokens, allow_empty: bool) -> np.ndarray:
    arr = np.asarray(tokens)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    arr = check_array(name, arr, (None,), "L", kind="int")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name}: expected at least one token (e.g. a start token), got an empty sequence")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: token ids must be >= 0, got {int(arr.min())}")
    return arr.astype(np.int64)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a np.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _check_stop(stop_token) -> Optional[int]:
    if stop_token is None:
        return None
    if isinstance(stop_token, (bool, np.bool_)) or not isinstance(stop_token, (int, np.integer)) or stop_token < 0:
        raise ValueError(f"stop_token: expected None or a token id >= 0, got {stop_token!r}")
    return int(stop_token)


# ----------------------------------------------------------------------------------------------------------------
# the model interface
# ----------------------------------------------------------------------------------------------------------------
def select_state(state, index):
    """Rows `index` of the batch of `state`: None, an array with the batch on axis -2, or a tuple/list of those.

    index: (N,) int array of batch rows (repeats allowed). Returns a new state of batch size N.
    """
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(select_state(s, index) for s in state)
    arr = np.asarray(state)
    if arr.ndim < 2:
        raise ValueError(
            f"state: expected arrays with the batch on axis -2, e.g. (B, H) or (num_layers, B, H), got shape "
            f"{arr.shape}; give the model a select_state(state, index) method for other layouts"
        )
    return arr[..., index, :]


def _resolve(step, select=None):
    """(step function, state selector) from a function or a model object with .step (and maybe .select_state)."""
    fn = getattr(step, "step", step)
    if not callable(fn):
        raise ValueError(f"step: expected a function step(tokens, state) or an object with .step, got {step!r}")
    if select is None:
        select = getattr(step, "select_state", select_state)
    return fn, select


def _call(step_fn, tokens: np.ndarray, state, vocab_size: Optional[int] = None):
    """One checked step: tokens (B,) -> logits (B, V) float64, new state."""
    out = step_fn(tokens, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("step: must return a pair (logits of shape (B, V), new state)")
    logits, new_state = out
    logits = check_array("logits returned by step", logits, (tokens.shape[0], vocab_size), ("B", "V"))
    return logits.astype(np.float64, copy=False), new_state


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax over the last axis, stable for any finite logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _feed_prefix(step_fn, prefix: np.ndarray, state):
    """Feed the prefix one token at a time (batch 1). Returns (logits (1, V) for the next token, state)."""
    logits = None
    for token in prefix:
        logits, state = _call(step_fn, np.array([token], dtype=np.int64), state,
                              None if logits is None else logits.shape[1])
    return logits, state


# ----------------------------------------------------------------------------------------------------------------
# the distribution a sampler draws from
# ----------------------------------------------------------------------------------------------------------------
def filter_probs(logits, temperature: float = 1.0, top_k: Optional[int] = None,
                 top_p: Optional[float] = None) -> np.ndarray:
    """The probabilities a sampler draws from, for logits of shape (..., V); the result has the same shape.

    Applied in this order:
        temperature T:  p_i proportional to exp(o_i / T)   (T < 1 sharpens, T > 1 flattens, T -> 0 is argmax)
        top_k = k:      keep the k most probable tokens (ties broken by the lower index), renormalise
        top_p = p:      nucleus: keep the smallest set of most probable tokens whose total probability is >= p,
                        renormalise (always keeps at least the most probable token; p = 1 keeps everything)
    Every row of the result is non-negative and sums to 1.
    """
    temperature = _check_temperature(temperature)
    top_k = _check_top_k(top_k)
    top_p = _check_top_p(top_p)
    logits = check_array("logits", logits, (None,) * max(1, np.ndim(logits)))
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits: expected shape (..., V) with V >= 1, got {logits.shape}")
    logits = logits.astype(np.float64)
    z = logits / temperature
    probs = np.exp(z - z.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_k is None and top_p is None:
        return probs
    order = np.argsort(-probs, axis=-1, kind="stable")          # most probable first
    sorted_p = np.take_along_axis(probs, order, axis=-1)
    keep_sorted = np.ones(sorted_p.shape, dtype=bool)
    if top_k is not None:
        keep_sorted[..., top_k:] = False
        sorted_p = np.where(keep_sorted, sorted_p, 0.0)
        sorted_p /= sorted_p.sum(axis=-1, keepdims=True)
    if top_p is not None:
        mass_before = np.cumsum(sorted_p, axis=-1) - sorted_p   # probability of the tokens ranked above
        keep_sorted &= mass_before < top_p
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
    step_fn, _ = _resolve(step)
    prefix = _check_tokens("prefix", prefix, allow_empty=False)
    max_len = check_positive_int("max_len", max_len)
    stop_token = _check_stop(stop_token)
    logits, state = _feed_prefix(step_fn, prefix, state)
    hyp = Hypothesis()
    for t in range(max_len):
        logp = _log_softmax(logits[0])
        token = int(np.argmax(logp))
        hyp.tokens.append(token)
        hyp.log_prob += float(logp[token])
        if token == stop_token:
            hyp.finished = True
            break
        if t + 1 < max_len:
            logits, state = _call(step_fn, np.array([token], dtype=np.int64), state, logits.shape[1])
    return hyp


def sample(step, prefix: Sequence[int], max_len: int, rng: np.random.Generator, *, temperature: float = 1.0,
           top_k: Optional[int] = None, top_p: Optional[float] = None, stop_token: Optional[int] = None,
           num_samples: int = 1, state=None, select_state: Optional[Callable] = None) -> List[Hypothesis]:
    """Ancestral sampling: draw each next token from the model's distribution given everything drawn so far.

    The prefix is fed once; its state is copied to `num_samples` rows, which are then sampled as one batch.
    Each step draws from filter_probs(logits, temperature, top_k, top_p) using `rng` only, so the same seed
    gives the same samples. A sample stops at stop_token or after max_len tokens.
    Returns num_samples Hypothesis objects; log_prob is under the *unfiltered* model (temperature 1).
    """
    step_fn, select = _resolve(step, select_state)
    prefix = _check_tokens("prefix", prefix, allow_empty=False)
    max_len = check_positive_int("max_len", max_len)
    rng = _check_rng(rng)
    num_samples = check_positive_int("num_samples", num_samples)
    stop_token = _check_stop(stop_token)
    _check_temperature(temperature)             # checked once here, so a bad value fails before any step
    _check_top_k(top_k)
    _check_top_p(top_p)
    logits, state = _feed_prefix(step_fn, prefix, state)
    vocab_size = logits.shape[1]
    rows = np.zeros(num_samples, dtype=np.int64)
    logits, state = logits[rows], select(state, rows)
    hyps = [Hypothesis() for _ in range(num_samples)]
    alive = np.ones(num_samples, dtype=bool)
    for t in range(max_len):
        tokens = _draw(filter_probs(logits, temperature, top_k, top_p), rng)
        logp = _log_softmax(logits)[np.arange(num_samples), tokens]
        for i in np.flatnonzero(alive):
            hyps[i].tokens.append(int(tokens[i]))
            hyps[i].log_prob += float(logp[i])
            if tokens[i] == stop_token:
                hyps[i].finished = True
                alive[i] = False
        if not alive.any() or t + 1 == max_len:
            break
        logits, state = _call(step_fn, tokens.astype(np.int64), state, vocab_size)
    return hyps


def beam_search(step, prefix: Sequence[int], max_len: int, width: int, *, alpha: float = 0.7,
                stop_token: Optional[int] = None, state=None,
                select_state: Optional[Callable] = None) -> List[Hypothesis]:
    """Beam search for the continuation with the highest length-normalised log-probability.

    Score of a hypothesis y_1..y_L (L generated tokens, the stop token included):

        score = log P(y_1..y_L | prefix) / L**alpha = (sum_t log P(y_t | prefix, y_<t)) / L**alpha

    alpha = 0: the raw log-probability, which favours short outputs (every extra token adds a negative term);
    alpha = 1: the mean log-probability per token; in between (0.7 is a common choice) a compromise.

    The search keeps `width` partial hypotheses. At each step every live hypothesis is extended by every token;
    the `width` best extensions by log-probability survive (they all have the same length, so this is also the
    order by score). An extension ending with stop_token is finished and leaves the beam, which then keeps one
    fewer live hypothesis ("shrinking beam"); the search ends when `width` hypotheses have finished, or after
    max_len tokens (hypotheses still live then are returned with finished=False).
    With width 1 this is exactly greedy decoding; with width >= V**max_len it is exhaustive search.

    Returns up to `width` hypotheses sorted by score, best first.
    """
    step_fn, select = _resolve(step, select_state)
    prefix = _check_tokens("prefix", prefix, allow_empty=False)
    max_len = check_positive_int("max_len", max_len)
    width = check_positive_int("width", width)
    alpha = _check_alpha(alpha)
    stop_token = _check_stop(stop_token)
    logits, state = _feed_prefix(step_fn, prefix, state)
    vocab_size = logits.shape[1]
    live = [Hypothesis()]
    done: List[Hypothesis] = []
    for t in range(max_len):
        total = np.array([h.log_prob for h in live])[:, None] + _log_softmax(logits)      # (n_live, V)
        n_keep = min(width - len(done), total.size)
        flat = np.argsort(-total, axis=None, kind="stable")[:n_keep]                      # best first
        beam_rows, tokens = np.divmod(flat, vocab_size)
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
        logits, state = _call(step_fn, np.array(next_tokens, dtype=np.int64), state, vocab_size)
    return sorted(done + live, key=lambda h: -h.score(alpha))[:width]


# ----------------------------------------------------------------------------------------------------------------
# scoring
# ----------------------------------------------------------------------------------------------------------------
def token_log_probs(step, tokens: Sequence[int], prefix: Sequence[int], *, state=None) -> np.ndarray:
    """The chain-rule terms log P(y_t | prefix, y_1..y_{t-1}) of `tokens` after `prefix`: shape (L,), natural log.

    Teacher forcing: the model is fed the given tokens, not its own choices.
    """
    step_fn, _ = _resolve(step)
    prefix = _check_tokens("prefix", prefix, allow_empty=False)
    tokens = _check_tokens("tokens", tokens, allow_empty=True)
    logits, state = _feed_prefix(step_fn, prefix, state)
    out = np.empty(tokens.size)
    for t, token in enumerate(tokens):
        logp = _log_softmax(logits[0])
        if token >= logp.size:
            raise ValueError(f"tokens: id {int(token)} at position {t} is outside the vocabulary (V={logp.size})")
        out[t] = logp[token]
        if t + 1 < tokens.size:
            logits, state = _call(step_fn, np.array([token], dtype=np.int64), state, logp.size)
    return out


def sequence_log_prob(step, tokens: Sequence[int], prefix: Sequence[int], *, state=None) -> float:
    """log P(tokens | prefix) = sum_t log P(y_t | prefix, y_<t) (natural log; divide by log 2 for bits)."""
    return float(np.sum(token_log_probs(step, tokens, prefix, state=state)))
