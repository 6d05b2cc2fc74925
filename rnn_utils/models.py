"""`LanguageModel`: a next-token model made of an input layer, a recurrent layer and a linear head.

    model = LanguageModel(V, H, cell="gru", embedding_dim=16, rng=np.random.default_rng(0))
    logits, state = model.forward(inputs, state)          # inputs (T, B) ids -> logits (T, B, V)
    dstate0 = model.backward(dlogits)                     # fills model.grads (same keys as model.params)
    loss, state = model.loss_and_grads(inputs, targets, state)   # forward + softmax cross-entropy + backward
    logits, state = model.step(tokens, state)             # one step, tokens (B,) -> (B, V): for rnn_utils.sampling
    model.save("lm.npz"); model = LanguageModel.load("lm.npz")

At time t, for every sequence of the batch (course notation, column form):

    x_t = E[input_t]  (embedding_dim given)   or   x_t = onehot(input_t)  (embedding_dim=None, D = V)
    h_t = recurrent cell(x_t, h_{t-1})        (RNN, LSTM or GRU from rnn_utils.recurrent, any number of layers)
    o_t = W_hy h_t + b_y                      (logits; softmax(o_t) = P(next token | inputs up to t))

Parameters are one flat dict with prefixed names, the sub-layers' own arrays (so an optimiser that updates
`model.params` in place updates the layers): "embedding.weight" (V, E) if there is an embedding,
"rnn.weight_ih_l0", "rnn.weight_hh_l0", ... (torch.nn names), "head.weight" (V, H), "head.bias" (V,).

Training helpers for one long token stream (a corpus encoded as ids):

    losses = train(model, stream, seq_len=50, batch_size=32, steps=500, lr=5e-3, clip=5.0)
    nats_per_token = evaluate(model, stream)
    logp = next_token_log_probs(model, prefixes)       # (N, V): log P(next token | each prefix), in one batch

`train` uses truncated backpropagation through time: the stream is cut into `batch_size` contiguous tracks,
read `seq_len` steps at a time; the state at the end of one chunk is the initial state of the next (so the
model sees the whole past in the forward pass) but gradients stop at the chunk boundary.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ._checks import check_array, check_choice, check_float_dtype, check_positive_int
from .layers import Embedding, Linear
from .losses import cross_entropy_sum, softmax_cross_entropy
from .module import Module
from .optim import Adam, clip_by_global_norm
from .recurrent import GRU, LSTM, RNN
from .sampling import select_state

__all__ = ["LanguageModel", "batchify", "train", "evaluate", "next_token_log_probs"]

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _cell_name(cell) -> str:
    """"rnn" / "lstm" / "gru" from a name (any case) or one of the classes RNN, LSTM, GRU."""
    for name, cls in CELLS.items():
        if cell is cls:
            return name
    if isinstance(cell, str) and cell.lower() in CELLS:
        return cell.lower()
    raise ValueError(f"cell: expected one of 'rnn', 'lstm', 'gru' (or the class RNN, LSTM, GRU), got {cell!r}")


class LanguageModel(Module):
    """Input layer (embedding or one-hot) -> recurrent layer -> time-distributed linear head.

    Args:
        vocab_size (V):   number of token ids; inputs and targets are in [0, V).
        hidden_size (H):  size of the recurrent state.
        cell:             "rnn" (tanh), "lstm" or "gru", or the class RNN, LSTM or GRU.
        embedding_dim:    E for a learned embedding (V, E); None feeds one-hot vectors (D = V).
        num_layers:       stacked recurrent layers (the state has num_layers rows).
        dtype:            np.float32 or np.float64.
        rng:              np.random.Generator for the initialisation (embedding, then recurrent layer, then head).

    State: as the recurrent layer's, h of shape (num_layers, B, H), for the LSTM the pair (h, c); None = zeros.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, cell="rnn", embedding_dim: Optional[int] = None,
                 num_layers: int = 1, dtype=np.float64, rng: Optional[np.random.Generator] = None):
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.cell = _cell_name(cell)
        self.embedding_dim = None if embedding_dim is None else check_positive_int("embedding_dim", embedding_dim)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.dtype = check_float_dtype("dtype", dtype)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a np.random.Generator (np.random.default_rng(seed)) or None, "
                             f"got {type(rng).__name__}")
        rng = np.random.default_rng() if rng is None else rng
        V, H = self.vocab_size, self.hidden_size
        self.embedding = None if self.embedding_dim is None else Embedding(V, self.embedding_dim, dtype=dtype, rng=rng)
        D = V if self.embedding is None else self.embedding_dim
        self.rnn = CELLS[self.cell](D, H, num_layers=self.num_layers, dtype=dtype, rng=rng)
        self.head = Linear(H, V, dtype=dtype, rng=rng)
        self.params = {f"{prefix}.{name}": p for prefix, layer in self._layers() for name, p in layer.params.items()}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._T_B = None  # (T, B) of the latest forward, for checking backward

    def _layers(self):
        layers = [("embedding", self.embedding)] if self.embedding is not None else []
        return layers + [("rnn", self.rnn), ("head", self.head)]

    @property
    def config(self) -> dict:
        """Everything needed to rebuild the architecture (saved with the weights)."""
        return {"vocab_size": self.vocab_size, "hidden_size": self.hidden_size, "cell": self.cell,
                "embedding_dim": self.embedding_dim, "num_layers": self.num_layers, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"LanguageModel({args})"

    # ------------------------------------------------------------------------------------------------------
    def _check_ids(self, name: str, ids, shape, labels) -> np.ndarray:
        ids = check_array(name, ids, shape, labels, kind="int")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = ids[(ids < 0) | (ids >= self.vocab_size)]
            raise ValueError(f"{name}: expected token ids in [0, vocab_size={self.vocab_size}), got "
                             f"{bad.size} outside (e.g. {int(bad.flat[0])})")
        return ids

    def forward(self, inputs, state0=None):
        """inputs (T, B) int ids, state0 None / h0 (num_layers, B, H) / (h0, c0) for the LSTM.

        Returns logits (T, B, V) and the final state (same structure as state0), to carry into the next chunk.
        """
        inputs = self._check_ids("inputs", inputs, (None, None), ("T", "B"))
        if inputs.shape[0] == 0 or inputs.shape[1] == 0:
            raise ValueError(f"inputs: expected at least one time step and one sequence, got shape {inputs.shape}")
        if self.embedding is None:
            X = np.eye(self.vocab_size, dtype=self.dtype)[inputs]             # (T, B, V) one-hot
        else:
            X = self.embedding.forward(inputs)                                # (T, B, E)
        Hs, state_n = self.rnn.forward(X, state0)                             # (T, B, H)
        logits = self.head.forward(Hs)                                        # (T, B, V)
        self._T_B = inputs.shape
        return logits, state_n

    def backward(self, dlogits, dstate_n=None):
        """dlogits (T, B, V) = dL/dlogits of the latest forward; dstate_n: None or dL/d(final state).

        Fills `self.grads` (every key of `params`) and returns dL/dstate0 (same structure as the state).
        """
        if self._T_B is None:
            raise RuntimeError("LanguageModel.backward called before forward")
        T, B = self._T_B
        dlogits = check_array("dlogits", dlogits, (T, B, self.vocab_size), ("T", "B", "V"))
        dHs = self.head.backward(dlogits)                                     # (T, B, H)
        dX, dstate0 = self.rnn.backward(dHs, dstate_n)                        # (T, B, D)
        if self.embedding is not None:
            self.embedding.backward(dX)
        for prefix, layer in self._layers():
            for name, g in layer.grads.items():
                self.grads[f"{prefix}.{name}"] = g
        return dstate0

    def loss_and_grads(self, inputs, targets, state0=None, mask=None):
        """Forward, mean softmax cross-entropy (nats per real token) against targets (T, B), backward.

        Returns (loss, final state); `self.grads` holds d loss / d params. mask: None or (T, B), see
        `rnn_utils.losses.softmax_cross_entropy`.
        """
        logits, state_n = self.forward(inputs, state0)
        T, B = self._T_B
        targets = self._check_ids("targets", targets, (T, B), ("T", "B"))
        loss, dlogits = softmax_cross_entropy(logits, targets, mask)
        self.backward(dlogits)
        return loss, state_n

    def step(self, tokens, state=None):
        """One time step for decoding: tokens (B,) int ids -> (logits (B, V), new state)."""
        tokens = self._check_ids("tokens", tokens, (None,), ("B",))
        logits, state = self.forward(tokens[None, :], state)
        return logits[0], state

    # ------------------------------------------------------------------------------------------------------
    def save(self, path: Union[str, Path], metadata: Optional[dict] = None) -> Path:
        """Write config, weights and optional JSON-serialisable `metadata` (e.g. the vocabulary) to a .npz file.

        The file is a plain numpy .npz (read it with np.load): one array per parameter under its name, plus
        "__config__" and "__metadata__" (JSON strings). Identical weights give a byte-identical file.
        Returns the path written (".npz" is appended if missing, as np.savez does).
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        try:
            meta = json.dumps({} if metadata is None else metadata, sort_keys=True)
        except TypeError as err:
            raise ValueError(f"metadata: must be JSON-serialisable ({err})") from None
        arrays = {"__config__": np.array(json.dumps(self.config, sort_keys=True)), "__metadata__": np.array(meta)}
        arrays.update(self.params)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))  # fixed: reproducible bytes
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asarray(arr), allow_pickle=False)
        return path

    @classmethod
    def load(cls, path: Union[str, Path]) -> "LanguageModel":
        """Rebuild a model written by `save`: same architecture, same weights; `.metadata` holds the metadata."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path: no such file: {str(path)!r}")
        with np.load(path, allow_pickle=False) as data:
            if "__config__" not in data.files:
                raise ValueError(f"path: {str(path)!r} is not a file written by LanguageModel.save (no __config__)")
            config = json.loads(str(data["__config__"]))
            metadata = json.loads(str(data["__metadata__"])) if "__metadata__" in data.files else {}
            state = {name: data[name] for name in data.files if not name.startswith("__")}
        model = cls(config["vocab_size"], config["hidden_size"], cell=config["cell"],
                    embedding_dim=config["embedding_dim"], num_layers=config["num_layers"],
                    dtype=np.dtype(config["dtype"]), rng=np.random.default_rng(0))
        model.load_state_dict(state)
        model.metadata = metadata
        return model


