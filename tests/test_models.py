"""Tests for rnn_utils.models: gradients of the whole model, state carrying, save/load, training helpers."""
import math

import numpy as np
import pytest

from rnn_utils.gradcheck import gradcheck, numerical_gradient
from rnn_utils.losses import softmax_cross_entropy
from rnn_utils.models import LanguageModel, batchify, evaluate, next_token_log_probs, train
from rnn_utils.optim import Adam
from rnn_utils.recurrent import GRU, LSTM, RNN
from rnn_utils.sampling import beam_search, greedy, sample, sequence_log_prob

CONFIGS = [("rnn", None), ("rnn", 3), ("lstm", 3), ("gru", None), ("gru", 3)]


def make(cell="gru", embedding_dim=3, V=5, H=4, num_layers=1, seed=0, dtype=np.float64):
    return LanguageModel(V, H, cell=cell, embedding_dim=embedding_dim, num_layers=num_layers, dtype=dtype,
                         rng=np.random.default_rng(seed))


def random_state(model, B, rng):
    shape = (model.num_layers, B, model.hidden_size)
    if model.cell == "lstm":
        return (rng.standard_normal(shape) * 0.5, rng.standard_normal(shape) * 0.5)
    return rng.standard_normal(shape) * 0.5


def state_arrays(state):
    return list(state) if isinstance(state, tuple) else [state]


