"""LSTM and GRU variant cells: gradient checks, reductions to the plain LSTM and GRU cells, hand-computed steps, argument checks."""
import math

import numpy as np
import pytest

from rnn_utils.cells import Cell, lstm_cell_backward, lstm_cell_forward
from rnn_utils.gradcheck import gradcheck
from rnn_utils.unrolled import Unrolled
from rnn_utils.variants import (
    COUPLED_LSTM_CELL,
    NO_FORGET_GATE_LSTM_CELL,
    NO_OUTPUT_GATE_LSTM_CELL,
    PEEPHOLE_LSTM_CELL,
    VARIANT_CELLS,
    coupled_lstm_cell_backward,
    coupled_lstm_cell_forward,
    no_forget_gate_lstm_cell_backward,
    no_forget_gate_lstm_cell_forward,
    no_output_gate_lstm_cell_backward,
    no_output_gate_lstm_cell_forward,
    peephole_lstm_cell_backward,
    peephole_lstm_cell_forward,
)

B, D, H = 3, 4, 5

VARIANTS = {
    "peephole": (peephole_lstm_cell_forward, peephole_lstm_cell_backward, 4, True),
    "no_forget_gate": (no_forget_gate_lstm_cell_forward, no_forget_gate_lstm_cell_backward, 3, False),
    "no_output_gate": (no_output_gate_lstm_cell_forward, no_output_gate_lstm_cell_backward, 3, False),
    "coupled": (coupled_lstm_cell_forward, coupled_lstm_cell_backward, 3, False),
}


def _params(rng, G, peephole=False, scale=0.5):
    p = {"weight_ih": scale * rng.standard_normal((G * H, D)), "weight_hh": scale * rng.standard_normal((G * H, H)),
         "bias_ih": scale * rng.standard_normal(G * H), "bias_hh": scale * rng.standard_normal(G * H)}
    if peephole:
        for k in ("weight_ci", "weight_cf", "weight_co"):
            p[k] = scale * rng.standard_normal(H)
    return p


def _inputs(rng):
    return rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_step_gradients_match_centred_differences(name):
    fwd, bwd, G, peep = VARIANTS[name]
    rng = np.random.default_rng(1)
    p = _params(rng, G, peep)
    x, h_prev, c_prev = _inputs(rng)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = fwd(x, h_prev, c_prev, p)
    assert h.shape == c.shape == (B, H)
    dx, dh_prev, dc_prev, grads = bwd(dh, dc, cache)
    assert set(grads) == set(p) and all(grads[k].shape == p[k].shape for k in p)

    def loss():  # d loss / dh = dh, d loss / dc = dc: the backward's upstream gradients
        h_, c_, _ = fwd(x, h_prev, c_prev, p)
        return float(np.sum(h_ * dh) + np.sum(c_ * dc))

    errs = gradcheck(loss, {**p, "x": x, "h_prev": h_prev, "c_prev": c_prev},
                     {**grads, "x": dx, "h_prev": dh_prev, "c_prev": dc_prev})
    assert max(errs.values()) < 1e-7


@pytest.mark.parametrize("name", list(VARIANTS))
def test_none_upstream_gradient_means_zeros(name):
    fwd, bwd, G, peep = VARIANTS[name]
    rng = np.random.default_rng(2)
    p = _params(rng, G, peep)
    _, _, cache = fwd(*_inputs(rng), p)
    dh = rng.standard_normal((B, H))
    a, b = bwd(dh, None, cache), bwd(dh, np.zeros((B, H)), cache)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(u, v)


def _lstm_params_with_block(p3, order, block):
    """Insert a 4th gate block into 3-gate params to make LSTM (i, f, g, o) params; order names the 3 blocks."""
    out = {}
    for k, v in p3.items():
        blocks = dict(zip(order, np.split(v, 3, axis=0)))
        blocks.update(block(k, blocks))
        out[k] = np.concatenate([blocks[g] for g in "ifgo"], axis=0)
    return out


def _assert_close(a, b, tol=1e-14):
    np.testing.assert_allclose(a, b, rtol=0, atol=tol)


def test_peephole_with_zero_peepholes_is_the_lstm_cell():
    rng = np.random.default_rng(3)
    p = _params(rng, 4, peephole=True)
    for k in ("weight_ci", "weight_cf", "weight_co"):
        p[k] = np.zeros(H)
    x, h_prev, c_prev = _inputs(rng)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = peephole_lstm_cell_forward(x, h_prev, c_prev, p)
    h0, c0, cache0 = lstm_cell_forward(x, h_prev, c_prev, p)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(c, c0)
    out, ref = peephole_lstm_cell_backward(dh, dc, cache), lstm_cell_backward(dh, dc, cache0)
    for u, v in zip(out[:3], ref[:3]):
        _assert_close(u, v)
    for k in ref[3]:
        _assert_close(out[3][k], ref[3][k])


