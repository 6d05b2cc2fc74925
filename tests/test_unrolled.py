"""The readable Unrolled layer: gradient checks, a cell with extra parameters, caches, the Module contract and
argument checks. (Its agreement with the fast layers is in test_recurrent.py.)"""
import numpy as np
import pytest

from rnn_utils import cells
from rnn_utils.cells import Cell
from rnn_utils.gradcheck import gradcheck
from rnn_utils.optim import Adam
from rnn_utils.recurrent import GRU, LSTM, RNN
from rnn_utils.unrolled import Unrolled

T, B, D, H = 3, 2, 2, 3


def _state(layer, rng, B=B):
    shape = (layer.num_layers * layer.num_directions, B, layer.hidden_size)
    if layer.cell.num_states == 2:
        return rng.standard_normal(shape), rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _flat(layer, s):
    return list(s) if layer.cell.num_states == 2 else [s]


# ---------------------------------------------------------------------------------------------------------------
# a cell written here, with an extra per-unit parameter: h = tanh(s * (W_ih x + b_ih + W_hh h + b_hh))
# ---------------------------------------------------------------------------------------------------------------
def _scaled_forward(x, state, params):
    a = x @ params["weight_ih"].T + params["bias_ih"] + state[0] @ params["weight_hh"].T + params["bias_hh"]
    h = np.tanh(params["weight_s"] * a)
    return (h,), {"x": x, "h_prev": state[0], "a": a, "h": h, "p": params}


def _scaled_backward(dstate, cache):
    p, a, h = cache["p"], cache["a"], cache["h"]
    dz = dstate[0] * (1 - h * h)
    da = dz * p["weight_s"]
    grads = {"weight_ih": da.T @ cache["x"], "weight_hh": da.T @ cache["h_prev"], "bias_ih": da.sum(0),
             "bias_hh": da.sum(0), "weight_s": (dz * a).sum(0)}
    return da @ p["weight_ih"], (da @ p["weight_hh"],), grads


SCALED = Cell("scaled_tanh", 1, 1, _scaled_forward, _scaled_backward, (("weight_s", lambda H: (H,)),))


def _gradcheck_layer(layer, with_state, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, B, layer.input_size))
    state0 = _state(layer, rng) if with_state else None
    dstate_n = _state(layer, rng) if with_state else None
    dY = rng.standard_normal((T, B, layer.num_directions * layer.hidden_size))

    def loss():
        Y, s_n = layer.forward(X, state0)
        total = np.sum(Y * dY)
        if dstate_n is not None:
            total += sum(np.sum(a * b) for a, b in zip(_flat(layer, s_n), _flat(layer, dstate_n)))
        return total

    loss()
    dX, ds0 = layer.backward(dY, dstate_n)
    checked, analytic = dict(layer.params), {n: g.copy() for n, g in layer.grads.items()}
    checked["X"], analytic["X"] = X, dX
    if with_state:
        for j, (s, g) in enumerate(zip(_flat(layer, state0), _flat(layer, ds0))):
            checked[f"state0[{j}]"], analytic[f"state0[{j}]"] = s, g
    return gradcheck(loss, checked, analytic)