def test_parameter_names_shapes_and_identity():
    model = make("lstm", embedding_dim=3, V=5, H=4, num_layers=2)
    assert sorted(model.params) == sorted(
        ["embedding.weight", "head.weight", "head.bias"]
        + [f"rnn.{w}_l{k}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for k in (0, 1)])
    assert model.params["embedding.weight"].shape == (5, 3)
    assert model.params["rnn.weight_ih_l0"].shape == (16, 3) and model.params["rnn.weight_ih_l1"].shape == (16, 4)
    assert model.params["head.weight"].shape == (5, 4) and model.params["head.bias"].shape == (5,)
    # the flat dict holds the layers' own arrays: an in-place update reaches the layers
    assert model.params["rnn.weight_hh_l0"] is model.rnn.params["weight_hh_l0"]
    assert model.params["head.weight"] is model.head.params["weight"]
    one_hot = make("rnn", embedding_dim=None, V=6, H=2)
    assert "embedding.weight" not in one_hot.params and one_hot.params["rnn.weight_ih_l0"].shape == (2, 6)
    assert one_hot.num_parameters() == 2 * 6 + 2 * 2 + 2 + 2 + 6 * 2 + 6
    assert make(cell=GRU).cell == "gru" and make(cell=LSTM).cell == "lstm" and make(cell="RNN").cell == "rnn"
    assert isinstance(make(cell=RNN).rnn, RNN)


@pytest.mark.parametrize("cell, E", CONFIGS)
def test_gradcheck_whole_model_with_carried_state(cell, E):
    rng = np.random.default_rng(1)
    model = make(cell, embedding_dim=E, V=5, H=4, num_layers=2 if cell == "gru" and E else 1)
    T, B = 4, 2
    inputs, targets = rng.integers(0, 5, (T, B)), rng.integers(0, 5, (T, B))
    state0 = random_state(model, B, rng)
    dstate_n = random_state(model, B, rng)  # the final state also feeds a (random linear) loss term

    def loss():
        logits, state_n = model.forward(inputs, state0)
        ce, _ = softmax_cross_entropy(logits, targets)
        return ce + sum(np.sum(s * d) for s, d in zip(state_arrays(state_n), state_arrays(dstate_n)))

    logits, state_n = model.forward(inputs, state0)
    _, dlogits = softmax_cross_entropy(logits, targets)
    dstate0 = model.backward(dlogits, dstate_n)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert sorted(grads) == sorted(model.params)
    errors = gradcheck(loss, model.params, grads, tol=1e-7)
    assert max(errors.values()) < 1e-7
    for s0, ds0 in zip(state_arrays(state0), state_arrays(dstate0)):
        numeric = numerical_gradient(loss, s0)
        np.testing.assert_allclose(ds0, numeric, rtol=1e-7, atol=1e-10)


def test_loss_and_grads_matches_forward_backward():
    rng = np.random.default_rng(2)
    model = make("rnn")
    inputs, targets = rng.integers(0, 5, (3, 2)), rng.integers(0, 5, (3, 2))
    loss, state = model.loss_and_grads(inputs, targets)
    logits, state2 = model.forward(inputs)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -np.mean(np.log(np.take_along_axis(p, targets[..., None], -1)))
    assert loss == pytest.approx(expected, abs=1e-12)
    np.testing.assert_array_equal(state, state2)


@pytest.mark.parametrize("cell, E", CONFIGS)
def test_chunks_with_carried_state_equal_one_long_forward_and_steps(cell, E):
    rng = np.random.default_rng(3)
    model = make(cell, embedding_dim=E)
    inputs = rng.integers(0, 5, (7, 3))
    full, state_full = model.forward(inputs)
    a, s = model.forward(inputs[:3])
    b, s = model.forward(inputs[3:], s)
    np.testing.assert_allclose(np.concatenate([a, b]), full, rtol=0, atol=1e-13)
    for x, y in zip(state_arrays(s), state_arrays(state_full)):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-13)
    # one step at a time (what rnn_utils.sampling does)
    s = None
    for t in range(7):
        logits, s = model.step(inputs[t], s)
        assert logits.shape == (3, 5)
        np.testing.assert_allclose(logits, full[t], rtol=0, atol=1e-13)


def test_forward_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for cell, tcls in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        model = make(cell, embedding_dim=3, V=5, H=4, num_layers=2)
        emb = torch.nn.Embedding(5, 3).double()
        rnn = tcls(3, 4, num_layers=2).double()
        head = torch.nn.Linear(4, 5).double()
        t = {k: torch.from_numpy(v) for k, v in model.params.items()}
        emb.load_state_dict({"weight": t["embedding.weight"]})
        rnn.load_state_dict({k[4:]: v for k, v in t.items() if k.startswith("rnn.")})
        head.load_state_dict({"weight": t["head.weight"], "bias": t["head.bias"]})
        inputs = rng.integers(0, 5, (6, 2))
        logits, _ = model.forward(inputs)
        with torch.no_grad():
            ref = head(rnn(emb(torch.from_numpy(inputs)))[0]).numpy()
        np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, E", CONFIGS)
def test_save_load_round_trip(tmp_path, cell, E):
    rng = np.random.default_rng(5)
    model = make(cell, embedding_dim=E, num_layers=2, dtype=np.float32)
    meta = {"symbols": ["<pad>", "<unk>", "<eos>", "a", "b"], "note": "test"}
    path = model.save(tmp_path / "lm", metadata=meta)
    assert path.name == "lm.npz" and path.is_file()
    loaded = LanguageModel.load(path)
    assert loaded.config == model.config and loaded.metadata == meta
    assert loaded.dtype == np.float32
    for k, v in model.params.items():
        np.testing.assert_array_equal(loaded.params[k], v)
    inputs = rng.integers(0, 5, (5, 2))
    a, sa = model.forward(inputs)
    b, sb = loaded.forward(inputs)
    np.testing.assert_array_equal(a, b)
    for x, y in zip(state_arrays(sa), state_arrays(sb)):
        np.testing.assert_array_equal(x, y)
    # a plain numpy file: readable with np.load
    with np.load(path) as data:
        np.testing.assert_array_equal(data["head.weight"], model.params["head.weight"])
    # identical weights -> identical bytes
    assert model.save(tmp_path / "again.npz", metadata=meta).read_bytes() == path.read_bytes()


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        LanguageModel.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="__config__"):
        LanguageModel.load(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="metadata"):
        make().save(tmp_path / "bad.npz", metadata={"x": object()})


