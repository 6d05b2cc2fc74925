"""Single-step recurrent cells: readable forward/backward pairs (vanilla RNN, LSTM, GRU).

These are the reference versions the notebooks derive. Each forward function advances a batch of B sequences by
one time step and returns the new state plus a `cache`; the matching backward function takes the upstream
gradients and that cache and returns the gradients for the input, the previous state(s) and the parameters.

Shapes (rows are examples, as in every batched layer of the course):

    x       (B, D)      input at this step
    h_prev  (B, H)      previous hidden state          c_prev (B, H)   previous LSTM cell state
    params  dict with the PyTorch names and layout (weights stored (out, in), G stacked gates):
            "weight_ih" (G*H, D)   "weight_hh" (G*H, H)   "bias_ih" (G*H,)   "bias_hh" (G*H,)
            G = 1 (RNN), 4 (LSTM, gates i, f, g, o), 3 (GRU, gates r, z, n)

The column form of the course, e.g. h = tanh(W_ih x + b_ih + W_hh h + b_hh), becomes
`x @ W_ih.T + b_ih + h @ W_hh.T + b_hh` for a batch of rows. The gradient dicts returned by the backward functions
have the same four keys and shapes as `params`, summed over the batch.

    h, cache = rnn_cell_forward(x, h_prev, params, nonlinearity="tanh")
    dx, dh_prev, grads = rnn_cell_backward(dh, cache)

    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(dh, dc, cache)

    h, cache = gru_cell_forward(x, h_prev, params, reset_after=True)
    dx, dh_prev, grads = gru_cell_backward(dh, cache)

Inputs are validated (ValueError naming the argument and the expected and received shapes). The arrays are used
in the dtype of the weights. An upstream gradient given as None (dh, or dc for the LSTM) means zeros.

Each cell is also described by a `Cell` object (RNN_TANH_CELL, RNN_RELU_CELL, LSTM_CELL, GRU_CELL,
GRU_RESET_BEFORE_CELL) with a uniform signature, state as a tuple:

    new_state, cache = cell.forward(x, state, params)          # state = (h,) or (h, c)
    dx, dstate_prev, grads = cell.backward(dstate, cache)       # dstate = dL/d(new_state), same structure

`rnn_utils.unrolled.Unrolled` runs any such cell over a sequence by a plain loop (the readable layer); the fast
sequence layers in `rnn_utils.recurrent` compute exactly these equations for all time steps at once (tests check
that the two agree).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Tuple

import numpy as np

from ._checks import check_array, check_choice

__all__ = [
    "sigmoid",
    "rnn_cell_forward",
    "rnn_cell_backward",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "gru_cell_forward",
    "gru_cell_backward",
    "Cell",
    "RNN_TANH_CELL",
    "RNN_RELU_CELL",
    "LSTM_CELL",
    "GRU_CELL",
    "GRU_RESET_BEFORE_CELL",
    "BUILTIN_CELLS",
]

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-a)), same shape as `a`.

    Written with e = exp(-|a|) <= 1 so that nothing overflows: 1 / (1 + e) for a >= 0, e / (1 + e) for a < 0
    (the same value, and accurate to the last bits even where sigmoid(a) is tiny).
    """
    a = np.asarray(a)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ----------------------------------------------------------------------------------------------------------------
