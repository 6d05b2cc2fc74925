"""Numerical gradient checking by centred differences (float64 only).

    numeric = numerical_gradient(f, x)          # d f() / d x, f returns a scalar and reads x
    err = rel_error(analytic, numeric)          # CS231n-style: max_i |a_i - n_i| / max(floor, |a_i| + |n_i|)
    errors = gradcheck(f, params, grads)        # every array in params against grads, raises if any err >= tol

`f` is a function of no arguments that reads the arrays *in place*: the checker perturbs one element at a time,
re-evaluates `f`, and restores the element exactly. Two centred stencils are offered:

    stencil=2:  (f(x+h) - f(x-h)) / 2h                                   truncation error O(h^2)
    stencil=4:  (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h          truncation error O(h^4)

Default steps: h=1e-5 for stencil=2 and h=1e-3 for stencil=4 (h=None). The 4-point stencil (default) keeps
both truncation and rounding error near 1e-12 in float64,
so relative errors well below 1e-7 are meaningful even for small gradient entries.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional

import numpy as np

from ._checks import check_array, check_choice, check_real

__all__ = ["numerical_gradient", "numerical_gradient_array", "rel_error", "gradcheck"]

# stencil -> (pairs (k, w): w * (f(x + k h) - f(x - k h)), denominator in units of h). Differencing each
# symmetric pair first makes the estimate exactly 0 for an element f does not depend on.
_STENCILS = {
    2: (((1.0, 1.0),), 2.0),
    4: (((1.0, 8.0), (2.0, -1.0)), 12.0),
}
_DEFAULT_STEP = {2: 1e-5, 4: 1e-3}


def _check_step(h, stencil: int) -> float:
    """h: None (the stencil's default) or a finite step > 0; stencil: 2 or 4. Returns the step."""
    check_choice("stencil", stencil, (2, 4))
    if h is None:
        return _DEFAULT_STEP[stencil]
    return check_real("h", h, 0.0, low_open=True)


def _require_float64(name: str, x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{name}: gradient checks need a float64 ndarray (checked in place), got {got}")


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: Optional[float] = None, stencil: int = 4) -> np.ndarray:
    """Centred-difference gradient of the scalar `f()` with respect to the float64 array `x` (same shape as x).

    `x` is perturbed in place one element at a time and restored exactly afterwards.
    """
    _require_float64("x", x)
    h = _check_step(h, stencil)
    if not callable(f):
        raise ValueError(f"f: expected a function of no arguments returning a scalar, got {type(f).__name__}")
    pairs, denominator = _STENCILS[stencil]
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x: must be contiguous so it can be perturbed in place")
    for i in range(flat_x.size):
        old = flat_x[i]
        total = 0.0
        for k, w in pairs:
            flat_x[i] = old + k * h
            f_plus = float(f())
            flat_x[i] = old - k * h
            total += w * (f_plus - float(f()))
        flat_x[i] = old
        flat_g[i] = total / (denominator * h)
    return grad


def numerical_gradient_array(
    f: Callable[[], np.ndarray], x: np.ndarray, df: np.ndarray, h: Optional[float] = None, stencil: int = 4
) -> np.ndarray:
    """Gradient of the scalar sum(f() * df) with respect to x: the vector-Jacobian product a backward pass computes.

    df must have exactly the shape of f()'s output (checked on the first call: nothing broadcasts)."""
    first = np.asarray(f())
    df = check_array("df", df, first.shape, finite=True)

    def g():
        out = np.asarray(f())
        if out.shape != df.shape:
            raise ValueError(f"f: returned shape {out.shape}, but df has shape {df.shape}")
        return float(np.sum(out * df))
    return numerical_gradient(g, x, h=h, stencil=stencil)


def rel_error(analytic, numeric, floor: float = 1e-8) -> float:
    """CS231n-style relative error: max over elements of |a - n| / max(floor, |a| + |n|).

    Both arrays must have the same shape (no broadcasting). 0.0 for two empty arrays.
    """
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"numeric: expected shape {a.shape} (the analytic gradient's), got {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(floor, np.abs(a) + np.abs(n))))


def gradcheck(
    f: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    h: Optional[float] = None,
    stencil: int = 4,
    tol: Optional[float] = 1e-7,
) -> Dict[str, float]:
    """Compare analytic `grads[name]` with the numerical gradient of `f()` w.r.t. `params[name]`, for every name.

    Returns {name: relative error}. If `tol` is not None, raises AssertionError listing every name whose error is
    >= tol (the check failing is an AssertionError; bad arguments are ValueErrors). `grads` must hold the analytic
    gradients computed *before* calling (f is re-evaluated many times) and exactly the keys of `params`.
    """
    if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
        raise ValueError("params, grads: expected two dicts of name -> array with the same keys")
    missing = sorted(set(params) - set(grads))
    unexpected = sorted(set(grads) - set(params))
    if missing or unexpected:
        raise ValueError(f"grads: keys do not match params: missing {missing}, unexpected {unexpected}")
    if tol is not None:
        tol = check_real("tol", tol, 0.0, low_open=True)
    _check_step(h, stencil)
    errors = {}
    for name, x in params.items():
        _require_float64(f"params[{name!r}]", x)
        g = np.asarray(grads[name])
        if g.shape != x.shape:
            raise ValueError(f"grads[{name!r}]: expected shape {x.shape}, got {g.shape}")
        errors[name] = rel_error(g, numerical_gradient(f, x, h=h, stencil=stencil))
    if tol is not None:
        bad = {k: v for k, v in errors.items() if not v < tol}
        if bad:
            raise AssertionError(
                "gradient check failed (relative error >= %g): %s"
                % (tol, ", ".join(f"{k}={v:.2e}" for k, v in bad.items()))
            )
    return errors
