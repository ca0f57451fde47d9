"""The other-kernel-path check: the forcing variables reach torch and numpy, and the exact numbers
of the chapters that train nothing agree across kernel paths to the float32 rule."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from superposition.book import kernel_check, pipeline
from superposition.book.registry import Entry
from superposition.book.tolerances import EXACT_ATOL, EXACT_RTOL

NATIVE = torch.backends.cpu.get_cpu_capability()


def test_other_kernel_path_forces_a_different_capability():
    assert kernel_check.other_kernel_path("AVX512", {"X86_V4": True})["NPY_DISABLE_CPU_FEATURES"] == "X86_V4"
    assert kernel_check.other_kernel_path("AVX512")["ATEN_CPU_CAPABILITY"] == "avx2"
    assert kernel_check.other_kernel_path("AVX2")["ATEN_CPU_CAPABILITY"] == "default"
    env = os.environ | kernel_check.other_kernel_path(NATIVE)
    probe = (
        "import torch; from numpy._core._multiarray_umath import __cpu_features__ as f; "
        "print(torch.backends.cpu.get_cpu_capability(), f.get('X86_V4'))"
    )
    shown, numpy_avx512 = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown != NATIVE and shown == ("AVX2" if NATIVE == "AVX512" else "DEFAULT")
    assert numpy_avx512 in ("False", "None")


def test_tolerance_ratio_and_summary():
    entry = Entry("k", "nb", "trained", [1.0, 2.0], [0.1, 0.2], 0.0, None, [0.01, 0.02], 8)
    assert kernel_check.tolerance_ratio([1.05, 2.0], entry) == pytest.approx(0.5)
    assert kernel_check.tolerance_ratio("x", Entry("w", "nb", "exact", "x", 0.0, 0.0, None)) is None
    assert kernel_check.tolerance_ratio(3.0, Entry("r", "nb", "exact", 2.0, 0.0, 0.1, None)) == pytest.approx(5.0)


def _numbers(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", ["compressed_sensing", "additivity"])
@pytest.mark.notebook
def test_exact_chapters_agree_across_kernel_paths(tmp_path, name):
    """Both chapters train nothing: on the other kernel path every number of their smoke profile
    equals the native one to the exact rule (strings, booleans and integers exactly; the smoke
    profiles are small enough that no discrete outcome sits on a near-tie)."""
    native = json.loads(pipeline.execute(name, "smoke", output_dir=tmp_path / "native").read_text())
    other = json.loads(
        pipeline.execute(name, "smoke", output_dir=tmp_path / "other", env=kernel_check.other_kernel_path(NATIVE)).read_text()
    )
    assert other["provenance"]["cpu"]["capability"] != native["provenance"]["cpu"]["capability"]
    differences = []
    for key, item in native["results"].items():
        for a, b in zip(_numbers(item["value"]), _numbers(other["results"][key]["value"]), strict=True):
            if isinstance(a, float) and isinstance(b, float):
                same = math.isclose(a, b, rel_tol=EXACT_RTOL, abs_tol=EXACT_ATOL)
            else:
                same = a == b
            if not same:
                differences.append(f"{key}: {a!r} vs {b!r}")
    assert not differences, differences
