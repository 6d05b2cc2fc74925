"""`LanguageModel`: a next-token model made of an input layer, a recurrent layer and a linear head.

    model = LanguageModel(V, H, cell="gru", embedding_dim=16, rng=np.random.default_rng(0))
    logits, state = model.forward(inputs, state)          # inputs (T, B) ids -> logits (T, B, V)
    dstate0 = model.backward(dlogits)                     # fills model.grads (same keys as model.params)
    loss, state = model.loss_and_grads(inputs, targets, state)   # forward + softmax cross-entropy + backward
    logits, state = model.step(tokens, state)             # one step, tokens (B,) -> (B, V): for rnn_utils.sampling
    model.save("lm.npz"); model = LanguageModel.load("lm.npz")   # a loaded model is in evaluation mode
    model.eval(); model.train()                           # modes: only dropout (num_layers > 1) depends on them

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

Modes: a new model is in training mode (`model.training`), a loaded one in evaluation mode, as in torch. With
`dropout=p > 0` and num_layers > 1 the recurrent layer drops units between its layers in training mode only (see
`rnn_utils.recurrent`). `train` runs its updates in training mode and `evaluate` / `next_token_log_probs` score in
evaluation mode, each putting the model back in the mode it was in; `forward`, `loss_and_grads` and `step` use the
model's current mode (call `model.eval()` before decoding with a dropout model).

`train` uses truncated backpropagation through time: the stream is cut into `batch_size` contiguous tracks,
read `seq_len` steps at a time; the state at the end of one chunk is the initial state of the next (so the
model sees the whole past in the forward pass) but gradients stop at the chunk boundary.
"""
from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ._checks import (check_array, check_float_dtype, check_positive_int, check_real, check_rng,
                      check_token_ids, renamed, warn_unused_dropout)