# ---------------------------------------------------------------------------------------------------------------
# training helpers
# ---------------------------------------------------------------------------------------------------------------
def test_batchify_layout():
    out = batchify(np.arange(11), 3)
    np.testing.assert_array_equal(out, [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
    with pytest.raises(ValueError, match="batch_size"):
        batchify(np.arange(3), 5)


def test_training_drives_the_loss_down_on_a_repetitive_corpus():
    stream = np.tile([0, 1, 2, 3, 4, 2, 1], 60)   # deterministic given the last two tokens
    model = make("gru", embedding_dim=4, V=5, H=8, seed=0)
    before = evaluate(model, stream)
    losses = train(model, stream, seq_len=10, batch_size=4, steps=150, lr=0.05, clip=1.0)
    after = evaluate(model, stream)
    assert losses.shape == (150,)
    assert losses[0] > 1.0 and losses[-10:].mean() < 0.05
    assert before > 1.0 and after < 0.05
    # same seed, same data -> the same run
    again = make("gru", embedding_dim=4, V=5, H=8, seed=0)
    np.testing.assert_array_equal(train(again, stream, seq_len=10, batch_size=4, steps=150, lr=0.05, clip=1.0), losses)
    # a trained model continues the pattern
    assert greedy(model, [0, 1, 2], 8).tokens == [3, 4, 2, 1, 0, 1, 2, 3]


def test_train_reads_consecutive_chunks_and_carries_the_state():
    calls = []

    class Spy(LanguageModel):
        def loss_and_grads(self, inputs, targets, state0=None, mask=None):
            loss, state_n = super().loss_and_grads(inputs, targets, state0, mask)
            calls.append((inputs.copy(), targets.copy(), state0, state_n))
            return loss, state_n

    model = Spy(7, 3, cell="rnn", rng=np.random.default_rng(0))
    stream = np.arange(23) % 7                    # 22 (input, target) pairs -> 2 tracks of 11 -> 3 chunks of 3
    train(model, stream, seq_len=3, batch_size=2, steps=5, lr=1e-3)
    tracks_x, tracks_y = batchify(stream[:-1], 2), batchify(stream[1:], 2)
    starts = [0, 3, 6, 0, 3]                      # after 3 chunks the next one would not fit: a new epoch
    for (x, y, s0, _), t in zip(calls, starts):
        np.testing.assert_array_equal(x, tracks_x[t:t + 3])
        np.testing.assert_array_equal(y, tracks_y[t:t + 3])
    assert calls[0][2] is None and calls[3][2] is None
    for i in (1, 2, 4):
        assert calls[i][2] is calls[i - 1][3]      # the state the previous chunk ended in


def test_train_accepts_an_optimizer_and_no_clipping():
    stream = np.tile([0, 1, 2], 30)
    model = make("rnn", V=3, H=3)
    opt = Adam(model.params, lr=0.01)
    train(model, stream, seq_len=5, batch_size=2, steps=3, optimizer=opt, clip=None)
    assert opt.t == 3


def test_evaluate_equals_one_long_forward():
    rng = np.random.default_rng(6)
    model = make("lstm", V=5)
    stream = rng.integers(0, 5, 50)
    logits, _ = model.forward(stream[:-1, None])
    logp = logits[:, 0] - np.log(np.exp(logits[:, 0]).sum(-1, keepdims=True))
    expected = -np.mean(logp[np.arange(49), stream[1:]])
    assert evaluate(model, stream, seq_len=7) == pytest.approx(expected, abs=1e-12)
    assert evaluate(model, stream, seq_len=100) == pytest.approx(expected, abs=1e-12)
    assert evaluate(make("lstm", V=5, seed=9), stream) > 0


def test_next_token_log_probs_of_ragged_prefixes():
    model = make("gru", V=5)
    prefixes = [[2, 3, 1], [4], [0, 0, 1, 2, 3, 4]]
    out = next_token_log_probs(model, prefixes)
    assert out.shape == (3, 5)
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, atol=1e-12)
    for row, p in zip(out, prefixes):   # one prefix at a time, unpadded
        logits, _ = model.forward(np.array(p)[:, None])
        ref = logits[-1, 0] - np.log(np.exp(logits[-1, 0]).sum())
        np.testing.assert_allclose(row, ref, rtol=0, atol=1e-12)
    # a state of batch 1 is used for every prefix; a state of batch N row by row
    rng = np.random.default_rng(7)
    h1, hN = rng.standard_normal((1, 1, 4)), rng.standard_normal((1, 3, 4))
    out1, outN = next_token_log_probs(model, prefixes, h1), next_token_log_probs(model, prefixes, hN)
    for b, p in enumerate(prefixes):
        for out, h in ((out1, h1), (outN, hN[:, b:b + 1])):
            logits, _ = model.forward(np.array(p)[:, None], h)
            ref = logits[-1, 0] - np.log(np.exp(logits[-1, 0]).sum())
            np.testing.assert_allclose(out[b], ref, rtol=0, atol=1e-12)
    lstm = make("lstm", V=5)
    c1 = (rng.standard_normal((1, 1, 4)), rng.standard_normal((1, 1, 4)))
    logits, _ = lstm.forward(np.array(prefixes[2])[:, None], c1)
    np.testing.assert_allclose(next_token_log_probs(lstm, prefixes, c1)[2],
                               logits[-1, 0] - np.log(np.exp(logits[-1, 0]).sum()), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="prefixes"):
        next_token_log_probs(model, [])
    with pytest.raises(ValueError, match=r"prefixes\[1\]"):
        next_token_log_probs(model, [[1], []])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_decoders_work_on_the_model(cell):
    model = make(cell, V=6, H=5, num_layers=2, dtype=np.float32)
    state = random_state(model, 1, np.random.default_rng(8))
    g = greedy(model, [0, 1], 7, stop_token=0, state=state)
    (b,) = beam_search(model, [0, 1], 7, width=1, stop_token=0, state=state)
    assert b.tokens == g.tokens
    hyps = sample(model, [0, 1], 7, np.random.default_rng(0), num_samples=4, state=state)
    assert len(hyps) == 4
    for h in hyps:   # the log-probability a sampler reports is the model's, computed here by one forward pass
        logits, _ = model.forward(np.array([0, 1] + h.tokens[:-1])[:, None], state)
        logp = logits[1:, 0].astype(np.float64)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        expected = logp[np.arange(len(h.tokens)), h.tokens].sum()
        assert h.log_prob == pytest.approx(expected, abs=1e-4)
        assert sequence_log_prob(model, [0, 1], h.tokens, state=state) == pytest.approx(h.log_prob, abs=1e-4)  # float32


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="cell"):
        make(cell="transformer")
    with pytest.raises(ValueError, match="cell"):
        make(cell=dict)
    with pytest.raises(ValueError, match="vocab_size"):
        LanguageModel(0, 4, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="hidden_size"):
        LanguageModel(5, -1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="embedding_dim"):
        LanguageModel(5, 4, embedding_dim=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        LanguageModel(5, 4, rng=0)
    with pytest.raises(ValueError, match="dtype"):
        LanguageModel(5, 4, dtype=np.int32, rng=np.random.default_rng(0))
    model = make("gru", V=5, H=4)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.zeros((1, 1, 5)))
    with pytest.raises(ValueError, match=r"inputs: expected a 2-d array of shape \(T, B\)"):
        model.forward(np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="inputs: expected an integer"):
        model.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"inputs: expected ids in \[0, vocab_size=5\)"):
        model.forward(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="state0"):
        model.forward(np.zeros((2, 3), dtype=int), np.zeros((1, 2, 4)))
    model.forward(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"dlogits: expected shape \(T=2, B=3, V=5\)"):
        model.backward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"targets: expected shape \(T=2, B=3\)"):
        model.loss_and_grads(np.zeros((2, 3), dtype=int), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match="tokens"):
        model.step(np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="stream"):
        train(model, np.array([1]), seq_len=2, batch_size=1, steps=1)
    with pytest.raises(ValueError, match="stream"):
        evaluate(model, np.array([1, 7, 2]))
    with pytest.raises(ValueError, match="seq_len"):
        train(model, np.arange(5) % 5, seq_len=10, batch_size=1, steps=1)
    with pytest.raises(ValueError, match="steps"):
        train(model, np.arange(50) % 5, seq_len=2, batch_size=1, steps=0)


