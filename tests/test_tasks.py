"""Long-range tasks and probes: exact properties of the generators, gradient checks, hand-computed probe cases."""
import numpy as np
import pytest

from rnn_utils.data import build_char_vocab
from rnn_utils.gradcheck import gradcheck
from rnn_utils.grammars import AgreementGrammar, ReberGrammar
from rnn_utils.models import LanguageModel
from rnn_utils.recurrent import LSTM, RNN
from rnn_utils.tasks import (
    LagTask,
    SequenceClassifier,
    agreement_accuracy,
    classifier_accuracy,
    linear_probe_accuracy,
    reber_penultimate_accuracy,
    train_classifier,
)


# ----------------------------------------------------------------------------------------------------------------
# LagTask
# ----------------------------------------------------------------------------------------------------------------
def test_lag_task_layout_and_exact_figures():
    task = LagTask(7, num_symbols=3, num_distractors=5)
    assert (task.length, task.vocab_size, task.chance, task.ceiling) == (8, 8, 1 / 3, 1.0)
    ids, targets = task.sample(50, np.random.default_rng(0))
    assert ids.shape == (8, 50) and targets.shape == (50,)
    assert ids.dtype == np.int64 and targets.dtype == np.int64
    np.testing.assert_array_equal(ids[0], targets)
    assert targets.min() >= 0 and targets.max() < 3
    assert ids[1:].min() >= 3 and ids[1:].max() < 8          # distractors never look like a symbol


def test_lag_zero_is_the_symbol_alone():
    ids, targets = LagTask(0).sample(10, np.random.default_rng(1))
    assert ids.shape == (1, 10)
    np.testing.assert_array_equal(ids[0], targets)


