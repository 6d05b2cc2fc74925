"""rnn_utils.data: hand-computed vocabularies, one-hot arrays, padded batches, errors, text loading."""
import numpy as np
import pytest

from rnn_utils.data import (
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

HARRY = "Harry Potter and Hermione Granger invented a new spell."


# ------------------------------------------------------------------------------------------ special tokens
def test_special_ids_are_fixed():
    assert (PAD, UNK, EOS) == ("<pad>", "<unk>", "<eos>")
    assert (PAD_ID, UNK_ID, EOS_ID) == (0, 1, 2)
    assert SPECIALS == ("<pad>", "<unk>", "<eos>")
    v = build_char_vocab("ab")
    assert (v.pad_id, v.unk_id, v.eos_id) == (0, 1, 2)


# ------------------------------------------------------------------------------------------ tokenize
def test_tokenize_words_and_punctuation():
    assert tokenize("Harry Potter, don't!") == ["Harry", "Potter", ",", "don't", "!"]
    assert tokenize("Harry Potter, don't!", lower=True) == ["harry", "potter", ",", "don't", "!"]
    assert tokenize("Cats average 15 hours.", punctuation=False) == ["Cats", "average", "15", "hours"]
    assert len(tokenize(HARRY, punctuation=False)) == 9  # the lecture's T_x = 9
    assert len(tokenize(HARRY)) == 10
    assert tokenize("  ") == []


def test_tokenize_rejects_non_str():
    with pytest.raises(ValueError, match="tokenize: expected a str, got list"):
        tokenize(["a", "b"])


# ------------------------------------------------------------------------------------------ char vocab
def test_char_vocab_of_hello_has_known_ids():
    v = build_char_vocab("hello")
    assert v.itos == ("<pad>", "<unk>", "<eos>", "e", "h", "l", "o")
    assert v.stoi == {"<pad>": 0, "<unk>": 1, "<eos>": 2, "e": 3, "h": 4, "l": 5, "o": 6}
    assert len(v) == 7
    ids = v.encode("hello")
    assert ids.dtype == np.int64 and ids.shape == (5,)
    np.testing.assert_array_equal(ids, [4, 3, 5, 5, 6])
    np.testing.assert_array_equal(v.encode("hello", add_eos=True), [4, 3, 5, 5, 6, 2])
    assert v.decode([4, 3, 5, 5, 6]) == ["h", "e", "l", "l", "o"]
    assert v.to_text([4, 3, 5, 5, 6, 2], skip_specials=True) == "hello"
    assert v.to_text([4, 3, 5, 5, 6, 2], skip_specials=False) == "hello<eos>"


def test_char_vocab_of_several_texts_and_no_specials():
    v = build_char_vocab(["ba", "ca "], specials=())
    assert v.itos == (" ", "a", "b", "c")
    np.testing.assert_array_equal(v.encode("cab"), [3, 1, 2])
    with pytest.raises(ValueError, match="has no '<eos>' token"):
        v.encode("ab", add_eos=True)
    with pytest.raises(ValueError, match="has no '<pad>' token"):
        v.pad_id


def test_char_round_trip():
    text = "Voulez-vous chanter avec moi?"
    v = build_char_vocab(text)
    ids = v.encode(text)
    assert ids.shape == (len(text),)
    assert v.to_text(ids) == text
    assert "".join(v.decode(ids)) == text


# ------------------------------------------------------------------------------------------ word vocab
CORPUS = ["the cat sat .", "The dog sat .", "a cat ran"]
# counts (lowercased): the 2, cat 2, sat 2, . 2, dog 1, a 1, ran 1


def test_word_vocab_frequency_order_ties_alphabetical():
    v = build_word_vocab(CORPUS)
    assert v.itos == ("<pad>", "<unk>", "<eos>", ".", "cat", "sat", "the", "a", "dog", "ran")


def test_word_vocab_alphabetical_min_count_max_size():
    v = build_word_vocab(CORPUS, order="alphabetical")
    assert v.itos[3:] == (".", "a", "cat", "dog", "ran", "sat", "the")
    v = build_word_vocab(CORPUS, min_count=2)
    assert v.itos[3:] == (".", "cat", "sat", "the")
    v = build_word_vocab(CORPUS, max_size=5)  # 3 specials + the 2 most frequent words
    assert v.itos == ("<pad>", "<unk>", "<eos>", ".", "cat")
    v = build_word_vocab(CORPUS, max_size=6, order="alphabetical")  # most frequent kept, then sorted
    assert v.itos[3:] == (".", "cat", "sat")
    v = build_word_vocab(CORPUS, punctuation=False)
    assert "." not in v and len(v) == 9
    # a vocabulary built without punctuation also drops it when encoding a str
    np.testing.assert_array_equal(v.encode("The cat sat."), [5, 3, 4])
    with pytest.raises(ValueError, match="unknown symbol '.' at position 1"):
        v.encode(["cat", "."])


def test_word_vocab_case_handling():
    v = build_word_vocab(CORPUS)  # lower=True by default
    np.testing.assert_array_equal(v.encode("The CAT sat."), [6, 4, 5, 3])
    np.testing.assert_array_equal(v.encode(["The", "cat"]), [6, 4])
    assert "Dog" in v and "cow" not in v
    cased = build_word_vocab(CORPUS, lower=False)
    assert "The" in cased and "the" in cased and "THE" not in cased


def test_word_round_trip_and_to_text():
    v = build_word_vocab(HARRY, punctuation=False)
    ids = v.encode(HARRY.replace(".", ""), add_eos=True)
    assert ids.shape == (10,) and ids[-1] == EOS_ID
    assert v.decode(ids, skip_specials=True) == tokenize(HARRY, lower=True, punctuation=False)
    assert v.to_text(ids) == "harry potter and hermione granger invented a new spell <eos>"
    assert v.to_text(ids, skip_specials=True) == "harry potter and hermione granger invented a new spell"


def test_unknown_symbols_error_or_unk():
    v = build_word_vocab(CORPUS)
    with pytest.raises(ValueError, match=r"unknown symbol 'cow' at position 1 .*unknown='unk'"):
        v.encode("a cow sat")
    np.testing.assert_array_equal(v.encode("a cow sat", unknown="unk"), [7, 1, 5])
    c = build_char_vocab("hello")
    with pytest.raises(ValueError, match="unknown symbol 'x' at position 2"):
        c.encode("hex")
    bare = build_char_vocab("hello", specials=())
    with pytest.raises(ValueError, match="unknown='unk' but this vocabulary has no '<unk>' token"):
        bare.encode("hex", unknown="unk")
    with pytest.raises(ValueError, match=r"unknown: expected one of \['error', 'unk'\], got 'skip'"):
        v.encode("a", unknown="skip")


def test_encode_decode_errors():
    v = build_char_vocab("hello")
    with pytest.raises(ValueError, match="encode: empty input"):
        v.encode("")
    with pytest.raises(ValueError, match="encode: empty input"):
        v.encode([])
    with pytest.raises(ValueError, match="symbols must be str, got int at position 1"):
        v.encode(["h", 3])
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, vocabulary size=7\), got 1 outside \(e.g. 7\)"):
        v.decode([3, 7])
    with pytest.raises(ValueError, match=r"ids: expected ids in \[0, vocabulary size=7\), got 1 outside \(e.g. -1\)"):
        v.decode([-1, 3])
    with pytest.raises(ValueError, match="expected an integer index array"):
        v.decode([3.0, 4.0])
    assert v.decode([]) == [] and v.to_text([]) == ""       # no ids: nothing to decode, not an error