# ----------------------------------------------------------------------------------------------------------
# training on one long stream with truncated BPTT
# ----------------------------------------------------------------------------------------------------------
def _check_stream(stream, vocab_size: Optional[int] = None) -> np.ndarray:
    stream = check_array("stream", stream, (None,), ("N",), kind="int")
    if stream.size < 2:
        raise ValueError(f"stream: expected at least 2 token ids (an input and its target), got {stream.size}")
    if vocab_size is not None and (stream.min() < 0 or stream.max() >= vocab_size):
        raise ValueError(f"stream: expected token ids in [0, vocab_size={vocab_size}), "
                         f"got values in [{int(stream.min())}, {int(stream.max())}]")
    return stream


def batchify(stream, batch_size: int) -> np.ndarray:
    """Cut a 1-d stream of N ids into `batch_size` contiguous tracks, side by side: shape (N // B, B).

    Column b is stream[b*L : (b+1)*L] with L = N // B (the last N % B ids are dropped), so reading the array
    row by row walks all B tracks forward in time together.
    """
    stream = _check_stream(stream)
    B = check_positive_int("batch_size", batch_size)
    L = stream.size // B
    if L == 0:
        raise ValueError(f"batch_size: {B} tracks need at least {B} ids, the stream has {stream.size}")
    return stream[: L * B].reshape(B, L).T.copy()


