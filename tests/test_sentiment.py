"""Tests of rnn_utils.sentiment: the review corpus (labels, probabilities, the exact bag-of-words ceiling) and the
bag-of-words baseline (gradient-checked, order-blind)."""
from collections import Counter, defaultdict

import numpy as np
import pytest

from rnn_utils import LSTM, RNN, SequenceClassifier, gradcheck, train_classifier
from rnn_utils.losses import softmax_cross_entropy
from rnn_utils.sentiment import BagOfWords, ReviewCorpus, expected_accuracy

POS, NEG = {"good", "great"}, {"bad", "dull"}


def rule_label(words):
    """An independent reading of the corpus rules from the text alone: 1 positive, 0 negative."""
    words = list(words)
    if words[0] == "there":
        return int((words[2] == "nothing") == (words[-4] == "dislike"))

    def clause(ws):                                  # "the N was [not] A"
        pol = ws[-1] in POS
        return pol != ("not" in ws)

    if words[0] == "although":
        k = words.index(",")
        return int(clause(words[k + 1:]))
    if "although" in words:
        return int(clause(words[:words.index("although")]))
    if "but" in words:
        return int(clause(words[words.index("but") + 1:]))
    if words[-2:] == [",", "not"]:
        return int(not clause(words[:-2]))
    return int(clause(words))


def test_labels_follow_the_rules_read_from_the_text():
    c = ReviewCorpus()
    assert len(c.reviews) == 4 * 4 * 2 * 2 + 3 * (4 * 4 * 2) ** 2 + 4
    for words, label in zip(c.reviews, c.labels):
        assert rule_label(words) == label, words
    assert abs(c.probs.sum() - 1) < 1e-12 and (c.probs > 0).all()


def test_notes_examples_are_in_the_corpus_with_their_labels():
    c = ReviewCorpus()
    lookup = {" ".join(r): (l, n) for r, l, n in zip(c.reviews, c.labels, c.negated)}
    assert lookup["there is nothing to like in this movie"] == (0, True)
    assert lookup["the plot was not bad"] == (1, True)
    assert lookup["the acting was good , not"] == (0, True)
    assert lookup["the plot was good but the acting was bad"] == (0, False)
    assert lookup["the acting was bad but the plot was good"] == (1, False)


def test_ceiling_by_hand_one_noun_but_only():
    # C1 but C2, C = "the plot was [not] good|bad": clauses g(+), b(-), ng(-), nb(+), each 1/4; the 16 pairs 1/16
    # each, label = polarity of C2. The bag shows the adjectives and the number of "not"s, not their places:
    #   no not:   {g,g} +, {b,b} -, {g,b}: (g,b) - vs (b,g) +            -> 3 of 4 sixteenths right
    #   one not:  {g,g}: (ng,g) + vs (g,ng) -; {b,b}: (nb,b) - vs (b,nb) +;
    #             {g,b}: (ng,b) -, (g,nb) +, (nb,g) +, (b,ng) -          -> 1 + 1 + 2 = 4 of 8
    #   two nots: {g,g} -, {b,b} +, {g,b}: (ng,nb) + vs (nb,ng) -         -> 3 of 4
    c = ReviewCorpus(nouns=["plot"], positive=["good"], negative=["bad"], p_not=0.5, template_probs={"but": 1.0})
    assert c.bag_ceiling() == pytest.approx(10 / 16, abs=1e-12)
    assert c.bag_ceiling(negated=True) == pytest.approx(7 / 12, abs=1e-12)
    assert c.bag_ceiling(negated=False) == pytest.approx(3 / 4, abs=1e-12)
    c0 = ReviewCorpus(nouns=["plot"], positive=["good"], negative=["bad"], p_not=0.0, template_probs={"but": 1.0})
    assert c0.bag_ceiling() == pytest.approx(3 / 4, abs=1e-12)     # only {good, bad} is ambiguous, 1/2 of 1/2


@pytest.mark.parametrize("template", ["plain", "sarcastic", "nothing"])
def test_templates_whose_bag_decides_the_label_have_ceiling_one(template):
    c = ReviewCorpus(template_probs={template: 1.0})
    assert c.bag_ceiling() == pytest.approx(1.0, abs=1e-12)


def test_ceiling_matches_a_bag_lookup_table_fitted_on_samples():
    c = ReviewCorpus()
    rng = np.random.default_rng(0)
    counts = defaultdict(Counter)
    texts, labels = c.sample_reviews(200_000, rng)
    for t, l in zip(texts, labels):
        counts[tuple(sorted(t.split()))][l] += 1
    best = {bag: cnt.most_common(1)[0][0] for bag, cnt in counts.items()}
    texts, labels = c.sample_reviews(100_000, rng)
    acc = np.mean([best.get(tuple(sorted(t.split())), 0) == l for t, l in zip(texts, labels)])
    assert abs(acc - c.bag_ceiling()) < 0.01            # sd of the estimate is about 0.0013
    assert c.bag_ceiling() < 0.8


