"""The tagging corpus (exact ceilings against brute-force counts and hand computation) and the tagger (gradient
checks, what each output may read, the bidirectional layer against a hand-written forward/backward pair)."""
from collections import Counter, defaultdict

import numpy as np
import pytest

from rnn_utils.gradcheck import gradcheck, numerical_gradient
from rnn_utils.losses import softmax_cross_entropy
from rnn_utils.recurrent import GRU, LSTM, RNN
from rnn_utils.tagging import Tagger, TaggingGrammar, tagger_accuracy, train_tagger
from rnn_utils.unrolled import Unrolled


@pytest.fixture(scope="module")
def grammar():
    return TaggingGrammar()


@pytest.fixture(scope="module")
def big_sample(grammar):
    return grammar.sample(30000, np.random.default_rng(2024))


# ---------------------------------------------------------------------------------------------------- the corpus
def test_the_lecture_and_notebook_00_sentences_are_in_the_language_with_their_tags(grammar):
    cases = {
        "he said teddy bears are on sale": [0, 0, 0, 0, 0, 0, 0],
        "he said teddy roosevelt was a great president": [0, 0, 1, 1, 0, 0, 0, 0],
        "harry potter and hermione granger invented a new spell": [1, 1, 0, 1, 1, 0, 0, 0, 0],
        "hermione granger saw harry potter books": [1, 1, 0, 0, 0, 0],
        "martin luther king gave a speech": [1, 1, 1, 0, 0, 0],
    }
    for sentence, tags in cases.items():
        assert grammar.tags_of(sentence).tolist() == tags, sentence
    assert grammar.tags_of("teddy bears was a great president") is None
    assert grammar.tags_of("he said") is None


def test_probabilities_sum_to_one_and_every_sentence_has_one_derivation(grammar):
    derivs = list(grammar.derivations())
    assert sum(p for _, _, p in derivs) == pytest.approx(1.0, abs=1e-12)
    sentences = [s for s, _, _ in derivs]
    assert len(set(sentences)) == len(sentences) == 3108        # unambiguous: the words decide the tags
    assert all(p > 0 for _, _, p in derivs)


def test_ambiguous_words_are_exactly_the_word_types_seen_with_both_tags(grammar):
    seen = defaultdict(set)
    for s, t, _ in grammar.derivations():
        for w, y in zip(s, t):
            seen[w].add(int(y))
    assert set(grammar.ambiguous_words) == {w for w, ys in seen.items() if ys == {0, 1}}
    assert set(seen) == set(grammar.words) and len(grammar.ambiguous_words) == 13
    assert grammar.vocab.decode(grammar.ambiguous_ids) == list(grammar.ambiguous_words)


def test_a_probability_by_hand(grammar):
    # "he said teddy bears are on sale": intro, thing, compound (1 of 3), "are on sale" (1 of 2)
    p = {tuple(s): q for s, _, q in grammar.derivations()}
    assert p[tuple("he said teddy bears are on sale".split())] == pytest.approx(0.5 * 0.5 * 0.25 / 3 / 2, rel=1e-12)
    # one person, "saw" (1 of 3), a named thing: name (1 of 6), noun (1 of 3); no intro
    assert p[tuple("grace hopper saw jack london posters".split())] == pytest.approx(
        0.5 * 0.5 * 0.75 / 6 * (1 / 3) * 0.5 * 0.75 / 6 / 3, rel=1e-12)


def test_left_to_right_belief_about_a_first_word_teddy_by_hand(grammar):
    # t = 0 is "teddy" (no intro): a person named Teddy, or a thing: "teddy roosevelt <noun>" or "teddy bears"
    person = 0.5 * 0.5 * (1 / 6)
    thing = 0.5 * 0.5 * (0.75 * (1 / 6) + 0.25 * (1 / 3))
    probs = grammar.name_probs("teddy roosevelt was a great president", k=0)
    assert probs[0] == pytest.approx(person / (person + thing), rel=1e-12)
    # after "teddy roosevelt": the compound is ruled out
    assert probs[1] == pytest.approx(person / (person + 0.5 * 0.5 * 0.75 / 6), rel=1e-12)
    assert probs[2:].tolist() == [0.0] * 4
    # one word of look-ahead decides "roosevelt" ("was" follows), not "teddy"
    assert grammar.name_probs("teddy roosevelt was a great president", k=1)[:2].tolist() == [
        pytest.approx(person / (person + 0.5 * 0.5 * 0.75 / 6)), 1.0]