# argument checks shared by the three cells
# ----------------------------------------------------------------------------------------------------------------
def _check_params(params: Mapping[str, np.ndarray], gates: int) -> Tuple[np.ndarray, ...]:
    """Validate a cell's parameter dict; return (W_ih, W_hh, b_ih, b_hh) as arrays. G = `gates`."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params: expected a dict with keys {list(PARAM_NAMES)}, got {type(params).__name__}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params: missing keys {missing} (expected {list(PARAM_NAMES)})")
    W_hh = check_array("params['weight_hh']", params["weight_hh"], (None, None), ("G*H", "H"))
    if W_hh.shape[0] != gates * W_hh.shape[1]:
        raise ValueError(
            f"params['weight_hh']: expected shape (G*H, H) with G={gates}, got {W_hh.shape}"
        )
    H = W_hh.shape[1]
    W_ih = check_array("params['weight_ih']", params["weight_ih"], (gates * H, None), ("G*H", "D"))
    b_ih = check_array("params['bias_ih']", params["bias_ih"], (gates * H,), ("G*H",))
    b_hh = check_array("params['bias_hh']", params["bias_hh"], (gates * H,), ("G*H",))
    return W_ih, W_hh, b_ih, b_hh


def _check_step(x, h_prev, W_ih: np.ndarray, H: int, c_prev=None):
    """Validate x (B, D) and h_prev (B, H) (and c_prev (B, H)); return them in the weights' dtype."""
    D = W_ih.shape[1]
    x = check_array("x", x, (None, D), ("B", "D"))
    B = x.shape[0]
    h_prev = check_array("h_prev", h_prev, (B, H), ("B", "H"))
    dtype = W_ih.dtype if W_ih.dtype.kind == "f" else np.float64
    out = [x.astype(dtype, copy=False), h_prev.astype(dtype, copy=False)]
    if c_prev is not None:
        out.append(check_array("c_prev", c_prev, (B, H), ("B", "H")).astype(dtype, copy=False))
    return out


def _check_grad(name: str, g, like: np.ndarray) -> np.ndarray:
    """Validate an upstream gradient of the same shape as the forward output `like`; None means zeros."""
    if g is None:
        return np.zeros_like(like)
    return check_array(name, g, like.shape, ("B", "H")).astype(like.dtype, copy=False)


def _param_grads(dA_ih: np.ndarray, dA_hh: np.ndarray, x: np.ndarray, h_in: np.ndarray) -> Dict[str, np.ndarray]:
    """Parameter gradients of the two affine maps A_ih = x W_ih^T + b_ih and A_hh = h_in W_hh^T + b_hh."""
    return {
        "weight_ih": dA_ih.T @ x,
        "weight_hh": dA_hh.T @ h_in,
        "bias_ih": dA_ih.sum(axis=0),
        "bias_hh": dA_hh.sum(axis=0),
    }


# ----------------------------------------------------------------------------------------------------------------
# vanilla RNN cell
# ----------------------------------------------------------------------------------------------------------------
def rnn_cell_forward(x, h_prev, params: Mapping[str, np.ndarray], nonlinearity: str = "tanh"):
    """One step of the vanilla (Elman) RNN cell.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh          (B, H)
        h = tanh(a)   or   h = max(a, 0)   (nonlinearity "tanh" | "relu")

    x (B, D), h_prev (B, H); params: weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,).
    Returns h (B, H) and the cache for `rnn_cell_backward`.
    """
    check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
    W_ih, W_hh, b_ih, b_hh = _check_params(params, 1)
    x, h_prev = _check_step(x, h_prev, W_ih, W_hh.shape[1])
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    cache = {"x": x, "h_prev": h_prev, "h": h, "W_ih": W_ih, "W_hh": W_hh, "nonlinearity": nonlinearity}
    return h, cache


def rnn_cell_backward(dh, cache):
    """Backward of `rnn_cell_forward`.

        da = dh * (1 - h^2)   (tanh)      or   da = dh * [a > 0]   (relu; a > 0 exactly where h > 0)
        dx = da W_ih      dh_prev = da W_hh      dW_ih = da^T x      dW_hh = da^T h_prev      db_ih = db_hh = sum_b da

    dh (B, H) = dL/dh. Returns dx (B, D), dh_prev (B, H) and the dict of parameter gradients.
    """
    h = cache["h"]
    dh = _check_grad("dh", dh, h)
    if cache["nonlinearity"] == "tanh":
        da = dh * (1.0 - h * h)
    else:
        da = dh * (h > 0)
    dx = da @ cache["W_ih"]
    dh_prev = da @ cache["W_hh"]
    return dx, dh_prev, _param_grads(da, da, cache["x"], cache["h_prev"])


