import numpy as np
import pytest

from rnn_utils._checks import check_array, check_positive_int, describe_shape


def test_describe_shape_labels_fixed_and_free_axes():
    assert describe_shape((None, None, 5), "TBD") == "(T, B, D=5)"
    assert describe_shape((3,)) == "(3,)"


def test_check_array_names_argument_expected_and_received():
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, D=5\), got \(2, 3, 4\)"):
        check_array("X", np.zeros((2, 3, 4)), (None, None, 5), "TBD")


def test_check_array_rank():
    with pytest.raises(ValueError, match=r"X: expected a 3-d array .* got 2-d shape \(2, 3\)"):
        check_array("X", np.zeros((2, 3)), (None, None, 5), "TBD")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_rejects_non_finite(bad):
    x = np.zeros((2, 2))
    x[1, 0] = bad
    with pytest.raises(ValueError, match="X: contains 1 NaN or inf"):
        check_array("X", x, (None, None))


def test_check_array_int_kind():
    with pytest.raises(ValueError, match="idx: expected an integer index array"):
        check_array("idx", np.zeros(3), (None,), kind="int")
    assert check_array("idx", [1, 2], (None,), kind="int").dtype.kind == "i"


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3", None])
def test_check_positive_int(bad):
    with pytest.raises(ValueError, match="hidden_size: expected a positive integer"):
        check_positive_int("hidden_size", bad)


# ---------------------------------------------------------------------------------------------------------------
# the rest of the one home for validation
# ---------------------------------------------------------------------------------------------------------------
from rnn_utils._checks import (as_array, check_float_dtype, check_real, check_rng,  # noqa: E402
                               check_token_ids, renamed)


@pytest.mark.parametrize("bad, what", [(None, "got None"), ((i for i in range(3)), "got generator"),
                                       ([[1, 2], [3]], "ragged"), ({"a": 1}, "got dict"), ("abc", "got str")])
def test_as_array_turns_numpy_surprises_into_clear_errors(bad, what):
    with pytest.raises(ValueError, match=f"X: .*{what}"):
        as_array("X", bad)


def test_as_array_empty_list_is_integer_ids():
    assert as_array("ids", []).dtype == np.int64
    assert check_token_ids("ids", [], 5).shape == (0,)


@pytest.mark.parametrize("value, ok", [(0.5, True), (0.0, False), (1.0, True), (1.5, False), (float("nan"), False),
                                       (float("inf"), False), (True, False), ("0.5", False), (None, False)])
def test_check_real_interval(value, ok):
    if ok:
        assert check_real("p", value, 0.0, 1.0, low_open=True) == value
    else:
        with pytest.raises(ValueError, match=r"p: expected a real number in \(0, 1\]"):
            check_real("p", value, 0.0, 1.0, low_open=True)


def test_check_rng_required_and_typed():
    with pytest.raises(ValueError, match=r"rng: a np.random.Generator is required .*np.random.default_rng\(0\)"):
        check_rng("rng", None)
    with pytest.raises(ValueError, match="rng: expected a np.random.Generator"):
        check_rng("rng", np.random.RandomState(0))
    g = np.random.default_rng(0)
    assert check_rng("rng", g) is g


@pytest.mark.parametrize("bad", ["banana", np.float16, np.int32, object, 3])
def test_check_float_dtype_never_lets_numpy_fail(bad):
    with pytest.raises(ValueError, match="dtype: expected float32 or float64"):
        check_float_dtype("dtype", bad)


def test_token_ids_one_wording_and_masked_positions():
    with pytest.raises(ValueError, match=r"tokens: expected ids in \[0, vocab_size=4\), got 2 outside \(e.g. 4\)"):
        check_token_ids("tokens", [0, 4, -1], 4)
    ids = check_token_ids("targets", [[1, -1]], 4, where=np.array([[True, False]]))   # padded -1 ignored
    assert ids.dtype == np.int64


def test_renamed_reraises_under_the_callers_name_only_for_that_argument():
    with pytest.raises(ValueError, match=r"^clip: expected"):
        with renamed("max_norm", "clip"):
            raise ValueError("max_norm: expected a real number in (0, inf), got 0")
    with pytest.raises(ValueError, match=r"^grads: bad"):
        with renamed("max_norm", "clip"):
            raise ValueError("grads: bad")
