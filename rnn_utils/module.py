"""`Module`: the thin base every layer in `rnn_utils` shares; `dropout_mask`, the inverted-dropout mask.

A module owns two dicts with the same keys:
    params  name -> ndarray, the trainable arrays (updated in place by the optimisers in `rnn_utils.optim`)
    grads   name -> ndarray, preallocated and overwritten in place by every `backward` (never accumulated:
            copy an entry if you want to keep it past the next backward)
and offers `state_dict()` (copies) and `load_state_dict(d)` (validated keys, shapes and values; cast to the
module's dtype).

Modes, as in torch: `training` is True for a new module; `eval()` switches it off and `train()` on again, for the
module and every module it holds as an attribute (a LanguageModel's embedding, recurrent layer and head). Only
dropout reads the mode (see the `dropout` argument of the recurrent layers); with no dropout both modes compute the
same numbers. Nothing else is hidden here.

    M = dropout_mask((T, B, H), 0.3, rng=rng)   # entries 0 (prob. p) or 1/(1-p) (prob. 1-p): E[M] = 1
    Y_dropped = Y * M                           # its backward: dY = dY_dropped * M (the same mask)
"""
from __future__ import annotations

from typing import Dict, Mapping

import numpy as np

from ._checks import check_float_dtype, check_real, check_rng

__all__ = ["Module", "dropout_mask"]


def dropout_mask(shape, p: float, *, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Inverted-dropout mask of the given shape: each entry independently 0 with probability p (the unit is
    dropped) and 1/(1-p) otherwise (the unit is kept and scaled up), so that E[x * mask] = x and nothing needs
    rescaling at evaluation time, when no mask is applied. p in [0, 1); dtype float32 or float64.

    Exactly one draw: rng.random(shape) (uniform on [0, 1)); an entry is kept where its draw is >= p. The same
    generator state gives the same mask, which is how the readable and the fast layers are checked to agree.
    """
    p = check_real("p", p, 0.0, 1.0, high_open=True)
    rng = check_rng("rng", rng)
    dtype = check_float_dtype("dtype", dtype)
    if not isinstance(shape, tuple) or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                               and n >= 0 for n in shape):
        raise ValueError(f"shape: expected a tuple of non-negative integers, got {shape!r}")
    keep = rng.random(shape) >= p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


class Module:
    """Base class: subclasses fill `self.params` in `__init__` and `self.grads` in `backward`."""

    params: Dict[str, np.ndarray]
    grads: Dict[str, np.ndarray]
    training: bool = True   # class default too, so a subclass that skips Module.__init__ still has a mode

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}
        self.training = True

    def train(self, mode: bool = True) -> "Module":
        """Training mode (mode=True) or evaluation mode (mode=False), for this module and every Module it holds
        as an attribute. Returns self, so `model.eval()` can be chained. Only dropout depends on the mode."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"mode: expected True or False, got {mode!r}")
        self.training = bool(mode)
        for value in vars(self).values():
            if isinstance(value, Module) and value is not self:
                value.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: `train(False)`. Dropout is off; the forward pass is deterministic. Returns self."""
        return self.train(False)

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.params.values()))

    def state_dict(self) -> Dict[str, np.ndarray]:
        """Copies of the parameters, keyed as in `params` (for layers: as in torch.nn's state_dict())."""
        return {name: p.copy() for name, p in self.params.items()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy `state` into the parameters in place, after checking every key, shape and value.

        Accepts anything array-like (numpy arrays, or torch tensors via `.detach().numpy()`), cast to the
        parameter dtype. Raises ValueError for missing or unexpected keys, a wrong shape, or NaN/inf.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"state: expected a mapping of name -> array, got {type(state).__name__}")
        missing = sorted(set(self.params) - set(state))
        unexpected = sorted(set(state) - set(self.params))
        if missing or unexpected:
            raise ValueError(
                f"state: keys do not match {type(self).__name__}.params: missing {missing}, unexpected {unexpected}"
            )
        arrays = {}
        for name, target in self.params.items():
            value = state[name]
            if hasattr(value, "detach"):  # a torch tensor, without importing torch
                value = value.detach().cpu().numpy()
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"state[{name!r}]: expected shape {target.shape}, got {value.shape}")
            if value.dtype.kind not in "fiu" or not np.isfinite(value).all():
                raise ValueError(f"state[{name!r}]: expected finite real numbers (dtype {value.dtype})")
            arrays[name] = value
        for name, value in arrays.items():  # all checked first: a failed load changes nothing
            self.params[name][...] = value