@pytest.mark.parametrize("with_state", [False, True], ids=["no-state", "state"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru", "gru_reset_before", SCALED], ids=str)
def test_unrolled_gradients(cell, bidirectional, with_state):
    layer = Unrolled(cell, D, H, num_layers=2, bidirectional=bidirectional, rng=np.random.default_rng(3))
    errors = _gradcheck_layer(layer, with_state)
    assert max(errors.values()) < 1e-7


def test_extra_parameters_are_named_per_layer_and_direction_and_drawn_after_the_standard_four():
    layer = Unrolled(SCALED, 4, 5, num_layers=2, bidirectional=True, rng=np.random.default_rng(0))
    names = list(layer.params)
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_s_l0"]
    assert "weight_s_l1_reverse" in names and layer.params["weight_s_l1_reverse"].shape == (5,)
    assert layer.params["weight_ih_l1"].shape == (5, 10)                          # reads [forward, reverse]
    assert list(layer.grads) == names


def test_with_unit_scale_the_extra_cell_is_the_tanh_rnn():
    """s = 1 turns the cell written above into the plain tanh RNN: an independent check of the loop itself."""
    rnn = RNN(D, H, num_layers=2, bidirectional=True, rng=np.random.default_rng(1))
    layer = Unrolled(SCALED, D, H, num_layers=2, bidirectional=True, rng=np.random.default_rng(2))
    layer.load_state_dict({**rnn.params, **{n: np.ones(H) for n in layer.params if n.startswith("weight_s")}})
    X = np.random.default_rng(3).standard_normal((4, B, D))
    np.testing.assert_allclose(layer.forward(X)[0], rnn.forward(X)[0], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name, cls, kw", [("rnn_tanh", RNN, {}), ("rnn_relu", RNN, {"nonlinearity": "relu"}),
                                           ("lstm", LSTM, {}), ("gru", GRU, {}),
                                           ("gru_reset_before", GRU, {"reset_after": False})])
def test_same_seed_same_weights_as_the_fast_layer(name, cls, kw):
    u = Unrolled(name, 3, 4, num_layers=2, bidirectional=True, rng=np.random.default_rng(7))
    f = cls(3, 4, num_layers=2, bidirectional=True, rng=np.random.default_rng(7), **kw)
    assert list(u.params) == list(f.params)
    for n in f.params:
        np.testing.assert_array_equal(u.params[n], f.params[n])


def test_by_hand_one_unit_two_steps():
    layer = Unrolled("rnn_tanh", 1, 1, rng=np.random.default_rng(0))
    layer.load_state_dict({"weight_ih_l0": [[0.5]], "weight_hh_l0": [[-1.0]], "bias_ih_l0": [0.1],
                           "bias_hh_l0": [0.2]})
    Y, h_n = layer.forward(np.array([2.0, -1.0]).reshape(2, 1, 1), np.full((1, 1, 1), 0.3))
    h1 = np.tanh(1.0 + 0.1 - 0.3 + 0.2)
    h2 = np.tanh(-0.5 + 0.1 - h1 + 0.2)
    np.testing.assert_allclose(Y.ravel(), [h1, h2], rtol=1e-15)
    assert h_n[0, 0, 0] == Y[-1, 0, 0]


def test_caches_expose_the_gate_activations_in_time_order():
    layer = Unrolled("lstm", D, H, bidirectional=True, rng=np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((4, B, D))
    Y, (h_n, c_n) = layer.forward(X)
    fwd, rev = layer.caches[(0, 0)], layer.caches[(0, 1)]
    assert len(fwd) == len(rev) == 4
    i = np.stack([c["i"] for c in fwd])
    assert i.shape == (4, B, H) and ((0 < i) & (i < 1)).all()
    np.testing.assert_array_equal(fwd[-1]["c"], c_n[0])                      # forward ends at t = T-1
    np.testing.assert_array_equal(rev[0]["c"], c_n[1])                       # reverse ends at t = 0
    np.testing.assert_array_equal(Y[2, :, :H], fwd[2]["o"] * np.tanh(fwd[2]["c"]))


def test_module_contract_grads_identity_and_forward_time_weights():
    rng = np.random.default_rng(5)
    layer = Unrolled("gru", D, H, num_layers=2, rng=np.random.default_rng(0))
    X, dY = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    ids = {n: id(g) for n, g in layer.grads.items()}
    layer.forward(X)
    dX1, _ = layer.backward(dY)
    g1 = {n: g.copy() for n, g in layer.grads.items()}
    Adam(layer.params, lr=0.1).step(g1)                                      # weights change in place
    dX2, _ = layer.backward(dY)                                               # same forward pass
    np.testing.assert_array_equal(dX1, dX2)
    for n in g1:
        np.testing.assert_array_equal(g1[n], layer.grads[n])
        assert id(layer.grads[n]) == ids[n]


def test_float32_layer_keeps_float32():
    layer = Unrolled("lstm", D, H, dtype=np.float32, rng=np.random.default_rng(0))
    Y, (h, c) = layer.forward(np.ones((T, B, D)))
    dX, (dh, dc) = layer.backward(np.ones_like(Y))
    assert {a.dtype for a in (Y, h, c, dX, dh, dc, *layer.grads.values())} == {np.dtype(np.float32)}


def test_argument_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"cell: expected a rnn_utils.cells.Cell or one of"):
        Unrolled("peephole", 2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"rng: a np.random.Generator is required"):
        Unrolled("lstm", 2, 3, rng=None)
    with pytest.raises(TypeError):
        Unrolled("lstm", 2, 3, 2, rng=rng)                       # num_layers is keyword-only
    layer = Unrolled("lstm", 2, 3, num_layers=2, rng=rng)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, D=2\), got \(4, 1, 3\)"):
        layer.forward(np.zeros((4, 1, 3)))
    with pytest.raises(ValueError, match=r"state0: expected a tuple of 2 arrays"):
        layer.forward(np.zeros((4, 1, 2)), np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match=r"state0\[1\]: expected shape \(num_layers\*dirs=2, B=1, H=3\)"):
        layer.forward(np.zeros((4, 1, 2)), (np.zeros((2, 1, 3)), np.zeros((1, 1, 3))))
    layer.forward(np.zeros((4, 1, 2)))
    with pytest.raises(ValueError, match=r"dY: expected shape \(T=4, B=1, dirs\*H=3\), got \(4, 1, 6\)"):
        layer.backward(np.zeros((4, 1, 6)))
    gru = Unrolled("gru", 2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"state0: expected one array .* \(the gru cell has one state\), got a tuple"):
        gru.forward(np.zeros((4, 1, 2)), (np.zeros((1, 1, 3)),))


def test_builtin_cells_describe_their_parameters():
    assert cells.LSTM_CELL.param_shapes(5, 3) == {"weight_ih": (12, 5), "weight_hh": (12, 3), "bias_ih": (12,),
                                                   "bias_hh": (12,)}
    assert cells.GRU_CELL.gates == 3 and cells.GRU_CELL.num_states == 1 and cells.LSTM_CELL.num_states == 2
    assert set(cells.BUILTIN_CELLS) == {"rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before"}
