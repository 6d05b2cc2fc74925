import math

import numpy as np
import pytest

from rnn_utils.layers import Linear
from rnn_utils.optim import SGD, Adagrad, Adam, clip_by_global_norm, clip_by_value


def _params(rng, dtype=np.float64):
    return {"w": rng.standard_normal((3, 2)).astype(dtype), "b": rng.standard_normal(3).astype(dtype)}


# ---------------------------------------------------------------- first two steps by hand (scalar parameter)

def test_sgd_two_steps_by_hand():
    p = {"x": np.array([1.0])}
    opt = SGD(p, lr=0.1)
    opt.step({"x": np.array([2.0])})
    assert p["x"][0] == pytest.approx(1.0 - 0.2)
    opt.step({"x": np.array([-1.0])})
    assert p["x"][0] == pytest.approx(0.8 + 0.1)


def test_sgd_momentum_two_steps_by_hand():
    p = {"x": np.array([1.0])}
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step({"x": np.array([2.0])})  # v = 2 (torch: buffer starts as the first gradient)
    assert p["x"][0] == pytest.approx(1.0 - 0.1 * 2.0)
    opt.step({"x": np.array([-1.0])})  # v = 0.9 * 2 - 1 = 0.8
    assert p["x"][0] == pytest.approx(0.8 - 0.1 * 0.8)


def test_adagrad_two_steps_by_hand():
    p = {"x": np.array([1.0])}
    opt = Adagrad(p, lr=0.5, eps=1e-300)
    opt.step({"x": np.array([2.0])})  # s = 4, step = 0.5 * 2 / 2 = 0.5
    assert p["x"][0] == pytest.approx(0.5)
    opt.step({"x": np.array([1.0])})  # s = 5, step = 0.5 * 1 / sqrt(5)
    assert p["x"][0] == pytest.approx(0.5 - 0.5 / math.sqrt(5.0))


def test_adam_two_steps_by_hand():
    p = {"x": np.array([1.0])}
    opt = Adam(p, lr=0.1, betas=(0.5, 0.75), eps=1e-300)
    # step 1: m = 0.5 * 2 = 1, v = 0.25 * 4 = 1; m_hat = 1 / 0.5 = 2, v_hat = 1 / 0.25 = 4 -> step = 0.1 * 2 / 2
    opt.step({"x": np.array([2.0])})
    assert p["x"][0] == pytest.approx(0.9)
    # step 2: m = 0.5 + 0.5 * (-1) = 0, so no move at all
    opt.step({"x": np.array([-1.0])})
    assert p["x"][0] == pytest.approx(0.9, abs=1e-15)
    # step 3: g = 4: m = 0.5 * 0 + 0.5 * 4 = 2;  v_2 = 0.75 * 1 + 0.25 * 1 = 1, so v = 0.75 * 1 + 0.25 * 16 = 4.75
    opt.step({"x": np.array([4.0])})
    m_hat, v_hat = 2.0 / (1 - 0.5**3), 4.75 / (1 - 0.75**3)
    assert p["x"][0] == pytest.approx(0.9 - 0.1 * m_hat / math.sqrt(v_hat), rel=1e-14)


def test_adam_first_step_is_lr_times_sign():
    # bias correction makes the first Adam step lr * g / |g| (up to eps) whatever the gradient's scale
    rng = np.random.default_rng(0)
    p = _params(rng)
    before = {k: v.copy() for k, v in p.items()}
    g = {k: rng.standard_normal(v.shape) * 1e3 for k, v in p.items()}
    Adam(p, lr=0.01).step(g)
    for k in p:
        np.testing.assert_allclose(before[k] - p[k], 0.01 * np.sign(g[k]), rtol=1e-9)


# ---------------------------------------------------------------- against torch.optim

@pytest.mark.parametrize(
    "name, ours, theirs",
    [
        ("sgd", lambda p: SGD(p, lr=0.1), lambda t, torch: torch.optim.SGD(t, lr=0.1)),
        ("momentum", lambda p: SGD(p, lr=0.05, momentum=0.9), lambda t, torch: torch.optim.SGD(t, lr=0.05, momentum=0.9)),
        ("adagrad", lambda p: Adagrad(p, lr=0.3, eps=1e-8), lambda t, torch: torch.optim.Adagrad(t, lr=0.3, eps=1e-8)),
        ("adam", lambda p: Adam(p, lr=0.02), lambda t, torch: torch.optim.Adam(t, lr=0.02)),
        ("adam-betas", lambda p: Adam(p, lr=0.1, betas=(0.8, 0.9), eps=1e-6),
         lambda t, torch: torch.optim.Adam(t, lr=0.1, betas=(0.8, 0.9), eps=1e-6)),
    ],
)
def test_optimisers_match_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    params = _params(rng)
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt, topt = ours(params), theirs(list(tparams.values()), torch)
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        opt.step(grads)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
        for k in params:
            np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-12, atol=1e-12)


