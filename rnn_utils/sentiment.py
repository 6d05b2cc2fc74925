"""Many-to-one: a generated review corpus where word order matters, and an order-blind bag-of-words baseline.

    corpus = ReviewCorpus()                              # a finite, enumerable distribution over short reviews
    ids, labels = corpus.sample(32, rng)                 # ids (T, 32) int64, one length T per batch; labels (32,)
    texts, labels = corpus.sample_reviews(5, rng)        # readable reviews ("the plot was not good but ...")
    corpus.bag_ceiling()                                 # exact best accuracy of ANY order-blind classifier
    corpus.bag_ceiling(negated=True)                     # ... on the reviews that contain a negation
    model = BagOfWords(corpus.vocab_size, 2, rng=rng)    # logits = counts(ids) W^T + b, trained like tasks'
    tasks.train_classifier(model, corpus, steps=..., batch_size=..., rng=rng)   # classifiers (corpus is a task)
    acc = expected_accuracy(model, corpus)               # exact: sum over every review of P(review) [right]

The corpus (label 1 = positive, 0 = negative). A clause is "the N was A" or "the N was not A", with a noun N
(plot, acting, music, ending), an adjective A, positive (good, great) or negative (bad, dull), and "not" with
probability p_not; its polarity is A's, flipped by "not" (the scope of "not" is the one adjective after it). A
review is one of six templates, drawn with `template_probs`:

    plain            C                                       label = polarity(C)
    but              C1 but C2                               label = polarity(C2)   (the clause after "but" wins)
    although_first   although C1 , C2                        label = polarity(C2)   (the main clause wins)
    although_last    C1 although C2                          label = polarity(C1)
    sarcastic        C , not                                 label = not polarity(C)   ("I liked it, not")
    nothing          there is {nothing | a lot} to {like | dislike} in this movie
                                                             label = positive for "a lot to like" and
                                                                     "nothing to dislike", else negative
A review is *negated* when it contains "not" or "nothing" (a property of its bag of words).

tail = k appends the first k words of a fixed neutral afterthought (TAIL: ", i watched it on a rainy sunday ...")
to every review: labels, probabilities and the bag ceiling are unchanged (the same words in every review), but
whatever decides the label now lies k words further from the end, a knob for the memory a left-to-right reader needs.

Why order matters: "the plot was good but the acting was bad" (negative) and "the acting was bad but the plot
was good" (positive) have the same words; so do "the plot was not good but the acting was great" (positive) and
"the plot was good but the acting was not great" (negative). An order-blind model sees only the multiset of words
(the bag) and must give both the same answer. Because every review has a known probability and there are finitely
many (3,140 with the defaults), the best accuracy any function of the bag can reach is exact:

    ceiling = sum over bags b of max_y P(bag = b, label = y)          (the Bayes classifier of the bag)

and likewise on the negated reviews (divided by P(negated)).
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ._checks import check_array, check_bool, check_count, check_positive_int, check_real, check_rng, check_token_ids
from .data import Vocabulary
from .layers import Linear
from .losses import softmax_cross_entropy
from .module import Module

__all__ = ["ReviewCorpus", "BagOfWords", "expected_accuracy"]

TEMPLATES = ("plain", "but", "although_first", "although_last", "sarcastic", "nothing")
DEFAULT_TEMPLATE_PROBS = {"plain": 0.2, "but": 0.2, "although_first": 0.2, "although_last": 0.2,
                          "sarcastic": 0.1, "nothing": 0.1}
NEGATIONS = ("not", "nothing")
TAIL = tuple((", i watched it on a rainy sunday evening with two old friends from school and we talked about "
              "it for a long time afterwards").split())


class ReviewCorpus:
    """The review distribution described in the module docstring, enumerated exactly.

    Attributes (all reviews of the support, in a fixed order; R of them):
        reviews   list of R tuples of words
        probs     (R,) float64, P(review), summing to 1
        labels    (R,) int64, 1 = positive, 0 = negative
        negated   (R,) bool, contains "not" or "nothing"
        template  (R,) object array of template names
        vocab     Vocabulary (word level; <pad>, <unk>, <eos> first, then the corpus words in a fixed order)
    """

    def __init__(self, *, nouns: Sequence[str] = ("plot", "acting", "music", "ending"),
                 positive: Sequence[str] = ("good", "great"), negative: Sequence[str] = ("bad", "dull"),
                 p_not: float = 0.3, template_probs: Optional[Mapping[str, float]] = None, tail: int = 0):
        self.nouns = _check_words("nouns", nouns)
        self.positive = _check_words("positive", positive)
        self.negative = _check_words("negative", negative)
        if set(self.positive) & set(self.negative):
            raise ValueError(f"negative: expected no word that is also in positive, got "
                             f"{sorted(set(self.positive) & set(self.negative))}")
        self.p_not = check_real("p_not", p_not, 0.0, 1.0)
        self.template_probs = _check_template_probs(template_probs)
        self.tail = check_count("tail", tail)
        if self.tail > len(TAIL):
            raise ValueError(f"tail: expected at most {len(TAIL)} words (the length of TAIL), got {tail}")
        self._enumerate()
        words = ["the", "was", "not", "but", "although", ",", "there", "is", "nothing", "a", "lot", "to", "like",
                 "dislike", "in", "this", "movie"] + list(TAIL[:self.tail]) + list(self.nouns) + list(self.positive) + list(self.negative)
        self.vocab = Vocabulary(list(dict.fromkeys(words)), level="word")
        self._ids = [np.array([self.vocab.stoi[w] for w in r], dtype=np.int64) for r in self.reviews]
        lengths = np.array([len(r) for r in self.reviews])
        self.lengths = np.unique(lengths)
        self._by_length = {int(L): np.flatnonzero(lengths == L) for L in self.lengths}
        self._length_probs = np.array([self.probs[self._by_length[int(L)]].sum() for L in self.lengths])

    def __repr__(self) -> str:
        return (f"ReviewCorpus({len(self.reviews)} reviews, p_not={self.p_not}, tail={self.tail}, "
                f"templates={ {k: v for k, v in self.template_probs.items() if v > 0} })")

    @property
    def vocab_size(self) -> int:
        """V: the number of word ids (specials included), the size of a one-hot input."""
        return len(self.vocab)

    # ------------------------------------------------------------------------------------------------------------
    def _clauses(self):
        """Every clause as (words, polarity +1/-1, probability)."""
        adjs = [(a, +1) for a in self.positive] + [(a, -1) for a in self.negative]
        out = []
        for n, (a, pol), neg in itertools.product(self.nouns, adjs, (False, True)):
            p = (self.p_not if neg else 1 - self.p_not) / (len(self.nouns) * len(adjs))
            if p > 0:
                words = ("the", n, "was") + (("not",) if neg else ()) + (a,)
                out.append((words, -pol if neg else pol, p))
        return out

    def _enumerate(self) -> None:
        rows = []                                           # (words, prob, label, template)
        tp = self.template_probs
        clauses = self._clauses()
        for c, pol, p in clauses:
            rows.append((c, tp["plain"] * p, pol > 0, "plain"))
            rows.append((c + (",", "not"), tp["sarcastic"] * p, pol < 0, "sarcastic"))
        for (c1, pol1, p1), (c2, pol2, p2) in itertools.product(clauses, clauses):
            rows.append((c1 + ("but",) + c2, tp["but"] * p1 * p2, pol2 > 0, "but"))
            rows.append((("although",) + c1 + (",",) + c2, tp["although_first"] * p1 * p2, pol2 > 0,
                         "although_first"))
            rows.append((c1 + ("although",) + c2, tp["although_last"] * p1 * p2, pol1 > 0, "although_last"))
        for amount, verb in itertools.product((("nothing",), ("a", "lot")), ("like", "dislike")):
            positive = (amount == ("nothing",)) == (verb == "dislike")
            rows.append((("there", "is") + amount + ("to", verb, "in", "this", "movie"), tp["nothing"] / 4,
                         positive, "nothing"))
        rows = [(r[0] + TAIL[:self.tail],) + r[1:] for r in rows if r[1] > 0]
        self.reviews: List[Tuple[str, ...]] = [r[0] for r in rows]
        self.probs = np.array([r[1] for r in rows], dtype=np.float64)
        self.probs /= self.probs.sum()                      # exact up to rounding: the template probs sum to 1
        self.labels = np.array([int(r[2]) for r in rows], dtype=np.int64)
        self.negated = np.array([any(w in NEGATIONS for w in r[0]) for r in rows], dtype=bool)
        self.template = np.array([r[3] for r in rows], dtype=object)

    # ------------------------------------------------------------------------------------------------------------
    def bag_ceiling(self, *, negated: Optional[bool] = None, template: Optional[str] = None) -> float:
        """Exact best accuracy of any order-blind classifier (any function of the bag of words).

        negated: None (all reviews), True (only reviews with "not"/"nothing"), False (only the others).
        template: None or one template name (the bag reveals the template, so this is well defined too).
        Both subsets are decided by the bag, so the classifier that is best overall is also best on each.
        """
        keep = self._subset(negated, template)
        mass = defaultdict(lambda: np.zeros(2))
        for i in np.flatnonzero(keep):
            mass[tuple(sorted(self.reviews[i]))][self.labels[i]] += self.probs[i]
        total = self.probs[keep].sum()
        return float(sum(m.max() for m in mass.values()) / total)

    def _subset(self, negated, template) -> np.ndarray:
        keep = np.ones(len(self.reviews), dtype=bool)
        if negated is not None:
            keep &= self.negated == check_bool("negated", negated)
        if template is not None:
            if template not in TEMPLATES:
                raise ValueError(f"template: expected one of {TEMPLATES}, got {template!r}")
            keep &= self.template == template
        if not keep.any():
            name = "template" if template is not None else "negated"
            raise ValueError(f"{name}: no review of the corpus has negated={negated!r} and template={template!r} "
                             f"(an empty subset)")
        return keep

    def sample(self, n: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """A training batch of n reviews of one length: ids (T, n) int64 (time-major), labels (n,) int64.

        T is drawn with its probability under the corpus, then the n reviews independently given T, so that
        batches need no padding; averaged over batches every review appears with its own probability. With this
        method the corpus is a task for `rnn_utils.tasks.train_classifier`.
        """
        n = check_positive_int("n", n)
        rng = check_rng("rng", rng)
        L = int(self.lengths[rng.choice(len(self.lengths), p=self._length_probs)])
        rows = self._by_length[L]
        pick = rows[rng.choice(len(rows), size=n, p=self.probs[rows] / self.probs[rows].sum())]
        return np.stack([self._ids[i] for i in pick], axis=1), self.labels[pick].copy()

    def sample_reviews(self, n: int, rng: np.random.Generator) -> Tuple[List[str], np.ndarray]:
        """n reviews drawn independently from the corpus, as text (words joined by spaces), and their labels."""
        n = check_positive_int("n", n)
        rng = check_rng("rng", rng)
        pick = rng.choice(len(self.reviews), size=n, p=self.probs)
        return [" ".join(self.reviews[i]) for i in pick], self.labels[pick].copy()

    def groups(self, keep: Optional[np.ndarray] = None) -> List[Tuple[np.ndarray, np.ndarray]]:
        """The support grouped by length: a list of (ids (T, R_T) int64, rows (R_T,)) with rows indexing
        `reviews`; keep: optional (R,) bool mask of the reviews to include."""
        out = []
        for L in self.lengths:
            rows = self._by_length[int(L)]
            if keep is not None:
                rows = rows[keep[rows]]
            if rows.size:
                out.append((np.stack([self._ids[i] for i in rows], axis=1), rows))
        return out


def expected_accuracy(model, corpus: ReviewCorpus, *, negated: Optional[bool] = None,
                      template: Optional[str] = None) -> float:
    """Exact expected accuracy of a classifier under the corpus: sum over reviews of P(review) [argmax = label],
    normalised over the subset (negated / template as in `ReviewCorpus.bag_ceiling`).

    model: anything with forward(ids (T, B)) -> logits (B, K), e.g. a BagOfWords or tasks.SequenceClassifier.
    No sampling noise: every review of the support is scored once.
    """
    if not isinstance(corpus, ReviewCorpus):
        raise ValueError(f"corpus: expected a ReviewCorpus, got {type(corpus).__name__}")
    if not callable(getattr(model, "forward", None)):
        raise ValueError(f"model: expected a classifier with forward(ids) -> logits, got {type(model).__name__}")
    keep = corpus._subset(negated, template)
    right = 0.0
    for ids, rows in corpus.groups(keep):
        pred = np.argmax(model.forward(ids), axis=1)
        right += float(corpus.probs[rows][pred == corpus.labels[rows]].sum())
    return right / float(corpus.probs[keep].sum())


# ----------------------------------------------------------------------------------------------------------------
# the order-blind baseline
# ----------------------------------------------------------------------------------------------------------------
class BagOfWords(Module):
    """Logistic regression on word counts: the classic order-blind baseline.

        c[b, v] = number of t with ids[t, b] == v        (B, V)   the bag of words (counts, order thrown away)
        logits  = c W^T + b                              (B, K)   W (K, V): a Linear(V, K), params "weight", "bias"

    Same interface as tasks.SequenceClassifier (forward, backward, loss_and_grads, params, grads), so
    tasks.train_classifier and tasks.classifier_accuracy work with it. It is linear in the counts, so it cannot
    even represent every function of the bag (e.g. not XOR: "not good" vs "not bad"); the corpus's bag_ceiling
    bounds every function of the bag, this one included.
    """

    def __init__(self, vocab_size: int, num_classes: int, *, rng: np.random.Generator):
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.num_classes = check_positive_int("num_classes", num_classes)
        rng = check_rng("rng", rng)
        self.head = Linear(self.vocab_size, self.num_classes, rng=rng)
        self.params = self.head.params
        self.grads = self.head.grads

    def counts(self, ids) -> np.ndarray:
        """ids (T, B) int in [0, V) -> the bag of words, counts (B, V) float64."""
        ids = check_token_ids("ids", ids, self.vocab_size, (None, None), ("T", "B"), size_name="vocab_size")
        T, B = ids.shape
        c = np.zeros((B, self.vocab_size))
        np.add.at(c, (np.tile(np.arange(B), T), ids.reshape(-1)), 1.0)
        return c

    def forward(self, ids) -> np.ndarray:
        """ids (T, B) -> logits (B, K)."""
        return self.head.forward(self.counts(ids))

    def backward(self, dlogits) -> None:
        """dlogits (B, K) -> fills grads["weight"] (K, V) and grads["bias"] (K,)."""
        self.head.backward(dlogits)

    def loss_and_grads(self, ids, targets) -> float:
        """Mean cross-entropy (nats) of the batch; fills grads."""
        logits = self.forward(ids)
        targets = check_array("targets", targets, (logits.shape[0],), ("B",), kind="int")
        loss, dlogits = softmax_cross_entropy(logits[None], targets[None])
        self.backward(dlogits[0])
        return loss


# ----------------------------------------------------------------------------------------------------------------
def _check_words(name: str, words) -> Tuple[str, ...]:
    if isinstance(words, str) or not isinstance(words, (list, tuple)) or not words:
        raise ValueError(f"{name}: expected a non-empty list of words, got {words!r}")
    for w in words:
        if not isinstance(w, str) or not w or " " in w:
            raise ValueError(f"{name}: expected single words (non-empty str without spaces), got {w!r}")
    if len(set(words)) != len(words):
        raise ValueError(f"{name}: expected distinct words, got {list(words)!r}")
    return tuple(words)


def _check_template_probs(probs) -> Dict[str, float]:
    if probs is None:
        return dict(DEFAULT_TEMPLATE_PROBS)
    if not isinstance(probs, Mapping):
        raise ValueError(f"template_probs: expected a dict template -> probability, got {type(probs).__name__}")
    unknown = sorted(set(probs) - set(TEMPLATES))
    if unknown:
        raise ValueError(f"template_probs: unknown templates {unknown}, expected names from {TEMPLATES}")
    out = {t: check_real(f"template_probs[{t!r}]", probs.get(t, 0.0), 0.0) for t in TEMPLATES}
    total = sum(out.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"template_probs: expected probabilities summing to 1, got a sum of {total!r}")
    return out
