"""Long-range memory tasks and probes, shared by the notebooks on gated cells (05 LSTM, 06 GRU, 08 deep RNNs).

The lag task: remember the first symbol of a sequence across `lag` distractors and name it at the end.

    task = LagTask(lag=20, num_symbols=4, num_distractors=4)
    ids, targets = task.sample(32, rng)               # ids (lag + 1, 32) int64, targets (32,) int64
    model = SequenceClassifier(LSTM(task.vocab_size, 16, rng=rng), task.num_symbols, rng=rng)
    losses = train_classifier(model, task, steps=300, batch_size=32, lr=1e-2, rng=rng)
    acc = classifier_accuracy(model, *task.sample(1000, rng))      # task.chance = 1/K ... task.ceiling = 1

Probes of a trained `rnn_utils.models.LanguageModel`:

    acc, dist = agreement_accuracy(model, vocab, clause_verbs=2, n=200, rng=rng, state=h_start)
    acc = reber_penultimate_accuracy(model, vocab, strings, state=None)
    acc = linear_probe_accuracy(features, labels)      # ridge least squares read-out, held-out accuracy

Comparing cells (notebook 06): how one step maps the previous state to the next, and how far a gradient travels.

    J = step_jacobian(cell, x, state, params)           # (B, H, H): J[b, i, j] = d new_h[b, i] / d h_prev[b, j]
    norms = state_gradient_norms(cell, params, X, rng=rng)   # (T, num_states): mean ||dL/dstate_{T-1-k}||, k = 0..T-1

Everything random takes a np.random.Generator; bad arguments raise a ValueError naming the argument.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np

from ._checks import (
    check_array, check_count, check_positive_int, check_real, check_recurrent_layer, check_rng, check_token_ids,
    check_training_args,
)
from .cells import Cell
from .data import one_hot
from .grammars import AgreementGrammar
from .layers import Linear
from .losses import softmax_cross_entropy
from .models import next_token_log_probs
from .module import Module
from .optim import Adam, clip_by_global_norm

__all__ = [
    "LagTask",
    "SequenceClassifier",
    "train_classifier",
    "classifier_accuracy",
    "agreement_accuracy",
    "reber_penultimate_accuracy",
    "linear_probe_accuracy",
    "step_jacobian",
    "state_gradient_norms",
]


# ----------------------------------------------------------------------------------------------------------------
# the lag task
# ----------------------------------------------------------------------------------------------------------------
class LagTask:
    """Remember the first symbol across `lag` distractors.

    A sequence has length T = lag + 1 over an alphabet of V = K + M ids (K = num_symbols, M = num_distractors):

        x_0           uniform over the K symbols {0, ..., K-1}         the thing to remember
        x_1 ... x_lag uniform over the M distractors {K, ..., K+M-1}, independent of x_0 and of each other
        target        x_0, to be named after reading x_lag (lag steps after x_0 was seen)

    Exact figures: the distractors carry no information about the target, so a model that has forgotten x_0
    can do no better than chance = 1/K (in expectation, whatever it outputs); a model that remembers x_0 gets
    every sequence right, ceiling = 1. The required memory length is exactly `lag` steps.
    """

    def __init__(self, lag: int, *, num_symbols: int = 4, num_distractors: int = 4):
        self.lag = check_count("lag", lag)
        self.num_symbols = check_positive_int("num_symbols", num_symbols)
        self.num_distractors = check_positive_int("num_distractors", num_distractors)
        if self.num_symbols < 2:
            raise ValueError(f"num_symbols: expected at least 2 (one symbol is nothing to remember), "
                             f"got {num_symbols!r}")

    def __repr__(self) -> str:
        return (f"LagTask(lag={self.lag}, num_symbols={self.num_symbols}, "
                f"num_distractors={self.num_distractors})")

    @property
    def length(self) -> int:
        """T = lag + 1 inputs per sequence."""
        return self.lag + 1

    @property
    def vocab_size(self) -> int:
        """V = num_symbols + num_distractors input ids (the size of a one-hot input)."""
        return self.num_symbols + self.num_distractors

    @property
    def chance(self) -> float:
        """Accuracy of any model that ignores x_0: exactly 1 / num_symbols."""
        return 1.0 / self.num_symbols

    @property
    def ceiling(self) -> float:
        """Accuracy of a model that remembers x_0: 1 (the target is a function of the input)."""
        return 1.0

    def sample(self, n: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """Draw n sequences: ids (T = lag + 1, n) int64, time-major, and targets (n,) int64 with ids[0] == targets."""
        n = check_positive_int("n", n)
        rng = check_rng("rng", rng)
        targets = rng.integers(0, self.num_symbols, size=n)
        ids = np.empty((self.length, n), dtype=np.int64)
        ids[0] = targets
        ids[1:] = rng.integers(self.num_symbols, self.vocab_size, size=(self.lag, n))
        return ids, targets.astype(np.int64)


# ----------------------------------------------------------------------------------------------------------------
# a classifier reading the last state, and its training loop
# ----------------------------------------------------------------------------------------------------------------
class SequenceClassifier(Module):
    """One-hot inputs -> any recurrent layer -> a linear head on the final state of the sequence.

        X = onehot(ids)            (T, B, V)        V = layer.input_size
        Y, _ = layer.forward(X)    (T, B, H_out)    RNN, LSTM, GRU or Unrolled (any layer with that contract)
        z = Y[-1]                  (B, H)           one direction: the last layer's h at the last step
          = [Y[-1, :, :H], Y[0, :, H:]]  (B, 2H)    bidirectional: each direction's final state (forward at t = T-1,
                                                    reverse at t = 0), i.e. both have read the whole sequence
        logits = z W^T + b         (B, K)           W (K, H_out): the head, a Linear(H_out, K)

    params / grads: the layer's under "rnn.<name>" and the head's under "head.weight", "head.bias" (the same
    arrays, so an optimiser over `params` trains both).
    """

    def __init__(self, layer, num_classes: int, *, rng: np.random.Generator):
        super().__init__()
        self.layer = check_recurrent_layer("layer", layer)
        self.num_classes = check_positive_int("num_classes", num_classes)
        rng = check_rng("rng", rng)
        out = layer.hidden_size * (2 if getattr(layer, "bidirectional", False) else 1)
        dtype = getattr(layer, "dtype", np.float64)
        self.head = Linear(out, self.num_classes, dtype=dtype, rng=rng)
        self.params = {**{f"rnn.{k}": v for k, v in layer.params.items()},
                       **{f"head.{k}": v for k, v in self.head.params.items()}}
        self.grads = {**{f"rnn.{k}": v for k, v in layer.grads.items()},
                      **{f"head.{k}": v for k, v in self.head.grads.items()}}
        self._Y_shape = None

    def forward(self, ids) -> np.ndarray:
        """ids (T, B) int in [0, input_size) -> logits (B, K)."""
        V = self.layer.input_size
        ids = check_token_ids("ids", ids, V, (None, None), ("T", "B"), size_name="input_size")
        if ids.shape[0] == 0 or ids.shape[1] == 0:
            raise ValueError(f"ids: expected a non-empty (T, B) array, got shape {ids.shape}")
        Y, _ = self.layer.forward(one_hot(ids, V))
        self._Y_shape = Y.shape
        H = self.layer.hidden_size
        z = np.concatenate([Y[-1, :, :H], Y[0, :, H:]], axis=1) if Y.shape[2] == 2 * H else Y[-1]
        return self.head.forward(z)

    def backward(self, dlogits) -> None:
        """dlogits (B, K) -> fills grads (the layer's and the head's, in place)."""
        if self._Y_shape is None:
            raise RuntimeError("SequenceClassifier.backward called before forward")
        T, B, Hout = self._Y_shape
        dlogits = check_array("dlogits", dlogits, (B, self.num_classes), ("B", "K"))
        dY = np.zeros(self._Y_shape, dtype=self.head.params["weight"].dtype)
        dz = self.head.backward(dlogits)
        H = self.layer.hidden_size
        if Hout == 2 * H:                      # bidirectional: forward final state at T-1, reverse at 0
            dY[-1, :, :H] = dz[:, :H]
            dY[0, :, H:] = dz[:, H:]
        else:
            dY[-1] = dz
        self.layer.backward(dY)                # fills the layer's grads in place: self.grads holds those arrays

    def loss_and_grads(self, ids, targets) -> float:
        """Mean cross-entropy of the last-step prediction (nats); fills grads."""
        logits = self.forward(ids)
        B = logits.shape[0]
        targets = check_array("targets", targets, (B,), ("B",), kind="int")
        loss, dlogits = softmax_cross_entropy(logits[None], targets[None])
        self.backward(dlogits[0])
        return loss


def train_classifier(model: SequenceClassifier, task, *, steps: int, batch_size: int, lr: float = 1e-2,
                     clip: Optional[float] = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Train on fresh batches `task.sample(batch_size, rng)` with Adam(lr) and global-norm clipping.

    task: any object with .sample(n, rng) -> (ids (T, n), targets (n,)), e.g. a LagTask.
    Returns the loss of every update, shape (steps,), in nats.
    """
    steps, batch_size, lr, clip, rng = check_training_args(steps, batch_size, lr, clip, rng)
    if not hasattr(task, "sample"):
        raise ValueError(f"task: expected an object with .sample(n, rng) (e.g. LagTask), got {type(task).__name__}")
    opt = Adam(model.params, lr=lr)
    losses = np.empty(steps)
    for s in range(steps):
        ids, targets = task.sample(batch_size, rng)
        losses[s] = model.loss_and_grads(ids, targets)
        if clip is not None:
            clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
    return losses