def train(model: LanguageModel, stream, *, seq_len: int, batch_size: int, steps: int, lr: float = 1e-3,
          clip: Optional[float] = 5.0, optimizer=None) -> np.ndarray:
    """Train `model` on a 1-d id stream by truncated BPTT with Adam and global-norm clipping.

    Inputs are stream[:-1] and targets stream[1:] (teacher forcing: x_t = y_{t-1}), each cut into batch_size
    tracks (see `batchify`). Each of the `steps` updates reads the next seq_len rows: a (seq_len, batch_size)
    chunk, starting from the state the previous chunk ended in. When a track is used up the reading starts
    again from the top with a zero state (a new epoch).

    clip: max global gradient norm (None: no clipping). optimizer: an object with .step(grads) over
    model.params (default Adam(model.params, lr)); pass one to continue training with its moments.
    Returns the loss of every update, shape (steps,), in nats per token (divide by log 2 for bits).
    """
    stream = _check_stream(stream, model.vocab_size)
    seq_len = check_positive_int("seq_len", seq_len)
    steps = check_positive_int("steps", steps)
    inputs, targets = batchify(stream[:-1], batch_size), batchify(stream[1:], batch_size)
    if inputs.shape[0] < seq_len:
        raise ValueError(f"seq_len: {seq_len} is longer than the tracks ({inputs.shape[0]} ids each with "
                         f"batch_size={batch_size}); use a longer stream or a smaller seq_len or batch_size")
    opt = Adam(model.params, lr=lr) if optimizer is None else optimizer
    losses = np.empty(steps)
    state, t = None, 0
    for i in range(steps):
        if t + seq_len > inputs.shape[0]:          # end of the tracks: next epoch, fresh state
            state, t = None, 0
        loss, state = model.loss_and_grads(inputs[t:t + seq_len], targets[t:t + seq_len], state)
        if clip is not None:
            clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
        losses[i] = loss
        t += seq_len
    return losses