def test_decode_any_shape_flattens_in_c_order():
    v = build_char_vocab("hello")
    assert v.decode(np.array([[4, 3], [5, 6]])) == ["h", "e", "l", "o"]


def test_vocabulary_constructor_checks():
    with pytest.raises(ValueError, match=r"duplicate symbol 'a' at ids 3 and 4"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        Vocabulary(["ab"], level="char")
    with pytest.raises(ValueError, match=r"level: expected one of \['char', 'word'\]"):
        Vocabulary(["a"], level="byte")
    v = Vocabulary(["h", "e", "l", "o", " "], specials=(), level="char")  # the lecture's alphabet
    np.testing.assert_array_equal(v.encode("hell o"), [0, 1, 2, 2, 4, 3])
    assert v == Vocabulary(list("helo "), specials=(), level="char")
    assert "size=5" in repr(v)


def test_builders_reject_empty_input():
    with pytest.raises(ValueError, match="build_char_vocab: empty input"):
        build_char_vocab("")
    with pytest.raises(ValueError, match="build_word_vocab: empty input"):
        build_word_vocab(["", ""])
    with pytest.raises(ValueError, match="build_word_vocab: empty input"):
        build_word_vocab("...", punctuation=False)
    with pytest.raises(ValueError, match="item 1 is int"):
        build_word_vocab(["a b", 3])
    with pytest.raises(ValueError, match="no word reaches min_count=5"):
        build_word_vocab(CORPUS, min_count=5)
    with pytest.raises(ValueError, match="max_size: must exceed the 3 special tokens, got 3"):
        build_word_vocab(CORPUS, max_size=3)
    with pytest.raises(ValueError, match="min_count: expected a positive integer, got 0"):
        build_word_vocab(CORPUS, min_count=0)


# ------------------------------------------------------------------------------------------ one_hot
def test_one_hot_of_a_2x3_index_array():
    idx = np.array([[0, 2, 1], [3, 3, 0]])
    out = one_hot(idx, 4)
    expected = np.array([
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]],
        [[0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0]],
    ], dtype=np.float64)
    assert out.shape == (2, 3, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


def test_one_hot_other_shapes_and_dtype():
    np.testing.assert_array_equal(one_hot(2, 3), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(one_hot([1, 0], 2), [[0.0, 1.0], [1.0, 0.0]])
    assert one_hot(np.zeros((4, 2, 3), dtype=np.int32), 5).shape == (4, 2, 3, 5)
    assert one_hot([], 3).shape == (0, 3)
    assert one_hot([1], 2, dtype=np.float32).dtype == np.float32
    # a one-hot row times a weight matrix picks a column: W @ e_k = W[:, k]
    W = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 4) @ W.T, W[:, [2, 0]].T)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"indices: expected ids in \[0, num_classes=4\), got 1 outside \(e.g. 4\)"):
        one_hot([0, 4], 4)
    with pytest.raises(ValueError, match=r"indices: expected ids in \[0, num_classes=4\), got 1 outside \(e.g. -1\)"):
        one_hot([[0, -1]], 4)
    with pytest.raises(ValueError, match="indices: expected an integer index array"):
        one_hot([0.0, 1.0], 4)
    with pytest.raises(ValueError, match="indices: expected an integer index array"):
        one_hot(np.array([True, False]), 2)
    with pytest.raises(ValueError, match="num_classes: expected a positive integer, got 0"):
        one_hot([0], 0)


