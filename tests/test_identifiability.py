"""Paper B's synthetic setting: samplers against known moments, fast paths against plain references."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import ive
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from superposition.runtime import make_generator
from superposition.science import identifiability as idf


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These tensors are tiny: one thread is faster than OpenMP's hand-offs, most of all on shared cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def mean_resultant_length(d: int, kappa: float) -> float:
    """``A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa)``: E[mu . z] under vMF(mu, kappa) on S^(d-1)."""
    return float(ive(d / 2, kappa) / ive(d / 2 - 1, kappa))


@pytest.mark.parametrize("d, kappa", [(2, 1.0), (3, 10.0), (5, 0.5), (10, 50.0), (20, 5.0)])
def test_vmf_mean_resultant_length_and_direction(d, kappa):
    g = make_generator(0, d)
    mu = idf.uniform_sphere(1, d, g, dtype=torch.float64).expand(40_000, -1)
    z = idf.sample_vmf(mu, kappa, g)
    assert z.shape == (40_000, d) and z.dtype == torch.float64
    np.testing.assert_allclose(torch.linalg.vector_norm(z, dim=-1).numpy(), 1.0, atol=1e-12)
    w = (z * mu).sum(dim=-1)
    se = float(w.std()) / np.sqrt(len(w))
    assert abs(float(w.mean()) - mean_resultant_length(d, kappa)) < 5 * se
    # the mean direction is mu: the component of the mean orthogonal to mu vanishes
    mean = z.mean(dim=0)
    orthogonal = mean - (mean @ mu[0]) * mu[0]
    assert float(torch.linalg.vector_norm(orthogonal)) < 5 * np.sqrt(d / len(w))


def test_vmf_per_row_means_seeds_and_concentration():
    g = make_generator(1)
    mu = idf.cluster_centres(3, 4, g)
    labels = torch.arange(3).repeat(5000)
    z = idf.sample_latents(mu, labels, 20.0, make_generator(2))
    for c in range(3):
        assert float((z[labels == c] @ mu[c]).mean()) == pytest.approx(mean_resultant_length(4, 20.0), abs=0.01)
    assert torch.equal(z, idf.sample_latents(mu, labels, 20.0, make_generator(2)))
    assert not torch.equal(z, idf.sample_latents(mu, labels, 20.0, make_generator(3)))
    tight = idf.sample_latents(mu, labels, 1e5, make_generator(2))
    assert float((tight - mu[labels]).norm(dim=-1).max()) < 0.05
    uniform = idf.sample_latents(mu, labels, 0.0, make_generator(2))
    assert abs(float((uniform * mu[labels]).sum(dim=-1).mean())) < 0.03


def test_uniform_sphere_and_centre_kinds():
    z = idf.uniform_sphere(50_000, 6, make_generator(0))
    np.testing.assert_allclose(torch.linalg.vector_norm(z, dim=-1).numpy(), 1.0, atol=1e-6)
    assert float(z.mean(dim=0).abs().max()) < 0.02
    np.testing.assert_allclose((z.double().T @ z.double() / len(z)).numpy(), np.eye(6) / 6, atol=0.01)
    for kind in ("laplace", "normal"):
        centres = idf.cluster_centres(2000, 5, make_generator(1), kind=kind)
        np.testing.assert_allclose(torch.linalg.vector_norm(centres, dim=-1).numpy(), 1.0, atol=1e-6)
        assert float(centres[:, 0].mean()) > 0.3  # concentrated around e_1
        assert float(centres[:, 1:].mean(dim=0).abs().max()) < 0.05


@pytest.mark.parametrize("kind", ["laplace", "normal"])
def test_non_vmf_conditionals_are_projected_noise_around_the_centre(kind):
    centres = idf.cluster_centres(4, 5, make_generator(0))
    labels = torch.arange(4).repeat(3000)
    z = idf.sample_latents(centres, labels, 10.0, make_generator(1), kind=kind)  # csi scale: 10 / 10 = 1
    np.testing.assert_allclose(torch.linalg.vector_norm(z, dim=-1).numpy(), 1.0, atol=1e-6)
    # reference: the same noise drawn by hand from the same stream
    g = make_generator(1)
    if kind == "laplace":
        e = torch.empty((2, 12_000, 5), dtype=torch.float64).exponential_(generator=g)
        noise = e[0] - e[1]
    else:
        noise = torch.randn((12_000, 5), generator=g, dtype=torch.float64)
    expected = centres.double()[labels] + noise
    np.testing.assert_allclose(z.numpy(), (expected / expected.norm(dim=-1, keepdim=True)).numpy(), atol=1e-6)
    wide = idf.sample_latents(centres, labels, 10.0, make_generator(1), kind=kind, scale=5.0)
    assert float((wide * centres[labels]).sum(-1).mean()) < float((z * centres[labels]).sum(-1).mean())


def test_sample_dataset_labels_are_uniform():
    centres = idf.cluster_centres(10, 3, make_generator(0))
    z, labels = idf.sample_dataset(20_000, centres, 5.0, make_generator(1))
    assert z.shape == (20_000, 3) and labels.shape == (20_000,)
    counts = torch.bincount(labels, minlength=10).numpy()
    assert counts.min() > 1800 and counts.max() < 2200


@pytest.mark.parametrize("d", [2, 5, 20])
def test_generator_is_invertible_and_well_conditioned(d):
    mixing = idf.invertible_mlp(d, make_generator(0, d))
    assert mixing.weights.shape == (4, d, d)
    assert mixing.pool_size == min(25_000, idf.MAX_POOL_ENTRIES // (d * d))
    np.testing.assert_allclose(torch.linalg.vector_norm(mixing.weights.double(), dim=-2).numpy(), 1.0, atol=1e-6)
    cond = torch.linalg.cond(mixing.weights.double())
    np.testing.assert_allclose(cond.numpy(), mixing.condition_numbers.numpy(), rtol=1e-5)
    assert bool((mixing.condition_numbers <= mixing.threshold).all())
    z = idf.uniform_sphere(2000, d, make_generator(1), dtype=torch.float64)
    x = mixing(z)
    np.testing.assert_allclose(mixing.inverse(x).numpy(), z.numpy(), atol=1e-10)
    if d == 5:
        z32 = z.float()
        assert float((mixing.inverse(mixing(z32)) - z32).abs().max()) < 1e-5
    # the plain reference: torch layers
    layers = []
    for i in range(4):
        linear = torch.nn.Linear(d, d, bias=False, dtype=torch.float64)
        linear.weight.data = mixing.weights[i].double()
        layers += [linear, torch.nn.LeakyReLU(0.2)] if i < 3 else [linear]
    with torch.no_grad():
        np.testing.assert_allclose(x.numpy(), torch.nn.Sequential(*layers)(z).numpy(), atol=1e-12)
    assert 0.0 < idf.mixing_linear_r2(mixing, z) < 1.0


def test_generator_quantile_threshold_keeps_pool_order():
    mixing = idf.invertible_mlp(4, make_generator(3), pool_size=2000, quantile=0.1)
    assert mixing.pool_size == 2000
    g = make_generator(3)
    pool = 2 * torch.rand((2000, 4, 4), generator=g, dtype=torch.float64) - 1
    pool = pool / pool.norm(dim=-2, keepdim=True)
    cond = torch.linalg.cond(pool)
    threshold = float(torch.sort(cond).values[200])
    first = [i for i in range(2000) if float(cond[i]) <= threshold][:4]
    assert mixing.threshold == pytest.approx(threshold)
    np.testing.assert_allclose(mixing.weights.numpy(), pool[first].float().numpy())


def test_bayes_cross_entropy_matches_a_loop_and_beats_a_perturbed_classifier():
    centres = idf.cluster_centres(7, 4, make_generator(0))
    z, labels = idf.sample_dataset(500, centres, 8.0, make_generator(1))
    total = 0.0
    for zi, ci in zip(z.double(), labels):
        scores = [8.0 * float(zi @ v.double()) for v in centres]
        top = max(scores)
        total += -(scores[int(ci)] - top - np.log(sum(np.exp(s - top) for s in scores)))
    bayes = idf.bayes_cross_entropy(z, labels, centres, 8.0)
    assert bayes == pytest.approx(total / len(z), rel=1e-10)
    fresh_z, fresh_labels = idf.sample_dataset(20_000, centres, 8.0, make_generator(2))
    optimum = idf.bayes_cross_entropy(fresh_z, fresh_labels, centres, 8.0)
    for perturbation in range(3):
        w = 8.0 * centres.double() + 0.5 * torch.randn(centres.shape, generator=make_generator(3, perturbation), dtype=torch.float64)
        assert optimum < float(F.cross_entropy(fresh_z.double() @ w.T, fresh_labels))
    for kappa in (4.0, 16.0):  # the posterior's temperature is kappa itself
        assert optimum < idf.bayes_cross_entropy(fresh_z, fresh_labels, centres, kappa)
    with pytest.raises(ValueError, match="kind"):
        idf.bayes_cross_entropy(z, labels, centres, 8.0, kind="laplace")


def sklearn_r2(xtr, ytr, xte, yte):
    return r2_score(yte, LinearRegression().fit(xtr, ytr).predict(xte), multioutput="uniform_average")


@pytest.mark.parametrize("p, q", [(5, 5), (3, 7), (8, 2)])
def test_linear_r2_equals_sklearn_both_directions_and_batched(p, q):
    rng = np.random.default_rng(p * 10 + q)
    x = rng.normal(size=(3, 400, p))
    y = np.tanh(x @ rng.normal(size=(p, q))) + 0.3 * rng.normal(size=(3, 400, q)) + rng.normal(size=q)
    xtr, xte, ytr, yte = x[:, :250], x[:, 250:], y[:, :250], y[:, 250:]
    batched_forward = idf.linear_r2(xtr, ytr, xte, yte)
    batched_backward = idf.linear_r2(ytr, xtr, yte, xte)
    assert batched_forward.shape == (3,)
    for i in range(3):
        assert batched_forward[i] == pytest.approx(sklearn_r2(xtr[i], ytr[i], xte[i], yte[i]), abs=1e-8)
        assert batched_backward[i] == pytest.approx(sklearn_r2(ytr[i], xtr[i], yte[i], xte[i]), abs=1e-8)
        single = idf.linear_r2(torch.as_tensor(xtr[i]), ytr[i], xte[i], yte[i])
        assert isinstance(single, float) and single == pytest.approx(batched_forward[i], abs=1e-12)
    # a target shared by all instances (2-D) broadcasts against a batched source
    shared = idf.linear_r2(xtr, ytr[0], xte, yte[0])
    assert shared[1] == pytest.approx(sklearn_r2(xtr[1], ytr[0], xte[1], yte[0]), abs=1e-8)
    # rank-deficient sources: sklearn's minimum-norm solution
    deficient = np.concatenate([xtr[0], xtr[0][:, :1]], axis=1)
    deficient_test = np.concatenate([xte[0], xte[0][:, :1]], axis=1)
    assert idf.linear_r2(deficient, ytr[0], deficient_test, yte[0]) == pytest.approx(sklearn_r2(deficient, ytr[0], deficient_test, yte[0]), abs=1e-8)


def test_nonlinear_probe_is_a_ceiling_for_the_linear_one():
    d = 3
    mixing = idf.invertible_mlp(d, make_generator(0))
    z = idf.uniform_sphere(3000, d, make_generator(1), dtype=torch.float64)
    x = mixing(z)
    linear = idf.linear_r2(x[:2000], z[:2000], x[2000:], z[2000:])
    nonlinear = idf.nonlinear_r2(x[:2000], z[:2000], x[2000:], z[2000:], n_features=512)
    assert nonlinear > 0.99 and nonlinear > linear + 0.02
    batched = idf.nonlinear_r2(torch.stack([x[:2000], z[:2000]]), z[:2000], torch.stack([x[2000:], z[2000:]]), z[2000:], n_features=512)
    assert batched[0] == pytest.approx(nonlinear, abs=1e-10) and batched[1] > 0.999


def setting(d=3, n_clusters=6, seed=0):
    return idf.invertible_mlp(d, make_generator(seed, 1)), idf.cluster_centres(n_clusters, d, make_generator(seed, 2))


@pytest.mark.parametrize("dtype, atol, layer_norm", [(torch.float64, 1e-10, True), (torch.float32, 1e-5, False)])
def test_batched_training_equals_training_each_instance_alone(dtype, atol, layer_norm):
    mixing, centres = setting(d=4, n_clusters=5)
    both = idf.init_encoders(4, 5, seeds=[3, 7], n_out=3, hidden=(16, 8), layer_norm=layer_norm, dtype=dtype)
    history = idf.train_encoders(both, mixing, centres, 5.0, n_steps=12, batch_size=64, eval_every=4, n_eval=256)
    assert history.steps.tolist() == [0, 4, 8, 12] and history.r2.shape == (4, 2) and history.train_loss.shape == (4, 2)
    for j, seed in enumerate([3, 7]):
        alone = idf.init_encoders(4, 5, seeds=[seed], n_out=3, hidden=(16, 8), layer_norm=layer_norm, dtype=dtype)
        single = idf.train_encoders(alone, mixing, centres, 5.0, n_steps=12, batch_size=64, eval_every=4, n_eval=256)
        for a, b in zip(both.parameters(), alone.parameters()):
            np.testing.assert_allclose(a[j].numpy(), b[0].numpy(), atol=atol)
        np.testing.assert_allclose(history.r2[:, j], single.r2[:, 0], atol=100 * atol)
    # one data stream per instance: instance j trains as it would alone on stream data_seeds[j]
    own = idf.init_encoders(4, 5, seeds=[3, 7], n_out=3, hidden=(16, 8), layer_norm=layer_norm, dtype=dtype)
    idf.train_encoders(own, mixing, centres, 5.0, n_steps=12, batch_size=64, eval_every=4, n_eval=256, data_seed=[0, 9])
    alone = idf.init_encoders(4, 5, seeds=[7], n_out=3, hidden=(16, 8), layer_norm=layer_norm, dtype=dtype)
    idf.train_encoders(alone, mixing, centres, 5.0, n_steps=12, batch_size=64, eval_every=4, n_eval=256, data_seed=9)
    np.testing.assert_allclose(own.classifier[1].numpy(), alone.classifier[0].numpy(), atol=atol)
    np.testing.assert_allclose(own.classifier[0].numpy(), both.classifier[0].numpy(), atol=atol)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_encoder_forward_matches_torch_layers(layer_norm):
    enc = idf.init_encoders(5, 4, seeds=[0, 1], hidden=(8, 6), layer_norm=layer_norm, dtype=torch.float64)
    for g in enc.gains + enc.shifts:  # move the affine part away from its init
        g += 0.3 * torch.randn(g.shape, generator=make_generator(9), dtype=torch.float64)
    x = torch.randn(32, 5, generator=make_generator(2), dtype=torch.float64)
    for j in range(2):
        layers = []
        for i, (w, b) in enumerate(zip(enc.weights, enc.biases)):
            linear = torch.nn.Linear(*w.shape[1:], dtype=torch.float64)
            linear.weight.data, linear.bias.data = w[j].T.clone(), b[j].clone()
            layers.append(linear)
            if i < len(enc.weights) - 1:
                if layer_norm:
                    norm = torch.nn.LayerNorm(w.shape[2], dtype=torch.float64)
                    norm.weight.data, norm.bias.data = enc.gains[i][j].clone(), enc.shifts[i][j].clone()
                    layers.append(norm)
                layers.append(torch.nn.LeakyReLU())
        with torch.no_grad():
            expected = torch.nn.Sequential(*layers)(x) @ enc.classifier[j]
        np.testing.assert_allclose(enc.logits(x)[j].numpy(), expected.numpy(), atol=1e-12)
    picked = enc.select([1])
    assert all(torch.equal(a[0], b[1]) for a, b in zip(picked.parameters(), enc.parameters()))


def test_short_training_lowers_the_loss_and_raises_the_linear_r2():
    torch.manual_seed(0)  # nothing below reads it; a guard that results do not depend on global state
    mixing, centres = setting(d=3, n_clusters=12, seed=2)
    enc = idf.init_encoders(3, 12, seeds=[0, 1], hidden=(32, 32))
    history = idf.train_encoders(enc, mixing, centres, 10.0, n_steps=600, batch_size=256, eval_every=300, n_eval=2048, lr=3e-3)
    assert history.steps.tolist() == [0, 300, 600]
    assert np.isnan(history.train_loss[0]).all()
    assert (history.test_loss[-1] < history.test_loss[0] - 1.0).all()
    assert (history.train_loss[-1] < history.train_loss[1]).all()
    assert (history.test_loss[-1] > history.bayes_loss - 0.05).all()  # nothing beats the Bayes optimum
    assert (history.r2[-1] > history.r2[0] + 0.2).all() and (history.r2[-1] > 0.9).all()
    assert not any(p.requires_grad for p in enc.parameters())


def test_bad_arguments_raise_value_errors_naming_them():
    g = make_generator(0)
    centres = idf.cluster_centres(3, 4, g)
    labels = torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="kappa"):
        idf.sample_vmf(centres, -1.0, g)
    with pytest.raises(ValueError, match="kappa"):
        idf.sample_latents(centres, labels, float("nan"), g)
    with pytest.raises(ValueError, match="conditional kind"):
        idf.sample_latents(centres, labels, 1.0, g, kind="cauchy")
    with pytest.raises(ValueError, match="centre kind"):
        idf.cluster_centres(3, 4, g, kind="gaussian")
    with pytest.raises(ValueError, match="d must be"):
        idf.uniform_sphere(5, 1, g)
    with pytest.raises(ValueError, match="d must be"):
        idf.invertible_mlp(1, g)
    with pytest.raises(ValueError, match="d must be"):
        idf.init_encoders(1, 3, seeds=[0])
    with pytest.raises(ValueError, match="mu"):
        idf.sample_vmf(2 * centres, 1.0, g)
    with pytest.raises(ValueError, match="labels"):
        idf.sample_latents(centres, torch.tensor([0, 3]), 1.0, g)
    with pytest.raises(ValueError, match="labels"):
        idf.bayes_cross_entropy(centres, labels[:2], centres, 1.0)
    with pytest.raises(ValueError, match="centres"):
        idf.bayes_cross_entropy(centres, labels, centres[:, :3], 1.0)
    with pytest.raises(ValueError, match="same number of samples"):
        idf.linear_r2(np.zeros((10, 2)), np.zeros((9, 2)), np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="same dimensions"):
        idf.linear_r2(np.zeros((10, 2)), np.zeros((10, 2)), np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="quantile"):
        idf.invertible_mlp(4, g, quantile=1.5)
    mixing = idf.invertible_mlp(4, g, pool_size=100)
    enc = idf.init_encoders(4, 3, seeds=[0, 1])
    with pytest.raises(ValueError, match="centres"):
        idf.train_encoders(enc, mixing, idf.cluster_centres(5, 4, g), 1.0, n_steps=1)
    with pytest.raises(ValueError, match="data_seed"):
        idf.train_encoders(enc, mixing, centres, 1.0, n_steps=1, data_seed=[0, 1, 2])
    with pytest.raises(ValueError, match="conditional kind"):
        idf.train_encoders(enc, mixing, centres, 1.0, n_steps=1, kind="vMF")


def test_train_on_process_is_init_and_train_with_the_shared_settings():
    process = idf.make_process(3, 4, 10.0, "vmf", seed=5, offset=1)
    again = idf.make_process(3, 4, 10.0, "vmf", seed=5, offset=1)
    assert torch.equal(process.centres, again.centres) and process.raw_r2 == again.raw_r2
    settings = idf.EncoderTraining((8,), data_seed=5, batch_size=64, lr=1e-3, eval_every=50, n_eval=256)
    encoders, history = idf.train_on_process(process, [1, 2], 10, settings)
    direct = idf.init_encoders(3, 4, [1, 2], hidden=(8,))
    direct_history = idf.train_encoders(direct, process.mixing, process.centres, 10.0, 10, data_seed=5, batch_size=64, lr=1e-3, eval_every=10, n_eval=256)
    assert np.array_equal(history.r2, direct_history.r2)
    assert all(torch.equal(a, b) for a, b in zip(encoders.weights, direct.weights))
    assert idf.EncoderTraining("csi", 0, 1, 1e-3, 1, 1).hidden_widths(2) == idf.csi_hidden(2)
