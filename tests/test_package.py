"""The package's shape: public names importable from the top level, each defined in one module, and import arrows
that run one way (notebooks -> models/sampling -> layers -> cells -> checks)."""
import ast
import importlib
from pathlib import Path

import pytest

import rnn_utils

PACKAGE = Path(rnn_utils.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))

# Rank of each module: a module may import only modules of a strictly lower rank.
RANK = {
    "_checks": 0,
    "module": 1, "cells": 1, "losses": 1, "optim": 1, "gradcheck": 1, "data": 1, "grammars": 1, "plots": 1,
    "layers": 2, "recurrent": 2, "unrolled": 2, "variants": 2,
    "models": 3, "sampling": 3,
    "tasks": 4,
    "tagging": 3,
    "timeseries": 3, "textcorpus": 2,
    "sentiment": 3, "seq2seq": 3,
}


def _imports(module: str):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            yield node.module
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnn_utils"):
            yield node.module.split(".")[1] if "." in node.module else "__init__"


def test_every_module_has_a_rank():
    assert set(MODULES) | {"_checks"} <= set(RANK), sorted(set(MODULES) - set(RANK))


@pytest.mark.parametrize("module", MODULES + ["_checks"])
def test_import_arrows_run_one_way(module):
    for target in _imports(module):
        assert target in RANK and RANK[target] < RANK[module], f"{module} imports {target}"


def test_every_public_name_of_every_module_is_exported_at_top_level():
    for name in MODULES:
        module = importlib.import_module(f"rnn_utils.{name}")
        for public in module.__all__:
            assert getattr(rnn_utils, public) is getattr(module, public), f"rnn_utils.{public} ({name})"


def test_each_public_name_has_one_home():
    homes = {}
    for name in MODULES:
        for public in importlib.import_module(f"rnn_utils.{name}").__all__:
            assert public not in homes, f"{public} is public in both {homes[public]} and {name}"
            homes[public] = name


def test_numerics_are_written_once():
    """log-softmax, softmax and one-hot have one implementation each (losses, losses, data)."""
    for name in MODULES:
        src = (PACKAGE / f"{name}.py").read_text()
        if name != "losses":
            assert "def log_softmax" not in src and "def _log_softmax" not in src, name
            assert "np.log(np.exp(" not in src, name
        if name != "data":
            assert "np.eye(self.vocab_size" not in src and ")[inputs]" not in src, name
    for name in ("models", "sampling"):
        src = (PACKAGE / f"{name}.py").read_text()
        assert "def _check_rng" not in src and "isinstance(rng, np.random.Generator)" not in src


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