# ----------------------------------------------------------------------------------------------------------------
# LSTM cell
# ----------------------------------------------------------------------------------------------------------------
def lstm_cell_forward(x, h_prev, c_prev, params: Mapping[str, np.ndarray]):
    """One step of the LSTM cell (gate order i, f, g, o as in torch.nn.LSTM).

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_i, a_f, a_g, a_o]      (B, 4H)
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)  (B, H) each
        c = f * c_prev + i * g
        h = o * tanh(c)

    x (B, D), h_prev (B, H), c_prev (B, H); params: weight_ih (4H, D), weight_hh (4H, H), biases (4H,).
    Returns h (B, H), c (B, H) and the cache for `lstm_cell_backward`.
    """
    W_ih, W_hh, b_ih, b_hh = _check_params(params, 4)
    H = W_hh.shape[1]
    x, h_prev, c_prev = _check_step(x, h_prev, W_ih, H, c_prev=c_prev)
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i = sigmoid(a[:, 0 * H:1 * H])
    f = sigmoid(a[:, 1 * H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:4 * H])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c": c,
             "tanh_c": tanh_c, "W_ih": W_ih, "W_hh": W_hh}
    return h, c, cache


def lstm_cell_backward(dh, dc, cache):
    """Backward of `lstm_cell_forward`.

    dh (B, H) = dL/dh and dc (B, H) = dL/dc from later steps (None means zeros). The cell state receives
    gradient both directly and through h = o * tanh(c):

        dc_total = dc + dh * o * (1 - tanh(c)^2)
        da_i = dc_total * g * i (1 - i)          da_f = dc_total * c_prev * f (1 - f)
        da_g = dc_total * i * (1 - g^2)          da_o = dh * tanh(c) * o (1 - o)
        da = [da_i, da_f, da_g, da_o]  (B, 4H)
        dx = da W_ih    dh_prev = da W_hh    dc_prev = dc_total * f
        dW_ih = da^T x  dW_hh = da^T h_prev  db_ih = db_hh = sum_b da

    Returns dx (B, D), dh_prev (B, H), dc_prev (B, H) and the dict of parameter gradients.
    """
    i, f, g, o, tanh_c = cache["i"], cache["f"], cache["g"], cache["o"], cache["tanh_c"]
    dh = _check_grad("dh", dh, i)
    dc = _check_grad("dc", dc, i)
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate(
        [
            dc_total * g * i * (1.0 - i),
            dc_total * cache["c_prev"] * f * (1.0 - f),
            dc_total * i * (1.0 - g * g),
            dh * tanh_c * o * (1.0 - o),
        ],
        axis=1,
    )
    dx = da @ cache["W_ih"]
    dh_prev = da @ cache["W_hh"]
    dc_prev = dc_total * f
    return dx, dh_prev, dc_prev, _param_grads(da, da, cache["x"], cache["h_prev"])


