"""One call opens a chapter: the shared parameters' rules, validation before anything runs."""

import pytest
import torch

from superposition.book.chapter import open_chapter, shared_rule
from superposition.book.params import ParameterError, integer, integer_list, read_parameters
from superposition.io import notebook_path

RULES = {"n_features": integer(20, 20_000), "n_delta": integer(2, 200), "n_rho": integer(2, 200), "n_trials": integer(1, 10_000), "max_iter": integer(10, 1_000_000), "n_boot": integer(50, 100_000),
         "scaling_sizes": integer_list(20, 20_000)}  # fmt: skip


def _defaults(name: str) -> dict:
    return {p.name: p.default for p in read_parameters(notebook_path(name))}


def test_shared_parameters_need_no_rule_and_the_rest_do():
    assert shared_rule("data_seed") is not None and shared_rule("device") is not None and shared_rule("n_trials") is None
    with pytest.raises(ParameterError, match="no rule for"):
        open_chapter("compressed_sensing", _defaults("compressed_sensing"), {})


def test_bad_shared_values_are_refused_naming_the_parameter():
    namespace = {**_defaults("compressed_sensing"), "device": "tpu"}
    with pytest.raises(ParameterError, match="device"):
        open_chapter("compressed_sensing", namespace, RULES)
    with pytest.raises(ParameterError, match="seed"):
        open_chapter("compressed_sensing", {**_defaults("compressed_sensing"), "seed": -1}, RULES)
    with pytest.raises(ValueError, match="seed must name"):
        open_chapter("compressed_sensing", _defaults("compressed_sensing"), RULES, seed="n_trials")


def test_an_opened_chapter_is_seeded_on_the_cpu():
    chapter = open_chapter("compressed_sensing", _defaults("compressed_sensing"), RULES)
    first = torch.rand(3)
    open_chapter("compressed_sensing", _defaults("compressed_sensing"), RULES)
    assert torch.equal(first, torch.rand(3)) and chapter.device.type == "cpu"
    assert list(chapter.params) == [p.name for p in read_parameters(notebook_path("compressed_sensing"))]
