"""Name tagging: a generated corpus whose best possible accuracies are known exactly, and a recurrent tagger.

The corpus (`TaggingGrammar`) is the lecture's "Teddy bears are on sale!" / "Teddy Roosevelt was a great President!"
made into a probabilistic grammar. Every word gets a tag, 1 if it is part of a person's name *used as a person*,
0 otherwise; a name used to describe a thing ("harry potter books") is tagged 0, as a named-entity tagger tags it
a title, not a person. Lowercase throughout, so capital letters give nothing away::

    he said teddy bears are on sale                        0 0 0 0 0 0 0
    he said teddy roosevelt was a great president          0 0 1 1 0 0 0 0
    harry potter and hermione granger invented a new spell 1 1 0 1 1 0 0 0 0
    martin luther king posters are popular                 0 0 0 0 0 0

Whether a name word is tagged 1 is decided only by the words *after* it: 1 word later for the last word of a name
("roosevelt" + "was" / "posters"), 2 for the first of two ("teddy roosevelt" + ...), 3 for "martin luther king".

Exact ceilings. The grammar is finite (3108 sentences) and unambiguous (one derivation per sentence, hence one
tagging), so `TaggingGrammar.ceiling(k)` computes exactly, by enumeration,

    ceiling(k) = E[ sum_t max_y P(y_t = y | w_1 .. w_{t+k}) ] / E[T]          (accuracy per token)

the accuracy of the best tagger that decides tag t having read the words up to t + k (k = 0: left to right; past
the last word it reads <eos>), overall and on the *ambiguous words* (the word types that occur with both tags:
the 13 name words). `ceiling(None)` is the bidirectional ceiling, every word read: exactly 1 here.

The tagger (`Tagger`): one-hot inputs -> any recurrent layer (RNN, LSTM, GRU, Unrolled; one direction or
bidirectional) -> a per-step `Linear`. With `lookahead=k` a one-direction layer reads k <eos> ids after the
sentence and emits the tag of word t at step t + k (the streaming compromise)::

    grammar = TaggingGrammar()
    ids, tags, mask = grammar.batch(64, rng)              # (T, B) word ids (<eos> after the end), tags (-1 there)
    model = Tagger(RNN(grammar.vocab_size, 16, bidirectional=True, rng=rng), 2, rng=rng)
    losses = train_tagger(model, grammar, steps=300, batch_size=64, lr=1e-2, rng=rng)
    acc = tagger_accuracy(model, ids, tags, mask)          # fraction of the masked tokens tagged right

Randomness only through np.random.Generator arguments; bad arguments raise a ValueError naming the argument.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._checks import (
    check_array, check_count, check_positive_int, check_real, check_recurrent_layer, check_rng, check_token_ids,
    check_training_args, renamed,
)
from .data import EOS, EOS_ID, Vocabulary, one_hot_unchecked, pad_batch
from .layers import Linear
from .losses import softmax_cross_entropy
from .module import Module
from .optim import Adam, clip_by_global_norm

__all__ = ["TaggingGrammar", "Tagger", "train_tagger", "tagger_accuracy"]

# ---------------------------------------------------------------------------------------------------------------
# the grammar
# ---------------------------------------------------------------------------------------------------------------
_NAMES = (                                   # person names; each can also describe a thing ("harry potter books")
    ("teddy", "roosevelt"),
    ("harry", "potter"),
    ("hermione", "granger"),
    ("grace", "hopper"),
    ("jack", "london"),
    ("martin", "luther", "king"),
)
_COMPOUNDS = (("teddy", "bears"), ("jack", "rabbits"), ("grace", "notes"))     # first-name look-alikes, tag 0 0
_THING_NOUNS = ("books", "posters", "costumes")                                # after a name: "harry potter books"
_INTRO = ("he", "said")
_PERSON_PHRASES = {                          # intransitive verb phrases, by the number of people in the subject
    1: (("invented", "a", "new", "spell"), ("gave", "a", "speech"), ("was", "a", "great", "president")),
    2: (("invented", "a", "new", "spell"), ("gave", "a", "speech"), ("were", "great", "presidents")),
}
_THING_PHRASES = (("are", "on", "sale"), ("are", "popular"))

Token = Tuple[str, int]                      # (word, tag)


class TaggingGrammar:
    """A probabilistic grammar of tagged sentences about people and things named after them.

    Grammar (every "|" uniform unless a probability is given; tags in brackets)::

        S       -> ["he said"] CLAUSE                       "he said" with prob p_intro   [0 0]
        CLAUSE  -> PEOPLE PVP_n   (prob p_person)  |  THING TVP
        PEOPLE  -> NAME (n = 1)  |  NAME "and" NAME (n = 2, prob p_pair)                 [names 1, "and" 0]
        NAME    -> teddy roosevelt | harry potter | hermione granger | grace hopper | jack london
                 | martin luther king                                                   [1 on every word]
        PVP_n   -> VP_n  |  "met" NAME  |  "saw" OBJ                                    [verbs 0]
        VP_1    -> invented a new spell | gave a speech | was a great president          [0 ...]
        VP_2    -> invented a new spell | gave a speech | were great presidents
        OBJ     -> NAME (prob p_person)  |  THING
        THING   -> NAME' NOUN (prob p_named)  |  teddy bears | jack rabbits | grace notes   [all 0]
        NAME'   -> NAME (the same words, tagged 0: a name describing a thing)
        NOUN    -> books | posters | costumes
        TVP     -> are on sale | are popular                                            [0 ...]

    Every sentence has exactly one derivation (`derivations` enumerates them all; the tests check no two share a
    sentence), so its tags are a function of its words and the bidirectional ceiling is 1. Left to right, a name
    word is ambiguous until the word after its name ("was" or "posters") or the end of the sentence.

    Sentences are tuples of words; tags are int64 arrays of the same length.
    """

    def __init__(self, *, p_intro: float = 0.5, p_person: float = 0.5, p_pair: float = 0.25,
                 p_named: float = 0.75):
        self.p_intro = check_real("p_intro", p_intro, 0.0, 1.0)
        self.p_person = check_real("p_person", p_person, 0.0, 1.0)
        self.p_pair = check_real("p_pair", p_pair, 0.0, 1.0)
        self.p_named = check_real("p_named", p_named, 0.0, 1.0)
        self.names = _NAMES
        self.compounds = _COMPOUNDS
        self.thing_nouns = _THING_NOUNS
        words = set(_INTRO) | {"and", "met", "saw"} | set(_THING_NOUNS)
        for group in (_NAMES, _COMPOUNDS, _PERSON_PHRASES[1], _PERSON_PHRASES[2], _THING_PHRASES):
            for phrase in group:
                words |= set(phrase)
        self.words: Tuple[str, ...] = tuple(sorted(words))
        # the ambiguous word types: those a sentence can tag 1 and another 0 (every word of every name)
        self.ambiguous_words: Tuple[str, ...] = tuple(sorted({w for name in _NAMES for w in name}))
        self.vocab = Vocabulary(self.words)                # <pad>=0, <unk>=1, <eos>=2, then the words
        self.ambiguous_ids = np.array([self.vocab.stoi[w] for w in self.ambiguous_words], dtype=np.int64)
        self._tables: Dict[Optional[int], dict] = {}       # look-ahead k -> mass table (see `_table`)
        self._lookup: Optional[dict] = None                # sentence -> tags, for `tags_of`
        self._lengths: Optional[Tuple[float, float]] = None

    def __repr__(self) -> str:
        return (f"TaggingGrammar(p_intro={self.p_intro:g}, p_person={self.p_person:g}, p_pair={self.p_pair:g}, "
                f"p_named={self.p_named:g})")

    @property
    def vocab_size(self) -> int:
        """V = 3 specials + the words: the size of a one-hot input."""
        return len(self.vocab)

    # -- the choices, as (probability, tokens) alternatives --------------------------------------------------
    @staticmethod
    def _tagged(words, tag: int) -> List[Token]:
        return [(w, tag) for w in words]

    def _name_options(self, tag: int):
        return [(1.0 / len(self.names), self._tagged(n, tag)) for n in self.names]

    def _thing_options(self):
        out = []
        for name in self.names:
            for noun in self.thing_nouns:
                p = self.p_named / (len(self.names) * len(self.thing_nouns))
                out.append((p, self._tagged(name + (noun,), 0)))
        for c in self.compounds:
            out.append(((1.0 - self.p_named) / len(self.compounds), self._tagged(c, 0)))
        return out

    def _pvp_options(self, n: int):
        third = 1.0 / 3.0
        out = [(third / len(_PERSON_PHRASES[n]), self._tagged(vp, 0)) for vp in _PERSON_PHRASES[n]]
        out += [(third * p, [("met", 0)] + toks) for p, toks in self._name_options(1)]
        out += [(third * self.p_person * p, [("saw", 0)] + toks) for p, toks in self._name_options(1)]
        out += [(third * (1.0 - self.p_person) * p, [("saw", 0)] + toks) for p, toks in self._thing_options()]
        return out

    def _clause_options(self):
        out = []
        for p1, a in self._name_options(1):                                            # one person
            for p2, vp in self._pvp_options(1):
                out.append((self.p_person * (1.0 - self.p_pair) * p1 * p2, a + vp))
        for (p1, a), (p2, b) in itertools.product(self._name_options(1), repeat=2):     # two people
            for p3, vp in self._pvp_options(2):
                out.append((self.p_person * self.p_pair * p1 * p2 * p3, a + [("and", 0)] + b + vp))
        for p1, th in self._thing_options():                                           # a thing
            for vp in _THING_PHRASES:
                out.append(((1.0 - self.p_person) * p1 / len(_THING_PHRASES), th + self._tagged(vp, 0)))
        return out

    def derivations(self) -> Iterator[Tuple[Tuple[str, ...], np.ndarray, float]]:
        """Every (sentence, tags, probability) of positive probability: exhaustive, 3108 with the defaults."""
        for p, toks in self._clause_options():
            for intro, q in ((True, self.p_intro), (False, 1.0 - self.p_intro)):
                if p * q <= 0:
                    continue
                full = (self._tagged(_INTRO, 0) if intro else []) + toks
                yield tuple(w for w, _ in full), np.array([t for _, t in full], dtype=np.int64), p * q

    # -- sampling: the same grammar, drawn choice by choice (an independent path from `derivations`) ---------
    def _draw_name(self, rng, tag):
        return self._tagged(self.names[rng.integers(len(self.names))], tag)

    def _draw_thing(self, rng):
        if rng.random() < self.p_named:
            return self._tagged(self.names[rng.integers(len(self.names))]
                                + (self.thing_nouns[rng.integers(len(self.thing_nouns))],), 0)
        return self._tagged(self.compounds[rng.integers(len(self.compounds))], 0)

    def _draw(self, rng) -> List[Token]:
        toks = self._tagged(_INTRO, 0) if rng.random() < self.p_intro else []
        if rng.random() < self.p_person:
            n = 2 if rng.random() < self.p_pair else 1
            toks += self._draw_name(rng, 1)
            if n == 2:
                toks += [("and", 0)] + self._draw_name(rng, 1)
            kind = rng.integers(3)
            if kind == 0:
                toks += self._tagged(_PERSON_PHRASES[n][rng.integers(len(_PERSON_PHRASES[n]))], 0)
            elif kind == 1:
                toks += [("met", 0)] + self._draw_name(rng, 1)
            else:
                toks += [("saw", 0)] + (self._draw_name(rng, 1) if rng.random() < self.p_person
                                        else self._draw_thing(rng))
        else:
            toks += self._draw_thing(rng) + self._tagged(_THING_PHRASES[rng.integers(len(_THING_PHRASES))], 0)
        return toks

    def sample(self, n: int, rng: np.random.Generator) -> Tuple[List[Tuple[str, ...]], List[np.ndarray]]:
        """Draw n independent tagged sentences: (list of word tuples, list of int64 tag arrays)."""
        n = check_count("n", n)
        rng = check_rng("rng", rng)
        sents, tags = [], []
        for _ in range(n):
            toks = self._draw(rng)
            sents.append(tuple(w for w, _ in toks))
            tags.append(np.array([t for _, t in toks], dtype=np.int64))
        return sents, tags

    def encode(self, sentences: Sequence[Sequence[str]], tags: Optional[Sequence] = None):
        """Sentences (lists of words) -> ids (T, B) int64 padded with <eos> ids, and, if tags are given, tags (T, B)
        with -1 at padded steps and the mask (T, B), True on real words. T = the longest sentence."""
        if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not len(sentences):
            what = "an empty sequence" if isinstance(sentences, Sequence) and not isinstance(sentences, str) \
                else type(sentences).__name__
            raise ValueError(f"sentences: expected a non-empty list of sentences (each a list of words), got {what}")
        seqs = []
        for i, s in enumerate(sentences):
            if isinstance(s, str):
                s = s.split()
            try:
                seqs.append(self.vocab.encode(list(s)))
            except ValueError as err:
                raise ValueError(f"sentences[{i}]: {err}") from None
        ids, mask, _ = pad_batch(seqs, pad_id=self.vocab.eos_id)
        if tags is None:
            return ids
        if len(tags) != len(seqs):
            raise ValueError(f"tags: expected {len(seqs)} tag sequences (one per sentence), got {len(tags)}")
        out = np.full(ids.shape, -1, dtype=np.int64)
        for i, (s, t) in enumerate(zip(seqs, tags)):
            t = check_token_ids(f"tags[{i}]", t, 2, (len(s),), ("T",), size_name="num_tags")
            out[:len(s), i] = t
        return ids, out, mask

    def batch(self, n: int, rng: np.random.Generator):
        """n fresh sentences as (ids (T, n), tags (T, n), mask (T, n)): `sample` then `encode`."""
        n = check_positive_int("n", n)
        return self.encode(*self.sample(n, rng))

    def tags_of(self, sentence: Sequence[str]) -> Optional[np.ndarray]:
        """The tags of a sentence of the language (None if it is not one): a lookup in the exhaustive table."""
        if isinstance(sentence, str):
            sentence = sentence.split()
        if self._lookup is None:
            self._lookup = {s: t for s, t, _ in self.derivations()}
        t = self._lookup.get(tuple(sentence))
        return None if t is None else t.copy()

    # -- exact ceilings -----------------------------------------------------------------------------------------
    @staticmethod
    def _key(words: Tuple[str, ...], t: int, k: Optional[int]):
        """What a tagger has read when it decides tag t: words[: t + 1 + k], plus <eos> once it is past the end."""
        if k is None or t + k >= len(words):
            return t, words + (EOS,)
        return t, words[:t + 1 + k]

    def _table(self, k: Optional[int]) -> dict:
        """mass[key] = [P(tag 0 and key), P(tag 1 and key)] summed over all sentences and positions."""
        if k not in self._tables:
            mass = defaultdict(lambda: [0.0, 0.0])
            for words, tags, p in self.derivations():
                for t in range(len(words)):
                    mass[self._key(words, t, k)][int(tags[t])] += p
            self._tables[k] = dict(mass)
        return self._tables[k]

    def expected_length(self) -> Tuple[float, float]:
        """(E[T], E[number of ambiguous words]) per sentence, exact."""
        if self._lengths is None:
            amb = set(self.ambiguous_words)
            e_t = e_a = 0.0
            for words, _, p in self.derivations():
                e_t += p * len(words)
                e_a += p * sum(w in amb for w in words)
            self._lengths = (e_t, e_a)
        return self._lengths

    def ceiling(self, k: Optional[int] = 0) -> Dict[str, float]:
        """Best expected accuracy per token of a tagger that decides tag t after reading words up to t + k.

        k: 0 (left to right), 1, 2, ... words of look-ahead, or None (bidirectional: the whole sentence).
        Returns {"all": accuracy over every token, "ambiguous": over the tokens of ambiguous word types}, each
        E[sum over tokens of max_y P(y_t = y | what was read)] / E[number of such tokens], exact.
        """
        if k is not None:
            k = check_count("k", k)
        amb = set(self.ambiguous_words)
        e_t, e_a = self.expected_length()
        best_all = best_amb = 0.0
        for (t, seen), m in self._table(k).items():
            best = max(m)
            best_all += best
            if seen[t] in amb:
                best_amb += best
        return {"all": best_all / e_t, "ambiguous": best_amb / e_a}

    def min_loss(self, k: Optional[int] = 0) -> float:
        """The lowest mean cross-entropy per token (nats) any tagger with look-ahead k can reach in expectation:
        E[sum_t H(y_t | what was read)] / E[T], exact (the conditional entropy of the tags). k as for `ceiling`."""
        if k is not None:
            k = check_count("k", k)
        e_t, _ = self.expected_length()
        total = 0.0
        for m in self._table(k).values():
            z = m[0] + m[1]
            total -= sum(x * math.log(x / z) for x in m if x > 0)
        return total / e_t

    def name_probs(self, sentence: Sequence[str], k: Optional[int] = 0) -> np.ndarray:
        """P(tag 1 | words read) at every position of a sentence of the language, for look-ahead k (None: all):
        what the best possible tagger believes. Shape (T,)."""
        if isinstance(sentence, str):
            sentence = sentence.split()
        words = tuple(sentence)
        if k is not None:
            k = check_count("k", k)
        if self.tags_of(words) is None:
            raise ValueError(f"sentence: not a sentence of the grammar: {' '.join(words)!r}")
        table = self._table(k)
        out = np.empty(len(words))
        for t in range(len(words)):
            m0, m1 = table[self._key(words, t, k)]
            out[t] = m1 / (m0 + m1)
        return out


# ---------------------------------------------------------------------------------------------------------------
# the tagger
# ---------------------------------------------------------------------------------------------------------------
class Tagger(Module):
    """One-hot words -> a recurrent layer -> a linear head at every step: logits for the tag of every word.

        X = onehot(ids ; k <eos> ids appended)   (T + k, B, V)     V = layer.input_size, k = lookahead
        Y, _ = layer.forward(X)                  (T + k, B, H_out)  H_out = H, or 2H = [forward, backward]
        logits = Y[k:] W^T + b                   (T, B, K)          W (K, H_out): the head, a Linear(H_out, K)

    With a bidirectional layer the output at step t has read x_1..x_t (forward) and x_T..x_t (backward): the
    whole sentence. With a one-direction layer and lookahead=k, the output for word t comes from step t + k,
    after reading words up to t + k (and <eos> past the end): the streaming tagger with a delay of k words.

    params / grads: the layer's under "rnn.<name>", the head's under "head.weight", "head.bias".
    With num_tags = V (one class per word) and next-word targets it is a language model; notebook 07 uses that to
    show why a bidirectional one cheats.
    """

    def __init__(self, layer, num_tags: int, *, lookahead: int = 0, end_id: int = EOS_ID, rng: np.random.Generator):
        super().__init__()
        self.layer = check_recurrent_layer("layer", layer)
        self.num_tags = check_positive_int("num_tags", num_tags)
        self.lookahead = check_count("lookahead", lookahead)
        self.bidirectional = bool(getattr(layer, "bidirectional", False))
        if self.bidirectional and self.lookahead:
            raise ValueError(f"lookahead: must be 0 with a bidirectional layer (it already reads the whole "
                             f"sentence), got {lookahead!r}")
        self.end_id = check_count("end_id", end_id)
        if self.end_id >= layer.input_size:
            raise ValueError(f"end_id: expected an id in [0, input_size={layer.input_size}), got {end_id!r}")
        rng = check_rng("rng", rng)
        out = layer.hidden_size * (2 if self.bidirectional else 1)
        self.dtype = getattr(layer, "dtype", np.float64)
        self.head = Linear(out, self.num_tags, dtype=self.dtype, rng=rng)
        self.params = {**{f"rnn.{k}": v for k, v in layer.params.items()},
                       **{f"head.{k}": v for k, v in self.head.params.items()}}
        self.grads = {**{f"rnn.{k}": v for k, v in layer.grads.items()},
                      **{f"head.{k}": v for k, v in self.head.grads.items()}}
        self._shape = None

    def __repr__(self) -> str:
        return f"Tagger({self.layer!r}, num_tags={self.num_tags}, lookahead={self.lookahead})"

    def forward(self, ids) -> np.ndarray:
        """ids (T, B) int in [0, input_size) -> logits (T, B, num_tags) for the tag of every input word."""
        V = self.layer.input_size
        ids = check_token_ids("ids", ids, V, (None, None), ("T", "B"), size_name="input_size")
        if ids.shape[0] == 0 or ids.shape[1] == 0:
            raise ValueError(f"ids: expected a non-empty (T, B) array, got shape {ids.shape}")
        k = self.lookahead
        if k:
            ids = np.concatenate([ids, np.full((k, ids.shape[1]), self.end_id, dtype=np.int64)])
        Y, _ = self.layer.forward(one_hot_unchecked(ids, V, self.dtype))      # (T + k, B, H_out)
        self._shape = Y.shape
        return self.head.forward(Y[k:])

    def backward(self, dlogits) -> None:
        """dlogits (T, B, num_tags) -> fills grads (the layer's and the head's, in place)."""
        if self._shape is None:
            raise RuntimeError("Tagger.backward called before forward")
        Tk, B, _ = self._shape
        T = Tk - self.lookahead
        dlogits = check_array("dlogits", dlogits, (T, B, self.num_tags), ("T", "B", "num_tags"))
        dY = np.zeros(self._shape, dtype=self.dtype)
        dY[self.lookahead:] = self.head.backward(dlogits)
        self.layer.backward(dY)

    def loss_and_grads(self, ids, tags, mask=None) -> float:
        """Mean cross-entropy per real word (nats) of the tags (T, B) (anything, e.g. -1, where mask is False);
        fills grads."""
        T, B = check_token_ids("ids", ids, self.layer.input_size, (None, None), ("T", "B"),
                               size_name="input_size").shape
        check_array("tags", tags, (T, B), ("T", "B"), kind="int")
        logits = self.forward(ids)
        with renamed("targets", "tags"):
            loss, dlogits = softmax_cross_entropy(logits, tags, mask)
        self.backward(dlogits)
        return loss

    def predict(self, ids) -> np.ndarray:
        """The arg-max tag of every word, (T, B) int64."""
        return np.argmax(self.forward(ids), axis=-1)


def train_tagger(model: Tagger, grammar: TaggingGrammar, *, steps: int, batch_size: int, lr: float = 1e-2,
                 clip: Optional[float] = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Train on fresh batches `grammar.batch(batch_size, rng)` with Adam(lr) and global-norm clipping.

    Returns the loss of every update, shape (steps,), in nats per word.
    """
    if not isinstance(model, Tagger):
        raise ValueError(f"model: expected a Tagger, got {type(model).__name__}")
    if not isinstance(grammar, TaggingGrammar):
        raise ValueError(f"grammar: expected a TaggingGrammar, got {type(grammar).__name__}")
    steps, batch_size, lr, clip, rng = check_training_args(steps, batch_size, lr, clip, rng)
    if model.layer.input_size != grammar.vocab_size:
        raise ValueError(f"model: its layer reads input_size={model.layer.input_size}, the grammar has "
                         f"vocab_size={grammar.vocab_size}")
    opt = Adam(model.params, lr=lr)
    losses = np.empty(steps)
    for s in range(steps):
        losses[s] = model.loss_and_grads(*grammar.batch(batch_size, rng))
        if clip is not None:
            clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
    return losses


def tagger_accuracy(model: Tagger, ids, tags, mask=None) -> float:
    """Fraction of the positions where mask is True (all, if None) whose arg-max tag equals `tags`."""
    pred = model.predict(ids)
    tags = check_array("tags", tags, pred.shape, ("T", "B"), kind="int")
    if mask is None:
        mask = np.ones(pred.shape, dtype=bool)
    mask = check_array("mask", mask, pred.shape, ("T", "B"), kind="any")
    if mask.dtype != bool:
        raise ValueError(f"mask: expected a bool array, got dtype {mask.dtype}")
    if not mask.any():
        raise ValueError("mask: selects no position (nothing to score)")
    return float(np.mean(pred[mask] == tags[mask]))
