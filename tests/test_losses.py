import math

import numpy as np
import pytest

from rnn_utils.gradcheck import numerical_gradient, rel_error
from rnn_utils.losses import cross_entropy_sum, log_softmax, softmax, softmax_cross_entropy


# ---------------------------------------------------------------- softmax / log_softmax

def test_softmax_hand_computed_and_shift_invariant():
    p = softmax(np.array([0.0, math.log(3.0)]))
    np.testing.assert_allclose(p, [0.25, 0.75], rtol=1e-15)
    z = np.random.default_rng(0).standard_normal((3, 4, 5))
    np.testing.assert_allclose(softmax(z + 7.0), softmax(z), rtol=1e-14)
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(z, axis=1), np.log(softmax(z, axis=1)), rtol=1e-13, atol=1e-14)


def test_softmax_is_stable_for_huge_logits():
    z = np.array([1000.0, 1000.0, -1000.0])
    np.testing.assert_allclose(softmax(z), [0.5, 0.5, 0.0], atol=1e-300)
    np.testing.assert_allclose(log_softmax(z)[:2], -math.log(2.0), rtol=1e-15)
    assert log_softmax(z)[2] == pytest.approx(-2000.0 - math.log(2.0), rel=1e-15)
    assert softmax(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32


def test_softmax_bad_input():
    with pytest.raises(ValueError, match="z: contains 1 NaN"):
        softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="z: expected a real array with at least one axis, got a 0-d"):
        log_softmax(1.0)
    with pytest.raises(ValueError, match="z: expected a real array .*got None"):
        softmax(None)
    with pytest.raises(ValueError, match=r"axis: expected an integer in \[-2, 2\) for a 2-d z, got 2"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="z: expected a real numeric array"):
        log_softmax(np.array(["a", "b"]))


# ---------------------------------------------------------------- cross-entropy: closed forms and hand cases

def test_uniform_logits_give_log_V():
    T, B, V = 3, 2, 7
    loss, d = softmax_cross_entropy(np.full((T, B, V), 0.3), np.random.default_rng(1).integers(0, V, (T, B)))
    assert loss == pytest.approx(math.log(V), rel=1e-15)
    # gradient: (1/V - onehot) / (T B) at every position
    assert np.all(np.isclose(d.sum(axis=-1), 0.0, atol=1e-16))
    assert np.isclose(d.max(), 1 / V / (T * B), rtol=1e-14)


def test_two_class_example_by_hand():
    # one token, logits (0, ln 3): p = (1/4, 3/4)
    logits = np.array([[[0.0, math.log(3.0)]]])  # (T=1, B=1, V=2)
    loss, d = softmax_cross_entropy(logits, np.array([[1]]))
    assert loss == pytest.approx(-math.log(0.75), rel=1e-15)
    np.testing.assert_allclose(d[0, 0], [0.25, -0.25], rtol=1e-14)
    loss, d = softmax_cross_entropy(logits, np.array([[0]]))
    assert loss == pytest.approx(math.log(4.0), rel=1e-15)
    np.testing.assert_allclose(d[0, 0], [-0.75, 0.75], rtol=1e-14)
    # two tokens, second one padded: the mean is over one token only
    logits2 = np.array([[[0.0, math.log(3.0)]], [[5.0, -2.0]]])  # (T=2, B=1, V=2)
    loss, d = softmax_cross_entropy(logits2, np.array([[1], [-1]]), mask=np.array([[1], [0]]))
    assert loss == pytest.approx(-math.log(0.75), rel=1e-15)
    np.testing.assert_array_equal(d[1], 0.0)


def test_masked_positions_do_not_matter():
    rng = np.random.default_rng(2)
    T, B, V = 4, 3, 5
    logits = rng.standard_normal((T, B, V))
    targets = rng.integers(0, V, (T, B))
    mask = np.ones((T, B), dtype=bool)
    mask[2:, 0] = False  # sequence 0 has length 2
    mask[3, 2] = False   # sequence 2 has length 3
    loss, d = softmax_cross_entropy(logits, targets, mask)
    other = logits.copy()
    other[~mask] = rng.standard_normal((int((~mask).sum()), V)) * 100.0
    other_targets = np.where(mask, targets, -7)  # padded targets may hold anything
    loss2, d2 = softmax_cross_entropy(other, other_targets, mask)
    assert loss2 == loss
    np.testing.assert_array_equal(d2, d)
    np.testing.assert_array_equal(d[~mask], 0.0)
    loss_big, _ = softmax_cross_entropy(logits, np.where(mask, targets, 10**6), mask)  # also beyond V
    assert loss_big == loss
    # mean over real tokens == mean of per-token losses computed one at a time
    per_token = [-log_softmax(logits[t, b])[targets[t, b]] for t in range(T) for b in range(B) if mask[t, b]]
    assert loss == pytest.approx(np.mean(per_token), rel=1e-14)
    # a 0/1 float mask means the same as the bool mask
    loss3, d3 = softmax_cross_entropy(logits, targets, mask.astype(np.float64))
    assert loss3 == loss and np.array_equal(d3, d)


