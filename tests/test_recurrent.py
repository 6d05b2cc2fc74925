"""RNN / LSTM / GRU layers: gradient checks over every configuration, agreement with the single-step cells,
stacking and bidirectional semantics, dtypes, a hand-computed case, and argument checks."""
import numpy as np
import pytest

from rnn_utils import cells
from rnn_utils.gradcheck import gradcheck
from rnn_utils.recurrent import GRU, LSTM, RNN
from rnn_utils.unrolled import Unrolled

T, B, D, H = 3, 2, 2, 2

KINDS = {
    "rnn-tanh": (RNN, {"nonlinearity": "tanh"}),
    "rnn-relu": (RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {"reset_after": True}),
    "gru-reset-before": (GRU, {"reset_after": False}),
}


def make_layer(kind, num_layers=1, bidirectional=False, seed=0, dtype=np.float64, D=D, H=H):
    cls, kw = KINDS[kind]
    return cls(D, H, num_layers=num_layers, bidirectional=bidirectional, dtype=dtype,
               rng=np.random.default_rng(seed), **kw)


def random_state(layer, rng, B=B):
    shape = (layer.num_layers * layer.num_directions, B, layer.hidden_size)
    if isinstance(layer, LSTM):
        return rng.standard_normal(shape), rng.standard_normal(shape)
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------------------
# the readable twin: rnn_utils.unrolled.Unrolled steps the single-step cells of rnn_utils.cells
# ---------------------------------------------------------------------------------------------------------------
CELL_OF = {"rnn-tanh": "rnn_tanh", "rnn-relu": "rnn_relu", "lstm": "lstm", "gru": "gru",
           "gru-reset-before": "gru_reset_before"}


def cell_params(layer, k, d):
    sfx = f"_l{k}" + ("_reverse" if d else "")
    return {n: layer.params[n + sfx] for n in cells.PARAM_NAMES}


def unrolled_twin(kind, layer):
    """An Unrolled layer with the same cell, sizes and (copied) weights as the fast `layer`."""
    twin = Unrolled(CELL_OF[kind], layer.input_size, layer.hidden_size, num_layers=layer.num_layers,
                    bidirectional=layer.bidirectional, dtype=layer.dtype, rng=np.random.default_rng(0))
    twin.load_state_dict(layer.params)
    return twin


def loss_and_grads(layer, X, state0, dY, dstate_n):
    """Scalar loss sum(Y * dY) + sum(state_n * dstate_n) and its analytic gradients from the layer."""
    def loss():
        Y, state_n = layer.forward(X, state0)
        total = np.sum(Y * dY)
        if dstate_n is not None:
            sn = state_n if isinstance(layer, LSTM) else (state_n,)
            ds = dstate_n if isinstance(layer, LSTM) else (dstate_n,)
            total += sum(np.sum(a * b) for a, b in zip(sn, ds))
        return total
    loss()
    dX, dstate0 = layer.backward(dY, dstate_n)
    return loss, dX, dstate0


# ---------------------------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------------------------
def test_params_names_shapes_and_order_as_torch():
    layer = LSTM(3, 5, num_layers=2, bidirectional=True, rng=np.random.default_rng(0))
    expected = []
    for k, d_in in ((0, 3), (1, 10)):
        for sfx in ("", "_reverse"):
            expected += [(f"weight_ih_l{k}{sfx}", (20, d_in)), (f"weight_hh_l{k}{sfx}", (20, 5)),
                         (f"bias_ih_l{k}{sfx}", (20,)), (f"bias_hh_l{k}{sfx}", (20,))]
    assert [(n, p.shape) for n, p in layer.params.items()] == expected
    assert list(layer.grads) == list(layer.params)
    assert RNN(3, 5, rng=np.random.default_rng(0)).params["weight_ih_l0"].shape == (5, 3)
    assert GRU(3, 5, num_layers=2, rng=np.random.default_rng(0)).params["weight_ih_l1"].shape == (15, 5)


