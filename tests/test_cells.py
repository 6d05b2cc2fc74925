"""Single-step cells: numerical gradient checks, hand-computed cases, argument checks."""
import numpy as np
import pytest

from rnn_utils.cells import (
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
    sigmoid,
)
from rnn_utils.gradcheck import gradcheck

B, D, H = 2, 3, 3


def make_params(rng, gates, D=D, H=H, scale=0.8):
    return {
        "weight_ih": rng.uniform(-scale, scale, (gates * H, D)),
        "weight_hh": rng.uniform(-scale, scale, (gates * H, H)),
        "bias_ih": rng.uniform(-scale, scale, gates * H),
        "bias_hh": rng.uniform(-scale, scale, gates * H),
    }


def test_sigmoid_matches_definition_and_does_not_overflow():
    a = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(a), 1.0 / (1.0 + np.exp(-a)), rtol=1e-14, atol=0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])


# ---------------------------------------------------------------------------------------------------------------
# gradient checks
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_gradients(nonlinearity):
    rng = np.random.default_rng(1)
    p = make_params(rng, 1)
    x, h_prev, dh = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    if nonlinearity == "relu":  # keep every pre-activation away from the kink at 0 (the stencil spans +-2e-3)
        a = x @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]
        assert np.abs(a).min() > 0.02 and (a > 0).any() and (a < 0).any()
    h, cache = rnn_cell_forward(x, h_prev, p, nonlinearity=nonlinearity)
    dx, dh_prev, grads = rnn_cell_backward(dh, cache)

    def loss():
        return np.sum(rnn_cell_forward(x, h_prev, p, nonlinearity=nonlinearity)[0] * dh)

    gradcheck(loss, {"x": x, "h_prev": h_prev, **p}, {"x": dx, "h_prev": dh_prev, **grads})


def test_lstm_cell_gradients():
    rng = np.random.default_rng(2)
    p = make_params(rng, 4)
    x, h_prev, c_prev = (rng.standard_normal(s) for s in ((B, D), (B, H), (B, H)))
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, p)
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(dh, dc, cache)

    def loss():
        h, c, _ = lstm_cell_forward(x, h_prev, c_prev, p)
        return np.sum(h * dh) + np.sum(c * dc)

    gradcheck(loss, {"x": x, "h_prev": h_prev, "c_prev": c_prev, **p},
              {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads})


def test_lstm_cell_backward_dc_none_means_zero():
    rng = np.random.default_rng(3)
    p = make_params(rng, 4)
    x, h_prev, c_prev, dh = (rng.standard_normal(s) for s in ((B, D), (B, H), (B, H), (B, H)))
    cache = lstm_cell_forward(x, h_prev, c_prev, p)[2]
    a = lstm_cell_backward(dh, None, cache)
    b = lstm_cell_backward(dh, np.zeros((B, H)), cache)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_gradients(reset_after):
    rng = np.random.default_rng(4)
    p = make_params(rng, 3)
    x, h_prev, dh = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, cache = gru_cell_forward(x, h_prev, p, reset_after=reset_after)
    dx, dh_prev, grads = gru_cell_backward(dh, cache)

    def loss():
        return np.sum(gru_cell_forward(x, h_prev, p, reset_after=reset_after)[0] * dh)

    gradcheck(loss, {"x": x, "h_prev": h_prev, **p}, {"x": dx, "h_prev": dh_prev, **grads})


def test_gru_variants_differ_only_through_the_reset_gate():
    rng = np.random.default_rng(5)
    p = make_params(rng, 3)
    x, h_prev = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    h_after = gru_cell_forward(x, h_prev, p, reset_after=True)[0]
    h_before = gru_cell_forward(x, h_prev, p, reset_after=False)[0]
    assert np.abs(h_after - h_before).max() > 1e-3
    # with the reset gate saturated open (r = 1) the two candidates coincide
    p["bias_hh"][:H] = 50.0
    np.testing.assert_allclose(gru_cell_forward(x, h_prev, p, reset_after=True)[0],
                               gru_cell_forward(x, h_prev, p, reset_after=False)[0], atol=1e-15)


# ---------------------------------------------------------------------------------------------------------------
# hand-computed cases
# ---------------------------------------------------------------------------------------------------------------
def one_unit(gates, w_ih, w_hh, b_ih, b_hh):
    return {"weight_ih": np.array(w_ih, float).reshape(gates, 1), "weight_hh": np.array(w_hh, float).reshape(gates, 1),
            "bias_ih": np.array(b_ih, float), "bias_hh": np.array(b_hh, float)}


def test_rnn_cell_one_unit_by_hand():
    p = one_unit(1, [0.5], [-1.0], [0.1], [0.2])
    # a = 0.5 * 2 + 0.1 + (-1) * 0.3 + 0.2 = 1.0,  h = tanh(1)
    h, cache = rnn_cell_forward(np.array([[2.0]]), np.array([[0.3]]), p)
    assert h[0, 0] == pytest.approx(0.7615941559557649, abs=1e-15)
    dx, dh_prev, g = rnn_cell_backward(np.array([[1.0]]), cache)
    da = 1 - 0.7615941559557649 ** 2                      # tanh'(1) = 0.41997434161402614
    assert dx[0, 0] == pytest.approx(0.5 * da) and dh_prev[0, 0] == pytest.approx(-da)
    assert g["weight_ih"][0, 0] == pytest.approx(2.0 * da) and g["weight_hh"][0, 0] == pytest.approx(0.3 * da)
    assert g["bias_ih"][0] == pytest.approx(da) and g["bias_hh"][0] == pytest.approx(da)
    # relu: a = 1.0 > 0 passes through; a < 0 is cut
    assert rnn_cell_forward(np.array([[2.0]]), np.array([[0.3]]), p, "relu")[0][0, 0] == pytest.approx(1.0)
    assert rnn_cell_forward(np.array([[-2.0]]), np.array([[0.3]]), p, "relu")[0][0, 0] == 0.0