def test_peephole_weights_change_the_step_when_nonzero():
    rng = np.random.default_rng(4)
    p = _params(rng, 4, peephole=True)
    x, h_prev, c_prev = _inputs(rng)
    h, c, _ = peephole_lstm_cell_forward(x, h_prev, c_prev, p)
    h0, c0, _ = lstm_cell_forward(x, h_prev, c_prev, p)
    assert np.abs(h - h0).max() > 1e-3 and np.abs(c - c0).max() > 1e-3


def test_no_forget_gate_is_the_lstm_with_a_saturated_forget_gate():
    # sigmoid(40) == 1.0 exactly in float64, so an LSTM whose forget block reads only a bias of 40 has f = 1
    rng = np.random.default_rng(5)
    p3 = _params(rng, 3)
    p4 = _lstm_params_with_block(p3, "igo", lambda k, bl: {"f": np.full_like(bl["i"], 40.0 if k == "bias_ih" else 0.0)})
    x, h_prev, c_prev = _inputs(rng)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = no_forget_gate_lstm_cell_forward(x, h_prev, c_prev, p3)
    h0, c0, cache0 = lstm_cell_forward(x, h_prev, c_prev, p4)
    assert np.all(cache0["f"] == 1.0)
    _assert_close(h, h0)
    _assert_close(c, c0)
    out, ref = no_forget_gate_lstm_cell_backward(dh, dc, cache), lstm_cell_backward(dh, dc, cache0)
    for u, v in zip(out[:3], ref[:3]):
        _assert_close(u, v)
    for k in p3:
        i, f, g, o = np.split(ref[3][k], 4, axis=0)
        _assert_close(out[3][k], np.concatenate([i, g, o], axis=0))
        _assert_close(f, 0 * f)                   # a saturated gate passes no gradient


def test_no_output_gate_is_the_lstm_with_a_saturated_output_gate():
    rng = np.random.default_rng(6)
    p3 = _params(rng, 3)
    p4 = _lstm_params_with_block(p3, "ifg", lambda k, bl: {"o": np.full_like(bl["i"], 40.0 if k == "bias_ih" else 0.0)})
    x, h_prev, c_prev = _inputs(rng)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = no_output_gate_lstm_cell_forward(x, h_prev, c_prev, p3)
    h0, c0, cache0 = lstm_cell_forward(x, h_prev, c_prev, p4)
    assert np.all(cache0["o"] == 1.0)
    _assert_close(h, h0)
    _assert_close(c, c0)
    np.testing.assert_array_equal(h, np.tanh(c))
    out, ref = no_output_gate_lstm_cell_backward(dh, dc, cache), lstm_cell_backward(dh, dc, cache0)
    for u, v in zip(out[:3], ref[:3]):
        _assert_close(u, v)
    for k in p3:
        i, f, g, o = np.split(ref[3][k], 4, axis=0)
        _assert_close(out[3][k], np.concatenate([i, f, g], axis=0))


def test_coupled_is_the_lstm_whose_forget_block_is_minus_the_input_block():
    # sigmoid(-a) = 1 - sigmoid(a): an LSTM with W_f = -W_i, b_f = -b_i has f = 1 - i
    rng = np.random.default_rng(7)
    p3 = _params(rng, 3)
    p4 = _lstm_params_with_block(p3, "igo", lambda k, bl: {"f": -bl["i"]})
    x, h_prev, c_prev = _inputs(rng)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    h, c, cache = coupled_lstm_cell_forward(x, h_prev, c_prev, p3)
    h0, c0, cache0 = lstm_cell_forward(x, h_prev, c_prev, p4)
    _assert_close(cache["f"], 1.0 - cache["i"], 0)
    _assert_close(h, h0)
    _assert_close(c, c0)
    out, ref = coupled_lstm_cell_backward(dh, dc, cache), lstm_cell_backward(dh, dc, cache0)
    for u, v in zip(out[:3], ref[:3]):
        _assert_close(u, v, 1e-13)
    for k in p3:
        # the shared block collects both gradients, with the sign of a_f = -a_i
        i, f, g, o = np.split(ref[3][k], 4, axis=0)
        _assert_close(out[3][k], np.concatenate([i - f, g, o], axis=0), 1e-13)


