"""rnn_utils.timeseries against hand-computed cases, closed forms and numerical gradients."""
import numpy as np
import pytest

from rnn_utils import gradcheck, numerical_gradient
from rnn_utils.timeseries import (Forecaster, WindowMLP, autoregressive_forecast, chronological_split,
                                  fit_autoregressive, forecaster_predict, load_sample_series, make_windows,
                                  mean_squared_error, mse_loss, persistence_forecast, train_forecaster,
                                  train_window_model)

RNG = np.random.default_rng


# ---------------------------------------------------------------------------------------------- data
def test_sample_series_shapes_and_known_values():
    eeg, mem, goog = (load_sample_series(n) for n in ("eeg", "membrane", "goog"))
    assert eeg.shape == (800, 4) and mem.shape == (12000,) and goog.shape == (1047,)
    assert all(a.dtype == np.float64 and np.isfinite(a).all() for a in (eeg, mem, goog))
    assert goog[0] == pytest.approx(100.34)          # Google's first trading day, 2004-08-19
    assert mem.min() > -1 and mem.max() < 0.1          # a membrane potential in the file's units


def test_chronological_split_is_contiguous_and_ordered():
    x = np.arange(10.0)
    tr, va, te = chronological_split(x, fractions=(0.6, 0.2))
    assert tr.tolist() == [0, 1, 2, 3, 4, 5] and va.tolist() == [6, 7] and te.tolist() == [8, 9]
    tr, va, te = chronological_split(np.arange(14.0).reshape(7, 2), fractions=(0.5, 0.3))  # 3, 2, 2 rows
    assert tr.shape == (3, 2) and va.shape == (2, 2) and te.shape == (2, 2)
    with pytest.raises(ValueError, match="fractions"):
        chronological_split(x, fractions=(0.7, 0.3))


def test_make_windows_hand_case():
    X, y = make_windows(np.arange(6.0), 2)
    assert X.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]] and y.tolist() == [2, 3, 4, 5]
    X, y = make_windows(np.arange(6.0), 2, horizon=3)
    assert X.tolist() == [[0, 1], [1, 2]] and y.tolist() == [4, 5]


def test_persistence_is_the_last_value():
    assert persistence_forecast([[1.0, 2.0], [5.0, 3.0]]).tolist() == [2.0, 3.0]


# ---------------------------------------------------------------------------------------------- AR
def test_autoregressive_recovers_a_noiseless_ar2_process():
    x = np.empty(60)
    x[:2] = [1.0, 0.3]
    for t in range(2, 60):
        x[t] = 1.5 * x[t - 1] - 0.7 * x[t - 2] + 0.2        # taps oldest first: w = (-0.7, 1.5), b = 0.2
    X, y = make_windows(x, 2)
    w, b = fit_autoregressive(X, y)
    np.testing.assert_allclose(w, [-0.7, 1.5], atol=1e-9)
    assert b == pytest.approx(0.2, abs=1e-9)
    np.testing.assert_allclose(autoregressive_forecast(w, b, X), y, atol=1e-9)


