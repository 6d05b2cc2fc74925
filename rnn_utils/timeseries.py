"""Forecasting real time series: matplotlib's sample data, windows, a chronological split, the notes'
memoryless models (persistence, autoregressive "delay taps", a feed-forward net on a window) and a recurrent
forecaster with a squared-error loss.

    x = load_sample_series("membrane")                   # (12000,) float64, read through matplotlib.cbook
    train, val, test = chronological_split(x, fractions=(0.6, 0.2))   # contiguous pieces, in time order
    X, y = make_windows(x, 8)                            # X (N, 8) = x[t-8:t], y (N,) = x[t], N = len(x) - 8
    y_hat = persistence_forecast(X)                      # (N,): x_hat[t] = x[t-1]
    w, b = fit_autoregressive(X, y)                      # least squares: x_hat[t] = w . x[t-8:t] + b
    y_hat = autoregressive_forecast(w, b, X)             # (N,)

    mlp = WindowMLP(8, 16, rng=rng)                      # x_hat = u2 . tanh(U1 x_window + b1) + b2
    y_hat = mlp.forward(X); dX = mlp.backward(dy)        # X (N, W) -> (N,); fills mlp.grads
    history = train_window_model(mlp, X_tr, y_tr, steps=500, batch_size=64, lr=3e-3, rng=rng, val=(X_va, y_va))

    net = Forecaster(1, 16, cell="lstm", rng=rng)        # reads x_1..x_t, predicts x_{t+1} at every t
    Y_hat, state = net.forward(X)                        # X (T, B, D) -> Y_hat (T, B) (many-to-many head)
    dX = net.backward(dY_hat)                            # fills net.grads
    history = train_forecaster(net, inputs, targets, train_end=..., val_end=..., seq_len=64, ...)
    y_hat = forecaster_predict(net, inputs)              # (N,): one pass over the whole series, batch 1

    loss, dpred = mse_loss(pred, target)                 # mean squared error and its gradient (same shapes)

Indexing convention: a forecast of x[t] may use x[:t] only. For `make_windows`, row i of X holds
x[i : i + window] and y[i] = x[i + window + horizon - 1]. For the `Forecaster`, output t is the prediction of
targets[t] after reading inputs[0..t]; with inputs = x[:-1] and targets = x[1:] that is one step ahead.
The only data are files that ship with matplotlib (nothing is downloaded).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from ._checks import (as_array, check_array, check_choice, check_count, check_float_dtype, check_positive_int,
                      check_real, check_rng, renamed)
from .layers import Linear
from .module import Module
from .optim import Adam, clip_by_global_norm
from .recurrent import GRU, LSTM, RNN

__all__ = [
    "SAMPLE_SERIES", "load_sample_series", "chronological_split", "make_windows", "persistence_forecast",
    "fit_autoregressive", "autoregressive_forecast", "mse_loss", "mean_squared_error", "WindowMLP",
    "Forecaster", "train_window_model", "train_forecaster", "forecaster_predict",
]

SAMPLE_SERIES = ("eeg", "membrane", "goog")
_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


# ----------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------
def load_sample_series(name: str) -> np.ndarray:
    """One of matplotlib's sample series, read with matplotlib.cbook.get_sample_data (no download), float64.

        "eeg"       (800, 4)   four EEG channels, 800 samples each (as in matplotlib's MRI-with-EEG example)
        "membrane"  (12000,)   a neuron's membrane potential: rest, a train of spikes under a current step, rest
        "goog"      (1047,)    Google's adjusted daily closing price in US dollars, 2004-08-19 to 2008-10-14
    """
    check_choice("name", name, SAMPLE_SERIES)
    from matplotlib import cbook                     # matplotlib is a dependency of the course (plots)
    if name == "eeg":
        path = cbook.get_sample_data("eeg.dat", asfileobj=False)
        return np.fromfile(path, dtype="<f8").reshape(800, 4)
    if name == "membrane":
        path = cbook.get_sample_data("membrane.dat", asfileobj=False)
        return np.fromfile(path, dtype="<f4").astype(np.float64)
    path = cbook.get_sample_data("goog.npz", asfileobj=False)   # a path: the same on every matplotlib >= 3.7
    with np.load(path) as data:
        return np.asarray(data["price_data"]["adj_close"], dtype=np.float64)


def _check_series(name: str, series, min_len: int = 1) -> np.ndarray:
    x = check_array(name, series, (None,), ("N",)).astype(np.float64, copy=False)
    if x.size < min_len:
        raise ValueError(f"{name}: expected at least {min_len} values, got {x.size}")
    return x


def chronological_split(series, *, fractions: Tuple[float, float] = (0.6, 0.2)):
    """Cut a series (N, ...) into train, validation, test: contiguous, in time order, never shuffled.

    fractions = (f_train, f_val) with f_train, f_val > 0 and f_train + f_val < 1; the test part is the rest.
    The cut points are n_train = floor(f_train N) and n_val = floor((f_train + f_val) N).
    Returns three arrays (views) series[:n_train], series[n_train:n_val], series[n_val:].
    """
    x = as_array("series", series, empty_dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("series: expected an array of shape (N, ...), got a 0-d array")
    check_array("series", x, (None,) * x.ndim)
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 2:
        raise ValueError(f"fractions: expected a pair (f_train, f_val), got {fractions!r}")
    f_tr = check_real("fractions[0]", fractions[0], 0.0, 1.0, low_open=True, high_open=True)
    f_va = check_real("fractions[1]", fractions[1], 0.0, 1.0, low_open=True, high_open=True)
    if f_tr + f_va >= 1.0:
        raise ValueError(f"fractions: f_train + f_val must be < 1 (the rest is the test part), got {fractions!r}")
    N = x.shape[0]
    n_tr, n_va = int(np.floor(f_tr * N)), int(np.floor((f_tr + f_va) * N))
    if n_tr == 0 or n_va == n_tr or n_va == N:
        raise ValueError(f"series: {N} values are too few to give three non-empty parts with fractions "
                         f"{tuple(fractions)!r}")
    return x[:n_tr], x[n_tr:n_va], x[n_va:]


def make_windows(series, window: int, *, horizon: int = 1):
    """All windows of `window` consecutive values and the value `horizon` steps after each window's end.

    series (N,) -> X (M, window), y (M,) with M = N - window - horizon + 1:
        X[i] = series[i : i + window],   y[i] = series[i + window + horizon - 1].
    """
    window = check_positive_int("window", window)
    horizon = check_positive_int("horizon", horizon)
    x = _check_series("series", series, window + horizon)
    M = x.size - window - horizon + 1
    idx = np.arange(M)[:, None] + np.arange(window)[None, :]
    return x[idx], x[window + horizon - 1:].copy()


def persistence_forecast(X) -> np.ndarray:
    """The persistence baseline ("tomorrow = today"): the last value of every window. X (M, W) -> (M,)."""
    X = check_array("X", X, (None, None), ("M", "W")).astype(np.float64, copy=False)
    if X.shape[1] == 0:
        raise ValueError("X: expected windows of at least one value, got shape " + str(X.shape))
    return X[:, -1].copy()


def fit_autoregressive(X, y, *, ridge: float = 0.0):
    """Autoregressive model with W delay taps, fitted by least squares: y_hat = X @ w + b.

    X (M, W), y (M,). Minimises sum (y - X w - b)^2 + ridge * |w|^2 (the bias is not penalised), solved with
    np.linalg.lstsq on the centred data (stable when the taps are nearly collinear). Returns (w (W,), b float).
    """
    X = check_array("X", X, (None, None), ("M", "W")).astype(np.float64, copy=False)
    M, W = X.shape
    y = check_array("y", y, (M,), ("M",)).astype(np.float64, copy=False)
    ridge = check_real("ridge", ridge, 0.0)
    if M == 0 or W == 0:
        raise ValueError(f"X: expected at least one window of at least one value, got shape {X.shape}")
    x_mean, y_mean = X.mean(axis=0), y.mean()
    A, r = X - x_mean, y - y_mean
    if ridge > 0:
        A = np.vstack([A, np.sqrt(ridge) * np.eye(W)])
        r = np.concatenate([r, np.zeros(W)])
    w = np.linalg.lstsq(A, r, rcond=None)[0]
    return w, float(y_mean - x_mean @ w)


def autoregressive_forecast(w, b, X) -> np.ndarray:
    """y_hat = X @ w + b for windows X (M, W), taps w (W,), bias b. Returns (M,)."""
    w = check_array("w", w, (None,), ("W",)).astype(np.float64, copy=False)
    b = check_real("b", b)
    X = check_array("X", X, (None, w.size), ("M", "W")).astype(np.float64, copy=False)
    return X @ w + b


def mse_loss(pred, target):
    """Mean squared error L = mean((pred - target)^2) over all elements and its gradient dL/dpred.

    pred and target: the same shape (nothing broadcasts), at least one element. Returns (L, dpred).
    """
    pred = as_array("pred", pred, empty_dtype=np.float64)
    pred = check_array("pred", pred, (None,) * pred.ndim).astype(np.float64, copy=False)
    target = check_array("target", target, pred.shape).astype(np.float64, copy=False)
    if pred.size == 0:
        raise ValueError("pred: expected at least one element, got shape " + str(pred.shape))
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff


def mean_squared_error(pred, target) -> float:
    """mean((pred - target)^2) for two arrays of the same shape (the loss value of `mse_loss`)."""
    return mse_loss(pred, target)[0]


# ----------------------------------------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------------------------------------
class WindowMLP(Module):
    """A feed-forward net on a window of W past values (the notes' memoryless non-linear model):

        a = U1 x + b1,  s = tanh(a),  y_hat = u2 . s + b2        for one window x (W,), hidden size K

    Batched: X (M, W) -> y_hat (M,). Parameters "hidden.weight" (K, W), "hidden.bias" (K,), "out.weight" (1, K),
    "out.bias" (1,) (two `Linear` layers, torch.nn.Linear initialisation). rng is required.
    """

    def __init__(self, window: int, hidden_size: int, *, dtype=np.float64, rng: np.random.Generator):
        super().__init__()
        self.window = check_positive_int("window", window)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.dtype = check_float_dtype("dtype", dtype)
        rng = check_rng("rng", rng)
        self.hidden = Linear(self.window, self.hidden_size, dtype=dtype, rng=rng)
        self.out = Linear(self.hidden_size, 1, dtype=dtype, rng=rng)
        layers = (("hidden", self.hidden), ("out", self.out))
        self.params = {f"{p}.{n}": a for p, layer in layers for n, a in layer.params.items()}
        self.grads = {f"{p}.{n}": a for p, layer in layers for n, a in layer.grads.items()}
        self._z = None

    def forward(self, X) -> np.ndarray:
        """X (M, W) -> y_hat (M,). Cached for backward."""
        X = check_array("X", X, (None, self.window), ("M", "window"))
        z = np.tanh(self.hidden.forward(X))           # (M, K)
        self._z = z
        return self.out.forward(z)[:, 0]              # (M,)

    def backward(self, dy) -> np.ndarray:
        """dy (M,) = dL/dy_hat of the latest forward -> dX (M, W); fills `grads`."""
        if self._z is None:
            raise RuntimeError("WindowMLP.backward called before forward")
        z = self._z
        dy = check_array("dy", dy, (z.shape[0],), ("M",)).astype(self.dtype, copy=False)
        dz = self.out.backward(dy[:, None])           # (M, K)
        return self.hidden.backward(dz * (1.0 - z * z))


class Forecaster(Module):
    """A recurrent layer with a linear regression head at every step (many-to-many):

        h_t = cell(x_t, h_{t-1}),   y_hat_t = w_y . h_t + b_y        x_t (D,), h_t (H,), y_hat_t scalar

    Args: input_size D, hidden_size H; cell "rnn" (tanh), "lstm" or "gru"; num_layers; dtype; rng (required).
    Parameters: "rnn.<torch.nn names>" of the recurrent layer, "head.weight" (1, H), "head.bias" (1,).
    A many-to-one forecaster is the same network read at its last step only (pass a gradient that is zero
    everywhere else to `backward`).
    """

    def __init__(self, input_size: int, hidden_size: int, *, cell: str = "lstm", num_layers: int = 1,
                 dtype=np.float64, rng: np.random.Generator):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        check_choice("cell", cell, tuple(_CELLS))
        self.cell = cell
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.dtype = check_float_dtype("dtype", dtype)
        rng = check_rng("rng", rng)
        self.rnn = _CELLS[cell](self.input_size, self.hidden_size, num_layers=self.num_layers, dtype=dtype, rng=rng)
        self.head = Linear(self.hidden_size, 1, dtype=dtype, rng=rng)
        layers = (("rnn", self.rnn), ("head", self.head))
        self.params = {f"{p}.{n}": a for p, layer in layers for n, a in layer.params.items()}
        self.grads = {f"{p}.{n}": a for p, layer in layers for n, a in layer.grads.items()}
        self._T_B = None

    def forward(self, X, state0=None):
        """X (T, B, D) -> (Y_hat (T, B), final state); state0 None or the recurrent layer's state."""
        X = check_array("X", X, (None, None, self.input_size), ("T", "B", "D"))
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X: expected at least one time step and one sequence, got shape {X.shape}")
        Hs, state = self.rnn.forward(X, state0)      # (T, B, H)
        self._T_B = X.shape[:2]
        return self.head.forward(Hs)[..., 0], state  # (T, B)

    def backward(self, dY, dstate_n=None):
        """dY (T, B) = dL/dY_hat of the latest forward -> dX (T, B, D); fills `grads`."""
        if self._T_B is None:
            raise RuntimeError("Forecaster.backward called before forward")
        dY = check_array("dY", dY, self._T_B, ("T", "B")).astype(self.dtype, copy=False)
        dHs = self.head.backward(dY[..., None])      # (T, B, H)
        dX, _ = self.rnn.backward(dHs, dstate_n)
        return dX


# ----------------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------------
def _restore(model: Module, best: Dict[str, np.ndarray]) -> None:
    for name, p in model.params.items():
        p[...] = best[name]


def train_window_model(model: WindowMLP, X, y, *, steps: int, batch_size: int, lr: float, rng: np.random.Generator,
                       clip: Optional[float] = 5.0, val=None, eval_every: int = 50) -> Dict[str, np.ndarray]:
    """Adam on mse_loss with random minibatches of windows (X (M, W), y (M,)), global-norm clipping.

    val: None or (X_val, y_val); then the validation MSE is measured every `eval_every` updates and at the end,
    and the parameters with the lowest validation MSE are restored at the end (early stopping by selection).
    Returns {"loss": (steps,) training minibatch MSE, "val_step": update counts, "val_mse": validation MSEs}.
    """
    if not isinstance(model, WindowMLP):
        raise ValueError(f"model: expected a WindowMLP, got {type(model).__name__}")
    X = check_array("X", X, (None, model.window), ("M", "window"))
    y = check_array("y", y, (X.shape[0],), ("M",))
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one window, got shape " + str(X.shape))
    steps, batch_size = check_positive_int("steps", steps), check_positive_int("batch_size", batch_size)
    lr = check_real("lr", lr, 0.0, low_open=True)
    rng = check_rng("rng", rng)
    clip = None if clip is None else check_real("clip", clip, 0.0, low_open=True)
    eval_every = check_positive_int("eval_every", eval_every)
    if val is not None:
        if not isinstance(val, (tuple, list)) or len(val) != 2:
            raise ValueError("val: expected None or a pair (X_val, y_val)")
        Xv = check_array("val[0]", val[0], (None, model.window), ("M_val", "window"))
        yv = check_array("val[1]", val[1], (Xv.shape[0],), ("M_val",))
    opt = Adam(model.params, lr=lr)
    losses, val_step, val_mse, best = np.empty(steps), [], [], None
    for i in range(steps):
        idx = rng.integers(0, X.shape[0], size=batch_size)
        loss, dpred = mse_loss(model.forward(X[idx]), y[idx])
        model.backward(dpred)
        if clip is not None:
            with renamed("max_norm", "clip"):
                clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
        losses[i] = loss
        if val is not None and ((i + 1) % eval_every == 0 or i + 1 == steps):
            v = mean_squared_error(model.forward(Xv), yv)
            if not val_mse or v < min(val_mse):
                best = model.state_dict()
            val_step.append(i + 1)
            val_mse.append(v)
    if best is not None:
        _restore(model, best)
    return {"loss": losses, "val_step": np.array(val_step, dtype=np.int64), "val_mse": np.array(val_mse)}


def _as_inputs(name: str, inputs, D: Optional[int]) -> np.ndarray:
    arr = as_array(name, inputs, empty_dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    return check_array(name, arr, (None, D), ("N", "D")).astype(np.float64, copy=False)


def forecaster_predict(model: Forecaster, inputs, *, chunk: int = 512) -> np.ndarray:
    """Run the forecaster once over the whole input sequence (batch 1), carrying the state across chunks.

    inputs (N, D) or (N,) when D = 1 -> predictions (N,): prediction t has read inputs[0..t] only.
    """
    if not isinstance(model, Forecaster):
        raise ValueError(f"model: expected a Forecaster, got {type(model).__name__}")
    X = _as_inputs("inputs", inputs, model.input_size)
    chunk = check_positive_int("chunk", chunk)
    if X.shape[0] == 0:
        raise ValueError("inputs: expected at least one time step, got 0")
    out, state = [], None
    for s in range(0, X.shape[0], chunk):
        Y, state = model.forward(X[s:s + chunk, None, :], state)
        out.append(Y[:, 0])
    return np.concatenate(out).astype(np.float64)


def train_forecaster(model: Forecaster, inputs, targets, *, train_end: int, val_end: Optional[int] = None,
                     seq_len: int, batch_size: int, steps: int, lr: float, rng: np.random.Generator,
                     warmup: int = 0, clip: Optional[float] = 5.0, eval_every: int = 50) -> Dict[str, np.ndarray]:
    """Train a many-to-many forecaster by Adam on mse_loss over random windows of the training part.

    inputs (N, D) or (N,); targets (N,): output t should predict targets[t] having read inputs[0..t].
    Positions t < train_end are training positions (their targets must not lie beyond the training part: the
    caller builds targets so). Each update reads `batch_size` windows of `seq_len` positions drawn uniformly
    inside [0, train_end), each from a zero state, and scores the positions after the first `warmup` ones
    (the state needs a few steps to fill). With val_end, the validation MSE over positions [train_end, val_end),
    predicted in one pass from the start (`forecaster_predict`), is measured every `eval_every` updates and at
    the end; the parameters with the lowest one are restored at the end.
    Returns {"loss": (steps,), "val_step": ..., "val_mse": ...} as `train_window_model`, and with val_end two
    diagnostics measured at the same updates (never used for selection): "train_pass_mse", the MSE of that same
    one pass over the training positions [warmup, train_end), and "val_window_mse", the validation MSE when the
    validation positions are read the way training reads (windows of seq_len from a zero state,
    the first `warmup` positions of each window unscored).
    """
    if not isinstance(model, Forecaster):
        raise ValueError(f"model: expected a Forecaster, got {type(model).__name__}")
    X = _as_inputs("inputs", inputs, model.input_size)
    N = X.shape[0]
    y = check_array("targets", targets, (N,), ("N",)).astype(np.float64, copy=False)
    seq_len, batch_size = check_positive_int("seq_len", seq_len), check_positive_int("batch_size", batch_size)
    steps = check_positive_int("steps", steps)
    warmup = check_count("warmup", warmup)
    if warmup >= seq_len:
        raise ValueError(f"warmup: expected fewer than seq_len={seq_len} positions, got {warmup}")
    train_end = check_positive_int("train_end", train_end)
    if not seq_len <= train_end <= N:
        raise ValueError(f"train_end: expected seq_len={seq_len} <= train_end <= N={N}, got {train_end}")
    if val_end is not None:
        val_end = check_positive_int("val_end", val_end)
        if not train_end < val_end <= N:
            raise ValueError(f"val_end: expected train_end={train_end} < val_end <= N={N}, got {val_end}")
    lr = check_real("lr", lr, 0.0, low_open=True)
    rng = check_rng("rng", rng)
    clip = None if clip is None else check_real("clip", clip, 0.0, low_open=True)
    eval_every = check_positive_int("eval_every", eval_every)
    opt = Adam(model.params, lr=lr)
    offsets = np.arange(seq_len)
    losses, val_step, val_mse, best = np.empty(steps), [], [], None
    train_pass, val_window = [], []
    for i in range(steps):
        starts = rng.integers(0, train_end - seq_len + 1, size=batch_size)
        idx = starts[None, :] + offsets[:, None]                     # (T, B)
        Y, _ = model.forward(X[idx])                                 # X[idx]: (T, B, D)
        loss, dY = mse_loss(Y[warmup:], y[idx][warmup:])
        full = np.zeros_like(Y)
        full[warmup:] = dY
        model.backward(full)
        if clip is not None:
            with renamed("max_norm", "clip"):
                clip_by_global_norm(model.grads, clip)
        opt.step(model.grads)
        losses[i] = loss
        if val_end is not None and ((i + 1) % eval_every == 0 or i + 1 == steps):
            pred = forecaster_predict(model, X[:val_end])
            v = mean_squared_error(pred[train_end:], y[train_end:val_end])
            if not val_mse or v < min(val_mse):
                best = model.state_dict()
            val_step.append(i + 1)
            val_mse.append(v)
            train_pass.append(mean_squared_error(pred[warmup:train_end], y[warmup:train_end]))
            val_window.append(_windowed_mse(model, X, y, train_end, val_end, seq_len, warmup))
    if best is not None:
        _restore(model, best)
    hist = {"loss": losses, "val_step": np.array(val_step, dtype=np.int64), "val_mse": np.array(val_mse)}
    if val_end is not None:
        hist["train_pass_mse"], hist["val_window_mse"] = np.array(train_pass), np.array(val_window)
    return hist


def _windowed_mse(model: Forecaster, X: np.ndarray, y: np.ndarray, start: int, end: int, seq_len: int,
                  warmup: int) -> float:
    """MSE over positions [start, end) predicted in windows as training reads them (checked by the caller).

    Window k reads inputs [s_k - warmup, s_k - warmup + seq_len) from a zero state, s_k = start + k (seq_len -
    warmup), and scores its positions from s_k on (clipped at end); needs start >= warmup.
    """
    step = seq_len - warmup
    starts = np.arange(start, end, step)
    full, sq = starts[starts + step <= end], 0.0
    if full.size:                                                    # all whole windows in one batch
        idx = (full - warmup)[None, :] + np.arange(seq_len)[:, None]   # (seq_len, K)
        Y, _ = model.forward(X[idx])
        d = Y[warmup:] - y[idx][warmup:]
        sq += float(np.sum(d * d))
    for s in starts[starts + step > end]:                            # the last, shorter window
        Y, _ = model.forward(X[s - warmup:end, None, :])
        d = Y[warmup:, 0] - y[s:end]
        sq += float(d @ d)
    return sq / (end - start)
