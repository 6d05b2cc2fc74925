"""Tests for rnn_utils.grammars against independent truth: hand-computed probabilities, exhaustive enumeration,
hand-derived entropies, the classic Reber examples, and Monte Carlo averages with their standard errors."""
import math

import numpy as np
import pytest

from rnn_utils.grammars import AgreementGrammar, ReberGrammar, to_text

LOG2 = math.log2


# ---------------------------------------------------------------------------------------------------------------
# agreement grammar: hand-computed cases
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def small():
    """Clause with 0, 1 or 2 verbs with probabilities 1/2, 1/4, 1/4: easy to compute by hand."""
    return AgreementGrammar(clause_probs=[0.5, 0.25, 0.25])


def test_hand_computed_probabilities(small):
    # 5 determiners, number 1/2, 7 nouns, subject adjective 3 options (absent, big, small), clause length,
    # adverb 3 options (absent, already, just), 4 verbs per class, intensifier 4 options (absent, very, so, too),
    # 4 predicate adjectives per class.
    base = 1 / 5 * 1 / 2 * 1 / 7 * 1 / 3 * 1 / 4 * 1 / 4
    assert small.log2prob("the cat was full .") == pytest.approx(LOG2(base * 1 / 2), abs=1e-12)
    assert small.log2prob("the cats were full .") == pytest.approx(LOG2(base * 1 / 2), abs=1e-12)
    assert small.log2prob("the cat , which already ate , was full .") == pytest.approx(
        LOG2(base * 1 / 4 * 1 / 3 * 1 / 4), abs=1e-12)
    assert small.log2prob("her big cats , which ran and slept , were very tired .") == pytest.approx(
        LOG2(base * 1 / 4 * 1 / 3 * 1 / 16), abs=1e-12)
    assert small.log2prob("the apple and pear salad was fresh .") == pytest.approx(LOG2(base / 2), abs=1e-12)
    assert small.log2prob("the apple and pear salads , which just cooled , were so good .") == pytest.approx(
        LOG2(base * 1 / 4 * 1 / 3 * 1 / 4), abs=1e-12)


@pytest.mark.parametrize("bad", [
    "the apple and pair salad was fresh .",                  # the lecture's misheard "pair"
    "the cats was full .",                                   # agreement violated
    "the cat , which already ate , were full .",             # agreement violated across the clause
    "the cat , which cooled , was full .",                   # food verb with an animal
    "the cat was fresh .",                                   # food adjective with an animal
    "the cat was full",                                      # no full stop
    "the cat  was full .",                                   # double space
    " the cat was full .",
    "the cat was full .\n",                                  # the newline is not part of a sentence
    "the cat , which ate and ran and hid , was full .",      # 3 verbs: above the cap of 2
    "the cat , which , was full .",                          # clause without a verb
    "the cat , which ate was full .",                        # clause not closed
    "the cat , which ate and , was full .",
    "the big big cat was full .",
    "",
])
def test_strings_outside_the_language(small, bad):
    assert small.log2prob(bad) == -math.inf
    assert small.parses(bad) == []


def test_zero_probability_clause_length_is_outside_language():
    g = AgreementGrammar(clause_probs=[0.5, 0.0, 0.5])
    assert g.log2prob("the cat , which ate , was full .") == -math.inf
    assert g.log2prob("the cat , which ate and ran , was full .") > -math.inf


def test_default_clause_distribution_is_capped_geometric():
    g = AgreementGrammar(max_clause_verbs=3, p_clause=0.8, p_more=0.5)
    np.testing.assert_allclose(g.clause_probs, [0.2, 0.4, 0.2, 0.2])
    assert g.max_clause_verbs == 3
    g = AgreementGrammar(max_clause_verbs=0, p_clause=0.0)
    np.testing.assert_allclose(g.clause_probs, [1.0])
    assert AgreementGrammar().clause_probs.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------------------------