# ----------------------------------------------------------------------------------------------------------------
# GRU cell
# ----------------------------------------------------------------------------------------------------------------
def gru_cell_forward(x, h_prev, params: Mapping[str, np.ndarray], reset_after: bool = True):
    """One step of the GRU cell (gate order r, z, n as in torch.nn.GRU). Both variants share the parameter shapes
    weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,); write W_ir, W_hr, b_ir, ... for the blocks.

        r = sigmoid(x W_ir^T + b_ir + h_prev W_hr^T + b_hr)                      reset gate    (B, H)
        z = sigmoid(x W_iz^T + b_iz + h_prev W_hz^T + b_hz)                      update gate   (B, H)
        reset_after=True  (PyTorch, cuDNN, Keras default):
            n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn))
        reset_after=False (Cho et al. 2014, the lecture notes: candidate = tanh(W [r * h_prev, x] + b)):
            n = tanh(x W_in^T + b_in + (r * h_prev) W_hn^T + b_hn)
        h = (1 - z) * n + z * h_prev

    (PyTorch's z is the lecture notes' 1 - Gamma_u.) x (B, D), h_prev (B, H).
    Returns h (B, H) and the cache for `gru_cell_backward`.
    """
    check_choice("reset_after", reset_after, (True, False))
    W_ih, W_hh, b_ih, b_hh = _check_params(params, 3)
    H = W_hh.shape[1]
    x, h_prev = _check_step(x, h_prev, W_ih, H)
    a_i = x @ W_ih.T + b_ih                                        # (B, 3H): input side of all three gates
    W_hrz, b_hrz = W_hh[:2 * H], b_hh[:2 * H]
    W_hn, b_hn = W_hh[2 * H:], b_hh[2 * H:]
    a_hrz = h_prev @ W_hrz.T + b_hrz                               # (B, 2H)
    r = sigmoid(a_i[:, :H] + a_hrz[:, :H])
    z = sigmoid(a_i[:, H:2 * H] + a_hrz[:, H:])
    if reset_after:
        hn = h_prev @ W_hn.T + b_hn                                # (B, H)
        n = np.tanh(a_i[:, 2 * H:] + r * hn)
        h_in_n = h_prev                                            # what W_hn multiplies
    else:
        h_in_n = r * h_prev                                        # (B, H)
        hn = h_in_n @ W_hn.T + b_hn
        n = np.tanh(a_i[:, 2 * H:] + hn)
    h = (1.0 - z) * n + z * h_prev
    cache = {"x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn, "h_in_n": h_in_n,
             "W_ih": W_ih, "W_hh": W_hh, "reset_after": reset_after}
    return h, cache


def gru_cell_backward(dh, cache):
    """Backward of `gru_cell_forward` (either variant).

        dn = dh * (1 - z)     dz = dh * (h_prev - n)     da_n = dn * (1 - n^2)     da_z = dz * z (1 - z)
        reset_after=True:   da_hn = da_n * r  (gradient of h_prev W_hn^T + b_hn)   dr = da_n * (h_prev W_hn^T + b_hn)
        reset_after=False:  da_hn = da_n                                           dr = (da_n W_hn) * h_prev
        da_r = dr * r (1 - r)
        input side   dA_i = [da_r, da_z, da_n]   (B, 3H):  dx = dA_i W_ih,  dW_ih = dA_i^T x,  db_ih = sum_b dA_i
        hidden side  dA_h = [da_r, da_z, da_hn]  (B, 3H):  dW_hh = [da_r, da_z]^T h_prev  stacked on  da_hn^T m,
                     with m = h_prev (reset_after=True) or r * h_prev (False);   db_hh = sum_b dA_h
        dh_prev = dh * z + [da_r, da_z] W_h{r,z} + (da_hn W_hn, times r when reset_after=False)

    dh (B, H) = dL/dh. Returns dx (B, D), dh_prev (B, H) and the dict of parameter gradients.
    """
    r, z, n, h_prev = cache["r"], cache["z"], cache["n"], cache["h_prev"]
    W_hh = cache["W_hh"]
    H = r.shape[1]
    dh = _check_grad("dh", dh, r)
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    da_n = dn * (1.0 - n * n)
    da_z = dz * z * (1.0 - z)
    dh_prev = dh * z
    if cache["reset_after"]:
        da_hn = da_n * r
        dr = da_n * cache["hn"]
        dh_prev = dh_prev + da_hn @ W_hh[2 * H:]
    else:
        da_hn = da_n
        d_rh = da_n @ W_hh[2 * H:]                                 # gradient of r * h_prev
        dr = d_rh * h_prev
        dh_prev = dh_prev + d_rh * r
    da_r = dr * r * (1.0 - r)
    dA_i = np.concatenate([da_r, da_z, da_n], axis=1)
    da_rz = dA_i[:, :2 * H]
    dh_prev = dh_prev + da_rz @ W_hh[:2 * H]
    dx = dA_i @ cache["W_ih"]
    grads = {
        "weight_ih": dA_i.T @ cache["x"],
        "weight_hh": np.concatenate([da_rz.T @ h_prev, da_hn.T @ cache["h_in_n"]], axis=0),
        "bias_ih": dA_i.sum(axis=0),
        "bias_hh": np.concatenate([da_rz.sum(axis=0), da_hn.sum(axis=0)]),
    }
    return dx, dh_prev, grads