def test_clip_by_global_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for scale in (0.1, 10.0):
        grads = {k: rng.standard_normal(s) * scale for k, s in (("a", (4, 3)), ("b", (5,)))}
        tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
        for t, g in zip(tensors, grads.values()):
            t.grad = torch.tensor(g.copy())
        ref_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.5).item()
        norm = clip_by_global_norm(grads, 1.5)
        assert norm == pytest.approx(ref_norm, rel=1e-14)
        for t, g in zip(tensors, grads.values()):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14)


# ---------------------------------------------------------------- behaviour

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_updates_in_place_and_keeps_dtype(dtype):
    lin = Linear(2, 3, dtype=dtype, rng=np.random.default_rng(3))
    ids = {k: id(v) for k, v in lin.params.items()}
    before = lin.state_dict()
    opt = Adam(lin.params, lr=0.1)
    opt.step({k: np.ones(v.shape) for k, v in lin.params.items()})  # float64 grads are cast to the param dtype
    for k, v in lin.params.items():
        assert id(v) == ids[k] and v.dtype == dtype
        assert np.all(v < before[k])


def test_adam_minimises_a_quadratic():
    # f(x) = 1/2 (x - c)^T A (x - c), A diagonal with condition number 100: gradient A (x - c)
    rng = np.random.default_rng(4)
    c = rng.standard_normal(5)
    a = np.logspace(0, 2, 5)
    params = {"x": np.zeros(5)}
    opt = Adam(params, lr=0.05)
    f0 = 0.5 * np.sum(a * c**2)
    for _ in range(2000):
        opt.step({"x": a * (params["x"] - c)})
    assert np.max(np.abs(params["x"] - c)) < 1e-3
    assert 0.5 * np.sum(a * (params["x"] - c) ** 2) < 1e-8 * f0


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.5), lambda p: Adagrad(p, lr=0.5)])
def test_sgd_momentum_and_adagrad_minimise_a_quadratic(make):
    c = np.array([1.0, -2.0, 0.5])
    params = {"x": np.zeros(3)}
    opt = make(params)
    for _ in range(500):
        opt.step({"x": params["x"] - c})
    np.testing.assert_allclose(params["x"], c, atol=1e-6)


# ---------------------------------------------------------------- clipping

def test_clip_by_global_norm_rescales_to_max_norm_and_keeps_direction():
    rng = np.random.default_rng(5)
    grads = {"a": rng.standard_normal((3, 4)) * 10, "b": rng.standard_normal(6) * 10}
    before = np.concatenate([g.ravel() for g in grads.values()])
    arrays = {k: v for k, v in grads.items()}
    norm = clip_by_global_norm(grads, 2.0)
    after = np.concatenate([g.ravel() for g in grads.values()])
    assert norm == pytest.approx(np.linalg.norm(before), rel=1e-14)
    assert np.linalg.norm(after) == pytest.approx(2.0, rel=1e-6)
    assert before @ after / (np.linalg.norm(before) * np.linalg.norm(after)) == pytest.approx(1.0, abs=1e-14)
    assert all(grads[k] is arrays[k] for k in grads)  # in place


def test_clip_by_global_norm_leaves_small_gradients_alone():
    grads = {"a": np.array([0.3, -0.4])}  # norm 0.5
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(grads["a"], [0.3, -0.4])


