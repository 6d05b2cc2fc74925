"""Real text that every machine has offline: the source code of the installed Python's standard library, read at
run time (never copied into the repository), and the count-based baselines a character model must beat.

    train_text, heldout_text = stdlib_corpus()         # fixed files, fixed order, normalised to ALPHABET
    vocab = char_vocabulary()                          # rnn_utils.Vocabulary over ALPHABET (no specials), V = 96
    train_ids = vocab.encode(train_text)

    lm = CharNGram(order=5, vocab_size=len(vocab)).fit(train_ids)     # interpolated Witten-Bell smoothing
    bits = lm.bits(heldout_ids)                        # (N-1,) -log2 P(x_t | x_<t) for t = 1 .. N-1
    p = lm.distribution(context_ids)                   # (V,) P(next | the last order-1 ids of the context)
    bits_per_char(lm, heldout_ids)                     # mean of lm.bits(...)

Which text, and what depends on the Python version: the files are the fixed tuples STDLIB_TRAIN_FILES and
STDLIB_HELDOUT_FILES, read in that order from `sysconfig.get_paths()["stdlib"]`, so every machine with the same
Python version gets the same text. All these modules exist in Python 3.10 to 3.13, but their source changes a
little between versions, so another version gives a slightly different text and slightly different numbers
(never a different vocabulary: the alphabet is fixed). A Python without the source files (some minimal
installations ship only compiled files) raises FileNotFoundError naming the missing file.
"""
from __future__ import annotations

import sys
import sysconfig
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ._checks import check_positive_int, check_token_ids
from .data import Vocabulary

__all__ = [
    "ALPHABET", "STDLIB_TRAIN_FILES", "STDLIB_HELDOUT_FILES", "normalise_text", "char_vocabulary",
    "stdlib_source_dir", "read_stdlib_files", "stdlib_corpus", "CharNGram", "bits_per_char",
]

# newline and the 95 printable ASCII characters (space .. ~): V = 96, independent of the text
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))

STDLIB_TRAIN_FILES = (
    "argparse.py", "difflib.py", "dataclasses.py", "functools.py", "random.py", "contextlib.py",
    "calendar.py", "textwrap.py", "csv.py", "queue.py", "glob.py", "fnmatch.py", "bisect.py",
)
STDLIB_HELDOUT_FILES = ("heapq.py", "string.py")


def normalise_text(text: str) -> str:
    """Map a text onto ALPHABET: tabs become 4 spaces, "\\r\\n" and "\\r" become "\\n", and any other character
    outside the alphabet (accented letters, symbols, form feeds) becomes "?"."""
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    allowed = set(ALPHABET)
    return "".join(c if c in allowed else "?" for c in text)


def char_vocabulary() -> Vocabulary:
    """The character vocabulary of ALPHABET, no special symbols: id 0 = "\\n", id 1 = " ", ..., id 95 = "~"."""
    return Vocabulary(list(ALPHABET), specials=(), level="char")


def stdlib_source_dir() -> Path:
    """The directory of the running Python's standard library sources (sysconfig's "stdlib" path)."""
    return Path(sysconfig.get_paths()["stdlib"])


def read_stdlib_files(names: Sequence[str], *, root: Optional[Union[str, Path]] = None) -> str:
    """The normalised text of the given standard-library files, in the order given, joined by one newline.

    names: file names relative to the stdlib directory (or to `root`, e.g. for tests). Missing files raise
    FileNotFoundError naming the file and the Python version.
    """
    if isinstance(names, (str, bytes)) or not hasattr(names, "__len__") or len(names) == 0:
        raise ValueError(f"names: expected a non-empty list of file names, got {names!r}")
    base = stdlib_source_dir() if root is None else Path(root)
    parts = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValueError(f"names[{i}]: expected a file name (str), got {name!r}")
        path = base / name
        if not path.is_file():
            raise FileNotFoundError(f"names[{i}]: {name!r} not found in {str(base)!r} (Python "
                                    f"{sys.version_info.major}.{sys.version_info.minor}); this corpus needs the "
                                    f"standard library's .py source files")
        parts.append(normalise_text(path.read_text(encoding="utf-8", errors="replace")))
    return "\n".join(parts)


def stdlib_corpus(*, root: Optional[Union[str, Path]] = None) -> Tuple[str, str]:
    """(train_text, heldout_text): STDLIB_TRAIN_FILES and STDLIB_HELDOUT_FILES read by `read_stdlib_files`.

    The held-out files are whole other modules, never seen in training (a split by file, not inside a file).
    """
    return read_stdlib_files(STDLIB_TRAIN_FILES, root=root), read_stdlib_files(STDLIB_HELDOUT_FILES, root=root)


