"""SAEs on many layers at once against one call per width, and conditions over SAE replicates."""

import numpy as np
import pytest

from superposition import metrics
from superposition.science import conditions, layer_saes, sae


def _layers(rng):
    """Three layers, two of width 6 and one of width 4: (train (80, w), eval (50, w)) each."""
    widths = {("net a", "x"): 6, ("net b", "x"): 4, ("net b", "y"): 6}
    train = {k: np.maximum(rng.normal(size=(80, w)), 0).astype(np.float32) for k, w in widths.items()}
    evaluate = {k: np.maximum(rng.normal(size=(50, w)), 0).astype(np.float32) for k, w in widths.items()}
    return train, evaluate


def test_fit_layers_trains_each_width_together_as_one_fit_and_encode_does():
    train, evaluate = _layers(np.random.default_rng(0))
    fits = layer_saes.fit_layers(train, evaluate, "authors", 2, 0.25, 4e-4, 2, 3, 16, seed=7)
    assert set(fits.codes) == {(k, r) for k in train for r in (0, 1)} and set(fits.random_codes) == set(train)
    six = [("net a", "x"), ("net b", "y")]  # width 6: slots (unit, replicate), replicates outermost
    cfg = sae.recipe("authors", sae.layer_config(6, 2, 0.25, lr=4e-4))
    direct = sae.fit_and_encode([train[k] for k in six * 2], [evaluate[k] for k in six * 2], cfg, 3, 16, seed=7 + 6000)
    for j, (k, r) in enumerate([(k, r) for r in (0, 1) for k in six]):
        np.testing.assert_array_equal(fits.codes[(k, r)], direct.codes[j])
    np.testing.assert_array_equal(fits.random_codes[six[1]], direct.random_codes[1])
    rows = {(row["unit"], row["replicate"]): row for row in fits.rows}
    assert [row["units"] for row in fits.rows] == [4, 4, 6, 6, 6, 6]  # widths in increasing order
    assert rows[(six[0], 1)]["latents"] == 12 and rows[(six[0], 1)]["k"] == 3
    assert rows[(six[0], 1)]["kept latents"] == int(metrics.kept_units(fits.codes[(six[0], 1)]).sum())
    assert rows[(six[0], 1)]["FVU"] == pytest.approx(float(direct.quality.fvu[2]))
    steps, dead = fits.dead[(six[1], 0)]
    np.testing.assert_array_equal(dead, direct.history.dead[:, 1])
    with pytest.raises(ValueError, match="the same units"):
        layer_saes.fit_layers(train, {k: v for k, v in evaluate.items() if k != six[0]}, "authors", 2, 0.25, 4e-4, 1, 1, 16)


def test_score_replicates_scores_the_first_conditions_once_and_the_later_ones_per_replicate():
    rng = np.random.default_rng(1)
    neurons = {u: rng.normal(size=(60, 5)) for u in ("a", "b")}
    codes = {(u, "r", rep): rng.normal(size=(60, 8)) for u in ("a", "b") for rep in (0, 1, 2)}
    bank = conditions.mapping_bank(neurons, codes, {u: rng.normal(size=(60, 8)) for u in ("a", "b")})
    first = {"neuron→neuron": ("neurons", "neurons"), "SAE→SAE": ("sae", "sae"), "random SAE→SAE": ("random", "sae")}
    table = layer_saes.score_replicates(bank, first, {"SAE→SAE": ("sae", "sae")}, {"ab": ("a", "b")}, ["ridge"], "r", 3, cell_name="pair")
    assert sorted(zip(table.condition, table.replicate)) == sorted([*((c, 0) for c in first), ("SAE→SAE", 1), ("SAE→SAE", 2)])
    second = table[(table.condition == "SAE→SAE") & (table.replicate == 2)]["mean"].item()
    assert second == metrics.ridge_predictivity(codes[("a", "r", 2)], codes[("b", "r", 2)]).mean
    changes = conditions.change_table(table, ["ab"], {"ridge": "ridge"}, cell_name="pair", control="random SAE→SAE")
    assert "3 SAE replicates" in changes.estimate.iloc[0].over