def test_sampling_matches_the_exact_probabilities(grammar, big_sample):
    sents, tags = big_sample
    n = len(sents)
    counts = Counter(sents)
    exact = sorted(((p, s) for s, _, p in grammar.derivations()), reverse=True)[:30]
    for p, s in exact:
        assert abs(counts[s] / n - p) < 5 * np.sqrt(p * (1 - p) / n), " ".join(s)
    lengths = np.array([len(s) for s in sents])
    e_t, e_a = grammar.expected_length()
    assert abs(lengths.mean() - e_t) < 5 * lengths.std() / np.sqrt(n)
    for s, t in zip(sents[:300], tags[:300]):                    # the sampler's tags are the language's tags
        assert t.tolist() == grammar.tags_of(s).tolist()


def _plug_in_ceiling(sents, tags, k, ambiguous):
    """Brute force: group every token of the sample by what a k-look-ahead tagger has read, count its tags, score
    the majority tag of each group (k=None: the whole sentence)."""
    counts = defaultdict(Counter)
    for s, t in zip(sents, tags):
        T = len(s)
        for i in range(T):
            seen = s if (k is None or i + k >= T) else s[:i + 1 + k]
            end = k is None or i + k >= T
            counts[(i, seen, end)][int(t[i])] += 1
    right = total = right_amb = total_amb = 0
    for (i, seen, _), c in counts.items():
        best, n = max(c.values()), sum(c.values())
        right, total = right + best, total + n
        if seen[i] in ambiguous:
            right_amb, total_amb = right_amb + best, total_amb + n
    return right / total, right_amb / total_amb


@pytest.mark.parametrize("k", [0, 1, 2, 3, None])
def test_exact_ceilings_agree_with_brute_force_counts_on_a_sample(grammar, big_sample, k):
    sents, tags = big_sample
    emp_all, emp_amb = _plug_in_ceiling(sents, tags, k, set(grammar.ambiguous_words))
    exact = grammar.ceiling(k)
    assert abs(emp_all - exact["all"]) < 0.006
    assert abs(emp_amb - exact["ambiguous"]) < 0.012


def test_ceilings_rise_with_look_ahead_to_one_at_the_longest_name(grammar):
    curve = [grammar.ceiling(k) for k in range(5)]
    alls = [c["all"] for c in curve]
    ambs = [c["ambiguous"] for c in curve]
    assert all(a < b - 0.005 for a, b in zip(alls[:3], alls[1:4]))          # strictly better up to k = 3
    assert alls[3] == pytest.approx(1.0, abs=1e-12) and alls[4] == pytest.approx(1.0, abs=1e-12)
    assert ambs[0] < 0.7 and ambs[3] == pytest.approx(1.0, abs=1e-12)      # "martin" needs 3 words of look-ahead
    assert grammar.ceiling(None) == {"all": pytest.approx(1.0, abs=1e-12), "ambiguous": pytest.approx(1.0, abs=1e-12)}
    # the ceiling is a mean of per-token maxima, each >= 1/2, and the unambiguous words are always right
    e_t, e_a = grammar.expected_length()
    assert alls[0] == pytest.approx(((e_t - e_a) + e_a * ambs[0]) / e_t, rel=1e-12)


def test_min_loss_by_hand_and_by_counting(grammar, big_sample):
    assert grammar.min_loss(None) == pytest.approx(0.0, abs=1e-12)
    assert grammar.min_loss(3) == pytest.approx(0.0, abs=1e-12)
    losses = [grammar.min_loss(k) for k in range(3)]
    assert losses[0] > losses[1] > losses[2] > 0
    sents, tags = big_sample                          # plug-in conditional entropy of the tags given the prefix
    counts = defaultdict(Counter)
    for s, t in zip(sents, tags):
        for i in range(len(s)):
            counts[(i, s[:i + 1])][int(t[i])] += 1
    total = sum(len(s) for s in sents)
    h = -sum(c * np.log(c / sum(cs.values())) for cs in counts.values() for c in cs.values()) / total
    assert abs(h - losses[0]) < 0.01


def test_the_bayes_tagger_on_a_sample_scores_its_ceiling(grammar, big_sample):
    sents, tags = big_sample
    for k in (0, 1):
        right = total = 0
        for s, t in zip(sents[:5000], tags[:5000]):
            right += int(((grammar.name_probs(s, k) > 0.5) == t).sum())
            total += len(s)
        assert abs(right / total - grammar.ceiling(k)["all"]) < 0.01


