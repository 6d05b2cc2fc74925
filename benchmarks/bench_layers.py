"""Benchmark: rnn_utils' recurrent layers against torch.nn and against the bare matrix products.

    python benchmarks/bench_layers.py [--reps R] [--quick] [--part all|train|decode] [--threads N]

Two parts, each run in its own process so that the BLAS thread count can be fixed before numpy is imported:

train   (2 threads by default) forward + backward, float32, of LSTM and GRU (reset_after=True) over the grid
        T in {64, 100}, B = 32, D in {32, 64}, H in {128, 256}, three ways:
            ours    rnn_utils.recurrent.LSTM / GRU: forward(X), backward(dY)
            torch   torch.nn.LSTM / GRU on the CPU: Y = m(X) with X.requires_grad, Y.backward(dY)
            floor   only the matrix products any implementation must do, same shapes, done bare into
                    preallocated outputs: X W_ih^T for all steps; per step h W_hh^T (forward, W_hh^T stored
                    contiguous, the faster layout) and dA W_hh (backward); dW_ih = dA^T X, dW_hh = dA^T H_prev,
                    dX = dA W_ih. No elementwise work, no Python bookkeeping.
decode  (1 thread) one decoding step, `LanguageModel.step(tokens (B,), state)`, float32, embedding (V=128,
        E=64) -> cell -> linear head, for RNN (tanh), LSTM and GRU at H in {128, 256, 512} and B in {1, 8},
        against the same embedding -> cell -> head in torch under torch.no_grad(), measured both with the
        torch.nn.*Cell module and with torch.nn.RNN/LSTM/GRU at T=1; the faster torch variant is the reference.
        "matmul" is the bare matrix products of the step (W_ih x^T, W_hh h^T in the column form and row blocks
        the step uses, h W_hy^T), without the elementwise work and the argument checks.

Timing: each side is timed in its own blocks, never call-interleaved with another side (OpenBLAS threads keep
spinning after a call and slow whatever runs next). A block is one untimed call followed by R timed calls; the
sides take turns block by block (train: 3 rounds, best and median over single calls; decode: 5 rounds, best and
median of the block means). The median is a noise gauge; ratios use the best times. Prints figures only.

The BLAS kernel in use is reported from threadpoolctl if installed, else from numpy's bundled OpenBLAS via
ctypes (the same call threadpoolctl makes), else from numpy.show_config(). The Makefile's `bench` target unsets
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (which would force an older kernel); tests never do.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("all", "train", "decode"), default="all")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS / torch threads (default: 2 for train, 1 for decode)")
    p.add_argument("--reps", type=int, default=None, help="timed calls per block (default: 5 train, 300 decode)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    return p.parse_args()


ARGS = _parse()
if ARGS.part == "all":  # driver: one child process per part, each with its thread count fixed before numpy
    def _run(part, threads):
        cmd = [sys.executable, os.path.abspath(__file__), "--part", part, "--threads", str(threads)]
        if ARGS.reps is not None:
            cmd += ["--reps", str(ARGS.reps)]
        if ARGS.quick:
            cmd.append("--quick")
        sys.stdout.flush()
        subprocess.run(cmd, check=True)

    _run("train", ARGS.threads or 2)
    print()
    _run("decode", ARGS.threads or 1)
    sys.exit(0)

THREADS = ARGS.threads or (2 if ARGS.part == "train" else 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import time  # noqa: E402

import numpy as np  # noqa: E402

from _bench import blas_info, timed_blocks  # noqa: E402  (this script's folder is on sys.path)
from rnn_utils.models import LanguageModel  # noqa: E402
from rnn_utils.recurrent import GRU, LSTM  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(THREADS)
except ImportError:  # the torch column is optional
    torch = None

DTYPE = np.float32
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------------------------- training
def ours_train(kind, T, B, D, H, rng):
    layer = (LSTM if kind == "LSTM" else GRU)(D, H, dtype=DTYPE, rng=rng)
    X = rng.standard_normal((T, B, D)).astype(DTYPE)
    dY = rng.standard_normal((T, B, H)).astype(DTYPE)

    def run():
        layer.forward(X)
        layer.backward(dY)

    return run


def torch_train(kind, T, B, D, H, rng):
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


def floor_train(kind, T, B, D, H, rng):
    """The bare matrix products of one forward + backward, same shapes and layouts as the layer uses."""
    GH = GATES[kind] * H
    f = lambda *s: rng.standard_normal(s).astype(DTYPE)  # noqa: E731
    X2, W_ih, W_hh = f(T * B, D), f(GH, D), f(GH, H)
    Hs, dA = f(T, B, H), f(T, B, GH)
    A = np.empty((T * B, GH), DTYPE)
    step_out, dh = np.empty((B, GH), DTYPE), np.empty((B, H), DTYPE)
    dW_ih, dW_hh, dX = np.empty((GH, D), DTYPE), np.empty((GH, H), DTYPE), np.empty((T * B, D), DTYPE)
    W_hh_T, W_ih_T = np.ascontiguousarray(W_hh.T), W_ih.T   # stored (H, GH): faster than a transposed view
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


def main_train():
    reps = ARGS.reps or (2 if ARGS.quick else 5)
    B = 32
    print(f"Training: forward + backward, float32, CPU, {THREADS} thread(s), B={B}; best / median per call (ms) "
          f"over 3 rounds of blocks of {reps}; ratios from the best")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else
                                       ", torch not installed: the torch column is skipped"))
    print(f"BLAS: {blas_info()}")
    head = (f"{'layer':<6}{'T':>5}{'D':>4}{'H':>5}{'ours':>16}{'torch.nn':>16}{'floor':>16}"
            f"{'ours/torch':>12}{'ours/floor':>12}{'floor/torch':>13}")
    print(head)
    print("-" * len(head))
    for kind in ("LSTM", "GRU"):
        for T in (64, 100):
            for D in (32, 64):
                for H in (128, 256):
                    rng = np.random.default_rng(0)
                    r = timed_blocks({"ours": ours_train(kind, T, B, D, H, rng),
                                      "torch": torch_train(kind, T, B, D, H, rng),
                                      "floor": floor_train(kind, T, B, D, H, rng)}, reps)
                    r = {k: (1e3 * a, 1e3 * b) for k, (a, b) in r.items()}
                    fmt = lambda k: f"{r[k][0]:7.1f} /{r[k][1]:7.1f}" if k in r else f"{'-':>15}"  # noqa: E731
                    rt = f"{r['ours'][0] / r['torch'][0]:12.2f}" if "torch" in r else f"{'-':>12}"
                    ft = f"{r['floor'][0] / r['torch'][0]:13.2f}" if "torch" in r else f"{'-':>13}"
                    print(f"{kind:<6}{T:>5}{D:>4}{H:>5}{fmt('ours'):>16}{fmt('torch'):>16}{fmt('floor'):>16}{rt}"
                          f"{r['ours'][0] / r['floor'][0]:12.2f}{ft}", flush=True)
    print("targets (LSTM): ours/torch <= 1.25, ours/floor <= 1.2. floor/torch: the best ours/torch any "
          "implementation doing these products with numpy's BLAS could reach.")


# ---------------------------------------------------------------------------------------------- decoding
V_DEC, E_DEC = 128, 64


def ours_decode(cell, H, B, rng):
    model = LanguageModel(V_DEC, H, cell=cell.lower(), embedding_dim=E_DEC, dtype=DTYPE, rng=rng)
    tokens = rng.integers(0, V_DEC, B)
    box = [None]
    model.step(tokens, None)

    def run():
        logits, box[0] = model.step(tokens, box[0])

    return run


def torch_decode(cell, H, B, rng, variant):
    if torch is None:
        return None
    emb = torch.nn.Embedding(V_DEC, E_DEC)
    head = torch.nn.Linear(H, V_DEC)
    tokens = torch.tensor(rng.integers(0, V_DEC, B))
    if variant == "cell":
        rnn = {"RNN": torch.nn.RNNCell, "LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}[cell](E_DEC, H)
    else:
        rnn = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[cell](E_DEC, H)
    box = [None]

    def run_cell():
        with torch.no_grad():
            box[0] = rnn(emb(tokens), box[0])
            h = box[0][0] if cell == "LSTM" else box[0]
            head(h)

    def run_seq():
        with torch.no_grad():
            y, box[0] = rnn(emb(tokens)[None], box[0])
            head(y[0])

    return run_cell if variant == "cell" else run_seq


def matmul_decode(cell, H, B, rng):
    G = GATES[cell]
    f = lambda *s: rng.standard_normal(s).astype(DTYPE)  # noqa: E731
    x, h, W_ih, W_hh, W_hy = f(B, E_DEC), f(B, H), f(G * H, E_DEC), f(G * H, H), f(V_DEC, H)
    a1, a2, lo = np.empty((G * H, B), DTYPE), np.empty((G * H, B), DTYPE), np.empty((B, V_DEC), DTYPE)
    x_T, h_T, W_hy_T = x.T, h.T, W_hy.T

    try:                                             # the step's own product helper (row blocks for small B)
        from rnn_utils.recurrent import _cols_product
    except ImportError:                              # an older rnn_utils: one call per product
        _cols_product = None

    def run():                                       # the layouts the step uses (column form for the cell)
        if _cols_product is not None:
            _cols_product(W_ih, x_T)
            _cols_product(W_hh, h_T)
        else:
            np.matmul(W_ih, x_T, out=a1)
            np.matmul(W_hh, h_T, out=a2)
        np.matmul(h, W_hy_T, out=lo)

    return run


def main_decode():
    n = ARGS.reps or (100 if ARGS.quick else 300)
    print(f"Decoding: one LanguageModel.step(tokens (B,), state), float32, CPU, {THREADS} thread(s), embedding "
          f"V={V_DEC}, E={E_DEC}; best / median of 5 block means (us per step), blocks of {n} steps")
    print(f"BLAS: {blas_info()}")
    head = (f"{'cell':<6}{'H':>5}{'B':>3}{'ours':>16}{'torch *Cell':>16}{'torch T=1':>16}{'matmul':>9}"
            f"{'ours/torch':>12}  (torch = the faster of the two)")
    print(head)
    print("-" * len(head))
    for cell in ("RNN", "LSTM", "GRU"):
        for H in (128, 256, 512):
            for B in (1, 8):
                rng = np.random.default_rng(0)
                r = timed_blocks({"ours": ours_decode(cell, H, B, rng),
                                  "cell": torch_decode(cell, H, B, rng, "cell"),
                                  "seq": torch_decode(cell, H, B, rng, "seq"),
                                  "mm": matmul_decode(cell, H, B, rng)}, n, rounds=5, per_call=False)
                r = {k: (1e6 * a, 1e6 * b) for k, (a, b) in r.items()}
                fmt = lambda k: f"{r[k][0]:7.1f} /{r[k][1]:7.1f}" if k in r else f"{'-':>15}"  # noqa: E731
                if torch is not None:
                    best = min(r["cell"][0], r["seq"][0])
                    ratio = f"{r['ours'][0] / best:12.2f}  ({'Cell' if r['cell'][0] <= r['seq'][0] else 'T=1'})"
                else:
                    ratio = f"{'-':>12}"
                print(f"{cell:<6}{H:>5}{B:>3}{fmt('ours'):>16}{fmt('cell'):>16}{fmt('seq'):>16}"
                      f"{r['mm'][0]:9.1f}{ratio}", flush=True)
    print("target: ours/torch <= 1.00 for every cell, H and B.")


if __name__ == "__main__":
    main_train() if ARGS.part == "train" else main_decode()
