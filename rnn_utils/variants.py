"""LSTM and GRU variants: single-step forward/backward pairs and their `Cell` objects (for `rnn_utils.unrolled.Unrolled`).

GRU variant (notebook 06): Ng's simplified GRU, the GRU without its reset (relevance) gate,

    simplified GRU  (the lecture notes' first GRU)   one update gate u, no reset gate, G = 2 blocks u, n

    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_u, a_n]      (B, 2H)
    u = sigmoid(a_u)           the notes' Gamma_u           n = tanh(a_n)   the notes' c~<t>
    h = u * n + (1 - u) * h_prev                             the notes' c<t> = Gamma_u * c~<t> + (1 - Gamma_u) * c<t-1>

    x (B, D), h_prev (B, H) -> h (B, H); weight_ih (2H, D), weight_hh (2H, H), bias_ih (2H,), bias_hh (2H,)
    (the notes' W_u = [W_hu | W_iu] and b_u = b_iu + b_hu, likewise for c~). Note u is the notes' Gamma_u, the
    share of the NEW candidate, so u is 1 - z of torch's GRU (whose z is the share of the old state).

    h, cache = simplified_gru_cell_forward(x, h_prev, params)
    dx, dh_prev, grads = simplified_gru_cell_backward(dh, cache)
    SIMPLIFIED_GRU_CELL (name "gru_simplified", one state (h,)), GRU_VARIANT_CELLS

LSTM variants (notebook 05): the four variants of Greff et al. (2017), "LSTM: A Search Space Odyssey", that
change the gates:

    peephole        (Gers & Schmidhuber 2000) the gates also read the cell state through diagonal weights
    no forget gate  (the 1997 original)       f = 1
    no output gate                            o = 1
    coupled gates   (CIFG)                    f = 1 - i

Shapes, as in `rnn_utils.cells` (rows are examples, weights stored (out, in), torch names):

    x (B, D), h_prev (B, H), c_prev (B, H) -> h (B, H), c (B, H)
    weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,)
    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh      (B, G*H), cut into G blocks of H columns

    variant          G   gate blocks (in order)    extra parameters
    peephole         4   i, f, g, o                weight_ci (H,), weight_cf (H,), weight_co (H,)
    no forget gate   3   i, g, o                   -
    no output gate   3   i, f, g                   -
    coupled (CIFG)   3   i, g, o                   -

A gate that a variant removes has no weights at all (G = 3), so the parameter count shows the saving. Every
forward returns (h, c, cache) and every backward (dx, dh_prev, dc_prev, grads), like `lstm_cell_forward` /
`lstm_cell_backward`; the caches always hold "i", "f", "g", "o", "c" (a removed gate as an array of ones, the
coupled f as 1 - i), so code that reads gate activations works for every variant. The Cell objects:

    PEEPHOLE_LSTM_CELL, NO_FORGET_GATE_LSTM_CELL, NO_OUTPUT_GATE_LSTM_CELL, COUPLED_LSTM_CELL, VARIANT_CELLS
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ._checks import check_array
from .cells import Cell, _check_grad, _check_params, _check_step, _param_grads, sigmoid

__all__ = [
    "peephole_lstm_cell_forward",
    "peephole_lstm_cell_backward",
    "no_forget_gate_lstm_cell_forward",
    "no_forget_gate_lstm_cell_backward",
    "no_output_gate_lstm_cell_forward",
    "no_output_gate_lstm_cell_backward",
    "coupled_lstm_cell_forward",
    "coupled_lstm_cell_backward",
    "PEEPHOLE_LSTM_CELL",
    "NO_FORGET_GATE_LSTM_CELL",
    "NO_OUTPUT_GATE_LSTM_CELL",
    "COUPLED_LSTM_CELL",
    "VARIANT_CELLS",
    "simplified_gru_cell_forward",
    "simplified_gru_cell_backward",
    "SIMPLIFIED_GRU_CELL",
    "GRU_VARIANT_CELLS",
]

PEEPHOLE_NAMES = ("weight_ci", "weight_cf", "weight_co")


def _preactivation(x, h_prev, c_prev, params: Mapping[str, np.ndarray], gates: int):
    """Validate the inputs; return a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh (B, G*H) and the checked arrays."""
    W_ih, W_hh, b_ih, b_hh = _check_params(params, gates)
    H = W_hh.shape[1]
    if c_prev is None:
        raise ValueError(f"c_prev: expected an array of shape (B, H={H}), got None")
    x, h_prev, c_prev = _check_step(x, h_prev, W_ih, H, c_prev=c_prev)
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    return a, H, x, h_prev, c_prev, W_ih, W_hh


def _block(a: np.ndarray, k: int, H: int) -> np.ndarray:
    return a[:, k * H:(k + 1) * H]


# ----------------------------------------------------------------------------------------------------------------
# peephole connections
# ----------------------------------------------------------------------------------------------------------------
def peephole_lstm_cell_forward(x, h_prev, c_prev, params: Mapping[str, np.ndarray]):
    """One step of the LSTM with peephole connections (Gers & Schmidhuber 2000), gate order i, f, g, o.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_i, a_f, a_g, a_o]      (B, 4H)
        i = sigmoid(a_i + w_ci * c_prev)          f = sigmoid(a_f + w_cf * c_prev)
        g = tanh(a_g)
        c = f * c_prev + i * g
        o = sigmoid(a_o + w_co * c)               (the output gate peeks at the *new* cell state)
        h = o * tanh(c)

    params: the four LSTM arrays (G = 4) plus weight_ci, weight_cf, weight_co, each (H,) (diagonal: unit j
    reads only its own cell c_j). With the three peephole weights 0 this is `rnn_utils.cells.lstm_cell_forward`.
    Returns h (B, H), c (B, H) and the cache for `peephole_lstm_cell_backward`.
    """
    a, H, x, h_prev, c_prev, W_ih, W_hh = _preactivation(x, h_prev, c_prev, params, 4)
    missing = [k for k in PEEPHOLE_NAMES if k not in params]
    if missing:
        raise ValueError(f"params: missing keys {missing} (the peephole weights, each of shape (H={H},))")
    w_ci, w_cf, w_co = (check_array(f"params[{k!r}]", params[k], (H,), ("H",)).astype(a.dtype, copy=False)
                        for k in PEEPHOLE_NAMES)
    i = sigmoid(_block(a, 0, H) + w_ci * c_prev)
    f = sigmoid(_block(a, 1, H) + w_cf * c_prev)
    g = np.tanh(_block(a, 2, H))
    c = f * c_prev + i * g
    o = sigmoid(_block(a, 3, H) + w_co * c)
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c": c,
             "tanh_c": tanh_c, "W_ih": W_ih, "W_hh": W_hh, "w_ci": w_ci, "w_cf": w_cf, "w_co": w_co}
    return h, c, cache


def peephole_lstm_cell_backward(dh, dc, cache):
    """Backward of `peephole_lstm_cell_forward`. dh, dc (B, H) = dL/dh, dL/dc from later steps (None: zeros).

        da_o = dh * tanh(c) * o (1 - o)
        dc_total = dc + dh * o * (1 - tanh(c)^2) + da_o * w_co        (c also feeds the output gate)
        da_i = dc_total * g * i (1 - i)    da_f = dc_total * c_prev * f (1 - f)    da_g = dc_total * i * (1 - g^2)
        dc_prev = dc_total * f + da_i * w_ci + da_f * w_cf             (c_prev feeds the i and f gates too)
        dw_ci = sum_b da_i * c_prev    dw_cf = sum_b da_f * c_prev    dw_co = sum_b da_o * c
        dx = da W_ih   dh_prev = da W_hh   dW_ih = da^T x   dW_hh = da^T h_prev   db_ih = db_hh = sum_b da

    Returns dx (B, D), dh_prev (B, H), dc_prev (B, H) and the gradients of the 4 + 3 parameters.
    """
    i, f, g, o, c, tanh_c, c_prev = (cache[k] for k in ("i", "f", "g", "o", "c", "tanh_c", "c_prev"))
    dh = _check_grad("dh", dh, i)
    dc = _check_grad("dc", dc, i)
    da_o = dh * tanh_c * o * (1.0 - o)
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c) + da_o * cache["w_co"]
    da_i = dc_total * g * i * (1.0 - i)
    da_f = dc_total * c_prev * f * (1.0 - f)
    da_g = dc_total * i * (1.0 - g * g)
    dc_prev = dc_total * f + da_i * cache["w_ci"] + da_f * cache["w_cf"]
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    grads = _param_grads(da, da, cache["x"], cache["h_prev"])
    grads["weight_ci"] = (da_i * c_prev).sum(axis=0)
    grads["weight_cf"] = (da_f * c_prev).sum(axis=0)
    grads["weight_co"] = (da_o * c).sum(axis=0)
    return da @ cache["W_ih"], da @ cache["W_hh"], dc_prev, grads


# ----------------------------------------------------------------------------------------------------------------
# no forget gate (f = 1)
# ----------------------------------------------------------------------------------------------------------------
def no_forget_gate_lstm_cell_forward(x, h_prev, c_prev, params: Mapping[str, np.ndarray]):
    """One step of the LSTM without a forget gate (Hochreiter & Schmidhuber 1997): f = 1, gate order i, g, o.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_i, a_g, a_o]      (B, 3H)
        i = sigmoid(a_i)   g = tanh(a_g)   o = sigmoid(a_o)
        c = c_prev + i * g                  (the cell only accumulates: nothing is ever erased)
        h = o * tanh(c)

    params: weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,).
    Returns h (B, H), c (B, H) and the cache (its "f" is an array of ones).
    """
    a, H, x, h_prev, c_prev, W_ih, W_hh = _preactivation(x, h_prev, c_prev, params, 3)
    i = sigmoid(_block(a, 0, H))
    g = np.tanh(_block(a, 1, H))
    o = sigmoid(_block(a, 2, H))
    c = c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": np.ones_like(i), "g": g, "o": o, "c": c,
             "tanh_c": tanh_c, "W_ih": W_ih, "W_hh": W_hh}
    return h, c, cache


def no_forget_gate_lstm_cell_backward(dh, dc, cache):
    """Backward of `no_forget_gate_lstm_cell_forward`.

        dc_total = dc + dh * o * (1 - tanh(c)^2)
        da_i = dc_total * g * i (1 - i)    da_g = dc_total * i * (1 - g^2)    da_o = dh * tanh(c) * o (1 - o)
        dc_prev = dc_total                 (dc/dc_prev = 1: the constant error carousel of 1997)
        da = [da_i, da_g, da_o]; dx = da W_ih, dh_prev = da W_hh, dW_ih = da^T x, ...

    Returns dx (B, D), dh_prev (B, H), dc_prev (B, H) and the parameter gradients.
    """
    i, g, o, tanh_c = cache["i"], cache["g"], cache["o"], cache["tanh_c"]
    dh = _check_grad("dh", dh, i)
    dc = _check_grad("dc", dc, i)
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([dc_total * g * i * (1.0 - i), dc_total * i * (1.0 - g * g),
                         dh * tanh_c * o * (1.0 - o)], axis=1)
    grads = _param_grads(da, da, cache["x"], cache["h_prev"])
    return da @ cache["W_ih"], da @ cache["W_hh"], dc_total, grads


# ----------------------------------------------------------------------------------------------------------------
# no output gate (o = 1)
# ----------------------------------------------------------------------------------------------------------------
def no_output_gate_lstm_cell_forward(x, h_prev, c_prev, params: Mapping[str, np.ndarray]):
    """One step of the LSTM without an output gate: o = 1, gate order i, f, g.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_i, a_f, a_g]      (B, 3H)
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)
        c = f * c_prev + i * g
        h = tanh(c)                         (the whole cell is always exposed)

    params: weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,).
    Returns h (B, H), c (B, H) and the cache (its "o" is an array of ones).
    """
    a, H, x, h_prev, c_prev, W_ih, W_hh = _preactivation(x, h_prev, c_prev, params, 3)
    i = sigmoid(_block(a, 0, H))
    f = sigmoid(_block(a, 1, H))
    g = np.tanh(_block(a, 2, H))
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": np.ones_like(i), "c": c,
             "tanh_c": tanh_c, "W_ih": W_ih, "W_hh": W_hh}
    return tanh_c, c, cache


def no_output_gate_lstm_cell_backward(dh, dc, cache):
    """Backward of `no_output_gate_lstm_cell_forward`.

        dc_total = dc + dh * (1 - tanh(c)^2)
        da_i = dc_total * g * i (1 - i)    da_f = dc_total * c_prev * f (1 - f)    da_g = dc_total * i * (1 - g^2)
        dc_prev = dc_total * f;  da = [da_i, da_f, da_g]; dx = da W_ih, dh_prev = da W_hh, dW_ih = da^T x, ...

    Returns dx (B, D), dh_prev (B, H), dc_prev (B, H) and the parameter gradients.
    """
    i, f, g, tanh_c = cache["i"], cache["f"], cache["g"], cache["tanh_c"]
    dh = _check_grad("dh", dh, i)
    dc = _check_grad("dc", dc, i)
    dc_total = dc + dh * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([dc_total * g * i * (1.0 - i), dc_total * cache["c_prev"] * f * (1.0 - f),
                         dc_total * i * (1.0 - g * g)], axis=1)
    grads = _param_grads(da, da, cache["x"], cache["h_prev"])
    return da @ cache["W_ih"], da @ cache["W_hh"], dc_total * f, grads


# ----------------------------------------------------------------------------------------------------------------
# coupled input and forget gate (CIFG): f = 1 - i
# ----------------------------------------------------------------------------------------------------------------
def coupled_lstm_cell_forward(x, h_prev, c_prev, params: Mapping[str, np.ndarray]):
    """One step of the LSTM with coupled input and forget gates (CIFG): f = 1 - i, gate order i, g, o.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_i, a_g, a_o]      (B, 3H)
        i = sigmoid(a_i)   f = 1 - i   g = tanh(a_g)   o = sigmoid(a_o)
        c = f * c_prev + i * g = c_prev + i * (g - c_prev)      (write exactly as much as is erased, as in the GRU)
        h = o * tanh(c)

    params: weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,).
    Returns h (B, H), c (B, H) and the cache (its "f" is 1 - i).
    """
    a, H, x, h_prev, c_prev, W_ih, W_hh = _preactivation(x, h_prev, c_prev, params, 3)
    i = sigmoid(_block(a, 0, H))
    f = 1.0 - i
    g = np.tanh(_block(a, 1, H))
    o = sigmoid(_block(a, 2, H))
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c": c,
             "tanh_c": tanh_c, "W_ih": W_ih, "W_hh": W_hh}
    return h, c, cache


def coupled_lstm_cell_backward(dh, dc, cache):
    """Backward of `coupled_lstm_cell_forward`.

        dc_total = dc + dh * o * (1 - tanh(c)^2)
        di = dc_total * (g - c_prev)        (i appears twice: as the input gate and through f = 1 - i)
        da_i = di * i (1 - i)    da_g = dc_total * i * (1 - g^2)    da_o = dh * tanh(c) * o (1 - o)
        dc_prev = dc_total * (1 - i);  da = [da_i, da_g, da_o]; dx = da W_ih, dh_prev = da W_hh, dW_ih = da^T x, ...

    Returns dx (B, D), dh_prev (B, H), dc_prev (B, H) and the parameter gradients.
    """
    i, f, g, o, tanh_c, c_prev = (cache[k] for k in ("i", "f", "g", "o", "tanh_c", "c_prev"))
    dh = _check_grad("dh", dh, i)
    dc = _check_grad("dc", dc, i)
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([dc_total * (g - c_prev) * i * (1.0 - i), dc_total * i * (1.0 - g * g),
                         dh * tanh_c * o * (1.0 - o)], axis=1)
    grads = _param_grads(da, da, cache["x"], cache["h_prev"])
    return da @ cache["W_ih"], da @ cache["W_hh"], dc_total * f, grads


# ----------------------------------------------------------------------------------------------------------------
# Cell objects: state (h, c), the uniform signature of rnn_utils.cells.Cell
# ----------------------------------------------------------------------------------------------------------------
def _wrap(name, gates, fwd, bwd, extra=()):
    def forward(x, state, params):
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(f"state: expected a tuple (h, c) of two (B, H) arrays, got {type(state).__name__}"
                             + (f" of length {len(state)}" if isinstance(state, (tuple, list)) else ""))
        h, c, cache = fwd(x, state[0], state[1], params)
        return (h, c), cache

    def backward(dstate, cache):
        if not isinstance(dstate, (tuple, list)) or len(dstate) != 2:
            raise ValueError(f"dstate: expected a tuple (dh, dc), got {type(dstate).__name__}")
        dx, dh_prev, dc_prev, grads = bwd(dstate[0], dstate[1], cache)
        return dx, (dh_prev, dc_prev), grads

    forward.__doc__, backward.__doc__ = fwd.__doc__, bwd.__doc__
    return Cell(name, gates, 2, forward, backward, extra)


def _diagonal(H: int):
    return (H,)


PEEPHOLE_LSTM_CELL = _wrap("lstm_peephole", 4, peephole_lstm_cell_forward, peephole_lstm_cell_backward,
                           tuple((k, _diagonal) for k in PEEPHOLE_NAMES))
NO_FORGET_GATE_LSTM_CELL = _wrap("lstm_no_forget_gate", 3, no_forget_gate_lstm_cell_forward,
                                 no_forget_gate_lstm_cell_backward)
NO_OUTPUT_GATE_LSTM_CELL = _wrap("lstm_no_output_gate", 3, no_output_gate_lstm_cell_forward,
                                 no_output_gate_lstm_cell_backward)
COUPLED_LSTM_CELL = _wrap("lstm_coupled", 3, coupled_lstm_cell_forward, coupled_lstm_cell_backward)

VARIANT_CELLS = {c.name: c for c in (PEEPHOLE_LSTM_CELL, NO_FORGET_GATE_LSTM_CELL, NO_OUTPUT_GATE_LSTM_CELL,
                                     COUPLED_LSTM_CELL)}


# ----------------------------------------------------------------------------------------------------------------
# Ng's simplified GRU: one update gate, no reset gate
# ----------------------------------------------------------------------------------------------------------------
def simplified_gru_cell_forward(x, h_prev, params: Mapping[str, np.ndarray]):
    """One step of Ng's simplified GRU (the GRU without a reset gate), gate order u, n.

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh = [a_u, a_n]      (B, 2H)
        u = sigmoid(a_u)                   update gate, the notes' Gamma_u (share of the new candidate)
        n = tanh(a_n)                      candidate, the notes' c~<t>
        h = u * n + (1 - u) * h_prev       the notes' c<t>

    x (B, D), h_prev (B, H); params: weight_ih (2H, D), weight_hh (2H, H), bias_ih (2H,), bias_hh (2H,).
    Returns h (B, H) and the cache for `simplified_gru_cell_backward`.
    """
    W_ih, W_hh, b_ih, b_hh = _check_params(params, 2)
    H = W_hh.shape[1]
    x, h_prev = _check_step(x, h_prev, W_ih, H)
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    u = sigmoid(_block(a, 0, H))
    n = np.tanh(_block(a, 1, H))
    h = u * n + (1.0 - u) * h_prev
    cache = {"x": x, "h_prev": h_prev, "u": u, "n": n, "W_ih": W_ih, "W_hh": W_hh}
    return h, cache


def simplified_gru_cell_backward(dh, cache):
    """Backward of `simplified_gru_cell_forward`. dh (B, H) = dL/dh (None: zeros).

        da_u = dh * (n - h_prev) * u (1 - u)      da_n = dh * u * (1 - n^2)      da = [da_u, da_n]  (B, 2H)
        dh_prev = dh * (1 - u) + da W_hh          (the direct path, the notes' 1 - Gamma_u, plus the paths
                                                   through the gate and the candidate)
        dx = da W_ih    dW_ih = da^T x    dW_hh = da^T h_prev    db_ih = db_hh = sum_b da

    Returns dx (B, D), dh_prev (B, H) and the dict of parameter gradients.
    """
    u, n, h_prev = cache["u"], cache["n"], cache["h_prev"]
    dh = _check_grad("dh", dh, u)
    da = np.concatenate([dh * (n - h_prev) * u * (1.0 - u), dh * u * (1.0 - n * n)], axis=1)
    dh_prev = dh * (1.0 - u) + da @ cache["W_hh"]
    return da @ cache["W_ih"], dh_prev, _param_grads(da, da, cache["x"], h_prev)


def _simplified_gru_forward(x, state, params):
    if not isinstance(state, (tuple, list)) or len(state) != 1:
        raise ValueError(f"state: expected a tuple (h,) of one (B, H) array, got {type(state).__name__}"
                         + (f" of length {len(state)}" if isinstance(state, (tuple, list)) else ""))
    h, cache = simplified_gru_cell_forward(x, state[0], params)
    return (h,), cache


def _simplified_gru_backward(dstate, cache):
    if not isinstance(dstate, (tuple, list)) or len(dstate) != 1:
        raise ValueError(f"dstate: expected a tuple (dh,), got {type(dstate).__name__}")
    dx, dh_prev, grads = simplified_gru_cell_backward(dstate[0], cache)
    return dx, (dh_prev,), grads


_simplified_gru_forward.__doc__ = simplified_gru_cell_forward.__doc__
_simplified_gru_backward.__doc__ = simplified_gru_cell_backward.__doc__

SIMPLIFIED_GRU_CELL = Cell("gru_simplified", 2, 1, _simplified_gru_forward, _simplified_gru_backward)
GRU_VARIANT_CELLS = {SIMPLIFIED_GRU_CELL.name: SIMPLIFIED_GRU_CELL}
