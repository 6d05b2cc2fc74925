"""Shared by the benchmark scripts: which BLAS kernel runs, and timing in blocks that never interleave calls.

Import after the script has fixed its BLAS thread count (this module imports numpy).
"""
from __future__ import annotations

import glob
import os
import time

import numpy as np


def blas_info() -> str:
    """The BLAS library, version, kernel (core type) and thread count numpy is using right now."""
    try:
        from threadpoolctl import threadpool_info

        rows = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return "; ".join(f"{i.get('internal_api')} {i.get('version')}, kernel {i.get('architecture')}, "
                         f"{i.get('num_threads')} thread(s) [threadpoolctl]" for i in rows)
    except ImportError:
        pass
    try:  # numpy's wheels bundle scipy-openblas; ask it directly (what threadpoolctl does)
        import ctypes

        libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
        lib = ctypes.CDLL(sorted(glob.glob(os.path.join(libdir, "libscipy_openblas*.so*")))[0])
        for sfx in ("64_", ""):
            get_core = getattr(lib, f"scipy_openblas_get_corename{sfx}", None)
            if get_core is not None:
                break
        get_cfg = getattr(lib, f"scipy_openblas_get_config{sfx}")
        get_thr = getattr(lib, f"scipy_openblas_get_num_threads{sfx}")
        get_core.restype = get_cfg.restype = ctypes.c_char_p
        return (f"{get_cfg().decode().strip()}, kernel {get_core().decode()}, {get_thr()} thread(s) "
                f"[numpy's bundled OpenBLAS via ctypes]")
    except (IndexError, OSError, AttributeError):
        pass
    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
    return f"{blas.get('name', '?')} {blas.get('version', '?')} [numpy.show_config; runtime kernel unknown]"


def timed_blocks(runs, reps, rounds=3, per_call=True):
    """runs: {name: callable or None}. Each side in its own blocks (one untimed call, then `reps` timed calls),
    sides taking turns block by block for `rounds` rounds. Returns {name: (best_s, median_s)} per call, over
    single calls (per_call=True) or over the block means (per_call=False, for calls of a few microseconds)."""
    live = {k: v for k, v in runs.items() if v is not None}
    times = {k: [] for k in live}
    for _ in range(rounds):
        for k, fn in live.items():
            fn()
            if per_call:
                for _ in range(reps):
                    t0 = time.perf_counter()
                    fn()
                    times[k].append(time.perf_counter() - t0)
            else:
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                times[k].append((time.perf_counter() - t0) / reps)
    return {k: (min(v), float(np.median(v))) for k, v in times.items()}

