"""Generated corpora whose true probabilities (and hence true entropy) are known exactly.

Two sources, both seeded through a `np.random.Generator` passed in, both unambiguous (every string has exactly
one derivation, so its probability is the product of the choices that made it):

`AgreementGrammar`
    English-like lowercase sentences with subject-verb number agreement across a relative clause of variable
    length, in the spirit of the lecture's "The cat, which already ate, ..., was full." /
    "The cats, which already ate, ..., were full." and its "apple and pear salad"::

        the cat , which already ate , was full .
        my small cats , which just slept and ran , were very tired .
        the apple and pear salad was fresh .

    Words are separated by single spaces, and so are the punctuation tokens "," and ".". A *corpus* is the
    sentences each followed by "\\n" (see `to_text`); the newline is the end-of-sentence symbol, it counts as one
    character and a language model has to predict it. The entropy rate is therefore

        H = E[-log2 P(s)] / E[len(s) + 1]      bits per character,

    computed in closed form by `AgreementGrammar.entropy_rate` (no Monte Carlo). No model can beat it on held-out
    text; `empirical_bits_per_char` gives the same ratio on a finite sample under the true model.

`ReberGrammar`
    The (embedded) Reber grammar of Hochreiter & Schmidhuber's LSTM paper, symbols B T P S X V E. A string
    starts with B and ends with E; strings are concatenated without a separator, so every symbol of every
    string, B and E included, is one predicted symbol (the B after an E is deterministic: 0 bits).

All probabilities are reported as log2 probabilities; strings outside a language get -inf.
"""
from __future__ import annotations

import itertools
import math
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._checks import check_bool, check_count, check_real, check_rng

__all__ = [
    "AgreementGrammar",
    "ReberGrammar",
    "to_text",
]


# ---------------------------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------------------------
def _check_prob(name: str, p, *, open_low: bool = False, open_high: bool = False) -> float:
    return check_real(name, p, 0.0, 1.0, low_open=open_low, high_open=open_high)


def _check_strings(name: str, strings) -> List[str]:
    if isinstance(strings, str) or not all(isinstance(s, str) for s in strings):
        raise ValueError(f"{name}: expected a sequence of strings (not a single string)")
    strings = list(strings)
    if not strings:
        raise ValueError(f"{name}: expected at least one string, got an empty sequence")
    return strings


