"""The batched analogy solver against a plain loop and against gensim, and the shipped data."""

from __future__ import annotations

import numpy as np
import pytest

from superposition.data import words


def _reference_answer(e: np.ndarray, a: int, b: int, c: int, method: str) -> int:
    best, answer = -np.inf, -1
    for w in range(len(e)):
        if w in (a, b, c):
            continue
        if method == "add":
            t = e[b] - e[a] + e[c]
            score = e[w] @ t / np.linalg.norm(t)
        elif method == "mul":
            s = lambda u: (e[w] @ e[u] + 1) / 2  # noqa: E731
            score = s(b) * s(c) / (s(a) + 1e-3)
        else:
            score = e[w] @ e[c]
        if score > best:
            best, answer = score, w
    return answer


@pytest.mark.parametrize("method", words.ANALOGY_METHODS)
def test_batched_solver_matches_a_plain_loop(method):
    rng = np.random.default_rng(0)
    e = rng.normal(size=(60, 8))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    queries = rng.integers(0, 60, size=(25, 3))
    queries = queries[[len(set(q)) == 3 for q in queries.tolist()]]
    fast = words.solve_analogies(e, queries, method, batch_size=7)
    np.testing.assert_array_equal(fast, [_reference_answer(e, *q, method) for q in queries.tolist()])


def test_bad_method_and_shapes_are_rejected():
    with pytest.raises(ValueError, match="method must be one of"):
        words.solve_analogies(np.eye(4), np.array([[0, 1, 2]]), "subtract")
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        words.solve_analogies(np.eye(4), np.array([[0, 1]]))


def test_glove_and_the_analogy_set_ship_with_the_environment():
    vectors = words.glove(1000)
    assert vectors.vectors.shape == (1000, 50)
    assert vectors.words[0] == "the"
    np.testing.assert_allclose(vectors.vectors[0, :3], [0.418, 0.24968, -0.41242], atol=1e-6)
    questions = words.analogy_questions()
    assert questions.words.shape == (19544, 4)
    assert len(set(questions.sections)) == 14
    assert questions.semantic().sum() == 8869
    with pytest.raises(ValueError, match="n_words must lie"):
        words.glove(0)


def test_classic_analogies_and_agreement_with_gensim():
    gensim_models = pytest.importorskip("gensim.models")
    vectors = words.glove(20000)
    questions = words.analogy_questions()
    correct, kept = words.analogy_accuracy(vectors, questions, "add")
    index = vectors.index()
    indices, _ = words.encode_questions(questions, index)
    chosen = np.random.default_rng(0).choice(len(indices), size=40, replace=False)
    kv = gensim_models.KeyedVectors(vector_size=50)
    kv.add_vectors(list(vectors.words), vectors.vectors)
    for k in chosen:
        a, b, c, _ = (vectors.words[i] for i in indices[k])
        expected = kv.most_similar(positive=[b, c], negative=[a], topn=1)[0][0]
        assert vectors.words[words.solve_analogies(vectors.unit(), indices[k : k + 1, :3])[0]] == expected
    unit = vectors.unit()
    king = unit[index["king"]] - unit[index["man"]] + unit[index["woman"]]
    assert words.nearest_words(vectors, king, 1, ("king", "man", "woman")) == ["queen"]


def test_malformed_question_files_name_the_line(tmp_path):
    bad = tmp_path / "q.txt"
    bad.write_text(": family\nboy girl brother sister\nman woman king\n")
    with pytest.raises(ValueError, match=r"q.txt, line 3: expected four words"):
        words.analogy_questions(bad)
