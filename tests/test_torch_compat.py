"""Agreement with PyTorch (skipped when torch is not installed): same weights, same numbers to 1e-10 in float64.

torch.nn.RNN / LSTM / GRU are the reference for forward outputs, final states, and (through autograd) every
gradient; the reset_after=False GRU, which torch.nn does not offer, is checked against torch autograd on its
own equations written out below.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnn_utils.recurrent import GRU, LSTM, RNN  # noqa: E402

T, B, D, H = 5, 3, 4, 6
ATOL = 1e-10

CASES = {
    "rnn-tanh": (RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn-relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, torch.nn.LSTM, {}),
    "gru": (GRU, torch.nn.GRU, {}),
}


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", list(CASES))
def test_forward_and_backward_match_torch(kind, num_layers, bidirectional):
    ours_cls, torch_cls, kw = CASES[kind]
    torch.manual_seed(0)
    ref = torch_cls(D, H, num_layers=num_layers, bidirectional=bidirectional, **kw).double()
    layer = ours_cls(D, H, num_layers=num_layers, bidirectional=bidirectional, rng=np.random.default_rng(0), **kw)
    assert list(layer.params) == list(ref.state_dict())
    layer.load_state_dict(ref.state_dict())                    # torch tensors are accepted directly
    dirs = 2 if bidirectional else 1
    rng = np.random.default_rng(1)
    X = rng.standard_normal((T, B, D))
    shape = (num_layers * dirs, B, H)
    h0, c0, dh_n, dc_n = (rng.standard_normal(shape) for _ in range(4))
    dY = rng.standard_normal((T, B, dirs * H))
    lstm = kind == "lstm"

    Xt, h0t, c0t = t64(X, True), t64(h0, True), t64(c0, True)
    Yt, st = ref(Xt, (h0t, c0t) if lstm else h0t)
    loss = (Yt * t64(dY)).sum()
    if lstm:
        loss = loss + (st[0] * t64(dh_n)).sum() + (st[1] * t64(dc_n)).sum()
    else:
        loss = loss + (st * t64(dh_n)).sum()
    loss.backward()

    Y, state_n = layer.forward(X, (h0, c0) if lstm else h0)
    dX, dstate0 = layer.backward(dY, (dh_n, dc_n) if lstm else dh_n)
    close(Y, Yt, "Y")
    close(dX, Xt.grad, "dX")
    if lstm:
        close(state_n[0], st[0], "h_n")
        close(state_n[1], st[1], "c_n")
        close(dstate0[0], h0t.grad, "dh0")
        close(dstate0[1], c0t.grad, "dc0")
    else:
        close(state_n, st, "h_n")
        close(dstate0, h0t.grad, "dh0")
    for name, p in ref.named_parameters():
        close(layer.grads[name], p.grad, name)


@pytest.mark.parametrize("kind", list(CASES))
def test_our_weights_load_into_torch(kind):
    ours_cls, torch_cls, kw = CASES[kind]
    layer = ours_cls(D, H, num_layers=2, bidirectional=True, rng=np.random.default_rng(7), **kw)
    ref = torch_cls(D, H, num_layers=2, bidirectional=True, **kw).double()
    ref.load_state_dict({n: torch.from_numpy(p) for n, p in layer.state_dict().items()})
    X = np.random.default_rng(8).standard_normal((T, B, D))
    Y, state_n = layer.forward(X)
    with torch.no_grad():
        Yt, st = ref(t64(X))
    close(Y, Yt, "Y")
    close(state_n[0] if kind == "lstm" else state_n, st[0] if kind == "lstm" else st, "h_n")


def test_float32_matches_torch_float32():
    ref = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True)
    layer = LSTM(D, H, num_layers=2, bidirectional=True, dtype=np.float32, rng=np.random.default_rng(0))
    layer.load_state_dict(ref.state_dict())
    X = np.random.default_rng(2).standard_normal((T, B, D)).astype(np.float32)
    Y, _ = layer.forward(X)
    with torch.no_grad():
        Yt, _ = ref(torch.from_numpy(X))
    assert Y.dtype == np.float32
    np.testing.assert_allclose(Y, Yt.numpy(), rtol=0, atol=2e-6)


def torch_gru_reset_before(params, X, h0, num_layers, dirs):
    """The reset_after=False GRU (Cho et al. 2014) written directly in torch, for autograd:
    r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}); n = tanh(W_in x + b_in + W_hn (r * h) + b_hn);
    h' = (1 - z) * n + z * h. Layer k >= 1 reads [forward, reverse]; the reverse direction reads t = T-1..0."""
    inp, finals = X, []
    for k in range(num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            W_ih, W_hh, b_ih, b_hh = (params[n + sfx] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            W_ir, W_iz, W_in = W_ih.chunk(3)
            W_hr, W_hz, W_hn = W_hh.chunk(3)
            b_ir, b_iz, b_in = b_ih.chunk(3)
            b_hr, b_hz, b_hn = b_hh.chunk(3)
            h = h0[k * dirs + d]
            seq = [None] * inp.shape[0]
            for t in (range(inp.shape[0] - 1, -1, -1) if d else range(inp.shape[0])):
                x = inp[t]
                r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
                z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
                n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
                h = (1 - z) * n + z * h
                seq[t] = h
            outs.append(torch.stack(seq))
            finals.append(h)
        inp = torch.cat(outs, dim=2)
    return inp, torch.stack(finals)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_gru_reset_before_matches_torch_autograd_on_its_equations(num_layers, bidirectional):
    dirs = 2 if bidirectional else 1
    layer = GRU(D, H, num_layers=num_layers, bidirectional=bidirectional, reset_after=False,
                rng=np.random.default_rng(3))
    rng = np.random.default_rng(4)
    X, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((num_layers * dirs, B, H))
    dY, dh_n = rng.standard_normal((T, B, dirs * H)), rng.standard_normal(h0.shape)
    params = {n: t64(p, True) for n, p in layer.params.items()}
    Xt, h0t = t64(X, True), t64(h0, True)
    Yt, hnt = torch_gru_reset_before(params, Xt, h0t, num_layers, dirs)
    ((Yt * t64(dY)).sum() + (hnt * t64(dh_n)).sum()).backward()
    Y, h_n = layer.forward(X, h0)
    dX, dh0 = layer.backward(dY, dh_n)
    close(Y, Yt, "Y")
    close(h_n, hnt, "h_n")
    close(dX, Xt.grad, "dX")
    close(dh0, h0t.grad, "dh0")
    for name, p in params.items():
        close(layer.grads[name], p.grad, name)
    # and it is a different function from torch's GRU with the same weights
    ref = torch.nn.GRU(D, H, num_layers=num_layers, bidirectional=bidirectional).double()
    ref.load_state_dict({n: p.detach() for n, p in params.items()})
    with torch.no_grad():
        assert np.abs(ref(t64(X), t64(h0))[0].numpy() - Y).max() > 1e-3