# ---------------------------------------------------------------------------------------------------------------
# issue 8: the seams between modules (each a regression test)
# ---------------------------------------------------------------------------------------------------------------
STREAM = np.array([0, 1, 2, 3, 4] * 40)


def test_train_refuses_an_optimizer_over_another_models_arrays():
    model, other = make(seed=0), make(seed=1)
    before = {n: p.copy() for n, p in other.params.items()}
    with pytest.raises(ValueError, match=r"optimizer: it does not hold this model's parameter arrays"):
        train(model, STREAM, seq_len=4, batch_size=2, steps=1, optimizer=Adam(other.params))
    for n, p in other.params.items():                               # nothing was trained
        np.testing.assert_array_equal(p, before[n])
    opt = Adam(model.params, lr=1e-2)                                # continuing with its own moments is fine
    train(model, STREAM, seq_len=4, batch_size=2, steps=2, optimizer=opt)
    train(model, STREAM, seq_len=4, batch_size=2, steps=2, optimizer=opt)
    assert opt.t == 4
    with pytest.raises(ValueError, match=r"optimizer: expected an object with a .step\(grads\) method"):
        train(model, STREAM, seq_len=4, batch_size=2, steps=1, optimizer="adam")


@pytest.mark.parametrize("clip", [0, -1.0, float("nan"), "5"])
def test_train_names_clip_not_the_clipping_functions_argument(clip):
    with pytest.raises(ValueError, match=r"^clip: expected a real number in \(0, inf\)"):
        train(make(), STREAM, seq_len=4, batch_size=2, steps=1, clip=clip)


