# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Networks to brains: do SAE latents predict voxels better than neurons?
#
# **Claim tested** (Paper A, DNN→brain). Ridge regression from the latents of a TopK sparse
# autoencoder (SAE) on a network layer predicts visual-cortex voxels better than ridge from the
# layer's neurons {cite}`longon2025superposition`. The authors used the Natural Scenes Dataset
# (NSD; subject 1, hV4) with ResNet-50 and ViT-B/16.
#
# ```{important}
# **The voxels on this page are simulated**, not recorded. No neural recordings install with the
# environment, so the default run builds a synthetic brain whose ground truth is known: each
# voxel is a noisy linear read-out of features of a held-out network (the second seed of the small
# CNN), placed on a patch of visual cortex of the fsaverage5 surface, with a per-voxel
# signal-to-noise ratio and hence an exact noise ceiling. Three simulated worlds differ in what
# the voxels read: sparse features not made by an SAE (the default), an SAE's codes (favourable to
# SAEs by construction), and dense mixtures of units (the null). This can show whether
# disentangling the source network's superposition helps to predict responses built from sparse
# features, whether it helps more there than in the null, and how much of the gap to the ground
# truth it closes. It cannot show that real cortex reads such features: that needs NSD, which the `nsd`
# mode of this notebook loads (the `paper` profile; downloads declared in
# `data_manifests/nsd.yaml`, under the NSD terms).
# ```

# %% tags=["parameters"]
profile = "default"  # parameter profile: default, smoke or paper
brain = "synthetic"  # synthetic (simulated voxels on fsaverage5) or nsd (the Natural Scenes Dataset)
n_sae_images = 10000  # images whose activations train the SAEs
n_eval_images = 3000  # images whose voxel responses are predicted (5-fold cross-validation)
n_voxels = 500  # synthetic voxels
features_per_voxel = 4  # ground-truth features each synthetic voxel reads
snr_low = 0.2  # smallest per-trial signal-to-noise ratio (signal sd over noise sd) of a synthetic voxel
snr_high = 2.0  # largest one
n_trials = 3  # trials per image, averaged (NSD shows each image up to three times)
source_seed = 0  # seed of the small CNN whose layer predicts the voxels
brain_seed = 1  # seed of the held-out small CNN whose features drive the synthetic voxels
world = "thresholded"  # synthetic mode, what the voxels read: thresholded (sparse, not an SAE), sae_codes (an SAE's codes) or dense (the null)
cnn_channels = "16,32,64"  # channels of the small CNN's three blocks
cnn_epochs = 3  # training epochs of the small CNNs
n_cnn_images = 60000  # Fashion-MNIST training images the small CNNs train on
layer = "layer3"  # the source network's layer
truth_expansion = 8  # ground-truth features per unit of the held-out layer (sparse worlds)
truth_k = 8  # active ground-truth features per image on average (sparse worlds)
sae_expansion = 2  # latents per unit of the source SAE
sae_k_fraction = 0.1  # TopK k of the source SAE as a share of its latents
sae_epochs = 20  # passes over the SAE training activations
sae_batch_size = 64  # SAE batch size (Paper A: 64)
sae_replicates = 3  # independently initialised source SAEs (the bars show the first; the claim rests on all of them)
voxel_sae_expansion = 2  # latents per voxel of the SAE on the voxels (the SAE to voxel-SAE condition; trained on images it is not scored on)
alpha_per_voxel = False  # one ridge penalty per voxel (True) or one per fold for all voxels (False, the authors')
network = "resnet50-imagenet1k-v2"  # nsd mode, the source network
input_size = 224  # nsd mode, input size in pixels
image_dir = "none"  # nsd mode, a folder of ImageNet images whose activations train the SAEs
nsd_root = "none"  # nsd mode, a local copy of the NSD release (none to download it under the accepted terms)
nsd_subject = 1  # nsd mode, the subject
nsd_roi = "hV4"  # nsd mode, the region of interest
nsd_sessions = 40  # nsd mode, sessions read (the first ones)
sae_seed = 0  # seed of the SAEs (the random-SAE control keeps the source SAE untrained)
data_seed = 0  # seed of the synthetic voxels
device = "auto"  # where networks and SAEs run: auto (GPU if present), cpu or cuda

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from nilearn import datasets, plotting