def test_init_uniform_bound_seeded_and_dtype():
    a = GRU(4, 16, num_layers=2, dtype=np.float32, rng=np.random.default_rng(3))
    b = GRU(4, 16, num_layers=2, dtype=np.float32, rng=np.random.default_rng(3))
    for n, p in a.params.items():
        assert p.dtype == np.float32
        assert np.abs(p).max() <= 0.25                        # 1/sqrt(16)
        np.testing.assert_array_equal(p, b.params[n])
    allw = np.concatenate([p.ravel() for p in a.params.values()])
    assert allw.min() < -0.2 and allw.max() > 0.2 and abs(allw.mean()) < 0.02   # spread over the whole interval
    assert not np.array_equal(a.params["weight_hh_l0"], GRU(4, 16, rng=np.random.default_rng(4)).params["weight_hh_l0"])


# ---------------------------------------------------------------------------------------------------------------
# gradient checks: every kind x 1-3 layers x both directions x with / without state
# ---------------------------------------------------------------------------------------------------------------
def relu_safe_seed(kind, num_layers, bidirectional, X, state0):
    """A weight seed for which no relu pre-activation lies within 0.02 of the kink (numerical gradients need
    the function to be smooth within the stencil). Pre-activations recomputed here from the weights."""
    for seed in range(200):
        layer = make_layer(kind, num_layers, bidirectional, seed=seed)
        L, dirs = num_layers, layer.num_directions
        h0 = np.zeros((L * dirs, B, H)) if state0 is None else state0
        inp, margin = X, np.inf
        for k in range(L):
            out = np.zeros((T, B, dirs * H))
            for d in range(dirs):
                p = cell_params(layer, k, d)
                h = h0[k * dirs + d]
                for t in (range(T - 1, -1, -1) if d else range(T)):
                    a = inp[t] @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
                    margin = min(margin, np.abs(a).min())
                    h = np.maximum(a, 0)
                    out[t, :, d * H:(d + 1) * H] = h
            inp = out
        if margin > 0.02:
            return seed
    raise AssertionError("no relu-safe seed found")


