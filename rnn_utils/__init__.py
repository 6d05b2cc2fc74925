"""rnn_utils: the tested helper package of the course "RNNs from Scratch".

Every notebook derives a piece in the open, then reuses the finished version from here.
Conventions: sequences are time-major, X of shape (T, B, D); weights are stored (out, in) with the names,
shapes and gate order of torch.nn.RNN/LSTM/GRU state_dict(); randomness comes only from a
np.random.Generator passed in.
"""
__version__ = "0.1.0"