from superposition import metrics
from superposition.book import plots
from superposition.book.chapter import open_chapter
from superposition.book.params import flag, integer, integer_list, one_of, parse_integers, real, text
from superposition.data import images as image_sets
from superposition.data import nsd, synthetic_brain
from superposition.networks import activations, cnn, pretrained
from superposition.science import sae

# %% tags=["hide-input"]
chapter = open_chapter(
    "dnn_brain",
    globals(),
    {
        "brain": one_of("synthetic", "nsd"),
        "world": one_of(*synthetic_brain.WORLDS),
        "n_sae_images": integer(128, 1_300_000),
        "n_eval_images": integer(100, 73_000),
        "n_voxels": integer(10, 10242),
        "features_per_voxel": integer(1, 1000),
        "snr_low": real(0.001, 100.0),
        "snr_high": real(0.001, 100.0),
        "n_trials": integer(1, 100),
        "cnn_channels": integer_list(1, 1024),
        "cnn_epochs": integer(1, 1000),
        "n_cnn_images": integer(256, image_sets.FASHION_MNIST_TRAIN_SIZE),
        "layer": text(),
        "truth_expansion": integer(1, 64),
        "truth_k": integer(1, 10_000),
        "sae_expansion": integer(1, 64),
        "sae_k_fraction": real(0.001, 1.0),
        "sae_epochs": integer(1, 10_000),
        "sae_batch_size": integer(8, 65536),
        "sae_replicates": integer(1, 16),
        "voxel_sae_expansion": integer(1, 64),
        "alpha_per_voxel": flag(),
        "network": one_of(*pretrained.NETWORKS),
        "input_size": integer(32, 1024),
        "image_dir": text(),
        "nsd_root": text(),
        "nsd_subject": one_of(*nsd.SUBJECTS),
        "nsd_roi": one_of(*nsd.ROIS),
        "nsd_sessions": integer(1, nsd.N_SESSIONS),
    },
    seed="sae_seed",
)

# %% tags=["hide-input"]
torch_device = chapter.device
channels = tuple(parse_integers(cnn_channels))
if len(channels) != 3:
    raise ValueError(f"parameter 'cnn_channels' must give three channel counts, e.g. '16,32,64'; got {cnn_channels!r}")
if snr_low > snr_high:
    raise ValueError(f"parameters 'snr_low' and 'snr_high' must satisfy snr_low <= snr_high; got {snr_low}, {snr_high}")
if brain == "synthetic" and source_seed == brain_seed:
    raise ValueError("parameters 'source_seed' and 'brain_seed' must differ: the synthetic brain reads a held-out network")
if brain == "nsd":
    image_sets.check_image_folder(image_dir, "image_dir")
    activations.check_layers(pretrained.load_random_twin(network, input_size)[0], {"layer": layer}, network)
else:
    activations.check_layers(cnn.init_cnn(cnn.CnnConfig(channels=channels), 0), {"layer": layer}, "the small CNN")
if n_sae_images < sae_batch_size:
    raise ValueError(f"parameter 'n_sae_images' must be at least sae_batch_size = {sae_batch_size}; got {n_sae_images}")
run = chapter.start()

