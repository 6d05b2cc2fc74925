"""Small shared figures for the notebooks. Each helper draws on an Axes and returns it (or the Figure).

    ax = prob_heatmap(P, row_labels=alphabet, col_labels=inputs)   # P (R, C): a probability per cell
    ax = draw_unrolled(n_steps=4, inputs=[1, 1, 1, 1], outputs=[0, 0, 0, 1])   # a many-to-one diagram

Only matplotlib is needed; nothing here calls plt.show() (the notebook does).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ._checks import check_array, check_positive_int

__all__ = ["prob_heatmap", "draw_unrolled"]


def _new_axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def prob_heatmap(
    probs,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    ax=None,
    annotate: bool = True,
    title: Optional[str] = None,
    cmap: str = "Blues",
):
    """Heat map of a table of probabilities, e.g. p(next symbol) (rows) at every time step (columns).

    Args:
        probs: (R, C) array of values in [0, 1].
        row_labels: R labels (e.g. the alphabet), col_labels: C labels (e.g. the input symbol at each step).
        ax: an Axes to draw on (None: a new figure).
        annotate: write each value (2 decimals) in its cell.
    Returns the Axes.
    """
    R, C = len(row_labels), len(col_labels)
    P = check_array("probs", probs, (R, C), ("R=len(row_labels)", "C=len(col_labels)"))
    if P.size and (P.min() < 0 or P.max() > 1):
        raise ValueError(f"probs: expected values in [0, 1], got range [{P.min():.3g}, {P.max():.3g}]")
    ax = _new_axes(ax, (0.6 * C + 2, 0.45 * R + 1))
    ax.imshow(P, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(C), [str(c) for c in col_labels])
    ax.set_yticks(range(R), [str(r) for r in row_labels])
    if annotate:
        for i in range(R):
            for j in range(C):
                ax.text(j, i, f"{P[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if P[i, j] > 0.6 else "black")
    if title:
        ax.set_title(title)
    return ax


def draw_unrolled(
    n_steps: int,
    inputs: Sequence[bool],
    outputs: Sequence[bool],
    ax=None,
    title: Optional[str] = None,
    feedback: bool = False,
    boundary: Optional[int] = None,
    gradients: bool = False,
):
    """Schematic of an RNN unrolled over `n_steps`: inputs x_t (bottom), states h_t (middle), outputs y_t (top).

    Args:
        n_steps: number of time steps (columns).
        inputs, outputs: n_steps booleans: which steps receive an input x_t / emit an output y_t.
        feedback: draw a dashed arrow from each output y_t into the next step (generation: y_t becomes x_{t+1}).
        boundary: if given, a dotted vertical line before step `boundary` (e.g. encoder | decoder).
        gradients: also draw the backward pass in red: from each output y_t down into h_t (the local gradient)
            and from h_{t+1} back into h_t (the gradient flowing back through W_hh), as in BPTT.
    Returns the Axes. Arrows: x_t -> h_t, h_{t-1} -> h_t (the shared recurrent weight), h_t -> y_t.
    """
    n = check_positive_int("n_steps", n_steps)
    ins = check_array("inputs", np.asarray(inputs, dtype=bool), (n,), ("n_steps",), kind="any")
    outs = check_array("outputs", np.asarray(outputs, dtype=bool), (n,), ("n_steps",), kind="any")
    ax = _new_axes(ax, (1.0 * n + 0.5, 2.6))
    style = dict(arrowstyle="->", color="0.3", lw=1.2)
    r = 0.28
    for t in range(n):
        ax.add_patch(_box(t, 1.0, "#f4a582"))
        ax.text(t, 1.0, f"$h_{{{t + 1}}}$", ha="center", va="center", fontsize=10)
        if ins[t]:
            ax.add_patch(_box(t, 0.0, "#92c5de"))
            ax.text(t, 0.0, f"$x_{{{t + 1}}}$", ha="center", va="center", fontsize=10)
            ax.annotate("", xy=(t, 1.0 - r), xytext=(t, r), arrowprops=style)
        if outs[t]:
            ax.add_patch(_box(t, 2.0, "#a6dba0"))
            ax.text(t, 2.0, f"$y_{{{t + 1}}}$", ha="center", va="center", fontsize=10)
            ax.annotate("", xy=(t, 2.0 - r), xytext=(t, 1.0 + r), arrowprops=style)
            if feedback and t + 1 < n:
                ax.annotate("", xy=(t + 1 - r, 1.0 + 0.15), xytext=(t + r, 2.0 - 0.1),
                            arrowprops=dict(arrowstyle="->", color="tab:green", lw=1.0, ls="--"))
        if t > 0:
            ax.annotate("", xy=(t - r, 1.0), xytext=(t - 1 + r, 1.0), arrowprops=style)
        if gradients:
            back = dict(arrowstyle="->", color="tab:red", lw=1.2)
            if outs[t]:
                ax.annotate("", xy=(t + 0.12, 1.0 + r), xytext=(t + 0.12, 2.0 - r), arrowprops=back)
            if t + 1 < n:
                ax.annotate("", xy=(t + r, 1.0 - 0.14), xytext=(t + 1 - r, 1.0 - 0.14), arrowprops=back)
    if boundary is not None:
        ax.axvline(boundary - 0.5, color="0.5", ls=":", lw=1)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.5, 2.5)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _box(x, y, color, r=0.28):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x - r, y - r), 2 * r, 2 * r, boxstyle="round,pad=0.02", fc=color, ec="0.3", lw=1)
