"""Argument checks used at every public API boundary of `rnn_utils`: the one home for validation.

Each check raises a `ValueError` that names the argument, what was expected and what was received, *before* any
numpy operation could fail (or silently broadcast) deeper inside. Every check takes the argument's name as the
caller spells it, so a function that hands its argument on to another one checks it first under its own name
(`train(clip=0)` says "clip", not the "max_norm" of the clipping function it calls).

    as_array(name, x)                     np.asarray that turns None, ragged lists, generators, dicts into ValueError
    check_array(name, x, shape, labels)   rank, sizes, dtype kind, finiteness
    check_token_ids(name, ids, V)         integer ids in [0, V)
    check_positive_int / check_count      integers >= 1 / >= 0 (bools rejected)
    check_real(name, x, low, high, ...)   a real number in an interval (open or closed ends)
    check_bool, check_choice              flags and enumerations
    check_rng(name, rng)                  a np.random.Generator (required: no hidden global randomness)
    check_float_dtype(name, dtype)        float32 or float64, whatever the caller passed
    check_numeric_dtype(name, dtype)      any real numeric dtype
    renamed(callee, caller)               re-raise a callee's ValueError under the caller's argument name
    check_recurrent_layer(name, layer)    an RNN, LSTM, GRU or Unrolled (what a head on top of a layer reads)
    check_training_args(...)             steps, batch_size, lr, clip, rng of a training loop
    warn_unused_dropout(owner, p, L)      torch's UserWarning for dropout > 0 with num_layers == 1

Internal helpers; not part of the public API.
"""
from __future__ import annotations

import math
import os as _os
import sys as _sys
import warnings as _warnings
from typing import Iterator, Optional, Sequence

import numpy as np

Dim = Optional[int]

__all__ = [
    "describe_shape", "as_array", "check_array", "check_token_ids", "check_positive_int", "check_count",
    "check_real", "check_bool", "check_choice", "check_rng", "check_float_dtype", "check_numeric_dtype",
    "check_stack_args", "renamed", "check_recurrent_layer", "check_training_args", "warn_unused_dropout",
]


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


def as_array(name: str, x, *, empty_dtype=np.int64) -> np.ndarray:
    """np.asarray(x), but a clear ValueError for what numpy would turn into an object array or a 0-d surprise.

    None, generators/iterators, sets, dicts and strings are rejected; so are ragged nested lists (which numpy
    either refuses with an obscure message or stores as dtype=object). An empty list becomes an empty array of
    `empty_dtype` (integers by default: an empty list of token ids is not a list of floats).
    """
    if x is None:
        raise ValueError(f"{name}: expected an array, got None")
    if isinstance(x, (str, bytes, dict, set, frozenset)) or isinstance(x, Iterator):
        raise ValueError(f"{name}: expected an array or a (nested) list of numbers, got {type(x).__name__}")
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{name}: expected a rectangular array of numbers, got a ragged or mixed "
                             f"{type(x).__name__} ({err})") from None
    if arr.dtype == object:
        raise ValueError(f"{name}: expected a rectangular array of numbers, got a ragged or mixed "
                         f"{type(x).__name__} (numpy made it dtype=object)")
    if arr.size == 0 and not isinstance(x, np.ndarray):
        arr = arr.astype(empty_dtype)
    return arr