# %% [markdown]
# ## Source network, brain, and their activations
#
# Synthetic mode: the source is the small CNN of seed {glue:text}`source_seed` trained on
# Fashion-MNIST (the network chapter's, read back from the cache when it ran first), read out
# at the centre of `layer3`. **No real brain data ships offline: every "brain" on this page is
# simulated.** It is built from the *other* seed's network, in three worlds that differ in what
# the voxels read from that network's layer:
#
# - **thresholded** (the default world of the bars and maps): {glue:text}`truth_expansion`
#   features per unit, each a rectified random projection of the units thresholded so that it is
#   active on about {glue:text}`truth_k` features' worth of each image (a share $k/N$): sparse and
#   nonlinear, and *not* made by an SAE;
# - **SAE codes**: the codes of a wide TopK SAE on that layer ($k$ = {glue:text}`truth_k`), the
#   recipe under test, so the world most favourable to SAE latents by construction;
# - **dense**, the null: each voxel reads a dense random mixture of all the units, with nothing
#   sparse to find.
#
# In the sparse worlds each voxel reads the {glue:text}`features_per_voxel` features whose
# centres lie nearest to it on the patch. The main world is the `world` parameter
# ({glue:text}`world`); all three are compared below.
# SAEs train on activations to {glue:text}`n_sae_images_used:,` training images; the voxels
# respond to {glue:text}`n_eval_images_used:,` test images.

# %%
if brain == "synthetic":
    sae_images, eval_images = image_sets.fashion_mnist("train")[0][:n_sae_images], image_sets.fashion_mnist("test")[0][:n_eval_images]
    preprocess = cnn.FASHION_MNIST_PREPROCESS
    trained = cnn.fashion_mnist_cnns(cnn.CnnConfig(channels=channels, epochs=cnn_epochs), (source_seed, brain_seed), n_cnn_images, torch_device)
    nets = {seed: net for seed, (net, _) in trained.items()}
    source_train, source_eval = (activations.layer_activations(nets[source_seed], chosen, layer, "centre", preprocess, 256, torch_device) for chosen in (sae_images, eval_images))
    held_train, held_eval = (activations.layer_activations(nets[brain_seed], chosen, layer, "centre", preprocess, 256, torch_device) for chosen in (sae_images, eval_images))

# %%
if brain == "synthetic":  # three worlds of voxels reading the held-out network's layer; evaluation images first in every row order
    held_all, n_truth = np.concatenate([held_eval, held_train]), truth_expansion * held_train.shape[1]
    truth_sae = sae.fit_and_encode([held_train], [held_all], sae.layer_config(held_train.shape[1], truth_expansion, sae_k_fraction, truth_k),
                                   sae_epochs, sae_batch_size, seed=sae_seed + 7, device=torch_device)  # fmt: skip
    features = {"thresholded": synthetic_brain.thresholded_features(held_all, n_truth, truth_k / n_truth, seed=data_seed), "sae_codes": truth_sae.codes[0]}
    patch = synthetic_brain.visual_patch(n_voxels)
    worlds, truths = {}, {}
    for name, codes in features.items():
        live = codes[: len(eval_images)].std(axis=0) > 0
        worlds[name] = synthetic_brain.simulate_voxels(codes[:, live], patch, features_per_voxel, (snr_low, snr_high), n_trials, seed=data_seed)
        truths[name] = codes[: len(eval_images), live]
    worlds["dense"] = synthetic_brain.dense_voxels(held_all, patch, (snr_low, snr_high), n_trials, seed=data_seed)
    truths["dense"] = held_eval[:, held_eval.std(axis=0) > 0]

# %%
if brain == "synthetic":
    simulated, ground_truth = worlds[world], truths[world]
    voxels, voxels_train = simulated.betas[: len(eval_images)], simulated.betas[len(eval_images) :]
    ceiling = simulated.noise_ceiling
    run.record("truth_live_features", int(ground_truth.shape[1]), "ground-truth features of the main world that vary over the evaluation images")
    run.record("truth_l0", float((ground_truth > 0).sum(axis=1).mean()), "mean active ground-truth features per evaluation image, main world")