# agreement grammar: exhaustive enumeration on small configurations
# ---------------------------------------------------------------------------------------------------------------
_ENUM_CACHE = {}


def _enumerate(g):
    """All (sentence, log2p) of a small grammar, cached by its parameters (enumeration takes ~1 s)."""
    key = (tuple(g.clause_probs), g.p_plural)
    if key not in _ENUM_CACHE:
        sents, lps = zip(*g.derivations())
        _ENUM_CACHE[key] = (list(sents), np.array(lps))
    return _ENUM_CACHE[key]


def test_enumeration_unique_derivations_and_normalised():
    g = AgreementGrammar(clause_probs=[0.4, 0.6], p_plural=0.3)
    sents, lps = _enumerate(g)
    # count by hand: det 5 * number 2 * noun 7 * sadj 3 * (no clause 1 + adv 3 * verb 4) * int 4 * padj 4
    assert len(sents) == 5 * 2 * 7 * 3 * (1 + 3 * 4) * 4 * 4
    assert len(set(sents)) == len(sents)                  # no string comes from two derivations
    assert np.exp2(lps).sum() == pytest.approx(1.0, abs=1e-12)
    for s in sents:                                       # the parser (exhaustive backtracking) finds exactly one
        assert len(g.parses(s)) == 1, s
    for i in np.random.default_rng(2).choice(len(sents), size=3000, replace=False):
        assert g.log2prob(sents[i]) == pytest.approx(lps[i], abs=1e-12)


def test_enumeration_two_clause_verbs():
    g = AgreementGrammar(clause_probs=[0.2, 0.3, 0.5])
    sents, lps = _enumerate(g)
    assert len(sents) == 5 * 2 * 7 * 3 * (1 + 3 * (4 + 16)) * 4 * 4
    assert len(set(sents)) == len(sents)
    assert np.exp2(lps).sum() == pytest.approx(1.0, abs=1e-12)
    for i in np.random.default_rng(3).choice(len(sents), size=2000, replace=False):
        assert len(g.parses(sents[i])) == 1
        assert g.log2prob(sents[i]) == pytest.approx(lps[i], abs=1e-12)


@pytest.mark.parametrize("kwargs", [dict(clause_probs=[0.4, 0.6], p_plural=0.3),
                                    dict(clause_probs=[0.2, 0.3, 0.5]),
                                    dict(max_clause_verbs=0, p_clause=0.0)])
def test_exact_entropy_and_length_match_enumeration(kwargs):
    g = AgreementGrammar(**kwargs)
    sents, lps = _enumerate(g)
    p = np.exp2(lps)
    lengths = np.array([len(s) for s in sents])
    h_sent = -(p * lps).sum()
    mean_len = (p * lengths).sum()
    assert g.entropy_per_sentence() == pytest.approx(h_sent, rel=1e-12)
    assert g.mean_length() == pytest.approx(mean_len, rel=1e-12)
    assert g.entropy_rate() == pytest.approx(h_sent / (mean_len + 1), rel=1e-12)


def test_sampler_frequencies_match_enumerated_probabilities():
    g = AgreementGrammar(clause_probs=[0.4, 0.6], p_plural=0.3)
    sents, lps = _enumerate(g)
    prob = dict(zip(sents, np.exp2(lps)))
    n = 20000
    sample = g.sample(n, np.random.default_rng(7))
    # group by the (short) predicate "X ." and the subject's number: compare frequencies with summed probabilities
    for key in (lambda s: s.split(" ")[-2], lambda s: " were " in s, lambda s: s.count(",")):
        p_key, f_key = {}, {}
        for s, ps in prob.items():
            p_key[key(s)] = p_key.get(key(s), 0.0) + ps
        for s in sample:
            f_key[key(s)] = f_key.get(key(s), 0) + 1
        assert set(f_key) <= set(p_key)
        for k, pk in p_key.items():
            se = math.sqrt(pk * (1 - pk) / n)
            assert abs(f_key.get(k, 0) / n - pk) < 5 * se + 1e-12, (k, pk)


