"""The batched solver against the plain per-problem reference: exact basis pursuit by linprog."""

import numpy as np
import pytest
import torch

from superposition.runtime import make_generator
from superposition.science import basis_pursuit


def random_problems(n=60, m=30, ks=(3, 8, 12, 18), trials=3, nonnegative=False, seed=0):
    gen = make_generator(seed, 1)
    a = basis_pursuit.gaussian_matrices(m, n, trials, gen)
    x0 = basis_pursuit.sample_sparse_codes(n, torch.tensor(ks), trials, nonnegative, gen)
    return a, x0


@pytest.mark.parametrize("nonnegative", [False, True])
def test_admm_matches_linprog_solutions(nonnegative):
    a, x0 = random_problems(nonnegative=nonnegative)
    y = a @ x0
    result = basis_pursuit.basis_pursuit_admm(a, y, nonnegative=nonnegative, max_iter=20_000, tol=1e-9)
    assert result.converged.float().mean() >= 0.7  # the rest are slow, degenerate failures
    for t in range(a.shape[0]):
        for p in range(y.shape[2]):
            if not bool(result.converged[t, p]):
                continue
            ref = basis_pursuit.basis_pursuit_reference(a[t].numpy(), y[t, :, p].numpy(), nonnegative)
            got = result.x[t, :, p].numpy()
            assert np.abs(got).sum() == pytest.approx(np.abs(ref).sum(), rel=1e-6)
            np.testing.assert_allclose(got, ref, atol=1e-5 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("nonnegative", [False, True])
def test_verdicts_agree_with_linprog(nonnegative):
    a, x0 = random_problems(n=80, m=40, ks=tuple(range(2, 40, 3)), trials=4, nonnegative=nonnegative, seed=3)
    verdict = basis_pursuit.recovery_verdicts(a, x0, nonnegative=nonnegative, max_iter=3000)
    agree = total = 0
    for t in range(a.shape[0]):
        for p in range(x0.shape[2]):
            ref = basis_pursuit.basis_pursuit_reference(a[t].numpy(), (a[t] @ x0[t, :, p]).numpy(), nonnegative)
            ref_ok = np.linalg.norm(ref - x0[t, :, p].numpy()) / np.linalg.norm(x0[t, :, p].numpy()) < 1e-3
            agree += ref_ok == bool(verdict.recovered[t, p])
            total += 1
    assert agree / total >= 0.97, f"{agree}/{total} verdicts agree"


def test_certified_failures_are_failures():
    """Problems declared failed early (a feasible point beats the true code) fail for linprog too."""
    a, x0 = random_problems(n=60, m=20, ks=(12, 15, 18, 20), trials=3, seed=5)
    verdict = basis_pursuit.recovery_verdicts(a, x0, max_iter=500)
    assert bool(verdict.decided.any())
    for t in range(a.shape[0]):
        for p in range(x0.shape[2]):
            if bool(verdict.decided[t, p]) and not bool(verdict.recovered[t, p]):
                ref = basis_pursuit.basis_pursuit_reference(a[t].numpy(), (a[t] @ x0[t, :, p]).numpy())
                assert np.linalg.norm(ref - x0[t, :, p].numpy()) > 1e-3 * np.linalg.norm(x0[t, :, p].numpy())


def test_sample_sparse_codes_have_the_asked_support_sizes():
    gen = torch.Generator().manual_seed(0)
    ks = torch.tensor([1, 5, 17])
    x = basis_pursuit.sample_sparse_codes(50, ks, 7, nonnegative=True, generator=gen)
    assert x.shape == (7, 50, 3)
    np.testing.assert_array_equal((x != 0).sum(dim=1).numpy(), np.broadcast_to(ks.numpy(), (7, 3)))
    assert bool((x >= 0).all())


def test_phase_diagram_is_deterministic_and_shaped():
    kwargs = dict(n_features=30, deltas=[0.3, 0.6], rhos=[0.2, 0.5, 0.9], n_trials=3, nonnegative=False, seed=7, max_iter=300)
    a = basis_pursuit.phase_diagram(**kwargs)
    b = basis_pursuit.phase_diagram(**kwargs)
    assert a.success.shape == (2, 3, 3)
    np.testing.assert_array_equal(a.success, b.success)
    np.testing.assert_array_equal(a.error, b.error)
    np.testing.assert_allclose(a.deltas, [9 / 30, 18 / 30])


def test_fit_transition_recovers_a_known_logistic_boundary():
    rng = np.random.default_rng(0)
    rhos = np.tile(np.linspace(0.02, 1, 40), (3, 1))
    true = np.array([0.3, 0.5, 0.7])
    p = 1 / (1 + np.exp(-(true[:, None] - rhos) / 0.03))
    success = rng.random((3, 40, 200)) < p[:, :, None]
    np.testing.assert_allclose(basis_pursuit.fit_transition(rhos, success), true, atol=0.01)


def test_fit_transition_edge_cases():
    rhos = np.tile(np.linspace(0.1, 1, 10), (3, 1))
    success = np.zeros((3, 10, 4), dtype=bool)
    success[1, :3] = True  # clean step between 0.3 and 0.4
    success[2] = True  # never fails
    boundary = basis_pursuit.fit_transition(rhos, success)
    assert np.isnan(boundary[0]) and np.isnan(boundary[2])
    assert boundary[1] == pytest.approx(0.35)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="M <= N"):
        basis_pursuit.basis_pursuit_admm(torch.randn(1, 5, 3, dtype=torch.float64), torch.randn(1, 5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="relaxation"):
        basis_pursuit.basis_pursuit_admm(torch.randn(1, 3, 5, dtype=torch.float64), torch.randn(1, 3, 2, dtype=torch.float64), relaxation=2.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_gives_the_same_verdicts_as_cpu():
    kwargs = dict(n_features=40, deltas=[0.3, 0.7], rhos=[0.1, 0.4, 0.8], n_trials=4, nonnegative=False, seed=1, max_iter=2000)
    cpu = basis_pursuit.phase_diagram(**kwargs, device="cpu")
    gpu = basis_pursuit.phase_diagram(**kwargs, device="cuda")
    assert (cpu.success == gpu.success).mean() >= 0.95


@pytest.mark.parametrize("nonnegative", [False, True])
def test_certified_verdicts_are_exact(nonnegative):
    """Every verdict settled by a certificate (not by convergence) matches linprog's."""
    a, x0 = random_problems(n=80, m=50, ks=tuple(range(5, 50, 4)), trials=3, nonnegative=nonnegative, seed=11)
    verdict = basis_pursuit.recovery_verdicts(a.float(), x0.float(), nonnegative=nonnegative, max_iter=400)
    assert verdict.certified.float().mean() >= 0.5
    for t in range(a.shape[0]):
        for p in range(x0.shape[2]):
            if not bool(verdict.certified[t, p]):
                continue
            ref = basis_pursuit.basis_pursuit_reference(a[t].numpy(), (a[t] @ x0[t, :, p]).numpy(), nonnegative)
            ref_ok = np.linalg.norm(ref - x0[t, :, p].numpy()) < 1e-3 * np.linalg.norm(x0[t, :, p].numpy())
            assert ref_ok == bool(verdict.recovered[t, p]), (t, p)


def _synthetic_diagram(n_features: int, offset: float, n_trials: int = 30, seed: int = 0) -> basis_pursuit.PhaseDiagram:
    """A nonnegative diagram whose success steps at ``offset`` above the exact boundary in every row (a few random flips)."""
    from superposition.science import theory

    rng = np.random.default_rng(seed)
    deltas = np.array([0.2, 0.5])
    boundary = theory.l1_phase_transition(deltas, signed=False)[:, None, None] + offset
    rhos = np.tile(np.linspace(0.05, 0.95, 19), (2, 1))
    success = (rhos[:, :, None] < boundary) ^ (rng.random((2, 19, n_trials)) < 0.02)
    return basis_pursuit.PhaseDiagram(deltas, rhos, success, np.zeros(success.shape), np.ones(success.shape, bool), n_features, True, 1e-3)


def test_gap_scaling_orders_by_n_and_reads_the_gap_change_against_plain_arithmetic():
    from superposition.science import theory

    diagrams = [_synthetic_diagram(400, 0.02, seed=1), _synthetic_diagram(100, 0.12, seed=2), _synthetic_diagram(200, 0.07, seed=3)]
    scaling = basis_pursuit.gap_scaling(diagrams, n_boot=200, seed=0)
    assert scaling.sizes.tolist() == [100, 200, 400]
    for n, gap, draws in zip(scaling.sizes, scaling.gaps, scaling.draws):
        d = next(d for d in diagrams if d.n_features == n)
        exact = theory.l1_phase_transition(d.deltas, signed=False)
        assert gap == pytest.approx(np.nanmax(np.abs(basis_pursuit.fit_transition(d.rhos, d.success) - exact)))
        assert draws.shape == (200,)
    change = scaling.change()
    assert change.value == pytest.approx(scaling.gaps[-1] - scaling.gaps[0]) and change.high < 0, "a boundary that moves onto the curve shrinks"
    scaled = scaling.scaled_gap_max()
    assert scaled.value == pytest.approx(np.max(scaling.gaps * np.sqrt([100, 200, 400])))
    assert scaled.low <= scaled.value <= scaled.high
    assert scaling.slope() < 0
    with pytest.raises(ValueError, match="signed"):
        basis_pursuit.gap_scaling([diagrams[0], basis_pursuit.PhaseDiagram(**{**diagrams[1].__dict__, "nonnegative": False})])
    # a boundary stuck off the curve does not shrink
    stuck = basis_pursuit.gap_scaling([_synthetic_diagram(n, 0.1, seed=n) for n in (100, 400)], n_boot=200)
    assert stuck.change().low <= 0 <= stuck.change().high and abs(stuck.change().value) < 0.02