# ----------------------------------------------------------------------------------------------------------------
# one unit, one example, numbers chosen so that every gate has a closed form
# ----------------------------------------------------------------------------------------------------------------
def _hand_params(G, blocks):
    """H = D = 1, all weights 0, bias_ih = the given per-gate biases (in the variant's gate order), bias_hh = 0."""
    return {"weight_ih": np.zeros((G, 1)), "weight_hh": np.zeros((G, 1)), "bias_ih": np.array(blocks, float),
            "bias_hh": np.zeros(G)}


X1, H1, C1 = np.array([[0.3]]), np.array([[-0.2]]), np.array([[2.0]])
LN3, LN2 = math.log(3.0), math.log(2.0)      # sigmoid(ln 3) = 3/4, tanh(ln 2) = 3/5


def test_hand_computed_peephole_step():
    # i = sigmoid(0 + w_ci * 2) = 3/4, f = sigmoid(0 + w_cf * 2) = 1/4, g = tanh(ln 2) = 3/5
    # c = 1/4 * 2 + 3/4 * 3/5 = 0.95, o = sigmoid(w_co * 0.95) = 3/4, h = 3/4 tanh(0.95)
    p = _hand_params(4, [0.0, 0.0, LN2, 0.0])
    p.update(weight_ci=np.array([LN3 / 2]), weight_cf=np.array([-LN3 / 2]), weight_co=np.array([LN3 / 0.95]))
    h, c, cache = peephole_lstm_cell_forward(X1, H1, C1, p)
    assert cache["i"][0, 0] == pytest.approx(0.75, abs=1e-15)
    assert cache["f"][0, 0] == pytest.approx(0.25, abs=1e-15)
    assert cache["g"][0, 0] == pytest.approx(0.6, abs=1e-15)
    assert c[0, 0] == pytest.approx(0.95, abs=1e-15)
    assert cache["o"][0, 0] == pytest.approx(0.75, abs=1e-15)
    assert h[0, 0] == pytest.approx(0.75 * math.tanh(0.95), abs=1e-15)
    # backward with dh = 0, dc = 1: dc_prev = f + da_i w_ci + da_f w_cf,
    # da_i = g i (1 - i) = 0.6 * 3/16, da_f = c_prev f (1 - f) = 2 * 3/16
    _, _, dc_prev, grads = peephole_lstm_cell_backward(np.zeros((1, 1)), np.ones((1, 1)), cache)
    da_i, da_f = 0.6 * 3 / 16, 2 * 3 / 16
    assert dc_prev[0, 0] == pytest.approx(0.25 + da_i * LN3 / 2 - da_f * LN3 / 2, abs=1e-15)
    assert grads["weight_ci"][0] == pytest.approx(da_i * 2, abs=1e-15)
    assert grads["weight_cf"][0] == pytest.approx(da_f * 2, abs=1e-15)
    assert grads["weight_co"][0] == 0.0


def test_hand_computed_no_forget_gate_step():
    # i = 3/4, g = 3/5, o = 1/2: c = 2 + 0.45 = 2.45, h = tanh(2.45) / 2; dc_prev = dc exactly (f = 1)
    h, c, cache = no_forget_gate_lstm_cell_forward(X1, H1, C1, _hand_params(3, [LN3, LN2, 0.0]))
    assert c[0, 0] == pytest.approx(2.45, abs=1e-15)
    assert h[0, 0] == pytest.approx(0.5 * math.tanh(2.45), abs=1e-15)
    _, _, dc_prev, _ = no_forget_gate_lstm_cell_backward(np.zeros((1, 1)), np.array([[0.7]]), cache)
    assert dc_prev[0, 0] == 0.7


def test_hand_computed_no_output_gate_step():
    # i = 3/4, f = 1/4, g = 3/5: c = 0.5 + 0.45 = 0.95, h = tanh(0.95)
    h, c, _ = no_output_gate_lstm_cell_forward(X1, H1, C1, _hand_params(3, [LN3, -LN3, LN2]))
    assert c[0, 0] == pytest.approx(0.95, abs=1e-15)
    assert h[0, 0] == pytest.approx(math.tanh(0.95), abs=1e-15)


