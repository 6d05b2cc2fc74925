"""A probe of the public API with bad and edge-case inputs, as a new user would try them.

Every case must raise a ValueError whose message starts with the name of the argument the *caller* passed
(never a raw numpy/zipfile/json/KeyError, never a name the caller did not use) -- or, for the edge cases that are
valid, return a sensible result. One row per probe; the table is the documentation of what is checked.
"""
import numpy as np
import pytest

import rnn_utils as ru

RNG = np.random.default_rng


def _lm(cell="gru", E=3):
    return ru.LanguageModel(5, 4, cell=cell, embedding_dim=E, rng=RNG(0))


def _vocab():
    return ru.build_char_vocab("hello")


def _step(tokens, state):
    return np.zeros((len(tokens), 4)), state


def _ragged():
    return [[1, 2], [3]]


CASES = [
    # ---------------------------------------------------------------- data
    ("one_hot ids ragged", lambda: ru.one_hot(_ragged(), 4), "indices"),
    ("one_hot None", lambda: ru.one_hot(None, 4), "indices"),
    ("one_hot floats", lambda: ru.one_hot([1.0, 2.0], 4), "indices"),
    ("one_hot num_classes 0", lambda: ru.one_hot([1], 0), "num_classes"),
    ("one_hot dtype banana", lambda: ru.one_hot([1], 4, dtype="banana"), "dtype"),
    ("one_hot id too big", lambda: ru.one_hot([4], 4), "indices"),
    ("pad_batch empty", lambda: ru.pad_batch([]), "sequences"),
    ("pad_batch generator", lambda: ru.pad_batch(np.zeros((2, 2), int)), "sequences"),
    ("pad_batch negative pad", lambda: ru.pad_batch([[1]], pad_id=-1), "pad_id"),
    ("pad_batch bool pad", lambda: ru.pad_batch([[1]], pad_id=True), "pad_id"),
    ("next_token_batch start", lambda: ru.next_token_batch([[1]], start_id=-2), "start_id"),
    ("decode ragged", lambda: _vocab().decode(_ragged()), "ids"),
    ("decode out of range", lambda: _vocab().decode([99]), "ids"),
    ("encode unknown mode", lambda: _vocab().encode("h", unknown="skip"), "unknown"),
    ("build_word_vocab min_count", lambda: ru.build_word_vocab("a b", min_count=0), "min_count"),
    # ---------------------------------------------------------------- grammars
    ("grammar sample rng None", lambda: ru.AgreementGrammar().sample(3, None), "rng"),
    ("grammar sample n", lambda: ru.AgreementGrammar().sample(-1, RNG(0)), "n"),
    ("grammar p_plural", lambda: ru.AgreementGrammar(p_plural=1.5), "p_plural"),
    ("reber embedded", lambda: ru.ReberGrammar(embedded="yes"), "embedded"),
    ("reber sample rng int", lambda: ru.ReberGrammar().sample(2, 7), "rng"),
    # ---------------------------------------------------------------- layers
    ("LSTM no rng", lambda: ru.LSTM(2, 3, rng=None), "rng"),
    ("LSTM dtype banana", lambda: ru.LSTM(2, 3, dtype="banana", rng=RNG(0)), "dtype"),
    ("GRU reset_after 1", lambda: ru.GRU(2, 3, reset_after=1, rng=RNG(0)), "reset_after"),
    ("LSTM dropout 1", lambda: ru.LSTM(2, 3, num_layers=2, dropout=1.0, rng=RNG(0)), "dropout"),
    ("GRU dropout negative", lambda: ru.GRU(2, 3, num_layers=2, dropout=-0.1, rng=RNG(0)), "dropout"),
    ("RNN dropout True", lambda: ru.RNN(2, 3, num_layers=2, dropout=True, rng=RNG(0)), "dropout"),
    ("Unrolled dropout str", lambda: ru.Unrolled("lstm", 2, 3, dropout="0.5", rng=RNG(0)), "dropout"),
    ("LanguageModel dropout nan", lambda: ru.LanguageModel(5, 4, num_layers=2, dropout=float("nan"), rng=RNG(0)),
     "dropout"),
    ("train mode 1", lambda: ru.LSTM(2, 3, rng=RNG(0)).train(1), "mode"),
    ("dropout_mask p 1", lambda: ru.dropout_mask((2,), 1.0, rng=RNG(0)), "p"),
    ("dropout_mask shape list", lambda: ru.dropout_mask([2, 3], 0.5, rng=RNG(0)), "shape"),
    ("dropout_mask rng None", lambda: ru.dropout_mask((2,), 0.5, rng=None), "rng"),
    ("RNN X None", lambda: ru.RNN(2, 3, rng=RNG(0)).forward(None), "X"),
    ("RNN X ragged", lambda: ru.RNN(2, 3, rng=RNG(0)).forward([[[1.0, 2.0]], [[1.0]]]), "X"),
    ("RNN X generator", lambda: ru.RNN(2, 3, rng=RNG(0)).forward(x for x in range(3)), "X"),
    ("LSTM state not pair", lambda: ru.LSTM(2, 3, rng=RNG(0)).forward(np.zeros((1, 1, 2)), np.zeros((1, 1, 3))),
     "state0"),
    ("Linear bias 1", lambda: ru.Linear(2, 3, bias=1, rng=RNG(0)), "bias"),
    ("Linear X string", lambda: ru.Linear(2, 3, rng=RNG(0)).forward("ab"), "X"),
    ("Embedding idx float", lambda: ru.Embedding(5, 2, rng=RNG(0)).forward(np.array([0.5])), "idx"),
    ("Embedding idx ragged", lambda: ru.Embedding(5, 2, rng=RNG(0)).forward(_ragged()), "idx"),
    ("Unrolled unknown cell", lambda: ru.Unrolled("peephole", 2, 3, rng=RNG(0)), "cell"),
    ("select_state index", lambda: ru.select_state(np.zeros((1, 2, 3)), np.array([2])), "index"),
    ("select_state float index", lambda: ru.select_state(np.zeros((1, 2, 3)), np.array([0.0])), "index"),
    # ---------------------------------------------------------------- losses
    ("softmax None", lambda: ru.softmax(None), "z"),
    ("softmax axis", lambda: ru.softmax(np.zeros(3), axis=1), "axis"),
    ("log_softmax NaN", lambda: ru.log_softmax(np.array([0.0, np.nan])), "z"),
    ("cross entropy targets float", lambda: ru.softmax_cross_entropy(np.zeros((1, 1, 3)), np.zeros((1, 1))),
     "targets"),
    ("cross entropy mask 2", lambda: ru.softmax_cross_entropy(np.zeros((1, 1, 3)), np.zeros((1, 1), int),
                                                              np.full((1, 1), 2)), "mask"),
    # ---------------------------------------------------------------- optim
    ("Adam eps 0", lambda: ru.Adam({"w": np.zeros(2)}, eps=0), "eps"),
    ("Adam betas 1", lambda: ru.Adam({"w": np.zeros(2)}, betas=(1.0, 0.9)), "betas[0]"),
    ("Adam lr str", lambda: ru.Adam({"w": np.zeros(2)}, lr="fast"), "lr"),
    ("Adam params list", lambda: ru.Adam([np.zeros(2)]), "params"),
    ("SGD momentum 1", lambda: ru.SGD({"w": np.zeros(2)}, lr=0.1, momentum=1.0), "momentum"),
    ("step missing grad", lambda: ru.SGD({"w": np.zeros(2)}, lr=0.1).step({}), "grads"),
    ("step broadcast grad", lambda: ru.SGD({"w": np.zeros(2)}, lr=0.1).step({"w": np.zeros(1)}), "grads['w']"),
    ("clip max_norm 0", lambda: ru.clip_by_global_norm({"w": np.ones(2)}, 0), "max_norm"),
    ("clip int array", lambda: ru.clip_by_global_norm({"w": np.ones(2, int)}, 1.0), "grads['w']"),
    # ---------------------------------------------------------------- gradcheck
    ("gradcheck h 0", lambda: ru.numerical_gradient(lambda: 0.0, np.zeros(2), h=0), "h"),
    ("gradcheck h nan", lambda: ru.numerical_gradient(lambda: 0.0, np.zeros(2), h=float("nan")), "h"),
    ("gradcheck float32", lambda: ru.numerical_gradient(lambda: 0.0, np.zeros(2, np.float32)), "x"),
    ("gradcheck f not callable", lambda: ru.numerical_gradient(3.0, np.zeros(2)), "f"),
    ("gradcheck tol", lambda: ru.gradcheck(lambda: 0.0, {"x": np.zeros(1)}, {"x": np.zeros(1)}, tol=-1), "tol"),
    ("gradcheck extra key", lambda: ru.gradcheck(lambda: 0.0, {"x": np.zeros(1)},
                                                 {"x": np.zeros(1), "y": np.zeros(1)}), "grads"),
    ("rel_error shapes", lambda: ru.rel_error(np.zeros(2), np.zeros(3)), "numeric"),
    # ---------------------------------------------------------------- models
    ("LanguageModel cell", lambda: ru.LanguageModel(5, 4, cell="transformer", rng=RNG(0)), "cell"),
    ("LanguageModel rng", lambda: ru.LanguageModel(5, 4, rng=3), "rng"),
    ("forward ids too big", lambda: _lm().forward(np.full((2, 1), 5)), "inputs"),
    ("forward ids float", lambda: _lm().forward(np.zeros((2, 1))), "inputs"),
    ("loss targets shape", lambda: _lm().loss_and_grads(np.zeros((2, 1), int), np.zeros((3, 1), int)), "targets"),
    ("step tokens 2-d", lambda: _lm().step(np.zeros((1, 1), int)), "tokens"),
    ("backward first", lambda: _lm().backward(np.zeros((1, 1, 5))), None),      # RuntimeError, see below
    ("train stream float", lambda: ru.train(_lm(), np.zeros(50), seq_len=2, batch_size=2, steps=1), "stream"),
    ("train clip 0", lambda: ru.train(_lm(), np.arange(50) % 5, seq_len=2, batch_size=2, steps=1, clip=0), "clip"),
    ("train lr 0", lambda: ru.train(_lm(), np.arange(50) % 5, seq_len=2, batch_size=2, steps=1, lr=0), "lr"),
    ("train batch_size", lambda: ru.train(_lm(), np.arange(50) % 5, seq_len=2, batch_size=0, steps=1),
     "batch_size"),
    ("train seq_len too long", lambda: ru.train(_lm(), np.arange(50) % 5, seq_len=40, batch_size=2, steps=1),
     "seq_len"),
    ("train other optimizer", lambda: ru.train(_lm(), np.arange(50) % 5, seq_len=2, batch_size=2, steps=1,
                                               optimizer=ru.Adam(_lm().params)), "optimizer"),
    ("evaluate not a model", lambda: ru.evaluate(object(), np.arange(5)), "model"),
    ("next_token empty prefix", lambda: ru.next_token_log_probs(_lm(), [[1], []]), "prefixes[1]"),
    ("next_token string", lambda: ru.next_token_log_probs(_lm(), "abc"), "prefixes"),
    ("next_token state 1-d", lambda: ru.next_token_log_probs(_lm(), [[1]], np.zeros(4)), "state"),
    ("load missing", lambda: ru.LanguageModel.load("/nonexistent/model.npz"), None),   # FileNotFoundError
    # ---------------------------------------------------------------- sampling
    ("greedy prefix too big", lambda: ru.greedy(_lm(), [99], 3), "prefix"),
    ("greedy prefix empty", lambda: ru.greedy(_lm(), [], 3), "prefix"),
    ("greedy prefix ragged", lambda: ru.greedy(_lm(), _ragged(), 3), "prefix"),
    ("greedy max_len 0", lambda: ru.greedy(_lm(), [1], 0), "max_len"),
    ("greedy stop_token V", lambda: ru.greedy(_lm(), [1], 3, stop_token=5), "stop_token"),
    ("greedy step not callable", lambda: ru.greedy(3, [1], 3), "step"),
    ("sample rng None", lambda: ru.sample(_lm(), [1], 3, None), "rng"),
    ("sample temperature 0", lambda: ru.sample(_lm(), [1], 3, RNG(0), temperature=0), "temperature"),
    ("sample top_k 0", lambda: ru.sample(_lm(), [1], 3, RNG(0), top_k=0), "top_k"),
    ("sample top_p 0", lambda: ru.sample(_lm(), [1], 3, RNG(0), top_p=0.0), "top_p"),
    ("sample top_p 1.5", lambda: ru.sample(_lm(), [1], 3, RNG(0), top_p=1.5), "top_p"),
    ("sample num_samples", lambda: ru.sample(_lm(), [1], 3, RNG(0), num_samples=0), "num_samples"),
    ("beam width 0", lambda: ru.beam_search(_lm(), [1], 3, 0), "width"),
    ("beam alpha negative", lambda: ru.beam_search(_lm(), [1], 3, 2, alpha=-0.5), "alpha"),
    ("beam select_state", lambda: ru.beam_search(_step, [1], 3, 2, select_state=5), "select_state"),
    ("scoring tokens too big", lambda: ru.sequence_log_prob(_lm(), [1], [1, 9]), "tokens"),
    ("length_normalised length", lambda: ru.length_normalised(-1.0, -2, 0.7), "length"),
    ("length_normalised alpha", lambda: ru.length_normalised(-1.0, 2, -1), "alpha"),
    ("filter_probs NaN", lambda: ru.filter_probs(np.array([np.nan, 0.0])), "logits"),
    ("filter_probs empty", lambda: ru.filter_probs(np.zeros((2, 0))), "logits"),
    ("step returns wrong shape", lambda: ru.greedy(lambda t, s: (np.zeros(4), s), [1], 2), "logits returned by step"),
    ("step returns one value", lambda: ru.greedy(lambda t, s: np.zeros((1, 4)), [1], 2), "step"),
    # ---------------------------------------------------------------- GRU variant, cell comparisons (06)
    ("simplified_gru x wrong D", lambda: ru.simplified_gru_cell_forward(
        np.zeros((2, 3)), np.zeros((2, 4)), {"weight_ih": np.zeros((8, 2)), "weight_hh": np.zeros((8, 4)),
                                             "bias_ih": np.zeros(8), "bias_hh": np.zeros(8)}), "x"),
    ("simplified_gru 3 gate blocks", lambda: ru.simplified_gru_cell_forward(
        np.zeros((2, 2)), np.zeros((2, 4)), {"weight_ih": np.zeros((12, 2)), "weight_hh": np.zeros((12, 4)),
                                             "bias_ih": np.zeros(12), "bias_hh": np.zeros(12)}), "params['weight_hh']"),
    ("SIMPLIFIED_GRU_CELL bare state", lambda: ru.SIMPLIFIED_GRU_CELL.forward(
        np.zeros((2, 2)), np.zeros((2, 4)), {}), "state"),
    ("step_jacobian cell name", lambda: ru.step_jacobian("gru", np.zeros((1, 2)), (np.zeros((1, 3)),), {}), "cell"),
    ("step_jacobian of 2 for GRU", lambda: ru.step_jacobian(ru.GRU_CELL, np.zeros((1, 2)), (np.zeros((1, 3)),), {},
                                                           of=2), "of"),
    ("state_gradient_norms rng None", lambda: ru.state_gradient_norms(
        ru.GRU_CELL, {"weight_hh": np.zeros((9, 3))}, np.zeros((2, 1, 2)), rng=None), "rng"),
    ("state_gradient_norms X 2-d", lambda: ru.state_gradient_norms(
        ru.GRU_CELL, {"weight_hh": np.zeros((9, 3))}, np.zeros((2, 2)), rng=RNG(0)), "X"),
    # ---------------------------------------------------------------- plots
    ("prob_heatmap probs 1-d", lambda: ru.prob_heatmap(np.zeros(3), ["a"], ["b"]), "probs"),
    # ---------------------------------------------------------------- tagging
    ("TaggingGrammar p_person 2", lambda: ru.TaggingGrammar(p_person=2), "p_person"),
    ("tagging sample rng None", lambda: ru.TaggingGrammar().sample(2, None), "rng"),
    ("tagging ceiling k -1", lambda: ru.TaggingGrammar().ceiling(-1), "k"),
    ("tagging name_probs not a sentence", lambda: ru.TaggingGrammar().name_probs("teddy bananas"), "sentence"),
    ("tagging encode unknown word", lambda: ru.TaggingGrammar().encode([["teddy", "dinosaurs"]]), "sentences[0]"),
    ("tagging encode tag 2", lambda: ru.TaggingGrammar().encode([["teddy", "bears"]], [[0, 2]]), "tags[0]"),
    ("Tagger lookahead bidirectional", lambda: ru.Tagger(ru.RNN(5, 3, bidirectional=True, rng=RNG(0)), 2,
                                                         lookahead=1, rng=RNG(0)), "lookahead"),
    ("Tagger num_tags 0", lambda: ru.Tagger(ru.RNN(5, 3, rng=RNG(0)), 0, rng=RNG(0)), "num_tags"),
    ("Tagger ids too big", lambda: ru.Tagger(ru.RNN(5, 3, rng=RNG(0)), 2, rng=RNG(0)).forward(np.full((2, 1), 5)),
     "ids"),
    ("Tagger tags shape", lambda: ru.Tagger(ru.RNN(5, 3, rng=RNG(0)), 2, rng=RNG(0)).loss_and_grads(
        np.zeros((2, 1), int), np.zeros((3, 1), int)), "tags"),
    ("train_tagger steps 0", lambda: ru.train_tagger(ru.Tagger(ru.RNN(42, 3, rng=RNG(0)), 2, rng=RNG(0)),
                                                     ru.TaggingGrammar(), steps=0, batch_size=2, rng=RNG(0)), "steps"),
    ("train_tagger vocab mismatch", lambda: ru.train_tagger(ru.Tagger(ru.RNN(5, 3, rng=RNG(0)), 2, rng=RNG(0)),
                                                            ru.TaggingGrammar(), steps=1, batch_size=2, rng=RNG(0)),
     "model"),
    ("tagger_accuracy empty mask", lambda: ru.tagger_accuracy(ru.Tagger(ru.RNN(5, 3, rng=RNG(0)), 2, rng=RNG(0)),
                                                              np.zeros((2, 1), int), np.zeros((2, 1), int),
                                                              np.zeros((2, 1), bool)), "mask"),
    # ---------------------------------------------------------------- sentiment
    ("ReviewCorpus p_not 2", lambda: ru.ReviewCorpus(p_not=2), "p_not"),
    ("ReviewCorpus template_probs sum", lambda: ru.ReviewCorpus(template_probs={"but": 0.5}), "template_probs"),
    ("ReviewCorpus nouns str", lambda: ru.ReviewCorpus(nouns="plot"), "nouns"),
    ("ReviewCorpus tail -1", lambda: ru.ReviewCorpus(tail=-1), "tail"),
    ("ReviewCorpus sample rng None", lambda: ru.ReviewCorpus().sample(2, None), "rng"),
    ("ReviewCorpus ceiling template", lambda: ru.ReviewCorpus().bag_ceiling(template="sonnet"), "template"),
    ("ReviewCorpus ceiling empty subset", lambda: ru.ReviewCorpus(template_probs={"plain": 1.0}).bag_ceiling(
        template="but"), "template"),
    ("BagOfWords ids too big", lambda: ru.BagOfWords(5, 2, rng=RNG(0)).forward(np.full((2, 1), 5)), "ids"),
    ("BagOfWords targets shape", lambda: ru.BagOfWords(5, 2, rng=RNG(0)).loss_and_grads(
        np.zeros((2, 3), int), np.zeros(2, int)), "targets"),
    ("expected_accuracy corpus", lambda: ru.expected_accuracy(ru.BagOfWords(5, 2, rng=RNG(0)), None), "corpus"),
    # ---------------------------------------------------------------- seq2seq
    ("number_to_words negative", lambda: ru.number_to_words(-1), "n"),
    ("number_to_words 1e9", lambda: ru.number_to_words(10 ** 9), "n"),
    ("NumberTask max_digits 10", lambda: ru.NumberTask(max_digits=10), "max_digits"),
    ("NumberTask batch mixed lengths", lambda: ru.NumberTask().batch([7, 42]), "numbers"),
    ("NumberTask batch empty", lambda: ru.NumberTask().batch([]), "numbers"),
    ("Seq2Seq cell rnn", lambda: ru.Seq2Seq(5, 4, cell="rnn", rng=RNG(0)), "cell"),
    ("Seq2Seq src too big", lambda: ru.Seq2Seq(5, 4, rng=RNG(0)).forward(np.full((2, 1), 5), np.zeros((2, 1), int)),
     "src"),
    ("Seq2Seq tgt_in batch", lambda: ru.Seq2Seq(5, 4, rng=RNG(0)).forward(np.zeros((2, 1), int),
                                                                         np.zeros((2, 3), int)), "tgt_in"),
    ("Seq2Seq step state None", lambda: ru.Seq2Seq(5, 4, rng=RNG(0)).step(np.zeros(1, int), None), "state"),
    ("greedy_decode max_len 0", lambda: ru.greedy_decode(ru.Seq2Seq(5, 4, rng=RNG(0)), np.zeros((2, 1), int),
                                                         max_len=0), "max_len"),
    ("exact_match outputs count", lambda: ru.exact_match(ru.NumberTask(), [1, 2], [[3]]), "outputs"),
    ("train_seq2seq lr 0", lambda: ru.train_seq2seq(ru.Seq2Seq(33, 13, rng=RNG(0)), ru.NumberTask(), [1, 2],
                                                    steps=1, batch_size=2, lr=0, rng=RNG(0)), "lr"),
    # ---------------------------------------------------------------- timeseries
    ("load_sample_series name", lambda: ru.load_sample_series("sunspots"), "name"),
    ("chronological_split fractions sum", lambda: ru.chronological_split(np.zeros(10), fractions=(0.8, 0.3)),
     "fractions"),
    ("chronological_split too short", lambda: ru.chronological_split(np.zeros(2)), "series"),
    ("make_windows window too long", lambda: ru.make_windows(np.zeros(3), 3), "series"),
    ("make_windows 2-d series", lambda: ru.make_windows(np.zeros((5, 2)), 2), "series"),
    ("make_windows horizon 0", lambda: ru.make_windows(np.zeros(5), 2, horizon=0), "horizon"),
    ("persistence 1-d", lambda: ru.persistence_forecast(np.zeros(3)), "X"),
    ("fit_autoregressive y length", lambda: ru.fit_autoregressive(np.zeros((4, 2)), np.zeros(3)), "y"),
    ("fit_autoregressive ridge -1", lambda: ru.fit_autoregressive(np.zeros((4, 2)), np.zeros(4), ridge=-1), "ridge"),
    ("autoregressive_forecast X width", lambda: ru.autoregressive_forecast(np.zeros(2), 0.0, np.zeros((3, 3))), "X"),
    ("mse_loss shapes", lambda: ru.mse_loss(np.zeros(3), np.zeros((3, 1))), "target"),
    ("WindowMLP rng None", lambda: ru.WindowMLP(4, 3, rng=None), "rng"),
    ("WindowMLP X wrong window", lambda: ru.WindowMLP(4, 3, rng=RNG(0)).forward(np.zeros((2, 3))), "X"),
    ("Forecaster cell", lambda: ru.Forecaster(1, 3, cell="transformer", rng=RNG(0)), "cell"),
    ("Forecaster X 2-d", lambda: ru.Forecaster(1, 3, rng=RNG(0)).forward(np.zeros((4, 2))), "X"),
    ("train_window_model val", lambda: ru.train_window_model(ru.WindowMLP(2, 3, rng=RNG(0)), np.zeros((4, 2)),
                                                             np.zeros(4), steps=1, batch_size=2, lr=0.1, rng=RNG(0),
                                                             val=(np.zeros((4, 2)),)), "val"),
    ("train_forecaster warmup", lambda: ru.train_forecaster(ru.Forecaster(1, 3, rng=RNG(0)), np.zeros(20),
                                                            np.zeros(20), train_end=10, seq_len=5, batch_size=2,
                                                            steps=1, lr=0.1, rng=RNG(0), warmup=5), "warmup"),
    ("train_forecaster val_end", lambda: ru.train_forecaster(ru.Forecaster(1, 3, rng=RNG(0)), np.zeros(20),
                                                             np.zeros(20), train_end=10, val_end=10, seq_len=5,
                                                             batch_size=2, steps=1, lr=0.1, rng=RNG(0)), "val_end"),
    ("forecaster_predict model", lambda: ru.forecaster_predict(object(), np.zeros(3)), "model"),
    # ---------------------------------------------------------------- textcorpus
    ("normalise_text bytes", lambda: ru.normalise_text(b"abc"), "text"),
    ("read_stdlib_files str", lambda: ru.read_stdlib_files("heapq.py"), "names"),
    ("CharNGram order 0", lambda: ru.CharNGram(0, 5), "order"),
    ("CharNGram order too big", lambda: ru.CharNGram(12, 96), "order"),
    ("CharNGram fit ids too big", lambda: ru.CharNGram(2, 3).fit([0, 3]), "ids"),
    ("CharNGram fit too short", lambda: ru.CharNGram(3, 3).fit([0, 1]), "ids"),
    ("CharNGram bits one id", lambda: ru.CharNGram(1, 3).fit([0, 1]).bits([0]), "ids"),
    ("bits_per_char model", lambda: ru.bits_per_char(object(), [0, 1]), "model"),
]

