"""A run whose parameters are each in range but whose product of sizes exceeds the machine's
memory is refused before any kernel starts, naming the parameters that drive it."""

from __future__ import annotations

import pytest

from superposition.book import memory, pipeline
from superposition.book.params import ParameterError, read_parameters
from superposition.io import notebook_path


def _parameters(name, profile="default", **overrides):
    return {p.name: p.default for p in read_parameters(notebook_path(name))} | pipeline.resolve_parameters(name, profile, overrides)


def test_a_product_of_sizes_in_range_is_refused_by_name_before_any_kernel_starts(monkeypatch, tmp_path):
    import papermill

    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    with pytest.raises(ParameterError, match=r"parameters n_features = 20000, scaling_sizes = '100,200,400', n_trials = 10000 need about [0-9,.]+ GiB of memory at peak .* GiB available"):
        pipeline.execute("compressed_sensing", "default", {"n_features": 20000, "n_trials": 10000}, output_dir=tmp_path)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name", sorted(memory.ESTIMATES))
def test_defaults_and_smoke_profiles_fit_a_small_machine(name):
    for profile in ("default", "smoke"):
        estimate = memory.check_memory(name, _parameters(name, profile), available=4 * 2**30)
        assert estimate is not None and estimate.bytes < 2**30 and estimate.drivers


def test_the_estimate_grows_with_its_drivers():
    small = memory.check_memory("toy_alignment", _parameters("toy_alignment"), available=2**40)
    large = memory.check_memory("toy_alignment", _parameters("toy_alignment", n_eval_batches=3200), available=2**40)
    assert large.bytes == pytest.approx(100 * small.bytes)
    assert memory.check_memory("identifiability", _parameters("identifiability")) is None