def test_hand_computed_coupled_step():
    # i = 3/4 so f = 1/4, g = 3/5, o = 3/4: c = 2 + 3/4 (3/5 - 2) = 0.95; dc_prev = dc (1 - i) = dc / 4
    h, c, cache = coupled_lstm_cell_forward(X1, H1, C1, _hand_params(3, [LN3, LN2, LN3]))
    assert c[0, 0] == pytest.approx(0.95, abs=1e-15)
    assert h[0, 0] == pytest.approx(0.75 * math.tanh(0.95), abs=1e-15)
    _, _, dc_prev, grads = coupled_lstm_cell_backward(np.zeros((1, 1)), np.ones((1, 1)), cache)
    assert dc_prev[0, 0] == pytest.approx(0.25, abs=1e-15)
    # d c / d a_i = (g - c_prev) i (1 - i) = (0.6 - 2) * 3/16
    assert grads["bias_ih"][0] == pytest.approx(-1.4 * 3 / 16, abs=1e-15)


# ----------------------------------------------------------------------------------------------------------------
# Cell objects and the unrolled layer
# ----------------------------------------------------------------------------------------------------------------
def test_cell_objects_describe_the_variants():
    assert set(VARIANT_CELLS) == {"lstm_peephole", "lstm_no_forget_gate", "lstm_no_output_gate", "lstm_coupled"}
    for cell in VARIANT_CELLS.values():
        assert isinstance(cell, Cell) and cell.num_states == 2
    assert PEEPHOLE_LSTM_CELL.param_shapes(D, H) == {
        "weight_ih": (4 * H, D), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,),
        "weight_ci": (H,), "weight_cf": (H,), "weight_co": (H,)}
    for cell in (NO_FORGET_GATE_LSTM_CELL, NO_OUTPUT_GATE_LSTM_CELL, COUPLED_LSTM_CELL):
        assert cell.param_shapes(D, H) == {"weight_ih": (3 * H, D), "weight_hh": (3 * H, H), "bias_ih": (3 * H,),
                                           "bias_hh": (3 * H,)}


@pytest.mark.parametrize("name", sorted(VARIANT_CELLS))
def test_cell_object_is_the_step_function(name):
    cell = VARIANT_CELLS[name]
    fwd, bwd = {"lstm_peephole": VARIANTS["peephole"], "lstm_no_forget_gate": VARIANTS["no_forget_gate"],
                "lstm_no_output_gate": VARIANTS["no_output_gate"], "lstm_coupled": VARIANTS["coupled"]}[name][:2]
    rng = np.random.default_rng(8)
    p = _params(rng, cell.gates, bool(cell.extra_params))
    x, h_prev, c_prev = _inputs(rng)
    (h, c), cache = cell.forward(x, (h_prev, c_prev), p)
    h0, c0, cache0 = fwd(x, h_prev, c_prev, p)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(c, c0)
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    dx, (dh_prev, dc_prev), grads = cell.backward((dh, dc), cache)
    ref = bwd(dh, dc, cache0)
    for u, v in zip((dx, dh_prev, dc_prev), ref[:3]):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", sorted(VARIANT_CELLS))
def test_unrolled_sequence_with_a_variant_cell_is_gradient_checked(name):
    rng = np.random.default_rng(9)
    layer = Unrolled(VARIANT_CELLS[name], D, H, rng=rng)
    X = rng.standard_normal((4, 2, D))
    h0, c0 = rng.standard_normal((1, 2, H)), rng.standard_normal((1, 2, H))
    dY = rng.standard_normal((4, 2, H))
    dh_n, dc_n = rng.standard_normal((1, 2, H)), rng.standard_normal((1, 2, H))

    def loss():
        Y, (h_n, c_n) = layer.forward(X, (h0, c0))
        return float(np.sum(Y * dY) + np.sum(h_n * dh_n) + np.sum(c_n * dc_n))

    loss()
    dX, (dh0, dc0) = layer.backward(dY, (dh_n, dc_n))
    grads = {k: v.copy() for k, v in layer.grads.items()}
    errs = gradcheck(loss, {**layer.params, "X": X, "h0": h0, "c0": c0}, {**grads, "X": dX, "h0": dh0, "c0": dc0})
    assert max(errs.values()) < 1e-7
    if name == "lstm_peephole":
        assert {"weight_ci_l0", "weight_cf_l0", "weight_co_l0"} <= set(layer.params)


