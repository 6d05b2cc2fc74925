"""rnn_utils.textcorpus: the standard-library corpus and the Witten-Bell n-gram, against hand-computed cases and an
independent dictionary-based implementation."""
import math
import sys
from collections import Counter

import numpy as np
import pytest

from rnn_utils.textcorpus import (ALPHABET, STDLIB_HELDOUT_FILES, STDLIB_TRAIN_FILES, CharNGram, bits_per_char,
                                  char_vocabulary, normalise_text, read_stdlib_files, stdlib_corpus,
                                  stdlib_source_dir)


def test_alphabet_and_vocabulary():
    assert len(ALPHABET) == 96 and ALPHABET[0] == "\n" and ALPHABET[1] == " " and ALPHABET[-1] == "~"
    v = char_vocabulary()
    assert len(v) == 96 and v.encode("\n a~").tolist() == [0, 1, 66, 95]


def test_normalise_text_hand_cases():
    assert normalise_text("a\tb\r\nc\rd") == "a    b\nc\nd"
    assert normalise_text("caf\u00e9 \u2192 x\x0c") == "caf? ? x?"


def test_read_files_in_the_given_order(tmp_path):
    (tmp_path / "a.py").write_text("first\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("second", encoding="utf-8")
    assert read_stdlib_files(["b.py", "a.py"], root=tmp_path) == "second\nfirst\n"
    with pytest.raises(FileNotFoundError, match="names\\[1\\]: 'c.py'"):
        read_stdlib_files(["a.py", "c.py"], root=tmp_path)


def test_stdlib_corpus_is_deterministic_and_split_by_file():
    root = stdlib_source_dir()
    assert all((root / f).is_file() for f in STDLIB_TRAIN_FILES + STDLIB_HELDOUT_FILES), sys.version
    assert not set(STDLIB_TRAIN_FILES) & set(STDLIB_HELDOUT_FILES)
    train, heldout = stdlib_corpus()
    assert (train, heldout) == stdlib_corpus()
    assert set(train) <= set(ALPHABET) and set(heldout) <= set(ALPHABET)
    assert len(train) > 200_000 and len(heldout) > 20_000
    assert "def " in heldout and heldout.startswith(normalise_text((root / "heapq.py").read_text("utf-8"))[:200])


# ---------------------------------------------------------------------------------------------- n-gram
def test_unigram_hand_case():
    m = CharNGram(1, 3).fit([0, 0, 1])              # c(a)=2, c(b)=1, N=3, n=2 types
    np.testing.assert_allclose(m.distribution([]), [8 / 15, 1 / 3, 2 / 15], rtol=1e-12)


def test_bigram_hand_case():
    m = CharNGram(2, 2).fit([0, 1, 0, 1])           # "abab": a->b twice, b->a once
    np.testing.assert_allclose(m.distribution([0]), [1 / 6, 5 / 6], rtol=1e-12)
    np.testing.assert_allclose(m.distribution([1]), [3 / 4, 1 / 4], rtol=1e-12)
    np.testing.assert_allclose(m.bits([0, 1, 0]), [-math.log2(5 / 6), -math.log2(3 / 4)], rtol=1e-12)


def _witten_bell_reference(train, order, V):
    """A slow, independent implementation with dictionaries and recursion."""
    counts = Counter()
    for k in range(order):
        for t in range(k, len(train)):
            counts[tuple(train[t - k:t + 1])] += 1

    def prob(x, ctx):
        if ctx is None:
            return 1.0 / V
        lower = prob(x, ctx[1:] if ctx else None)
        followers = {g[-1]: c for g, c in counts.items() if len(g) == len(ctx) + 1 and tuple(g[:-1]) == ctx}
        c_u, n_u = sum(followers.values()), len(followers)
        if c_u == 0:
            return lower
        return (followers.get(x, 0) + n_u * lower) / (c_u + n_u)
    return prob


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_matches_an_independent_implementation_and_normalises(order):
    rng = np.random.default_rng(order)
    V = 4
    train = rng.integers(0, V, 60)
    test = rng.integers(0, V, 15)
    m = CharNGram(order, V).fit(train)
    ref = _witten_bell_reference(train.tolist(), order, V)
    expected = [-math.log2(ref(int(test[t]), tuple(test[max(0, t - order + 1):t].tolist())))
                for t in range(1, test.size)]
    np.testing.assert_allclose(m.bits(test), expected, rtol=1e-12)
    assert bits_per_char(m, test) == pytest.approx(np.mean(expected))
    for ctx in ([], [1], [2, 3, 0], [3, 3, 3, 3, 3]):
        p = m.distribution(ctx)
        assert p.shape == (V,) and (p > 0).all() and p.sum() == pytest.approx(1.0, abs=1e-12)


def test_ngram_needs_fit_first():
    with pytest.raises(RuntimeError, match="fit"):
        CharNGram(2, 3).bits([0, 1])