# ---------------------------------------------------------------------------------------------------------------
# agreement grammar: sampling, metadata, Monte Carlo
# ---------------------------------------------------------------------------------------------------------------
def test_sampled_log2p_matches_parse_and_metadata():
    g = AgreementGrammar()
    sents, info = g.sample(2000, np.random.default_rng(0), with_info=True)
    assert set(info) == {"log2p", "plural", "clause_verbs", "clause_words", "subject_end", "verb_start",
                         "distance"}
    assert all(v.shape == (2000,) for v in info.values())
    charset, vocab = set(g.charset), set(g.vocabulary)
    for i, s in enumerate(sents):
        ds = g.parses(s)
        assert len(ds) == 1
        assert g.log2prob(s) == pytest.approx(info["log2p"][i], abs=1e-12)
        assert set(s) <= charset and "\n" not in s
        assert set(s.split(" ")) - {",", "."} <= vocab
        plural, vs = bool(info["plural"][i]), int(info["verb_start"][i])
        verb = "were" if plural else "was"
        assert s[vs:vs + len(verb) + 1] == verb + " "
        assert s[vs + 1] == ("e" if plural else "a")
        commas = s.count(",")
        if info["clause_verbs"][i] == 0:
            assert commas == 0 and info["clause_words"][i] == 0 and info["distance"][i] == 1
        else:
            between = s.split(" , ")[1].split(" ")             # the words between the two commas
            assert commas == 2 and len(between) == info["clause_words"][i]
            assert between[0] == "which" and between.count("and") == info["clause_verbs"][i] - 1
            assert s[info["subject_end"][i]:vs] == " , " + " ".join(between) + " , "
        assert info["distance"][i] == vs - info["subject_end"][i]
        assert s[:info["subject_end"][i]].split(" ")[-1] in vocab


def test_flip_number_gives_the_ungrammatical_twin():
    g = AgreementGrammar()
    assert g.flip_number("the cat , which already ate , was full .") == "the cat , which already ate , were full ."
    assert g.flip_number("our apple and pear salads were too sweet .") == "our apple and pear salads was too sweet ."
    for s in g.sample(200, np.random.default_rng(1)):
        t = g.flip_number(s)
        assert g.log2prob(t) == -math.inf
        assert abs(len(t) - len(s)) == 1
    with pytest.raises(ValueError, match="sentence"):
        g.flip_number("the cats was full .")


def test_entropy_rate_matches_monte_carlo():
    g = AgreementGrammar()
    sents, info = g.sample(20000, np.random.default_rng(11), with_info=True)
    bits = -info["log2p"]
    chars = np.array([len(s) + 1 for s in sents], dtype=float)
    est = bits.sum() / chars.sum()
    # delta-method standard error of a ratio of means
    resid = bits - est * chars
    se = resid.std(ddof=1) / math.sqrt(len(sents)) / chars.mean()
    assert abs(est - g.entropy_rate()) < 4 * se
    assert abs(chars.mean() - 1 - g.mean_length()) < 4 * chars.std(ddof=1) / math.sqrt(len(sents))
    assert abs(bits.mean() - g.entropy_per_sentence()) < 4 * bits.std(ddof=1) / math.sqrt(len(sents))
    # empirical_bits_per_char is exactly that ratio, computed by parsing
    assert g.empirical_bits_per_char(sents[:3000]) == pytest.approx(
        bits[:3000].sum() / chars[:3000].sum(), rel=1e-12)
    assert g.empirical_bits_per_char(sents[:1] + ["the cats was full ."]) == math.inf


def test_default_figures_are_in_the_learnable_range():
    g = AgreementGrammar()
    assert 0.3 < g.entropy_rate() < 0.6
    assert 35 < g.mean_length() < 50
    assert len(g.vocabulary) <= 50
    assert "".join(g.charset) == "\n ,.abcdefghijklmnoprstuvwxy"