def check_array(
    name: str,
    x,
    shape: Sequence[Dim],
    labels: Optional[Sequence[str]] = None,
    *,
    finite: bool = True,
    kind: str = "float",
    allow_neg_inf: bool = False,
) -> np.ndarray:
    """Return `x` as an ndarray after checking its rank, sizes, dtype kind and (optionally) finiteness.

    shape:  expected shape; `None` entries accept any size. labels: names for the axes, used in messages.
    kind:   "float" (real floating point, or integers that will be cast by the caller), "int" (integer
            indices), or "any".
    allow_neg_inf: with finite=True, accept -inf (a banned token's logit) but still reject NaN and +inf.
    """
    arr = as_array(name, x, empty_dtype=np.int64 if kind == "int" else np.float64)
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
        if finite and arr.dtype.kind == "f":
            ok = np.isfinite(arr)
            if allow_neg_inf:
                ok |= np.isneginf(arr)
            if not ok.all():
                bad = int(ok.size - ok.sum())
                what = "NaN or +inf" if allow_neg_inf else "NaN or inf"
                raise ValueError(f"{name}: contains {bad} {what} value(s) (shape {arr.shape})")
    elif kind == "int":
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{name}: expected an integer index array of shape {expected}, got dtype {arr.dtype}")
    elif kind != "any":
        raise ValueError(f"check_array: unknown kind {kind!r}")
    return arr


def check_token_ids(name: str, ids, vocab_size: Optional[int], shape: Optional[Sequence[Dim]] = None,
                    labels: Optional[Sequence[str]] = None, *, where=None, size_name: str = "vocab_size"
                    ) -> np.ndarray:
    """Integer ids, every one in [0, vocab_size) (or >= 0 when vocab_size is None), as an int64 array.

    shape/labels: as for `check_array` (None: any shape). where: optional bool mask of the same shape; only
    the ids at True positions are range-checked (padded positions may hold anything, e.g. -1).
    size_name: what the upper bound is called in the message ("vocab_size", "num_classes", ...).
    """
    arr = as_array(name, ids)
    if shape is None:
        shape = (None,) * arr.ndim
    arr = check_array(name, arr, shape, labels, kind="int")
    vals = arr if where is None else arr[where]
    if vals.size:
        lo, hi = int(vals.min()), int(vals.max())
        top = math.inf if vocab_size is None else vocab_size
        if lo < 0 or hi >= top:
            bad = vals[(vals < 0) | (vals >= top)]
            interval = "[0, inf)" if vocab_size is None else f"[0, {size_name}={vocab_size})"
            raise ValueError(f"{name}: expected ids in {interval}, got {bad.size} outside "
                             f"(e.g. {int(bad.flat[0])})")
    return arr.astype(np.int64, copy=False)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive_int(name: str, value) -> int:
    """Return `value` as an int after checking it is a positive integer (bools rejected)."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_count(name: str, value) -> int:
    """Return `value` as an int after checking it is an integer >= 0 (bools rejected)."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
               high_open: bool = False) -> float:
    """Return `value` as a float after checking it is a finite real number in the interval.

    The interval's ends are closed unless `low_open` / `high_open`; an infinite end is always open.
    Bools, strings, None, NaN and inf are rejected, with the interval in the message.
    """
    lo = "(" if (low_open or low == -math.inf) else "["
    hi = ")" if (high_open or high == math.inf) else "]"
    interval = f"{lo}{low:g}, {high:g}{hi}"
    ok_type = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok_type:
        v = float(value)
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        if math.isfinite(v) and above and below:
            return v
    raise ValueError(f"{name}: expected a real number in {interval}, got {value!r}")


def check_bool(name: str, value) -> bool:
    """Return `value` as a bool after checking it is True or False (not 0/1, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value, choices) -> None:
    """Raise a ValueError unless `value` is one of `choices`."""
    if isinstance(value, (bool, np.bool_)) and not any(isinstance(c, (bool, np.bool_)) for c in choices):
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def check_rng(name: str, rng) -> np.random.Generator:
    """Return `rng` after checking it is a np.random.Generator. Required: the course never draws hidden
    randomness, so a missing generator is an error that says how to make one."""
    if rng is None:
        raise ValueError(f"{name}: a np.random.Generator is required (randomness is always passed in), "
                         f"e.g. {name}=np.random.default_rng(0)")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name}: expected a np.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    return rng


def check_float_dtype(name: str, dtype) -> np.dtype:
    """Return np.dtype(dtype), accepting only float32 and float64 (anything else, 'banana' included, is a
    ValueError naming the argument)."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected float32 or float64 (np.float32, np.float64 or their names), "
                         f"got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name}: expected float32 or float64, got {dt}")
    return dt


