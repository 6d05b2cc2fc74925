"""Tests for rnn_utils.sampling, on toy models written here (independent of the package's layers)."""
import itertools
import math

import numpy as np
import pytest

from rnn_utils.sampling import (
    Hypothesis,
    beam_search,
    filter_probs,
    greedy,
    sample,
    sequence_log_prob,
    token_log_probs,
)
from rnn_utils.recurrent import select_state


class TinyRNN:
    """h_t = tanh(E[x_t] + W h_{t-1}), logits = Wy h_t + b. State (B, H), or the pair (h, 2h) as (1, B, H)."""

    def __init__(self, V=4, H=5, seed=0, scale=2.0, pair_state=False):
        rng = np.random.default_rng(seed)
        self.E = scale * rng.standard_normal((V, H))
        self.W = rng.standard_normal((H, H)) / np.sqrt(H)
        self.Wy = scale * rng.standard_normal((V, H))
        self.b = rng.standard_normal(V)
        self.V, self.H, self.pair_state = V, H, pair_state

    def step(self, tokens, state):
        tokens = np.asarray(tokens)
        if state is None:
            h = np.zeros((tokens.shape[0], self.H))
        else:
            h = state[0][0] if self.pair_state else state
        h = np.tanh(self.E[tokens] + h @ self.W.T)
        logits = h @ self.Wy.T + self.b
        return logits, ((h[None], 2 * h[None]) if self.pair_state else h)

    def reference_log_prob(self, tokens, prefix):
        """log P(tokens | prefix), written out as one loop over the whole sequence (single example)."""
        h = np.zeros(self.H)
        seq = list(prefix) + list(tokens)
        total = 0.0
        for t in range(len(seq) - 1):
            h = np.tanh(self.E[seq[t]] + self.W @ h)
            o = self.Wy @ h + self.b
            p = np.exp(o) / np.exp(o).sum()
            if t >= len(prefix) - 1:
                total += math.log(p[seq[t + 1]])
        return total