def test_encode_pads_with_eos_and_masks_the_tags(grammar):
    ids, tags, mask = grammar.encode(["he said teddy bears are on sale", "teddy bears are popular"],
                                     [[0] * 7, [0] * 4])
    assert ids.shape == (7, 2)
    assert ids[4:, 1].tolist() == [grammar.vocab.eos_id] * 3 and tags[4:, 1].tolist() == [-1] * 3
    assert mask[:, 1].tolist() == [True] * 4 + [False] * 3
    assert grammar.vocab.decode(ids[:, 0]) == "he said teddy bears are on sale".split()
    with pytest.raises(ValueError, match=r"sentences\[0\]"):
        grammar.encode([["teddy", "dinosaurs"]])


# ---------------------------------------------------------------------------------------------------- the tagger
def _tagger(layer_cls, k=0, bi=False, seed=0, V=7, H=4):
    rng = np.random.default_rng(seed)
    return Tagger(layer_cls(V, H, bidirectional=bi, rng=rng), 2, lookahead=k, rng=rng)


@pytest.mark.parametrize("layer_cls, k, bi", [(RNN, 0, False), (RNN, 2, False), (RNN, 0, True), (GRU, 1, False),
                                              (LSTM, 0, True)], ids=["rnn", "rnn-k2", "birnn", "gru-k1", "bilstm"])
def test_tagger_gradients_are_checked(layer_cls, k, bi):
    model = _tagger(layer_cls, k, bi, seed=3)
    for p in model.params.values():
        p *= 2.0
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 7, size=(5, 3))
    tags = rng.integers(0, 2, size=(5, 3))
    mask = np.ones((5, 3), dtype=bool)
    mask[3:, 1] = False
    tags[3:, 1] = -1
    model.loss_and_grads(ids, tags, mask)
    grads = {name: g.copy() for name, g in model.grads.items()}
    assert set(grads) == set(model.params) and {"head.weight", "rnn.weight_hh_l0"} <= set(grads)
    if bi:
        assert "rnn.weight_hh_l0_reverse" in grads

    def loss():
        return softmax_cross_entropy(model.forward(ids), tags, mask)[0]

    assert max(gradcheck(loss, model.params, grads).values()) < 1e-7


@pytest.mark.parametrize("k", [0, 1, 3])
def test_a_look_ahead_tagger_reads_exactly_the_words_up_to_t_plus_k(k):
    model = _tagger(RNN, k, seed=1)
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 7, size=(6, 1))
    base = model.forward(ids)
    for j in range(6):                                # change word j: tags t >= j - k may change, earlier ones not
        other = ids.copy()
        other[j, 0] = 3 if ids[j, 0] != 3 else 4
        diff = np.abs(model.forward(other) - base).max(axis=(1, 2))
        assert np.all(diff[:max(j - k, 0)] == 0)
        assert np.all(diff[max(j - k, 0):] > 0)


def test_a_bidirectional_tagger_reads_the_whole_sentence_and_matches_its_layer():
    model = _tagger(RNN, 0, bi=True, seed=2)
    rng = np.random.default_rng(1)
    ids = rng.integers(3, 7, size=(6, 2))
    base = model.forward(ids)
    other = ids.copy()
    other[5, 0] = 3 if ids[5, 0] != 3 else 4
    assert np.all(np.abs(model.forward(other) - base)[:, 0].max(axis=1) > 0)   # the last word reaches every tag
    Y, _ = model.layer.forward(np.eye(7)[ids])
    np.testing.assert_allclose(base, Y @ model.params["head.weight"].T + model.params["head.bias"], rtol=0,
                               atol=1e-14)


def test_lookahead_appends_end_ids():
    model = _tagger(RNN, 2, seed=4)
    ids = np.array([[3], [4], [5]])
    Y, _ = model.layer.forward(np.eye(7)[np.array([[3], [4], [5], [2], [2]])])
    np.testing.assert_allclose(model.forward(ids), Y[2:] @ model.params["head.weight"].T + model.params["head.bias"],
                               rtol=0, atol=1e-14)


# ----------------------------------------------------- the bidirectional layer against a hand-written forward/backward
def _hand_birnn_forward(X, pf, pb):
    """Forward RNN over x_1..x_T, backward RNN over x_T..x_1, outputs [forward, backward] per step."""
    T, B, _ = X.shape
    H = pf["weight_hh"].shape[0]
    hf, hb = np.zeros((T, B, H)), np.zeros((T, B, H))
    h = np.zeros((B, H))
    for t in range(T):
        h = np.tanh(X[t] @ pf["weight_ih"].T + pf["bias_ih"] + h @ pf["weight_hh"].T + pf["bias_hh"])
        hf[t] = h
    h = np.zeros((B, H))
    for t in reversed(range(T)):
        h = np.tanh(X[t] @ pb["weight_ih"].T + pb["bias_ih"] + h @ pb["weight_hh"].T + pb["bias_hh"])
        hb[t] = h
    return np.concatenate([hf, hb], axis=2), (X, hf, hb)