def _entropy_bits(p: np.ndarray) -> float:
    """Shannon entropy in bits of a probability vector (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def to_text(sentences: Sequence[str], end: str = "\n") -> str:
    """Join sentences into one corpus string, each sentence followed by `end` (the end-of-sentence symbol).

    This is the layout `AgreementGrammar.entropy_rate` assumes: len(text) == sum(len(s) + 1).
    """
    if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
        raise ValueError("sentences: expected a sequence of strings (not a single string)")
    return "".join(s + end for s in sentences)


# ---------------------------------------------------------------------------------------------------------------
# the agreement grammar
# ---------------------------------------------------------------------------------------------------------------
# Vocabulary. Each noun is (singular form, plural form, semantic class); a form may span several words.
# The class ("animal" or "food") chooses the verbs of the relative clause and the adjectives after the copula,
# so sentences stay sensible: "the cat , which already ate , was full ." / "the pie , which just cooled , was warm .".
_DETERMINERS = ("the", "my", "our", "his", "her")
_NOUNS = (
    ("cat", "cats", "animal"),
    ("dog", "dogs", "animal"),
    ("fox", "foxes", "animal"),
    ("owl", "owls", "animal"),
    ("apple and pear salad", "apple and pear salads", "food"),
    ("cake", "cakes", "food"),
    ("pie", "pies", "food"),
)
_SUBJECT_ADJECTIVES = ("big", "small")          # optional, before the noun
_ADVERBS = ("already", "just")                  # optional, after "which"
_CLAUSE_VERBS = {                               # past tense: the same form for singular and plural subjects
    "animal": ("ate", "ran", "slept", "hid"),
    "food": ("cooled", "baked", "arrived", "sat"),
}
_COPULA = ("was", "were")                       # singular, plural: they differ at their second character
_INTENSIFIERS = ("very", "so", "too")                # optional, after the copula
_PREDICATE_ADJECTIVES = {
    "animal": ("full", "happy", "tired", "calm"),
    "food": ("fresh", "sweet", "warm", "good"),
}


class AgreementGrammar:
    """A probabilistic grammar of sentences with subject-verb agreement across a relative clause.

    Grammar (every choice independent; "|" alternatives uniform unless stated; [x] = optional, the empty
    option counting as one more uniform alternative)::

        S      -> DET [SADJ] NOUN_num,cls  CLAUSE_cls  COP_num [INT] PADJ_cls "."
        DET    -> the | my | our | his | her
        num    -> singular (prob 1 - p_plural) | plural (prob p_plural)
        NOUN   -> cat(s) | dog(s) | fox(es) | owl(s)                     (class animal)
                | apple and pear salad(s) | cake(s) | pie(s)            (class food)   -- 7 nouns, uniform
        SADJ   -> big | small
        CLAUSE -> (nothing)                                  with prob clause_probs[0]
                | ", which" [ADV] V ("and" V)^(m-1) ","      with prob clause_probs[m], m = 1..max_clause_verbs
        ADV    -> already | just
        V      -> ate | ran | slept | hid                      (animal)
                | cooled | baked | arrived | sat               (food), each verb independent, uniform
        COP    -> was (singular) | were (plural)              -- determined by num: the agreement to learn
        INT    -> very | so | too
        PADJ   -> full | happy | tired | calm                  (animal)
                | fresh | sweet | warm | good                  (food)

    Tokens (words and the punctuation "," ".") are joined by single spaces. The relative clause verbs are past
    tense, identical for both numbers, so nothing between the noun and the copula tells its number: the model
    has to carry it across the clause. The grammar is unambiguous (each string has one derivation; `parses`
    finds every derivation by exhaustive backtracking and the tests check there is only ever one), so
    `log2prob` of a sentence is the sum of the log2 probabilities of its choices.

    Clause length distribution: by default m = 0 with prob 1 - p_clause, otherwise m = 1 + Geometric, i.e.
    P(m) = p_clause (1 - p_more) p_more^(m-1) for 1 <= m < max_clause_verbs and the remaining tail mass on
    m = max_clause_verbs. Or pass `clause_probs` (length max_clause_verbs + 1, sums to 1) directly, e.g. a
    uniform distribution to probe agreement accuracy against distance.

    A clause with m verbs has 1 + [ADV] + m + (m - 1) words between its two commas ("which", the optional
    adverb, the verbs and the "and"s).

    Corpus layout: each sentence followed by "\\n", which counts as one character (see `entropy_rate`).

    Default figures (clause_probs = [0.3, 0.455, 0.159, 0.086]): 16.65 bits per sentence, mean length 45.04
    characters (+1 for "\\n"), entropy rate 0.3616 bits per character; 48 words; 28 characters
    ("\\n", " ", ",", ".", and 24 lowercase letters: no q, z).
    """

    def __init__(
        self,
        max_clause_verbs: Optional[int] = None,
        p_clause: Optional[float] = None,
        p_more: Optional[float] = None,
        p_plural: float = 0.5,
        clause_probs: Optional[Sequence[float]] = None,
    ):
        if clause_probs is not None:
            given = [n for n, v in (("max_clause_verbs", max_clause_verbs), ("p_clause", p_clause),
                                    ("p_more", p_more)) if v is not None]
            if given:
                raise ValueError(
                    f"clause_probs: give either clause_probs or ({', '.join(given)}), not both"
                )
            probs = np.asarray(clause_probs, dtype=np.float64) if _is_number_seq(clause_probs) else None
            if probs is None or probs.ndim != 1 or probs.size < 1:
                raise ValueError(f"clause_probs: expected a 1-d sequence of probabilities, got {clause_probs!r}")
            if not np.all(np.isfinite(probs)) or np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-9:
                raise ValueError(
                    f"clause_probs: expected non-negative probabilities summing to 1, got {probs.tolist()} "
                    f"(sum {probs.sum():.6g})"
                )
            probs = probs / probs.sum()
        else:
            max_clause_verbs = 3 if max_clause_verbs is None else max_clause_verbs
            max_clause_verbs = check_count("max_clause_verbs", max_clause_verbs)
            p_clause = _check_prob("p_clause", 0.7 if p_clause is None else p_clause)
            p_more = _check_prob("p_more", 0.35 if p_more is None else p_more, open_high=True)
            if max_clause_verbs == 0 and p_clause > 0:
                raise ValueError("p_clause: must be 0 when max_clause_verbs=0 (no room for a clause verb)")
            probs = np.zeros(max_clause_verbs + 1)
            probs[0] = 1.0 - p_clause
            for m in range(1, max_clause_verbs):
                probs[m] = p_clause * (1.0 - p_more) * p_more ** (m - 1)
            if max_clause_verbs >= 1:
                probs[max_clause_verbs] = p_clause * p_more ** (max_clause_verbs - 1)
        self.p_plural = _check_prob("p_plural", p_plural)
        self.clause_probs = probs
        self.clause_probs.setflags(write=False)
        self.max_clause_verbs = probs.size - 1

        self.determiners = _DETERMINERS
        self.nouns = tuple((tuple(sg.split()), tuple(pl.split()), cls) for sg, pl, cls in _NOUNS)
        self.subject_adjectives = _SUBJECT_ADJECTIVES
        self.adverbs = _ADVERBS
        self.clause_verbs = _CLAUSE_VERBS
        self.copula = _COPULA
        self.intensifiers = _INTENSIFIERS
        self.predicate_adjectives = _PREDICATE_ADJECTIVES

    # -- description ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        probs = ", ".join(f"{p:.4g}" for p in self.clause_probs)
        return f"AgreementGrammar(clause_probs=[{probs}], p_plural={self.p_plural:g})"

    @property
    def vocabulary(self) -> List[str]:
        """Sorted list of the distinct words (punctuation tokens "," and "." not included)."""
        words = set(self.determiners) | set(self.subject_adjectives) | set(self.adverbs) | set(self.copula)
        words |= set(self.intensifiers) | {"which", "and"}
        for sg, pl, _ in self.nouns:
            words |= set(sg) | set(pl)
        for cls in ("animal", "food"):
            words |= set(self.clause_verbs[cls]) | set(self.predicate_adjectives[cls])
        return sorted(words)

    @property
    def charset(self) -> List[str]:
        """Sorted list of every character a corpus can contain, the end-of-sentence "\\n" included."""
        chars = set("".join(self.vocabulary)) | {" ", ",", ".", "\n"}
        return sorted(chars)

    # -- derivations -------------------------------------------------------------------------------------------
    # A derivation is the tuple of choices
    #   (det, plural, noun, sadj, m, adv, verbs, intensifier, padj)
    # with indices into the word lists; sadj / adv / intensifier use -1 for "absent"; adv is -1 and verbs is ()
    # when m = 0.
    def _render(self, d) -> Tuple[str, int, int]:
        """Sentence string of derivation `d`, the character index just after the noun, and where the copula starts."""
        det, plural, noun, sadj, m, adv, verbs, intens, padj = d
        sg, pl, cls = self.nouns[noun]
        toks = [self.determiners[det]]
        if sadj >= 0:
            toks.append(self.subject_adjectives[sadj])
        toks.extend(pl if plural else sg)
        subject_end = len(" ".join(toks))
        if m > 0:
            toks += [",", "which"]
            if adv >= 0:
                toks.append(self.adverbs[adv])
            for j, v in enumerate(verbs):
                if j:
                    toks.append("and")
                toks.append(self.clause_verbs[cls][v])
            toks.append(",")
        verb_start = len(" ".join(toks)) + 1
        toks.append(self.copula[int(plural)])
        if intens >= 0:
            toks.append(self.intensifiers[intens])
        toks += [self.predicate_adjectives[cls][padj], "."]
        return " ".join(toks), subject_end, verb_start

    def _log2p(self, d) -> float:
        """log2 probability of derivation `d` (the product of its choices)."""
        det, plural, noun, sadj, m, adv, verbs, intens, padj = d
        cls = self.nouns[noun][2]
        p_num = self.p_plural if plural else 1.0 - self.p_plural
        pm = self.clause_probs[m] if 0 <= m < self.clause_probs.size else 0.0
        if p_num <= 0 or pm <= 0:
            return -math.inf
        lp = (
            -math.log2(len(self.determiners))
            + math.log2(p_num)
            - math.log2(len(self.nouns))
            - math.log2(len(self.subject_adjectives) + 1)
            + math.log2(pm)
            - math.log2(len(self.intensifiers) + 1)
            - math.log2(len(self.predicate_adjectives[cls]))
        )
        if m > 0:
            lp -= math.log2(len(self.adverbs) + 1) + m * math.log2(len(self.clause_verbs[cls]))
        return lp

    def derivations(self) -> Iterator[Tuple[str, float]]:
        """Enumerate every sentence of positive probability with its log2 probability (exhaustive; finite).

        The count grows like 4^max_clause_verbs (about 2e4 sentences for max_clause_verbs=1, 9e4 for 2, 3.6e5
        for 3): meant for checks on small configurations.
        """
        nums = [pl for pl, p in ((False, 1.0 - self.p_plural), (True, self.p_plural)) if p > 0]
        for det, plural, noun in itertools.product(range(len(self.determiners)), nums, range(len(self.nouns))):
            cls = self.nouns[noun][2]
            for sadj in range(-1, len(self.subject_adjectives)):
                for m in range(self.clause_probs.size):
                    if self.clause_probs[m] <= 0:
                        continue
                    advs = range(-1, len(self.adverbs)) if m > 0 else (-1,)
                    for adv in advs:
                        for verbs in itertools.product(range(len(self.clause_verbs[cls])), repeat=m):
                            for intens in range(-1, len(self.intensifiers)):
                                for padj in range(len(self.predicate_adjectives[cls])):
                                    d = (det, plural, noun, sadj, m, adv, verbs, intens, padj)
                                    yield self._render(d)[0], self._log2p(d)

    # -- parsing -----------------------------------------------------------------------------------------------
    def parses(self, sentence: str) -> List[tuple]:
        """Every derivation of `sentence` (exhaustive backtracking over all alternatives of every slot).

        Returns a list of choice tuples (det, plural, noun, sadj, m, adv, verbs, intensifier, padj); empty for
        a string outside the language. The grammar is unambiguous, so the list never has more than one entry.
        """
        if not isinstance(sentence, str):
            raise ValueError(f"sentence: expected a str, got {type(sentence).__name__}")
        toks = sentence.split(" ")
        if " ".join(toks) != sentence or "" in toks:
            return []
        out = []
        n = len(toks)

        def tok(i):
            return toks[i] if i < n else None

        for det in [k for k, w in enumerate(self.determiners) if w == tok(0)]:
            for sadj, i1 in [(-1, 1)] + [(k, 2) for k, w in enumerate(self.subject_adjectives) if w == tok(1)]:
                for noun, (sg, pl, cls) in enumerate(self.nouns):
                    for plural, form in ((False, sg), (True, pl)):
                        if tuple(toks[i1:i1 + len(form)]) != form:
                            continue
                        i2 = i1 + len(form)
                        for m, adv, verbs, i3 in self._parse_clause(toks, i2, cls):
                            for intens, i4 in self._parse_predicate_start(toks, i3, plural):
                                for padj, w in enumerate(self.predicate_adjectives[cls]):
                                    if tok(i4) == w and tok(i4 + 1) == "." and i4 + 2 == n:
                                        d = (det, plural, noun, sadj, m, adv, verbs, intens, padj)
                                        if self._log2p(d) > -math.inf:
                                            out.append(d)
        return out

    def _parse_clause(self, toks, i, cls):
        """Yield (m, adv, verbs, next index) for every way a clause (possibly empty) can start at toks[i]."""
        yield 0, -1, (), i
        if toks[i:i + 2] != [",", "which"]:
            return
        verbs_of = self.clause_verbs[cls]
        for adv, j in [(-1, i + 2)] + [(k, i + 3) for k, w in enumerate(self.adverbs) if toks[i + 2:i + 3] == [w]]:
            # verbs: V ("and" V)* then ","; explore every possible stopping point
            stack = [((), j)]
            while stack:
                verbs, k = stack.pop()
                if verbs:
                    if toks[k:k + 1] == [","]:
                        yield len(verbs), adv, verbs, k + 1
                    if toks[k:k + 1] != ["and"]:
                        continue
                    k += 1
                for v, w in enumerate(verbs_of):
                    if toks[k:k + 1] == [w]:
                        stack.append((verbs + (v,), k + 1))

    def _parse_predicate_start(self, toks, i, plural):
        """Yield (intensifier, next index) after the copula agreeing with `plural`."""
        if toks[i:i + 1] != [self.copula[int(plural)]]:
            return
        yield -1, i + 1
        for k, w in enumerate(self.intensifiers):
            if toks[i + 1:i + 2] == [w]:
                yield k, i + 2

    def log2prob(self, sentence: str) -> float:
        """log2 P(sentence) under the grammar (sentence without the trailing "\\n"); -inf outside the language.

        E.g. "the apple and pair salad was fresh ." (with "pair") gets -inf; "the cats was full ." too.
        """
        lps = [self._log2p(d) for d in self.parses(sentence)]
        if not lps:
            return -math.inf
        return float(np.logaddexp2.reduce(lps)) if len(lps) > 1 else lps[0]

    def flip_number(self, sentence: str) -> str:
        """The sentence with its copula's number flipped ("was" <-> "were"): the ungrammatical twin used by
        an agreement probe (compare P(sentence) with P(flip_number(sentence)) under a model)."""
        ds = self.parses(sentence)
        if not ds:
            raise ValueError(f"sentence: not a sentence of the grammar: {sentence!r}")
        _, _, verb_start = self._render(ds[0])
        cop = self.copula[int(ds[0][1])]
        other = self.copula[1 - int(ds[0][1])]
        return sentence[:verb_start] + other + sentence[verb_start + len(cop):]

    # -- sampling ----------------------------------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator, *, with_info: bool = False):
        """Draw `n` independent sentences (no trailing "\\n"; join them with `to_text`).

        n: number of sentences (0 allowed). rng: a np.random.Generator; the same seed gives the same sentences
        (all choices are drawn as arrays, so sample(10) is not a prefix of sample(20) with the same seed).

        Returns the list of sentences, or, with with_info=True, (sentences, info) where info is a dict of
        arrays of shape (n,):
            "log2p"         float64, exact log2 P(sentence)
            "plural"        bool, the subject's number (the copula is "were" iff plural)
            "clause_verbs"  int, m = number of verbs in the relative clause (0: no clause)
            "clause_words"  int, words between the clause's commas (0: no clause)
            "subject_end"   int, character index just after the subject noun phrase
            "verb_start"    int, character index of the copula; "was"/"were" first differ at verb_start + 1
            "distance"      int, verb_start - subject_end (characters the number has to be carried over)
        """
        n = check_count("n", n)
        rng = check_rng("rng", rng)
        n_cls = {c: len(v) for c, v in self.clause_verbs.items()}
        det = rng.integers(0, len(self.determiners), size=n)
        plural = rng.random(n) < self.p_plural
        noun = rng.integers(0, len(self.nouns), size=n)
        sadj = rng.integers(-1, len(self.subject_adjectives), size=n)
        m = rng.choice(self.clause_probs.size, size=n, p=self.clause_probs)
        adv = rng.integers(-1, len(self.adverbs), size=n)
        verb_u = rng.random((n, max(self.max_clause_verbs, 1)))
        intens = rng.integers(-1, len(self.intensifiers), size=n)
        padj_u = rng.random(n)

        sentences: List[str] = []
        info = {k: np.zeros(n, dtype=np.int64) for k in
                ("clause_verbs", "clause_words", "subject_end", "verb_start", "distance")}
        info["log2p"] = np.zeros(n, dtype=np.float64)
        info["plural"] = plural.copy()
        for i in range(n):
            cls = self.nouns[noun[i]][2]
            mi = int(m[i])
            verbs = tuple(int(u * n_cls[cls]) for u in verb_u[i, :mi])
            padj = int(padj_u[i] * len(self.predicate_adjectives[cls]))
            d = (int(det[i]), bool(plural[i]), int(noun[i]), int(sadj[i]), mi,
                 int(adv[i]) if mi > 0 else -1, verbs, int(intens[i]), padj)
            s, subject_end, verb_start = self._render(d)
            sentences.append(s)
            info["log2p"][i] = self._log2p(d)
            info["clause_verbs"][i] = mi
            info["clause_words"][i] = (1 + (d[5] >= 0) + 2 * mi - 1) if mi > 0 else 0
            info["subject_end"][i] = subject_end
            info["verb_start"][i] = verb_start
            info["distance"][i] = verb_start - subject_end
        return (sentences, info) if with_info else sentences

    # -- exact information-theoretic figures -------------------------------------------------------------------
    def entropy_per_sentence(self) -> float:
        """E[-log2 P(s)] in bits: the sum of the entropies of the independent choices (closed form)."""
        n_nouns = len(self.nouns)
        classes = [c for _, _, c in self.nouns]
        mean_log_verbs = sum(math.log2(len(self.clause_verbs[c])) for c in classes) / n_nouns
        mean_log_padj = sum(math.log2(len(self.predicate_adjectives[c])) for c in classes) / n_nouns
        m = np.arange(self.clause_probs.size)
        p_clause = 1.0 - self.clause_probs[0]
        return float(
            math.log2(len(self.determiners))
            + _entropy_bits([self.p_plural, 1.0 - self.p_plural])
            + math.log2(n_nouns)
            + math.log2(len(self.subject_adjectives) + 1)
            + _entropy_bits(self.clause_probs)
            + p_clause * math.log2(len(self.adverbs) + 1)
            + float((m * self.clause_probs).sum()) * mean_log_verbs
            + math.log2(len(self.intensifiers) + 1)
            + mean_log_padj
        )

    def mean_length(self) -> float:
        """E[len(s)] in characters, without the "\\n" (closed form: expected tokens' lengths plus spaces)."""

        def mean_len(words):                     # mean of len(word) + 1 (the word and the space after it)
            return sum(len(w) + 1 for w in words) / len(words)

        def mean_len_optional(words):            # empty option counts as one more uniform alternative
            return sum(len(w) + 1 for w in words) / (len(words) + 1)

        n_nouns = len(self.nouns)
        noun_len = sum((len(" ".join(sg)) + 1) * (1 - self.p_plural) + (len(" ".join(pl)) + 1) * self.p_plural
                       for sg, pl, _ in self.nouns) / n_nouns
        classes = [c for _, _, c in self.nouns]
        verb_len = sum(mean_len(self.clause_verbs[c]) for c in classes) / n_nouns
        padj_len = sum(mean_len(self.predicate_adjectives[c]) for c in classes) / n_nouns
        m = np.arange(self.clause_probs.size)
        mean_m = float((m * self.clause_probs).sum())
        p_clause = 1.0 - self.clause_probs[0]
        clause_len = p_clause * (len(", which ") + mean_len_optional(self.adverbs) + len(", ")) \
            + mean_m * verb_len + (mean_m - p_clause) * len("and ")
        cop_len = (len("was") + 1) * (1 - self.p_plural) + (len("were") + 1) * self.p_plural
        total = (mean_len(self.determiners) + mean_len_optional(self.subject_adjectives) + noun_len + clause_len
                 + cop_len + mean_len_optional(self.intensifiers) + padj_len + len("."))
        return float(total)

    def entropy_rate(self) -> float:
        """True entropy of the source in bits per character, E[-log2 P(s)] / E[len(s) + 1].

        The +1 is the "\\n" that ends every sentence in a corpus (see `to_text`): it is one of the characters a
        language model predicts. This is the floor for held-out bits per character of any model.
        """
        return float(self.entropy_per_sentence() / (self.mean_length() + 1.0))

    def empirical_bits_per_char(self, sentences: Sequence[str]) -> float:
        """-sum log2 P(s_i) / sum (len(s_i) + 1) of a finite sample under the true model (inf if any s_i is
        outside the language). Converges to `entropy_rate()` as the sample grows."""
        sentences = _check_strings("sentences", sentences)
        total = sum(self.log2prob(s) for s in sentences)
        return float(-total / sum(len(s) + 1 for s in sentences))

    def summary(self) -> Dict[str, object]:
        """The figures worth printing: entropy (bits/char and bits/sentence), mean length, vocabulary, charset."""
        return {
            "bits_per_char": self.entropy_rate(),
            "bits_per_sentence": self.entropy_per_sentence(),
            "mean_length": self.mean_length(),
            "vocabulary_size": len(self.vocabulary),
            "charset": "".join(self.charset),
            "clause_probs": self.clause_probs.tolist(),
        }


def _is_number_seq(x) -> bool:
    try:
        arr = np.asarray(x)
    except Exception:  # pragma: no cover - exotic inputs
        return False
    return arr.dtype.kind in "iuf"


# ---------------------------------------------------------------------------------------------------------------
# the (embedded) Reber grammar
# ---------------------------------------------------------------------------------------------------------------
# The Reber graph: node -> {symbol: next node}. Node 0 is the start (emits B), node 6 emits E and ends (None).
# Every node with two edges picks either with probability 1/2. Checked against the classic examples:
# valid "BTXSE", "BPVVE", "BTSSXXTVVE", "BPTVPSE", "BTXXVPSE"; invalid "BTSSPXSE", "BPTVVB", "BTXXVVSE".
_REBER_GRAPH = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": None},
}


