"""`Module`: the thin base every layer in `rnn_utils` shares.

A module owns two dicts with the same keys:
    params  name -> ndarray, the trainable arrays (updated in place by the optimisers in `rnn_utils.optim`)
    grads   name -> ndarray, preallocated and overwritten in place by every `backward` (never accumulated:
            copy an entry if you want to keep it past the next backward)
and offers `state_dict()` (copies) and `load_state_dict(d)` (validated keys, shapes and values; cast to the
module's dtype). Nothing else is hidden here.
"""
from __future__ import annotations

from typing import Dict, Mapping

import numpy as np

__all__ = ["Module"]


class Module:
    """Base class: subclasses fill `self.params` in `__init__` and `self.grads` in `backward`."""

    params: Dict[str, np.ndarray]
    grads: Dict[str, np.ndarray]

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}

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