def classifier_accuracy(model: SequenceClassifier, ids, targets) -> float:
    """Fraction of the sequences whose arg-max logit is the target. ids (T, N), targets (N,)."""
    logits = model.forward(ids)
    targets = check_array("targets", targets, (logits.shape[0],), ("N",), kind="int")
    return float(np.mean(np.argmax(logits, axis=1) == targets))


# ----------------------------------------------------------------------------------------------------------------
# probes of a trained language model
# ----------------------------------------------------------------------------------------------------------------
def agreement_accuracy(model, vocab, clause_verbs: int, *, n: int = 200, rng: np.random.Generator,
                       state=None, p_plural: float = 0.5) -> Tuple[float, float]:
    """Notebook 03's probe: does the model prefer the right copula after a clause of `clause_verbs` verbs?

    Draws n sentences of `AgreementGrammar(clause_probs=[0]*m + [1])` (every one with exactly m clause verbs),
    feeds <eos> + the sentence up to and including the copula's first letter "w", and counts a sentence as
    right when the model gives the correct second letter ("a" of "was" for a singular subject, "e" of "were"
    for a plural one) a higher probability than the wrong one. Chance is 0.5.

    model: a LanguageModel (anything `rnn_utils.models.next_token_log_probs` accepts); vocab: its character
    Vocabulary; state: None or a batch-1 state to start every sentence from (e.g. the state after a sentence).
    Returns (accuracy, mean noun-to-verb distance in characters).
    """
    m = check_count("clause_verbs", clause_verbs)
    n = check_positive_int("n", n)
    rng = check_rng("rng", rng)
    grammar = AgreementGrammar(clause_probs=[0.0] * m + [1.0], p_plural=p_plural)
    sing, plur = grammar.copula
    if sing[0] != plur[0] or sing[1] == plur[1]:
        raise ValueError(f"grammar copula {grammar.copula!r}: expected two words sharing only the first letter")
    for ch in (sing[1], plur[1]):
        if ch not in vocab.stoi:
            raise ValueError(f"vocab: expected a character vocabulary containing {ch!r}")
    sents, info = grammar.sample(n, rng, with_info=True)
    prefixes = [np.concatenate([[vocab.eos_id], vocab.encode(s[: v + 1])]) for s, v in zip(sents, info["verb_start"])]
    logp = next_token_log_probs(model, prefixes, state)                       # (n, V)
    a, e = logp[:, vocab.stoi[sing[1]]], logp[:, vocab.stoi[plur[1]]]
    correct = np.where(info["plural"], e > a, a > e)
    return float(correct.mean()), float(info["distance"].mean())


