"""Argument checks used at every public API boundary of `rnn_utils`.

Each check raises a `ValueError` that names the argument, what was expected and what was received, *before* any
numpy operation could fail (or silently broadcast) deeper inside. Internal helpers; not part of the public API.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

Dim = Optional[int]


def describe_shape(shape: Sequence[Dim], labels: Optional[Sequence[str]] = None) -> str:
    """Human-readable expected shape, e.g. ``(T, B, D=5)`` for ``shape=(None, None, 5)``, ``labels="TBD"``."""
    parts = []
    for i, size in enumerate(shape):
        label = labels[i] if labels is not None else None
        if size is None:
            parts.append(label or "*")
        elif label:
            parts.append(f"{label}={size}")
        else:
            parts.append(str(size))
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def check_array(
    name: str,
    x,
    shape: Sequence[Dim],
    labels: Optional[Sequence[str]] = None,
    *,
    finite: bool = True,
    kind: str = "float",
) -> np.ndarray:
    """Return `x` as an ndarray after checking its rank, sizes, dtype kind and (optionally) finiteness.

    shape:  expected shape; `None` entries accept any size. labels: names for the axes, used in messages.
    kind:   "float" (real floating point, or integers that will be cast by the caller), "int" (integer
            indices), or "any".
    """
    if x is None:
        raise ValueError(f"{name}: expected an array of shape {describe_shape(shape, labels)}, got None")
    arr = np.asarray(x)
    expected = describe_shape(shape, labels)
    if arr.ndim != len(shape):
        raise ValueError(
            f"{name}: expected a {len(shape)}-d array of shape {expected}, got {arr.ndim}-d shape {arr.shape}"
        )
    for axis, size in enumerate(shape):
        if size is not None and arr.shape[axis] != size:
            raise ValueError(f"{name}: expected shape {expected}, got {arr.shape}")
    if kind == "float":
        if arr.dtype.kind not in "fiub":
            raise ValueError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
        if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = int(np.size(arr) - np.isfinite(arr).sum())
            raise ValueError(f"{name}: contains {bad} NaN or inf value(s) (shape {arr.shape})")
    elif kind == "int":
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{name}: expected an integer index array of shape {expected}, got dtype {arr.dtype}")
    elif kind != "any":
        raise ValueError(f"check_array: unknown kind {kind!r}")
    return arr


def check_positive_int(name: str, value) -> int:
    """Return `value` as an int after checking it is a positive integer (bools rejected)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_choice(name: str, value, choices) -> None:
    """Raise a ValueError unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def check_float_dtype(name: str, dtype) -> np.dtype:
    """Return np.dtype(dtype), accepting only float32 and float64."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name}: expected float32 or float64, got {dt}")
    return dt