def test_cross_entropy_sum_and_bits():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 2, 4))
    targets = rng.integers(0, 4, (5, 2))
    mask = np.ones((5, 2), dtype=bool)
    mask[4, 1] = False
    total, n = cross_entropy_sum(logits, targets, mask)
    loss, _ = softmax_cross_entropy(logits, targets, mask)
    assert n == 9 and isinstance(n, int)
    assert total == pytest.approx(9 * loss, rel=1e-14)
    # uniform predictions over 4 classes: exactly 2 bits per token
    total, n = cross_entropy_sum(np.zeros((3, 1, 4)), np.zeros((3, 1), dtype=int))
    assert total / (n * math.log(2)) == pytest.approx(2.0, rel=1e-15)


# ---------------------------------------------------------------- cross-entropy: gradient checks and torch

@pytest.mark.parametrize("use_mask", [False, True])
def test_softmax_cross_entropy_gradcheck(use_mask):
    rng = np.random.default_rng(4)
    T, B, V = 3, 2, 4
    logits = rng.standard_normal((T, B, V)) * 2.0
    targets = rng.integers(0, V, (T, B))
    mask = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool) if use_mask else None
    loss, d = softmax_cross_entropy(logits, targets, mask)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, targets, mask)[0], logits)
    assert rel_error(d, numeric) < 1e-7


def test_softmax_cross_entropy_float32():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((2, 3, 4))
    targets = rng.integers(0, 4, (2, 3))
    loss64, d64 = softmax_cross_entropy(logits, targets)
    loss32, d32 = softmax_cross_entropy(logits.astype(np.float32), targets)
    assert d32.dtype == np.float32 and isinstance(loss32, float)
    assert loss32 == pytest.approx(loss64, rel=1e-6)
    np.testing.assert_allclose(d32, d64, rtol=1e-5, atol=1e-7)


def test_softmax_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    T, B, V = 5, 3, 6
    logits = rng.standard_normal((T, B, V)) * 3.0
    targets = rng.integers(0, V, (T, B))
    mask = rng.random((T, B)) < 0.7
    mask[0, 0] = True
    loss, d = softmax_cross_entropy(logits, targets, mask)
    lt = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        lt.reshape(-1, V), torch.tensor(np.where(mask, targets, -100)).reshape(-1), ignore_index=-100
    )
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-13)
    np.testing.assert_allclose(d, lt.grad.numpy(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("fn", [softmax_cross_entropy, cross_entropy_sum])
def test_cross_entropy_bad_input(fn):
    logits = np.zeros((2, 3, 4))
    targets = np.zeros((2, 3), dtype=int)
    with pytest.raises(ValueError, match=r"logits: expected a 3-d array of shape \(T, B, V\), got 2-d shape \(2, 3\)"):
        fn(np.zeros((2, 3)), targets)
    with pytest.raises(ValueError, match="logits: contains 1 NaN"):
        bad = logits.copy()
        bad[1, 2, 3] = np.nan
        fn(bad, targets)
    with pytest.raises(ValueError, match=r"targets: expected shape \(T=2, B=3\), got \(3, 2\)"):
        fn(logits, np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"targets: expected an integer index array .*got dtype float64"):
        fn(logits, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"targets: expected ids in \[0, V=4\), got 1 outside \(e.g. 4\)"):
        fn(logits, np.array([[0, 1, 2], [3, 4, 0]]))
    with pytest.raises(ValueError, match=r"targets: .*got 1 outside \(e.g. -1\)"):
        fn(logits, np.array([[0, 1, 2], [3, -1, 0]]))
    with pytest.raises(ValueError, match=r"mask: expected shape \(T=2, B=3\), got \(2, 1\)"):
        fn(logits, targets, np.ones((2, 1), dtype=bool))
    with pytest.raises(ValueError, match="mask: every position is masked out"):
        fn(logits, targets, np.zeros((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="mask: expected a bool array or one holding only 0 and 1"):
        fn(logits, targets, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="mask: expected a bool array or one holding only 0 and 1"):
        fn(logits, targets, np.full((2, 3), np.nan))