from .data import one_hot_unchecked
from .layers import Embedding, Linear
from .losses import cross_entropy_sum, log_softmax, softmax_cross_entropy
from .module import Module
from .optim import Adam, clip_by_global_norm
from .recurrent import GRU, LSTM, RNN, select_state

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
        dropout:          p in [0, 1), dropout between the stacked layers in training mode (torch's `dropout`
                          argument); the masks come from `model.rnn.dropout_rng`, spawned from `rng` (the weights
                          do not depend on p). 0 (the default): no dropout, nothing drawn.
        dtype:            np.float32 or np.float64.
        rng:              np.random.Generator for the initialisation (embedding, then recurrent layer, then head);
                          required.

    State: as the recurrent layer's, h of shape (num_layers, B, H), for the LSTM the pair (h, c); None = zeros.
    `metadata` is a dict: empty for a new model, what was saved for a loaded one.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, cell="rnn", embedding_dim: Optional[int] = None,
                 num_layers: int = 1, dropout: float = 0.0, dtype=np.float64, rng: np.random.Generator):
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.cell = _cell_name(cell)
        self.embedding_dim = None if embedding_dim is None else check_positive_int("embedding_dim", embedding_dim)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.dropout = check_real("dropout", dropout, 0.0, 1.0, high_open=True)
        self.dtype = check_float_dtype("dtype", dtype)
        rng = check_rng("rng", rng)
        warn_unused_dropout("LanguageModel", self.dropout, self.num_layers)     # once, here, not again below
        V, H = self.vocab_size, self.hidden_size
        self.embedding = None if self.embedding_dim is None else Embedding(V, self.embedding_dim, dtype=dtype, rng=rng)
        D = V if self.embedding is None else self.embedding_dim
        with warnings.catch_warnings():             # the recurrent layer would repeat the warning given above
            warnings.filterwarnings("ignore", message=r".*has no effect with num_layers=1", category=UserWarning)
            self.rnn = CELLS[self.cell](D, H, num_layers=self.num_layers, dropout=self.dropout, dtype=dtype, rng=rng)
        self.head = Linear(H, V, dtype=dtype, rng=rng)
        # the sub-layers' own arrays, params and grads alike: the layers fill their grads in place, so a reference
        # to model.grads[name] taken once stays valid across backward calls
        self.params = {f"{prefix}.{name}": p for prefix, layer in self._layers() for name, p in layer.params.items()}
        self.grads = {f"{prefix}.{name}": g for prefix, layer in self._layers() for name, g in layer.grads.items()}
        self.metadata: dict = {}
        self._T_B = None  # (T, B) of the latest forward, for checking backward

    def _layers(self):
        layers = [("embedding", self.embedding)] if self.embedding is not None else []
        return layers + [("rnn", self.rnn), ("head", self.head)]

    @property
    def config(self) -> dict:
        """Everything needed to rebuild the architecture (saved with the weights). "dropout" is present only when
        it is not 0, so the config (and a saved file) of a model without dropout is what it always was."""
        config = {"vocab_size": self.vocab_size, "hidden_size": self.hidden_size, "cell": self.cell,
                  "embedding_dim": self.embedding_dim, "num_layers": self.num_layers, "dtype": self.dtype.name}
        if self.dropout > 0:
            config["dropout"] = self.dropout
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"LanguageModel({args})"

    # ------------------------------------------------------------------------------------------------------
    def _check_ids(self, name: str, ids, shape, labels) -> np.ndarray:
        return check_token_ids(name, ids, self.vocab_size, shape, labels)

    def forward(self, inputs, state0=None):
        """inputs (T, B) int ids, state0 None / h0 (num_layers, B, H) / (h0, c0) for the LSTM.

        Returns logits (T, B, V) and the final state (same structure as state0), to carry into the next chunk.
        """
        inputs = self._check_ids("inputs", inputs, (None, None), ("T", "B"))
        if inputs.shape[0] == 0 or inputs.shape[1] == 0:
            raise ValueError(f"inputs: expected at least one time step and one sequence, got shape {inputs.shape}")
        if self.embedding is None:
            X = one_hot_unchecked(inputs, self.vocab_size, self.dtype)       # (T, B, V), ids checked above
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
        return dstate0                    # self.grads holds the layers' grads arrays, filled in place above

    def loss_and_grads(self, inputs, targets, state0=None, mask=None):
        """Forward, mean softmax cross-entropy (nats per real token) against targets (T, B), backward.

        Returns (loss, final state); `self.grads` holds d loss / d params. mask: None or (T, B), see
        `rnn_utils.losses.softmax_cross_entropy`: targets at masked (padded) positions may be anything, e.g. -1,
        exactly as there; at real positions they must be ids in [0, vocab_size).
        """
        T, B = self._check_ids("inputs", inputs, (None, None), ("T", "B")).shape
        check_array("targets", targets, (T, B), ("T", "B"), kind="int")     # before the forward pass
        logits, state_n = self.forward(inputs, state0)
        loss, dlogits = softmax_cross_entropy(logits, targets, mask)         # range of targets checked where real
        self.backward(dlogits)
        return loss, state_n

    def step(self, tokens, state=None):
        """One time step for decoding: tokens (B,) int ids -> (logits (B, V), new state).

        The same numbers as `forward(tokens[None], state)` (with logits[0]), by the recurrent layer's one-step
        path `rnn.step`, which reads the live parameters (an update in place is always seen) and keeps no cache:
        `backward` still refers to the latest `forward`.
        """
        tokens = self._check_ids("tokens", tokens, (None,), ("B",))
        B = tokens.shape[0]
        if B == 0:
            raise ValueError("tokens: expected at least one sequence, got shape (0,)")
        if self.embedding is None:
            x = one_hot_unchecked(tokens, self.vocab_size, self.dtype)       # one-hot rows, (B, V)
        else:
            x = self.embedding.params["weight"][tokens]                       # (B, E)
        h, state = self.rnn.step(x, state)                                    # (B, H)
        logits = h @ self.head.params["weight"].T                             # (B, V)
        if "bias" in self.head.params:
            logits += self.head.params["bias"]
        return logits, state

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
        """Rebuild a model written by `save`: same architecture, same weights; `.metadata` holds the metadata.

        Never unpickles anything. A missing file raises FileNotFoundError; a file that is not a complete, intact
        file written by `save` (another .npz, a truncated or corrupted file, a wrong config) raises one ValueError
        that names the file and what is wrong with it.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path: no such file: {str(path)!r}")

        def bad(what: str) -> ValueError:
            return ValueError(f"path: {str(path)!r} is not a model file written by LanguageModel.save: {what}")

        data = None
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise bad("it holds a single array, not a .npz archive")
            if "__config__" not in data.files:
                raise bad("no __config__ entry")
            config = json.loads(str(data["__config__"]))
            metadata = json.loads(str(data["__metadata__"])) if "__metadata__" in data.files else {}
            state = {name: data[name] for name in data.files if not name.startswith("__")}
        except ValueError as err:
            if str(err).startswith("path: "):
                raise
            raise bad(f"unreadable content ({type(err).__name__}; object arrays are never loaded)") from None
        except (OSError, EOFError, KeyError, TypeError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
            raise bad(f"damaged or not a zip archive ({type(err).__name__}: {err})") from None
        finally:
            if isinstance(data, np.lib.npyio.NpzFile):
                data.close()
        if not isinstance(config, dict):
            raise bad(f"__config__ is a {type(config).__name__}, expected a JSON object")
        needed = ("vocab_size", "hidden_size", "cell", "embedding_dim", "num_layers", "dtype")
        missing = [k for k in needed if k not in config]
        if missing:
            raise bad(f"__config__ lacks {missing}")
        if not isinstance(metadata, dict):
            raise bad(f"__metadata__ is a {type(metadata).__name__}, expected a JSON object")
        try:
            model = cls(config["vocab_size"], config["hidden_size"], cell=config["cell"],
                        embedding_dim=config["embedding_dim"], num_layers=config["num_layers"],
                        dropout=config.get("dropout", 0.0), dtype=config["dtype"], rng=np.random.default_rng(0))
            model.load_state_dict(state)
        except (ValueError, TypeError) as err:
            raise bad(str(err)) from None
        model.metadata = metadata
        return model.eval()                  # as in torch usage: a loaded model predicts (no dropout) until train()


# ----------------------------------------------------------------------------------------------------------
# training on one long stream with truncated BPTT
# ----------------------------------------------------------------------------------------------------------
def _check_stream(stream, vocab_size: Optional[int] = None) -> np.ndarray:
    stream = check_token_ids("stream", stream, vocab_size, (None,), ("N",))
    if stream.size < 2:
        raise ValueError(f"stream: expected at least 2 token ids (an input and its target), got {stream.size}")
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


def _check_optimizer(optimizer, model: LanguageModel):
    """An optimiser must update *this* model's arrays (the same objects), or training changes another model."""
    step = getattr(optimizer, "step", None)
    if not callable(step):
        raise ValueError(f"optimizer: expected an object with a .step(grads) method (e.g. rnn_utils.Adam("
                         f"model.params)), got {type(optimizer).__name__}")
    held = getattr(optimizer, "params", None)
    if held is not None:
        mismatch = sorted(set(held) ^ set(model.params))
        foreign = [k for k in model.params if k in held and held[k] is not model.params[k]]
        if mismatch or foreign:
            raise ValueError(f"optimizer: it does not hold this model's parameter arrays (different keys: "
                             f"{mismatch[:3]}; other arrays under the same name: {foreign[:3]}); build it as "
                             f"Adam(model.params, ...) for the model you train")
    return optimizer


