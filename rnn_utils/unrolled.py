"""`Unrolled`: the readable sequence layer. A sequence is a loop over the cell's step; nothing else is hidden.

    layer = Unrolled("lstm", input_size, hidden_size, *, num_layers=1, bidirectional=False, dropout=0.0,
                     dtype=np.float64, rng)
    Y, state_n = layer.forward(X, state0=None)         # X (T, B, D) -> Y (T, B, dirs*H)
    dX, dstate0 = layer.backward(dY, dstate_n=None)    # fills layer.grads (same keys as layer.params)

`cell` is a `rnn_utils.cells.Cell` (a single-step forward/backward pair plus its parameter shapes) or the name of
a built-in one: "rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before". Variants with no fast layer (peephole
or coupled-gate LSTMs, a minimal GRU, ...) are just other `Cell` objects.

The contract is that of the fast layers `RNN`, `LSTM`, `GRU` in `rnn_utils.recurrent` (this is their readable
twin; tests check that the two agree for every configuration):

    params   weight_ih_l{k}[_reverse] (G*H, D_k), weight_hh_l{k}[_reverse] (G*H, H), bias_ih_l{k}[_reverse] (G*H,),
             bias_hh_l{k}[_reverse] (G*H,), then the cell's extra parameters with the same suffix;
             D_0 = input_size, D_k = dirs*H for k >= 1; every parameter uniform(-1/sqrt(H), 1/sqrt(H)), drawn in
             this order (so a built-in cell gets the same weights from the same seed as the fast layer)
    state    one array (num_layers*dirs, B, H) for a one-state cell (h), a tuple (h, c) of such arrays for a
             two-state cell (the LSTM); row k*dirs + d is layer k, direction d (0 forward, 1 reverse); None = zeros
    Y        the last layer's h_t for every t, [forward, reverse] concatenated on the last axis
    dropout  p: in training mode (`layer.training`; `eval()` / `train()`), layer k+1 reads layer k's outputs times
             a mask `rnn_utils.module.dropout_mask((T, B, dirs*H), p)` (0 or 1/(1-p) per unit), for k < L-1;
             the masks are drawn from `layer.dropout_rng` (spawned from `rng` when p > 0), one per layer in
             order k = 0, 1, ..., after that layer's forward, exactly as the fast layers draw them; the latest
             ones are `layer.dropout_masks`, and backward multiplies by the same masks
    caches   layer.caches[(k, d)] is the list of the cell's per-step caches of the latest forward, in time order
             (e.g. the gate activations cache["i"], cache["f"], cache["o"] and cache["c"] of the LSTM cell)

Speed: one Python-level cell call per layer, direction and step, and the cells re-validate their inputs at every
step. Use it to read, to check and to try a new cell; train with the fast layers where one exists.
"""
from __future__ import annotations

from typing import Dict, List, Tuple, Union

import numpy as np

from ._checks import check_array, check_real, check_stack_args, describe_shape, warn_unused_dropout
from .cells import BUILTIN_CELLS, Cell
from .module import Module, dropout_mask

__all__ = ["Unrolled"]


def _resolve_cell(cell) -> Cell:
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str) and cell in BUILTIN_CELLS:
        return BUILTIN_CELLS[cell]
    raise ValueError(f"cell: expected a rnn_utils.cells.Cell or one of {sorted(BUILTIN_CELLS)}, got {cell!r}")


