import numpy as np
import pytest

from rnn_utils.gradcheck import gradcheck, numerical_gradient, numerical_gradient_array, rel_error


@pytest.mark.parametrize("stencil", [2, 4])
def test_numerical_gradient_matches_closed_form(stencil):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    # f = sum(sin(x) * x^2): df/dx = cos(x) x^2 + 2 x sin(x)
    numeric = numerical_gradient(lambda: np.sum(np.sin(x) * x**2), x, stencil=stencil)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert rel_error(exact, numeric) < (1e-7 if stencil == 2 else 1e-10)


def test_numerical_gradient_restores_input_exactly():
    x = np.linspace(-1, 1, 7)
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.exp(x)), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_array_is_vector_jacobian_product():
    rng = np.random.default_rng(1)
    W, x, dy = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(2)
    numeric = numerical_gradient_array(lambda: np.tanh(W @ x), x, dy)
    exact = W.T @ ((1 - np.tanh(W @ x) ** 2) * dy)
    assert rel_error(exact, numeric) < 1e-10


def test_rel_error_hand_computed():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(2.0 / 4.0)
    assert rel_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match=r"numeric: expected shape \(2,\)"):
        rel_error(np.zeros(2), np.zeros(3))


def test_gradcheck_reports_and_raises():
    x, y = np.array([1.0, -2.0]), np.array([0.5])
    f = lambda: float(np.sum(x**2) * y[0])
    errors = gradcheck(f, {"x": x, "y": y}, {"x": 2 * x * y[0], "y": np.array([np.sum(x**2)])})
    assert set(errors) == {"x", "y"} and max(errors.values()) < 1e-10
    with pytest.raises(AssertionError, match="gradient check failed.*x="):
        gradcheck(f, {"x": x}, {"x": 3 * x})


def test_gradcheck_rejects_float32_and_bad_shapes():
    x32 = np.ones(2, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda: 0.0, {"x": x32}, {"x": x32})
    x = np.ones(2)
    with pytest.raises(ValueError, match=r"grads\['x'\]: expected shape \(2,\), got \(3,\)"):
        gradcheck(lambda: 0.0, {"x": x}, {"x": np.ones(3)})
    with pytest.raises(ValueError, match=r"grads: keys do not match params: missing \['x'\], unexpected \[\]"):
        gradcheck(lambda: 0.0, {"x": x}, {})


@pytest.mark.parametrize("stencil", [2, 4])
def test_unused_parameter_has_exactly_zero_numerical_gradient(stencil):
    # f does not depend on unused[1]; f itself is far from 0, so an unpaired stencil would leave rounding noise.
    unused = np.array([1.0, 2.0])
    f = lambda: 1e3 + unused[0] ** 2
    numeric = numerical_gradient(f, unused, stencil=stencil)
    assert numeric[1] == 0.0
    assert gradcheck(f, {"u": unused}, {"u": np.array([2.0, 0.0])}, stencil=stencil)["u"] < 1e-7


# ---------------------------------------------------------------------------------------------------------------
# issue 8: argument checks say which argument is wrong
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0, 0.0, -1e-5, float("nan"), float("inf"), "1e-5"])
def test_step_must_be_a_positive_finite_number(h):
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"^h: expected a real number in \(0, inf\)"):
        numerical_gradient(lambda: float(np.sum(x ** 2)), x, h=h)
    with pytest.raises(ValueError, match=r"^h: "):
        gradcheck(lambda: float(np.sum(x ** 2)), {"x": x}, {"x": 2 * x}, h=h)


def test_df_must_match_the_output_shape_exactly():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"df: expected a 2-d array of shape \(2, 3\), got 1-d shape \(3,\)"):
        numerical_gradient_array(lambda: x * 2, x, np.ones(3))               # would broadcast


def test_gradcheck_rejects_unexpected_keys_and_a_negative_tol():
    x = np.ones(2)
    f = lambda: float(np.sum(x ** 2))  # noqa: E731
    with pytest.raises(ValueError, match=r"grads: keys do not match params: missing \[\], unexpected \['y'\]"):
        gradcheck(f, {"x": x}, {"x": 2 * x, "y": x})
    with pytest.raises(ValueError, match=r"^tol: expected a real number in \(0, inf\)"):
        gradcheck(f, {"x": x}, {"x": 2 * x}, tol=-1e-7)
    with pytest.raises(ValueError, match=r"^stencil: expected one of \[2, 4\]"):
        gradcheck(f, {"x": x}, {"x": 2 * x}, stencil=3)
    with pytest.raises(AssertionError, match="gradient check failed"):
        gradcheck(f, {"x": x}, {"x": 3 * x})