# ----------------------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------------------
def test_missing_or_misshapen_peephole_weights_are_named():
    rng = np.random.default_rng(10)
    p = _params(rng, 4, peephole=True)
    x, h_prev, c_prev = _inputs(rng)
    bad = dict(p)
    del bad["weight_co"]
    with pytest.raises(ValueError, match="weight_co"):
        peephole_lstm_cell_forward(x, h_prev, c_prev, bad)
    bad = {**p, "weight_cf": np.zeros(H + 1)}
    with pytest.raises(ValueError, match=r"weight_cf.*\(H=5,\).*\(6,\)"):
        peephole_lstm_cell_forward(x, h_prev, c_prev, bad)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_bad_shapes_raise_value_errors_naming_the_argument(name):
    fwd, bwd, G, peep = VARIANTS[name]
    rng = np.random.default_rng(11)
    p = _params(rng, G, peep)
    x, h_prev, c_prev = _inputs(rng)
    with pytest.raises(ValueError, match="c_prev"):
        fwd(x, h_prev, c_prev[:, :-1], p)
    with pytest.raises(ValueError, match="c_prev"):
        fwd(x, h_prev, None, p)
    with pytest.raises(ValueError, match="h_prev"):
        fwd(x, h_prev[:2], c_prev, p)
    with pytest.raises(ValueError, match=r"weight_hh.*G=%d" % G):
        wrong = _params(rng, 4 if G == 3 else 3, peep)
        fwd(x, h_prev, c_prev, wrong)
    _, _, cache = fwd(x, h_prev, c_prev, p)
    with pytest.raises(ValueError, match="dh"):
        bwd(np.zeros((B, H + 1)), None, cache)


def test_cell_object_rejects_a_state_that_is_not_a_pair():
    rng = np.random.default_rng(12)
    p = _params(rng, 3)
    x, h_prev, _ = _inputs(rng)
    with pytest.raises(ValueError, match="state"):
        COUPLED_LSTM_CELL.forward(x, h_prev, p)
    with pytest.raises(ValueError, match="state"):
        COUPLED_LSTM_CELL.forward(x, (h_prev,), p)


# ----------------------------------------------------------------------------------------------------------------
# Ng's simplified GRU (one update gate, no reset gate)
# ----------------------------------------------------------------------------------------------------------------
from rnn_utils.cells import gru_cell_forward  # noqa: E402
from rnn_utils.variants import (  # noqa: E402
    GRU_VARIANT_CELLS,
    SIMPLIFIED_GRU_CELL,
    simplified_gru_cell_backward,
    simplified_gru_cell_forward,
)


def test_simplified_gru_step_gradients_match_centred_differences():
    rng = np.random.default_rng(20)
    p = _params(rng, 2)
    x, h_prev, _ = _inputs(rng)
    dh = rng.standard_normal((B, H))

    def loss():
        h, _ = simplified_gru_cell_forward(x, h_prev, p)
        return float(np.sum(h * dh))

    _, cache = simplified_gru_cell_forward(x, h_prev, p)
    dx, dh_prev, grads = simplified_gru_cell_backward(dh, cache)
    errs = gradcheck(loss, {**p, "x": x, "h_prev": h_prev}, {**grads, "x": dx, "h_prev": dh_prev})
    assert max(errs.values()) < 1e-7, errs


def test_hand_computed_simplified_gru_step():
    # D = H = 1, B = 1: u = sigmoid(0.5*1 + 0.1 + (-1)*0.4 + 0.2) = sigmoid(0.4), n = tanh(2*1 - 1 + 0.5*0.4 + 0)
    p = {"weight_ih": np.array([[0.5], [2.0]]), "weight_hh": np.array([[-1.0], [0.5]]),
         "bias_ih": np.array([0.1, -1.0]), "bias_hh": np.array([0.2, 0.0])}
    h, _ = simplified_gru_cell_forward(np.array([[1.0]]), np.array([[0.4]]), p)
    u = 1 / (1 + math.exp(-0.4))
    n = math.tanh(1.2)
    assert h[0, 0] == pytest.approx(u * n + (1 - u) * 0.4, rel=1e-14)


def test_simplified_gru_is_the_torch_gru_with_reset_gate_open_and_z_the_negated_update_block():
    # r = sigmoid(40) = 1 in float64 (zero weights, bias 40) and z's block = minus the u block, so z = 1 - u;
    # then both reset forms of the GRU compute h = (1 - z) n + z h_prev = u n + (1 - u) h_prev.
    rng = np.random.default_rng(21)
    p = _params(rng, 2)
    x, h_prev, _ = _inputs(rng)
    h_ref, _ = simplified_gru_cell_forward(x, h_prev, p)
    g = {"weight_ih": np.vstack([np.zeros((H, D)), -p["weight_ih"][:H], p["weight_ih"][H:]]),
         "weight_hh": np.vstack([np.zeros((H, H)), -p["weight_hh"][:H], p["weight_hh"][H:]]),
         "bias_ih": np.concatenate([np.full(H, 40.0), -p["bias_ih"][:H], p["bias_ih"][H:]]),
         "bias_hh": np.concatenate([np.zeros(H), -p["bias_hh"][:H], p["bias_hh"][H:]])}
    for reset_after in (True, False):
        h, _ = gru_cell_forward(x, h_prev, g, reset_after=reset_after)
        np.testing.assert_allclose(h, h_ref, rtol=1e-13, atol=1e-14)