@pytest.mark.parametrize("with_state", [False, True], ids=["no-state", "state"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_gradients(kind, num_layers, bidirectional, with_state):
    rng = np.random.default_rng(100 + num_layers)
    X = rng.standard_normal((T, B, D))
    probe = make_layer(kind, num_layers, bidirectional)
    state0 = random_state(probe, rng) if with_state else None
    dstate_n = random_state(probe, rng) if with_state else None
    dY = rng.standard_normal((T, B, probe.num_directions * H))
    seed = 0
    if kind == "rnn-relu":
        seed = relu_safe_seed(kind, num_layers, bidirectional, X, state0)
    layer = make_layer(kind, num_layers, bidirectional, seed=seed)
    loss, dX, dstate0 = loss_and_grads(layer, X, state0, dY, dstate_n)
    grads = {n: g.copy() for n, g in layer.grads.items()}
    checked, analytic = dict(layer.params), dict(grads)
    checked["X"], analytic["X"] = X, dX
    if with_state:
        s0 = state0 if isinstance(layer, LSTM) else (state0,)
        ds0 = dstate0 if isinstance(layer, LSTM) else (dstate0,)
        for j, (s, g) in enumerate(zip(s0, ds0)):
            checked[f"state0[{j}]"], analytic[f"state0[{j}]"] = s, g
    gradcheck(loss, checked, analytic)


@pytest.mark.parametrize("with_state", [False, True], ids=["no-state", "state"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", list(KINDS))
def test_fast_layer_equals_the_unrolled_layer(kind, num_layers, bidirectional, with_state):
    """The fast layer (fused gates, preallocated caches, one product for the weight gradients) computes the same
    numbers as the readable Unrolled layer, which steps the cells of rnn_utils.cells one time step at a time."""
    rng = np.random.default_rng(11)
    layer = make_layer(kind, num_layers=num_layers, bidirectional=bidirectional, seed=5, D=3, H=4)
    twin = unrolled_twin(kind, layer)
    X = rng.standard_normal((5, 3, 3))
    state0 = random_state(layer, rng, B=3) if with_state else None
    dstate_n = random_state(layer, rng, B=3) if with_state else None
    dY = rng.standard_normal((5, 3, layer.num_directions * 4))
    Y, state_n = layer.forward(X, state0)
    Y_ref, state_ref = twin.forward(X, state0)
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-12, atol=1e-13)
    flat = (lambda s: list(s)) if kind == "lstm" else (lambda s: [s])
    for s, r in zip(flat(state_n), flat(state_ref)):
        np.testing.assert_allclose(s, r, rtol=1e-12, atol=1e-13)
    dX, dstate0 = layer.backward(dY, dstate_n)
    dX_ref, ds0_ref = twin.backward(dY, dstate_n)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-11, atol=1e-12)
    for s, r in zip(flat(dstate0), flat(ds0_ref)):
        np.testing.assert_allclose(s, r, rtol=1e-11, atol=1e-12)
    for n in layer.params:
        np.testing.assert_allclose(layer.grads[n], twin.grads[n], rtol=1e-11, atol=1e-12, err_msg=n)


# ---------------------------------------------------------------------------------------------------------------
# semantics: hand-computed case, stacking, reverse direction, state defaults
# ---------------------------------------------------------------------------------------------------------------
def test_one_unit_rnn_by_hand():
    layer = RNN(1, 1, rng=np.random.default_rng(0))
    layer.load_state_dict({"weight_ih_l0": [[0.5]], "weight_hh_l0": [[-1.0]], "bias_ih_l0": [0.1],
                           "bias_hh_l0": [0.2]})
    X = np.array([2.0, -1.0]).reshape(2, 1, 1)
    Y, h_n = layer.forward(X, np.full((1, 1, 1), 0.3))
    h1 = np.tanh(0.5 * 2.0 + 0.1 - 1.0 * 0.3 + 0.2)           # tanh(1.0)
    h2 = np.tanh(0.5 * -1.0 + 0.1 - 1.0 * h1 + 0.2)            # tanh(-0.2 - tanh(1))
    np.testing.assert_allclose(Y.ravel(), [h1, h2], rtol=1e-15)
    assert h_n.shape == (1, 1, 1) and h_n[0, 0, 0] == Y[-1, 0, 0]
    # loss = h2: dh2/dx2 = 0.5 (1 - h2^2); dh2/dx1 = -1 (1 - h2^2) * 0.5 (1 - h1^2); dh2/dh0 = (1 - h2^2)(1 - h1^2)
    dX, dh0 = layer.backward(np.array([0.0, 1.0]).reshape(2, 1, 1))
    a2, a1 = 1 - h2 ** 2, 1 - h1 ** 2
    np.testing.assert_allclose(dX.ravel(), [-1.0 * a2 * 0.5 * a1, 0.5 * a2], rtol=1e-14)
    np.testing.assert_allclose(dh0.ravel(), [a2 * a1], rtol=1e-14)
    np.testing.assert_allclose(layer.grads["weight_hh_l0"].ravel(), [a2 * (h1 + -1.0 * a1 * 0.3)], rtol=1e-14)
    np.testing.assert_allclose(layer.grads["bias_ih_l0"].ravel(), [a2 * (1 - 1.0 * a1)], rtol=1e-14)


def copy_weights(dst, src, mapping):
    dst.load_state_dict({n: src.params[mapping(n)] for n in dst.params})


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", list(KINDS))
def test_stacking_equals_feeding_outputs_to_a_second_layer(kind, bidirectional):
    rng = np.random.default_rng(21)
    deep = make_layer(kind, num_layers=2, bidirectional=bidirectional, seed=1, D=3, H=4)
    dirs = deep.num_directions
    first = make_layer(kind, 1, bidirectional, seed=2, D=3, H=4)
    second = make_layer(kind, 1, bidirectional, seed=3, D=dirs * 4, H=4)
    copy_weights(first, deep, lambda n: n)
    copy_weights(second, deep, lambda n: n.replace("_l0", "_l1"))
    X = rng.standard_normal((4, 2, 3))
    state0 = random_state(deep, rng)
    split = (lambda s, j: (s[0][j], s[1][j])) if kind == "lstm" else (lambda s, j: s[j])
    Y, state_n = deep.forward(X, state0)
    Y1, s1 = first.forward(X, split(state0, slice(0, dirs)))
    Y2, s2 = second.forward(Y1, split(state0, slice(dirs, 2 * dirs)))
    np.testing.assert_allclose(Y, Y2, rtol=1e-13, atol=1e-14)
    joined = [np.concatenate([a, b]) for a, b in zip(*(s if kind == "lstm" else (s,) for s in (s1, s2)))]
    for s, j in zip(state_n if kind == "lstm" else (state_n,), joined):
        np.testing.assert_allclose(s, j, rtol=1e-13, atol=1e-14)
    dY = rng.standard_normal(Y.shape)
    dX, _ = deep.backward(dY)
    dY1, _ = second.backward(dY)
    dX_chain, _ = first.backward(dY1)
    np.testing.assert_allclose(dX, dX_chain, rtol=1e-12, atol=1e-13)
    for n, g in first.grads.items():
        np.testing.assert_allclose(deep.grads[n], g, rtol=1e-12, atol=1e-13)
    for n, g in second.grads.items():
        np.testing.assert_allclose(deep.grads[n.replace("_l0", "_l1")], g, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", list(KINDS))
def test_reverse_direction_is_forward_on_the_flipped_sequence(kind):
    rng = np.random.default_rng(31)
    bi = make_layer(kind, 1, True, seed=1, D=3, H=4)
    fwd, rev = make_layer(kind, 1, False, seed=2, D=3, H=4), make_layer(kind, 1, False, seed=3, D=3, H=4)
    copy_weights(fwd, bi, lambda n: n)
    copy_weights(rev, bi, lambda n: n + "_reverse")
    X = rng.standard_normal((5, 2, 3))
    Y, h_n = bi.forward(X)
    Yf, hf = fwd.forward(X)
    Yr, hr = rev.forward(X[::-1])
    np.testing.assert_allclose(Y[..., :4], Yf, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(Y[..., 4:], Yr[::-1], rtol=1e-13, atol=1e-14)
    h_n, hf, hr = (s[0] if kind == "lstm" else s for s in (h_n, hf, hr))
    np.testing.assert_allclose(h_n[1], hr[0], rtol=1e-13, atol=1e-14)      # reverse's last state is at t = 0
    np.testing.assert_allclose(h_n[1], Y[0, :, 4:], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h_n[0], Y[-1, :, :4], rtol=1e-13, atol=1e-14)
    dY = rng.standard_normal(Y.shape)
    dX, _ = bi.backward(dY)
    dXf, _ = fwd.backward(dY[..., :4])
    dXr, _ = rev.backward(np.ascontiguousarray(dY[::-1, :, 4:]))
    np.testing.assert_allclose(dX, dXf + dXr[::-1], rtol=1e-12, atol=1e-13)
    for n, g in rev.grads.items():
        np.testing.assert_allclose(bi.grads[n + "_reverse"], g, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", list(KINDS))
def test_none_state_means_zeros(kind):
    rng = np.random.default_rng(41)
    layer = make_layer(kind, 2, True)
    X = rng.standard_normal((T, B, D))
    zeros = random_state(layer, rng)
    zeros = tuple(np.zeros_like(z) for z in zeros) if kind == "lstm" else np.zeros_like(zeros)
    Y1, s1 = layer.forward(X)
    dY = rng.standard_normal(Y1.shape)
    dX1, d1 = layer.backward(dY)
    g1 = {n: g.copy() for n, g in layer.grads.items()}
    Y2, s2 = layer.forward(X, zeros)
    dX2, d2 = layer.backward(dY, zeros)
    np.testing.assert_array_equal(Y1, Y2)
    np.testing.assert_array_equal(dX1, dX2)
    for n in g1:
        np.testing.assert_array_equal(g1[n], layer.grads[n])
    if kind == "lstm":
        layer.forward(X, (zeros[0], None))
        dX3, _ = layer.backward(dY, (None, zeros[1]))
        np.testing.assert_array_equal(dX1, dX3)


def test_backward_is_repeatable_and_uses_forward_time_weights():
    rng = np.random.default_rng(51)
    layer = make_layer("lstm", 2, True)
    X, dY = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    layer.forward(X)
    dX1, _ = layer.backward(dY)
    g1 = {n: g.copy() for n, g in layer.grads.items()}
    grads_identity = {n: id(g) for n, g in layer.grads.items()}
    for p in layer.params.values():           # an optimiser step between forward and backward
        p += 0.1
    dX2, _ = layer.backward(dY)
    np.testing.assert_array_equal(dX1, dX2)
    for n in g1:
        np.testing.assert_array_equal(g1[n], layer.grads[n])
        assert id(layer.grads[n]) == grads_identity[n]     # filled in place


# ---------------------------------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
def test_float32_agrees_with_float64_and_keeps_dtype(kind):
    rng = np.random.default_rng(61)
    l64 = make_layer(kind, 2, True, D=3, H=5)
    l32 = make_layer(kind, 2, True, D=3, H=5, dtype=np.float32)
    l32.load_state_dict(l64.params)
    X = rng.standard_normal((6, 3, 3))
    state0, dstate_n = random_state(l64, rng, B=3), random_state(l64, rng, B=3)
    dY = rng.standard_normal((6, 3, 10))
    Y64, s64 = l64.forward(X, state0)
    dX64, ds64 = l64.backward(dY, dstate_n)
    cast = (lambda s: tuple(a.astype(np.float32) for a in s)) if kind == "lstm" else (lambda s: s.astype(np.float32))
    Y32, s32 = l32.forward(X.astype(np.float32), cast(state0))
    dX32, ds32 = l32.backward(dY.astype(np.float32), cast(dstate_n))
    flat = (lambda s: list(s)) if kind == "lstm" else (lambda s: [s])
    for a32, a64 in [(Y32, Y64), (dX32, dX64), *zip(flat(s32), flat(s64)), *zip(flat(ds32), flat(ds64)),
                     *((l32.grads[n], l64.grads[n]) for n in l64.grads)]:
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-5, atol=1e-5)


def test_other_input_dtypes_are_cast_to_the_layer_dtype():
    layer = make_layer("gru", dtype=np.float32)
    Xi = np.arange(T * B * D).reshape(T, B, D) % 3 - 1
    Y_int, h_int = layer.forward(Xi)
    Y_f64, _ = layer.forward(Xi.astype(np.float64))
    assert Y_int.dtype == h_int.dtype == Y_f64.dtype == np.float32
    np.testing.assert_array_equal(Y_int, Y_f64)
    dX, dh0 = layer.backward(np.ones((T, B, H)))               # float64 dY into a float32 layer
    assert dX.dtype == dh0.dtype == np.float32
    l64 = make_layer("gru")
    assert l64.forward(Xi.astype(np.float32))[0].dtype == np.float64
    # array-likes: nested lists for X and the state
    Y_list, _ = l64.forward(Xi.tolist(), np.zeros((1, B, H)).tolist())
    np.testing.assert_array_equal(Y_list, l64.forward(Xi)[0])


# ---------------------------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------------------------
def test_constructor_errors():
    with pytest.raises(ValueError, match=r"input_size: expected a positive integer, got 0"):
        LSTM(0, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"hidden_size: expected a positive integer, got -1"):
        GRU(2, -1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"num_layers: expected a positive integer, got 0"):
        RNN(2, 3, num_layers=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"hidden_size: expected a positive integer, got 2.5"):
        RNN(2, 2.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of \['tanh', 'relu'\], got 'sigmoid'"):
        RNN(2, 3, nonlinearity="sigmoid", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"reset_after: expected True or False, got 'yes'"):
        GRU(2, 3, reset_after="yes", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"bidirectional: expected True or False, got 2"):
        LSTM(2, 3, bidirectional=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"dtype: expected float32 or float64, got float16"):
        LSTM(2, 3, dtype=np.float16, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"rng: expected a np.random.Generator \(np.random.default_rng\(seed\)\), got int"):
        LSTM(2, 3, rng=0)


@pytest.mark.parametrize("kind", list(KINDS))
def test_forward_argument_errors(kind):
    layer = make_layer(kind, num_layers=2, bidirectional=True, D=3, H=4)
    X = np.zeros((5, 2, 3))
    with pytest.raises(ValueError, match=r"X: expected a 3-d array of shape \(T, B, D=3\), got 2-d shape \(5, 3\)"):
        layer.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, D=3\), got \(5, 2, 4\)"):
        layer.forward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"X: expected at least one time step and one sequence, got shape \(0, 2, 3\)"):
        layer.forward(np.zeros((0, 2, 3)))
    bad = X.copy()
    bad[1, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X: contains 1 NaN or inf value\(s\) \(shape \(5, 2, 3\)\)"):
        layer.forward(bad)
    with pytest.raises(ValueError, match=r"X: expected a real numeric array, got dtype complex128"):
        layer.forward(X + 1j)
    good = np.zeros((4, 2, 4))
    wrong = np.zeros((2, 2, 4))                                # one layer's worth instead of num_layers*dirs = 4
    msg = r"expected shape \(num_layers\*dirs=4, B=2, H=4\), got \(2, 2, 4\)"
    if kind == "lstm":
        with pytest.raises(ValueError, match=r"state0\[0\]: " + msg):
            layer.forward(X, (wrong, good))
        with pytest.raises(ValueError, match=r"state0\[1\]: " + msg):
            layer.forward(X, (good, wrong))
        with pytest.raises(ValueError, match=r"state0: expected a tuple \(h, c\) of two arrays of shape "
                                             r"\(num_layers\*dirs=4, B=2, H=4\), got ndarray of shape \(4, 2, 4\)"):
            layer.forward(X, good)
        with pytest.raises(ValueError, match=r"state0: expected a tuple \(h, c\).*got a tuple of length 3"):
            layer.forward(X, (good, good, good))
        with pytest.raises(ValueError, match=r"state0\[1\]: contains 1 NaN or inf"):
            layer.forward(X, (good, np.where(np.arange(32).reshape(4, 2, 4) == 5, np.inf, 0.0)))
    else:
        with pytest.raises(ValueError, match=r"state0: " + msg):
            layer.forward(X, wrong)
        with pytest.raises(ValueError, match=r"state0: expected one array of shape \(num_layers\*dirs=4, B=2, H=4\) "
                                             r"\(not a tuple"):
            layer.forward(X, (good, good))
        with pytest.raises(ValueError, match=r"state0: contains 1 NaN or inf"):
            layer.forward(X, np.where(np.arange(32).reshape(4, 2, 4) == 5, np.inf, 0.0))
    with pytest.raises(ValueError, match=r"state0(\[0\])?: expected shape \(num_layers\*dirs=4, B=2, H=4\), "
                                         r"got \(4, 3, 4\)"):
        layer.forward(X, (np.zeros((4, 3, 4)),) * 2 if kind == "lstm" else np.zeros((4, 3, 4)))


@pytest.mark.parametrize("kind", list(KINDS))
def test_backward_argument_errors(kind):
    layer = make_layer(kind, num_layers=2, bidirectional=True, D=3, H=4)
    with pytest.raises(RuntimeError, match=r"backward called before forward"):
        layer.backward(np.zeros((5, 2, 8)))
    layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dY: expected shape \(T=5, B=2, dirs\*H=8\), got \(5, 2, 4\)"):
        layer.backward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"dY: expected shape \(T=5, B=2, dirs\*H=8\), got \(4, 2, 8\)"):
        layer.backward(np.zeros((4, 2, 8)))
    with pytest.raises(ValueError, match=r"dY: expected a 3-d array"):
        layer.backward(np.zeros((5, 16)))
    with pytest.raises(ValueError, match=r"dY: contains 1 NaN or inf"):
        layer.backward(np.where(np.arange(80).reshape(5, 2, 8) == 7, np.nan, 0.0))
    msg = r"expected shape \(num_layers\*dirs=4, B=2, H=4\), got \(4, 2, 3\)"
    if kind == "lstm":
        with pytest.raises(ValueError, match=r"dstate_n\[1\]: " + msg):
            layer.backward(np.zeros((5, 2, 8)), (None, np.zeros((4, 2, 3))))
        with pytest.raises(ValueError, match=r"dstate_n: expected a tuple \(h, c\)"):
            layer.backward(np.zeros((5, 2, 8)), np.zeros((4, 2, 4)))
    else:
        with pytest.raises(ValueError, match=r"dstate_n: " + msg):
            layer.backward(np.zeros((5, 2, 8)), np.zeros((4, 2, 3)))


def test_load_state_dict_errors():
    layer = LSTM(2, 3, rng=np.random.default_rng(0))
    sd = layer.state_dict()
    with pytest.raises(ValueError, match=r"missing \['bias_hh_l0'\], unexpected \['bias_hh_l1'\]"):
        layer.load_state_dict({**{k: v for k, v in sd.items() if k != "bias_hh_l0"}, "bias_hh_l1": sd["bias_hh_l0"]})
    with pytest.raises(ValueError, match=r"state\['weight_hh_l0'\]: expected shape \(12, 3\), got \(3, 12\)"):
        layer.load_state_dict({**sd, "weight_hh_l0": sd["weight_hh_l0"].T})


# ---------------------------------------------------------------------------------------------------------------
# the one-step decoding path: step(x, state) == forward(x[None], state), and it always reads the live parameters
# ---------------------------------------------------------------------------------------------------------------
def _max_state_diff(a, b):
    if isinstance(a, tuple):
        return max(np.abs(u - v).max() for u, v in zip(a, b))
    return np.abs(a - b).max()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_step_equals_forward_with_one_time_step(kind, num_layers, bidirectional, with_state):
    layer = make_layer(kind, num_layers=num_layers, bidirectional=bidirectional, D=3, H=4)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    state = random_state(layer, rng, B=5) if with_state else None
    Y, state_n = layer.forward(x[None], state)
    h, state_1 = layer.step(x, state)
    assert h.shape == (5, layer.num_directions * 4) and np.abs(h - Y[0]).max() < 1e-12
    assert type(state_1) is type(state_n) and _max_state_diff(state_1, state_n) < 1e-12
    if not bidirectional:  # a second step from the returned state, as a decoding loop carries it (bidirectional:
        Y2, _ = layer.forward(np.stack([x, -x]), state)   # a step is a sequence of length 1, which does not chain)
        h2, _ = layer.step(-x, state_1)
        assert np.abs(h2 - Y2[1]).max() < 1e-12


def test_step_keeps_no_cache_and_returns_fresh_arrays():
    layer = make_layer("lstm", num_layers=2, D=3, H=4)
    rng = np.random.default_rng(2)
    X, dY = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 2, 4))
    layer.forward(X)
    dX, _ = layer.backward(dY)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    state = random_state(layer, rng)
    kept = tuple(s.copy() for s in state)
    h, new = layer.step(rng.standard_normal((2, 3)), state)
    assert all(np.array_equal(s, k) for s, k in zip(state, kept))        # the input state is not modified
    assert not np.shares_memory(h, new[0])                                # h is not a view of the new state
    dX2, _ = layer.backward(dY)                                           # backward still uses the forward above
    assert np.array_equal(dX, dX2) and all(np.array_equal(layer.grads[k], g) for k, g in grads.items())


@pytest.mark.parametrize("kind", list(KINDS))
def test_step_sees_every_kind_of_parameter_update(kind):
    """Nothing prepared from the parameter values may outlive a change of them: after each update (in place
    `p += ...`, load_state_dict, an optimiser step, an assignment into a slice) the step must equal the step
    of a freshly built layer holding the same values."""
    from rnn_utils.optim import Adam

    layer = make_layer(kind, num_layers=2, bidirectional=True, D=3, H=4)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3))
    state = random_state(layer, rng)

    def check():
        fresh = make_layer(kind, num_layers=2, bidirectional=True, D=3, H=4, seed=99)
        fresh.load_state_dict(layer.state_dict())
        h, s = layer.step(x, state)
        h_ref, s_ref = fresh.step(x, state)
        Y, s_fwd = fresh.forward(x[None], state)
        assert np.array_equal(h, h_ref) and _max_state_diff(s, s_ref) == 0
        assert np.abs(h - Y[0]).max() < 1e-12 and _max_state_diff(s, s_fwd) < 1e-12
        return h

    h0 = check()
    for p in layer.params.values():                        # in place, as a user would
        p += 0.1
    h1 = check()
    assert not np.allclose(h0, h1)
    layer.load_state_dict({k: v * 0.5 for k, v in layer.state_dict().items()})
    h2 = check()
    assert not np.allclose(h1, h2)
    opt = Adam(layer.params, lr=0.05)                      # an optimiser step (in place)
    layer.forward(rng.standard_normal((3, 2, 3)), state)
    layer.backward(rng.standard_normal((3, 2, 8)))
    opt.step(layer.grads)
    h3 = check()
    assert not np.allclose(h2, h3)
    layer.params["bias_hh_l1_reverse"][:2] = 3.0           # a slice assignment into one parameter
    h4 = check()
    assert not np.allclose(h3, h4)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("embedding_dim", [None, 3])
