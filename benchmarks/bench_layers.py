"""Benchmark: forward + backward of rnn_utils' LSTM and GRU against torch.nn and against the matmul floor.

    python benchmarks/bench_layers.py [--threads N] [--reps R] [--quick]

Times one forward + backward (with dX, dY given) at T=100, B=32, D=64, H=256 in float32, three ways measured
side by side in one run, interleaved rep by rep so that background load hits all three alike:

    ours    rnn_utils.recurrent.LSTM / GRU (reset_after=True): forward(X), backward(dY)
    torch   torch.nn.LSTM / GRU on the CPU: Y = m(X) with X.requires_grad, Y.backward(dY)   (if torch is installed)
    floor   only the matrix products any implementation must do, with the same shapes, done bare into
            preallocated outputs: X W_ih^T for all steps; per step h W_hh^T (forward) and dA W_hh (backward);
            dW_ih = dA^T X, dW_hh = dA^T H_prev, dX = dA W_ih. No elementwise work, no Python bookkeeping.

The thread count N (default 1, as in the Makefile) is set for numpy's BLAS through the environment variables
before numpy is imported, and for torch with torch.set_num_threads(N). Reported: best (min) and median over R
reps after warm-up; the ratios use the best times. Targets (issue 3): ours/torch <= 0.67, ours/floor <= 1.3.
A second table shows how the time grows with T and with H. Prints figures only: nothing is asserted.
"""
from __future__ import annotations

import argparse
import os


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    p.add_argument("--reps", type=int, default=9, help="timed repetitions per case (default 9)")
    p.add_argument("--quick", action="store_true", help="fewer reps, smaller scaling tables")
    return p.parse_args()


ARGS = _parse()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402

from rnn_utils.recurrent import GRU, LSTM  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(ARGS.threads)
except ImportError:  # the torch column is optional
    torch = None

DTYPE = np.float32
GATES = {"LSTM": 4, "GRU": 3}


def make_ours(kind, D, H, rng):
    return (LSTM if kind == "LSTM" else GRU)(D, H, dtype=DTYPE, rng=rng)


def ours_case(kind, T, B, D, H, rng):
    layer = make_ours(kind, D, H, rng)
    X = rng.standard_normal((T, B, D)).astype(DTYPE)
    dY = rng.standard_normal((T, B, H)).astype(DTYPE)

    def run():
        layer.forward(X)
        layer.backward(dY)

    return run


def torch_case(kind, T, B, D, H, rng):
    if torch is None:
        return None
    m = (torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU)(D, H).float()
    X = torch.tensor(rng.standard_normal((T, B, D)).astype(DTYPE), requires_grad=True)
    dY = torch.tensor(rng.standard_normal((T, B, H)).astype(DTYPE))

    def run():
        m.zero_grad(set_to_none=True)
        X.grad = None
        Y, _ = m(X)
        Y.backward(dY)

    return run


def floor_case(kind, T, B, D, H, rng):
    """The bare matrix products of one forward + backward, same shapes and layouts as the layer uses."""
    GH = GATES[kind] * H
    f = lambda *s: rng.standard_normal(s).astype(DTYPE)  # noqa: E731
    X2, W_ih, W_hh = f(T * B, D), f(GH, D), f(GH, H)
    Hs, dA = f(T, B, H), f(T, B, GH)
    A = np.empty((T * B, GH), DTYPE)
    step_out, dh = np.empty((B, GH), DTYPE), np.empty((B, H), DTYPE)
    dW_ih, dW_hh, dX = np.empty((GH, D), DTYPE), np.empty((GH, H), DTYPE), np.empty((T * B, D), DTYPE)
    W_hh_T, W_ih_T = W_hh.T, W_ih.T
    dA2, H2 = dA.reshape(T * B, GH), Hs.reshape(T * B, H)

    def run():
        np.matmul(X2, W_ih_T, out=A)                 # input projection, all steps
        for t in range(T):
            np.matmul(Hs[t], W_hh_T, out=step_out)    # recurrent product, forward
        for t in range(T - 1, -1, -1):
            np.matmul(dA[t], W_hh, out=dh)            # recurrent product, backward
        np.matmul(dA2.T, H2, out=dW_hh)
        np.matmul(dA2.T, X2, out=dW_ih)
        np.matmul(dA2, W_ih, out=dX)

    return run


