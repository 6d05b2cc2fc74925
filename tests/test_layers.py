import numpy as np
import pytest

from rnn_utils.gradcheck import gradcheck, numerical_gradient_array, rel_error
from rnn_utils.layers import Embedding, Linear


# ---------------------------------------------------------------- Linear

def test_linear_shapes_names_and_torch_init_bounds():
    lin = Linear(50, 7, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in lin.params.items()} == {"weight": (7, 50), "bias": (7,)}
    bound = 1 / np.sqrt(50)
    for p in lin.params.values():
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.8 * bound  # uniform(-1/sqrt(D), 1/sqrt(D))
    # same rng seed -> same weights; no global state involved
    np.testing.assert_array_equal(Linear(50, 7, rng=np.random.default_rng(0)).params["weight"], lin.params["weight"])
    assert list(Linear(3, 2, bias=False, rng=np.random.default_rng(0)).params) == ["weight"]


def test_linear_forward_is_affine_per_position():
    rng = np.random.default_rng(1)
    lin = Linear(4, 3, rng=rng)
    X = rng.standard_normal((5, 2, 4))
    Y = lin.forward(X)
    assert Y.shape == (5, 2, 3)
    W, b = lin.params["weight"], lin.params["bias"]
    for t in range(5):
        for i in range(2):  # column form y = W x + b at every (t, b)
            np.testing.assert_allclose(Y[t, i], W @ X[t, i] + b, rtol=1e-13, atol=1e-14)
    assert lin.forward(X[0, 0]).shape == (3,)  # a single vector works too


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(shape, bias):
    rng = np.random.default_rng(2)
    lin = Linear(4, 5, bias=bias, rng=rng)
    X = rng.standard_normal(shape)
    dY = rng.standard_normal(shape[:-1] + (5,))
    lin.forward(X)
    dX = lin.backward(dY)
    f = lambda: np.sum(lin.forward(X) * dY)
    gradcheck(f, lin.params, lin.grads)
    assert rel_error(dX, numerical_gradient_array(lambda: lin.forward(X), X, dY)) < 1e-7


def test_linear_grads_overwritten_not_accumulated():
    rng = np.random.default_rng(3)
    lin = Linear(2, 2, rng=rng)
    X, dY = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    lin.forward(X)
    lin.backward(dY)
    first = {k: v.copy() for k, v in lin.grads.items()}
    lin.backward(dY)
    for k in first:
        np.testing.assert_array_equal(lin.grads[k], first[k])


def test_linear_float32_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        lin = Linear(6, 3, dtype=dtype, rng=rng)
        X, dY = rng.standard_normal((4, 2, 6)), rng.standard_normal((4, 2, 3))
        Y = lin.forward(X)
        dX = lin.backward(dY)
        assert Y.dtype == dX.dtype == lin.grads["weight"].dtype == dtype
        ref = torch.nn.Linear(6, 3).to(torch.float64)
        ref.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in lin.params.items()})
        Xt = torch.tensor(X, requires_grad=True)
        ref(Xt).backward(torch.tensor(dY))
        np.testing.assert_allclose(Y, ref(Xt).detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(lin.grads["weight"], ref.weight.grad.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(lin.grads["bias"], ref.bias.grad.numpy(), rtol=tol, atol=tol)


def test_linear_bad_input():
    lin = Linear(4, 3, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="before forward"):
        lin.backward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"X: expected shape \(\*, \*, in_features=4\), got \(2, 3, 5\)"):
        lin.forward(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="X: expected an array"):
        lin.forward(np.float64(1.0))
    with pytest.raises(ValueError, match="X: contains 1 NaN"):
        lin.forward(np.array([[0.0, np.nan, 0.0, 0.0]]))
    lin.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"dY: expected shape \(2, 3, out_features=3\), got \(2, 3, 4\)"):
        lin.backward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"dY: expected a 3-d array"):
        lin.backward(np.zeros((6, 3)))
    for kwargs, name in (({"in_features": 0, "out_features": 2}, "in_features"),
                         ({"in_features": 2, "out_features": 2.0}, "out_features"),
                         ({"in_features": 2, "out_features": 2, "dtype": np.int64}, "dtype"),
                         ({"in_features": 2, "out_features": 2, "bias": 1}, "bias"),
                         ({"in_features": 2, "out_features": 2, "rng": 0}, "rng")):
        with pytest.raises(ValueError, match=name):
            Linear(**{"rng": np.random.default_rng(0), **kwargs})


# ---------------------------------------------------------------- Embedding

def test_embedding_lookup_equals_one_hot_matmul():
    rng = np.random.default_rng(5)
    emb = Embedding(6, 3, rng=rng)
    assert emb.params["weight"].shape == (6, 3)
    idx = np.array([[0, 5, 2], [2, 2, 1]])  # (T=2, B=3)
    X = emb.forward(idx)
    assert X.shape == (2, 3, 3)
    one_hot = np.eye(6)[idx]  # (T, B, V)
    np.testing.assert_allclose(X, one_hot @ emb.params["weight"], rtol=0, atol=0)


def test_embedding_init_is_standard_normal():
    w = Embedding(400, 50, rng=np.random.default_rng(6)).params["weight"]
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02