def test_simplified_gru_direct_path_is_one_minus_the_update_gate():
    # with no recurrent weights the only path from h_prev to h is (1 - u): the lecture's dc<t-1> = dc<t> (1 - Gamma_u)
    rng = np.random.default_rng(22)
    p = _params(rng, 2)
    p["weight_hh"] = np.zeros((2 * H, H))
    x, h_prev, _ = _inputs(rng)
    _, cache = simplified_gru_cell_forward(x, h_prev, p)
    dh = rng.standard_normal((B, H))
    _, dh_prev, _ = simplified_gru_cell_backward(dh, cache)
    a_u = x @ p["weight_ih"][:H].T + p["bias_ih"][:H] + p["bias_hh"][:H]
    np.testing.assert_allclose(dh_prev, dh * (1 - 1 / (1 + np.exp(-a_u))), rtol=1e-13)
    _, dh_none, _ = simplified_gru_cell_backward(None, cache)
    np.testing.assert_array_equal(dh_none, np.zeros((B, H)))


def test_simplified_gru_cell_object_and_unrolled_layer():
    assert set(GRU_VARIANT_CELLS) == {"gru_simplified"}
    cell = SIMPLIFIED_GRU_CELL
    assert cell.num_states == 1 and cell.gates == 2
    assert cell.param_shapes(D, H) == {"weight_ih": (2 * H, D), "weight_hh": (2 * H, H), "bias_ih": (2 * H,),
                                       "bias_hh": (2 * H,)}
    rng = np.random.default_rng(23)
    p = _params(rng, 2)
    x, h_prev, _ = _inputs(rng)
    (h,), cache = cell.forward(x, (h_prev,), p)
    h0, cache0 = simplified_gru_cell_forward(x, h_prev, p)
    np.testing.assert_array_equal(h, h0)
    dh = rng.standard_normal((B, H))
    dx, (dh_prev,), _ = cell.backward((dh,), cache)
    ref = simplified_gru_cell_backward(dh, cache0)
    np.testing.assert_array_equal(dx, ref[0])
    np.testing.assert_array_equal(dh_prev, ref[1])

    layer = Unrolled(cell, D, H, num_layers=2, bidirectional=True, rng=rng)
    X = rng.standard_normal((4, 2, D))
    h0 = rng.standard_normal((4, 2, H))
    dY = rng.standard_normal((4, 2, 2 * H))
    dh_n = rng.standard_normal((4, 2, H))

    def loss():
        Y, h_n = layer.forward(X, h0)
        return float(np.sum(Y * dY) + np.sum(h_n * dh_n))

    loss()
    dX, dh0 = layer.backward(dY, dh_n)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    errs = gradcheck(loss, {**layer.params, "X": X, "h0": h0}, {**grads, "X": dX, "h0": dh0})
    assert max(errs.values()) < 1e-7, errs


def test_simplified_gru_bad_inputs_are_named():
    rng = np.random.default_rng(24)
    p = _params(rng, 2)
    x, h_prev, _ = _inputs(rng)
    with pytest.raises(ValueError, match=r"weight_hh.*G=2"):
        simplified_gru_cell_forward(x, h_prev, _params(rng, 3))
    with pytest.raises(ValueError, match="h_prev"):
        simplified_gru_cell_forward(x, h_prev[:, :-1], p)
    with pytest.raises(ValueError, match="x"):
        simplified_gru_cell_forward(x[:, :-1], h_prev, p)
    _, cache = simplified_gru_cell_forward(x, h_prev, p)
    with pytest.raises(ValueError, match="dh"):
        simplified_gru_cell_backward(np.zeros((B, H + 1)), cache)
    with pytest.raises(ValueError, match="state"):
        SIMPLIFIED_GRU_CELL.forward(x, h_prev, p)
    with pytest.raises(ValueError, match="dstate"):
        SIMPLIFIED_GRU_CELL.backward(np.zeros((B, H)), cache)
