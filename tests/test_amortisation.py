"""The synthetic phase-diagram problems, batched dictionary inference against the single-problem
reference solver, and recovery scores on answers that are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superposition.science import amortisation, basis_pursuit


def test_grid_problems_have_the_asked_sizes_and_mix_exactly():
    p = amortisation.grid_problems(30, [0.4, 0.8], [0.1, 0.5], n_train=300, n_eval=50, seed=1, n_replicates=2)
    assert p.cells.shape == (8, 2) and p.replicate.tolist() == [0, 1] * 4
    assert p.m.tolist() == [12, 12, 12, 12, 24, 24, 24, 24] and p.k.tolist() == [1, 1, 6, 6, 2, 2, 12, 12]
    assert p.x_train.shape == (8, 300, 24) and p.codes_eval.shape == (8, 50, 30)
    for c in range(8):
        assert (p.dictionaries[c, p.m[c] :] == 0).all() and (p.x_train[c, :, p.m[c] :] == 0).all()
        np.testing.assert_allclose(torch.linalg.vector_norm(p.dictionaries[c, : p.m[c]], dim=0), 1.0, atol=1e-6)
    torch.testing.assert_close(p.x_eval, p.codes_eval @ p.dictionaries.transpose(1, 2))
    assert not torch.equal(p.dictionaries[0], p.dictionaries[1]), "replicates draw their own problems"
    active = (p.codes_train[2] > 0).float().mean().item()
    assert active == pytest.approx(6 / 30, abs=0.02)
    assert (p.codes_train >= 0).all()
    np.testing.assert_allclose(p.cell_means(np.arange(8.0)), [0.5, 2.5, 4.5, 6.5])
    with pytest.raises(ValueError, match=r"deltas and rhos must lie in \(0, 1\]"):
        amortisation.grid_problems(30, [1.5], [0.1], 10, 10)


def test_batched_dictionary_inference_matches_the_reference_solver():
    p = amortisation.grid_problems(40, [0.5, 0.75], [0.1], n_train=10, n_eval=60, seed=0)
    codes = amortisation.dictionary_inference(p.dictionaries, p.m, p.x_eval, max_iter=5000, tol=1e-9)
    for c in range(2):
        a = p.dictionaries[c, : p.m[c]].double().numpy()
        for s in range(3):
            reference = basis_pursuit.basis_pursuit_reference(a, p.x_eval[c, s, : p.m[c]].double().numpy(), nonnegative=True)
            np.testing.assert_allclose(codes[c, s].numpy(), reference, atol=2e-3)
    # far below the l1 transition, basis pursuit recovers the true codes
    mcc, best = amortisation.score_cells(p.codes_eval, codes)
    assert mcc.min() > 0.97 and best.min() > 0.97


def test_learned_dictionaries_are_unit_norm_within_each_width_and_scores_handle_silence():
    w_dec = torch.randn(2, 5, 6)
    d = amortisation.learned_dictionaries(w_dec, np.array([3, 6]))
    assert d.shape == (2, 6, 5) and (d[0, 3:] == 0).all()
    np.testing.assert_allclose(torch.linalg.vector_norm(d, dim=1), 1.0, atol=1e-6)
    truth = torch.rand(2, 40, 4)
    silent = torch.zeros(2, 40, 3)
    mcc, best = amortisation.score_cells(truth, torch.cat([truth[:1], silent[:1, :, :]], dim=2)[:, :, :4].expand(2, -1, -1) * torch.tensor([1.0, 0.0])[:, None, None])
    assert mcc[0] == pytest.approx(1.0) and mcc[1] == 0 and best[1] == 0
