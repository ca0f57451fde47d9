"""Paper A's conditions and change table against hand-built references."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from superposition import metrics
from superposition.science import conditions, sae


def _bank(rng):
    neurons = {u: rng.normal(size=(60, 5)) for u in ("a", "b")}
    codes = {(u, "r", rep): rng.normal(size=(60, 8)) for u in ("a", "b") for rep in (0, 1)}
    random_codes = {u: rng.normal(size=(60, 8)) for u in ("a", "b")}
    return neurons, codes, random_codes, conditions.mapping_bank(neurons, codes, random_codes)


def test_score_conditions_scores_each_condition_as_score_pairs_does():
    neurons, codes, random_codes, bank = _bank(np.random.default_rng(0))
    compared = {"neuron→neuron": ("neurons", "neurons"), "random SAE→SAE": ("random", "sae")}
    table = conditions.score_conditions(bank, compared, {"ab": ("a", "b")}, ["ridge", "rsa"], "r", replicate=1, n=40, cell_name="pair")
    assert table.columns[:2].tolist() == ["condition", "metric"] and set(table.pair) == {"ab"} and set(table.replicate) == {1}
    direct = metrics.score_pairs({"random SAE→SAE": (random_codes["a"][:40], codes[("b", "r", 1)][:40])}, ["ridge", "rsa"])
    got = table[table.condition == "random SAE→SAE"].reset_index(drop=True)
    assert np.array_equal(got["mean"].to_numpy(), direct["mean"].to_numpy())
    with pytest.raises(ValueError, match="representation kind must be one of"):
        bank.get("pixels", "a", "r")


def test_change_table_takes_every_replicate_against_the_neuron_baseline():
    rows = [{"metric": "ridge", "cell": 1, "condition": conditions.BEFORE, "replicate": 0, "mean": 0.5}]
    rows += [{"metric": "ridge", "cell": 1, "condition": conditions.AFTER, "replicate": r, "mean": v} for r, v in ((1, 0.4), (0, 0.7), (2, 0.9))]
    table = conditions.change_table(pd.DataFrame(rows), [1], {"ridge": "ridge (r)"})
    row = table.iloc[0]
    assert row.metric == "ridge (r)" and row[conditions.AFTER] == 0.7
    assert row.change == pytest.approx(0.2) and row["smallest change over replicates"] == pytest.approx(-0.1)
    assert row["largest"] == pytest.approx(0.4) and row["replicate spread"] == pytest.approx(0.5)
    assert row["relative change (%)"] == pytest.approx(40.0)
    with pytest.raises(ValueError, match="no SAE→SAE score"):
        conditions.change_table(pd.DataFrame(rows[:1]), [1], {"ridge": "ridge (r)"})


def test_change_table_with_model_pairs_averages_replicates_within_a_pair_and_intervals_over_pairs():
    rows = []
    for pair, before, afters, control in ((0, 0.5, (0.7, 0.9), 0.4), (1, 0.6, (0.6, 0.8), 0.3), (2, 0.4, (0.5, 0.5), 0.5)):
        rows.append({"metric": "ridge", "cell": 8, "condition": conditions.BEFORE, "replicate": 0, "model_pair": pair, "mean": before})
        rows.append({"metric": "ridge", "cell": 8, "condition": "control", "replicate": 0, "model_pair": pair, "mean": control})
        rows += [{"metric": "ridge", "cell": 8, "condition": conditions.AFTER, "replicate": r, "model_pair": pair, "mean": v} for r, v in enumerate(afters)]
    row = conditions.change_table(pd.DataFrame(rows), [8], {"ridge": "ridge (r)"}, control="control").iloc[0]
    per_pair = np.array([0.3, 0.1, 0.1])  # each pair's mean change over its replicates
    assert row["mean change"] == pytest.approx(per_pair.mean())
    half = stats.t.ppf(0.975, 2) * per_pair.std(ddof=1) / np.sqrt(3)
    assert row["interval low"] == pytest.approx(per_pair.mean() - half) and row["interval high"] == pytest.approx(per_pair.mean() + half)
    assert row.change == pytest.approx(0.2) and row["replicate spread"] == pytest.approx(0.4 - 0.0)
    assert row["control change"] == pytest.approx(np.mean([-0.1, -0.3, 0.1]))
    assert "3 model pairs" in row.estimate.over


def test_condition_difference_compares_a_trained_sae_with_its_control_per_pair():
    rows = []
    for pair, trained, random in ((0, (0.7, 0.9), 0.5), (1, (0.4, 0.6), 0.6)):
        rows.append({"metric": "semi_matching", "cell": 8, "condition": "random", "replicate": 0, "model_pair": pair, "mean": random})
        rows += [{"metric": "semi_matching", "cell": 8, "condition": "trained", "replicate": r, "model_pair": pair, "mean": v} for r, v in enumerate(trained)]
    table = conditions.condition_difference(pd.DataFrame(rows), [8], {"semi_matching": "semi"}, "trained", "random")
    assert table.iloc[0].difference == pytest.approx(np.mean([0.3, -0.1]))
    assert table.iloc[0]["interval low"] < -0.1 < 0.3 < table.iloc[0]["interval high"]
    one_pair = conditions.condition_difference(pd.DataFrame(rows[:3]), [8], {"semi_matching": "semi"}, "trained", "random")
    assert one_pair.iloc[0].difference == pytest.approx(0.3) and "2 SAE replicates" in one_pair.iloc[0].estimate.over
    with pytest.raises(ValueError, match="need 'trained' and 'absent'"):
        conditions.condition_difference(pd.DataFrame(rows), [8], {"semi_matching": "semi"}, "trained", "absent")


def test_batched_sae_bank_encodes_each_model_with_its_own_sae():
    hidden = torch.randn(2, 30, 6)
    hidden[0, :, 4:] = 0  # model 0 has width 4
    units = [(4, 0), (6, 0)]
    specs = [(4, 0, 2, 0), (6, 0, 2, 0), (6, 0, 2, 1)]
    config = sae.preset("toy", n_latents=8, k=2)
    saes = sae.init_saes(3, 6, config, 0, "cpu", torch.float32, [4, 6, 6], [2, 2, 2])
    untrained = sae.init_saes(3, 6, config, 1, "cpu", torch.float32, [4, 6, 6], [2, 2, 2])
    bank = conditions.batched_sae_bank(hidden, units, specs, saes, untrained)
    assert torch.equal(bank.neurons((4, 0)), hidden[0, :, :4])
    assert torch.equal(bank.sae((6, 0), 2, 1), sae.encode_in_batches(saes.select([2]), hidden[1:2])[0])
    assert torch.equal(bank.random((6, 0)), sae.encode_in_batches(untrained.select([1]), hidden[1:2])[0])
