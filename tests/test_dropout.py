"""Dropout between stacked layers (torch's `dropout` argument), train()/eval() modes, and that dropout=0 changes
nothing.

Independent truths: the mask statistics (binomial bounds); a stacked layer in training mode equals the composition
of single-layer layers with the masks drawn by hand from the same seed (the definition); numerical gradients with
a fixed mask; the readable Unrolled; PyTorch in evaluation mode (skipped without torch); the generator's state
(no draw) for dropout=0.
"""
import numpy as np
import pytest

from rnn_utils import GRU, LSTM, RNN, LanguageModel, Unrolled, dropout_mask, evaluate, gradcheck, train

RNG = np.random.default_rng
LAYERS = {"rnn": (RNN, "rnn_tanh", {}), "lstm": (LSTM, "lstm", {}), "gru": (GRU, "gru", {})}
T, B, D, H = 5, 3, 4, 3


def _randomize(layer, seed=1):
    rng = RNG(seed)
    for p in layer.params.values():
        p[...] = rng.uniform(-0.8, 0.8, p.shape)


# ------------------------------------------------------------------------------------------------ the mask
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mask_drops_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p(p):
    n = 200_000
    m = dropout_mask((n,), p, rng=RNG(3))
    dropped = np.mean(m == 0)
    sd = np.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 5 * sd
    assert np.allclose(m[m != 0], 1 / (1 - p), rtol=0, atol=1e-15)
    assert abs(m.mean() - 1) < 5 * sd / (1 - p)          # inverted dropout: E[mask] = 1


def test_mask_is_one_uniform_draw_compared_with_p():
    u = RNG(4).random((2, 3, 5))
    m = dropout_mask((2, 3, 5), 0.3, rng=RNG(4), dtype=np.float32)
    assert m.dtype == np.float32
    assert np.array_equal(m != 0, u >= 0.3)


# ------------------------------------------------------------------------------------------------ dropout = 0
@pytest.mark.parametrize("kind", LAYERS)
def test_no_dropout_draws_nothing_and_both_modes_agree(kind):
    cls, _, kw = LAYERS[kind]
    rng = RNG(0)
    layer = cls(D, H, num_layers=3, rng=rng, **kw)
    # the constructor drew exactly the weights: the generator is where a fresh one is after as many uniforms
    ref = RNG(0)
    ref.uniform(size=layer.num_parameters())
    assert rng.bit_generator.state == ref.bit_generator.state
    assert layer.dropout == 0 and layer.dropout_rng is None
    X = RNG(1).standard_normal((T, B, D))
    Y_train, _ = layer.forward(X)
    assert layer.dropout_masks == []
    Y_eval, _ = layer.eval().forward(X)
    assert np.array_equal(Y_train, Y_eval)


@pytest.mark.parametrize("kind", LAYERS)
def test_weights_do_not_depend_on_dropout(kind):
    cls, _, kw = LAYERS[kind]
    a = cls(D, H, num_layers=2, rng=RNG(5), **kw)
    b = cls(D, H, num_layers=2, dropout=0.4, rng=RNG(5), **kw)
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])


# ------------------------------------------------------------------------------------------------ semantics
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_training_forward_is_the_composition_of_single_layers_with_inverted_dropout(kind, bidirectional):
    cls, _, kw = LAYERS[kind]
    p, L = 0.4, 3
    dirs = 2 if bidirectional else 1
    layer = cls(D, H, num_layers=L, bidirectional=bidirectional, dropout=p, rng=RNG(0), **kw)
    _randomize(layer)
    layer.dropout_rng = RNG(11)
    X = RNG(2).standard_normal((T, B, D))
    Y, state_n = layer.forward(X)
    masks = [dropout_mask((T, B, dirs * H), p, rng=rng) for rng in [RNG(11)] for _ in range(L - 1)]
    inp, finals = X, []
    for k in range(L):
        single = cls(inp.shape[2], H, bidirectional=bidirectional, rng=RNG(0), **kw)
        single.load_state_dict({n.replace(f"_l{k}", "_l0"): v for n, v in layer.params.items() if f"_l{k}" in n})
        out, s = single.forward(inp)
        finals.append(s)
        inp = out * masks[k] if k < L - 1 else out       # the last layer's outputs are never dropped
    assert np.allclose(Y, inp, rtol=0, atol=1e-13)
    assert all(np.array_equal(a, b) for a, b in zip(layer.dropout_masks, masks))
    h_n = state_n[0] if kind == "lstm" else state_n
    ref_h = np.concatenate([f[0] if kind == "lstm" else f for f in finals])
    assert np.allclose(h_n, ref_h, rtol=0, atol=1e-13)