def time_side_by_side(runs, reps, warmup=2):
    """runs: {name: callable or None}. Interleaved timing; returns {name: (best_ms, median_ms)}."""
    live = {k: v for k, v in runs.items() if v is not None}
    for _ in range(warmup):
        for fn in live.values():
            fn()
    times = {k: [] for k in live}
    for _ in range(reps):
        for k, fn in live.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: (1e3 * min(v), 1e3 * float(np.median(v))) for k, v in times.items()}


def case(kind, T, B, D, H, reps, with_torch=True):
    rng = np.random.default_rng(0)
    runs = {"ours": ours_case(kind, T, B, D, H, rng), "floor": floor_case(kind, T, B, D, H, rng),
            "torch": torch_case(kind, T, B, D, H, rng) if with_torch else None}
    return time_side_by_side(runs, reps)


def main():
    reps = 3 if ARGS.quick else ARGS.reps
    T, B, D, H = 100, 32, 64, 256
    print(f"rnn_utils layer benchmark: forward + backward, float32, CPU, {ARGS.threads} thread(s)")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else
                                       ", torch not installed: the torch column is skipped"))
    print(f"T={T}, B={B}, D={D}, H={H}; best / median of {reps} reps (ms); ratios from the best times")
    print()
    head = (f"{'layer':<6}{'ours':>16}{'torch.nn':>16}{'floor':>16}{'ours/torch':>12}{'ours/floor':>12}"
            f"{'floor/torch':>13}   target (ours/torch, ours/floor)")
    print(head)
    print("-" * len(head))
    for kind in ("LSTM", "GRU"):
        r = case(kind, T, B, D, H, reps)
        fmt = lambda k: f"{r[k][0]:7.1f} /{r[k][1]:7.1f}" if k in r else f"{'-':>15}"  # noqa: E731
        ratio_t = f"{r['ours'][0] / r['torch'][0]:12.2f}" if "torch" in r else f"{'-':>12}"
        floor_t = f"{r['floor'][0] / r['torch'][0]:13.2f}" if "torch" in r else f"{'-':>13}"
        print(f"{kind:<6}{fmt('ours'):>16}{fmt('torch'):>16}{fmt('floor'):>16}{ratio_t}"
              f"{r['ours'][0] / r['floor'][0]:12.2f}{floor_t}   <= 0.67, <= 1.3")
    if torch is not None:
        print("floor/torch: the best ours/torch that any implementation doing these products with numpy's BLAS "
              "could reach on this machine.")

    print()
    print("Growth with T (B=32, D=64, H=256) and with H (T=100, B=32, D=64): best ms, ours and floor")
    s_reps = 2 if ARGS.quick else 5
    Ts = (25, 50, 100) if ARGS.quick else (25, 50, 100, 200)
    Hs = (64, 128, 256) if ARGS.quick else (64, 128, 256, 512)
    head = f"{'':<10}" + "".join(f"{'LSTM ours':>11}{'floor':>8}{'ratio':>7}{'GRU ours':>11}{'floor':>8}{'ratio':>7}"
                                 for _ in [0])
    print(head)
    print("-" * len(head))
    for label, sizes in (("T", [(t, 256) for t in Ts]), ("H", [(100, h) for h in Hs])):
        for t, h in sizes:
            row = f"{label}={t if label == 'T' else h:<8}"
            for kind in ("LSTM", "GRU"):
                r = case(kind, t, B, D, h, s_reps, with_torch=False)
                row += f"{r['ours'][0]:11.1f}{r['floor'][0]:8.1f}{r['ours'][0] / r['floor'][0]:7.2f}"
            print(row)


if __name__ == "__main__":
    main()