class ReberGrammar:
    """The Reber grammar and its embedded version (Hochreiter & Schmidhuber, 1997), symbols "BTPSXVE".

    Plain Reber strings follow the graph (each node with two out-edges picks either with probability 1/2)::

        node 0 -B-> 1;  1 -T-> 2, 1 -P-> 3;  2 -S-> 2, 2 -X-> 4;  3 -T-> 3, 3 -V-> 5;
        4 -X-> 3, 4 -S-> 6;  5 -P-> 4, 5 -V-> 6;  6 -E-> end
    e.g. "BTXSE", "BPVVE", "BTSSXXTVVE". The embedded grammar wraps a Reber string r as "BT" r "TE" or
    "BP" r "PE" (T or P with probability 1/2): to predict the second-to-last symbol the network must remember the
    second one across the whole inner string.

    Counting: strings are concatenated with no separator; all len(s) symbols of a string, B and E included, are
    predicted symbols. Given a valid prefix the automaton's state is unique and the next symbol is uniform over
    the valid next symbols (`valid_next`), so each binary choice costs exactly one bit and the deterministic
    symbols (B, E, the matching T/P, ...) cost nothing.
    """

    symbols = "BTPSXVE"

    def __init__(self, embedded: bool = True):
        self.embedded = check_bool("embedded", embedded)

    def __repr__(self) -> str:
        return f"ReberGrammar(embedded={self.embedded})"

    # -- walking the automaton ----------------------------------------------------------------------------------
    # State: (phase, branch, node). For the plain grammar only ("inner", None, node) is used.
    #   embedded: ("start",) -B-> ("branch",) -T/P-> ("inner", b, 0) ... inner E -> ("close", b) -b-> ("end",)
    #             -E-> ("done",)
    def _initial(self):
        return ("start",) if self.embedded else ("inner", None, 0)

    def _moves(self, state) -> Dict[str, tuple]:
        """Valid next symbols from `state` and the state each one leads to."""
        phase = state[0]
        if phase == "start":
            return {"B": ("branch",)}
        if phase == "branch":
            return {"T": ("inner", "T", 0), "P": ("inner", "P", 0)}
        if phase == "inner":
            _, b, node = state
            out = {}
            for sym, nxt in _REBER_GRAPH[node].items():
                if nxt is None:                     # inner E: the inner string is complete
                    out[sym] = ("close", b) if self.embedded else ("done",)
                else:
                    out[sym] = ("inner", b, nxt)
            return out
        if phase == "close":
            return {state[1]: ("end",)}
        if phase == "end":
            return {"E": ("done",)}
        return {}                                   # "done"

    def _walk(self, s: str) -> Optional[List[tuple]]:
        """States visited before each symbol of s (len(s) + 1 states), or None if s leaves the grammar."""
        state = self._initial()
        states = [state]
        for ch in s:
            moves = self._moves(state)
            if ch not in moves:
                return None
            state = moves[ch]
            states.append(state)
        return states

    # -- public API ------------------------------------------------------------------------------------------------
    def is_valid(self, s: str) -> bool:
        """True iff s is a complete string of the grammar."""
        if not isinstance(s, str):
            raise ValueError(f"s: expected a str, got {type(s).__name__}")
        states = self._walk(s)
        return states is not None and states[-1] == ("done",)

    def log2prob(self, s: str) -> float:
        """log2 P(s): minus the number of binary choices along the (unique) path; -inf if s is not a string of
        the grammar (including incomplete prefixes)."""
        if not isinstance(s, str):
            raise ValueError(f"s: expected a str, got {type(s).__name__}")
        states = self._walk(s)
        if states is None or states[-1] != ("done",):
            return -math.inf
        return -float(sum(math.log2(len(self._moves(st))) for st in states[:-1]))

    def valid_next(self, s: str) -> List[frozenset]:
        """The classic evaluation targets: entry t is the set of symbols that may follow the prefix s[:t+1].

        Returns a list of len(s) frozensets (the last one empty when s is complete). The true next-symbol
        distribution is uniform over each set. Raises ValueError if s is not a prefix of a valid string.
        """
        if not isinstance(s, str):
            raise ValueError(f"s: expected a str, got {type(s).__name__}")
        states = self._walk(s)
        if states is None:
            kind = "an embedded Reber" if self.embedded else "a Reber"
            raise ValueError(f"s: {s!r} is not a prefix of {kind} string")
        return [frozenset(self._moves(st)) for st in states[1:]]

    def sample(self, n: int, rng: np.random.Generator) -> List[str]:
        """Draw `n` independent strings (0 allowed) with the generator `rng` (same seed, same strings)."""
        n = check_count("n", n)
        rng = check_rng("rng", rng)
        out = []
        for _ in range(n):
            state, chars = self._initial(), []
            while state != ("done",):
                moves = self._moves(state)
                keys = sorted(moves, key=self.symbols.index)
                sym = keys[int(rng.integers(len(keys)))] if len(keys) > 1 else keys[0]
                chars.append(sym)
                state = moves[sym]
            out.append("".join(chars))
        return out

    # -- exact figures ------------------------------------------------------------------------------------------
    def _inner_expected_steps(self) -> np.ndarray:
        """v[node] = expected number of symbols emitted from Reber node 1..5 until node 6 is reached.

        Absorbing Markov chain: v = 1 + Q v over the transient nodes, i.e. v = (I - Q)^-1 1.
        """
        transient = [1, 2, 3, 4, 5]
        idx = {node: i for i, node in enumerate(transient)}
        Q = np.zeros((5, 5))
        for node in transient:
            edges = _REBER_GRAPH[node]
            for nxt in edges.values():
                if nxt in idx:
                    Q[idx[node], idx[nxt]] += 1.0 / len(edges)
        return np.linalg.solve(np.eye(5) - Q, np.ones(5))

    def mean_length(self) -> float:
        """E[len(s)] in symbols, B and E included (closed form via the absorbing chain)."""
        inner = 2.0 + self._inner_expected_steps()[0]        # B + steps from node 1 to node 6 + E
        return float(inner + (4.0 if self.embedded else 0.0))  # B, T/P, ..., T/P, E

    def entropy_per_string(self) -> float:
        """E[-log2 P(s)] in bits: one bit per binary choice. Every step from Reber nodes 1..5 is a binary choice,
        so this is the expected number of those steps (+1 for the T/P branch of the embedded grammar)."""
        return float(self._inner_expected_steps()[0] + (1.0 if self.embedded else 0.0))

    def entropy_rate(self, separator: bool = False) -> float:
        """True entropy in bits per symbol, E[-log2 P(s)] / E[len(s)] (every symbol, B and E included).

        separator=True: strings joined by one extra deterministic symbol (e.g. "\\n"), which adds a zero-bit
        symbol to each string: E[-log2 P(s)] / E[len(s) + 1].
        """
        separator = check_bool("separator", separator)
        return self.entropy_per_string() / (self.mean_length() + (1.0 if separator else 0.0))

    def empirical_bits_per_symbol(self, strings: Sequence[str], separator: bool = False) -> float:
        """-sum log2 P(s_i) / sum len(s_i) (+1 per string with separator=True) of a sample under the true model."""
        strings = _check_strings("strings", strings)
        total = sum(self.log2prob(s) for s in strings)
        return float(-total / sum(len(s) + (1 if separator else 0) for s in strings))
