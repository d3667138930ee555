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
# # 06 · The Gumbel-Softmax VAE and the earring
#
# **What this studies.** The original study's last model: a Gumbel-Softmax VAE
# (32 categorical latent variables of 16 classes each), conditioned in the
# encoder and the decoder on the attributes, asked to draw punks with and without
# an earring. The zoo preset `earring_gsvae` is trained on the fixed
# visible-earring labels.
#
# **What it shows.**
#
# - its earring hit rate asked on and off (`metrics.earring_control`, 500
#   samples, the visible-earring detector as judge), and a grid of samples asked
#   with and without an earring (same latent draws, same other labels);
# - a **short demonstration** of what the label fix changes. No preset is trained
#   on the original labels, and training one takes far longer than this
#   notebook may run, so we fine-tune two copies of the preset for one epoch on
#   the same 3,000 training punks, with the same seed and the same steps: one
#   with the data set's original `earring` labels (483 punks labelled with no
#   visible earring), one with the visible-earring labels. We compare their hit
#   rates. This is a demonstration of the direction of the effect over a few
#   dozen steps, not a comparison of two fully trained models.

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

ds = cpunks.load()                                   # visible-earring labels
ds_orig = cpunks.load(earring="original")            # the data set's own
train, test = ds.split()
model = zoo.load("earring_gsvae", compile=False)
meta = zoo.info("earring_gsvae")
E = model.label_names.index("earring")
print(f"earring_gsvae: latent {model.latent_shape} (variables x classes), "
      f"{model.count_params():,} parameters, trained on "
      f"{meta['recipe']['data'].get('earring', 'visible')!r} earring labels")

# %% [markdown]
# ## Hit rate, asked on and off
#
# 500 latent draws (seed 0); the other labels of each draw come from a random
# test punk; only the `earring` request changes.

# %%
N = 500
ctrl = metrics.earring_control(model, test.labels, n=N, seed=0)
print(f"asked for an earring: {100 * ctrl['earring_hit_rate_on']:.1f}% of {N} samples wear one")
print(f"asked for none:       {100 * ctrl['earring_hit_rate_off']:.1f}% of {N} samples wear one")

# %% [markdown]
# ## The same request, per prior
#
# Above, the latent draws come from the uniform categorical prior the model was
# trained against, which knows nothing of the request. Its other priors
# (docs/priors.md): a mixture of categoricals fitted to the training codes, and
# `label_posterior`, the codes of training punks whose labels match the request.
# `sample_quality.sample_figures` gives, per prior, the punk judge's sample
# figures, the attributes it reads back and the earring rates (pixel detector,
# dict and test-row requests), on 200 samples each; the first row is what the
# preset recorded for its default prior on 1,000 samples (its `sample_*`
# metrics, docs/zoo.md "Samples"). The preset samples from
# `model.default_prior` unless told.

# %%
from pallets_keras.judge import Judge
from pallets_keras.sample_quality import sample_figures

judge = Judge.from_preset("punk_judge")
rows = {f"{meta.get('sample_prior', '?')} (recorded, 1,000 samples)":
        {k.removeprefix("sample_"): v for k, v in meta["metrics"].items()
         if k.startswith("sample_")}}
for prior in sorted(model.priors):
    rows[f"{prior} (200 samples)"] = sample_figures(model, judge, test, n=200, seed=0,
                                                    prior=prior)
print("default prior:", model.default_prior)
display(pd.DataFrame(rows).T.round(3))
print(f"real test punks:      {100 * test.label('earring').mean():.1f}% wear one")

# %%
n_show = 16
rows = np.random.default_rng(1).integers(0, len(test), n_show)
z = model.sample_latent(n_show, seed=1, prior="training")
lab = test.labels[rows].astype("float32")
lab[:, E] = 1
with_e = model.decode(z, lab)
lab[:, E] = 0
without = model.decode(z, lab)

fig, axes = plt.subplots(2, 1, figsize=(13, 3.4))
pk.plot.show_grid(with_e, cols=n_show, scale=3, ax=axes[0],
                  title=f"asked earring = 1: {int(cpunks.visible_earrings(with_e).sum())}/"
                        f"{n_show} wear one")