def reber_penultimate_accuracy(model, vocab, strings: Sequence[str], *, state=None) -> float:
    """Embedded Reber grammar: fraction of strings whose second-to-last symbol (T or P, a copy of the second
    symbol, Hochreiter & Schmidhuber's long-range test) is the model's most probable next symbol after reading
    everything before it. The model reads each string from `state` (None or batch 1) without a separator,
    exactly as strings follow each other in a stream of concatenated strings.
    """
    if isinstance(strings, str) or len(strings) == 0:
        raise ValueError("strings: expected a non-empty list of embedded Reber strings")
    for i, s in enumerate(strings):
        if not isinstance(s, str) or len(s) < 4 or s[1] not in "TP" or s[-2] != s[1]:
            raise ValueError(f"strings[{i}]: expected an embedded Reber string (B, T|P, ..., T|P, E), got {s!r}")
    prefixes = [vocab.encode(s[:-2]) for s in strings]
    logp = next_token_log_probs(model, prefixes, state)
    want = np.array([vocab.stoi[s[-2]] for s in strings])
    return float(np.mean(np.argmax(logp, axis=1) == want))


def linear_probe_accuracy(features, labels, *, train_fraction: float = 0.6, ridge: float = 0.1) -> float:
    """Can a linear read-out recover a binary label from the features? (notebook 03's probe, reusable)

    Fits w by ridge least squares to targets +1 (label True) / -1 (False) on the first train_fraction of the
    rows, with a bias feature, w = (F^T F + ridge I)^-1 F^T y, and returns the accuracy of sign(F w) on the rest.
    features (N, F) float, labels (N,) bool (or 0/1). 0.5 is chance for balanced labels.
    """
    X = check_array("features", features, (None, None), ("N", "F"))
    N = X.shape[0]
    y = check_array("labels", labels, (N,), ("N",), kind="any")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise ValueError("labels: expected a bool array or one holding only 0 and 1")
        y = y.astype(bool)
    frac = check_real("train_fraction", train_fraction, 0.0, 1.0, low_open=True, high_open=True)
    ridge = check_real("ridge", ridge, 0.0)
    n_fit = int(round(frac * N))
    if n_fit < 1 or n_fit >= N:
        raise ValueError(f"features: {N} rows leave no rows to fit or to test with train_fraction={frac}")
    F = np.hstack([X.astype(np.float64), np.ones((N, 1))])
    t = np.where(y, 1.0, -1.0)
    A = F[:n_fit].T @ F[:n_fit] + ridge * np.eye(F.shape[1])
    w = np.linalg.solve(A, F[:n_fit].T @ t[:n_fit])
    return float(np.mean(np.sign(F[n_fit:] @ w) == t[n_fit:]))