class Unrolled(Module):
    """Any cell, stacked and optionally bidirectional, run over a sequence by an explicit loop over time steps.

    Args:
        cell:           a `Cell`, or "rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before"
        input_size (D), hidden_size (H): sizes
        num_layers:     stacked layers; layer k >= 1 reads the outputs of layer k-1
        bidirectional:  add a reverse direction per layer (reads t = T-1, ..., 0)
        dropout:        p in [0, 1): dropout on the outputs of every layer but the last, in training mode only
        dtype:          np.float32 or np.float64
        rng:            np.random.Generator for the initialisation (required)
    """

    def __init__(self, cell: Union[Cell, str], input_size: int, hidden_size: int, *, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, dtype=np.float64,
                 rng: np.random.Generator) -> None:
        super().__init__()
        self.cell = _resolve_cell(cell)
        (self.input_size, self.hidden_size, self.num_layers, self.bidirectional, self.dtype,
         rng) = check_stack_args(input_size, hidden_size, num_layers, bidirectional, dtype, rng)
        self.dropout = check_real("dropout", dropout, 0.0, 1.0, high_open=True)
        warn_unused_dropout("Unrolled", self.dropout, self.num_layers)
        self.dropout_rng = rng.spawn(1)[0] if self.dropout > 0 else None   # no draw from rng (weights unchanged)
        self.dropout_masks: List[np.ndarray] = []
        self.num_directions = 2 if self.bidirectional else 1
        H = self.hidden_size
        bound = 1.0 / np.sqrt(H)
        for k in range(self.num_layers):
            d_in = self.input_size if k == 0 else self.num_directions * H
            for d in range(self.num_directions):
                for name, shape in self.cell.param_shapes(d_in, H).items():
                    self.params[name + self._suffix(k, d)] = rng.uniform(-bound, bound, shape).astype(self.dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.caches: Dict[Tuple[int, int], List[dict]] = {}
        self._forward_inputs = None

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def __repr__(self) -> str:
        drop = f", dropout={self.dropout:g}" if self.dropout > 0 else ""
        return (f"Unrolled({self.cell.name!r}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}{drop}, dtype={self.dtype.name})")

    def cell_params(self, layer: int, direction: int) -> Dict[str, np.ndarray]:
        """The parameters of one layer and direction under the cell's own names (the same arrays, not copies)."""
        sfx = self._suffix(layer, direction)
        return {name: self.params[name + sfx] for name in self.cell.param_shapes(1, 1)}

    # ------------------------------------------------------------------------------------------------------
    def _states(self, name: str, value, B: int) -> List[np.ndarray]:
        """The state as a list of num_states arrays (num_layers*dirs, B, H); None -> zeros."""
        shape = (self.num_layers * self.num_directions, B, self.hidden_size)
        labels = ("num_layers*dirs", "B", "H")
        n = self.cell.num_states
        if value is None:
            return [np.zeros(shape, dtype=self.dtype) for _ in range(n)]
        if n == 1:
            if isinstance(value, (tuple, list)):
                raise ValueError(f"{name}: expected one array of shape {describe_shape(shape, labels)} (the "
                                 f"{self.cell.name} cell has one state), got a {type(value).__name__}")
            return [check_array(name, value, shape, labels).astype(self.dtype)]
        if not isinstance(value, (tuple, list)) or len(value) != n:
            raise ValueError(f"{name}: expected a tuple of {n} arrays of shape {describe_shape(shape, labels)}, "
                             f"got {type(value).__name__}")
        return [np.zeros(shape, dtype=self.dtype) if v is None else
                check_array(f"{name}[{j}]", v, shape, labels).astype(self.dtype) for j, v in enumerate(value)]

    def _pack(self, arrays: List[np.ndarray]):
        return arrays[0] if self.cell.num_states == 1 else tuple(arrays)

    def forward(self, X, state0=None):
        """X (T, B, D) -> Y (T, B, dirs*H) and the final state (an array, or a tuple for a two-state cell)."""
        X = check_array("X", X, (None, None, self.input_size), ("T", "B", "D")).astype(self.dtype)
        T, B, _ = X.shape
        if T == 0 or B == 0:
            raise ValueError(f"X: expected at least one time step and one sequence, got shape {X.shape}")
        states0 = self._states("state0", state0, B)
        H, dirs = self.hidden_size, self.num_directions
        finals = [np.empty_like(s) for s in states0]
        self.caches = {}
        self.dropout_masks = []
        drop = self.training and self.dropout > 0
        inp = X
        for k in range(self.num_layers):
            out = np.empty((T, B, dirs * H), dtype=self.dtype)
            for d in range(dirs):
                # copies: backward must use the weights of this forward pass even if an optimiser steps between
                p = {name: w.copy() for name, w in self.cell_params(k, d).items()}
                state = tuple(s[k * dirs + d] for s in states0)
                caches = [None] * T
                for t in (range(T - 1, -1, -1) if d else range(T)):      # the reverse direction reads backwards
                    state, caches[t] = self.cell.forward(inp[t], state, p)
                    out[t, :, d * H:(d + 1) * H] = state[0]
                for f, s in zip(finals, state):
                    f[k * dirs + d] = s
                self.caches[(k, d)] = caches
            if drop and k < self.num_layers - 1:     # dropout between layers: the next layer reads out * mask
                if not isinstance(self.dropout_rng, np.random.Generator):
                    raise ValueError("dropout_rng: expected a np.random.Generator for the dropout masks (set "
                                     "layer.dropout_rng = np.random.default_rng(seed))")
                mask = dropout_mask(out.shape, self.dropout, rng=self.dropout_rng, dtype=self.dtype)
                self.dropout_masks.append(mask)
                out = out * mask
            inp = out
        self._forward_inputs = (T, B)
        return inp, self._pack(finals)

    def backward(self, dY, dstate_n=None):
        """BPTT through the latest forward, one cell backward call per step, in reverse processing order.

        dY (T, B, dirs*H) = dL/dY; dstate_n None or dL/d(final state). Fills `self.grads` (in place) and returns
        dX (T, B, D) and dL/dstate0 (same structure as the state).
        """
        if self._forward_inputs is None:
            raise RuntimeError("Unrolled.backward called before forward: run forward(X) first")
        T, B = self._forward_inputs
        H, dirs = self.hidden_size, self.num_directions
        dY = check_array("dY", dY, (T, B, dirs * H), ("T", "B", "dirs*H")).astype(self.dtype)
        dfinals = self._states("dstate_n", dstate_n, B)
        dstates0 = [np.empty_like(s) for s in dfinals]
        for g in self.grads.values():
            g[...] = 0
        d_out = dY
        for k in reversed(range(self.num_layers)):
            d_in = None
            for d in range(dirs):
                sfx = self._suffix(k, d)
                dstate = tuple(s[k * dirs + d] for s in dfinals)
                for t in (range(T) if d else range(T - 1, -1, -1)):     # reverse of the processing order
                    dstate = (dstate[0] + d_out[t, :, d * H:(d + 1) * H],) + tuple(dstate[1:])
                    dx, dstate, g = self.cell.backward(dstate, self.caches[(k, d)][t])
                    if d_in is None:
                        d_in = np.zeros((T,) + dx.shape, dtype=self.dtype)
                    d_in[t] += dx
                    for name, v in g.items():
                        self.grads[name + sfx] += v
                for s0, s in zip(dstates0, dstate):
                    s0[k * dirs + d] = s
            if k > 0 and self.dropout_masks:
                d_in = d_in * self.dropout_masks[k - 1]     # the input of layer k was layer k-1's out * mask
            d_out = d_in
        return d_out, self._pack(dstates0)
