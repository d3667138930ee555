"""`python -m pallets_keras.examples [DIR] [--overwrite]`: writes the example files into DIR."""

import argparse
import sys

from pallets_keras import examples
from pallets_keras.errors import PalletsError


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m pallets_keras.examples",
        description="Writes the README's example files (punk1.png, punk2.png, my_sprites/, "
                    "atlas.png) into DIR.")
    parser.add_argument("dir", nargs="?", default=".", help="folder to write into (default: .)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args(argv)
    try:
        written = examples.copy(args.dir, overwrite=args.overwrite)
    except PalletsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
