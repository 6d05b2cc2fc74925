"""Encoder-decoder: a "translation" with known ground truth (spelled-out numbers -> digits) and the model.

    task = NumberTask(max_digits=6)
    task.words(342517)        # ['three', 'hundred', 'forty', 'two', 'thousand', 'five', 'hundred', 'seventeen']
    task.digits(342517)       # ['3', '4', '2', '5', '1', '7']
    numbers = task.sample_numbers(5000, rng)             # digit count uniform in 1..max_digits, then uniform
    src, tgt_in, tgt_out, mask = task.batch(numbers)     # src (Ts, B) words; tgt_* (Tt, B) characters; mask (Tt, B)

    model = Seq2Seq(task.src_vocab_size, task.tgt_vocab_size, embedding_dim=16, hidden_size=64, rng=rng)
    loss = model.loss_and_grads(src, tgt_in, tgt_out, mask)             # teacher forcing; fills model.grads
    losses = train_seq2seq(model, task, numbers, steps=2000, batch_size=64, lr=1e-2, rng=rng)
    outs = greedy_decode(model, src, max_len=task.max_target_len)       # batched greedy, list of id lists
    hyps = rnn_utils.sampling.beam_search(model, [EOS_ID], max_len, width, stop_token=EOS_ID,
                                          state=model.encode(src[:, i:i+1]))     # the course's beam search

The model (time-major; Ts source words, Tt target positions, B sequences):

    encoder:  s_t = LSTM_enc(E_src[x_t], s_{t-1}),  s_0 = 0          t = 1..Ts
    bridge:   the decoder starts from the encoder's final state (h, c) = s_Ts: the whole input passes through
              this one fixed-size pair of vectors
    decoder:  d_u = LSTM_dec(E_tgt[y_{u-1}], d_{u-1}),  d_0 = s_Ts    u = 1..Tt, y_0 = <eos> (the start token)
              logits_u = W_out d_u + b_out                            (B, V_tgt)

Teacher forcing: in training the decoder reads the true previous character y_{u-1}, not its own guess.
Decoding: `model.step(tokens, state)` is one decoder step in the interface of `rnn_utils.sampling`, so greedy,
sampling and beam search work unchanged once the state is the encoder's (`model.encode`).

Parameters (model.params): "src_emb.weight", "encoder.<LSTM names>", "tgt_emb.weight", "decoder.<LSTM names>",
"head.weight", "head.bias"; grads under the same keys.

Batches: sources are grouped so that one batch has one source length (no padding, so the encoder's last step is
every sequence's last word); targets of different lengths are padded on the right and masked.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._checks import check_array, check_count, check_positive_int, check_rng, check_token_ids, check_training_args
from .data import EOS_ID, PAD_ID, Vocabulary
from .layers import Embedding, Linear
from .losses import log_softmax, softmax_cross_entropy
from .module import Module
from .optim import Adam, clip_by_global_norm
from .recurrent import GRU, LSTM

__all__ = ["NumberTask", "number_to_words", "Seq2Seq", "train_seq2seq", "greedy_decode", "exact_match"]

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _below_thousand(n: int) -> List[str]:
    """Words of 1 <= n <= 999 (no "and"; "forty-two" as the two words forty, two)."""
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
    if n:
        words.append(_ONES[n])
    return words


def number_to_words(n: int) -> List[str]:
    """0 <= n < 10**9 in English words, American style without "and": 342517 -> three hundred forty two thousand
    five hundred seventeen (hyphenated tens such as forty-two are two tokens)."""
    n = check_count("n", n)
    if n >= 10 ** 9:
        raise ValueError(f"n: expected a number below 10**9, got {n}")
    if n == 0:
        return ["zero"]
    words = []
    for value, name in ((10 ** 6, "million"), (10 ** 3, "thousand")):
        if n >= value:
            words += _below_thousand(n // value) + [name]
            n %= value
    return words + (_below_thousand(n) if n else [])


class NumberTask:
    """Spelled-out numbers -> digits, with exact ground truth.

    Source vocabulary: <pad>, <unk>, <eos> and the 30 number words (zero..nineteen, twenty..ninety, hundred,
    thousand; million when max_digits > 6). Target vocabulary: <pad>, <unk>, <eos> and the digits 0-9; <eos>
    starts the decoder and ends every target.
    Numbers are drawn with a digit count d uniform in 1..max_digits, then uniformly among the d-digit numbers
    (0-9 for d = 1), so short and long inputs are equally frequent.
    """

    def __init__(self, *, max_digits: int = 6):
        self.max_digits = check_positive_int("max_digits", max_digits)
        if self.max_digits > 9:
            raise ValueError(f"max_digits: expected at most 9 (numbers below 10**9), got {max_digits}")
        words = list(_ONES) + [t for t in _TENS if t] + ["hundred", "thousand"] + (
            ["million"] if self.max_digits > 6 else [])
        self.src_vocab = Vocabulary(words, level="word")
        self.tgt_vocab = Vocabulary(list("0123456789"), level="char")

    def __repr__(self) -> str:
        return f"NumberTask(max_digits={self.max_digits})"

    @property
    def src_vocab_size(self) -> int:
        return len(self.src_vocab)

    @property
    def tgt_vocab_size(self) -> int:
        return len(self.tgt_vocab)

    @property
    def max_target_len(self) -> int:
        """The longest target in tokens: max_digits digits and <eos>."""
        return self.max_digits + 1

    def words(self, n: int) -> List[str]:
        return number_to_words(n)

    def digits(self, n: int) -> List[str]:
        return list(str(check_count("n", n)))

    def sample_numbers(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """count numbers (count,) int64: digit count d uniform in 1..max_digits, then uniform over d digits."""
        count = check_positive_int("count", count)
        rng = check_rng("rng", rng)
        d = rng.integers(1, self.max_digits + 1, size=count)
        low = np.where(d == 1, 0, 10 ** (d - 1))
        return rng.integers(low, 10 ** d).astype(np.int64)

    def encode_source(self, n: int) -> np.ndarray:
        return np.array([self.src_vocab.stoi[w] for w in number_to_words(n)], dtype=np.int64)

    def encode_target(self, n: int) -> np.ndarray:
        """Digit ids followed by <eos>, shape (digits + 1,)."""
        return np.array([self.tgt_vocab.stoi[c] for c in str(n)] + [EOS_ID], dtype=np.int64)

    def decode_target(self, ids: Sequence[int]) -> str:
        """Target ids -> the digit string, stopping at the first <eos> (other specials shown as ?)."""
        out = []
        for i in ids:
            if int(i) == EOS_ID:
                break
            s = self.tgt_vocab.itos[int(i)]
            out.append(s if s.isdigit() else "?")
        return "".join(out)

    def batch(self, numbers) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Numbers whose spelled-out forms all have the same length Ts -> (src, tgt_in, tgt_out, mask):

        src (Ts, B) source ids; tgt_in (Tt, B) = <eos>, d_1, ..., (the decoder's inputs, padded with <pad>);
        tgt_out (Tt, B) = d_1, ..., d_k, <eos> (padded); mask (Tt, B) bool, True at real target positions.
        Tt = the longest target in the batch (digits + 1).
        """
        numbers = check_array("numbers", numbers, (None,), ("B",), kind="int")
        if numbers.size == 0:
            raise ValueError("numbers: expected at least one number, got an empty array")
        srcs = [self.encode_source(int(n)) for n in numbers]
        lengths = {len(s) for s in srcs}
        if len(lengths) != 1:
            raise ValueError(f"numbers: expected numbers whose spelled-out forms have one length (group them with "
                             f"NumberTask.group_by_length), got lengths {sorted(lengths)}")
        tgts = [self.encode_target(int(n)) for n in numbers]
        Tt, B = max(len(t) for t in tgts), len(tgts)
        tgt_out = np.full((Tt, B), PAD_ID, dtype=np.int64)
        tgt_in = np.full((Tt, B), PAD_ID, dtype=np.int64)
        mask = np.zeros((Tt, B), dtype=bool)
        for b, t in enumerate(tgts):
            tgt_out[:len(t), b] = t
            tgt_in[0, b] = EOS_ID
            tgt_in[1:len(t), b] = t[:-1]
            mask[:len(t), b] = True
        return np.stack(srcs, axis=1), tgt_in, tgt_out, mask

    def group_by_length(self, numbers) -> Dict[int, np.ndarray]:
        """numbers (N,) -> {source length Ts: the numbers with that many words}, keys sorted."""
        numbers = check_array("numbers", numbers, (None,), ("N",), kind="int")
        lengths = np.array([len(number_to_words(int(n))) for n in numbers])
        return {int(L): numbers[lengths == L] for L in np.unique(lengths)}


