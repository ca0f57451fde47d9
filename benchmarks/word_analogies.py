"""Benchmark: the Google analogy test on GloVe 6B 50-d, ours against gensim.

gensim's ``KeyedVectors.evaluate_word_analogies(questions-words.txt, restrict_vocab=...)`` is
what a user would otherwise run: it answers the questions one at a time (3CosAdd over the
``restrict_vocab`` most frequent words, excluding the three question words). Ours is
``words.analogy_accuracy(..., method="add")``: the same rule on the same vocabulary, batched as
(questions x words) similarity matrices. The script checks that the two agree on the accuracy
and reports the wall times and their ratio from one run.

Usage::

    python benchmarks/word_analogies.py [--vocabulary 100000] [--device auto|cpu|cuda]

Results go to ``benchmarks/results/word_analogies.json``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from timing import timed, write_report

from superposition.data import words
from superposition.runtime import get_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabulary", type=int, default=100_000)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args()
    device = get_device(args.device)
    load_before = os.getloadavg()
    vectors = words.glove(args.vocabulary)
    questions = words.analogy_questions()

    (correct, kept), ours = timed("ours", lambda: words.analogy_accuracy(vectors, questions, "add", device), device)

    import gensim.models
    import gensim.test.utils

    keyed = gensim.models.KeyedVectors(vector_size=vectors.vectors.shape[1])
    keyed.add_vectors(list(vectors.words), vectors.vectors)
    path = gensim.test.utils.datapath("questions-words.txt")
    (gensim_accuracy, _), gensim_seconds = timed(
        "gensim", lambda: keyed.evaluate_word_analogies(path, restrict_vocab=args.vocabulary, case_insensitive=True), device
    )
    results = {
        "questions_answered": int(kept.sum()),
        "accuracy_ours": round(float(correct.mean()), 5),
        "accuracy_gensim": round(float(gensim_accuracy), 5),
        "seconds_ours": round(ours, 3),
        "seconds_gensim": round(gensim_seconds, 3),
        "speed_ratio_gensim_over_ours": round(gensim_seconds / ours, 1),
    }
    write_report(
        Path(__file__).parent / "results" / "word_analogies.json",
        {"vocabulary": args.vocabulary, "device": args.device, "rule": "3CosAdd, question words excluded"},
        device,
        load_before,
        ("torch", "numpy", "gensim"),
        results,
    )
    for key, value in results.items():
        print(f"{key:32s} {value}")


if __name__ == "__main__":
    main()
