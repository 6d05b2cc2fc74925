"""Benchmark: time per step of rnn_utils.GRU with reset_after=True (PyTorch/cuDNN form) vs False (Cho et al.).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gru_forms.py [--reps R] [--threads N] [--runs K]

Why the two forms can differ in speed: with reset_after=True, r multiplies (h W_hn^T + b_hn) after the product,
so one product h_prev W_hh^T (B, 3H) per step serves all three gates; with reset_after=False the candidate's
product (r * h_prev) W_hn^T must wait for r, so each step does two dependent products, h_prev W_h{r,z}^T (B, 2H)
and then (r * h_prev) W_hn^T (B, H). The backward pass has the same structure in reverse.

For each (T, B, D, H) in T = 64, B = 32, D = 32, H in {32, 128, 256} (float32; 1 BLAS thread by default), two
measurements per form: forward only, and forward + backward, each divided by T (time per step).
Timing: each form is timed in its own block (one untimed call, then R timed calls), never call-interleaved with
the other form; the two forms take turns block by block for 3 rounds; best and median over single calls. The BLAS
library and kernel in use are printed first (benchmarks/_bench.py: threadpoolctl if installed, else numpy's bundled
OpenBLAS via ctypes, else numpy.show_config()).
Prints figures only.

Output format (notebook 06 parses it, keep it stable): a comment header (lines starting with "# ": command, CPUs,
load average at the start), then for each of the K runs (--runs, default 1) a line "=== run k", a line
"  YYYY-MM-DD HH:MM UTC", a line "  # load average a, b, c", the "BLAS: ..." line (with "kernel X," and
"N thread(s)"), a description line, the column header and six table rows
"H pass best / median best / median ratiox", the ratio being Cho / reset after of the fastest call. A final
comment line gives the load average at the end. benchmarks/results_gru_forms.txt was made, from the repository's
root, by exactly this command (`make bench` makes a single run, printed to the terminal):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_gru_forms.py --runs 4 > benchmarks/results_gru_forms.txt
"""
from __future__ import annotations

import argparse
import os
import sys


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--reps", type=int, default=10, help="timed calls per block (default 10)")
    p.add_argument("--runs", type=int, default=1, help="independent runs, one after the other (default 1)")
    return p.parse_args()


ARGS = _parse()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _bench import blas_info, timed_blocks  # noqa: E402  (this script's folder is on sys.path)
from rnn_utils.recurrent import GRU  # noqa: E402


def _load() -> str:
    try:
        return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return "load average unknown"


def main():
    print(f"# Output of benchmarks/bench_gru_forms.py --threads {ARGS.threads} --reps {ARGS.reps} --runs {ARGS.runs}")
    print(f"# Machine: {os.cpu_count()} logical CPUs; {_load()} at the start")
    for k in range(1, ARGS.runs + 1):
        print(f"=== run {k}")
        print("  " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        print(f"  # {_load()}")
        one_run()
    print(f"# {_load()} at the end")


def one_run():
    print("BLAS:", blas_info())
    print(f"float32, {ARGS.threads} thread(s), {ARGS.reps} timed calls per block, 3 rounds; microseconds per step "
          f"(best / median)")
    T, B, D = 64, 32, 32
    print(f"{'H':>5s} {'pass':>10s} {'reset_after=True':>22s} {'reset_after=False':>22s} {'False/True':>11s}")
    for H in (32, 128, 256):
        rng = np.random.default_rng(0)
        X = rng.standard_normal((T, B, D)).astype(np.float32)
        layers = {ra: GRU(D, H, reset_after=ra, dtype=np.float32, rng=np.random.default_rng(1)) for ra in (True, False)}
        dY = np.ones((T, B, H), dtype=np.float32)

        def fwd(layer):
            return lambda: layer.forward(X)

        def fwd_bwd(layer):
            def run():
                layer.forward(X)
                layer.backward(dY)
            return run

        for label, make in (("forward", fwd), ("fwd+bwd", fwd_bwd)):
            res = timed_blocks({ra: make(layers[ra]) for ra in (True, False)}, ARGS.reps)
            cells = [f"{1e6 * res[ra][0] / T:9.1f} / {1e6 * res[ra][1] / T:9.1f}" for ra in (True, False)]
            print(f"{H:5d} {label:>10s} {cells[0]:>22s} {cells[1]:>22s} {res[False][0] / res[True][0]:10.2f}x")


if __name__ == "__main__":
    main()
