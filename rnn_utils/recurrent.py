"""Sequence layers RNN, LSTM and GRU: stacked, optionally bidirectional, with hand-written BPTT.

    layer = LSTM(input_size, hidden_size, *, num_layers=1, bidirectional=False, dropout=0.0, dtype=np.float64, rng)
    # RNN(..., nonlinearity="tanh" | "relu"),  GRU(..., reset_after=True | False)
    # Everything after hidden_size is keyword-only, so a torch habit such as LSTM(8, 16, 2, True) (torch: bias=True)
    # fails loudly instead of building another network; rng (a np.random.Generator) is required.
    Y, state_n = layer.forward(X, state0=None)         # X (T, B, D) -> Y (T, B, dirs*H)
    dX, dstate0 = layer.backward(dY, dstate_n=None)    # fills layer.grads (same keys as layer.params)
    h, state = layer.step(x, state=None)               # one step for decoding: x (B, D) -> h (B, dirs*H)

Semantics, parameter names, shapes and gate order are those of torch.nn.RNN / LSTM / GRU (time-major input,
`batch_first=False`), so `layer.load_state_dict(torch_module.state_dict())` works and gives the same numbers:

    params   weight_ih_l{k}[_reverse] (G*H, D_k)   weight_hh_l{k}[_reverse] (G*H, H)
             bias_ih_l{k}[_reverse]   (G*H,)       bias_hh_l{k}[_reverse]   (G*H,)
             G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n); D_0 = input_size, D_k = dirs*H for k >= 1
    state    h of shape (num_layers*dirs, B, H), index k*dirs + d (layer-major, then direction);
             for the LSTM the pair (h, c). None means zeros (for the state and for its gradient).
    Y        (T, B, dirs*H): the last layer's outputs, [forward, reverse] concatenated on the last axis.
             Layer k >= 1 reads that concatenation of layer k-1; the reverse direction reads t = T-1, ..., 0.

Dropout between layers (`dropout=p`, Zaremba et al. 2014; torch's semantics): in training mode (`layer.training`,
True for a new layer; `layer.eval()` / `layer.train()` switch it) the outputs of every layer but the last are
multiplied by an inverted-dropout mask (`rnn_utils.module.dropout_mask`: each unit 0 with probability p, else
scaled by 1/(1-p)), a new mask for every time step and sequence, before the next layer reads them; the recurrent
connections and the last layer's outputs are never dropped. In evaluation mode, or with p = 0, nothing is applied.
`backward` uses the masks of the forward pass it differentiates (`layer.dropout_masks`: the list of L-1 masks
(T, B, dirs*H) of the latest forward, [] when none was applied). The masks come from `layer.dropout_rng`, a
generator spawned from `rng` at construction when p > 0 (spawning draws nothing from `rng`, so the weights are the
same whatever p is; with p = 0 nothing is spawned and nothing is ever drawn). Assign another Generator to
`layer.dropout_rng` to choose the masks, e.g. the same seed before every forward for a fixed mask (gradient
checks). As in torch, p has no effect with num_layers=1, and the constructor warns (UserWarning) about it.

The equations of one step are those of the cells in `rnn_utils.cells` (see their docstrings). The readable twin of
these layers is `rnn_utils.unrolled.Unrolled`: the same contract (params, state layout, forward/backward), written as
a plain loop over the cell's step; read it first. This module computes the same numbers for all steps with a faster
arrangement (tests/test_recurrent.py checks fast == Unrolled for every configuration):

* one matrix product for the input projection of all T steps of a direction, with the biases folded in as an
  extra column of ones, so the bias gradient comes out of the weight-gradient product for free;
* per step only the recurrent product h W_hh^T (with W_hh^T a stored contiguous copy: OpenBLAS multiplies a
  stored matrix ~1.6x faster than a transposed view) and in-place elementwise work;
  sigmoid(a) = 0.5 tanh(a/2) + 0.5, with the 1/2 folded into (copies of) the weights, so one tanh call
  serves all gates of a step;
* numpy's elementwise loops are 2-4x slower as soon as one operand is not contiguous, so every step works on
  contiguous blocks: the LSTM keeps its activations time-major and gate-blocked, (T, 4, B, H), the gates
  internally reordered to (o, i, f, g) so that the three sigmoid gates are one block (gradients are permuted
  back to torch's order); the GRU keeps them gate-major, (3, T, B, H);
* all caches in the layer dtype, in time order (the reverse direction walks reversed views);
* the weight gradients as one product over all steps after the backward loop (dW_hh = dA^T H_prev).

What remains above the bare matrix products (see benchmarks/bench_layers.py) is mostly np.tanh itself and the
fixed cost of a dozen small numpy calls per step, which run on one thread whatever BLAS does.

Decoding: `step(x, state)` is `forward(x[None], state)` for one time step without the sequence machinery: no
cache (it does not disturb `backward`), no prepared weights. It reads the parameters as stored, in the torch
gate order, at every call, so there is nothing that could go stale: an optimiser step, `p += 0.1`,
`load_state_dict` or a slice assignment between two steps is always seen (numpy arrays carry no version
counter, so a cache of prepared weights could only be validated by reading all of them, which costs as much
as using them). Its matrix products are done in column form, W @ x^T (see `_step_cell`).

Dtypes: the layer computes in its `dtype` (float32 or float64). X and states of any real dtype (other float
width or integers) are cast to it; outputs and gradients are in the layer dtype.

Call order: `backward` uses the cache of the most recent `forward` (RuntimeError if there was none). The cache
is not consumed: calling `backward` again (say with another dY) is allowed and recomputes from the same
forward pass. It uses the weights as they were during that forward pass (copies are kept), so an optimiser
step in between cannot make the gradients inconsistent with the cached activations.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from ._checks import (check_array, check_bool, check_choice, check_real, check_stack_args, describe_shape,
                      warn_unused_dropout)
from .module import Module, dropout_mask

__all__ = ["RNN", "LSTM", "GRU", "select_state"]


class _Recurrent(Module):
    """Shared machinery: parameters, argument checks, layer/direction bookkeeping. Subclasses provide the
    per-direction loops `_forward_direction` and `_backward_direction`."""

    gates = 1  # G: stacked gate blocks in weight_ih / weight_hh

    def __init__(self, input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, dtype=np.float64, rng: np.random.Generator) -> None:
        super().__init__()
        (self.input_size, self.hidden_size, self.num_layers, self.bidirectional, self.dtype,
         rng) = check_stack_args(input_size, hidden_size, num_layers, bidirectional, dtype, rng)
        self.dropout = check_real("dropout", dropout, 0.0, 1.0, high_open=True)
        warn_unused_dropout(type(self).__name__, self.dropout, self.num_layers)
        # masks between layers come from a child generator (spawned only when there is dropout: no draw from rng)
        self.dropout_rng = rng.spawn(1)[0] if self.dropout > 0 else None
        self.dropout_masks: List[np.ndarray] = []
        self.num_directions = 2 if self.bidirectional else 1
        H, G = self.hidden_size, self.gates
        bound = 1.0 / np.sqrt(H)
        for k in range(self.num_layers):
            d_in = self.input_size if k == 0 else self.num_directions * H
            for d in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh = self._names(k, d)
                # torch.nn's order and distribution: uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter
                self.params[w_ih] = rng.uniform(-bound, bound, (G * H, d_in)).astype(self.dtype)
                self.params[w_hh] = rng.uniform(-bound, bound, (G * H, H)).astype(self.dtype)
                self.params[b_ih] = rng.uniform(-bound, bound, (G * H,)).astype(self.dtype)
                self.params[b_hh] = rng.uniform(-bound, bound, (G * H,)).astype(self.dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._cache = None
        # parameter names per (layer, direction) in state-row order k*dirs + d (names only: never values)
        self._names_by_row = [self._names(k, d) for k in range(self.num_layers) for d in range(self.num_directions)]
        self._consts = None  # constants of the step path that depend only on H and dtype (never on values)

    # -------------------------------------------------------------------------------------------------------
    def _names(self, layer: int, direction: int) -> Tuple[str, str, str, str]:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        return "weight_ih" + sfx, "weight_hh" + sfx, "bias_ih" + sfx, "bias_hh" + sfx

    def __repr__(self) -> str:
        extra = self._extra_repr()
        drop = f", dropout={self.dropout:g}" if self.dropout > 0 else ""
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}{extra}{drop}, dtype={self.dtype.name})")

    def _dropping(self) -> bool:
        """True when forward/step apply dropout between layers: training mode, p > 0 and more than one layer."""
        return self.training and self.dropout > 0 and self.num_layers > 1

    def _mask(self, shape) -> np.ndarray:
        """A new inverted-dropout mask of `shape` in the layer dtype, drawn from `self.dropout_rng`."""
        if not isinstance(self.dropout_rng, np.random.Generator):
            raise ValueError(f"dropout_rng: expected a np.random.Generator for the dropout masks (set "
                             f"layer.dropout_rng = np.random.default_rng(seed)), got {type(self.dropout_rng).__name__}")
        return dropout_mask(shape, self.dropout, rng=self.dropout_rng, dtype=self.dtype)

    def _extra_repr(self) -> str:
        return ""

    @property
    def _state_labels(self):
        return ("num_layers*dirs", "B", "H")

    def _state_shape(self, B: int):
        return (self.num_layers * self.num_directions, B, self.hidden_size)

    def _check_state(self, name: str, value, B: int) -> np.ndarray:
        """One state array (num_layers*dirs, B, H) in the layer dtype; None -> zeros."""
        shape = self._state_shape(B)
        if value is None:
            return np.zeros(shape, dtype=self.dtype)
        return check_array(name, value, shape, self._state_labels).astype(self.dtype, copy=False)

    def _check_states(self, name: str, value, B: int) -> List[np.ndarray]:
        """[h] for RNN/GRU, [h, c] for the LSTM (tuple structure checked)."""
        if self.gates != 4:
            if isinstance(value, tuple):
                raise ValueError(f"{name}: expected one array of shape "
                                 f"{describe_shape(self._state_shape(B), self._state_labels)} (not a tuple: only "
                                 f"the LSTM has a (h, c) pair), got a {type(value).__name__} of {len(value)}")
            return [self._check_state(name, value, B)]
        if value is None:
            return [self._check_state(name, None, B), self._check_state(name, None, B)]
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list)) else (
                f"{type(value).__name__} of shape {np.shape(value)}")
            raise ValueError(f"{name}: expected a tuple (h, c) of two arrays of shape "
                             f"{describe_shape(self._state_shape(B), self._state_labels)}, got {got}")
        return [self._check_state(f"{name}[{j}]", v, B) for j, v in enumerate(value)]

    # -------------------------------------------------------------------------------------------------------
    def forward(self, X, state0=None):
        """Run the whole stack over the sequence.

        X (T, B, D=input_size), any real dtype (cast to the layer dtype); state0: None (zeros) or h0
        (num_layers*dirs, B, H), for the LSTM a tuple (h0, c0) of such arrays (either may be None).
        Returns Y (T, B, dirs*H) and state_n: h_n (num_layers*dirs, B, H), for the LSTM (h_n, c_n).
        """
        X = check_array("X", X, (None, None, self.input_size), ("T", "B", "D"))
        T, B, D = X.shape
        if T == 0 or B == 0:
            raise ValueError(f"X: expected at least one time step and one sequence, got shape {X.shape}")
        states0 = self._check_states("state0", state0, B)
        H, L, dirs = self.hidden_size, self.num_layers, self.num_directions
        dt = self.dtype

        # layer input with a trailing column of ones (the folded biases read it)
        inp = np.empty((T, B, D + 1), dtype=dt)
        inp[..., :D] = X
        inp[..., D] = 1
        layer_caches = []
        masks = []
        drop = self._dropping()
        states_n = [np.empty((L * dirs, B, H), dtype=dt) for _ in states0]
        for k in range(L):
            last = k == L - 1
            width = dirs * H if last else dirs * H + 1
            out = np.empty((T, B, width), dtype=dt)
            if not last:
                out[..., dirs * H] = 1
            dir_caches = []
            for d in range(dirs):
                idx = k * dirs + d
                names = self._names(k, d)
                W_ih, W_hh, b_ih, b_hh = (self.params[n] for n in names)
                cache, h_seq, finals = self._forward_direction(
                    inp.reshape(T * B, -1), W_ih, W_hh, b_ih, b_hh,
                    [s[idx] for s in states0], reverse=bool(d), T=T, B=B)
                out[..., d * H:(d + 1) * H] = h_seq
                for s_n, f in zip(states_n, finals):
                    s_n[idx] = f
                cache.setdefault("W_ih_in", W_ih.copy())
                dir_caches.append(cache)
            layer_caches.append({"inp": inp, "dirs": dir_caches})
            if drop and not last:                      # dropout between layers: layer k+1 reads out * mask
                mask = self._mask((T, B, dirs * H))
                out[..., :dirs * H] *= mask            # the ones column (folded biases) is never dropped
                masks.append(mask)
            inp = out
        self._cache = {"T": T, "B": B, "layers": layer_caches, "masks": masks}
        self.dropout_masks = masks
        state_n = tuple(states_n) if self.gates == 4 else states_n[0]
        return out, state_n

    def backward(self, dY, dstate_n=None):
        """Backpropagation through time for the most recent `forward`.

        dY (T, B, dirs*H) = dL/dY; dstate_n: None (zeros) or dL/dh_n (num_layers*dirs, B, H), for the LSTM a
        tuple (dh_n, dc_n) (either may be None). Fills `self.grads` (overwritten) and returns
        dX (T, B, D) and dstate0 (same structure as the state: dh0, or (dh0, dc0) for the LSTM).
        """
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run forward(X) first")
        T, B = self._cache["T"], self._cache["B"]
        H, L, dirs = self.hidden_size, self.num_layers, self.num_directions
        dY = check_array("dY", dY, (T, B, dirs * H), ("T", "B", "dirs*H")).astype(self.dtype, copy=False)
        dstates_n = self._check_states("dstate_n", dstate_n, B)
        dstates0 = [np.empty_like(s) for s in dstates_n]
        d_out = dY
        for k in reversed(range(L)):
            lc = self._cache["layers"][k]
            inp2 = lc["inp"].reshape(T * B, -1)          # (T*B, D_k + 1), last column ones
            d_in = inp2.shape[1] - 1
            d_inp = None
            for d in range(dirs):
                idx = k * dirs + d
                cache = lc["dirs"][d]
                dA_in, g_hh, finals = self._backward_direction(
                    cache, d_out[..., d * H:(d + 1) * H], [s[idx] for s in dstates_n], reverse=bool(d), T=T, B=B)
                for s0, f in zip(dstates0, finals):
                    s0[idx] = f
                dA2 = dA_in.reshape(T * B, -1)            # (T*B, G*H): gradient of the input projection
                w_ih, w_hh, b_ih, b_hh = self._names(k, d)
                g_aug = dA2.T @ inp2                      # (G*H, D_k + 1): [dW_ih | db_ih]
                rows = cache.get("perm", slice(None))     # internal gate order -> torch order
                self.grads[w_ih][rows] = g_aug[:, :d_in]  # in place: the grads arrays keep their identity
                self.grads[b_ih][rows] = g_aug[:, d_in]
                self.grads[w_hh][...] = g_hh["weight_hh"]
                self.grads[b_hh][...] = g_hh["bias_hh"] if "bias_hh" in g_hh else self.grads[b_ih]
                if d_inp is None:
                    d_inp = dA2 @ cache["W_ih_in"]
                else:
                    d_inp += dA2 @ cache["W_ih_in"]
            d_out = d_inp.reshape(T, B, d_in)
            if k > 0 and self._cache["masks"]:
                d_out *= self._cache["masks"][k - 1]     # through the dropout of layer k-1's outputs
        dX = d_out
        dstate0 = tuple(dstates0) if self.gates == 4 else dstates0[0]
        return dX, dstate0

    # -------------------------------------------------------------------------------------------------------
    def step(self, x, state=None):
        """One time step, for decoding (inference only: keeps no cache, so `backward` is not affected).

        x (B, D=input_size), any real dtype (cast to the layer dtype); state: as `state0` of `forward`.
        Returns (h, new_state): h (B, dirs*H) the last layer's output and new_state as `forward`'s state_n; the
        same numbers as `Y[0], state_n = forward(x[None], state)` (for a bidirectional layer that is a
        sequence of length 1: the reverse direction sees this one step).

        It reads the parameters as they are at the call, with no prepared copies (no reordering, scaling or
        bias folding), so an update in place (an optimiser step, `p += 0.1`, `load_state_dict`) is always seen.
        """
        x = self._check_step_input("x", x, (None, self.input_size), ("B", "D"))
        B = x.shape[0]
        if B == 0:
            raise ValueError(f"x: expected at least one sequence, got shape {x.shape}")
        if self.gates == 4:
            if isinstance(state, tuple) and len(state) == 2:   # fast path for the usual (h, c) pair
                states = [self._check_step_input(f"state[{j}]", v, self._state_shape(B), self._state_labels)
                          if v is not None else np.zeros(self._state_shape(B), self.dtype)
                          for j, v in enumerate(state)]
            else:
                states = self._check_states("state", state, B)
        elif isinstance(state, np.ndarray):
            states = [self._check_step_input("state", state, self._state_shape(B), self._state_labels)]
        else:
            states = self._check_states("state", state, B)
        return self._step(x, states)

    def _check_step_input(self, name, value, shape, labels):
        """check_array + cast to the layer dtype, with a short path for what a decoding loop passes every step
        (an ndarray of the layer dtype and the right shape, all finite): the same checks, without building the
        messages that only an error needs. Anything else goes through check_array, which names the problem."""
        if (type(value) is np.ndarray and value.dtype == self.dtype and value.ndim == len(shape)
                and all(n is None or n == m for n, m in zip(shape, value.shape)) and np.isfinite(value).all()):
            return value
        return check_array(name, value, shape, labels).astype(self.dtype, copy=False)

    def _step(self, x, states):
        """`step` after the checks: x (B, D) and states [h] / [h, c] in the layer dtype, shapes checked."""
        H, dirs, p = self.hidden_size, self.num_directions, self.params
        new = [np.empty_like(s) for s in states]
        drop = self._dropping()
        inp = x
        for k in range(self.num_layers):
            if drop and k > 0:                         # dropout between layers, as in forward (a new array)
                inp = inp * self._mask(inp.shape)
            out = np.empty((x.shape[0], dirs * H), dtype=self.dtype) if dirs == 2 else None
            for d in range(dirs):
                idx = k * dirs + d
                w_ih, w_hh, b_ih, b_hh = self._names_by_row[idx]
                self._step_cell(inp, p[w_ih], p[w_hh], p[b_ih], p[b_hh],
                                [s[idx] for s in states], [s[idx] for s in new])
                if out is not None:
                    out[:, d * H:(d + 1) * H] = new[0][idx]
            inp = new[0][idx] if out is None else out
        h = inp.copy() if out is None else inp          # not a view of the returned state
        return h, (tuple(new) if self.gates == 4 else new[0])

    # subclasses -------------------------------------------------------------------------------------------
    def _step_cell(self, x, W_ih, W_hh, b_ih, b_hh, state, new):
        """One step of one direction of one layer from the raw parameters (torch gate order): x (B, D_k),
        state [h] or [h, c] each (B, H); writes the new state into the (B, H) arrays of `new`.

        The matrix products are done in the lecture's column form, W_ih x and W_hh h with x, h as B columns:
        W @ x.T multiplies the weights as stored, which OpenBLAS does about 2x faster for small B than x @ W.T
        (a transposed operand), and needs no transposed copy of the weights (see also `_cols_product`). The
        elementwise work is done on gate-major rows (G, B, H) (`_gate_rows`), each gate a contiguous (B, H):
        on (G*H, B) columns the bias broadcasts would loop over B elements at a time."""
        raise NotImplementedError

    def _forward_direction(self, inp2, W_ih, W_hh, b_ih, b_hh, state0, reverse, T, B):
        """Run one direction of one layer. inp2 (T*B, D_k + 1) with a ones column; state0 [h0] or [h0, c0].
        Returns (cache, h_seq (T, B, H) in time order, [h_n] or [h_n, c_n])."""
        raise NotImplementedError

    def _backward_direction(self, cache, dH, dfinal, reverse, T, B):
        """Backward of one direction. dH (T, B, H) = dL/dh_t from above (time order), dfinal [dh_n] or
        [dh_n, dc_n]. Returns (dA_in (T, B, G*H) gradient of the input projection x W_ih^T + b_ih,
        {"weight_hh": ..., optionally "bias_hh": ... (default: equal to bias_ih's)}, [dh0] or [dh0, dc0])."""
        raise NotImplementedError


def _cols_product(W: np.ndarray, X_T: np.ndarray) -> np.ndarray:
    """W (M, K) @ X_T (K, B), the step path's products in column form (X_T a transposed view of x or h, copied
    to a contiguous (K, B) first: the copy is tiny and the product then runs faster).

    For 2 <= B <= 8 and a large W, OpenBLAS packs W before multiplying (an extra pass over a matrix that is read
    once); in row blocks of about 2^18 / (K B) rows each product stays under its small-matrix threshold, which
    multiplies without packing: 1.6-2.8x faster for (2048, 512) x (512, 2..8) (measured with the SkylakeX
    kernel, see benchmarks/bench_layers.py). Same numbers either way: each output row is the same dot product.
    """
    M, K = W.shape
    B = X_T.shape[1]
    if B > 1:
        X_T = np.ascontiguousarray(X_T)                # a stored (K, B) operand: ~1.7x faster than the view
    if not 1 < B <= 8 or K < 128 or M * K * B <= 1 << 19:
        return W @ X_T
    rows = max(64, ((1 << 18) // (K * B)) // 16 * 16)
    out = np.empty((M, B), dtype=np.result_type(W, X_T))
    for r in range(0, M, rows):
        np.matmul(W[r:r + rows], X_T, out=out[r:r + rows])
    return out


def _gate_rows(a: np.ndarray, bias: np.ndarray, G: int) -> np.ndarray:
    """Column-form pre-activations a (G*H, B) plus a bias (G*H,) -> gate-major rows (G, B, H), contiguous: the
    one strided read of the step's elementwise work, so that every gate after it is a contiguous (B, H)."""
    H, B = a.shape[0] // G, a.shape[1]
    out = np.empty((G, B, H), dtype=a.dtype)
    np.add(a.reshape(G, H, B).transpose(0, 2, 1), bias.reshape(G, 1, H), out=out)
    return out


def _time_views(buf: np.ndarray, reverse: bool) -> np.ndarray:
    """Processing-order view of a time-ordered buffer (reversed view for the reverse direction)."""
    return buf[::-1] if reverse else buf


def _state_views(hs: np.ndarray, reverse: bool):
    """For a state buffer hs (T+1, B, H) filled in processing order through `_time_views(hs)`, i.e. view[0] is the
    initial state and view[s+1] the state after processing step s: return (outputs h_t in time order, the state
    before each step in time order). Both are contiguous (T, B, H) slices."""
    if reverse:
        return hs[:-1], hs[1:]
    return hs[1:], hs[:-1]


# =============================================================================================================
class RNN(_Recurrent):
    """Stacked (optionally bidirectional) Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),
    act = tanh or relu. Same API, names and semantics as torch.nn.RNN(input_size, hidden_size, num_layers,
    nonlinearity, bidirectional=...); see the module docstring. params weight_ih_l{k} (H, D_k), weight_hh_l{k}
    (H, H), bias_ih_l{k} (H,), bias_hh_l{k} (H,) (+ _reverse). Single step: `rnn_utils.cells.rnn_cell_forward`.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, *, num_layers: int = 1, nonlinearity: str = "tanh",
                 bidirectional: bool = False, dropout: float = 0.0, dtype=np.float64,
                 rng: np.random.Generator) -> None:
        check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                         dropout=dropout, dtype=dtype, rng=rng)

    def _extra_repr(self) -> str:
        return f", nonlinearity={self.nonlinearity!r}"

    def _step_cell(self, x, W_ih, W_hh, b_ih, b_hh, state, new):
        a = _cols_product(W_ih, x.T)                   # (H, B), column form (see _Recurrent._step_cell)
        a += _cols_product(W_hh, state[0].T)
        h = new[0]                                     # (B, H): back to rows for the elementwise work
        np.add(a.T, b_ih, out=h)
        h += b_hh
        if self.nonlinearity == "relu":
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)

    def _forward_direction(self, inp2, W_ih, W_hh, b_ih, b_hh, state0, reverse, T, B):
        H = self.hidden_size
        W_aug = np.concatenate([W_ih, (b_ih + b_hh)[:, None]], axis=1)        # (H, D_k + 1)
        A = (inp2 @ W_aug.T).reshape(T, B, H)                                   # input projections, all steps
        hs = np.empty((T + 1, B, H), dtype=self.dtype)
        Av, hv = _time_views(A, reverse), _time_views(hs, reverse)
        hv[0] = state0[0]
        W_hh_T = W_hh.T
        relu = self.nonlinearity == "relu"
        for s in range(T):
            h = hv[s + 1]
            np.matmul(hv[s], W_hh_T, out=h)
            h += Av[s]
            if relu:
                np.maximum(h, 0, out=h)
            else:
                np.tanh(h, out=h)
        h_seq, _ = _state_views(hs, reverse)
        return {"hs": hs, "W_hh": W_hh.copy()}, h_seq, [hv[T]]

    def _backward_direction(self, cache, dH, dfinal, reverse, T, B):
        H = self.hidden_size
        hs, W_hh = cache["hs"], cache["W_hh"]
        dA = np.empty((T, B, H), dtype=self.dtype)
        dAv, hv, dHv = _time_views(dA, reverse), _time_views(hs, reverse), _time_views(dH, reverse)
        dh_rec = np.array(dfinal[0])                                            # dL/dh of the current step
        tmp = np.empty((B, H), dtype=self.dtype)
        mask = np.empty((B, H), dtype=bool)
        relu = self.nonlinearity == "relu"
        for s in range(T - 1, -1, -1):
            h, da = hv[s + 1], dAv[s]
            dh_rec += dHv[s]
            if relu:
                np.greater(h, 0, out=mask)
                np.multiply(dh_rec, mask, out=da)
            else:
                np.multiply(h, h, out=tmp)
                np.subtract(1, tmp, out=tmp)
                np.multiply(dh_rec, tmp, out=da)
            np.matmul(da, W_hh, out=dh_rec)
        _, h_prev = _state_views(hs, reverse)
        dW_hh = dA.reshape(T * B, H).T @ h_prev.reshape(T * B, H)
        return dA, {"weight_hh": dW_hh}, [dh_rec]


# =============================================================================================================
class LSTM(_Recurrent):
    """Stacked (optionally bidirectional) LSTM with gates i, f, g, o; same API, names and semantics as
    torch.nn.LSTM(input_size, hidden_size, num_layers, bidirectional=...) (see the module docstring). The state is
    the pair (h, c), each (num_layers*dirs, B, H). params weight_ih_l{k} (4H, D_k), weight_hh_l{k} (4H, H),
    bias_ih_l{k} (4H,), bias_hh_l{k} (4H,) (+ _reverse). Single step: `rnn_utils.cells.lstm_cell_forward`.
    """

    gates = 4

    # Internal layout: gate blocks reordered to (o, i, f, g), so that the three sigmoid gates are one block.
    # numpy's elementwise loops are 2-4x slower as soon as one operand is not contiguous (a strided view goes
    # through the buffered iterator), so each step works on contiguous blocks: the activations are stored
    # time-major and gate-blocked, S[t] of shape (4, B, H), each gate a contiguous (B, H) and the sigmoid gates
    # one contiguous (3, B, H). Forward reads the gate-major input projection (the layout its matrix products
    # give) through one strided view per step; backward writes dA in S's layout and converts it by one copy
    # to the (T*B, 4H) rows the weight-gradient products read (cheaper than a strided write per step). The
    # weight copies and dA use this gate order; gradients are permuted back.
    def _perm(self):
        H = self.hidden_size
        return np.r_[3 * H:4 * H, 0:H, H:2 * H, 2 * H:3 * H]      # internal row j = torch row perm[j]

    def _step_cell(self, x, W_ih, W_hh, b_ih, b_hh, state, new):
        scale, shift = self._step_consts()
        a = _cols_product(W_ih, x.T)                   # (4H, B), column form, torch order i, f, g, o
        a += _cols_product(W_hh, state[0].T)
        R = _gate_rows(a, b_ih, 4)                     # (4, B, H): [i, f, g, o]
        R += b_hh.reshape(4, 1, -1)
        R *= scale                                     # sigmoid(a) = 0.5 tanh(a/2) + 0.5: one tanh for all gates
        np.tanh(R, out=R)
        R *= scale
        R += shift
        i, f, g, o = R
        h, c = new
        np.multiply(f, state[1], out=c)                # f * c_prev
        np.multiply(i, g, out=h)
        c += h                                         # + i * g
        np.tanh(c, out=h)
        h *= o                                         # h = o * tanh(c)

    def _step_consts(self):
        """(scale, shift) of shape (4, 1, 1) over the gates in torch order: 0.5 / 0.5 for i, f, o and 1 / 0 for
        g. They depend only on the dtype, never on parameter values, so they are made once."""
        if self._consts is None:
            scale = np.array([0.5, 0.5, 1.0, 0.5], dtype=self.dtype).reshape(4, 1, 1)
            self._consts = (scale, 1 - scale)
        return self._consts

    def _forward_direction(self, inp2, W_ih, W_hh, b_ih, b_hh, state0, reverse, T, B):
        H, dt = self.hidden_size, self.dtype
        perm = self._perm()
        # sigmoid(a) = 0.5 tanh(a/2) + 0.5: pre-scale the o, i, f rows by 1/2, then one tanh for all four gates
        scale = np.full(4 * H, 0.5, dtype=dt)
        scale[3 * H:] = 1.0
        W_aug = np.concatenate([W_ih, (b_ih + b_hh)[:, None]], axis=1)[perm] * scale[:, None]   # (4H, D_k + 1)
        P = np.empty((4, T, B, H), dtype=dt)          # input projections of all steps, gate-major
        np.matmul(inp2, W_aug.reshape(4, H, -1).transpose(0, 2, 1), out=P.reshape(4, T * B, H))
        # per step: h W_k^T for the four gates into one contiguous (4, B, H) block; the W_k^T are contiguous
        # copies, which OpenBLAS multiplies by about 1.6x faster than transposed views (B=32, H=128)
        W_hh4_T = np.ascontiguousarray((W_hh[perm] * scale[:, None]).reshape(4, H, H).transpose(0, 2, 1))
        S = np.empty((T, 4, B, H), dtype=dt)          # activations, time-major: S[t] = [o, i, f, g] contiguous
        hs = np.empty((T + 1, B, H), dtype=dt)
        cs = np.empty((T + 1, B, H), dtype=dt)
        tc = np.empty((T, B, H), dtype=dt)            # tanh(c_t)
        Pv = P[:, ::-1] if reverse else P
        Sv, hv, cv, tcv = (_time_views(a, reverse) for a in (S, hs, cs, tc))
        hv[0], cv[0] = state0
        ig = np.empty((B, H), dtype=dt)
        for s in range(T):
            a = Sv[s]                                   # (4, B, H): [o, i, f, g]
            np.matmul(hv[s], W_hh4_T, out=a)
            a += Pv[:, s]                               # the step's one strided operand (a copy costs more)
            np.tanh(a, out=a)
            sig = a[:3]
            sig *= 0.5
            sig += 0.5
            c = cv[s + 1]
            np.multiply(a[2], cv[s], out=c)             # f * c_prev
            np.multiply(a[1], a[3], out=ig)
            c += ig                                     # + i * g
            np.tanh(c, out=tcv[s])
            np.multiply(a[0], tcv[s], out=hv[s + 1])    # h = o * tanh(c)
        h_seq, _ = _state_views(hs, reverse)
        cache = {"S": S, "hs": hs, "cs": cs, "tc": tc, "W_hh": W_hh[perm], "W_ih_in": W_ih[perm], "perm": perm}
        return cache, h_seq, [hv[T], cv[T]]

    def _backward_direction(self, cache, dH, dfinal, reverse, T, B):
        H, dt = self.hidden_size, self.dtype
        S, hs, tc = cache["S"], cache["hs"], cache["tc"]
        W_hh4 = cache["W_hh"].reshape(4, H, H)        # W_k (H, H) per gate, internal order, as stored
        dA4 = np.empty((T, 4, B, H), dtype=dt)       # dL/d(pre-activations), time-major and gate-blocked like S
        Sv, cv, tcv, dAv, dHv = (_time_views(a, reverse) for a in (S, cache["cs"], tc, dA4, dH))
        dh = np.array(dfinal[0])                      # dL/dh_t (recurrent part, then + dH)
        dc = np.array(dfinal[1])                      # dL/dc_t
        U = np.empty((4, B, H), dtype=dt)             # dL/d[o, i, f, g]
        Dv = np.empty((4, B, H), dtype=dt)            # activation derivatives
        tmp = np.empty((4, B, H), dtype=dt)
        v = np.empty((B, H), dtype=dt)
        for s in range(T - 1, -1, -1):
            a, t = Sv[s], tcv[s]
            o, i, f, g = a
            dh += dHv[s]
            np.multiply(dh, t, out=U[0])                # dL/do = dh * tanh(c)
            np.multiply(U[0], t, out=v)
            np.subtract(dh, v, out=v)
            v *= o
            dc += v                                     # dc += dh * o * (1 - tanh(c)^2)
            np.multiply(dc, g, out=U[1])                # dL/di = dc * g
            np.multiply(dc, cv[s], out=U[2])            # dL/df = dc * c_prev
            np.multiply(dc, i, out=U[3])                # dL/dg = dc * i
            np.multiply(a, a, out=Dv)
            np.subtract(a[:3], Dv[:3], out=Dv[:3])      # sigmoid' = s - s^2
            np.subtract(1, Dv[3], out=Dv[3])            # tanh' = 1 - g^2
            da = dAv[s]
            np.multiply(U, Dv, out=da)
            dc *= f                                     # dL/dc_{t-1} = dc * f
            np.matmul(da, W_hh4, out=tmp)               # dL/dh_{t-1} (recurrent part) = sum_k da_k W_k
            np.add.reduce(tmp, axis=0, out=dh)          # (four (B,H)x(H,H) products beat one (B,4H)x(4H,H))
        # one copy into the (T, B, 4H) rows the weight-gradient products read (cheaper than strided writes per step)
        dA = np.empty((T, B, 4 * H), dtype=dt)
        np.copyto(dA.reshape(T, B, 4, H), dA4.transpose(0, 2, 1, 3))
        _, h_prev = _state_views(hs, reverse)
        dW_hh = np.empty((4 * H, H), dtype=dt)
        dW_hh[cache["perm"]] = dA.reshape(T * B, 4 * H).T @ h_prev.reshape(T * B, H)
        return dA, {"weight_hh": dW_hh}, [dh, dc]


# =============================================================================================================
class GRU(_Recurrent):
    """Stacked (optionally bidirectional) GRU with gates r, z, n; same API, names and semantics as
    torch.nn.GRU(input_size, hidden_size, num_layers, bidirectional=...) (see the module docstring).

    reset_after=True (default, PyTorch/cuDNN/Keras): n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
    reset_after=False (Cho et al. 2014, the lecture notes): n = tanh(W_in x + b_in + W_hn (r * h) + b_hn), same
    parameter shapes (not available in torch.nn). h' = (1 - z) * n + z * h in both. params weight_ih_l{k}
    (3H, D_k), weight_hh_l{k} (3H, H), bias_ih_l{k} (3H,), bias_hh_l{k} (3H,) (+ _reverse).
    Single step: `rnn_utils.cells.gru_cell_forward`.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
                 reset_after: bool = True, dropout: float = 0.0, dtype=np.float64,
                 rng: np.random.Generator) -> None:
        self.reset_after = check_bool("reset_after", reset_after)
        super().__init__(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                         dropout=dropout, dtype=dtype, rng=rng)

    def _extra_repr(self) -> str:
        return f", reset_after={self.reset_after}"

    def _step_cell(self, x, W_ih, W_hh, b_ih, b_hh, state, new):
        H = self.hidden_size
        h_prev, h = state[0], new[0]                   # (B, H)
        A = _gate_rows(_cols_product(W_ih, x.T), b_ih, 3)   # (3, B, H): [r, z, n] input parts
        rz, n = A[:2], A[2]
        if self.reset_after:
            Gh = _gate_rows(_cols_product(W_hh, h_prev.T), b_hh, 3)
            rz += Gh[:2]
            gn = Gh[2]                                 # W_hn h + b_hn
        else:
            A += b_hh.reshape(3, 1, H)                 # b_hn sits outside the reset gate
            rz += _cols_product(W_hh[:2 * H], h_prev.T).reshape(2, H, -1).transpose(0, 2, 1)
        rz *= 0.5                                      # sigmoid(a) = 0.5 tanh(a/2) + 0.5
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        r, z = rz
        if self.reset_after:
            gn *= r
            n += gn
        else:
            n += _cols_product(W_hh[2 * H:], (r * h_prev).T).T
        np.tanh(n, out=n)
        np.subtract(h_prev, n, out=h)                  # h = n + z * (h_prev - n)
        h *= z
        h += n

    # Internal layout as for the LSTM: activations stored gate-major, S[gate, t] of shape (B, H), gates (r, z, n).
    def _forward_direction(self, inp2, W_ih, W_hh, b_ih, b_hh, state0, reverse, T, B):
        H, dt = self.hidden_size, self.dtype
        scale = np.full(3 * H, 0.5, dtype=dt)          # r, z rows pre-scaled by 1/2 (sigmoid via tanh)
        scale[2 * H:] = 1.0
        bias = b_ih.copy()
        bias[:2 * H] += b_hh[:2 * H]
        if not self.reset_after:
            bias[2 * H:] += b_hh[2 * H:]                 # b_hn sits outside the reset gate: fold it in too
        W_aug = np.concatenate([W_ih, bias[:, None]], axis=1) * scale[:, None]
        S = np.empty((3, T, B, H), dtype=dt)           # pre-activations, then (in place) [r, z, n]
        np.matmul(inp2, W_aug.reshape(3, H, -1).transpose(0, 2, 1), out=S.reshape(3, T * B, H))
        hs = np.empty((T + 1, B, H), dtype=dt)
        Sv = S[:, ::-1] if reverse else S
        hv = _time_views(hs, reverse)
        hv[0] = state0[0]
        tmp_h = np.empty((B, H), dtype=dt)
        cache = {"S": S, "hs": hs, "W_hh": W_hh.copy()}
        if self.reset_after:
            W_hh3_T = np.ascontiguousarray((W_hh * scale[:, None]).reshape(3, H, H).transpose(0, 2, 1))  # stored
            b_hn = b_hh[2 * H:]
            HN = np.empty((T, B, H), dtype=dt)          # W_hn h_{t-1} + b_hn
            HNv = _time_views(HN, reverse)
            tmp = np.empty((3, B, H), dtype=dt)
            for s in range(T):
                a, hn = Sv[:, s], HNv[s]
                rz, n = a[:2], a[2]
                np.matmul(hv[s], W_hh3_T, out=tmp)
                rz += tmp[:2]
                np.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                np.add(tmp[2], b_hn, out=hn)
                np.multiply(a[0], hn, out=tmp_h)
                n += tmp_h
                np.tanh(n, out=n)
                np.subtract(hv[s], n, out=tmp_h)         # h = n + z * (h_prev - n)
                tmp_h *= a[1]
                np.add(n, tmp_h, out=hv[s + 1])
            cache["HN"] = HN
        else:
            W_hrz2_T = np.ascontiguousarray((W_hh[:2 * H] * 0.5).reshape(2, H, H).transpose(0, 2, 1))
            W_hn_T = np.ascontiguousarray(W_hh[2 * H:].T)
            RH = np.empty((T, B, H), dtype=dt)          # r * h_{t-1}
            RHv = _time_views(RH, reverse)
            tmp = np.empty((2, B, H), dtype=dt)
            for s in range(T):
                a, rh = Sv[:, s], RHv[s]
                rz, n = a[:2], a[2]
                np.matmul(hv[s], W_hrz2_T, out=tmp)
                rz += tmp
                np.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                np.multiply(a[0], hv[s], out=rh)
                np.matmul(rh, W_hn_T, out=tmp_h)
                n += tmp_h
                np.tanh(n, out=n)
                np.subtract(hv[s], n, out=tmp_h)
                tmp_h *= a[1]
                np.add(n, tmp_h, out=hv[s + 1])
            cache["RH"] = RH
        h_seq, _ = _state_views(hs, reverse)
        return cache, h_seq, [hv[T]]

    def _backward_direction(self, cache, dH, dfinal, reverse, T, B):
        H, dt = self.hidden_size, self.dtype
        S, hs, W_hh = cache["S"], cache["hs"], cache["W_hh"]
        dA = np.empty((T, B, 3 * H), dtype=dt)          # input side: [da_r, da_z, da_n]
        Sv = S[:, ::-1] if reverse else S
        hv, dAv, dHv = (_time_views(a, reverse) for a in (hs, dA, dH))
        dh = np.array(dfinal[0])
        E = np.empty((3, B, H), dtype=dt)               # this step's [da_r, da_z, da_n], gate-major
        U = np.empty((2, B, H), dtype=dt)               # dL/dr, dL/dz
        Dv = np.empty((2, B, H), dtype=dt)
        w = np.empty((B, H), dtype=dt)
        v = np.empty((B, H), dtype=dt)
        tmp = np.empty((B, H), dtype=dt)
        if self.reset_after:
            HNv = _time_views(cache["HN"], reverse)
            dAh = np.empty((T, B, 3 * H), dtype=dt)     # hidden side: [da_r, da_z, da_n * r]
            dAhv = _time_views(dAh, reverse)
        else:
            W_hrz, W_hn = W_hh[:2 * H], W_hh[2 * H:]
            d_rh = np.empty((B, H), dtype=dt)
        for s in range(T - 1, -1, -1):
            a = Sv[:, s]
            r, z, n = a
            h_prev = hv[s]
            dh += dHv[s]
            np.subtract(h_prev, n, out=U[1])
            U[1] *= dh                                    # dL/dz = dh * (h_prev - n)
            np.multiply(dh, z, out=w)                     # direct path to h_prev
            np.subtract(dh, w, out=v)                     # dL/dn = dh * (1 - z)
            np.multiply(v, n, out=tmp)
            tmp *= n
            np.subtract(v, tmp, out=E[2])                 # da_n = dn * (1 - n^2)
            if self.reset_after:
                np.multiply(E[2], HNv[s], out=U[0])       # dL/dr = da_n * (W_hn h_prev + b_hn)
            else:
                np.matmul(E[2], W_hn, out=d_rh)           # dL/d(r * h_prev)
                np.multiply(d_rh, h_prev, out=U[0])       # dL/dr
            np.subtract(1, a[:2], out=Dv)
            Dv *= a[:2]                                   # sigmoid' = s (1 - s)
            np.multiply(U, Dv, out=E[:2])                 # [da_r, da_z]
            da = dAv[s]
            np.copyto(da.reshape(B, 3, H).transpose(1, 0, 2), E)
            if self.reset_after:
                E[2] *= r                                 # gradient of W_hn h_prev + b_hn
                dah = dAhv[s]
                np.copyto(dah.reshape(B, 3, H).transpose(1, 0, 2), E)
                np.matmul(dah, W_hh, out=dh)
                dh += w
            else:
                np.matmul(da[:, :2 * H], W_hrz, out=dh)
                dh += w
                np.multiply(d_rh, r, out=tmp)
                dh += tmp
        _, h_prev = _state_views(hs, reverse)
        hp2 = h_prev.reshape(T * B, H)
        if self.reset_after:
            dAh2 = dAh.reshape(T * B, 3 * H)
            g = {"weight_hh": dAh2.T @ hp2, "bias_hh": dAh2.sum(axis=0)}
        else:
            dA2 = dA.reshape(T * B, 3 * H)
            dW_hh = np.empty((3 * H, H), dtype=dt)
            np.matmul(dA2[:, :2 * H].T, hp2, out=dW_hh[:2 * H])
            np.matmul(dA2[:, 2 * H:].T, cache["RH"].reshape(T * B, H), out=dW_hh[2 * H:])
            g = {"weight_hh": dW_hh}
        return dA, g, [dh]


# =============================================================================================================
def select_state(state, index):
    """Rows `index` of the batch of a recurrent state: None, an array with the batch on axis -2 ((B, H) or
    (num_layers*dirs, B, H)), or a tuple/list of those (the LSTM's (h, c)). Returns a new state of batch size N.

    index: (N,) integer array of batch rows in [0, B) (repeats allowed), e.g. the beams that survive a step of
    beam search, or zeros(N) to copy a batch-1 state N times.
    """
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(select_state(s, index) for s in state)
    arr = check_array("state", state, (None,) * max(np.ndim(state), 2), finite=False)
    if arr.ndim < 2:
        raise ValueError(
            f"state: expected arrays with the batch on axis -2, e.g. (B, H) or (num_layers, B, H), got shape "
            f"{arr.shape}; give the model a select_state(state, index) method for other layouts"
        )
    B = arr.shape[-2]
    idx = check_array("index", index, (None,), ("N",), kind="int")
    if idx.size and (idx.min() < 0 or idx.max() >= B):
        bad = idx[(idx < 0) | (idx >= B)]
        raise ValueError(f"index: expected batch rows in [0, B={B}), got {bad.size} outside (e.g. {int(bad[0])})")
    return arr[..., idx, :]
