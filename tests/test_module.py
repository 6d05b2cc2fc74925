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