def test_to_text_layout():
    sents = ["the cat was full .", "my dogs were calm ."]
    text = to_text(sents)
    assert text == "the cat was full .\nmy dogs were calm .\n"
    assert len(text) == sum(len(s) + 1 for s in sents)
    assert to_text([]) == ""


def test_reproducible_with_seed_and_different_across_seeds():
    g = AgreementGrammar()
    a, ia = g.sample(300, np.random.default_rng(5), with_info=True)
    b, ib = g.sample(300, np.random.default_rng(5), with_info=True)
    c = g.sample(300, np.random.default_rng(6))
    assert a == b
    for k in ia:
        np.testing.assert_array_equal(ia[k], ib[k])
    assert a != c
    assert g.sample(0, np.random.default_rng(0)) == []
    s0, i0 = g.sample(0, np.random.default_rng(0), with_info=True)
    assert s0 == [] and i0["log2p"].shape == (0,)


@pytest.mark.parametrize("kwargs, name", [
    (dict(p_clause=1.5), "p_clause"),
    (dict(p_clause=-0.1), "p_clause"),
    (dict(p_more=1.0), "p_more"),
    (dict(p_more="x"), "p_more"),
    (dict(p_plural=2), "p_plural"),
    (dict(max_clause_verbs=-1), "max_clause_verbs"),
    (dict(max_clause_verbs=2.0), "max_clause_verbs"),
    (dict(max_clause_verbs=0, p_clause=0.5), "p_clause"),
    (dict(clause_probs=[0.5, 0.6]), "clause_probs"),
    (dict(clause_probs=[1.5, -0.5]), "clause_probs"),
    (dict(clause_probs=[]), "clause_probs"),
    (dict(clause_probs="ab"), "clause_probs"),
    (dict(clause_probs=[0.5, 0.5], p_clause=0.5), "clause_probs"),
])
def test_agreement_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AgreementGrammar(**kwargs)


def test_agreement_bad_arguments():
    g = AgreementGrammar()
    rng = np.random.default_rng(0)
    for bad in (-1, 2.5, True, None):
        with pytest.raises(ValueError, match="n: expected a non-negative integer"):
            g.sample(bad, rng)
    with pytest.raises(ValueError, match="rng: expected a np.random.Generator"):
        g.sample(3, 42)
    with pytest.raises(ValueError, match="sentences"):
        g.empirical_bits_per_char("the cat was full .")
    with pytest.raises(ValueError, match="sentences"):
        g.empirical_bits_per_char([])
    with pytest.raises(ValueError, match="sentence"):
        g.log2prob(3)


# ---------------------------------------------------------------------------------------------------------------
# Reber grammar
# ---------------------------------------------------------------------------------------------------------------
# Our own transcription of the graph (Hochreiter & Schmidhuber 1997, Fig. 1), used to enumerate strings
# independently of the module: node -> [(symbol, next node)], 6 -> end after E.
GRAPH = {1: [("T", 2), ("P", 3)], 2: [("S", 2), ("X", 4)], 3: [("T", 3), ("V", 5)],
         4: [("X", 3), ("S", 6)], 5: [("P", 4), ("V", 6)]}


def _plain_strings(max_len):
    """All plain Reber strings of length <= max_len with their probabilities, by depth-first search."""
    out = {}
    stack = [("B", 1, 1.0)]
    while stack:
        s, node, p = stack.pop()
        if node == 6:
            if len(s) + 1 <= max_len:
                out[s + "E"] = p
            continue
        if len(s) + 2 > max_len:                     # needs at least one more symbol and E
            continue
        for sym, nxt in GRAPH[node]:
            stack.append((s + sym, nxt, p / 2))
    return out


@pytest.mark.parametrize("s, bits", [("BTXSE", 3), ("BPVVE", 3), ("BTSSXXTVVE", 8), ("BPTVPSE", 5),
                                     ("BTXXVPSE", 6), ("BPVPXVPXVPXVVE", 12)])