@pytest.mark.parametrize("kind", LAYERS)
def test_eval_mode_applies_no_dropout_and_draws_nothing(kind):
    cls, _, kw = LAYERS[kind]
    layer = cls(D, H, num_layers=2, dropout=0.5, rng=RNG(0), **kw)
    plain = cls(D, H, num_layers=2, rng=RNG(0), **kw)
    X = RNG(2).standard_normal((T, B, D))
    before = layer.dropout_rng.bit_generator.state
    Y, _ = layer.eval().forward(X)
    assert not layer.training and layer.dropout_masks == []
    assert layer.dropout_rng.bit_generator.state == before
    assert np.array_equal(Y, plain.forward(X)[0])
    Y_train, _ = layer.train().forward(X)
    assert layer.training and not np.allclose(Y_train, Y)


def test_one_layer_ignores_dropout_as_torch_does():
    with pytest.warns(UserWarning, match="no effect"):
        layer = LSTM(D, H, dropout=0.5, rng=RNG(0))
    plain = LSTM(D, H, rng=RNG(0))
    X = RNG(2).standard_normal((T, B, D))
    assert np.array_equal(layer.forward(X)[0], plain.forward(X)[0])


ONE_LAYER_DROPOUT = {
    "RNN": lambda **kw: RNN(D, H, rng=RNG(0), **kw),
    "LSTM": lambda **kw: LSTM(D, H, rng=RNG(0), **kw),
    "GRU": lambda **kw: GRU(D, H, rng=RNG(0), **kw),
    "Unrolled": lambda **kw: Unrolled("lstm", D, H, rng=RNG(0), **kw),
    "LanguageModel": lambda **kw: LanguageModel(6, H, cell="gru", rng=RNG(0), **kw),
}


@pytest.mark.parametrize("owner", ONE_LAYER_DROPOUT)
def test_nonzero_dropout_with_one_layer_warns_once_at_construction_naming_argument_value_and_reason(owner):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = ONE_LAYER_DROPOUT[owner](dropout=0.3)
        stream = RNG(1).integers(0, 6, 60)
        if owner == "LanguageModel":                      # using the model warns no more
            train(obj, stream, seq_len=5, batch_size=2, steps=2)
        else:
            obj.forward(RNG(2).standard_normal((T, B, D)))
    mine = [w for w in caught if issubclass(w.category, UserWarning)]
    assert len(mine) == 1, [str(w.message) for w in mine]
    text = str(mine[0].message)
    assert owner in text and "dropout=0.3" in text and "num_layers=1" in text and "between" in text
    assert mine[0].filename == __file__                   # points at the caller, not inside rnn_utils