# ----------------------------------------------------------------------------------------------------------------
# comparing cells: one step's Jacobian, the gradient norm over distance
# ----------------------------------------------------------------------------------------------------------------
def _check_cell(cell) -> Cell:
    if not isinstance(cell, Cell):
        raise ValueError(f"cell: expected a rnn_utils.cells.Cell (e.g. GRU_CELL, SIMPLIFIED_GRU_CELL), "
                         f"got {type(cell).__name__}")
    return cell


def _check_state_tuple(name: str, state, cell: Cell, B: Optional[int] = None):
    if not isinstance(state, (tuple, list)) or len(state) != cell.num_states:
        raise ValueError(f"{name}: expected a tuple of {cell.num_states} (B, H) array(s) for the {cell.name} cell, "
                         f"got {type(state).__name__}")
    first = check_array(f"{name}[0]", state[0], (B, None), ("B", "H"))
    return tuple([first] + [check_array(f"{name}[{j}]", s, first.shape, ("B", "H"))
                            for j, s in enumerate(state[1:], start=1)])


def step_jacobian(cell, x, state, params, *, of: int = 0, wrt: int = 0) -> np.ndarray:
    """The Jacobian of one step: J[b, i, j] = d new_state[of][b, i] / d state[wrt][b, j], shape (B, H, H).

    cell: a `rnn_utils.cells.Cell`; x (B, D); state: the tuple of the cell's (B, H) state arrays; params: the
    cell's parameter dict. of / wrt pick the state component (0 = h, 1 = c for a two-state cell).
    Computed exactly from the cell's own backward pass: row i is the backward of a unit gradient on component i
    of new_state[of] (H backward calls); each example's Jacobian is independent of the others'.
    """
    cell = _check_cell(cell)
    state = _check_state_tuple("state", state, cell)
    for name, v in (("of", of), ("wrt", wrt)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 0 <= v < cell.num_states:
            raise ValueError(f"{name}: expected a state index in [0, {cell.num_states}) for the {cell.name} cell, "
                             f"got {v!r}")
    new_state, cache = cell.forward(x, state, params)
    B, H = new_state[of].shape
    J = np.empty((B, H, new_state[wrt].shape[1]), dtype=new_state[of].dtype)
    for i in range(H):
        dstate = tuple(np.zeros_like(s) for s in new_state)
        dstate[of][:, i] = 1.0
        _, dprev, _ = cell.backward(dstate, cache)
        J[:, i, :] = dprev[wrt]
    return J


def state_gradient_norms(cell, params, X, *, state0=None, rng: np.random.Generator) -> np.ndarray:
    """How far back a gradient reaches: notebooks 02 and 05's figure, for any cell.

    Runs the cell over X (T, B, D) from state0 (a tuple of (B, H) arrays; None = zeros), puts a random unit-norm
    gradient (one per example, drawn from rng) on the final h and nothing else, and backpropagates it with the
    cell's backward pass. Returns norms (T, num_states): norms[k, s] is the mean over the batch of
    ||dL/d state[s]|| at step T-1-k (k = 0: the final state itself, so norms[0, 0] = 1). For a two-state cell
    column 1 is dL/dc (the gradient arriving at c from above, before the step's own h-path is added).
    """
    cell = _check_cell(cell)
    rng = check_rng("rng", rng)
    X = check_array("X", X, (None, None, None), ("T", "B", "D"))
    T, B, _ = X.shape
    if T == 0 or B == 0:
        raise ValueError(f"X: expected at least one time step and one sequence, got shape {X.shape}")
    if not isinstance(params, Mapping) or "weight_hh" not in params:
        raise ValueError(f"params: expected the cell's parameter dict with 'weight_hh' (G*H, H), "
                         f"got {type(params).__name__}")
    H = check_array("params['weight_hh']", params["weight_hh"], (None, None), ("G*H", "H")).shape[1]
    if state0 is None:
        state = tuple(np.zeros((B, H)) for _ in range(cell.num_states))
    else:
        state = _check_state_tuple("state0", state0, cell, B)
    caches = []
    for t in range(T):
        state, cache = cell.forward(X[t], state, params)
        caches.append(cache)
    g = rng.standard_normal((B, H))
    dstate = (g / np.linalg.norm(g, axis=1, keepdims=True),) + tuple(np.zeros((B, H)) for _ in state[1:])
    norms = np.empty((T, cell.num_states))
    for k, t in enumerate(reversed(range(T))):
        norms[k] = [np.linalg.norm(d, axis=1).mean() for d in dstate]
        _, dstate, _ = cell.backward(dstate, caches[t])
    return norms