def test_one_hot_model_never_builds_a_V_by_V_identity():
    import tracemalloc
    V = 4000
    model = LanguageModel(V, 8, cell="rnn", embedding_dim=None, dtype=np.float32, rng=np.random.default_rng(0))
    model.forward(np.zeros((1, 1), dtype=np.int64))                 # warm up
    tracemalloc.start()
    model.forward(np.array([[5], [7]]))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * V * V / 10                                     # eye(V) float32 alone would be 61 MiB
    logits, _ = model.forward(np.array([[5]]))
    X = np.zeros((1, 1, V), np.float32)
    X[0, 0, 5] = 1
    Y, _ = model.rnn.forward(X)                                      # the same as feeding the one-hot vector
    np.testing.assert_allclose(logits, model.head.forward(Y), rtol=1e-6)


def test_grads_keep_their_identity_across_backward_calls():
    model = make("lstm")
    taken = dict(model.grads)                                        # references taken once, before any backward
    rng = np.random.default_rng(0)
    for _ in range(2):
        x = rng.integers(0, 5, (3, 2))
        model.loss_and_grads(x, rng.integers(0, 5, (3, 2)))
        for n in model.grads:
            assert model.grads[n] is taken[n]
    expected = {f"{p}.{n}": g for p, layer in model._layers() for n, g in layer.grads.items()}
    for n, g in expected.items():
        assert model.grads[n] is g


def test_loss_and_grads_allows_anything_at_masked_positions_as_losses_does():
    model = make("gru")
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 5, (4, 3)), rng.integers(0, 5, (4, 3))
    mask = np.ones((4, 3), bool)
    mask[2:, 1] = False
    y_pad = y.copy()
    y_pad[~mask] = -1
    loss_pad, _ = model.loss_and_grads(x, y_pad, mask=mask)
    g_pad = {n: g.copy() for n, g in model.grads.items()}
    loss, _ = model.loss_and_grads(x, y, mask=mask)
    assert loss_pad == loss
    for n in g_pad:
        np.testing.assert_array_equal(g_pad[n], model.grads[n])
    with pytest.raises(ValueError, match=r"targets: expected ids in \[0, V=5\), got 2 outside \(e.g. -1\)"):
        model.loss_and_grads(x, y_pad)                               # without the mask, -1 is a real target


