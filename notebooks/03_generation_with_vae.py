# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Generating punks with VAEs
#
# **What this studies.** The two Gaussian VAE presets over the palette,
# `onehot_vae` (dense body) and `onehot_conv_vae` (convolutional body): how well
# they model the punks and what they generate.
#
# **What it shows.**
#
# - samples from the prior N(0, I), decoded pixel by pixel to the most likely
#   palette colour (grids);
# - interpolations between the codes of two test punks;
# - latent traversals: one latent dimension of a test punk's code set from -3 to
#   3, the others kept, for the dimensions the encoder uses most;
# - the negative ELBO per image in nats (reconstruction NLL + KL), on the first
#   500 test punks, as a chart;
# - novelty: the share of 200 samples that are not an exact copy of one of the
#   9,000 training punks, and the mean number of pixels to the nearest one; with
#   a few samples next to their nearest training punk.

# %%
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import matplotlib.pyplot as plt
import numpy as np

import pallets_keras as pk
from pallets_keras.datasets import cpunks

try:                                  # Jupyter's rich display; a plain script prints
    from IPython.display import display
except ImportError:
    display = print

T_START = time.time()
plt.rcParams["figure.dpi"] = 80

import pandas as pd

from pallets_keras import metrics, zoo

ds = cpunks.load()
train, test = ds.split()
test500 = test[:500]
NAMES = ["onehot_vae", "onehot_conv_vae"]
models = {name: zoo.load(name, compile=False) for name in NAMES}
for name, m in models.items():
    print(f"{name}: latent dim {m.latent_shape[0]}, {m.count_params():,} parameters")

# %% [markdown]
# ## Samples: the training prior against the fitted one
#
# 32 draws per model (seed 0), each pixel the decoder's most likely colour,
# from the prior the VAE was trained against, N(0, I) (`prior="training"`), and
# from the preset's default prior: a Gaussian mixture fitted to the training
# set's posterior means after training (docs/priors.md). N(0, I) covers regions
# the encoder never used, which decode to fragments.