# ----------------------------------------------------------------------------------------------------------------
class Seq2Seq(Module):
    """Encoder-decoder of the module docstring: Embedding + LSTM (or GRU) encoder, Embedding + LSTM (or GRU)
    decoder started from the encoder's final state, Linear head. cell: "lstm" or "gru"."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, *, embedding_dim: int = 16, hidden_size: int = 64,
                 cell: str = "lstm", rng: np.random.Generator):
        super().__init__()
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.vocab_size = check_positive_int("tgt_vocab_size", tgt_vocab_size)    # what sampling.* reads
        E = check_positive_int("embedding_dim", embedding_dim)
        H = self.hidden_size = check_positive_int("hidden_size", hidden_size)
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell: expected 'lstm' or 'gru', got {cell!r}")
        self.cell = cell
        rng = check_rng("rng", rng)
        Layer = LSTM if cell == "lstm" else GRU
        self.src_emb = Embedding(self.src_vocab_size, E, rng=rng)
        self.encoder = Layer(E, H, rng=rng)
        self.tgt_emb = Embedding(self.vocab_size, E, rng=rng)
        self.decoder = Layer(E, H, rng=rng)
        self.head = Linear(H, self.vocab_size, rng=rng)
        self._parts = {"src_emb": self.src_emb, "encoder": self.encoder, "tgt_emb": self.tgt_emb,
                       "decoder": self.decoder, "head": self.head}
        self.params = {f"{p}.{k}": v for p, m in self._parts.items() for k, v in m.params.items()}
        self.grads = {f"{p}.{k}": v for p, m in self._parts.items() for k, v in m.grads.items()}
        self._shapes = None

    def encode(self, src) -> object:
        """src (Ts, B) source ids -> the encoder's final state: (h, c) each (1, B, H) for the LSTM, h for the GRU."""
        src = self._check_src(src)
        _, state = self.encoder.forward(self.src_emb.forward(src))
        return state

    def forward(self, src, tgt_in) -> np.ndarray:
        """Teacher-forced logits: src (Ts, B), tgt_in (Tt, B) target ids -> logits (Tt, B, V_tgt)."""
        src = self._check_src(src)
        tgt_in = check_token_ids("tgt_in", tgt_in, self.vocab_size, (None, src.shape[1]), ("Tt", "B"),
                                 size_name="tgt_vocab_size")
        if tgt_in.shape[0] == 0:
            raise ValueError(f"tgt_in: expected at least one target position, got shape {tgt_in.shape}")
        Ys, state = self.encoder.forward(self.src_emb.forward(src))
        Yd, _ = self.decoder.forward(self.tgt_emb.forward(tgt_in), state0=state)
        self._shapes = (Ys.shape, tgt_in.shape)
        return self.head.forward(Yd)

    def backward(self, dlogits) -> None:
        """dlogits (Tt, B, V_tgt) -> fills grads (every part's, in place). The only path from the loss to the
        encoder is the bridge: the gradient w.r.t. the decoder's initial state is the encoder's dstate_n."""
        if self._shapes is None:
            raise RuntimeError("Seq2Seq.backward called before forward")
        ys_shape, (Tt, B) = self._shapes
        dlogits = check_array("dlogits", dlogits, (Tt, B, self.vocab_size), ("Tt", "B", "V"))
        dXd, dstate0 = self.decoder.backward(self.head.backward(dlogits))
        self.tgt_emb.backward(dXd)
        dXs, _ = self.encoder.backward(np.zeros(ys_shape), dstate_n=dstate0)
        self.src_emb.backward(dXs)

    def loss_and_grads(self, src, tgt_in, tgt_out, mask=None) -> float:
        """Mean cross-entropy per real target token (nats), teacher forcing; fills grads."""
        logits = self.forward(src, tgt_in)
        loss, dlogits = softmax_cross_entropy(logits, tgt_out, mask)
        self.backward(dlogits)
        return loss

    def step(self, tokens, state):
        """One decoder step for rnn_utils.sampling: tokens (B,) target ids, state the decoder state (start it
        from `encode`) -> (logits (B, V_tgt), new state). Keeps no cache (training is not disturbed)."""
        tokens = check_token_ids("tokens", tokens, self.vocab_size, (None,), ("B",), size_name="tgt_vocab_size")
        if state is None:
            raise ValueError("state: expected the encoder's state (model.encode(src)), got None")
        h, state = self.decoder.step(self.tgt_emb.params["weight"][tokens], state)
        return h @ self.head.params["weight"].T + self.head.params["bias"], state

    def _check_src(self, src) -> np.ndarray:
        src = check_token_ids("src", src, self.src_vocab_size, (None, None), ("Ts", "B"),
                              size_name="src_vocab_size")
        if src.shape[0] == 0 or src.shape[1] == 0:
            raise ValueError(f"src: expected a non-empty (Ts, B) array, got shape {src.shape}")
        return src