@pytest.mark.parametrize("ridge", [0.0, 0.5])
def test_autoregressive_fit_is_a_stationary_point_of_its_objective(ridge):
    rng = RNG(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    w, b = fit_autoregressive(X, y, ridge=ridge)
    theta = np.append(w, b)

    def objective():
        r = y - X @ theta[:4] - theta[4]
        return r @ r + ridge * theta[:4] @ theta[:4]
    assert np.abs(numerical_gradient(objective, theta)).max() < 1e-8


# ---------------------------------------------------------------------------------------------- losses
def test_mse_loss_value_and_gradient():
    loss, d = mse_loss(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
    assert loss == pytest.approx(2.5) and d.tolist() == [1.0, -2.0]
    rng = RNG(1)
    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, d = mse_loss(pred, target)
    num = numerical_gradient(lambda: mse_loss(pred, target)[0], pred)
    assert np.abs(d - num).max() < 1e-10
    assert mean_squared_error(pred, target) == pytest.approx(np.mean((pred - target) ** 2))
    with pytest.raises(ValueError, match="target"):
        mse_loss(np.zeros(3), np.zeros((3, 1)))


# ---------------------------------------------------------------------------------------------- models
def test_window_mlp_forward_matches_the_formula_and_gradients_check():
    rng = RNG(2)
    net = WindowMLP(3, 5, rng=rng)
    X, target = rng.standard_normal((7, 3)), rng.standard_normal(7)
    p = net.params
    manual = np.tanh(X @ p["hidden.weight"].T + p["hidden.bias"]) @ p["out.weight"][0] + p["out.bias"][0]
    np.testing.assert_allclose(net.forward(X), manual, rtol=1e-12)

    def loss():
        return mse_loss(net.forward(X), target)[0]
    _, d = mse_loss(net.forward(X), target)
    dX = net.backward(d)
    grads = {k: g.copy() for k, g in net.grads.items()}
    gradcheck(loss, net.params, grads)
    assert np.abs(dX - numerical_gradient(loss, X)).max() / np.abs(dX).max() < 1e-7


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forecaster_gradients_check_many_to_many_and_many_to_one(cell):
    rng = RNG(3)
    net = Forecaster(2, 4, cell=cell, rng=rng)
    X, G = rng.standard_normal((5, 3, 2)), rng.standard_normal((5, 3))
    # a linear functional of the outputs (the squared-error head is checked in test_mse_loss_value_and_gradient)
    for mask in (np.ones((5, 3)), np.r_[np.zeros((4, 3)), np.ones((1, 3))]):   # every step / last step only

        def loss():
            Y, _ = net.forward(X)
            return np.sum(mask * G * Y)
        net.forward(X)
        dX = net.backward(mask * G)
        grads = {k: g.copy() for k, g in net.grads.items()}
        gradcheck(loss, net.params, grads)
        num = numerical_gradient(loss, X)
        assert np.abs(dX - num).max() / np.abs(num).max() < 1e-7


def test_forecaster_is_its_layers_and_is_causal():
    rng = RNG(4)
    net = Forecaster(1, 3, cell="lstm", rng=rng)
    X = rng.standard_normal((9, 2, 1))
    Y, _ = net.forward(X)
    Hs, _ = net.rnn.forward(X)
    np.testing.assert_allclose(Y, Hs @ net.params["head.weight"][0] + net.params["head.bias"][0], rtol=1e-12)
    X2 = X.copy()
    X2[5:] += 1.0                                    # change the future only
    Y2, _ = net.forward(X2)
    np.testing.assert_array_equal(Y2[:5], Y[:5])
    assert not np.allclose(Y2[5:], Y[5:])


def test_forecaster_predict_carries_the_state_across_chunks():
    rng = RNG(5)
    net = Forecaster(1, 3, cell="gru", rng=rng)
    x = rng.standard_normal(23)
    whole, _ = net.forward(x[:, None, None])
    np.testing.assert_allclose(forecaster_predict(net, x, chunk=5), whole[:, 0], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------- training
def test_train_window_model_learns_and_keeps_the_best_validation_parameters():
    rng = RNG(6)
    X = rng.standard_normal((400, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 2]
    net = WindowMLP(3, 8, rng=RNG(7))
    before = mean_squared_error(net.forward(X[300:]), y[300:])
    hist = train_window_model(net, X[:300], y[:300], steps=300, batch_size=32, lr=1e-2, rng=RNG(8),
                              val=(X[300:], y[300:]), eval_every=30)
    after = mean_squared_error(net.forward(X[300:]), y[300:])
    assert after < 0.05 * before
    assert after == pytest.approx(hist["val_mse"].min(), rel=1e-12)
    assert hist["loss"].shape == (300,) and hist["val_step"].tolist() == list(range(30, 301, 30))


def test_train_forecaster_beats_persistence_on_a_sine_and_keeps_the_best_validation_parameters():
    x = np.sin(0.3 * np.arange(400))
    net = Forecaster(1, 8, cell="lstm", rng=RNG(9))
    hist = train_forecaster(net, x[:-1], x[1:], train_end=250, val_end=320, seq_len=30, batch_size=8,
                            steps=200, lr=1e-2, rng=RNG(10), warmup=5, eval_every=20)
    pred = forecaster_predict(net, x[:-1])
    val = mean_squared_error(pred[250:320], x[251:321])
    assert val == pytest.approx(hist["val_mse"].min(), rel=1e-12)
    persistence = mean_squared_error(x[320:-1], x[321:])
    assert mean_squared_error(pred[320:], x[321:]) < 0.2 * persistence


def test_train_forecaster_diagnostics_match_a_hand_loop_over_windows_and_one_pass():
    x = np.sin(0.3 * np.arange(300)) + 0.1 * RNG(11).standard_normal(300)
    net = Forecaster(1, 5, cell="gru", rng=RNG(12))
    train_end, val_end, seq_len, warmup = 150, 237, 20, 4     # 87 validation positions: 5 whole windows + 7
    hist = train_forecaster(net, x[:-1], x[1:], train_end=train_end, val_end=val_end, seq_len=seq_len,
                            batch_size=4, steps=30, lr=1e-2, rng=RNG(13), warmup=warmup, eval_every=30)
    assert hist["val_window_mse"].shape == hist["train_pass_mse"].shape == hist["val_mse"].shape == (1,)
    # the single evaluation happened at the last update, so the restored parameters are the evaluated ones
    inp, tgt = x[:-1], x[1:]
    sq, n = 0.0, 0
    for pos in range(train_end, val_end):                      # each position: its own window, by hand
        k = (pos - train_end) // (seq_len - warmup)
        lo = train_end + k * (seq_len - warmup) - warmup        # the window's first input, zero state there
        h = None
        for t in range(lo, pos + 1):
            y_t, h = net.forward(inp[t:t + 1, None, None], h)
        sq += (y_t[0, 0] - tgt[pos]) ** 2
        n += 1
    assert n == 87
    assert hist["val_window_mse"][0] == pytest.approx(sq / n, rel=1e-10)
    pred = forecaster_predict(net, inp)
    assert hist["train_pass_mse"][0] == pytest.approx(np.mean((pred[warmup:train_end] - tgt[warmup:train_end]) ** 2),
                                                      rel=1e-10)
    assert "val_window_mse" not in train_forecaster(net, inp, tgt, train_end=train_end, seq_len=seq_len,
                                                    batch_size=4, steps=2, lr=1e-2, rng=RNG(14))