def test_reber_hand_checked_valid(s, bits):
    g = ReberGrammar(embedded=False)
    assert g.is_valid(s)
    assert g.log2prob(s) == -bits                    # one bit per binary choice, counted by hand on the graph
    e = ReberGrammar(embedded=True)
    assert e.is_valid("BT" + s + "TE") and e.is_valid("BP" + s + "PE")
    assert e.log2prob("BT" + s + "TE") == -(bits + 1)
    assert not e.is_valid(s)
    assert not e.is_valid("BT" + s + "PE") and not e.is_valid("BP" + s + "TE")


@pytest.mark.parametrize("s", ["BTSSPXSE", "BPTVVB", "BTXXVVSE", "BTXS", "", "B", "BTXSEE", "TXSE", "BTXSEB",
                               "btxse", "BPVVEPE"])
def test_reber_hand_checked_invalid(s):
    g = ReberGrammar(embedded=False)
    assert not g.is_valid(s)
    assert g.log2prob(s) == -math.inf


def test_embedded_reber_examples():
    e = ReberGrammar()
    assert e.is_valid("BTBTXSETE") and e.is_valid("BPBPVVEPE") and e.is_valid("BTBPTVPSETE")
    for bad in ("BTBTXSEPE", "BTBTXSET", "BTXSE", "BTBTXSETEE", "BPBTXSETE"):
        assert not e.is_valid(bad)
        assert e.log2prob(bad) == -math.inf


def test_reber_valid_next_by_hand():
    e = ReberGrammar()
    s = "BTBTXSETE"
    expected = [{"T", "P"}, {"B"}, {"T", "P"}, {"S", "X"}, {"X", "S"}, {"E"}, {"T"}, {"E"}, set()]
    assert [set(x) for x in e.valid_next(s)] == expected
    assert [set(x) for x in e.valid_next("BPBPTV")] == [{"T", "P"}, {"B"}, {"T", "P"}, {"T", "V"}, {"T", "V"},
                                                        {"P", "V"}]
    g = ReberGrammar(embedded=False)
    assert [set(x) for x in g.valid_next("BPVPXV")] == [{"T", "P"}, {"T", "V"}, {"P", "V"}, {"X", "S"},
                                                        {"T", "V"}, {"P", "V"}]
    with pytest.raises(ValueError, match="s: 'BTBTXSEP' is not a prefix"):
        e.valid_next("BTBTXSEP")


def test_reber_log2prob_matches_independent_enumeration():
    g = ReberGrammar(embedded=False)
    e = ReberGrammar(embedded=True)
    max_len = 18
    strings = _plain_strings(max_len)
    assert len(strings) > 500
    for s, p in strings.items():
        assert g.log2prob(s) == pytest.approx(LOG2(p), abs=1e-12)
        assert e.log2prob("BT" + s + "TE") == pytest.approx(LOG2(p / 2), abs=1e-12)
    # single-symbol substitutions leave the language unless they land on another enumerated string
    rng = np.random.default_rng(0)
    keys = list(strings)
    for i in rng.choice(len(keys), size=300, replace=False):
        s = keys[i]
        j = int(rng.integers(len(s)))
        for c in "BTPSXVE":
            t = s[:j] + c + s[j + 1:]
            assert g.is_valid(t) == (t in strings)
    # the probabilities sum to 1 minus the tail P(len > max_len); bound the tail with the chain: from any node
    # 2..5 the string ends within two steps with probability >= 1/4 (X S, V V, S, V), so P(len > 2 + 1 + 2k) is
    # at most (3/4)^k
    total = sum(strings.values())
    k = (max_len - 3) // 2
    assert 1 - 0.75 ** k <= total < 1
    # and exactly: the length distribution by dynamic programming over the transcribed graph
    dist = {1: 1.0}
    tail_inside = 0.0
    for length in range(2, max_len):                 # after `length` symbols (B plus length-1 choices)
        new = {}
        for node, p in dist.items():
            for _, nxt in GRAPH[node]:
                new[nxt] = new.get(nxt, 0.0) + p / 2
        tail_inside += new.pop(6, 0.0)               # reached node 6: one E to go, total length + 1 <= max_len
        dist = new
    assert total == pytest.approx(tail_inside, abs=1e-12)