def greedy_decode(model: Seq2Seq, src, *, max_len: int) -> List[List[int]]:
    """Greedy decoding of a whole batch at once: src (Ts, B) -> B lists of target ids, each ending at its first
    <eos> (included) or after max_len tokens. The same tokens as rnn_utils.sampling.greedy run one sequence at a
    time with stop_token=<eos> (ties: the lowest id)."""
    max_len = check_positive_int("max_len", max_len)
    state = model.encode(src)
    B = np.shape(src)[1]
    tokens = np.full(B, EOS_ID, dtype=np.int64)
    out = np.empty((max_len, B), dtype=np.int64)
    done = np.zeros(B, dtype=bool)
    for u in range(max_len):
        logits, state = model.step(tokens, state)
        tokens = np.argmax(log_softmax(logits), axis=1)
        out[u] = tokens
        done |= tokens == EOS_ID
        if done.all():
            out = out[:u + 1]
            break
    result = []
    for b in range(B):
        seq = out[:, b].tolist()
        result.append(seq[:seq.index(EOS_ID) + 1] if EOS_ID in seq else seq)
    return result


def exact_match(task: NumberTask, numbers, outputs: Sequence[Sequence[int]]) -> np.ndarray:
    """(N,) bool: output i decodes to exactly the digits of numbers[i] and ends with <eos>."""
    numbers = check_array("numbers", numbers, (None,), ("N",), kind="int")
    if len(outputs) != numbers.size:
        raise ValueError(f"outputs: expected {numbers.size} decoded sequences (one per number), got {len(outputs)}")
    return np.array([list(o) == task.encode_target(int(n)).tolist() for n, o in zip(numbers, outputs)])


def train_seq2seq(model: Seq2Seq, task: NumberTask, numbers, *, steps: int, batch_size: int, lr: float = 1e-2,
                  clip: Optional[float] = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Teacher-forced training on a fixed training set `numbers`, Adam(lr) and global-norm clipping.

    Each update draws a source length Ts with probability proportional to how many training numbers have it,
    then batch_size numbers of that length (with replacement). Returns the loss of every update (steps,), nats.
    """
    steps, batch_size, lr, clip, rng = check_training_args(steps, batch_size, lr, clip, rng)
    groups = list(task.group_by_length(numbers).values())
    sizes = np.array([g.size for g in groups], dtype=np.float64)
    opt = Adam(model.params, lr=lr)
    losses = np.empty(steps)
    for s in range(steps):
        g = groups[rng.choice(len(groups), p=sizes / sizes.sum())]
        losses[s] = model.loss_and_grads(*task.batch(g[rng.integers(0, g.size, size=batch_size)]))
        if clip is not None:
            clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
    return losses