def train(model: LanguageModel, stream, *, seq_len: int, batch_size: int, steps: int, lr: float = 1e-3,
          clip: Optional[float] = 5.0, optimizer=None) -> np.ndarray:
    """Train `model` on a 1-d id stream by truncated BPTT with Adam and global-norm clipping.

    Inputs are stream[:-1] and targets stream[1:] (teacher forcing: x_t = y_{t-1}), each cut into batch_size
    tracks (see `batchify`). Each of the `steps` updates reads the next seq_len rows: a (seq_len, batch_size)
    chunk, starting from the state the previous chunk ended in. When a track is used up the reading starts
    again from the top with a zero state (a new epoch).

    clip: max global gradient norm (None: no clipping). optimizer: an object with .step(grads) over
    model.params (default Adam(model.params, lr)); pass one to continue training with its moments. It must
    hold this model's arrays (checked; `lr` is then ignored: the optimiser keeps its own).
    Returns the loss of every update, shape (steps,), in nats per token (divide by log 2 for bits).
    The updates run in training mode (dropout on, if the model has any); the model's mode is restored after.
    """
    if not isinstance(model, LanguageModel):
        raise ValueError(f"model: expected a LanguageModel, got {type(model).__name__}")
    stream = _check_stream(stream, model.vocab_size)
    seq_len = check_positive_int("seq_len", seq_len)
    batch_size = check_positive_int("batch_size", batch_size)
    steps = check_positive_int("steps", steps)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, low_open=True)
    if optimizer is None:
        lr = check_real("lr", lr, 0.0, low_open=True)
        opt = Adam(model.params, lr=lr)
    else:
        opt = _check_optimizer(optimizer, model)
    inputs, targets = batchify(stream[:-1], batch_size), batchify(stream[1:], batch_size)
    if inputs.shape[0] < seq_len:
        raise ValueError(f"seq_len: {seq_len} is longer than the tracks ({inputs.shape[0]} ids each with "
                         f"batch_size={batch_size}); use a longer stream or a smaller seq_len or batch_size")
    losses = np.empty(steps)
    state, t = None, 0
    was_training = model.training
    model.train()                                  # dropout (if any) on during the updates
    try:
        for i in range(steps):
            if t + seq_len > inputs.shape[0]:          # end of the tracks: next epoch, fresh state
                state, t = None, 0
            loss, state = model.loss_and_grads(inputs[t:t + seq_len], targets[t:t + seq_len], state)
            if clip is not None:
                with renamed("max_norm", "clip"):
                    clip_by_global_norm(model.grads, clip)
            opt.step(model.grads)
            losses[i] = loss
            t += seq_len
    finally:
        model.train(was_training)
    return losses