def test_lstm_cell_one_unit_by_hand():
    # all pre-activations 0 except the forget gate's bias: i = o = 1/2, g = 0, f = sigmoid(ln 3) = 3/4
    p = one_unit(4, [0, 0, 0, 0], [0, 0, 0, 0], [0, np.log(3.0), 0, 0], [0, 0, 0, 0])
    h, c, _ = lstm_cell_forward(np.array([[5.0]]), np.array([[7.0]]), np.array([[2.0]]), p)
    assert c[0, 0] == pytest.approx(0.75 * 2.0)                     # f * c_prev + i * g = 1.5
    assert h[0, 0] == pytest.approx(0.5 * np.tanh(1.5))
    # now the candidate: g = tanh(1 * x) with x = 1, i = 1/2, f = 1/2 -> c = 0.5 * 0 + 0.5 * tanh(1)
    p = one_unit(4, [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0])
    h, c, _ = lstm_cell_forward(np.array([[1.0]]), np.array([[0.0]]), np.array([[0.0]]), p)
    assert c[0, 0] == pytest.approx(0.5 * np.tanh(1.0))


@pytest.mark.parametrize("reset_after, expected_n", [(True, np.tanh(0.5)), (False, np.tanh(1.0))])
def test_gru_cell_one_unit_by_hand(reset_after, expected_n):
    # zero weights: r = z = 1/2. With b_hn = 1 the candidate is tanh(r * 1) = tanh(0.5) when the reset gate acts
    # after the recurrent product, tanh(W_hn (r h) + b_hn) = tanh(1) when it acts before. h = (n + h_prev) / 2.
    p = one_unit(3, [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1.0])
    h, _ = gru_cell_forward(np.array([[3.0]]), np.array([[0.4]]), p, reset_after=reset_after)
    assert h[0, 0] == pytest.approx(0.5 * expected_n + 0.5 * 0.4, abs=1e-15)


def test_cells_keep_float32():
    rng = np.random.default_rng(6)
    p = {k: v.astype(np.float32) for k, v in make_params(rng, 4).items()}
    x, h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in ((B, D), (B, H), (B, H)))
    h, c, cache = lstm_cell_forward(x, h0, c0, p)
    assert h.dtype == c.dtype == np.float32
    dx, dh0, dc0, g = lstm_cell_backward(h, c, cache)
    assert dx.dtype == dh0.dtype == dc0.dtype == g["weight_hh"].dtype == np.float32


# ---------------------------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------------------------
def test_cell_argument_errors():
    rng = np.random.default_rng(7)
    p = make_params(rng, 1)
    x, h = np.zeros((B, D)), np.zeros((B, H))
    with pytest.raises(ValueError, match=r"x: expected shape \(B, D=3\), got \(2, 4\)"):
        rnn_cell_forward(np.zeros((B, 4)), h, p)
    with pytest.raises(ValueError, match=r"x: expected a 2-d array of shape \(B, D=3\), got 1-d shape \(3,\)"):
        rnn_cell_forward(np.zeros(D), h, p)
    with pytest.raises(ValueError, match=r"h_prev: expected shape \(B=2, H=3\), got \(3, 3\)"):
        rnn_cell_forward(x, np.zeros((3, H)), p)
    with pytest.raises(ValueError, match=r"x: contains 1 NaN or inf"):
        rnn_cell_forward(np.array([[0.0, np.inf, 0.0], [0.0, 0.0, 0.0]]), h, p)
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of \['tanh', 'relu'\], got 'sigmoid'"):
        rnn_cell_forward(x, h, p, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"params: missing keys \['bias_hh'\]"):
        rnn_cell_forward(x, h, {k: v for k, v in p.items() if k != "bias_hh"})
    with pytest.raises(ValueError, match=r"params\['weight_hh'\]: expected shape \(G\*H, H\) with G=4, got \(3, 3\)"):
        lstm_cell_forward(x, h, h, p)
    with pytest.raises(ValueError, match=r"params\['bias_ih'\]: expected shape \(G\*H=3,\), got \(4,\)"):
        rnn_cell_forward(x, h, {**p, "bias_ih": np.zeros(4)})
    p4 = make_params(rng, 4)
    with pytest.raises(ValueError, match=r"c_prev: expected shape \(B=2, H=3\), got \(2, 2\)"):
        lstm_cell_forward(x, h, np.zeros((B, 2)), p4)
    cache = lstm_cell_forward(x, h, h, p4)[2]
    with pytest.raises(ValueError, match=r"dc: expected shape \(B=2, H=3\), got \(2, 1\)"):
        lstm_cell_backward(h, np.zeros((B, 1)), cache)
    with pytest.raises(ValueError, match=r"reset_after: expected one of \[True, False\], got 'yes'"):
        gru_cell_forward(x, h, make_params(rng, 3), reset_after="yes")
    cache = gru_cell_forward(x, h, make_params(rng, 3))[1]
    with pytest.raises(ValueError, match=r"dh: expected shape \(B=2, H=3\), got \(2, 3, 1\)|dh: expected a 2-d"):
        gru_cell_backward(np.zeros((B, H, 1)), cache)