# ----------------------------------------------------------------------------------------------------------------
# the uniform cell interface used by the readable unrolled layer
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """A recurrent cell as a sequence layer sees it: one step forward, one step backward, and its parameter shapes.

    name:         a short name, e.g. "lstm"
    gates:        G, the number of stacked blocks in weight_ih (G*H, D), weight_hh (G*H, H), bias_ih/bias_hh (G*H,)
    num_states:   1 (the state is (h,)) or 2 ((h, c)); state[0] is always h, the cell's output
    forward:      forward(x (B, D), state: tuple of num_states (B, H) arrays, params) -> (new_state, cache)
    backward:     backward(dstate: tuple = dL/d(new_state), cache) -> (dx (B, D), dstate_prev: tuple, grads)
                  with grads a dict of the same keys and shapes as params
    extra_params: ((name, shape_fn), ...): parameters beyond the four standard ones, shape_fn(H) -> shape,
                  e.g. ("weight_ci", lambda H: (H,)) for a peephole weight

    params (the dict passed to forward) holds "weight_ih", "weight_hh", "bias_ih", "bias_hh" and the extra names.
    """

    name: str
    gates: int
    num_states: int
    forward: Callable
    backward: Callable
    extra_params: Tuple[Tuple[str, Callable[[int], Tuple[int, ...]]], ...] = ()

    def param_shapes(self, input_size: int, hidden_size: int) -> Dict[str, Tuple[int, ...]]:
        """{name: shape} of one layer's parameters, the four standard ones first (torch order), then the extras."""
        G, H = self.gates, hidden_size
        shapes = {"weight_ih": (G * H, input_size), "weight_hh": (G * H, H), "bias_ih": (G * H,),
                  "bias_hh": (G * H,)}
        for name, shape_fn in self.extra_params:
            shapes[name] = tuple(shape_fn(H))
        return shapes


def _rnn_forward(nonlinearity):
    def forward(x, state, params):
        h, cache = rnn_cell_forward(x, state[0], params, nonlinearity=nonlinearity)
        return (h,), cache
    return forward


def _rnn_backward(dstate, cache):
    dx, dh_prev, grads = rnn_cell_backward(dstate[0], cache)
    return dx, (dh_prev,), grads


def _lstm_forward(x, state, params):
    h, c, cache = lstm_cell_forward(x, state[0], state[1], params)
    return (h, c), cache


def _lstm_backward(dstate, cache):
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(dstate[0], dstate[1], cache)
    return dx, (dh_prev, dc_prev), grads


def _gru_forward(reset_after):
    def forward(x, state, params):
        h, cache = gru_cell_forward(x, state[0], params, reset_after=reset_after)
        return (h,), cache
    return forward


def _gru_backward(dstate, cache):
    dx, dh_prev, grads = gru_cell_backward(dstate[0], cache)
    return dx, (dh_prev,), grads


RNN_TANH_CELL = Cell("rnn_tanh", 1, 1, _rnn_forward("tanh"), _rnn_backward)
RNN_RELU_CELL = Cell("rnn_relu", 1, 1, _rnn_forward("relu"), _rnn_backward)
LSTM_CELL = Cell("lstm", 4, 2, _lstm_forward, _lstm_backward)
GRU_CELL = Cell("gru", 3, 1, _gru_forward(True), _gru_backward)
GRU_RESET_BEFORE_CELL = Cell("gru_reset_before", 3, 1, _gru_forward(False), _gru_backward)

BUILTIN_CELLS = {c.name: c for c in (RNN_TANH_CELL, RNN_RELU_CELL, LSTM_CELL, GRU_CELL, GRU_RESET_BEFORE_CELL)}