# %%
if brain == "nsd":
    responses = nsd.load_responses(nsd_subject, nsd_roi, range(1, nsd_sessions + 1), None if nsd_root == "none" else nsd_root)
    chosen = slice(0, min(n_eval_images, len(responses.nsd_ids)))
    voxels, ceiling = responses.betas[chosen], responses.noise_ceiling
    voxels_train = responses.betas[chosen.stop :]  # the voxel SAE trains on responses to images it is not scored on
    if len(voxels_train) < sae_batch_size:
        raise ValueError(f"parameter 'n_eval_images' ({n_eval_images}) leaves {len(voxels_train)} of the subject's {len(responses.nsd_ids)} images for the voxel SAE; "
                         f"it needs at least sae_batch_size = {sae_batch_size}: lower n_eval_images")  # fmt: skip
    module, preprocess = pretrained.load_network(network, input_size)
    how = "cls" if pretrained.has_class_token(network) else "centre"
    sae_images = image_sets.image_folder(image_dir, n_sae_images, input_size)
    eval_images = nsd.stimuli(responses.nsd_ids[chosen], None if nsd_root == "none" else nsd_root)
    source_train, source_eval = (activations.layer_activations(module, imgs, layer, how, preprocess, 256, torch_device) for imgs in (sae_images, eval_images))
    ground_truth = None

# %%
run.record("n_sae_images_used", len(sae_images), "images whose activations train the SAEs")
run.record("n_eval_images_used", len(eval_images), "images whose voxel responses are predicted")
run.record("n_voxels_used", int(voxels.shape[1]), "voxels predicted")
run.record("mean_noise_ceiling", float(np.mean(ceiling)), "mean noise ceiling (fraction of variance) over voxels")

# %% [markdown]
# ## SAEs on the source layer and on the voxels
#
# The source SAE follows the authors' network recipe (per-image normalisation, TopK with
# {glue:text}`sae_expansion` latents per unit and $k$ = 10 % of them, AuxK, Adam 4e-4,
# batch 64). The random-SAE control is that SAE untrained. As in the authors' code, an SAE is
# also trained on the voxel responses themselves ({glue:text}`voxel_sae_expansion` latents per
# voxel), for the SAE→voxel-SAE condition.

# %%
source = sae.fit_and_encode([source_train] * sae_replicates, [source_eval] * sae_replicates, sae.layer_config(source_train.shape[1], sae_expansion, sae_k_fraction), sae_epochs, sae_batch_size,
                            seed=sae_seed, device=torch_device)  # fmt: skip
voxel_fit = sae.fit_and_encode([voxels_train], [voxels], sae.layer_config(voxels.shape[1], voxel_sae_expansion, sae_k_fraction), sae_epochs, sae_batch_size,
                               seed=sae_seed + 1, device=torch_device)  # fmt: skip
run.record("source_sae_fvu", float(source.quality.fvu[0]), "held-out FVU of the source SAE")
run.record("source_sae_live_latents", int(source.codes.shape[2] - source.quality.dead[0]), "source-SAE latents that fire on some evaluation image")
run.record("source_live_units", int((source_eval.std(axis=0) > 0).sum()), "source units that vary over the evaluation images")
run.record("voxel_sae_fvu", float(voxel_fit.quality.fvu[0]), "FVU of the voxel SAE")

# %% [markdown]
# ## Predicting voxels: neurons against SAE latents
#
# Ridge regression from each representation to the voxels, Paper A's protocol: 5-fold
# cross-validation over the images, centred folds, the penalty chosen by leave-one-out from 17
# values ({glue:text}`alpha_rule`), Pearson r per voxel on the held-out fold. Bars: mean r over
# voxels and folds with the fold standard error; the numbers above: change relative to
# neuron→voxel. Raw r is what Paper A plots; r divided by the square root of each voxel's noise
# ceiling is shown beside it.

# %%
conditions = {"neuron→voxel": (source_eval, voxels), "SAE→voxel": (source.codes[0], voxels),
              "random SAE→voxel": (source.random_codes[0], voxels), "SAE→voxel-SAE": (source.codes[0], voxel_fit.codes[0])}  # fmt: skip
if ground_truth is not None:
    conditions["ground truth→voxel"] = (ground_truth, voxels)
