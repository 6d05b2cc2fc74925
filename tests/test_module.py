import numpy as np
import pytest

from rnn_utils.module import Module


class Pair(Module):
    def __init__(self):
        super().__init__()
        self.params = {"weight": np.zeros((2, 3)), "bias": np.zeros(2)}


def test_state_dict_returns_copies():
    m = Pair()
    sd = m.state_dict()
    sd["weight"][0, 0] = 5.0
    assert m.params["weight"][0, 0] == 0.0
    assert m.num_parameters() == 8


def test_load_state_dict_copies_in_place_and_casts():
    m = Pair()
    w = m.params["weight"]
    m.load_state_dict({"weight": np.arange(6).reshape(2, 3), "bias": [1.0, 2.0]})
    assert m.params["weight"] is w and w.dtype == np.float64
    np.testing.assert_array_equal(w, [[0, 1, 2], [3, 4, 5]])


def test_load_state_dict_errors_name_key_and_shapes_and_change_nothing():
    m = Pair()
    with pytest.raises(ValueError, match=r"missing \['bias'\], unexpected \['b'\]"):
        m.load_state_dict({"weight": np.ones((2, 3)), "b": np.ones(2)})
    with pytest.raises(ValueError, match=r"state\['bias'\]: expected shape \(2,\), got \(3,\)"):
        m.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(3)})
    with pytest.raises(ValueError, match=r"state\['bias'\]: expected finite"):
        m.load_state_dict({"weight": np.ones((2, 3)), "bias": [np.nan, 0.0]})
    assert not m.params["weight"].any()
    with pytest.raises(ValueError, match="expected a mapping"):
        m.load_state_dict([1, 2])


# ---------------------------------------------------------------------------------------------------------------
# one contract for every Module in the package
# ---------------------------------------------------------------------------------------------------------------
import rnn_utils  # noqa: E402


def _modules():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 2, 4))
    ids = rng.integers(0, 5, (3, 2))
    yield "RNN", rnn_utils.RNN(4, 3, num_layers=2, rng=rng), X
    yield "LSTM", rnn_utils.LSTM(4, 3, bidirectional=True, rng=rng), X
    yield "GRU", rnn_utils.GRU(4, 3, reset_after=False, rng=rng), X
    yield "Unrolled", rnn_utils.Unrolled("lstm", 4, 3, rng=rng), X
    yield "Linear", rnn_utils.Linear(4, 3, rng=rng), X
    yield "Embedding", rnn_utils.Embedding(5, 3, rng=rng), ids
    yield "LanguageModel", rnn_utils.LanguageModel(5, 3, cell="gru", embedding_dim=2, rng=rng), ids
    yield "SequenceClassifier", rnn_utils.SequenceClassifier(rnn_utils.LSTM(5, 3, rng=rng), 4, rng=rng), ids


@pytest.mark.parametrize("name, module, inp", list(_modules()), ids=[m[0] for m in _modules()])
def test_every_module_keeps_grads_identity_and_uses_forward_time_weights(name, module, inp):
    ids = {k: id(g) for k, g in module.grads.items()}
    assert list(module.grads) == list(module.params)
    module.forward(inp)
    out = module.forward(inp)
    out = out[0] if isinstance(out, tuple) else out
    dout = np.random.default_rng(1).standard_normal(out.shape)
    d1 = module.backward(dout)
    g1 = {k: g.copy() for k, g in module.grads.items()}
    for p in module.params.values():                       # an optimiser step between forward and backward
        p += 0.25
    d2 = module.backward(dout)
    for k in g1:
        np.testing.assert_array_equal(module.grads[k], g1[k], err_msg=f"{name}.grads[{k!r}]")
        assert id(module.grads[k]) == ids[k], f"{name}.grads[{k!r}] was replaced"
    for a, b in zip(d1 if isinstance(d1, tuple) else (d1,), d2 if isinstance(d2, tuple) else (d2,)):
        if a is not None:
            np.testing.assert_array_equal(a if not isinstance(a, tuple) else a[0],
                                          b if not isinstance(b, tuple) else b[0])


@pytest.mark.parametrize("name, module, inp", list(_modules()), ids=[m[0] for m in _modules()])
def test_every_module_rejects_unexpected_and_missing_keys(name, module, inp):
    state = module.state_dict()
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        module.load_state_dict({**state, "extra": np.zeros(1)})
    first = next(iter(state))
    with pytest.raises(ValueError, match=rf"missing \['{first}'\]"):
        module.load_state_dict({k: v for k, v in state.items() if k != first})
