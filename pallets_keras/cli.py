"""The `pallets` command line (placeholder: train only; grows in cli.py)."""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(prog="pallets")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--recipe", required=True)
    t.add_argument("-o", "--out", required=True)
    args = p.parse_args(argv)
    if args.command == "train":
        from pallets_keras import training
        training.train_recipe(args.recipe, args.out, verbose=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