@pytest.mark.parametrize("owner", ONE_LAYER_DROPOUT)
@pytest.mark.parametrize("kw", [{}, {"dropout": 0.0}, {"dropout": 0.3, "num_layers": 2}])
def test_no_warning_without_dropout_or_with_several_layers(owner, kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ONE_LAYER_DROPOUT[owner](**kw)


# ------------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_backward_with_a_fixed_mask_passes_the_gradient_check(kind, bidirectional):
    cls, _, kw = LAYERS[kind]
    layer = cls(D, H, num_layers=3, bidirectional=bidirectional, dropout=0.5, rng=RNG(0), **kw)
    _randomize(layer)
    X = RNG(2).standard_normal((T, B, D))
    dirs = 2 if bidirectional else 1
    R = RNG(3).standard_normal((T, B, dirs * H))
    Rh = RNG(4).standard_normal((3 * dirs, B, H))

    def loss():
        layer.dropout_rng = RNG(7)                       # the same mask at every evaluation
        Y, s = layer.forward(X)
        h = s[0] if kind == "lstm" else s
        return float(np.sum(Y * R) + np.sum(h * Rh))

    loss()
    assert any((m == 0).any() for m in layer.dropout_masks)
    dh = (Rh, None) if kind == "lstm" else Rh
    dX, _ = layer.backward(R, dh)
    gradcheck(loss, layer.params, {k: v.copy() for k, v in layer.grads.items()})
    gradcheck(loss, {"X": X}, {"X": dX})


# ------------------------------------------------------------------------------------------------ twins
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unrolled_and_fast_layer_agree_with_dropout(kind, bidirectional):
    cls, cell, kw = LAYERS[kind]
    fast = cls(D, H, num_layers=3, bidirectional=bidirectional, dropout=0.3, rng=RNG(0), **kw)
    slow = Unrolled(cell, D, H, num_layers=3, bidirectional=bidirectional, dropout=0.3, rng=RNG(0))
    for name in fast.params:
        assert np.array_equal(fast.params[name], slow.params[name])
    fast.dropout_rng, slow.dropout_rng = RNG(9), RNG(9)
    X = RNG(2).standard_normal((T, B, D))
    Yf, _ = fast.forward(X)
    Ys, _ = slow.forward(X)
    assert np.allclose(Yf, Ys, rtol=0, atol=1e-12)
    dY = RNG(3).standard_normal(Yf.shape)
    dXf, _ = fast.backward(dY)
    dXs, _ = slow.backward(dY)
    assert np.allclose(dXf, dXs, rtol=0, atol=1e-12)
    for name in fast.grads:
        assert np.allclose(fast.grads[name], slow.grads[name], rtol=0, atol=1e-12), name


def test_unrolled_eval_mode_has_no_dropout():
    a = Unrolled("gru", D, H, num_layers=2, dropout=0.5, rng=RNG(0)).eval()
    b = Unrolled("gru", D, H, num_layers=2, rng=RNG(0))
    X = RNG(2).standard_normal((T, B, D))
    assert np.array_equal(a.forward(X)[0], b.forward(X)[0])


@pytest.mark.parametrize("kind", LAYERS)
def test_step_in_training_mode_equals_a_one_step_forward_with_the_same_masks(kind):
    cls, _, kw = LAYERS[kind]
    layer = cls(D, H, num_layers=3, dropout=0.5, rng=RNG(0), **kw)
    x = RNG(2).standard_normal((B, D))
    layer.dropout_rng = RNG(5)
    h, _ = layer.step(x)
    layer.dropout_rng = RNG(5)
    Y, _ = layer.forward(x[None])
    assert np.allclose(h, Y[0], rtol=0, atol=1e-13)
    layer.eval()
    assert np.allclose(layer.step(x)[0], layer.forward(x[None])[0][0], rtol=0, atol=1e-13)


# ------------------------------------------------------------------------------------------------ the model
def test_language_model_modes_propagate_and_a_loaded_model_is_in_eval_mode(tmp_path):
    m = LanguageModel(6, 5, cell="lstm", embedding_dim=3, num_layers=2, dropout=0.25, rng=RNG(0))
    assert m.training and m.rnn.training and m.head.training and m.embedding.training
    assert m.eval() is m and not (m.training or m.rnn.training or m.head.training or m.embedding.training)
    m.train()
    assert m.rnn.training
    assert m.config["dropout"] == 0.25 and "dropout=0.25" in repr(m.rnn)
    loaded = LanguageModel.load(m.save(tmp_path / "m"))
    assert not loaded.training and not loaded.rnn.training
    assert loaded.rnn.dropout == 0.25
    plain = LanguageModel(6, 5, cell="lstm", num_layers=2, rng=RNG(0))
    assert "dropout" not in plain.config and "dropout" not in repr(plain.rnn)
    assert not LanguageModel.load(plain.save(tmp_path / "p")).training


def test_train_and_evaluate_use_their_modes_and_restore_the_callers():
    stream = RNG(1).integers(0, 6, 400)
    m = LanguageModel(6, 5, cell="gru", num_layers=2, dropout=0.5, rng=RNG(0)).eval()
    train(m, stream, seq_len=10, batch_size=4, steps=3)
    assert not m.training
    assert m.rnn.dropout_masks                        # the updates were made with dropout
    m.train()
    before = m.rnn.dropout_rng.bit_generator.state
    nats = evaluate(m, stream[:50])
    assert m.training and m.rnn.dropout_rng.bit_generator.state == before   # scored without drawing a mask
    m.eval()
    assert nats == evaluate(m, stream[:50])


def test_language_model_without_dropout_is_unchanged_by_modes():
    stream = RNG(1).integers(0, 6, 400)
    a = LanguageModel(6, 5, cell="rnn", num_layers=3, rng=RNG(0))
    b = LanguageModel(6, 5, cell="rnn", num_layers=3, rng=RNG(0)).eval()
    la = train(a, stream, seq_len=10, batch_size=4, steps=5)
    lb = train(b, stream, seq_len=10, batch_size=4, steps=5)
    assert np.array_equal(la, lb)


# ------------------------------------------------------------------------------------------------ torch
@pytest.mark.parametrize("kind", LAYERS)
def test_eval_mode_equals_torch_with_the_same_weights(kind):
    torch = pytest.importorskip("torch")
    cls, _, kw = LAYERS[kind]
    ref_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    torch.manual_seed(0)
    ref = ref_cls(D, H, num_layers=3, dropout=0.5, bidirectional=True).double().eval()
    layer = cls(D, H, num_layers=3, bidirectional=True, dropout=0.5, rng=RNG(0), **kw).eval()
    layer.load_state_dict(ref.state_dict())
    X = RNG(2).standard_normal((T, B, D))
    with torch.no_grad():
        Y_ref, _ = ref(torch.from_numpy(X))
    Y, _ = layer.forward(X)
    assert np.allclose(Y, Y_ref.numpy(), rtol=0, atol=1e-12)