pk.plot.show_grid(without, cols=n_show, scale=3, ax=axes[1],
                  title=f"asked earring = 0: {int(cpunks.visible_earrings(without).sum())}/"
                        f"{n_show} wear one (same codes, same other labels)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## A short demonstration: original labels versus visible labels
#
# Two copies of the preset, each fine-tuned for **one epoch** on training punks
# 0-2999 (47 steps of 64), same seed, same learning rate, the Gumbel temperature
# held where the preset's training left it. The only difference is the
# `earring` column of the labels: the data set's own, or the visible-earring fix.
# In these 3,000 punks:

# %%
SUB = slice(0, 3000)
sub_vis = ds[SUB]
sub_orig = ds_orig[SUB]
n_hidden = int(((sub_orig.label("earring") == 1) & (sub_vis.label("earring") == 0)).sum())
print(f"earring labels: original {sub_orig.label('earring').sum()}, "
      f"visible {sub_vis.label('earring').sum()} "
      f"({n_hidden} punks labelled earring with none drawn)")

import keras

tau = float(keras.ops.convert_to_numpy(model.sampler.tau))   # the preset's final temperature
FIT = dict(epochs=1, batch_size=64, learning_rate=5e-4, seed=0, verbose=0,
           temperature={"tau0": tau, "tau_min": tau, "rate": 0.0})
print(f"Gumbel temperature held at {tau:.3f}")
tuned, curves = {}, {}
for which, data in (("original labels", sub_orig), ("visible labels", sub_vis)):
    m = zoo.load("earring_gsvae")
    t0 = time.time()
    h = pk.fit(m, data, **FIT)
    tuned[which] = m
    print(f"fine-tuned on {which}: loss {h.history['loss'][-1]:.1f} nats/image "
          f"({time.time() - t0:.0f} s)")

# %%
results = {"preset (visible labels, fully trained)": ctrl}
for which, m in tuned.items():
    results[f"+1 epoch, {which}"] = metrics.earring_control(m, test.labels, n=N, seed=0)
table = pd.DataFrame({k: {"asked earring = 1 (%)": 100 * v["earring_hit_rate_on"],
                          "asked earring = 0 (%)": 100 * v["earring_hit_rate_off"]}
                      for k, v in results.items()}).T

fig, ax = plt.subplots(figsize=(9, 3.6))
x = np.arange(len(table))
b1 = ax.bar(x - 0.2, table.iloc[:, 0], 0.4, color="goldenrod", label="asked earring = 1")
b0 = ax.bar(x + 0.2, table.iloc[:, 1], 0.4, color="gray", label="asked earring = 0")
ax.bar_label(b1, fmt="%.1f", fontsize=8)
ax.bar_label(b0, fmt="%.1f", fontsize=8)
ax.set_xticks(x)
ax.set_xticklabels(table.index, fontsize=8)
ax.set_ylabel(f"% of {N} samples with a visible earring")
ax.set_ylim(0, 110)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

d_on = table.iloc[2, 0] - table.iloc[1, 0]
print(f"hit rate asked on: original-label copy {table.iloc[1, 0]:.1f}%, visible-label copy "
      f"{table.iloc[2, 0]:.1f}% (difference {d_on:+.1f} points)")
# Each rate is a share of N samples; its binomial standard error, for scale:
se = 100 * np.sqrt(np.clip(table.iloc[:, 0] / 100 * (1 - table.iloc[:, 0] / 100), 1e-9, None) / N)
print("binomial standard error of each 'asked on' rate (points):",
      np.round(se.to_numpy(), 1).tolist())
pd.options.display.float_format = "{:.1f}".format
display(table)

# %% [markdown]
# ## What the demonstration can and cannot say
#
# The two fine-tuned copies differ only in one label column, so a gap between
# their "asked on" rates comes from the mislabelled punks (483 in the data set,
# 164 of them in this subset): when `earring = 1` sometimes means "no earring drawn",
# the decoder learns that the request is not always to be honoured. The figures
# above are what one epoch of 47 steps does to an already trained model, with
# the numbers as they come out of this run: a small or even reversed gap here
# would not contradict the effect, and a large one would not measure it. A fair
# comparison trains both models from scratch with the full recipe
# (`pallets train --recipe zoo/recipes/earring_gsvae.json` with
# `"earring": "original"` in its data section) and compares them on the same
# samples.

# %%
print(f"notebook ran in {time.time() - T_START:.0f} s")