def test_reber_exact_entropy_by_hand():
    # Expected steps v_i from node i to node 6 (each step one binary choice):
    #   v4 = 1 + v3/2, v5 = 1 + v4/2, v3 = 1 + (v3 + v5)/2, v2 = 1 + (v2 + v4)/2, v1 = 1 + (v2 + v3)/2
    #   => v4 = 10/3, v5 = 8/3, v3 = 14/3, v2 = 16/3, v1 = 6.
    # Plain: 6 bits over B + 6 + E = 8 symbols. Embedded: 7 bits (the T/P branch) over 12 symbols.
    g = ReberGrammar(embedded=False)
    e = ReberGrammar()
    assert g.entropy_per_string() == pytest.approx(6.0, abs=1e-12)
    assert g.mean_length() == pytest.approx(8.0, abs=1e-12)
    assert g.entropy_rate() == pytest.approx(6 / 8, abs=1e-12)
    assert e.entropy_per_string() == pytest.approx(7.0, abs=1e-12)
    assert e.mean_length() == pytest.approx(12.0, abs=1e-12)
    assert e.entropy_rate() == pytest.approx(7 / 12, abs=1e-12)
    assert e.entropy_rate(separator=True) == pytest.approx(7 / 13, abs=1e-12)


@pytest.mark.parametrize("embedded", [False, True])
def test_reber_entropy_matches_monte_carlo(embedded):
    g = ReberGrammar(embedded=embedded)
    strings = g.sample(10000, np.random.default_rng(2))
    bits = np.array([-g.log2prob(s) for s in strings])
    lens = np.array([len(s) for s in strings], dtype=float)
    assert np.all(np.isfinite(bits))
    est = bits.sum() / lens.sum()
    se = (bits - est * lens).std(ddof=1) / math.sqrt(len(strings)) / lens.mean()
    assert abs(est - g.entropy_rate()) < 4 * se
    assert g.empirical_bits_per_symbol(strings) == pytest.approx(est, rel=1e-12)
    assert g.empirical_bits_per_symbol(strings, separator=True) == pytest.approx(
        bits.sum() / (lens + 1).sum(), rel=1e-12)
    # bits = number of binary choices = symbols minus the deterministic ones (B, E, and for the embedded
    # grammar the inner B, the inner E and the repeated T/P)
    assert np.all(bits == lens - (6 if embedded else 2) + (1 if embedded else 0))


def test_reber_sampler_branch_frequencies():
    e = ReberGrammar()
    strings = e.sample(4000, np.random.default_rng(4))
    frac_t = np.mean([s[1] == "T" for s in strings])
    assert abs(frac_t - 0.5) < 5 * math.sqrt(0.25 / 4000)
    assert all(s[-2] == s[1] for s in strings)
    assert all(e.is_valid(s) for s in strings)


def test_reber_reproducible_and_errors():
    e = ReberGrammar()
    assert e.sample(50, np.random.default_rng(9)) == e.sample(50, np.random.default_rng(9))
    assert e.sample(50, np.random.default_rng(9)) != e.sample(50, np.random.default_rng(10))
    assert e.sample(0, np.random.default_rng(0)) == []
    with pytest.raises(ValueError, match="n: expected a non-negative integer"):
        e.sample(-1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        e.sample(2, 0)
    with pytest.raises(ValueError, match="embedded"):
        ReberGrammar(embedded="yes")
    with pytest.raises(ValueError, match="separator"):
        e.entropy_rate(separator=1)
    with pytest.raises(ValueError, match="strings"):
        e.empirical_bits_per_symbol([])
    with pytest.raises(ValueError, match="s: expected a str"):
        e.log2prob(None)