def test_lag_task_is_seeded():
    task = LagTask(5)
    a, b = task.sample(20, np.random.default_rng(3)), task.sample(20, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = task.sample(20, np.random.default_rng(4))
    assert not np.array_equal(a[0], c[0])


def test_lag_task_targets_are_uniform_and_independent_of_the_distractors():
    # the reason chance is exactly 1/K: the distractors tell nothing about the target. With n = 60000 draws a
    # frequency has standard deviation <= 0.002 (0.004 within a half of the sample), so 0.02 is > 5 sigma.
    K = 4
    ids, targets = LagTask(3, num_symbols=K, num_distractors=2).sample(60000, np.random.default_rng(5))
    np.testing.assert_allclose(np.bincount(targets, minlength=K) / targets.size, 1 / K, atol=0.02)
    for d in (K, K + 1):
        sel = ids[-1] == d
        np.testing.assert_allclose(np.bincount(targets[sel], minlength=K) / sel.sum(), 1 / K, atol=0.02)
    np.testing.assert_allclose(np.bincount(ids[1:].ravel() - K) / ids[1:].size, 0.5, atol=0.02)


@pytest.mark.parametrize("kwargs, name", [
    ({"lag": -1}, "lag"), ({"lag": 2.0}, "lag"), ({"lag": 3, "num_symbols": 1}, "num_symbols"),
    ({"lag": 3, "num_distractors": 0}, "num_distractors"), ({"lag": True}, "lag"),
])
def test_lag_task_arguments_are_checked(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LagTask(**kwargs)


def test_lag_task_sample_arguments_are_checked():
    task = LagTask(2)
    with pytest.raises(ValueError, match="rng"):
        task.sample(3, None)
    with pytest.raises(ValueError, match="n"):
        task.sample(0, np.random.default_rng(0))


# ----------------------------------------------------------------------------------------------------------------
# SequenceClassifier and its training loop
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_classifier_gradients_match_centred_differences(cls):
    rng = np.random.default_rng(6)
    task = LagTask(3, num_symbols=3, num_distractors=2)
    model = SequenceClassifier(cls(task.vocab_size, 4, rng=rng), 3, rng=rng)
    for p in model.params.values():
        p *= 3.0      # larger weights, larger gradients: no entry small enough for centred-difference noise to show
    ids, targets = task.sample(5, rng)
    model.loss_and_grads(ids, targets)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert set(grads) == set(model.params)
    assert {"head.weight", "head.bias", "rnn.weight_ih_l0"} <= set(grads)

    def loss():
        from rnn_utils.losses import softmax_cross_entropy
        return softmax_cross_entropy(model.forward(ids)[None], targets[None])[0]

    errs = gradcheck(loss, model.params, grads)
    assert max(errs.values()) < 1e-7


def test_bidirectional_classifier_reads_both_final_states_and_is_gradient_checked():
    rng = np.random.default_rng(18)
    layer = LSTM(3, 4, bidirectional=True, rng=rng)
    model = SequenceClassifier(layer, 2, rng=rng)
    ids, targets = np.array([[0, 1, 2], [2, 2, 0], [1, 0, 1], [2, 1, 0]]), np.array([0, 1, 1])
    logits = model.forward(ids)
    _, (h_n, _) = layer.forward(np.eye(3)[ids])
    z = np.concatenate([h_n[0], h_n[1]], axis=1)        # the two directions' final states (independent: state_n)
    np.testing.assert_allclose(logits, z @ model.params["head.weight"].T + model.params["head.bias"],
                               rtol=0, atol=1e-15)
    for p in model.params.values():
        p *= 3.0
    model.loss_and_grads(ids, targets)
    grads = {k: v.copy() for k, v in model.grads.items()}

    def loss():
        from rnn_utils.losses import softmax_cross_entropy
        return softmax_cross_entropy(model.forward(ids)[None], targets[None])[0]

    assert max(gradcheck(loss, model.params, grads).values()) < 1e-7


def test_classifier_reads_the_last_output_only():
    rng = np.random.default_rng(7)
    layer = RNN(3, 4, rng=rng)
    model = SequenceClassifier(layer, 2, rng=rng)
    ids = np.array([[0, 1], [2, 2], [1, 0]])
    logits = model.forward(ids)
    Y, _ = layer.forward(np.eye(3)[ids])
    np.testing.assert_allclose(logits, Y[-1] @ model.params["head.weight"].T + model.params["head.bias"],
                               rtol=0, atol=1e-15)


def test_classifier_accuracy_is_the_fraction_of_arg_max_hits():
    rng = np.random.default_rng(8)
    model = SequenceClassifier(RNN(2, 3, rng=rng), 2, rng=rng)
    model.params["head.weight"][...] = 0.0
    model.params["head.bias"][...] = [0.0, 1.0]           # always predicts class 1
    ids = np.zeros((2, 5), dtype=np.int64)
    assert classifier_accuracy(model, ids, np.array([1, 0, 1, 1, 0])) == pytest.approx(3 / 5)


def test_training_solves_a_short_lag():
    rng = np.random.default_rng(9)
    task = LagTask(2, num_symbols=2, num_distractors=2)
    model = SequenceClassifier(LSTM(task.vocab_size, 8, rng=rng), 2, rng=rng)
    losses = train_classifier(model, task, steps=150, batch_size=16, lr=3e-2, rng=rng)
    assert losses.shape == (150,) and losses[-10:].mean() < 0.1 < losses[:10].mean()
    assert classifier_accuracy(model, *task.sample(500, np.random.default_rng(10))) == 1.0


def test_classifier_arguments_are_checked():
    rng = np.random.default_rng(11)
    with pytest.raises(ValueError, match="layer"):
        SequenceClassifier(object(), 2, rng=rng)
    model = SequenceClassifier(RNN(3, 4, rng=rng), 2, rng=rng)
    with pytest.raises(ValueError, match="ids"):
        model.forward(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="ids"):
        model.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rng"):
        train_classifier(model, LagTask(1, num_symbols=2, num_distractors=1), steps=1, batch_size=2, rng=None)
    with pytest.raises(ValueError, match="steps"):
        train_classifier(model, LagTask(1, num_symbols=2, num_distractors=1), steps=0, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match="task"):
        train_classifier(model, "lag", steps=1, batch_size=2, rng=rng)


# ----------------------------------------------------------------------------------------------------------------
# probes of a language model: models whose head is set by hand, so the right answer is known
# ----------------------------------------------------------------------------------------------------------------
def _constant_model(V, favourite, rng):
    """A LanguageModel whose next-token distribution ignores the input and prefers id `favourite`."""
    model = LanguageModel(V, 3, cell="lstm", embedding_dim=2, rng=rng)
    model.params["head.weight"][...] = 0.0
    model.params["head.bias"][...] = 0.0
    model.params["head.bias"][favourite] = 5.0
    return model


def test_agreement_accuracy_of_a_model_that_always_says_was():
    grammar = AgreementGrammar()
    vocab = build_char_vocab([c for c in grammar.charset if c != "\n"])
    model = _constant_model(len(vocab), vocab.stoi["a"], np.random.default_rng(12))
    acc, dist = agreement_accuracy(model, vocab, 2, n=300, rng=np.random.default_rng(13))
    # independent truth: the same draw from the grammar itself; right exactly on the singular subjects
    _, info = AgreementGrammar(clause_probs=[0, 0, 1]).sample(300, np.random.default_rng(13), with_info=True)
    assert acc == pytest.approx(1.0 - info["plural"].mean())
    assert dist == pytest.approx(info["distance"].mean())
    assert np.all(info["clause_verbs"] == 2)


def test_agreement_accuracy_arguments_are_checked():
    grammar = AgreementGrammar()
    vocab = build_char_vocab([c for c in grammar.charset if c != "\n"])
    model = _constant_model(len(vocab), 3, np.random.default_rng(14))
    with pytest.raises(ValueError, match="clause_verbs"):
        agreement_accuracy(model, vocab, -1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        agreement_accuracy(model, vocab, 1, rng=None)


def test_reber_penultimate_accuracy_of_a_model_that_always_says_T():
    strings = ReberGrammar().sample(200, np.random.default_rng(15))
    vocab = build_char_vocab(ReberGrammar.symbols)
    model = _constant_model(len(vocab), vocab.stoi["T"], np.random.default_rng(16))
    assert reber_penultimate_accuracy(model, vocab, strings) == pytest.approx(np.mean([s[-2] == "T" for s in strings]))
    with pytest.raises(ValueError, match="strings"):
        reber_penultimate_accuracy(model, vocab, ["BTXSE"])


def test_linear_probe_reads_a_linearly_coded_label_and_not_a_missing_one():
    rng = np.random.default_rng(17)
    labels = rng.random(400) < 0.5
    coded = np.column_stack([np.where(labels, 1.0, -1.0) + 0.1 * rng.standard_normal(400),
                             rng.standard_normal(400)])
    assert linear_probe_accuracy(coded, labels) == 1.0
    # constant features: the fit can only output the sign of its bias, i.e. the majority of the fitted rows
    labels = np.array([True] * 70 + [False] * 30)           # fit on 60 True rows, test 10 True + 30 False
    assert linear_probe_accuracy(np.zeros((100, 2)), labels) == pytest.approx(10 / 40)


def test_linear_probe_arguments_are_checked():
    with pytest.raises(ValueError, match="labels"):
        linear_probe_accuracy(np.zeros((10, 2)), np.zeros(9, dtype=bool))
    with pytest.raises(ValueError, match="labels"):
        linear_probe_accuracy(np.zeros((10, 2)), np.arange(10))
    with pytest.raises(ValueError, match="train_fraction"):
        linear_probe_accuracy(np.zeros((10, 2)), np.zeros(10, dtype=bool), train_fraction=1.0)
    with pytest.raises(ValueError, match="features"):
        linear_probe_accuracy(np.zeros(10), np.zeros(10, dtype=bool))


# ----------------------------------------------------------------------------------------------------------------
# step_jacobian, state_gradient_norms
# ----------------------------------------------------------------------------------------------------------------
from rnn_utils.cells import LSTM_CELL, RNN_TANH_CELL, GRU_CELL  # noqa: E402
from rnn_utils.tasks import state_gradient_norms, step_jacobian  # noqa: E402
from rnn_utils.unrolled import Unrolled  # noqa: E402
from rnn_utils.variants import SIMPLIFIED_GRU_CELL  # noqa: E402


def _cell_params(rng, G, D, H, scale=0.5):
    return {"weight_ih": scale * rng.standard_normal((G * H, D)), "weight_hh": scale * rng.standard_normal((G * H, H)),
            "bias_ih": scale * rng.standard_normal(G * H), "bias_hh": scale * rng.standard_normal(G * H)}


def test_step_jacobian_of_the_rnn_is_the_closed_form():
    # h = tanh(a), a = x W_ih^T + b + h_prev W_hh^T:  dh/dh_prev = diag(1 - h^2) W_hh
    rng = np.random.default_rng(30)
    p = _cell_params(rng, 1, 3, 4)
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    J = step_jacobian(RNN_TANH_CELL, x, (h_prev,), p)
    h = np.tanh(x @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"])
    assert J.shape == (2, 4, 4)
    for b in range(2):
        np.testing.assert_allclose(J[b], (1 - h[b] ** 2)[:, None] * p["weight_hh"], rtol=1e-12)


def test_step_jacobian_of_the_simplified_gru_is_the_closed_form():
    # h = u n + (1 - u) h_prev: dh/dh_prev = diag(1 - u) + diag((n - h_prev) u (1 - u)) W_hu + diag(u (1 - n^2)) W_hn
    rng = np.random.default_rng(31)
    D, H = 3, 4
    p = _cell_params(rng, 2, D, H)
    x, h_prev = rng.standard_normal((2, D)), rng.standard_normal((2, H))
    a = x @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]
    u, n = 1 / (1 + np.exp(-a[:, :H])), np.tanh(a[:, H:])
    J = step_jacobian(SIMPLIFIED_GRU_CELL, x, (h_prev,), p)
    for b in range(2):
        want = (np.diag(1 - u[b]) + ((n[b] - h_prev[b]) * u[b] * (1 - u[b]))[:, None] * p["weight_hh"][:H]
                + (u[b] * (1 - n[b] ** 2))[:, None] * p["weight_hh"][H:])
        np.testing.assert_allclose(J[b], want, rtol=1e-12, atol=1e-15)


def test_step_jacobian_of_the_lstm_cell_states_matches_centred_differences():
    rng = np.random.default_rng(32)
    D, H = 3, 4
    p = _cell_params(rng, 4, D, H)
    x, h_prev, c_prev = rng.standard_normal((1, D)), rng.standard_normal((1, H)), rng.standard_normal((1, H))
    J = step_jacobian(LSTM_CELL, x, (h_prev, c_prev), p, of=1, wrt=1)      # dc/dc_prev = diag(f)
    num = np.empty((H, H))
    eps = 1e-6
    for j in range(H):
        e = np.zeros((1, H))
        e[0, j] = eps
        (_, c_plus), _ = LSTM_CELL.forward(x, (h_prev, c_prev + e), p)
        (_, c_minus), _ = LSTM_CELL.forward(x, (h_prev, c_prev - e), p)
        num[:, j] = (c_plus - c_minus)[0] / (2 * eps)
    np.testing.assert_allclose(J[0], num, rtol=1e-7, atol=1e-10)
    f = 1 / (1 + np.exp(-(x @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"])[0, H:2 * H]))
    np.testing.assert_allclose(J[0], np.diag(f), rtol=1e-12, atol=1e-15)


def test_state_gradient_norms_are_the_norms_of_k_backward_steps():
    # norms[k] = mean ||dL/d(state after step T-1-k)||; k backward steps by hand, and T steps land on dh0 exactly
    # as Unrolled.backward computes it
    rng = np.random.default_rng(33)
    D, H, T, B = 3, 4, 6, 5
    layer = Unrolled(GRU_CELL, D, H, rng=rng)
    p = layer.cell_params(0, 0)
    X = rng.standard_normal((T, B, D))
    h0 = rng.standard_normal((B, H))
    norms = state_gradient_norms(GRU_CELL, p, X, state0=(h0,), rng=np.random.default_rng(7))
    assert norms.shape == (T, 1)
    g = np.random.default_rng(7).standard_normal((B, H))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    for k in range(T):
        assert norms[k, 0] == pytest.approx(np.linalg.norm(_backprop_k(GRU_CELL, p, X, h0, g, k), axis=1).mean(),
                                            rel=1e-12)
    layer.forward(X, h0[None])
    _, dh0 = layer.backward(np.zeros((T, B, H)), g[None])
    np.testing.assert_allclose(dh0[0], _backprop_k(GRU_CELL, p, X, h0, g, T), rtol=1e-12)


def _backprop_k(cell, p, X, h0, g, k):
    """dL/d(state after step T-1-k) by running the whole sequence forward and k cell backward steps."""
    state, caches = (h0,), []
    for t in range(X.shape[0]):
        state, c = cell.forward(X[t], state, p)
        caches.append(c)
    d = (g,)
    for t in reversed(range(X.shape[0] - k, X.shape[0])):
        _, d, _ = cell.backward(d, caches[t])
    return d[0]


def test_state_gradient_norms_of_a_linear_rnn_decay_by_the_weight():
    # tanh near 0 with W_hh = 0.5 I and tiny inputs: the gradient halves every step (closed form 0.5^k)
    D, H = 2, 3
    p = {"weight_ih": np.zeros((H, D)), "weight_hh": 0.5 * np.eye(H), "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}
    X = np.zeros((8, 4, D))
    norms = state_gradient_norms(RNN_TANH_CELL, p, X, rng=np.random.default_rng(0))
    np.testing.assert_allclose(norms[:, 0], 0.5 ** np.arange(8), rtol=1e-12)


def test_state_gradient_norms_lstm_has_two_columns_and_the_highway():
    # independent truth: centred differences of L = sum(g * h_T) with respect to h_t (c_t held fixed) and to c_t
    # (h_t held fixed), each state fed unchanged to the later steps; g = the unit-norm direction drawn from the
    # same rng as the function does
    D, H, T, B = 2, 3, 5, 2
    p = _cell_params(np.random.default_rng(34), 4, D, H)
    X = np.random.default_rng(35).standard_normal((T, B, D))
    norms = state_gradient_norms(LSTM_CELL, p, X, rng=np.random.default_rng(1))
    g = np.random.default_rng(1).standard_normal((B, H))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    states = [(np.zeros((B, H)), np.zeros((B, H)))]
    for t in range(T):
        states.append(LSTM_CELL.forward(X[t], states[-1], p)[0])

    def loss_from(t, state):              # state = the output of step t; run steps t+1 .. T-1
        for s in range(t + 1, T):
            state, _ = LSTM_CELL.forward(X[s], state, p)
        return float(np.sum(g * state[0]))

    eps = 1e-6
    expected = np.empty((T, 2))
    for k in range(T):
        t = T - 1 - k
        for j in range(2):
            grad = np.empty((B, H))
            for idx in np.ndindex(B, H):
                plus, minus = [s.copy() for s in states[t + 1]], [s.copy() for s in states[t + 1]]
                plus[j][idx] += eps
                minus[j][idx] -= eps
                grad[idx] = (loss_from(t, tuple(plus)) - loss_from(t, tuple(minus))) / (2 * eps)
            expected[k, j] = np.linalg.norm(grad, axis=1).mean()
    assert norms.shape == (T, 2)
    assert norms[0, 0] == pytest.approx(1.0) and norms[0, 1] == 0.0
    np.testing.assert_allclose(norms[1:], expected[1:], rtol=1e-6)
    assert np.allclose(expected[0], [1.0, 0.0], atol=1e-8)


def test_comparison_helpers_reject_bad_arguments():
    rng = np.random.default_rng(36)
    p = _cell_params(rng, 1, 3, 4)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match="cell"):
        step_jacobian("rnn", x, (h,), p)
    with pytest.raises(ValueError, match="state"):
        step_jacobian(RNN_TANH_CELL, x, h, p)
    with pytest.raises(ValueError, match="wrt"):
        step_jacobian(RNN_TANH_CELL, x, (h,), p, wrt=1)
    with pytest.raises(ValueError, match="rng"):
        state_gradient_norms(RNN_TANH_CELL, p, rng.standard_normal((3, 2, 3)), rng=0)
    with pytest.raises(ValueError, match="X"):
        state_gradient_norms(RNN_TANH_CELL, p, rng.standard_normal((3, 2)), rng=rng)
    with pytest.raises(ValueError, match="params"):
        state_gradient_norms(RNN_TANH_CELL, None, rng.standard_normal((3, 2, 3)), rng=rng)
    with pytest.raises(ValueError, match=r"state0\[0\]"):
        state_gradient_norms(RNN_TANH_CELL, p, rng.standard_normal((3, 2, 3)), state0=(np.zeros((5, 4)),), rng=rng)
