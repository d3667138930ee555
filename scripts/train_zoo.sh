#!/usr/bin/env bash
# Trains every zoo preset from its recipe, one at a time, skipping finished
# ones; a cut run resumes (per-epoch BackupAndRestore in zoo/.work/NAME).
# Usage: scripts/train_zoo.sh [NAME ...]   (default: all, in priority order)
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ORDER="onehot_vae onehot_conv_ae onehot_conv_vae cvae conv_cvae earring_gsvae rgba_ae rgba_conv_ae onehot_ae labeled_vae labeled_conv_vae labeled_cvae labeled_conv_cvae gsvae labeled_gsvae"
names=${*:-$ORDER}
mkdir -p zoo/.work
for n in $names; do
  if [ -f "zoo/$n/metadata.json" ]; then echo "skip $n (done)"; continue; fi
  echo "=== $n $(date +%T)"
  backend=$($PY -c "import json;print(json.load(open('zoo/recipes/$n.json')).get('backend','jax'))")
  KERAS_BACKEND=$backend $PY -m pallets_keras.cli train --recipe "zoo/recipes/$n.json" \
      -o "zoo/$n" > "zoo/.work/$n.log" 2>&1 || { echo "FAILED $n (see zoo/.work/$n.log)"; }
done
echo "all done $(date +%T)"
