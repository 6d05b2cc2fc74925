"""Smoke tests for rnn_utils.plots with the non-interactive Agg backend: each helper draws and returns its Axes."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnn_utils.plots import draw_unrolled, prob_heatmap  # noqa: E402


def test_prob_heatmap_draws_every_cell_and_labels():
    P = np.array([[0.1, 0.7, 0.0], [0.9, 0.3, 1.0]])
    ax = prob_heatmap(P, ["a", "b"], ["t1", "t2", "t3"], title="p")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["t1", "t2", "t3"]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["0.10", "0.70", "0.00", "0.90", "0.30", "1.00"])
    assert ax.get_title() == "p"
    plt.close("all")


def test_prob_heatmap_uses_given_axes_and_rejects_bad_input():
    fig, ax = plt.subplots()
    assert prob_heatmap(np.full((2, 2), 0.5), ["a", "b"], ["x", "y"], ax=ax, annotate=False) is ax
    assert len(ax.texts) == 0
    with pytest.raises(ValueError, match=r"probs: expected shape \(R=len\(row_labels\)=2, C=len\(col_labels\)=3\)"):
        prob_heatmap(np.zeros((2, 2)), ["a", "b"], ["x", "y", "z"], ax=ax)
    with pytest.raises(ValueError, match="probs: expected values in"):
        prob_heatmap(np.array([[1.5]]), ["a"], ["x"], ax=ax)
    plt.close(fig)


def test_draw_unrolled_draws_one_box_per_node():
    # many-to-one over 4 steps: 4 states + 4 inputs + 1 output = 9 boxes and 9 labels
    ax = draw_unrolled(4, [1, 1, 1, 1], [0, 0, 0, 1], title="many-to-one")
    assert len(ax.patches) == 9
    labels = {t.get_text() for t in ax.texts}
    assert {"$h_{1}$", "$h_{4}$", "$x_{4}$", "$y_{4}$"} <= labels and "$y_{1}$" not in labels
    # arrows: 4 x->h, 3 h->h, 1 h->y; with feedback, one more per output that has a next step
    assert sum(1 for c in ax.get_children() if type(c).__name__ == "Annotation") == 8
    ax2 = draw_unrolled(3, [1, 0, 0], [1, 1, 1], feedback=True, boundary=1)
    assert sum(1 for c in ax2.get_children() if type(c).__name__ == "Annotation") == 2 + 1 + 3 + 2
    plt.close("all")


def test_draw_unrolled_gradient_arrows():
    # 3 steps, outputs everywhere: forward 3 + 2 + 3 arrows; backward 3 (y -> h) + 2 (h_{t+1} -> h_t)
    ax = draw_unrolled(3, [1, 1, 1], [1, 1, 1], gradients=True)
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 8 + 5
    red = [a for a in arrows if a.arrow_patch.get_edgecolor()[:3] == matplotlib.colors.to_rgb("tab:red")]
    assert len(red) == 5
    plt.close("all")


def test_draw_unrolled_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"inputs: expected shape \(n_steps=3,\), got \(2,\)"):
        draw_unrolled(3, [1, 1], [0, 0, 1])
    with pytest.raises(ValueError, match="n_steps: expected a positive integer"):
        draw_unrolled(0, [], [])
