"""Trains the punk judge once and writes it to zoo/judges/punk_judge.

    KERAS_BACKEND=jax python scripts/train_judge.py [--epochs 20] [--out DIR]

The judge is a yardstick: retrain it only with a new version number, and
re-measure every preset's sample figures after.
"""

import argparse
import json

from pallets_keras.datasets import cpunks
from pallets_keras.judge import train_judge


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="zoo/judges/punk_judge")
    args = parser.parse_args()
    train, test = cpunks.load(labels="all").split()
    judge = train_judge(train, test, epochs=args.epochs, seed=args.seed)
    judge.save(args.out)
    bal = judge.metadata["balanced_accuracy"]
    worst = sorted((v, k) for k, v in bal.items() if v is not None)[:8]
    print(json.dumps({"mean_balanced_accuracy": judge.metadata["mean_balanced_accuracy"],
                      "worst": worst}, indent=1))


if __name__ == "__main__":
    main()
