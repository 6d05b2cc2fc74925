"""The public names promised by the README and the module docstrings are importable from the top level."""
import importlib

import rnn_utils

MODULES = ["cells", "data", "grammars", "gradcheck", "layers", "losses", "models", "optim", "plots",
           "recurrent", "sampling"]


def test_every_public_name_of_every_module_is_exported_at_top_level():
    for name in MODULES:
        module = importlib.import_module(f"rnn_utils.{name}")
        for public in module.__all__:
            assert getattr(rnn_utils, public) is getattr(module, public), f"rnn_utils.{public} ({name})"


def test_readme_example_runs():
    import numpy as np

    rng = np.random.default_rng(0)
    layer = rnn_utils.LSTM(input_size=8, hidden_size=16, num_layers=2, bidirectional=True, rng=rng)
    X = rng.standard_normal((5, 3, 8))
    Y, (h_n, c_n) = layer.forward(X)
    assert Y.shape == (5, 3, 32) and h_n.shape == (4, 3, 16) and c_n.shape == (4, 3, 16)
    dX, (dh0, dc0) = layer.backward(np.ones_like(Y))
    assert dX.shape == X.shape and dh0.shape == dc0.shape == (4, 3, 16)
    assert set(layer.grads) == set(layer.params)
