"""The pinned environment: pyproject, constraints.txt and environment.yml name the same packages."""

import re
import tomllib

import yaml

from superposition.io import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _constraints(name: str = "constraints.txt") -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in ("book", "test") for d in project["optional-dependencies"][extra]]
    return {_norm(re.split(r"[<>=!~\[ ;]", d)[0]) for d in deps}


def test_constraints_pin_every_package_exactly():
    pins = _constraints()
    assert pins["torch"] == "2.13.0", "torch must stay pinned to the local CPU build"
    assert _pyproject_packages() <= set(pins), "every dependency of pyproject.toml must be pinned"


def test_the_sweep_engine_is_pinned_in_its_own_lock_file():
    """Snakemake and its SLURM executor live in .venv-sweep (Snakemake 9 needs packaging < 26,
    nilearn 0.14 in .venv needs >= 26): constraints-sweep.txt pins every package of it."""
    pins = _constraints("constraints-sweep.txt")
    assert pins["snakemake"].startswith("9.") and "snakemake-executor-plugin-slurm" in pins
    assert int(pins["packaging"].split(".")[0]) < 26 <= int(_constraints()["packaging"].split(".")[0])
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints-sweep.txt" in makefile and "env: $(STAMP) $(MATHJAX) $(SWEEP_STAMP)" in makefile


def test_the_peer_benchmark_is_pinned_in_its_own_lock_file():
    """overcomplete and SAELens live in .venv-bench (SAELens brings opencv-python, wandb and
    transformer-lens): constraints-bench.txt pins every package of it, the project's core at the
    versions of constraints.txt, and leaves out torchvision (PyPI's CUDA build cannot load)."""
    pins, main = _constraints("constraints-bench.txt"), _constraints()
    assert pins["overcomplete"] == "0.3.0" and pins["sae-lens"] == "6.54.12" and pins["torch"] == "2.13.0"
    assert "torchvision" not in pins and "sae-lens" not in main and "overcomplete" not in main
    core = {_norm(re.split(r"[<>=!~\[ ;]", d)[0]) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {k: pins[k] for k in core} == {k: main[k] for k in core}
    makefile = (ROOT / "Makefile").read_text()
    assert "--no-deps -r constraints-bench.txt" in makefile and "benchmark: env bench-env" in makefile


def test_environment_yml_names_the_same_packages_at_the_same_versions():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {}
    for item in pip_section:
        if item.startswith("-"):
            continue
        name, version = item.split("==")
        listed[_norm(name)] = version
    assert set(listed) == _pyproject_packages()
    pins = _constraints()
    assert {k: pins[k] for k in listed} == listed
    assert "-c constraints.txt" in pip_section and "-e ." in pip_section
    assert "python=3.11" in env["dependencies"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make book" in readme
