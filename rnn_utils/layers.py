"""Feed-forward layers used around the recurrent core: a time-distributed `Linear` and an `Embedding`.

    lin = Linear(H, V, rng=rng)           # params: weight (V, H), bias (V,)      (torch.nn.Linear names)
    O = lin.forward(Hs)                   # Hs (T, B, H) -> O (T, B, V); any leading shape works
    dHs = lin.backward(dO)                # fills lin.grads["weight"], lin.grads["bias"]

    emb = Embedding(V, E, rng=rng)        # params: weight (V, E)                 (torch.nn.Embedding names)
    X = emb.forward(idx)                  # integer idx (T, B) -> X (T, B, E)
    emb.backward(dX)                      # returns None, fills emb.grads["weight"] (scatter-add)

Both keep what backward needs in a cache set by the latest forward (`Linear` keeps a copy of the weight it used,
so an optimiser step between forward and backward cannot make the gradients inconsistent); both compute in the
layer's dtype (float32 or float64): inputs are cast to it, outputs and gradients have it. Everything after the
two sizes is keyword-only, and `rng` (a np.random.Generator) is required.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_array, check_bool, check_float_dtype, check_positive_int, check_rng, check_token_ids
from .module import Module

__all__ = ["Linear", "Embedding"]


def _leading_shape(ndim: int, last: int, last_label: str):
    """Expected shape and labels for an array (..., last) of rank `ndim`: every leading axis may have any size."""
    return (None,) * (ndim - 1) + (last,), ("*",) * (ndim - 1) + (last_label,)


class Linear(Module):
    """Affine map applied independently at every position: Y = X @ W.T + b.

    In column form, for one time step and one sequence, y = W x + b (the course's o_t = W_hy h_t + b_y).

    Args:
        in_features (D), out_features (K): sizes.
        bias: include the bias b (default True).
        dtype: np.float32 or np.float64.
        rng: np.random.Generator for the initialisation (required).

    Parameters (names, shapes and initialisation of torch.nn.Linear):
        weight  (K, D)   uniform(-1/sqrt(D), 1/sqrt(D))
        bias    (K,)     uniform(-1/sqrt(D), 1/sqrt(D))    (absent when bias=False)
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, dtype=np.float64,
                 rng: np.random.Generator):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        bias = check_bool("bias", bias)
        self.dtype = check_float_dtype("dtype", dtype)
        rng = check_rng("rng", rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.params["weight"] = rng.uniform(-bound, bound, (self.out_features, self.in_features)).astype(self.dtype)
        if bias:
            self.params["bias"] = rng.uniform(-bound, bound, self.out_features).astype(self.dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._cache = None

    def forward(self, X) -> np.ndarray:
        """X (..., D) -> Y (..., K), e.g. (T, B, H) -> (T, B, V) or (B, D) -> (B, K). Cached for backward."""
        if X is None:
            raise ValueError(f"X: expected an array of shape (..., in_features={self.in_features}), got None")
        arr = as_array("X", X)
        if arr.ndim == 0:
            raise ValueError(f"X: expected an array of shape (..., in_features={self.in_features}), got a 0-d array")
        shape, labels = _leading_shape(arr.ndim, self.in_features, "in_features")
        X = check_array("X", arr, shape, labels).astype(self.dtype, copy=False)
        X2 = X.reshape(-1, self.in_features)  # (N, D), N = product of the leading sizes
        W = self.params["weight"].copy()      # the weight of this forward pass, for backward
        Y2 = X2 @ W.T
        if "bias" in self.params:
            Y2 += self.params["bias"]
        self._cache = (X2, X.shape, W)
        return Y2.reshape(X.shape[:-1] + (self.out_features,))

    def backward(self, dY) -> np.ndarray:
        """dY (..., K), the gradient w.r.t. the latest forward's output -> dX (..., D).

        Fills grads["weight"] (K, D) = sum over positions of dy x^T, and grads["bias"] (K,) = sum of dy.
        """
        if self._cache is None:
            raise RuntimeError("Linear.backward called before forward")
        X2, x_shape, W = self._cache
        y_shape = x_shape[:-1] + (self.out_features,)
        labels = ("",) * (len(y_shape) - 1) + ("out_features",)  # "" -> the size itself
        dY = check_array("dY", dY, y_shape, labels).astype(self.dtype, copy=False)
        dY2 = dY.reshape(-1, self.out_features)  # (N, K)
        np.matmul(dY2.T, X2, out=self.grads["weight"])  # in place: the grads arrays keep their identity
        if "bias" in self.params:
            np.sum(dY2, axis=0, out=self.grads["bias"])
        return (dY2 @ W).reshape(x_shape)


class Embedding(Module):
    """Lookup table: row idx of the weight matrix for every integer index, X[...] = weight[idx[...]].

    Equivalent to one_hot(idx) @ weight, without building the one-hot vectors.

    Args:
        num_embeddings (V): vocabulary size; valid indices are 0 .. V-1.
        embedding_dim (E): size of each vector.
        dtype: np.float32 or np.float64.
        rng: np.random.Generator for the initialisation (required).

    Parameters (name, shape and initialisation of torch.nn.Embedding):
        weight  (V, E)   standard normal N(0, 1)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype=np.float64, rng: np.random.Generator):
        super().__init__()
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.dtype = check_float_dtype("dtype", dtype)
        rng = check_rng("rng", rng)
        self.params["weight"] = rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(self.dtype)
        self.grads = {"weight": np.zeros_like(self.params["weight"])}
        self._cache = None

    def forward(self, idx) -> np.ndarray:
        """idx: integer array of any shape (...), e.g. (T, B), values in [0, V) -> X (..., E)."""
        idx = check_token_ids("idx", idx, self.num_embeddings, size_name="num_embeddings")
        self._cache = idx
        return self.params["weight"][idx]

    def backward(self, dX) -> None:
        """dX (..., E), the gradient w.r.t. the latest forward's output. Returns None (indices have no gradient).

        Fills grads["weight"] (V, E): row v is the sum of dX over every position where idx == v (a scatter-add,
        so repeated indices accumulate; rows never looked up get zeros).
        """
        if self._cache is None:
            raise RuntimeError("Embedding.backward called before forward")
        idx = self._cache
        shape = idx.shape + (self.embedding_dim,)
        labels = ("",) * idx.ndim + ("embedding_dim",)
        dX = check_array("dX", dX, shape, labels).astype(self.dtype, copy=False)
        dW = self.grads["weight"]  # overwritten in place
        dW[...] = 0
        np.add.at(dW, idx.reshape(-1), dX.reshape(-1, self.embedding_dim))
        return None