OTHER_ERRORS = {"backward first": RuntimeError, "load missing": FileNotFoundError}


@pytest.mark.parametrize("label, call, name", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error_naming_the_callers_argument(label, call, name):
    if label in OTHER_ERRORS:
        with pytest.raises(OTHER_ERRORS[label]):
            call()
        return
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    assert msg.startswith(name + ":") or msg.startswith(name + " "), f"{label}: {msg!r} does not start with {name!r}"
    assert len(msg) > len(name) + 20, f"{label}: {msg!r} says too little"


EDGE_CASES_THAT_WORK = [
    ("decode no ids", lambda: _vocab().decode([]) == []),
    ("to_text no ids", lambda: _vocab().to_text([]) == ""),
    ("one_hot no ids", lambda: ru.one_hot([], 3).shape == (0, 3)),
    ("grammar zero sentences", lambda: ru.AgreementGrammar().sample(0, RNG(0)) == []),
    ("sequence_log_prob no tokens", lambda: ru.sequence_log_prob(_lm(), [1], []) == 0.0),
    ("filter_probs -inf banned", lambda: ru.filter_probs(np.array([0.0, -np.inf]))[1] == 0.0),
    ("top_p 1 keeps all", lambda: (ru.filter_probs(np.zeros(4), top_p=1.0) == 0.25).all()),
    ("temperature 1e-308", lambda: ru.filter_probs(np.array([0.0, 1.0]), temperature=1e-308).tolist() == [0, 1]),
    ("metadata new model", lambda: _lm().metadata == {}),
    ("T = 1 sequence", lambda: ru.LSTM(2, 3, rng=RNG(0)).forward(np.zeros((1, 1, 2)))[0].shape == (1, 1, 3)),
    ("integer input cast", lambda: ru.RNN(2, 3, rng=RNG(0)).forward(np.ones((2, 1, 2), int))[0].dtype == np.float64),
    ("make_windows one window", lambda: ru.make_windows(np.arange(3.0), 2)[0].tolist() == [[0.0, 1.0]]),
    ("n-gram empty context", lambda: abs(ru.CharNGram(2, 3).fit([0, 1, 2]).distribution([]).sum() - 1) < 1e-12),
]


@pytest.mark.parametrize("label, check", EDGE_CASES_THAT_WORK, ids=[c[0] for c in EDGE_CASES_THAT_WORK])
def test_edge_cases_that_are_valid_just_work(label, check):
    assert check()