# %%
fig, axes = plt.subplots(2, 2, figsize=(14, 8.4))
for col, (name, m) in enumerate(models.items()):
    for row, prior in enumerate(["training", m.default_prior]):
        pk.plot.show_grid(m.sample(32, seed=0, prior=prior), cols=8, scale=2, ax=axes[row, col],
                          title=f"{name}: prior {prior}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Sample quality, measured
#
# The punk judge (a classifier of real punks, frozen, docs/samples.md) embeds
# 300 samples of each prior and the 1,000 test punks; FPD is the Fréchet
# distance between the two feature sets, precision the share of samples inside
# the real punks' neighbourhoods, recall the share of real punks inside the
# samples' (Kynkäänniemi et al. 2019).
#
# Two sources, one function (`pallets_keras.sample_quality.sample_figures`):
# the figures each preset recorded when the zoo was measured (the `sample_*`
# metrics of `zoo.info(name)`, 1,000 samples of the default prior, as in
# docs/zoo.md "Samples"), then a smaller run here, 300 samples of each prior.
# The first row of the second table is real training punks: the floor.

# %%
from pallets_keras.judge import Judge
from pallets_keras.sample_quality import real_floor, sample_figures

FIGURES = ["fpd", "precision", "recall", "density", "coverage"]
recorded = {}
for name in models:
    meta = zoo.info(name)
    recorded[f"{name}, prior {meta.get('sample_prior', '?')}"] = {
        f: meta["metrics"].get(f"sample_{f}", float("nan")) for f in FIGURES}
print("recorded in the presets (1,000 samples):")
display(pd.DataFrame(recorded).T.round(3))

judge = Judge.from_preset("punk_judge")
rows = {"real training punks (floor)": real_floor(judge, train, test, n=300)}
for name, m in models.items():
    for prior in ["training", m.default_prior]:
        rows[f"{name}, prior {prior}"] = sample_figures(m, judge, test, n=300, seed=0, prior=prior)
print("measured here (300 samples):")
display(pd.DataFrame(rows).T[FIGURES].round(3))

# %% [markdown]
# ## Interpolations
#
# The straight line between the codes (posterior means) of two test punks, in 10
# steps, decoded.

# %%
pairs = [(0, 7), (3, 21)]      # rows of the test split (punks 9000+)
fig, axes = plt.subplots(len(pairs) * len(models), 1,
                         figsize=(10, 1.6 * len(pairs) * len(models)))
k = 0
for a, b in pairs:
    for name, m in models.items():
        strip = m.interpolate(test.indices[a], test.indices[b], steps=10)
        pk.plot.show_grid(strip, cols=10, scale=3, ax=axes[k])
        axes[k].set_title(f"{name}: punk {test.ids[a]} -> punk {test.ids[b]}", fontsize=9,
                          loc="left")
        k += 1
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Latent traversals
#
# A VAE uses only some of its latent dimensions (the others collapse to the
# prior and carry no information). The spread of the posterior means over the 500
# test punks shows which ones are used; we traverse the four with the largest
# spread: one test punk's code, with that one dimension set to -3 ... 3.

# %%
values = np.linspace(-3, 3, 9, dtype="float32")
fig, axes = plt.subplots(len(models), 2, figsize=(15, 3.8 * len(models)),
                         gridspec_kw={"width_ratios": [1, 2.2]})
for row, (name, m) in zip(axes, models.items()):
    z_all = m.encode(test500.indices)
    spread = z_all.std(0)
    dims = np.argsort(-spread)[:4]
    row[0].bar(np.arange(len(spread)), np.sort(spread)[::-1], color="tab:blue")
    row[0].axhline(0.1, color="gray", ls=":")
    row[0].set_title(f"{name}: spread of each latent dim\n"
                     f"({(spread > 0.1).sum()} of {len(spread)} with std > 0.1)", fontsize=9)
    row[0].set_xlabel("latent dims, by spread")
    z0 = z_all[5]
    strips = []
    for d in dims:
        z = np.repeat(z0[None], len(values), axis=0)
        z[:, d] = values
        strips.append(m.decode(z))
    pk.plot.show_grid(np.concatenate(strips), cols=len(values), scale=2, ax=row[1])
    row[1].set_title(f"{name}: punk {test.ids[5]}, rows = dims {dims.tolist()}, "
                     f"columns = {values[0]:.0f} ... {values[-1]:.0f}", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## ELBO per image
#
# The negative ELBO bounds the negative log-likelihood of a punk: the lower, the
# better the model of the data. It is the reconstruction NLL (categorical
# cross-entropy over the palette, summed over the 576 pixels) plus the KL
# divergence of the posterior to the prior, in nats per image, on the first 500
# test punks (one posterior sample each, seed 0).

# %%
elbos = {name: metrics.elbo(m, test500, seed=0) for name, m in models.items()}
fig, ax = plt.subplots(figsize=(7, 3.5))
names = list(elbos)
rec = np.array([elbos[n]["reconstruction_nll"] for n in names])
kl = np.array([elbos[n]["kl"] for n in names])
ax.barh(names, rec, color="tab:blue", label="reconstruction NLL")
ax.barh(names, kl, left=rec, color="tab:orange", label="KL")
for i in range(len(names)):
    ax.text(rec[i] + kl[i], i, f" {rec[i] + kl[i]:.1f}", va="center")
ax.set_xlabel("negative ELBO, nats per image (lower is better)")
ax.set_xlim(0, 1.2 * (rec + kl).max())
ax.legend(loc="upper right")
plt.tight_layout()
plt.show()
for n in names:
    e = elbos[n]
    print(f"{n:>16}: -ELBO {e['neg_elbo']:.1f} nats/image = reconstruction "
          f"{e['reconstruction_nll']:.1f} + KL {e['kl']:.1f}  "
          f"({e['neg_elbo'] / 576:.3f} nats per pixel)")


# %% [markdown]
# ## Novelty
#
# 200 samples per model (seed 1), compared pixel by pixel with all 9,000
# training punks: the share that are not an exact copy, and the mean Hamming
# distance (pixels that differ) to the nearest training punk
# (`metrics.novelty`). Below, the first six samples of each model above their
# nearest training punk (scikit-learn's Hamming neighbours).

# %%
from sklearn.neighbors import NearestNeighbors

pixels = train.indices.reshape(len(train), -1)
neighbours = NearestNeighbors(n_neighbors=1, metric="hamming", algorithm="brute").fit(pixels)


def nearest(samples):
    """The nearest training punk of each sample and its distance in pixels."""
    share, index = neighbours.kneighbors(samples.reshape(len(samples), -1))
    return index[:, 0], np.rint(share[:, 0] * pixels.shape[1]).astype(int)


nov = {}
fig, axes = plt.subplots(len(models), 1, figsize=(8, 3.2 * len(models)))
for ax, (name, m) in zip(axes, models.items()):
    samples = m.decode_indices(m.sample_latent(200, seed=1))
    nov[name] = metrics.novelty(samples, train.indices)
    nn, dist = nearest(samples[:6])
    pair = np.concatenate([m.palette.decode(samples[:6]), train.rgba(nn)])
    pk.plot.show_grid(pair, cols=6, scale=3, ax=ax)
    ax.set_title(f"{name}: samples (top) and nearest training punks (bottom); "
                 f"distances {dist.tolist()} pixels", fontsize=9)
plt.tight_layout()
plt.show()

summary = pd.DataFrame({
    name: {"-ELBO (nats/image)": elbos[name]["neg_elbo"],
           "reconstruction NLL": elbos[name]["reconstruction_nll"],
           "KL": elbos[name]["kl"],
           "novel samples %": 100 * nov[name]["novelty"],
           "mean pixels to nearest train punk": nov[name]["nearest_hamming"],
           "parameters": m.count_params()}
    for name, m in models.items()}).T
summary["parameters"] = summary["parameters"].astype(int)
pd.options.display.float_format = "{:.1f}".format
display(summary)

# %%
print(f"notebook ran in {time.time() - T_START:.0f} s")