def test_clip_by_value_bounds_entries_and_can_change_direction():
    grads = {"a": np.array([10.0, 0.5]), "b": np.array([[-3.0, 0.2]])}
    before = np.array([10.0, 0.5, -3.0, 0.2])
    norm = clip_by_value(grads, 1.0)
    assert norm == pytest.approx(np.linalg.norm(before), rel=1e-15)
    np.testing.assert_array_equal(grads["a"], [1.0, 0.5])
    np.testing.assert_array_equal(grads["b"], [[-1.0, 0.2]])
    after = np.array([1.0, 0.5, -1.0, 0.2])
    cosine = before @ after / (np.linalg.norm(before) * np.linalg.norm(after))
    assert cosine < 0.9  # the direction changed, unlike clipping by the global norm
    rng = np.random.default_rng(6)
    grads = {"w": rng.standard_normal((10, 10)) * 5}
    clip_by_value(grads, 0.7)
    assert np.abs(grads["w"]).max() == 0.7


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("cls", [SGD, Adagrad, Adam])
def test_optimiser_bad_input(cls):
    params = {"w": np.zeros((2, 3)), "b": np.zeros(2)}
    opt = cls(params, lr=0.1)
    with pytest.raises(ValueError, match=r"grads: keys do not match params: missing \['b'\], unexpected \['c'\]"):
        opt.step({"w": np.zeros((2, 3)), "c": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\]: expected shape \(2, 3\) \(the parameter's\), got \(3, 2\)"):
        opt.step({"w": np.zeros((3, 2)), "b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['b'\]: contains NaN or inf"):
        opt.step({"w": np.zeros((2, 3)), "b": np.array([0.0, np.inf])})
    with pytest.raises(ValueError, match="grads: expected a dict"):
        opt.step([np.zeros((2, 3)), np.zeros(2)])
    assert opt.t == 0 and not params["w"].any()  # failed steps changed nothing
    with pytest.raises(ValueError, match=r"lr: expected a real number in \(0, inf\), got -0.1"):
        cls(params, lr=-0.1)
    with pytest.raises(ValueError, match="lr: expected a real number"):
        cls(params, lr="0.1")
    with pytest.raises(ValueError, match=r"params\['w'\]: expected a float32 or float64 ndarray \(updated in place\), got list"):
        cls({"w": [1.0, 2.0]}, lr=0.1)
    with pytest.raises(ValueError, match=r"params\['w'\]: .*got dtype int64"):
        cls({"w": np.zeros(2, dtype=np.int64)}, lr=0.1)
    with pytest.raises(ValueError, match="params: expected at least one array"):
        cls({}, lr=0.1)
    with pytest.raises(ValueError, match="params: expected a dict"):
        cls([np.zeros(2)], lr=0.1)


def test_optimiser_hyperparameter_errors():
    params = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match=r"momentum: expected a real number in \[0, 1\), got 1.0"):
        SGD(params, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"eps: expected a real number in \(0, inf\), got -1e-08"):
        Adagrad(params, lr=0.1, eps=-1e-8)
    with pytest.raises(ValueError, match=r"betas\[1\]: expected a real number in \[0, 1\), got 1.5"):
        Adam(params, betas=(0.9, 1.5))
    with pytest.raises(ValueError, match=r"betas: expected a pair"):
        Adam(params, betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        Adam(params, eps=float("nan"))


@pytest.mark.parametrize("fn, arg", [(clip_by_value, "clip_value"), (clip_by_global_norm, "max_norm")])
def test_clipping_bad_input(fn, arg):
    with pytest.raises(ValueError, match=rf"{arg}: expected a real number in \(0, inf\), got 0"):
        fn({"a": np.ones(2)}, 0)
    with pytest.raises(ValueError, match=r"grads\['a'\]: expected a float32 or float64 ndarray \(clipped in place\), got list"):
        fn({"a": [1.0, 2.0]}, 1.0)
    with pytest.raises(ValueError, match=r"grads\['a'\]: contains NaN or inf"):
        fn({"a": np.array([np.nan])}, 1.0)
    with pytest.raises(ValueError, match="grads: expected a dict"):
        fn(np.ones(3), 1.0)


# ---------------------------------------------------------------------------------------------------------------
# issue 8: eps must be positive; clipping never overflows
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [Adam, Adagrad])
def test_eps_zero_is_rejected_and_an_unused_row_stays_finite(cls):
    w = {"emb": np.ones((3, 2))}
    with pytest.raises(ValueError, match=r"eps: expected a real number in \(0, inf\), got 0"):
        cls(w, lr=0.1, eps=0)
    opt = cls(w, lr=0.1)
    g = {"emb": np.array([[1.0, -1.0], [0.0, 0.0], [2.0, 0.5]])}            # row 1 never used: gradient 0
    for _ in range(3):
        opt.step(g)
    assert np.isfinite(w["emb"]).all() and (w["emb"][1] == 1.0).all()


@pytest.mark.parametrize("scale", [1e-200, 1e-20, 1.0, 1e160, 1e200, 1e300])
def test_clip_by_global_norm_never_overflows_or_underflows(scale):
    base = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}                 # norm 5
    g = {k: v * scale for k, v in base.items()}
    norm = clip_by_global_norm(g, 1.0)
    assert norm == pytest.approx(5.0 * scale, rel=1e-15)
    coef = min(1.0, 1.0 / (5.0 * scale + 1e-6))                                # torch's 1e-6 guard
    np.testing.assert_allclose(g["a"], [3.0 * scale * coef, 0.0], rtol=1e-12)     # direction kept
    np.testing.assert_allclose(g["b"], [[4.0 * scale * coef]], rtol=1e-12)
