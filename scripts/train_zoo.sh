#!/usr/bin/env bash
# Trains every zoo preset from its recipe, one at a time, skipping finished
# ones; a cut run resumes (per-epoch BackupAndRestore in zoo/.work/NAME).
# Usage: scripts/train_zoo.sh [NAME ...]   (default: all, in priority order)
# ZOO_OUT=DIR writes the presets to DIR/NAME instead of zoo/NAME (to compare
# a retrained preset with the shipped one before replacing it).
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ORDER="onehot_vae onehot_conv_ae onehot_conv_vae cvae conv_cvae earring_gsvae rgba_ae rgba_conv_ae onehot_ae labeled_vae labeled_conv_vae labeled_cvae labeled_conv_cvae gsvae labeled_gsvae"
names=${*:-$ORDER}
OUT=${ZOO_OUT:-zoo}
mkdir -p zoo/.work "$OUT"
for n in $names; do
  if [ -f "$OUT/$n/metadata.json" ]; then echo "skip $n (done)"; continue; fi
  echo "=== $n $(date +%T)"
  backend=$($PY -c "import json;print(json.load(open('zoo/recipes/$n.json')).get('backend','jax'))")
  # The library call `pallets train --recipe` makes, without the CLI around it.
  KERAS_BACKEND=$backend PYTHONUNBUFFERED=1 $PY -c "import sys; from pallets_keras.training \
import train_recipe; train_recipe(sys.argv[1], sys.argv[2])" "zoo/recipes/$n.json" "$OUT/$n" \
      > "zoo/.work/$n.log" 2>&1 || { echo "FAILED $n (see zoo/.work/$n.log)"; }
done
echo "all done $(date +%T)"