def test_metadata_exists_on_a_new_model():
    assert make().metadata == {}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_load_gives_one_clear_error_for_foreign_truncated_or_corrupted_files(tmp_path):
    good = make("lstm").save(tmp_path / "good.npz")
    raw = good.read_bytes()
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    np.save(tmp_path / "single.npy", np.zeros(3))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    corrupted = bytearray(raw)
    corrupted[len(raw) // 2: len(raw) // 2 + 64] = b"\xff" * 64
    cases = {
        "foreign": tmp_path / "foreign.npz",
        "single": tmp_path / "single.npy",
        "objects": tmp_path / "objects.npy",
        "truncated": _write(tmp_path / "truncated.npz", raw[: len(raw) // 3]),
        "corrupted": _write(tmp_path / "corrupted.npz", bytes(corrupted)),
        "text": _write(tmp_path / "text.npz", b"not a model at all\n"),
        "empty": _write(tmp_path / "empty.npz", b""),
    }
    for label, path in cases.items():
        with pytest.raises(ValueError, match=r"path: '.*' is not a model file written by LanguageModel.save") as err:
            LanguageModel.load(path)
        assert str(path) in str(err.value), label
        assert "allow_pickle" not in str(err.value), label


def test_load_rejects_a_bad_config(tmp_path):
    import json
    import zipfile
    path = make().save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    for bad_config, what in (("{not json", "unreadable"), ('{"vocab_size": 5}', "lacks"),
                             (json.dumps({**make().config, "dtype": "banana"}), "dtype"), ("[1, 2]", "JSON object")):
        buf = tmp_path / "bad.npz"
        with zipfile.ZipFile(buf, "w") as zf:
            for n, data in entries.items():
                if n == "__config__.npy":
                    import io
                    b = io.BytesIO()
                    np.save(b, np.array(bad_config))
                    data = b.getvalue()
                zf.writestr(n, data)
        with pytest.raises(ValueError, match=f"not a model file written by LanguageModel.save: .*{what}"):
            LanguageModel.load(buf)


def test_constructors_are_keyword_only_after_the_sizes_and_need_a_generator():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError):
        LSTM(8, 16, 2, True, rng=rng)                 # torch.nn.LSTM(8, 16, 2, True) means bias=True
    with pytest.raises(TypeError):
        GRU(8, 16, 1, False, True, rng=rng)           # torch's 5th positional is batch_first
    with pytest.raises(TypeError):
        RNN(8, 16, 1, "relu", rng=rng)
    with pytest.raises(TypeError):
        LanguageModel(5, 4, "lstm", rng=rng)
    for build in (lambda: LSTM(8, 16), lambda: LanguageModel(5, 4)):
        with pytest.raises(TypeError, match="rng"):
            build()
    for build in (lambda: LSTM(8, 16, rng=None), lambda: LanguageModel(5, 4, rng=None)):
        with pytest.raises(ValueError, match=r"rng: a np.random.Generator is required"):
            build()
    with pytest.raises(ValueError, match="dtype: expected float32 or float64"):
        LanguageModel(5, 4, dtype="banana", rng=rng)


def test_next_token_log_probs_names_the_callers_arguments():
    model = make("lstm")
    with pytest.raises(ValueError, match=r"prefixes\[1\]: expected at least one token, got an empty sequence"):
        next_token_log_probs(model, [[1], []])
    with pytest.raises(ValueError, match=r"prefixes\[0\]: expected ids in \[0, vocab_size=5\)"):
        next_token_log_probs(model, [[1, 9]])
    with pytest.raises(ValueError, match=r"state: expected a tuple \(h, c\) of two arrays"):
        next_token_log_probs(model, [[1]], np.zeros(4))
    with pytest.raises(ValueError, match=r"state\[0\]: expected a 3-d array"):
        next_token_log_probs(model, [[1]], (np.zeros(4), np.zeros(4)))
    with pytest.raises(ValueError, match=r"state\[0\]: expected batch size 1 or N=2"):
        next_token_log_probs(model, [[1], [2]], (np.zeros((1, 3, 4)), np.zeros((1, 3, 4))))
    gru = make("gru")
    with pytest.raises(ValueError, match=r"state: expected a 3-d array"):
        next_token_log_probs(gru, [[1]], np.zeros(4))


def test_decoders_name_prefix_not_the_models_tokens():
    model = make("gru")
    for call in (lambda: greedy(model, [99], 3), lambda: sample(model, [1, 99], 3, np.random.default_rng(0)),
                 lambda: beam_search(model, [99], 3, 2), lambda: sequence_log_prob(model, [99], [1])):
        with pytest.raises(ValueError, match=r"^prefix: expected ids in \[0, vocab_size=5\)"):
            call()
    with pytest.raises(ValueError, match=r"^tokens: expected ids in \[0, vocab_size=5\)"):
        sequence_log_prob(model, [1], [1, 7])
    with pytest.raises(ValueError, match=r"^stop_token: expected ids in \[0, vocab_size=5\)"):
        greedy(model, [1], 3, stop_token=5)
