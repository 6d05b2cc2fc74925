"""Sequence data: vocabularies, encoding, one-hot vectors, padded time-major batches, text loading.
(The generated corpora AgreementGrammar and ReberGrammar live in `rnn_utils.grammars`.)

Special tokens and their fixed ids (with the default ``specials``, always these three, always first):

    <pad> = 0   fills the unused steps of a padded batch; masked out of every loss
    <unk> = 1   stands for a symbol the vocabulary does not know (only if you ask for it, see `encode`)
    <eos> = 2   end of sequence; `next_token_batch` also uses it as the start marker x_1

After the specials come the ordinary symbols in a deterministic order: characters sorted by code point; words
by decreasing count with ties broken alphabetically (or purely alphabetically, as in the lecture's 10,000-word
dictionary).

Shapes (time-major, as everywhere in the course): a sentence of T tokens is an id array of shape (T,);
a batch is ``idx`` of shape (T, B) with a boolean ``mask`` of shape (T, B) (True on real tokens) and
``lengths`` of shape (B,); ``one_hot(idx, V)`` has shape (T, B, V).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._checks import check_array, check_choice, check_count, check_numeric_dtype, check_positive_int, check_token_ids

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
SPECIALS: Tuple[str, ...] = (PAD, UNK, EOS)
PAD_ID, UNK_ID, EOS_ID = 0, 1, 2

# A word token is a run of letters/digits (keeping an inner apostrophe: "don't"); every other
# non-space character (punctuation) is a token of its own.
_TOKEN_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")

Texts = Union[str, Iterable[str]]


# ----------------------------------------------------------------------------------------------- tokenizing
def tokenize(text: str, *, lower: bool = False, punctuation: bool = True) -> List[str]:
    """Split `text` into word tokens; each punctuation character is a token of its own.

    >>> tokenize("Harry Potter, don't!", lower=True)
    ['harry', 'potter', ',', "don't", '!']

    lower:       lowercase the text first.
    punctuation: keep punctuation tokens (False drops them: the lecture counts "... a new spell." as T_x = 9).
    """
    if not isinstance(text, str):
        raise ValueError(f"tokenize: expected a str, got {type(text).__name__}")
    if lower:
        text = text.lower()
    tokens = _TOKEN_RE.findall(text)
    if not punctuation:
        tokens = [t for t in tokens if t[0].isalnum() or t[0] == "_"]
    return tokens


def _as_text_list(name: str, texts: Texts) -> List[str]:
    """A single str or an iterable of str -> list of str (checked)."""
    items = [texts] if isinstance(texts, str) else list(texts)
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise ValueError(f"{name}: expected a str or a list of str, item {i} is {type(t).__name__}")
    if not any(items):
        raise ValueError(f"{name}: empty input (no text to build a vocabulary from)")
    return items


# ----------------------------------------------------------------------------------------------- vocabulary
class Vocabulary:
    """A fixed bijection between symbols (characters or word tokens) and integer ids 0 .. V-1.

    Ids: ``specials`` first (default ``<pad>``=0, ``<unk>``=1, ``<eos>``=2), then ``symbols`` in the order given.
    Build one with `build_char_vocab` or `build_word_vocab`; construct directly for a hand-picked alphabet.

    level: "char" (a str passed to `encode` is split into characters, `to_text` joins with "") or
           "word" (a str is split with `tokenize`, `to_text` joins with spaces).
    lower: word level only; lowercase tokens before looking them up (set by `build_word_vocab`).
    punctuation: word level only; whether `encode` keeps punctuation tokens when it splits a str (set by
           `build_word_vocab`, so a vocabulary built without punctuation encodes "a new spell." as 3 words).
    """

    def __init__(self, symbols: Iterable[str], *, specials: Sequence[str] = SPECIALS, level: str = "word",
                 lower: bool = False, punctuation: bool = True):
        check_choice("level", level, ("char", "word"))
        symbols, specials = list(symbols), tuple(specials)
        itos = list(specials) + symbols
        for i, s in enumerate(itos):
            if not isinstance(s, str) or s == "":
                raise ValueError(f"Vocabulary: symbols must be non-empty str, got {s!r} at id {i}")
        if level == "char":
            long = [s for s in symbols if len(s) != 1]
            if long:
                raise ValueError(f"Vocabulary: a char-level vocabulary holds single characters, got {long[:3]!r}")
        seen = {}
        for i, s in enumerate(itos):
            if s in seen:
                raise ValueError(f"Vocabulary: duplicate symbol {s!r} at ids {seen[s]} and {i}")
            seen[s] = i
        if not itos:
            raise ValueError("Vocabulary: empty (no symbols and no specials)")
        self.itos: Tuple[str, ...] = tuple(itos)  # id -> symbol
        self.stoi = dict(seen)                    # symbol -> id
        self.specials = specials
        self.level = level
        self.lower = bool(lower) and level == "word"
        self.punctuation = bool(punctuation) or level == "char"

    # --- basics
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, symbol) -> bool:
        return self._norm(symbol) in self.stoi if isinstance(symbol, str) else False

    def __iter__(self):
        return iter(self.itos)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Vocabulary) and self.itos == other.itos and self.specials == other.specials
                and self.level == other.level and self.lower == other.lower
                and self.punctuation == other.punctuation)

    def __repr__(self) -> str:
        head = ", ".join(repr(s) for s in self.itos[:8]) + (", ..." if len(self) > 8 else "")
        return f"Vocabulary(level={self.level!r}, size={len(self)}, symbols=[{head}])"

    def _special_id(self, token: str) -> int:
        if token not in self.specials:
            raise ValueError(f"this vocabulary has no {token!r} token (specials={self.specials!r})")
        return self.stoi[token]

    @property
    def pad_id(self) -> int:
        """Id of ``<pad>`` (0 with the default specials); ValueError if the vocabulary has none."""
        return self._special_id(PAD)

    @property
    def unk_id(self) -> int:
        """Id of ``<unk>`` (1 with the default specials); ValueError if the vocabulary has none."""
        return self._special_id(UNK)

    @property
    def eos_id(self) -> int:
        """Id of ``<eos>`` (2 with the default specials); ValueError if the vocabulary has none."""
        return self._special_id(EOS)

    def _norm(self, symbol: str) -> str:
        return symbol.lower() if self.lower and symbol not in self.stoi else symbol

    def _split(self, text: str) -> List[str]:
        if self.level == "char":
            return list(text)
        return tokenize(text, lower=self.lower, punctuation=self.punctuation)

    # --- encode / decode
    def encode(self, tokens: Union[str, Sequence[str]], *, unknown: str = "error",
               add_eos: bool = False) -> np.ndarray:
        """Symbols -> ids, shape (T,) int64.

        tokens:  a str (split into characters or with `tokenize`, by `level`) or a sequence of symbols.
        unknown: "error" raises a ValueError naming the first unknown symbol; "unk" maps unknown symbols to
                 ``<unk>`` (ValueError if the vocabulary has no ``<unk>``). An explicit choice, no silent default.
        add_eos: append ``<eos>`` (so T = number of tokens + 1).
        """
        check_choice("unknown", unknown, ("error", "unk"))
        seq = self._split(tokens) if isinstance(tokens, str) else list(tokens)
        if not seq:
            raise ValueError("encode: empty input (no symbols to encode)")
        unk = None
        if unknown == "unk":
            if UNK not in self.specials:
                raise ValueError(f"encode: unknown='unk' but this vocabulary has no {UNK!r} token "
                                 f"(specials={self.specials!r}); use unknown='error' or add {UNK!r} to specials")
            unk = self.stoi[UNK]
        ids = []
        for pos, s in enumerate(seq):
            if not isinstance(s, str):
                raise ValueError(f"encode: symbols must be str, got {type(s).__name__} at position {pos}")
            i = self.stoi.get(self._norm(s))
            if i is None:
                if unk is None:
                    raise ValueError(f"encode: unknown symbol {s!r} at position {pos} (not among the {len(self)} "
                                     f"symbols of the vocabulary); pass unknown='unk' to map it to {UNK!r}")
                i = unk
            ids.append(i)
        if add_eos:
            ids.append(self.eos_id)
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids, *, skip_specials: bool = False) -> List[str]:
        """Ids of any shape (flattened in C order) -> list of symbols (an empty list for no ids).

        skip_specials: leave out ``<pad>``, ``<unk>``, ``<eos>`` (and any other specials). Default False, as
        for `to_text`: what you decode is what was there.
        Negative or out-of-range ids raise a ValueError naming the offending id.
        """
        arr = check_token_ids("ids", ids, len(self), size_name="vocabulary size").reshape(-1)
        out = [self.itos[i] for i in arr.tolist()]
        if skip_specials:
            out = [s for s in out if s not in self.specials]
        return out

    def to_text(self, ids, *, skip_specials: bool = False) -> str:
        """Ids -> a string: characters joined with "", words with a single space. skip_specials: leave out
        ``<pad>``, ``<unk>``, ``<eos>`` (default False, as for `decode`)."""
        sep = "" if self.level == "char" else " "
        return sep.join(self.decode(ids, skip_specials=skip_specials))


def build_char_vocab(texts: Texts, *, specials: Sequence[str] = SPECIALS) -> Vocabulary:
    """Character vocabulary of `texts` (a str or a list of str): specials first, then the characters sorted by
    code point. Example: "hello" -> <pad>=0, <unk>=1, <eos>=2, e=3, h=4, l=5, o=6."""
    items = _as_text_list("build_char_vocab", texts)
    chars = sorted(set("".join(items)) - set(specials))
    return Vocabulary(chars, specials=specials, level="char")


def build_word_vocab(texts: Texts, *, lower: bool = True, punctuation: bool = True, min_count: int = 1,
                     max_size: Optional[int] = None, order: str = "frequency",
                     specials: Sequence[str] = SPECIALS) -> Vocabulary:
    """Word vocabulary of `texts` (a str or a list of str), tokenized with `tokenize(lower, punctuation)`.

    min_count: keep words seen at least this often.
    max_size:  cap on the total size V, specials included (the most frequent words are kept).
    order:     "frequency" (decreasing count, ties alphabetical) or "alphabetical" (like a dictionary).
               The words kept under `max_size` are always the most frequent ones; `order` only sorts them.
    """
    items = _as_text_list("build_word_vocab", texts)
    min_count = check_positive_int("min_count", min_count)
    check_choice("order", order, ("frequency", "alphabetical"))
    counts = Counter(t for text in items for t in tokenize(text, lower=lower, punctuation=punctuation))
    for s in specials:
        counts.pop(s, None)
    if not counts:
        raise ValueError("build_word_vocab: empty input (no word tokens in the texts)")
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if max_size is not None:
        max_size = check_positive_int("max_size", max_size)
        if max_size <= len(specials):
            raise ValueError(f"max_size: must exceed the {len(specials)} special tokens, got {max_size}")
        words = words[: max_size - len(specials)]
    if not words:
        raise ValueError(f"build_word_vocab: no word reaches min_count={min_count}")
    if order == "alphabetical":
        words = sorted(words)
    return Vocabulary(words, specials=specials, level="word", lower=lower, punctuation=punctuation)


# ----------------------------------------------------------------------------------------------- arrays
def one_hot(indices, num_classes: int, dtype=np.float64) -> np.ndarray:
    """One-hot vectors: indices of any shape S (int) -> array of shape S + (V,) with V = num_classes.

    out[..., k] = 1 where indices == k, else 0. E.g. idx (T, B) -> X (T, B, V), ready for X @ W_ih.T.
    Negative or >= V indices raise a ValueError (no wrap-around).
    """
    num_classes = check_positive_int("num_classes", num_classes)
    dtype = check_numeric_dtype("dtype", dtype)
    arr = check_token_ids("indices", indices, num_classes, size_name="num_classes")
    return one_hot_unchecked(arr, num_classes, dtype)


def one_hot_unchecked(ids: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    """The construction behind `one_hot`, for callers that have already validated `ids` (int array, every id in
    [0, num_classes)) and `dtype`, e.g. a decoding step: shape ids.shape + (num_classes,)."""
    out = np.zeros(ids.shape + (num_classes,), dtype=dtype)
    out.reshape(-1, num_classes)[np.arange(ids.size), ids.reshape(-1)] = 1
    return out


def _check_sequences(name: str, sequences) -> List[np.ndarray]:
    if isinstance(sequences, np.ndarray) or isinstance(sequences, str):
        raise ValueError(f"{name}: expected a list of 1-d id sequences, got {type(sequences).__name__}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError(f"{name}: empty batch (no sequences)")
    out = []
    for b, s in enumerate(seqs):
        if np.size(s) == 0:
            raise ValueError(f"{name}[{b}]: empty sequence (length 0)")
        arr = check_array(f"{name}[{b}]", s, (None,), ["T"], kind="int")
        if int(arr.min()) < 0:
            raise ValueError(f"{name}[{b}]: ids must be >= 0, got {int(arr.min())}")
        out.append(arr.astype(np.int64))
    return out


def pad_batch(sequences: Sequence[Sequence[int]], *, pad_id: int = PAD_ID
              ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack B id sequences of lengths T_b into a time-major batch.

    Returns idx (T, B) int64 with T = max T_b and idx[t, b] = sequences[b][t] for t < T_b, pad_id after;
            mask (T, B) bool, True exactly on the real tokens (t < T_b);
            lengths (B,) int64, the T_b.
    """
    seqs = _check_sequences("sequences", sequences)
    pad_id = check_count("pad_id", pad_id)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    T, B = int(lengths.max()), len(seqs)
    idx = np.full((T, B), pad_id, dtype=np.int64)
    for b, s in enumerate(seqs):
        idx[: len(s), b] = s
    mask = np.arange(T)[:, None] < lengths[None, :]
    return idx, mask, lengths