condition_keys = {"neuron→voxel": "neuron_voxel", "SAE→voxel": "sae_voxel", "random SAE→voxel": "random_sae_voxel", "SAE→voxel-SAE": "sae_voxel_sae",
                  "ground truth→voxel": "ground_truth_voxel"}  # registry keys r_<condition key>_mean, r_<condition key>_normalised, ring_<condition key>_r
scores = {name: metrics.ridge_predictivity(x, y, alpha_per_target=alpha_per_voxel, target_batch_size=2048, device=torch_device)
          for name, (x, y) in conditions.items()}  # fmt: skip
run.record("alpha_rule", "one penalty per voxel" if alpha_per_voxel else "one penalty per fold, shared by all voxels", "how the ridge penalty is chosen")
r_rows = [{"condition": condition_keys[name], "name": name, "mean": result.mean, "sem": result.sem} for name, result in scores.items()]
run.record_table("r", r_rows, ["condition"], {"mean": "mean Pearson r over voxels and folds, {name}", "sem": "fold standard error of that mean, {name}"})
normalised_rows = [{"condition": condition_keys[name], "name": name, "normalised": float((result.per_target.mean(axis=0) / np.sqrt(np.maximum(ceiling, 1e-12))).mean())}
                   for name, result in scores.items() if name.endswith("→voxel")]  # fmt: skip
run.record_table("r", normalised_rows, ["condition"], {"normalised": "mean over voxels of r / sqrt(noise ceiling), {name}"})

# %%
replicate_r = [scores["SAE→voxel"].mean] + [metrics.ridge_predictivity(codes, voxels, alpha_per_target=alpha_per_voxel, target_batch_size=2048, device=torch_device).mean
                                             for codes in source.codes[1:]]  # fmt: skip
per_replicate = np.array(replicate_r) - scores["neuron→voxel"].mean
change = metrics.replicate_estimate(per_replicate, f"{sae_replicates} SAE replicates")
run.record("change_sae_vs_neurons", change, "SAE→voxel minus neuron→voxel mean r, mean over the SAE replicates with its t interval")
run.record("change_random_sae_vs_neurons", scores["random SAE→voxel"].mean - scores["neuron→voxel"].mean, "the control: untrained SAE→voxel minus neuron→voxel mean r")
run.record("relative_change_sae_vs_neurons", float(metrics.relative_change(scores["SAE→voxel"].mean, scores["neuron→voxel"].mean)), "relative change, percent")
names = list(scores)

# %%
fig, axes = plots.new_figure(n_cols=2, width=4.4, height=3.6)
plots.condition_bars(axes[0], ["voxels"], names, np.array([[scores[n].mean for n in names]]), np.array([[scores[n].sem for n in names]]),
                     title="raw Pearson r (Paper A's plots)")  # fmt: skip
to_voxels = [n for n in names if n.endswith("→voxel")]  # the conditions whose targets are the voxels themselves
voxel_r = {n: scores[n].per_target.mean(axis=0) for n in names}
axes[1].scatter(voxel_r["neuron→voxel"], voxel_r["SAE→voxel"], s=5, alpha=0.5, color=plots.PALETTE[1])
lims = [min(voxel_r[n].min() for n in to_voxels), max(voxel_r[n].max() for n in to_voxels)]
axes[1].plot(lims, lims, "k-", lw=0.8)
axes[1].set(xlabel="r from neurons", ylabel="r from SAE latents", title="per voxel")
axes[0].legend(fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.12))
run.figure("fig_brain_bars", fig)