def evaluate(model: LanguageModel, stream, *, seq_len: int = 256) -> float:
    """Mean negative log-likelihood of stream[1:] given everything before it, in nats per token.

    The stream is read as one sequence (batch 1) in chunks of seq_len, carrying the state across chunks, so
    every prediction is conditioned on the whole past exactly as in one long forward pass. Scored in evaluation
    mode (no dropout); the model's mode is restored after.
    """
    if not isinstance(model, LanguageModel):
        raise ValueError(f"model: expected a LanguageModel, got {type(model).__name__}")
    stream = _check_stream(stream, model.vocab_size)
    seq_len = check_positive_int("seq_len", seq_len)
    total, count, state = 0.0, 0, None
    was_training = model.training
    model.eval()
    try:
        for t in range(0, stream.size - 1, seq_len):
            x = stream[t:t + seq_len][:, None]
            y = stream[t + 1:t + 1 + seq_len][:, None]
            x = x[: y.shape[0]]
            logits, state = model.forward(x, state)
            nats, n = cross_entropy_sum(logits, y)
            total, count = total + nats, count + n
    finally:
        model.train(was_training)
    return total / count


def next_token_log_probs(model: LanguageModel, prefixes, state=None) -> np.ndarray:
    """log P(next token | prefix) for N prefixes of different lengths, in one batched forward pass.

    prefixes: a list of N non-empty 1-d id sequences. They are padded at the end (the model reads left to
    right, so what comes after a prefix cannot change the prediction at its last token) and the logits at
    each prefix's last position are normalised.
    state:    the state before every prefix: None (zeros), or a state of batch size 1 (used for all N, e.g.
              the state after some context) or N, in the layout of the model's state ((num_layers, B, H), for
              the LSTM a pair of such arrays).
    Returns (N, V) log-probabilities in nats, computed in evaluation mode (the model's mode is restored after).
    """
    if not isinstance(model, LanguageModel):
        raise ValueError(f"model: expected a LanguageModel, got {type(model).__name__}")
    if isinstance(prefixes, (str, bytes, np.ndarray)) or not hasattr(prefixes, "__len__") or len(prefixes) == 0:
        raise ValueError("prefixes: expected a non-empty list of 1-d token id sequences")
    seqs = []
    for i, p in enumerate(prefixes):
        ids = check_token_ids(f"prefixes[{i}]", p, model.vocab_size, (None,), ("L",))
        if ids.size == 0:
            raise ValueError(f"prefixes[{i}]: expected at least one token, got an empty sequence")
        seqs.append(ids)
    lengths = np.array([s.size for s in seqs])
    N = len(seqs)
    inputs = np.zeros((lengths.max(), N), dtype=np.int64)
    for b, s in enumerate(seqs):
        inputs[: s.size, b] = s
    if state is not None:
        state = _check_state_batch(model, state, N)
    was_training = model.training
    model.eval()
    try:
        logits, _ = model.forward(inputs, state)                          # (T, N, V)
    finally:
        model.train(was_training)
    return log_softmax(logits[lengths - 1, np.arange(N)].astype(np.float64))


def _check_state_batch(model: LanguageModel, state, N: int):
    """A state of batch size 1 (repeated N times) or N, in the model's layout; ValueError naming `state`."""
    L, H = model.num_layers, model.hidden_size
    parts = state if isinstance(state, tuple) else (state,)
    n_parts = 2 if model.cell == "lstm" else 1
    if len(parts) != n_parts:
        raise ValueError(f"state: expected {'a tuple (h, c) of two arrays' if n_parts == 2 else 'one array'} of "
                         f"shape (num_layers={L}, 1 or N={N}, H={H}), got {type(state).__name__}")
    arrays = []
    for j, a in enumerate(parts):
        name = "state" if n_parts == 1 else f"state[{j}]"
        a = check_array(name, a, (L, None, H), ("num_layers", "B", "H"))
        if a.shape[1] not in (1, N):
            raise ValueError(f"{name}: expected batch size 1 or N={N} on axis 1, got shape {a.shape}")
        arrays.append(a)
    if arrays[0].shape[1] == 1 and N != 1:
        arrays = [select_state(a, np.zeros(N, dtype=np.int64)) for a in arrays]   # repeat the batch-1 state
    return tuple(arrays) if n_parts == 2 else arrays[0]
