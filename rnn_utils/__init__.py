"""rnn_utils: the tested helper package of the course "RNNs from Scratch".

Every notebook derives a piece in the open, then reuses the finished version from here.
Conventions: sequences are time-major, X of shape (T, B, D); weights are stored (out, in) with the names,
shapes and gate order of torch.nn.RNN/LSTM/GRU state_dict(); randomness comes only from a
np.random.Generator passed in.

Where things live (each module's docstring gives the shapes):
    cells       single-step forward/backward of the RNN, LSTM and GRU cells (the readable reference), as `Cell`s
    unrolled    Unrolled: the readable sequence layer, a loop over any cell's step (the fast layers' twin)
    recurrent   RNN, LSTM, GRU layers: stacked, bidirectional, dropout between layers, hand-written BPTT,
                torch-compatible; select_state
    module      Module (params, grads, state_dict, train()/eval() modes); dropout_mask
    layers      Linear (time-distributed affine), Embedding
    losses      softmax, log_softmax, masked softmax cross-entropy over a sequence
    optim       SGD (momentum), Adagrad, Adam; clipping by value and by global norm
    gradcheck   centred-difference gradient checks, CS231n relative error
    data        vocabularies, encoding, one-hot, time-major padding, text loading (+ the corpora below)
    grammars    AgreementGrammar, ReberGrammar: generated corpora with exact entropies
    models      LanguageModel with truncated-BPTT training
    sampling    greedy, sampling (temperature, top-k, nucleus), beam search, scoring
    variants    LSTM variants (peepholes, no forget gate, no output gate, coupled gates) and Ng's simplified GRU, as
                cells for Unrolled
    tasks       long-range tasks and probes: the lag task, a sequence classifier, agreement/Reber/linear probes;
                step_jacobian and state_gradient_norms for comparing cells
    tagging     TaggingGrammar: a name-tagging corpus with exact accuracy ceilings; Tagger (one direction,
                k words of look-ahead, or bidirectional), train_tagger, tagger_accuracy
    plots       figures shared by several notebooks
    sentiment   ReviewCorpus (negation and its scope, exact bag-of-words ceiling), BagOfWords baseline
    seq2seq     NumberTask (number words -> digits), Seq2Seq encoder-decoder, greedy_decode, exact_match
    timeseries  matplotlib's sample series, windows, chronological split, persistence, delay taps (least squares),
                WindowMLP, Forecaster (recurrent regression head) and their training
    textcorpus  the installed Python's stdlib source as text (read at run time), CharNGram (Witten-Bell) baselines
"""
from .cells import (
    BUILTIN_CELLS,
    GRU_CELL,
    GRU_RESET_BEFORE_CELL,
    LSTM_CELL,
    RNN_RELU_CELL,
    RNN_TANH_CELL,
    Cell,
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
    sigmoid,
)
from .data import (
    EOS,
    EOS_ID,
    PAD,
    PAD_ID,
    SPECIALS,
    UNK,
    UNK_ID,
    Vocabulary,
    build_char_vocab,
    build_word_vocab,
    load_text,
    next_token_batch,
    one_hot,
    pad_batch,
    tokenize,
)
from .grammars import AgreementGrammar, ReberGrammar, to_text
from .gradcheck import gradcheck, numerical_gradient, numerical_gradient_array, rel_error
from .layers import Embedding, Linear
from .losses import cross_entropy_sum, log_softmax, softmax, softmax_cross_entropy
from .models import LanguageModel, batchify, evaluate, next_token_log_probs, train
from .module import Module, dropout_mask
from .optim import SGD, Adagrad, Adam, clip_by_global_norm, clip_by_value
from .plots import draw_unrolled, prob_heatmap
from .recurrent import GRU, LSTM, RNN, select_state
from .sampling import (
    Hypothesis,
    beam_search,
    filter_probs,
    greedy,
    length_normalised,
    sample,
    sequence_log_prob,
    token_log_probs,
)

from .sentiment import BagOfWords, ReviewCorpus, expected_accuracy
from .seq2seq import NumberTask, Seq2Seq, exact_match, greedy_decode, number_to_words, train_seq2seq
from .tasks import (
    LagTask,
    SequenceClassifier,
    agreement_accuracy,
    classifier_accuracy,
    linear_probe_accuracy,
    reber_penultimate_accuracy,
    state_gradient_norms,
    step_jacobian,
    train_classifier,
)
from .tagging import TaggingGrammar, Tagger, tagger_accuracy, train_tagger
from .textcorpus import (
    ALPHABET,
    STDLIB_HELDOUT_FILES,
    STDLIB_TRAIN_FILES,
    CharNGram,
    bits_per_char,
    char_vocabulary,
    normalise_text,
    read_stdlib_files,
    stdlib_corpus,
    stdlib_source_dir,
)
from .timeseries import (
    SAMPLE_SERIES,
    Forecaster,
    WindowMLP,
    autoregressive_forecast,
    chronological_split,
    fit_autoregressive,
    forecaster_predict,
    load_sample_series,
    make_windows,
    mean_squared_error,
    mse_loss,
    persistence_forecast,
    train_forecaster,
    train_window_model,
)
from .unrolled import Unrolled
from .variants import (
    COUPLED_LSTM_CELL,
    GRU_VARIANT_CELLS,
    NO_FORGET_GATE_LSTM_CELL,
    NO_OUTPUT_GATE_LSTM_CELL,
    PEEPHOLE_LSTM_CELL,
    SIMPLIFIED_GRU_CELL,
    VARIANT_CELLS,
    coupled_lstm_cell_backward,
    coupled_lstm_cell_forward,
    no_forget_gate_lstm_cell_backward,
    no_forget_gate_lstm_cell_forward,
    no_output_gate_lstm_cell_backward,
    no_output_gate_lstm_cell_forward,
    peephole_lstm_cell_backward,
    peephole_lstm_cell_forward,
    simplified_gru_cell_backward,
    simplified_gru_cell_forward,
)

__version__ = "0.1.0"