# %% [markdown]
# ```{glue:figure} fig_brain_bars
# :name: fig-brain-bars
#
# Left: mean Pearson r over voxels, per condition (error bars: fold standard errors). Right: each
# voxel's r from the SAE latents against its r from the neurons.
# ```
#
# SAE latents change the mean voxel r by {glue:text}`change_sae_vs_neurons:+.4f` (mean over
# {glue:text}`sae_replicates` SAE replicates; 95 % interval
# [{glue:text}`change_sae_vs_neurons_low:+.4f`, {glue:text}`change_sae_vs_neurons_high:+.4f`]; the
# first replicate: {glue:text}`relative_change_sae_vs_neurons:+.1f` %) relative to the neurons;
# the untrained SAE changes it by {glue:text}`change_random_sae_vs_neurons:+.4f`.

# %% [markdown]
# ## Three simulated worlds: where should an SAE help?
#
# A gain in one simulated brain says little if the simulation was made to favour SAEs. The same
# comparison in each world, with the same source network, SAE replicates and images: the SAE
# latents' change of mean voxel r against the neurons (mean over the
# {glue:text}`sae_replicates` SAE replicates), the untrained SAE's, and the ground truth's
# (the best possible read-out of that world). In the dense world there is nothing sparse to
# disentangle; if the SAE gains there as much as in a sparse world, its gain says nothing about
# sparse features in the brain. Paper A's claim, read as a statement about brains that hold
# sparse features, is therefore the **contrast**: the SAE gain in the thresholded world (sparse,
# not built by an SAE) minus the gain in the dense world, paired by SAE replicate.

# %%
if brain == "synthetic":
    world_rows, world_changes = [], {}
    for name, simulated_world in worlds.items():
        y = simulated_world.betas[: len(eval_images)]
        r = {label: metrics.ridge_predictivity(x, y, alpha_per_target=alpha_per_voxel, target_batch_size=2048, device=torch_device).mean
             for label, x in (("neurons", source_eval), ("random", source.random_codes[0]), ("truth", truths[name]))}  # fmt: skip
        sae_r = np.array([metrics.ridge_predictivity(codes, y, alpha_per_target=alpha_per_voxel, target_batch_size=2048, device=torch_device).mean for codes in source.codes])
        world_changes[name] = sae_r - r["neurons"]
        world_rows.append({"world": name, "change": metrics.replicate_estimate(world_changes[name], f"{sae_replicates} SAE replicates"),
                           "random_change": r["random"] - r["neurons"], "neuron_r": r["neurons"], "truth_change": r["truth"] - r["neurons"]})  # fmt: skip
    run.record_table("world", world_rows, ["world"], {
        "change": "{world} world: SAE→voxel minus neuron→voxel mean r, mean over SAE replicates with its t interval",
        "random_change": "{world} world: untrained SAE→voxel minus neuron→voxel mean r",
        "neuron_r": "{world} world: neuron→voxel mean r",
        "truth_change": "{world} world: ground truth→voxel minus neuron→voxel mean r (the most any read-out can gain)",
    })  # fmt: skip
    run.record("world_contrast_sparse_minus_dense", metrics.replicate_estimate(world_changes["thresholded"] - world_changes["dense"], f"{sae_replicates} SAE replicates"),
               "SAE gain in the thresholded world minus the SAE gain in the dense world, paired by SAE replicate, with its t interval")  # fmt: skip
    run.record("world_contrast_codes_minus_dense", metrics.replicate_estimate(world_changes["sae_codes"] - world_changes["dense"], f"{sae_replicates} SAE replicates"),
               "SAE gain in the SAE-codes world minus the SAE gain in the dense world, paired by SAE replicate, with its t interval")  # fmt: skip

# %%
if brain == "synthetic":
    fig, (ax,) = plots.new_figure(width=6.0, height=3.4)
    x = np.arange(len(world_rows))
    for offset, column, label, color in ((-0.27, "change", "SAE latents", plots.PALETTE[0]), (0.0, "random_change", "untrained SAE", plots.PALETTE[7]),
                                         (0.27, "truth_change", "ground truth", plots.PALETTE[2])):  # fmt: skip
        values = [row[column].value if column == "change" else row[column] for row in world_rows]
        errors = [[row["change"].value - row["change"].low for row in world_rows], [row["change"].high - row["change"].value for row in world_rows]] if column == "change" else None
        ax.bar(x + offset, values, 0.27, yerr=errors, capsize=3, color=color, label=label)
    ax.axhline(0, color="black", lw=0.7)
    ax.set_xticks(x, ["thresholded\n(sparse)", "SAE codes\n(favourable)", "dense\n(null)"])
    ax.set(ylabel="change of mean voxel r vs neurons", title="what each read-out gains over the neurons, per simulated world")
    ax.legend(fontsize=7)
    run.figure("fig_brain_worlds", fig)