def test_embedding_gradcheck_with_repeated_indices():
    rng = np.random.default_rng(7)
    emb = Embedding(5, 3, rng=rng)
    idx = np.array([[1, 3], [1, 1], [4, 3]])  # index 1 three times, 3 twice; 0 and 2 never
    dX = rng.standard_normal((3, 2, 3))
    emb.forward(idx)
    assert emb.backward(dX) is None
    # Rows 0 and 2 are never looked up: their numerical gradient must be exactly 0 too.
    gradcheck(lambda: np.sum(emb.forward(idx) * dX), emb.params, emb.grads)
    g = emb.grads["weight"]  # hand-computed scatter-add
    np.testing.assert_allclose(g[1], dX[0, 0] + dX[1, 0] + dX[1, 1], rtol=1e-15)
    np.testing.assert_allclose(g[3], dX[0, 1] + dX[2, 1], rtol=1e-15)
    np.testing.assert_array_equal(g[[0, 2]], 0.0)


def test_embedding_float32_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    emb = Embedding(7, 4, dtype=np.float32, rng=rng)
    idx = rng.integers(0, 7, size=(5, 3))
    dX = rng.standard_normal((5, 3, 4)).astype(np.float32)
    X = emb.forward(idx)
    emb.backward(dX)
    assert X.dtype == emb.grads["weight"].dtype == np.float32
    ref = torch.nn.Embedding(7, 4)
    ref.load_state_dict({"weight": torch.from_numpy(emb.params["weight"].copy())})
    ref(torch.from_numpy(idx)).backward(torch.from_numpy(dX))
    np.testing.assert_array_equal(X, ref(torch.from_numpy(idx)).detach().numpy())
    np.testing.assert_allclose(emb.grads["weight"], ref.weight.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_bad_input():
    emb = Embedding(5, 2, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="before forward"):
        emb.backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"idx: expected ids in \[0, num_embeddings=5\), got 1 outside \(e.g. 5\)"):
        emb.forward(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=r"idx: .*got 1 outside \(e.g. -1\)"):
        emb.forward([-1, 2])
    with pytest.raises(ValueError, match="idx: expected an integer index array.*got dtype float64"):
        emb.forward(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="idx: expected an integer index array.*got dtype bool"):
        emb.forward(np.array([True, False]))
    with pytest.raises(ValueError, match="idx: expected an array, got None"):
        emb.forward(None)
    emb.forward(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"dX: expected shape \(3, 2, embedding_dim=2\), got \(3, 2, 3\)"):
        emb.backward(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match=r"dX: expected shape \(3, 2, embedding_dim=2\), got \(3, 1, 2\)"):
        emb.backward(np.zeros((3, 1, 2)))
    with pytest.raises(ValueError, match="num_embeddings"):
        Embedding(0, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="embedding_dim"):
        Embedding(3, -1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="dtype"):
        Embedding(3, 2, dtype=np.float16, rng=np.random.default_rng(0))


def test_grads_are_overwritten_in_place_not_accumulated():
    rng = np.random.default_rng(3)
    lin, emb = Linear(3, 2, rng=rng), Embedding(4, 2, rng=rng)
    assert set(lin.grads) == set(lin.params) and set(emb.grads) == set(emb.params)
    w_lin, w_emb = lin.grads["weight"], emb.grads["weight"]
    X, idx = rng.standard_normal((2, 3)), np.array([1, 1])
    lin.forward(X), emb.forward(idx)
    lin.backward(np.ones((2, 2))), emb.backward(np.ones((2, 2)))
    lin.backward(np.ones((2, 2))), emb.backward(np.ones((2, 2)))  # twice: same values, not doubled
    assert lin.grads["weight"] is w_lin and emb.grads["weight"] is w_emb
    np.testing.assert_allclose(w_lin, np.ones((2, 2)).T @ X)
    np.testing.assert_array_equal(w_emb[1], [2.0, 2.0])
    np.testing.assert_array_equal(w_emb[[0, 2, 3]], 0.0)


def test_linear_backward_uses_the_weight_of_its_forward_pass():
    """The Module contract: an optimiser step between forward and backward cannot change the gradients."""
    rng = np.random.default_rng(0)
    lin = Linear(3, 2, rng=rng)
    X, dY = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    W0 = lin.params["weight"].copy()
    lin.forward(X)
    lin.params["weight"] += 1.0                                             # in place, as optimisers do
    dX = lin.backward(dY)
    np.testing.assert_allclose(dX, dY @ W0, rtol=1e-15)
    np.testing.assert_allclose(lin.grads["weight"], dY.T @ X, rtol=1e-15)


def test_layer_constructors_keyword_only_and_need_a_generator():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError):
        Linear(3, 2, False, rng=rng)                                        # bias is keyword-only
    with pytest.raises(TypeError):
        Embedding(5, 3, np.float32, rng=rng)
    with pytest.raises(ValueError, match="rng: a np.random.Generator is required"):
        Linear(3, 2, rng=None)
    with pytest.raises(ValueError, match="dtype: expected float32 or float64"):
        Embedding(5, 3, dtype="banana", rng=rng)