# ------------------------------------------------------------------------------------------ pad_batch
def test_pad_batch_lengths_3_1_2_by_hand():
    idx, mask, lengths = pad_batch([[5, 6, 7], [8], [9, 4]])
    expected_idx = np.array([
        [5, 8, 9],
        [6, 0, 4],
        [7, 0, 0],
    ])
    expected_mask = np.array([
        [True, True, True],
        [True, False, True],
        [True, False, False],
    ])
    assert idx.shape == (3, 3) and idx.dtype == np.int64
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(idx, expected_idx)
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(lengths, [3, 1, 2])


def test_pad_batch_custom_pad_and_arrays():
    idx, mask, lengths = pad_batch([np.array([1, 2], dtype=np.int32), np.array([3])], pad_id=9)
    np.testing.assert_array_equal(idx, [[1, 3], [2, 9]])
    np.testing.assert_array_equal(mask, [[True, True], [True, False]])
    assert lengths.tolist() == [2, 1]


def test_pad_batch_round_trip_with_vocab():
    v = build_word_vocab(CORPUS)
    sents = ["the cat sat .", "a dog", "ran"]
    idx, mask, lengths = pad_batch([v.encode(s) for s in sents])
    assert idx.shape == (4, 3) and lengths.tolist() == [4, 2, 1]
    for b, s in enumerate(sents):
        assert v.to_text(idx[mask[:, b], b]) == s
        assert (idx[~mask[:, b], b] == v.pad_id).all()