# %% [markdown]
# ```{glue:figure} fig_brain_worlds
# :name: fig-brain-worlds
#
# Per simulated world, the change of mean voxel r against the source network's neurons: SAE
# latents (error bars: 95 % t interval over the SAE replicates), the untrained SAE, and the
# ground-truth features the voxels read.
# ```
#
# The SAE latents change the mean voxel r by {glue:text}`world_thresholded_change:+.4f` in the
# thresholded world, {glue:text}`world_sae_codes_change:+.4f` in the SAE-codes world and
# {glue:text}`world_dense_change:+.4f` in the dense world. The contrast the claim rests on,
# thresholded minus dense, is {glue:text}`world_contrast_sparse_minus_dense:+.4f` (95 % interval
# [{glue:text}`world_contrast_sparse_minus_dense_low:+.4f`,
# {glue:text}`world_contrast_sparse_minus_dense_high:+.4f`]); the SAE-codes world, built with the
# recipe under test, gives {glue:text}`world_contrast_codes_minus_dense:+.4f`. The
# {doc}`claims page <../claims>` gives the verdict over the replicate runs of this page, each of
# which redraws the networks, the simulated brains and the SAEs.

# %% [markdown]
# ## How much of the gap to the ground truth does disentanglement close?
#
# Only the synthetic brain has a ground truth: ridge from the very features the voxels read is
# the best any representation can do at this noise level (its r is bounded by the square root
# of the noise ceiling). The share of the gap closed is
# $(r_\mathrm{SAE} - r_\mathrm{neurons}) / (r_\mathrm{truth} - r_\mathrm{neurons})$.

# %%
if ground_truth is not None:
    gap = scores["ground truth→voxel"].mean - scores["neuron→voxel"].mean
    run.record("gap_to_truth", gap, "ground truth→voxel minus neuron→voxel mean r")
    run.record("gap_closed", float(np.mean(per_replicate)) / gap, "share of that gap the SAE latents close (mean change over the SAE replicates)")
    run.record("ceiling_r", float(np.sqrt(ceiling).mean()), "mean over voxels of sqrt(noise ceiling): the r of a perfect model")
    rings = pd.DataFrame({"ring": [synthetic_brain.RING_NAMES[i] for i in patch.ring], **{n: voxel_r[n] for n in to_voxels}, "sqrt ceiling": np.sqrt(ceiling)})
    ring_table = rings.groupby("ring", sort=True).mean()
    ring_rows = [{"condition": condition_keys[n], "name": n, "rings": list(ring_table.index), "r": ring_table[n].round(5).tolist()}
                 for n in ("neuron→voxel", "SAE→voxel", "ground truth→voxel")]  # fmt: skip
    run.record_table("ring", ring_rows, ["condition"], {"r": "mean r of {name} per synthetic ring {rings}"})
    run.record("ring_sqrt_ceiling", ring_table["sqrt ceiling"].round(5).tolist(), "mean sqrt(noise ceiling) per ring")
    display_table = ring_table
else:
    run.record("gap_to_truth", float("nan"), "no ground truth for recorded brains")
    run.record("gap_closed", float("nan"), "no ground truth for recorded brains")
    run.record("ceiling_r", float(np.sqrt(ceiling).mean()), "mean over voxels of sqrt(noise ceiling)")
    run.record("r_ground_truth_voxel_mean", float("nan"), "no ground truth for recorded brains")
    display_table = pd.DataFrame({n: [voxel_r[n].mean()] for n in to_voxels}, index=[nsd_roi])
