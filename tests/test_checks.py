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