def test_pad_batch_errors():
    with pytest.raises(ValueError, match="sequences: empty batch"):
        pad_batch([])
    with pytest.raises(ValueError, match=r"sequences\[1\]: empty sequence"):
        pad_batch([[1], []])
    with pytest.raises(ValueError, match=r"sequences\[0\]: expected a 1-d array of shape \(T,\), got 2-d"):
        pad_batch([[[1, 2]], [3]])
    with pytest.raises(ValueError, match=r"sequences\[1\]: expected an integer index array"):
        pad_batch([[1], [2.5]])
    with pytest.raises(ValueError, match=r"sequences\[0\]: ids must be >= 0, got -3"):
        pad_batch([[-3]])
    with pytest.raises(ValueError, match="expected a list of 1-d id sequences, got ndarray"):
        pad_batch(np.array([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="pad_id: expected a non-negative integer, got -1"):
        pad_batch([[1]], pad_id=-1)


# ------------------------------------------------------------------------------------------ next_token_batch
def test_next_token_batch_by_hand():
    inputs, targets, mask = next_token_batch([[5, 6, 7], [8]])
    np.testing.assert_array_equal(inputs, [[2, 2], [5, 8], [6, 0], [7, 0]])
    np.testing.assert_array_equal(targets, [[5, 8], [6, 2], [7, 0], [2, 0]])
    np.testing.assert_array_equal(mask, [[True, True], [True, True], [True, False], [True, False]])
    # teacher forcing: x_t = y_{t-1} on every real step after the first
    np.testing.assert_array_equal(inputs[1:][mask[1:]], targets[:-1][mask[1:]])


def test_next_token_batch_custom_ids_and_errors():
    inputs, targets, mask = next_token_batch([[4]], start_id=1, end_id=3, pad_id=0)
    np.testing.assert_array_equal(inputs, [[1], [4]])
    np.testing.assert_array_equal(targets, [[4], [3]])
    with pytest.raises(ValueError, match="start_id: expected a non-negative integer, got None"):
        next_token_batch([[4]], start_id=None)
    with pytest.raises(ValueError, match="sequences: empty batch"):
        next_token_batch([])


# ------------------------------------------------------------------------------------------ load_text
def test_load_text_real_file(tmp_path):
    p = tmp_path / "spell.txt"
    p.write_bytes("Harry Potter and Hermione Granger\r\ninvented a new spell — “Lumos”.\n".encode("utf-8"))
    text = load_text(p)
    assert text == "Harry Potter and Hermione Granger\ninvented a new spell — “Lumos”.\n"
    assert load_text(str(p)) == text
    v = build_char_vocab(text)
    assert v.to_text(v.encode(text)) == text


def test_load_text_bom_and_other_encoding(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfabc")
    assert load_text(p) == "abc"
    q = tmp_path / "latin.txt"
    q.write_bytes("café".encode("latin-1"))
    assert load_text(q, encoding="latin-1") == "café"


def test_load_text_missing_file(tmp_path):
    p = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="no such file: .*nope.txt"):
        load_text(p)


def test_load_text_empty_and_whitespace(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.txt' is empty$"):
        load_text(p)
    q = tmp_path / "blank.txt"
    q.write_text(" \n\n\t")
    with pytest.raises(ValueError, match=r"blank.txt' is empty \(whitespace only\)"):
        load_text(q)


def test_load_text_invalid_utf8_and_directory(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"ok \xff\xfe then")
    with pytest.raises(ValueError, match=r"bad.txt' is not valid utf-8 text \(bad byte 0xff at offset 3\)"):
        load_text(p)
    with pytest.raises(ValueError, match="is a directory"):
        load_text(tmp_path)


def test_one_hot_agrees_with_identity_rows():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, size=(4, 3, 2))
    np.testing.assert_array_equal(one_hot(idx, 7), np.eye(7)[idx])