display_table.style.format(precision=4)

# %% [markdown]
# In the main simulated world ({glue:text}`world`) the neurons reach r = {glue:text}`r_neuron_voxel_mean:.3f`,
# the SAE latents {glue:text}`r_sae_voxel_mean:.3f`, the untrained SAE
# {glue:text}`r_random_sae_voxel_mean:.3f` and the ground-truth features
# {glue:text}`r_ground_truth_voxel_mean:.3f` (a perfect model: {glue:text}`ceiling_r:.3f`): the SAE
# closes {glue:text}`gap_closed:.1%` of the gap between the neurons and the ground truth (a
# negative share means the latents fall further behind than the neurons). The table gives the same per synthetic ring of the patch.
#
# Read these numbers for what they are: simulations, in which the brain reads features of a
# sibling network. Where those features are an SAE's codes, the source SAE's latents help
# (the SAE-codes world above); where they are sparse features of another kind, or dense mixtures,
# the same latents need not help at all, and the comparison of the three worlds is what tells a
# gain that comes from sparse features in the brain from one that the simulation put there. The
# SAE→voxel-SAE condition predicts the voxel SAE's codes, a different and noisier target (the voxel
# SAE leaves {glue:text}`voxel_sae_fvu:.0%` of the voxel variance unexplained), so its r is not a
# comparison with the other bars.

# %% [markdown]
# ## Maps on the cortical surface
#
# Each voxel's r (mean over folds) on the inflated left hemisphere of fsaverage5, seen from
# behind: from the neurons, from the SAE latents, and their difference.

# %%
if brain == "synthetic":
    surface = datasets.fetch_surf_fsaverage("fsaverage5")
    maps = {"neurons": voxel_r["neuron→voxel"], "SAE latents": voxel_r["SAE→voxel"], "SAE − neurons": voxel_r["SAE→voxel"] - voxel_r["neuron→voxel"]}
    fig, axes = plt.subplots(1, 3, subplot_kw={"projection": "3d"}, figsize=(10.5, 3.6))
    top = float(max(np.abs(maps["neurons"]).max(), np.abs(maps["SAE latents"]).max()))
    bound = float(np.abs(maps["SAE − neurons"]).max())
    for ax, (title, values) in zip(axes, maps.items()):
        full = np.full(patch.n_mesh_vertices, np.nan)
        full[patch.vertices] = values
        diff = title.startswith("SAE −")
        plotting.plot_surf_stat_map(surface["infl_left"], full, hemi="left", view="posterior", bg_map=surface["sulc_left"], axes=ax, figure=fig,
                                    colorbar=True, cmap="RdBu_r" if diff else "viridis", vmin=-bound if diff else 0.0,
                                    vmax=bound if diff else top, title=title)  # fmt: skip
else:
    fig, (ax,) = plots.new_figure(width=4.2, height=3.0)
    ax.hist(voxel_r["SAE→voxel"] - voxel_r["neuron→voxel"], bins=40, color=plots.PALETTE[1])
    ax.set(xlabel="r(SAE) − r(neurons) per voxel", ylabel="voxels", title=f"subject {nsd_subject}, {nsd_roi} (volume voxels: no surface map)")
run.figure("fig_brain_maps", fig)

# %%
run.record("share_voxels_sae_better", float(np.mean(voxel_r["SAE→voxel"] > voxel_r["neuron→voxel"])), "share of voxels better predicted by SAE latents than by neurons")

# %% [markdown]
# ```{glue:figure} fig_brain_maps
# :name: fig-brain-maps
#
# Per-voxel Pearson r on the surface (synthetic mode) from the neurons (left), from the SAE
# latents (middle) and their difference (right, red: the SAE latents predict better).
# ```
#
# SAE latents predict {glue:text}`share_voxels_sae_better:.0%` of the voxels better than the
# neurons do.

# %%
run.finish()
