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