def test_language_model_step_equals_forward_and_sees_updates(cell, embedding_dim):
    from rnn_utils.models import LanguageModel
    from rnn_utils.optim import Adam

    model = LanguageModel(6, 4, cell=cell, embedding_dim=embedding_dim, num_layers=2,
                          rng=np.random.default_rng(0))
    rng = np.random.default_rng(4)
    tokens = np.array([0, 5, 2])
    state = None
    for _ in range(2):                                      # also exercises the carried state
        logits, new_state = model.step(tokens, state)
        ref, ref_state = model.forward(tokens[None], state)
        assert logits.shape == (3, 6) and np.abs(logits - ref[0]).max() < 1e-12
        assert _max_state_diff(new_state, ref_state) < 1e-12
        state = new_state
    opt = Adam(model.params, lr=0.1)
    inputs = rng.integers(0, 6, (4, 3))
    for _ in range(2):
        model.loss_and_grads(inputs, rng.integers(0, 6, (4, 3)))
        opt.step(model.grads)
        fresh = LanguageModel(6, 4, cell=cell, embedding_dim=embedding_dim, num_layers=2,
                              rng=np.random.default_rng(1))
        fresh.load_state_dict(model.state_dict())
        logits, _ = model.step(tokens, state)
        assert np.array_equal(logits, fresh.step(tokens, state)[0])
        assert np.abs(logits - model.forward(tokens[None], state)[0][0]).max() < 1e-12


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_argument_errors(kind):
    layer = make_layer(kind, num_layers=2, D=3, H=4)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, D=3\), got \(2, 4\)"):
        layer.step(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"x: expected a 2-d array"):
        layer.step(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"x: expected at least one sequence"):
        layer.step(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"x: contains 1 NaN or inf"):
        layer.step(np.array([[0.0, np.nan, 1.0]]))
    bad = np.zeros((2, 2, 4))
    bad[1, 0, 3] = np.inf
    if kind == "lstm":
        with pytest.raises(ValueError, match=r"state\[1\]: contains 1 NaN or inf"):
            layer.step(np.zeros((2, 3)), (np.zeros((2, 2, 4)), bad))
        with pytest.raises(ValueError, match=r"state\[0\]: expected shape \(num_layers\*dirs=2, B=2, H=4\)"):
            layer.step(np.zeros((2, 3)), (np.zeros((2, 3, 4)), None))
        with pytest.raises(ValueError, match=r"state: expected a tuple \(h, c\)"):
            layer.step(np.zeros((2, 3)), np.zeros((2, 2, 4)))
    else:
        with pytest.raises(ValueError, match=r"state: contains 1 NaN or inf"):
            layer.step(np.zeros((2, 3)), bad)
        with pytest.raises(ValueError, match=r"state: expected shape \(num_layers\*dirs=2, B=2, H=4\)"):
            layer.step(np.zeros((2, 3)), np.zeros((2, 3, 4)))
    # other real dtypes are cast, as in forward
    h, _ = layer.step(np.ones((2, 3), dtype=np.int32))
    assert h.dtype == np.float64 and np.array_equal(h, layer.step(np.ones((2, 3)))[0])


def test_step_accepts_large_finite_values():
    layer = make_layer("gru", D=3, H=4, dtype=np.float32)
    x = np.full((2, 3), 3e38, dtype=np.float32)               # finite, near the float32 maximum
    state = np.full((1, 2, 4), -3e38, dtype=np.float32)
    with np.errstate(over="ignore"):                          # the gates saturate through inf pre-activations
        h, s = layer.step(x, state)
        Y, s_fwd = layer.forward(x[None], state)
    assert h.dtype == np.float32 and np.array_equal(h, Y[0]) and np.array_equal(s, s_fwd)