class Bigram:
    """P(next | current) from a fixed table; stateless (state stays None)."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype=float)

    def step(self, tokens, state):
        return np.log(self.table[np.asarray(tokens)]), None


def all_sequences(V, max_len, stop):
    """Every continuation the decoders can return: ends at its first stop token, or has max_len tokens."""
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=L):
            if stop in seq[:-1]:
                continue
            if L < max_len and seq[-1] != stop:
                continue
            yield list(seq)


# ---------------------------------------------------------------------------------------------------------------
# filter_probs
# ---------------------------------------------------------------------------------------------------------------
P4 = np.array([0.1, 0.2, 0.3, 0.4])


def test_filter_probs_closed_forms():
    logits = np.log(P4)
    np.testing.assert_allclose(filter_probs(logits), P4, atol=1e-15)
    # temperature 1/2: p_i^2 / sum p^2
    np.testing.assert_allclose(filter_probs(logits, temperature=0.5), P4**2 / np.sum(P4**2), atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, temperature=2.0), np.sqrt(P4) / np.sum(np.sqrt(P4)), atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, top_k=2), [0, 0, 3 / 7, 4 / 7], atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, top_k=4), P4, atol=1e-15)
    # nucleus: smallest set with mass >= p
    np.testing.assert_allclose(filter_probs(logits, top_p=0.35), [0, 0, 0, 1], atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, top_p=0.45), [0, 0, 3 / 7, 4 / 7], atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, top_p=0.75), [0, 2 / 9, 3 / 9, 4 / 9], atol=1e-15)
    np.testing.assert_allclose(filter_probs(logits, top_p=1.0), P4, atol=1e-15)
    # top-k then top-p on the renormalised top-k distribution: {0.3, 0.4} -> {3/7, 4/7}; 4/7 >= 0.5
    np.testing.assert_allclose(filter_probs(logits, top_k=2, top_p=0.5), [0, 0, 0, 1], atol=1e-15)


def test_filter_probs_rows_sum_to_one_and_keep_order():
    rng = np.random.default_rng(1)
    logits = 3 * rng.standard_normal((6, 7, 11))
    for kwargs in [{}, {"temperature": 0.3}, {"temperature": 5.0}, {"top_k": 3}, {"top_p": 0.6},
                   {"temperature": 0.7, "top_k": 5, "top_p": 0.8}, {"top_k": 1}]:
        p = filter_probs(logits, **kwargs)
        assert p.shape == logits.shape
        assert (p >= 0).all()
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
        kept = p > 0
        if "top_k" in kwargs:
            assert (kept.sum(axis=-1) <= kwargs["top_k"]).all()
        # whatever is kept are the most probable tokens
        lowest_kept = np.where(kept, logits, np.inf).min(axis=-1)
        highest_dropped = np.where(kept, -np.inf, logits).max(axis=-1)
        assert (lowest_kept > highest_dropped).all()


def test_top_k_1_and_tiny_temperature_are_one_hot_at_argmax():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((20, 9))
    one_hot = np.eye(9)[logits.argmax(axis=1)]
    np.testing.assert_array_equal(filter_probs(logits, top_k=1), one_hot)
    np.testing.assert_allclose(filter_probs(logits, temperature=1e-6), one_hot, atol=1e-300)
    np.testing.assert_array_equal(filter_probs(logits, top_p=1e-9), one_hot)


def test_top_p_keeps_the_smallest_set_reaching_p_exactly():
    # probabilities exactly 1/2 and 1/4: the first token alone already has mass >= 0.5
    np.testing.assert_array_equal(filter_probs(np.log([0.5, 0.25, 0.25]), top_p=0.5), [1, 0, 0])
    np.testing.assert_array_equal(filter_probs(np.log([0.5, 0.25, 0.25]), top_p=0.75), [2 / 3, 1 / 3, 0])


def test_top_k_ties_keep_exactly_k_lowest_ids():
    np.testing.assert_array_equal(filter_probs(np.zeros(5), top_k=2), [0.5, 0.5, 0, 0, 0])


@pytest.mark.parametrize(
    "kwargs, name",
    [({"temperature": 0}, "temperature"), ({"temperature": -1.0}, "temperature"),
     ({"temperature": float("nan")}, "temperature"), ({"temperature": "hot"}, "temperature"),
     ({"top_k": 0}, "top_k"), ({"top_k": 1.5}, "top_k"), ({"top_k": True}, "top_k"),
     ({"top_p": 0.0}, "top_p"), ({"top_p": 1.01}, "top_p"), ({"top_p": -0.2}, "top_p"),
     ({"top_p": float("nan")}, "top_p")],
)
def test_bad_filter_arguments_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        filter_probs(np.zeros(4), **kwargs)
    with pytest.raises(ValueError, match=name):
        sample(Bigram(np.full((4, 4), 0.25)), [0], 3, np.random.default_rng(0), **kwargs)


def test_filter_probs_rejects_nan_logits():
    with pytest.raises(ValueError, match="logits"):
        filter_probs(np.array([0.0, np.nan]))


# ---------------------------------------------------------------------------------------------------------------
# greedy, sampling limits, beams of width 1
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("stop", [None, 0])
def test_greedy_limits_of_sampling_and_beam_width_1(seed, stop):
    model = TinyRNN(V=6, H=5, seed=seed)
    g = greedy(model, [1, 2], 12, stop_token=stop)
    assert 1 <= len(g.tokens) <= 12 and g.finished == (stop is not None and g.tokens[-1] == stop)
    for kwargs in [{"temperature": 1e-6}, {"top_k": 1}, {"top_p": 1e-9}]:
        for s in sample(model, [1, 2], 12, np.random.default_rng(seed), stop_token=stop, num_samples=3, **kwargs):
            assert s.tokens == g.tokens and s.finished == g.finished
            assert s.log_prob == pytest.approx(g.log_prob, abs=1e-12)
    (b,) = beam_search(model, [1, 2], 12, width=1, stop_token=stop)
    assert b.tokens == g.tokens and b.finished == g.finished and b.log_prob == pytest.approx(g.log_prob, abs=1e-12)


def test_greedy_is_argmax_at_each_step_and_reports_its_log_prob():
    model = TinyRNN(V=5, seed=3)
    g = greedy(model, [0], 6)
    assert len(g.tokens) == 6 and not g.finished
    for t in range(6):
        # the argmax given the greedy prefix, checked against the reference scorer
        scores = [model.reference_log_prob(g.tokens[:t] + [v], [0]) for v in range(5)]
        assert int(np.argmax(scores)) == g.tokens[t]
    assert g.log_prob == pytest.approx(model.reference_log_prob(g.tokens, [0]), abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# beam search against exhaustive search
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_beam_is_exhaustive_search(alpha, seed):
    V, max_len, stop = 3, 4, 0
    model = TinyRNN(V=V, H=4, seed=seed)
    brute = sorted(
        (Hypothesis(s, model.reference_log_prob(s, [stop]), s[-1] == stop) for s in all_sequences(V, max_len, stop)),
        key=lambda h: -h.score(alpha),
    )
    assert math.fsum(math.exp(h.log_prob) for h in brute) == pytest.approx(1.0, abs=1e-12)  # a distribution
    beams = beam_search(model, [stop], max_len, width=V**max_len, alpha=alpha, stop_token=stop)
    assert len(beams) == len(brute)
    for b, h in zip(beams[:5], brute[:5]):
        assert b.tokens == h.tokens and b.finished == h.finished
        assert b.log_prob == pytest.approx(h.log_prob, abs=1e-12)
        assert b.score(alpha) == pytest.approx(h.score(alpha), abs=1e-12)


def finite_bigram(table):
    table = np.asarray(table, dtype=float)
    return Bigram(np.where(table > 0, table, 1e-300))  # impossible transitions: log-probability about -690


def test_beam_finds_the_best_sequence_where_greedy_does_not():
    # tokens: 0 = <eos> (start and stop), 1 = A, 2 = B, 3 = C
    model = finite_bigram([[0.0, 0.6, 0.4, 0.0],     # after <eos>: A is the likelier first token ...
                           [0.3, 0.25, 0.25, 0.2],   # ... but then A <eos> has only 0.6 * 0.3 = 0.18,
                           [0.95, 0.0, 0.05, 0.0],   # while B <eos> has 0.4 * 0.95 = 0.38
                           [1.0, 0.0, 0.0, 0.0]])
    g = greedy(model, [0], 2, stop_token=0)
    beams = beam_search(model, [0], 2, width=2, alpha=0.0, stop_token=0)
    assert g.tokens == [1, 0] and g.log_prob == pytest.approx(math.log(0.18), abs=1e-12)
    assert beams[0].tokens == [2, 0] and beams[0].log_prob == pytest.approx(math.log(0.38), abs=1e-12)
    assert beams[1].tokens == [1, 0] and all(b.finished for b in beams)


def test_length_normalisation_changes_the_winner():
    model = finite_bigram([[0.0, 0.6, 0.4, 0.0, 0.0],
                           [0.5, 0.5, 0.0, 0.0, 0.0],   # [1, 0]: P = 0.6 * 0.5 = 0.3, two tokens
                           [0.1, 0.0, 0.0, 0.9, 0.0],   # [2, 3, 4, 0]: P = 0.4 * 0.9**3 = 0.2916, four tokens
                           [0.1, 0.0, 0.0, 0.0, 0.9],
                           [0.9, 0.0, 0.0, 0.0, 0.1]])
    raw = beam_search(model, [0], 4, width=5**4, alpha=0.0, stop_token=0)
    mean = beam_search(model, [0], 4, width=5**4, alpha=1.0, stop_token=0)
    assert raw[0].tokens == [1, 0] and raw[0].score(0.0) == pytest.approx(math.log(0.3), abs=1e-12)
    assert mean[0].tokens == [2, 3, 4, 0] and mean[0].score(1.0) == pytest.approx(math.log(0.2916) / 4, abs=1e-12)
    assert [h.score(1.0) for h in mean] == sorted([h.score(1.0) for h in mean], reverse=True)


# ---------------------------------------------------------------------------------------------------------------
# sampling frequencies and reproducibility
# ---------------------------------------------------------------------------------------------------------------
def chi_square(counts, probs):
    expected = counts.sum() * np.asarray(probs)
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a token of probability zero was drawn"
    return float(np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep]))


def test_sampling_frequencies_match_the_distribution():
    p = np.array([0.05, 0.15, 0.3, 0.1, 0.4])
    model = Bigram(np.tile(p, (5, 1)))
    n = 20000
    draws = [h.tokens[0] for h in sample(model, [0], 1, np.random.default_rng(7), num_samples=n)]
    counts = np.bincount(draws, minlength=5)
    assert chi_square(counts, p) < 25.0  # df = 4: P(chi2 > 25) ~ 5e-5
    for kwargs in [{"top_k": 2}, {"top_p": 0.65}, {"temperature": 0.5}]:
        q = filter_probs(np.log(p), **kwargs)
        draws = [h.tokens[0] for h in sample(model, [0], 1, np.random.default_rng(8), num_samples=n, **kwargs)]
        assert chi_square(np.bincount(draws, minlength=5), q) < 25.0


def test_sampled_pairs_follow_the_chain_rule():
    V = 4
    model = TinyRNN(V=V, H=5, seed=4, scale=1.0)
    hyps = sample(model, [0], 2, np.random.default_rng(9), num_samples=20000)
    counts = np.zeros(V * V)
    for h in hyps:
        counts[h.tokens[0] * V + h.tokens[1]] += 1
    probs = [math.exp(model.reference_log_prob([a, b], [0])) for a in range(V) for b in range(V)]
    assert sum(probs) == pytest.approx(1.0)
    assert chi_square(counts, probs) < 45.0  # df = 15: mean 15, sd 5.5
    for h in hyps[:20]:
        assert h.log_prob == pytest.approx(model.reference_log_prob(h.tokens, [0]), abs=1e-12)


def test_seeded_sampling_is_reproducible():
    model = TinyRNN(V=6, seed=5, scale=1.0)
    a = sample(model, [0], 15, np.random.default_rng(11), num_samples=4, stop_token=0, temperature=1.3)
    b = sample(model, [0], 15, np.random.default_rng(11), num_samples=4, stop_token=0, temperature=1.3)
    c = sample(model, [0], 15, np.random.default_rng(12), num_samples=4, stop_token=0, temperature=1.3)
    assert [h.tokens for h in a] == [h.tokens for h in b]
    assert [h.tokens for h in a] != [h.tokens for h in c]
    for h in a:
        assert h.finished == (h.tokens[-1] == 0) and (h.finished or len(h.tokens) == 15)
        assert 0 not in h.tokens[:-1]


def test_tuple_state_and_model_select_state():
    plain, paired = TinyRNN(V=5, seed=6), TinyRNN(V=5, seed=6, pair_state=True)
    assert greedy(paired, [0], 8).tokens == greedy(plain, [0], 8).tokens
    b1 = beam_search(plain, [0, 3], 6, width=3, stop_token=0)
    b2 = beam_search(paired, [0, 3], 6, width=3, stop_token=0)
    assert [h.tokens for h in b1] == [h.tokens for h in b2]
    s1 = sample(plain, [0], 6, np.random.default_rng(3), num_samples=5)
    s2 = sample(paired, [0], 6, np.random.default_rng(3), num_samples=5)
    assert [h.tokens for h in s1] == [h.tokens for h in s2]
    # a plain function works as well as an object with .step
    assert greedy(plain.step, [0], 8).tokens == greedy(plain, [0], 8).tokens
    # a model-specific selector is used when given
    calls = []

    def selector(state, index):
        calls.append(np.array(index))
        return state[index]

    beam_search(plain, [0], 3, width=2, select_state=selector)
    assert calls and all(c.ndim == 1 for c in calls)


def test_select_state_picks_rows_on_axis_minus_2():
    h = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    out = select_state((h, h[0]), np.array([2, 2, 0]))
    np.testing.assert_array_equal(out[0], h[:, [2, 2, 0], :])
    np.testing.assert_array_equal(out[1], h[0][[2, 2, 0]])
    assert select_state(None, np.array([0])) is None
    with pytest.raises(ValueError, match="state"):
        select_state(np.zeros(3), np.array([0]))


# ---------------------------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------------------------
def test_scoring_matches_the_reference_chain_rule():
    model = TinyRNN(V=5, seed=7)
    tokens, prefix = [3, 1, 4, 1, 0], [0, 2]
    terms = token_log_probs(model, prefix, tokens)
    assert terms.shape == (5,) and (terms < 0).all()
    for t in range(1, 6):
        assert terms[:t].sum() == pytest.approx(model.reference_log_prob(tokens[:t], prefix), abs=1e-12)
    assert sequence_log_prob(model, prefix, tokens) == pytest.approx(model.reference_log_prob(tokens, prefix))
    assert sequence_log_prob(model, prefix, []) == 0.0


# ---------------------------------------------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------------------------------------------
def test_bad_decoder_arguments_raise_naming_the_argument():
    model, rng = TinyRNN(V=4), np.random.default_rng(0)
    with pytest.raises(ValueError, match="prefix"):
        greedy(model, [], 3)
    with pytest.raises(ValueError, match="prefix"):
        greedy(model, [0.5], 3)
    with pytest.raises(ValueError, match="prefix"):
        sample(model, [[0, 1]], 3, rng)
    with pytest.raises(ValueError, match="max_len"):
        greedy(model, [0], 0)
    with pytest.raises(ValueError, match="width"):
        beam_search(model, [0], 3, width=0)
    with pytest.raises(ValueError, match="alpha"):
        beam_search(model, [0], 3, width=2, alpha=-0.5)
    with pytest.raises(ValueError, match="rng"):
        sample(model, [0], 3, 42)
    with pytest.raises(ValueError, match="num_samples"):
        sample(model, [0], 3, rng, num_samples=0)
    with pytest.raises(ValueError, match="stop_token"):
        greedy(model, [0], 3, stop_token=-1)
    with pytest.raises(ValueError, match="tokens"):
        sequence_log_prob(model, [0], [1, 9])
    with pytest.raises(ValueError, match="step"):
        greedy(42, [0], 3)


def test_a_step_returning_bad_logits_is_caught():
    with pytest.raises(ValueError, match=r"logits returned by step: expected shape \(B=1, V\)"):
        greedy(lambda tokens, state: (np.zeros((2, 4)), state), [0], 3)
    with pytest.raises(ValueError, match="pair"):
        greedy(lambda tokens, state: np.zeros((1, 4)), [0], 3)
    with pytest.raises(ValueError, match="NaN"):
        greedy(lambda tokens, state: (np.full((1, 4), np.nan), state), [0], 3)


# ---------------------------------------------------------------------------------------------------------------
# issue 8: temperature limits, the exact nucleus boundary, banned tokens, argument checks
# ---------------------------------------------------------------------------------------------------------------
from rnn_utils.sampling import length_normalised  # noqa: E402


@pytest.mark.parametrize("T", [1e-6, 1e-30, 1e-300, 1e-308])
def test_tiny_temperature_is_the_argmax_and_never_nan(T):
    logits = np.array([[0.3, 2.0, -1.0, 1.999], [5.0, 5.0, 1.0, -3.0]])
    p = filter_probs(logits, temperature=T)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p, [[0, 1, 0, 0], [0.5, 0.5, 0, 0]], atol=1e-12 if T < 1e-5 else 1e-2)


def test_huge_finite_logits_give_finite_probabilities():
    p = filter_probs(np.array([1e308, -1e308, 1e308, 0.0]), temperature=0.5)
    np.testing.assert_array_equal(p, [0.5, 0, 0.5, 0])
    p = filter_probs(np.array([1e308, -1e308]), temperature=1e300)
    assert np.isfinite(p).all() and abs(p.sum() - 1) < 1e-15


def test_temperature_to_zero_tends_to_the_argmax_monotonically():
    logits = np.log([0.5, 0.3, 0.2])
    tops = [filter_probs(logits, temperature=T)[0] for T in (2.0, 1.0, 0.5, 0.1, 0.01)]
    assert all(a < b for a, b in zip(tops, tops[1:])) and tops[-1] > 1 - 1e-15


def test_top_p_one_is_exactly_no_filtering():
    logits = np.random.default_rng(0).standard_normal((50, 7)) * 4
    np.testing.assert_array_equal(filter_probs(logits, top_p=1.0), filter_probs(logits))


@pytest.mark.parametrize("shift", [0.0, 3.7, -12.25])
def test_top_p_exact_sum_case_is_not_on_a_knife_edge(shift):
    """[0.5, 0.25, 0.15, 0.1] with p = 0.9: the three largest sum to 0.9 in exact arithmetic, so the nucleus is
    exactly those three, whatever rounding the softmax makes (the tolerance is stated in the docstring)."""
    logits = np.log([0.5, 0.25, 0.15, 0.1]) + shift
    p = filter_probs(logits, top_p=0.9)
    np.testing.assert_allclose(p, [0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0], rtol=1e-14)
    assert p[3] == 0
    np.testing.assert_allclose(filter_probs(logits[::-1], top_p=0.9), p[::-1], rtol=1e-14)
    assert (filter_probs(logits, top_p=0.9 + 1e-6) > 0).all()        # just above: the fourth token is needed


def _banned_model(V=6, banned=(1, 4)):
    def step(tokens, state):
        logits = np.tile(np.linspace(0.0, 1.0, V), (len(tokens), 1))
        logits[:, list(banned)] = -np.inf
        return logits, state
    return step


def test_minus_inf_bans_a_token_in_every_decoder():
    step = _banned_model()
    assert greedy(step, [0], 5).tokens == [5] * 5
    g = sample(step, [0], 30, np.random.default_rng(0), num_samples=20, temperature=3.0)
    assert not {1, 4} & {t for h in g for t in h.tokens}
    beams = beam_search(step, [0], 3, width=50, alpha=0.0)
    assert beams and not {1, 4} & {t for h in beams for t in h.tokens}
    assert len(beams) == 50 and all(np.isfinite(h.log_prob) for h in beams)      # 4**3 = 64 allowed, width 50
    assert sequence_log_prob(step, [0], [1]) == -np.inf
    p = filter_probs(np.array([0.0, -np.inf, 1.0]), top_k=2)
    assert p[1] == 0 and p.sum() == 1


def test_nan_and_all_banned_logits_are_errors():
    with pytest.raises(ValueError, match=r"logits: contains 1 NaN or \+inf"):
        filter_probs(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"logits: contains 1 NaN or \+inf"):
        filter_probs(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="every row needs at least one finite logit"):
        filter_probs(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    with pytest.raises(ValueError, match="logits returned by step: every row needs at least one finite logit"):
        greedy(lambda t, s: (np.full((len(t), 3), -np.inf), s), [0], 2)


def test_length_normalised_arguments():
    assert length_normalised(-6.0, 4, 0.5) == -3.0
    assert length_normalised(-6.0, 0, 0.7) == -6.0
    assert length_normalised(-np.inf, 3, 1.0) == -np.inf
    for kwargs, name in (({"length": -2}, "length"), ({"length": 2.5}, "length"), ({"alpha": -0.1}, "alpha"),
                         ({"alpha": float("nan")}, "alpha"), ({"log_prob": 0.5}, "log_prob"),
                         ({"log_prob": float("nan")}, "log_prob")):
        args = {"log_prob": -1.0, "length": 2, "alpha": 0.7, **kwargs}
        with pytest.raises(ValueError, match=f"^{name}:"):
            length_normalised(**args)
    with pytest.raises(ValueError, match="^alpha:"):
        beam_search(_banned_model(), [0], 2, 2, alpha=-1.0)


def test_stop_token_must_be_in_the_vocabulary():
    with pytest.raises(ValueError, match=r"^stop_token: expected ids in \[0, vocab_size=6\)"):
        greedy(_banned_model(), [0], 3, stop_token=6)
    with pytest.raises(ValueError, match=r"^stop_token: expected a non-negative integer"):
        sample(_banned_model(), [0], 3, np.random.default_rng(0), stop_token=-1)


def test_select_state_index_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match=r"index: expected batch rows in \[0, B=3\), got 1 outside \(e.g. 3\)"):
        select_state(np.zeros((1, 3, 2)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"index: expected an integer index array"):
        select_state(np.zeros((3, 2)), np.array([0.5]))
