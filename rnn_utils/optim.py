"""Optimisers that update a dict of parameter arrays in place, and gradient clipping.

    opt = Adam(layer.params, lr=1e-3)      # or a merged dict: {**{"emb." + k: v for k, v in emb.params.items()}, ...}
    for batch in batches:
        ...forward, backward...
        clip_by_global_norm(grads, 5.0)     # optional, in place
        opt.step(grads)                     # grads: dict with exactly the keys (and shapes) of the params dict

Every update rule is exactly that of torch.optim (default options, no weight decay):

    SGD       v <- mu v + g  (v starts at 0, so v_1 = g as in torch);  p <- p - lr v      (mu = 0: p <- p - lr g)
    Adagrad   s <- s + g^2  (s starts at 0);  p <- p - lr g / (sqrt(s) + eps)
    Adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  (t = step number, from 1)
              p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The arrays in the params dict are modified in place (never replaced), so a layer's `params` stays valid.
Internal state (momentum buffers, accumulators) is kept per name, in each parameter's dtype.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, Tuple

import numpy as np

from ._checks import check_real

__all__ = ["SGD", "Adagrad", "Adam", "clip_by_value", "clip_by_global_norm"]


def _check_float_arrays(name: str, arrays, what: str) -> Dict[str, np.ndarray]:
    """A non-empty mapping name -> writeable float32/float64 ndarray (finite), as a new dict of the same arrays."""
    if not isinstance(arrays, Mapping):
        raise ValueError(f"{name}: expected a dict of name -> ndarray, got {type(arrays).__name__}")
    if len(arrays) == 0:
        raise ValueError(f"{name}: expected at least one array, got an empty dict")
    out = {}
    for key, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
            got = f"dtype {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
            raise ValueError(f"{name}[{key!r}]: expected a float32 or float64 ndarray ({what}), got {got}")
        if not a.flags.writeable:
            raise ValueError(f"{name}[{key!r}]: the array is read-only, but it must be {what}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name}[{key!r}]: contains NaN or inf (shape {a.shape})")
        out[key] = a
    return out


class Optimizer:
    """Base class: keeps the params dict (same array objects) and checks each grads dict against it."""

    def __init__(self, params: Mapping[str, np.ndarray], lr: float):
        self.params = _check_float_arrays("params", params, "updated in place")
        self.lr = check_real("lr", lr, 0.0, low_open=True)
        self.state: Dict[str, Dict[str, np.ndarray]] = {k: {} for k in self.params}
        self.t = 0  # number of steps taken

    def _check_grads(self, grads) -> Dict[str, np.ndarray]:
        if not isinstance(grads, Mapping):
            raise ValueError(f"grads: expected a dict of name -> ndarray, got {type(grads).__name__}")
        missing = sorted(set(self.params) - set(grads))
        unexpected = sorted(set(grads) - set(self.params))
        if missing or unexpected:
            raise ValueError(f"grads: keys do not match params: missing {missing}, unexpected {unexpected}")
        out = {}
        for key, p in self.params.items():
            g = np.asarray(grads[key])
            if g.shape != p.shape:
                raise ValueError(f"grads[{key!r}]: expected shape {p.shape} (the parameter's), got {g.shape}")
            if g.dtype.kind not in "fiu":
                raise ValueError(f"grads[{key!r}]: expected a real numeric array, got dtype {g.dtype}")
            if not np.isfinite(g).all():
                raise ValueError(f"grads[{key!r}]: contains NaN or inf (shape {g.shape})")
            out[key] = g.astype(p.dtype, copy=False)
        return out

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of `params` in place from `grads` (same keys, same shapes; all checked first)."""
        grads = self._check_grads(grads)
        self.t += 1
        for key, p in self.params.items():
            self._update(p, grads[key], self.state[key])

    def _update(self, p: np.ndarray, g: np.ndarray, state: Dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum, as torch.optim.SGD.

    momentum mu = 0:  p <- p - lr g
    momentum mu > 0:  v <- mu v + g  (v_1 = g);  p <- p - lr v
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check_real("momentum", momentum, 0.0, 1.0, high_open=True)

    def _update(self, p, g, state):
        if self.momentum == 0.0:
            p -= self.lr * g
            return
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.copy()
        else:
            v = state["momentum_buffer"]
            v *= self.momentum
            v += g
        p -= self.lr * state["momentum_buffer"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011) as torch.optim.Adagrad with initial accumulator 0 and no lr decay.

    s <- s + g^2;  p <- p - lr g / (sqrt(s) + eps)
    """

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, eps: float = 1e-8):
        super().__init__(params, lr)
        self.eps = check_real("eps", eps, 0.0, low_open=True)   # eps = 0 divides 0 by 0 for an unused row

    def _update(self, p, g, state):
        if "sum" not in state:
            state["sum"] = np.zeros_like(p)
        s = state["sum"]
        s += g * g
        p -= self.lr * (g / (np.sqrt(s) + self.eps))


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, as torch.optim.Adam.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)      (t = 1, 2, ...)
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_real("betas[0]", betas[0], 0.0, 1.0, high_open=True),
                      check_real("betas[1]", betas[1], 0.0, 1.0, high_open=True))
        self.eps = check_real("eps", eps, 0.0, low_open=True)   # eps = 0 divides 0 by 0 for an unused row

    def _update(self, p, g, state):
        b1, b2 = self.betas
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p), np.zeros_like(p)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - b1) * (g - m)  # = b1 m + (1 - b1) g, written as torch's lerp
        v *= b2
        v += (1.0 - b2) * (g * g)
        step_size = self.lr / (1.0 - b1**self.t)
        denom = np.sqrt(v) / math.sqrt(1.0 - b2**self.t) + self.eps
        p -= step_size * (m / denom)


def _global_norm_parts(grads: Mapping[str, np.ndarray]) -> Tuple[float, float]:
    """(scale, root) with the global L2 norm = scale * root: scale = the largest |g|, root = sqrt(sum (g/scale)^2)
    in float64. Dividing by the largest entry first means the squares can neither overflow (huge finite
    gradients) nor underflow to 0 (tiny ones)."""
    scale = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads.values())
    if scale == 0.0:
        return 0.0, 0.0
    total = sum(float(np.sum(np.square(g / scale, dtype=np.float64))) for g in grads.values())
    return scale, math.sqrt(total)


def _global_norm(grads: Mapping[str, np.ndarray]) -> float:
    scale, root = _global_norm_parts(grads)
    return scale * root


def clip_by_value(grads: Dict[str, np.ndarray], clip_value: float) -> float:
    """Clip every gradient entry to [-clip_value, clip_value], in place (as torch.nn.utils.clip_grad_value_).

    Clipping entries independently can change the direction of the gradient; see `clip_by_global_norm`.
    Returns the global L2 norm of all gradients *before* clipping (Python float), as `clip_by_global_norm` does,
    so either can be used to monitor exploding gradients.
    """
    grads = _check_float_arrays("grads", grads, "clipped in place")
    c = check_real("clip_value", clip_value, 0.0, low_open=True)
    norm = _global_norm(grads)
    for g in grads.values():
        np.clip(g, -c, c, out=g)
    return norm


def clip_by_global_norm(grads: Dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale all gradients together, in place, so their global L2 norm is at most max_norm.

    norm = sqrt(sum over every entry of every array of g^2); if max_norm / (norm + 1e-6) < 1, every array is
    multiplied by that factor (exactly torch.nn.utils.clip_grad_norm_): the direction is unchanged and the new
    norm is max_norm (up to the 1e-6 guard). Returns the norm *before* clipping (Python float).
    """
    grads = _check_float_arrays("grads", grads, "clipped in place")
    max_norm = check_real("max_norm", max_norm, 0.0, low_open=True)
    scale, root = _global_norm_parts(grads)
    norm = scale * root                                  # may be inf only if the true norm exceeds 1.8e308
    if scale == 0.0:
        return 0.0
    coef = (max_norm / scale) / (root + 1e-6 / scale)    # = max_norm / (norm + 1e-6), without overflow
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return norm