def check_numeric_dtype(name: str, dtype) -> np.dtype:
    """Return np.dtype(dtype) for any real numeric dtype (floats, ints, bool); anything else is a ValueError."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a numeric dtype such as np.float64, got {dtype!r}") from None
    if dt.kind not in "fiub":
        raise ValueError(f"{name}: expected a real numeric dtype, got {dt}")
    return dt


def check_stack_args(input_size, hidden_size, num_layers, bidirectional, dtype, rng):
    """The arguments every stacked recurrent layer takes (the fast layers and `Unrolled`), checked under their own
    names: returns (input_size, hidden_size, num_layers, bidirectional, dtype, rng)."""
    return (check_positive_int("input_size", input_size), check_positive_int("hidden_size", hidden_size),
            check_positive_int("num_layers", num_layers), check_bool("bidirectional", bidirectional),
            check_float_dtype("dtype", dtype), check_rng("rng", rng))


class renamed:
    """Context manager that re-raises a ValueError from a callee under the caller's argument name.

        with renamed("max_norm", "clip"):
            clip_by_global_norm(grads, clip)

    turns "max_norm: expected ..." into "clip: expected ...". Only a message that starts with the callee's name
    is rewritten; anything else passes through unchanged.
    """

    def __init__(self, *pairs: str):
        if len(pairs) % 2:
            raise ValueError("renamed: expected pairs of names (callee, caller)")
        self.pairs = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is ValueError:
            msg = str(exc)
            for inner, outer in self.pairs:
                if msg.startswith(inner + ":") or msg.startswith(inner + "["):
                    raise ValueError(outer + msg[len(inner):]) from None
        return False


def check_recurrent_layer(name: str, layer):
    """A recurrent layer (RNN, LSTM, GRU, Unrolled): anything with the attributes a head on top of it reads."""
    for attr in ("input_size", "hidden_size", "params", "grads", "forward", "backward"):
        if not hasattr(layer, attr):
            raise ValueError(f"{name}: expected a recurrent layer (RNN, LSTM, GRU, Unrolled) with .{attr}, "
                             f"got {type(layer).__name__}")
    return layer


def check_training_args(steps, batch_size, lr, clip, rng):
    """The arguments every fixed-budget training loop shares, checked in this order under these names:
    steps and batch_size (integers >= 1), lr (> 0), clip (> 0, or None for no clipping), rng (a Generator).
    Returns them checked, in the same order."""
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_real("lr", lr, 0.0, low_open=True)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, low_open=True)
    return steps, batch_size, lr, clip, check_rng("rng", rng)


# ---------------------------------------------------------------------- warnings

def warn_unused_dropout(owner: str, dropout: float, num_layers: int) -> None:
    """Warn (UserWarning, as torch does) when `dropout` > 0 cannot act: with num_layers == 1 there is no layer
    above the only one, and dropout is applied only between stacked layers. The warning points at the first
    caller outside rnn_utils. dropout == 0 or num_layers > 1: nothing happens."""
    if not (dropout > 0 and num_layers == 1):
        return
    package, frame, level = _os.path.dirname(_os.path.abspath(__file__)), _sys._getframe(0), 1   # rnn_utils/
    while frame is not None and _os.path.dirname(_os.path.abspath(frame.f_code.co_filename)) == package:
        frame, level = frame.f_back, level + 1
    _warnings.warn(f"{owner}: dropout={dropout:g} has no effect with num_layers=1: dropout is applied only between "
                   f"stacked layers (to the outputs of every layer but the last), and a single layer has none; "
                   f"use num_layers > 1 or dropout=0", UserWarning, stacklevel=level)
