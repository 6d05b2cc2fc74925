"""Tests of rnn_utils.seq2seq: number words (against an independent parser), batches, the encoder-decoder
(gradient-checked, teacher forcing = stepping), batched greedy = rnn_utils.sampling.greedy, beam width 1 = greedy,
and a short training run that learns."""
import numpy as np
import pytest

from rnn_utils import EOS_ID, PAD_ID, beam_search, gradcheck, greedy
from rnn_utils.losses import softmax_cross_entropy
from rnn_utils.seq2seq import NumberTask, Seq2Seq, exact_match, greedy_decode, number_to_words, train_seq2seq

SMALL = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                    "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}


def parse(words):
    """Independent inverse: English number words -> int (a running total, flushed at thousand/million)."""
    total, current = 0, 0
    for w in words:
        if w in SMALL:
            current += SMALL[w]
        elif w in TENS:
            current += TENS[w]
        elif w == "hundred":
            current *= 100
        elif w in ("thousand", "million"):
            total += current * (1000 if w == "thousand" else 10 ** 6)
            current = 0
        else:
            raise AssertionError(w)
    return total + current


@pytest.mark.parametrize("n, text", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (42, "forty two"), (100, "one hundred"),
    (105, "one hundred five"), (1000, "one thousand"), (1010, "one thousand ten"),
    (342517, "three hundred forty two thousand five hundred seventeen"), (1_000_000, "one million"),
    (999_999_999, "nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine"),
])
def test_number_words_by_hand(n, text):
    assert " ".join(number_to_words(n)) == text


def test_number_words_invert_under_an_independent_parser():
    rng = np.random.default_rng(0)
    for n in list(range(0, 2000)) + rng.integers(0, 10 ** 9, 3000).tolist():
        assert parse(number_to_words(n)) == n


def test_sample_numbers_digit_counts_are_uniform():
    task = NumberTask(max_digits=4)
    nums = task.sample_numbers(40_000, np.random.default_rng(1))
    digits = np.array([len(str(n)) for n in nums])
    assert nums.min() >= 0 and nums.max() < 10 ** 4
    for d in range(1, 5):
        assert abs(np.mean(digits == d) - 0.25) < 0.01


def test_batch_shapes_and_shift():
    task = NumberTask()
    src, tgt_in, tgt_out, mask = task.batch([42, 700])        # "forty two", "seven hundred": 2 words each
    assert src.shape == (2, 2) and tgt_in.shape == tgt_out.shape == mask.shape == (4, 2)
    assert [task.src_vocab.itos[i] for i in src[:, 1]] == ["seven", "hundred"]
    d = task.tgt_vocab.stoi
    assert tgt_out[:, 0].tolist() == [d["4"], d["2"], EOS_ID, PAD_ID]
    assert tgt_in[:, 0].tolist() == [EOS_ID, d["4"], d["2"], PAD_ID]
    assert mask[:, 0].tolist() == [True, True, True, False] and mask[:, 1].all()
    with pytest.raises(ValueError, match="^numbers"):
        task.batch([42, 7])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_seq2seq_gradients_match_centred_differences(cell):
    rng = np.random.default_rng(2)
    model = Seq2Seq(7, 6, embedding_dim=3, hidden_size=4, cell=cell, rng=rng)
    for p in model.params.values():
        p *= 2.0
    src = rng.integers(0, 7, (4, 3))
    tgt_in, tgt_out = rng.integers(0, 6, (3, 3)), rng.integers(0, 6, (3, 3))
    mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=bool)
    model.loss_and_grads(src, tgt_in, tgt_out, mask)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert set(grads) == set(model.params)
    assert np.abs(grads["encoder.weight_hh_l0"]).max() > 0       # the encoder learns through the bridge alone

    def loss():
        return softmax_cross_entropy(model.forward(src, tgt_in), tgt_out, mask)[0]

    assert max(gradcheck(loss, model.params, grads).values()) < 1e-7


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_teacher_forcing_equals_stepping_from_the_encoder_state(cell):
    rng = np.random.default_rng(3)
    model = Seq2Seq(7, 6, embedding_dim=3, hidden_size=5, cell=cell, rng=rng)
    src, tgt_in = rng.integers(0, 7, (4, 2)), rng.integers(0, 6, (3, 2))
    logits = model.forward(src, tgt_in)
    state = model.encode(src)
    for u in range(3):
        step_logits, state = model.step(tgt_in[u], state)
        assert np.allclose(step_logits, logits[u], atol=1e-12)


def _trained(max_digits=2, steps=300, seed=4):
    task = NumberTask(max_digits=max_digits)
    rng = np.random.default_rng(seed)
    model = Seq2Seq(task.src_vocab_size, task.tgt_vocab_size, embedding_dim=8, hidden_size=32, cell="gru", rng=rng)
    losses = train_seq2seq(model, task, np.arange(10 ** max_digits), steps=steps, batch_size=32, lr=1e-2, rng=rng)
    return task, model, losses


def test_batched_greedy_equals_sampling_greedy_and_beam_width_one():
    task, model, _ = _trained(steps=60)
    for L, nums in task.group_by_length(np.arange(100)).items():
        src = task.batch(nums)[0]
        outs = greedy_decode(model, src, max_len=task.max_target_len)
        for b, out in enumerate(outs):
            state = model.encode(src[:, b:b + 1])
            ref = greedy(model, [EOS_ID], task.max_target_len, stop_token=EOS_ID, state=state)
            assert out == ref.tokens
            beam = beam_search(model, [EOS_ID], task.max_target_len, 1, stop_token=EOS_ID, state=state)[0]
            assert beam.tokens == ref.tokens


def test_training_learns_two_digit_numbers():
    task, model, losses = _trained(steps=300)
    assert losses[-20:].mean() < 0.3 * losses[:20].mean()
    nums = np.arange(100)
    right = [exact_match(task, g, greedy_decode(model, task.batch(g)[0], max_len=task.max_target_len))
             for g in task.group_by_length(nums).values()]
    assert np.concatenate(right).mean() > 0.9


def test_exact_match_needs_the_stop_token():
    task = NumberTask()
    d = task.tgt_vocab.stoi
    assert exact_match(task, [42], [[d["4"], d["2"], EOS_ID]]).tolist() == [True]
    assert exact_match(task, [42], [[d["4"], d["2"]]]).tolist() == [False]
    assert exact_match(task, [42], [[d["4"], d["2"], d["1"], EOS_ID]]).tolist() == [False]
    assert task.decode_target([d["4"], d["2"], EOS_ID, d["1"]]) == "42"