# ----------------------------------------------------------------------------------------------------------
# count-based baselines
# ----------------------------------------------------------------------------------------------------------
class CharNGram:
    """A character n-gram model with interpolated Witten-Bell smoothing (order 1 is a smoothed unigram).

    For a context u of k = order-1 previous ids and its shortened context u' (drop the oldest id):

        P_k(x | u) = (c(u, x) + n(u) P_{k-1}(x | u')) / (c(u) + n(u))      if c(u) > 0,   else P_{k-1}(x | u')
        P_{-1}(x)  = 1 / V                                                   (the uniform floor)

    where c(u, x) counts u followed by x in the training ids, c(u) = sum_x c(u, x) and n(u) = the number of
    distinct x seen after u. Every P_k is a proper distribution over the V ids, and never 0. At the start of a
    sequence (fewer than k previous ids) the longest available context is used.

    fit(ids) counts (returns self); bits(ids) gives -log2 P of ids[1:], each given everything before it
    (the same positions `rnn_utils.evaluate` scores); distribution(context) gives the (V,) next-id probabilities.
    """

    def __init__(self, order: int, vocab_size: int):
        self.order = check_positive_int("order", order)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        if float(self.vocab_size) ** self.order >= 2.0 ** 62:
            raise ValueError(f"order: vocab_size ** order must stay below 2**62 (n-grams are int64 keys), "
                             f"got {self.vocab_size} ** {self.order}")
        self._tables = None   # per k: (sorted gram keys, gram counts, sorted context keys, c(u), n(u))

    def _keys(self, ids: np.ndarray, k: int, ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Integer keys of the contexts ids[t-k:t] and of the grams ids[t-k:t+1] for every t in `ends`."""
        V = self.vocab_size
        ctx = np.zeros(ends.size, dtype=np.int64)
        for j in range(k, 0, -1):
            ctx = ctx * V + ids[ends - j]
        return ctx, ctx * V + ids[ends]

    def fit(self, ids) -> "CharNGram":
        """Count every gram of length 1 .. order in the 1-d id stream `ids` (at least `order` ids)."""
        ids = check_token_ids("ids", ids, self.vocab_size, (None,), ("N",))
        if ids.size < self.order:
            raise ValueError(f"ids: expected at least order={self.order} ids, got {ids.size}")
        tables = []
        for k in range(self.order):
            ends = np.arange(k, ids.size)
            ctx, gram = self._keys(ids, k, ends)
            g_keys, g_counts = np.unique(gram, return_counts=True)
            u_of_g = g_keys // self.vocab_size                          # context of every distinct gram
            u_keys, first, n_types = np.unique(u_of_g, return_index=True, return_counts=True)
            c_u = np.add.reduceat(g_counts, first)
            tables.append((g_keys, g_counts, u_keys, c_u, n_types))
        self._tables = tables
        return self

    @staticmethod
    def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(keys, query)
        pos_c = np.minimum(pos, keys.size - 1)
        found = keys[pos_c] == query
        return np.where(found, values[pos_c], 0)

    def _probs_at(self, ids: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """P(ids[t] | ids[:t]) for every t in ends (each t >= 0 uses min(t, order-1) previous ids)."""
        p = np.full(ends.size, 1.0 / self.vocab_size)
        for k, (g_keys, g_counts, u_keys, c_u, n_u) in enumerate(self._tables):
            ok = ends >= k                                   # enough history for this order
            if not ok.any():
                break                                        # (ends are sorted: no position has more)
            ctx, gram = self._keys(ids, k, np.where(ok, ends, ends[ok][0]))   # placeholders where not ok
            cu = self._lookup(u_keys, c_u, ctx).astype(np.float64)
            nu = self._lookup(u_keys, n_u, ctx).astype(np.float64)
            cg = self._lookup(g_keys, g_counts, gram).astype(np.float64)
            seen = ok & (cu > 0)
            p = np.where(seen, (cg + nu * p) / np.where(seen, cu + nu, 1.0), p)
        return p

    def _check_fitted(self) -> None:
        if self._tables is None:
            raise RuntimeError("CharNGram: call fit(ids) first")

    def bits(self, ids) -> np.ndarray:
        """-log2 P(ids[t] | ids[:t]) for t = 1 .. N-1: shape (N-1,). ids: 1-d, at least 2 ids."""
        self._check_fitted()
        ids = check_token_ids("ids", ids, self.vocab_size, (None,), ("N",))
        if ids.size < 2:
            raise ValueError(f"ids: expected at least 2 ids (a context and a target), got {ids.size}")
        return -np.log2(self._probs_at(ids, np.arange(1, ids.size)))

    def distribution(self, context) -> np.ndarray:
        """P(next id | context) over all V ids, shape (V,), from the last order-1 ids of `context` (1-d, may be
        empty: then the order-0 estimate)."""
        self._check_fitted()
        ctx = check_token_ids("context", context, self.vocab_size, (None,), ("L",))
        p = np.empty(self.vocab_size)
        row, end = np.append(ctx, 0), np.array([ctx.size])
        for x in range(self.vocab_size):          # V small calls: clear rather than fast
            row[-1] = x
            p[x] = self._probs_at(row, end)[0]
        return p


def bits_per_char(model: CharNGram, ids) -> float:
    """Mean -log2 P(ids[t] | ids[:t]) over t = 1 .. N-1 (bits per character) under a fitted CharNGram."""
    if not isinstance(model, CharNGram):
        raise ValueError(f"model: expected a CharNGram, got {type(model).__name__}")
    return float(np.mean(model.bits(ids)))