def test_sampling_frequencies_match_the_probabilities():
    c = ReviewCorpus()
    rng = np.random.default_rng(1)
    texts, _ = c.sample_reviews(100_000, rng)
    neg = np.mean([("not" in t.split()) or ("nothing" in t.split()) for t in texts])
    assert abs(neg - c.probs[c.negated].sum()) < 0.01
    lengths = Counter()
    for _ in range(4000):
        ids, labels = c.sample(8, rng)
        assert ids.shape[1] == 8 and labels.shape == (8,)
        lengths[ids.shape[0]] += 1
        words = [[c.vocab.itos[i] for i in ids[:, b]] for b in range(8)]
        assert [rule_label(w) for w in words] == labels.tolist()
    review_len = np.array([len(r) for r in c.reviews])
    for L, k in lengths.items():
        assert abs(k / 4000 - c.probs[review_len == L].sum()) < 0.03


def test_expected_accuracy_of_an_oracle_and_a_constant():
    c = ReviewCorpus()

    class Oracle:
        def forward(self, ids):
            words = [[c.vocab.itos[i] for i in ids[:, b]] for b in range(ids.shape[1])]
            lab = np.array([rule_label(w) for w in words])
            return np.stack([1 - lab, lab], axis=1).astype(float)

    class Constant:
        def forward(self, ids):
            return np.tile([0.0, 1.0], (ids.shape[1], 1))

    assert expected_accuracy(Oracle(), c) == pytest.approx(1.0)
    assert expected_accuracy(Oracle(), c, negated=True) == pytest.approx(1.0)
    assert expected_accuracy(Constant(), c) == pytest.approx(float(c.probs[c.labels == 1].sum()))


def test_bag_of_words_counts_and_is_order_blind():
    rng = np.random.default_rng(2)
    bow = BagOfWords(5, 2, rng=rng)
    ids = np.array([[1, 4], [3, 4], [1, 0]])                 # (T=3, B=2)
    assert bow.counts(ids).tolist() == [[0, 2, 0, 1, 0], [1, 0, 0, 0, 2]]
    W, b = bow.params["weight"], bow.params["bias"]
    assert np.allclose(bow.forward(ids)[0], 2 * W[:, 1] + W[:, 3] + b)
    assert np.array_equal(bow.forward(ids), bow.forward(ids[::-1]))


def test_bag_of_words_gradients_match_centred_differences():
    rng = np.random.default_rng(3)
    bow = BagOfWords(6, 3, rng=rng)
    ids, targets = rng.integers(0, 6, (4, 5)), rng.integers(0, 3, 5)
    bow.loss_and_grads(ids, targets)
    grads = {k: v.copy() for k, v in bow.grads.items()}

    def loss():
        return softmax_cross_entropy(bow.forward(ids)[None], targets[None])[0]

    assert max(gradcheck(loss, bow.params, grads).values()) < 1e-7


def test_trained_bag_of_words_stays_under_the_ceiling_and_an_rnn_goes_above():
    c = ReviewCorpus()
    rng = np.random.default_rng(4)
    bow = BagOfWords(c.vocab_size, 2, rng=rng)
    train_classifier(bow, c, steps=300, batch_size=32, lr=1e-2, rng=rng)
    for neg in (None, True, False):
        assert expected_accuracy(bow, c, negated=neg) <= c.bag_ceiling(negated=neg) + 1e-12
    rnn = SequenceClassifier(RNN(c.vocab_size, 16, rng=rng), 2, rng=rng)
    train_classifier(rnn, c, steps=400, batch_size=32, lr=1e-2, rng=rng)
    assert expected_accuracy(rnn, c) > c.bag_ceiling() + 0.1


def test_bidirectional_classifier_runs_on_corpus_batches():
    c = ReviewCorpus()
    rng = np.random.default_rng(5)
    model = SequenceClassifier(LSTM(c.vocab_size, 4, bidirectional=True, rng=rng), 2, rng=rng)
    acc = expected_accuracy(model, c, template="but")
    assert 0.0 <= acc <= 1.0


@pytest.mark.parametrize("kwargs, name", [
    (dict(p_not=1.5), "p_not"),
    (dict(nouns="plot"), "nouns"),
    (dict(positive=["good", "good"]), "positive"),
    (dict(negative=["good"]), "negative"),
    (dict(template_probs={"plain": 0.5}), "template_probs"),
    (dict(template_probs={"sonnet": 1.0}), "template_probs"),
])
def test_bad_corpus_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        ReviewCorpus(**kwargs)


def test_tail_moves_the_evidence_away_from_the_end_and_changes_no_label_or_ceiling():
    c0, c12 = ReviewCorpus(), ReviewCorpus(tail=12)
    assert (c0.labels == c12.labels).all() and np.array_equal(c0.probs, c12.probs)
    assert (c0.negated == c12.negated).all()
    for r0, r12 in zip(c0.reviews, c12.reviews):
        assert r12[:len(r0)] == r0 and len(r12) == len(r0) + 12
    assert len({r[len(r) - 12:] for r in c12.reviews}) == 1            # the same 12 words after every review
    for neg in (None, True, False):
        assert c12.bag_ceiling(negated=neg) == pytest.approx(c0.bag_ceiling(negated=neg), abs=1e-12)
    with pytest.raises(ValueError, match="^tail"):
        ReviewCorpus(tail=100)