def _hand_birnn_backward(dY, cache, pf, pb):
    X, hf, hb = cache
    T, B, H = hf.shape
    dX = np.zeros_like(X)
    grads = {}
    for name, p, hs, order, dHs, prev in (("f", pf, hf, range(T - 1, -1, -1), dY[:, :, :H], -1),
                                          ("b", pb, hb, range(T), dY[:, :, H:], +1)):
        g = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros((B, H))
        for t in order:
            da = (dHs[t] + dh_next) * (1 - hs[t] ** 2)
            h_prev = hs[t + prev] if 0 <= t + prev < T else np.zeros((B, H))
            g["weight_ih"] += da.T @ X[t]
            g["weight_hh"] += da.T @ h_prev
            g["bias_ih"] += da.sum(0)
            g["bias_hh"] += da.sum(0)
            dX[t] += da @ p["weight_ih"]
            dh_next = da @ p["weight_hh"]
        grads[name] = g
    return dX, grads


def test_bidirectional_rnn_layer_equals_a_hand_written_forward_backward_pair():
    rng = np.random.default_rng(11)
    T, B, D, H = 5, 3, 4, 6
    layer = RNN(D, H, bidirectional=True, rng=rng)
    pf = {k: layer.params[k + "_l0"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    pb = {k: layer.params[k + "_l0_reverse"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    X = rng.normal(size=(T, B, D))
    Y_hand, cache = _hand_birnn_forward(X, pf, pb)
    Y, h_n = layer.forward(X)
    np.testing.assert_allclose(Y, Y_hand, rtol=0, atol=1e-13)
    np.testing.assert_allclose(h_n[0], Y_hand[-1, :, :H], rtol=0, atol=1e-13)   # forward ends at t = T-1
    np.testing.assert_allclose(h_n[1], Y_hand[0, :, H:], rtol=0, atol=1e-13)    # backward ends at t = 0
    dY = rng.normal(size=Y.shape)
    dX_hand, g = _hand_birnn_backward(dY, cache, pf, pb)
    dX, _ = layer.backward(dY)
    np.testing.assert_allclose(dX, dX_hand, rtol=0, atol=1e-12)
    for k in pf:
        np.testing.assert_allclose(layer.grads[k + "_l0"], g["f"][k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.grads[k + "_l0_reverse"], g["b"][k], rtol=0, atol=1e-12)
    # and the hand-written pair is itself right: numerical gradient of sum(Y * dY) w.r.t. X
    num = numerical_gradient(lambda: float(np.sum(_hand_birnn_forward(X, pf, pb)[0] * dY)), X)
    np.testing.assert_allclose(dX_hand, num, rtol=1e-7, atol=1e-9)
    # the readable layer agrees too
    slow = Unrolled("rnn_tanh", D, H, bidirectional=True, rng=np.random.default_rng(0))
    slow.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(slow.forward(X)[0], Y_hand, rtol=0, atol=1e-13)


# ---------------------------------------------------------------------------------------------------- training
def test_training_reaches_but_does_not_beat_the_left_to_right_ceiling(grammar):
    rng = np.random.default_rng(0)
    model = Tagger(RNN(grammar.vocab_size, 12, rng=rng), 2, rng=rng)
    losses = train_tagger(model, grammar, steps=250, batch_size=32, lr=1e-2, rng=rng)
    floor = grammar.min_loss(0)
    assert losses.shape == (250,) and floor < losses[-50:].mean() < floor + 0.03 < losses[:20].mean()
    ids, tags, mask = grammar.batch(3000, np.random.default_rng(9))
    acc = tagger_accuracy(model, ids, tags, mask)
    ceiling = grammar.ceiling(0)["all"]
    assert ceiling - 0.03 < acc < ceiling + 0.01


def test_tagger_argument_checks():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="^lookahead"):
        Tagger(RNN(5, 3, bidirectional=True, rng=rng), 2, lookahead=1, rng=rng)
    with pytest.raises(ValueError, match="^end_id"):
        Tagger(RNN(5, 3, rng=rng), 2, end_id=5, rng=rng)
    with pytest.raises(ValueError, match="^layer"):
        Tagger(object(), 2, rng=rng)
    model = Tagger(RNN(5, 3, rng=rng), 2, rng=rng)
    with pytest.raises(ValueError, match="^tags"):
        model.loss_and_grads(np.zeros((2, 1), int), np.full((2, 1), 2))
    with pytest.raises(RuntimeError):
        Tagger(RNN(5, 3, rng=rng), 2, rng=rng).backward(np.zeros((1, 1, 2)))