def next_token_batch(sequences: Sequence[Sequence[int]], *, start_id: int = EOS_ID, end_id: int = EOS_ID,
                     pad_id: int = PAD_ID) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time-major (inputs, targets, mask) for next-token prediction with teacher forcing.

    For a sentence s_1 .. s_n the targets are y = (s_1, ..., s_n, end) and the inputs are the targets delayed
    by one step, x_t = y_{t-1}, with x_1 = start (the lecture's zero vector x^<1> becomes a start token; by
    default <eos>, which marks the boundary between sentences). Each column has length n + 1.

    Returns inputs (T, B) int64, targets (T, B) int64 (pad_id after the end), mask (T, B) bool.
    Example: [[5, 6, 7], [8]] -> inputs [[2, 2], [5, 8], [6, 0], [7, 0]], targets [[5, 8], [6, 2], [7, 0], [2, 0]].
    """
    seqs = _check_sequences("sequences", sequences)
    start_id, end_id, pad_id = (check_count(n, v) for n, v in (("start_id", start_id), ("end_id", end_id),
                                                                 ("pad_id", pad_id)))
    inputs, _, _ = pad_batch([np.concatenate([[start_id], s]) for s in seqs], pad_id=pad_id)
    targets, mask, _ = pad_batch([np.concatenate([s, [end_id]]) for s in seqs], pad_id=pad_id)
    return inputs, targets, mask


# ----------------------------------------------------------------------------------------------- files
def load_text(path: Union[str, Path], encoding: str = "utf-8") -> str:
    """Read a whole text file and return it as one str (line endings normalised to "\\n", a UTF-8 BOM dropped).

    Raises FileNotFoundError if `path` does not exist, ValueError (naming the path) if it is a directory,
    empty or whitespace only, or not valid in `encoding` (with the byte offset of the first bad byte).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"load_text: no such file: {str(p)!r}")
    if p.is_dir():
        raise ValueError(f"load_text: {str(p)!r} is a directory, not a text file")
    data = p.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ValueError(f"load_text: {str(p)!r} is not valid {encoding} text (bad byte 0x{data[err.start]:02x} "
                         f"at offset {err.start}); pass the right encoding=...") from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(f"load_text: {str(p)!r} is empty" + (" (whitespace only)" if text else ""))
    return text


__all__ = [
    "PAD", "UNK", "EOS", "SPECIALS", "PAD_ID", "UNK_ID", "EOS_ID",
    "tokenize", "Vocabulary", "build_char_vocab", "build_word_vocab",
    "one_hot", "pad_batch", "next_token_batch", "load_text",
]