def evaluate(model: LanguageModel, stream, *, seq_len: int = 256) -> float:
    """Mean negative log-likelihood of stream[1:] given everything before it, in nats per token.

    The stream is read as one sequence (batch 1) in chunks of seq_len, carrying the state across chunks, so
    every prediction is conditioned on the whole past exactly as in one long forward pass.
    """
    stream = _check_stream(stream, model.vocab_size)
    seq_len = check_positive_int("seq_len", seq_len)
    total, count, state = 0.0, 0, None
    for t in range(0, stream.size - 1, seq_len):
        x = stream[t:t + seq_len][:, None]
        y = stream[t + 1:t + 1 + seq_len][:, None]
        x = x[: y.shape[0]]
        logits, state = model.forward(x, state)
        nats, n = cross_entropy_sum(logits, y)
        total, count = total + nats, count + n
    return total / count


def next_token_log_probs(model: LanguageModel, prefixes, state=None) -> np.ndarray:
    """log P(next token | prefix) for N prefixes of different lengths, in one batched forward pass.

    prefixes: a list of N non-empty 1-d id sequences. They are padded at the end (the model reads left to
    right, so what comes after a prefix cannot change the prediction at its last token) and the logits at
    each prefix's last position are normalised.
    state:    the state before every prefix: None (zeros), or a state of batch size 1 (used for all N, e.g.
              the state after some context) or N.
    Returns (N, V) natural-log probabilities.
    """
    if isinstance(prefixes, (str, np.ndarray)) or len(prefixes) == 0:
        raise ValueError("prefixes: expected a non-empty list of 1-d token id sequences")
    seqs = [check_array(f"prefixes[{i}]", p, (None,), ("L",), kind="int") for i, p in enumerate(prefixes)]
    lengths = np.array([s.size for s in seqs])
    if lengths.min() == 0:
        raise ValueError(f"prefixes[{int(np.argmin(lengths))}]: expected at least one token, got none")
    inputs = np.zeros((lengths.max(), len(seqs)), dtype=np.int64)
    for b, s in enumerate(seqs):
        inputs[: s.size, b] = s
    if state is not None and np.shape(state[0] if isinstance(state, tuple) else state)[-2] == 1:
        state = select_state(state, np.zeros(len(seqs), dtype=np.int64))  # repeat the batch-1 state N times
    logits, _ = model.forward(inputs, state)                              # (T, N, V)
    last = logits[lengths - 1, np.arange(len(seqs))].astype(np.float64)   # (N, V)
    last -= last.max(axis=1, keepdims=True)
    return last - np.log(np.exp(last).sum(axis=1, keepdims=True))
