"""Recipes rebuild: the recipe's backend is honoured, and one recipe trained twice
gives the same weights (tiny data, one epoch) on every backend: a Gumbel
variant on TensorFlow and PyTorch, a conditional one on JAX."""

import json

import keras
import numpy as np
import pytest
from _backend_share import one_per_backend

from pallets_keras import training, zoo
from pallets_keras.errors import PalletsValueError

BACKEND = keras.backend.backend()
OTHER = {"tensorflow": "jax", "jax": "torch", "torch": "tensorflow"}[BACKEND]


def tiny_recipe(variant="gsvae", backend=BACKEND):
    return {
        "name": f"tiny_{variant}",
        "variant": variant,
        "description": "a tiny recipe for tests",
        "build": {"units": (16,), "latent_dim": 4, "categorical_dim": 3, "embedding_dim": 2,
                  "pixel_channels": 2},
        "fit": {"epochs": 1, "batch_size": 16, "learning_rate": 1e-2, "lr_schedule": "cosine",
                "seed": 3, "kl_warmup_epochs": 1,
                "temperature": {"tau0": 1.0, "tau_min": 0.5, "rate": 0.01, "update_every": 1}},
        "backend": backend,
    }


# One variant per backend (a Gumbel one, a conditional one), in turn: the
# seeding is the same code for every variant, and training twice is the cost.
@pytest.mark.parametrize("variant", one_per_backend({"tensorflow": "gsvae", "jax": "cvae",
                                                     "torch": "gsvae"}))
def test_recipe_trained_twice_gives_identical_weights(variant, tiny_dataset, tmp_path):
    recipe = tiny_recipe(variant)
    models = [training.train_recipe(recipe, tmp_path / f"run{i}" / "preset", verbose=0,
                                    dataset=tiny_dataset)
              for i in range(2)]
    a, b = (m.get_weights() for m in models)
    assert len(a) == len(b) > 0
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    meta = zoo.info(tmp_path / "run0" / "preset")
    assert meta["training"]["backend"] == BACKEND
    assert meta["training"]["keras_version"] == keras.version()
    assert meta["training"]["seed"] == 3 and meta["training"]["epochs_run"] == 1
    assert meta["recipe"]["backend"] == BACKEND
    # The saved preset is the trained model.
    again = zoo.load(tmp_path / "run1" / "preset")
    for wa, wb in zip(a, again.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_recipe_weights_depend_on_the_seed(tiny_dataset, tmp_path):
    recipe = tiny_recipe("onehot_vae")
    first = training.train_recipe(recipe, tmp_path / "a", verbose=0, dataset=tiny_dataset)
    recipe["fit"]["seed"] = 4
    second = training.train_recipe(recipe, tmp_path / "b", verbose=0, dataset=tiny_dataset)
    assert any(not np.array_equal(x, y)
               for x, y in zip(first.get_weights(), second.get_weights()))


def test_recipe_for_another_backend_is_refused(tiny_dataset, tmp_path):
    with pytest.raises(PalletsValueError, match=f"trains on the {OTHER} backend.*"
                                                f"KERAS_BACKEND={OTHER}"):
        training.train_recipe(tiny_recipe(backend=OTHER), tmp_path / "p", verbose=0,
                              dataset=tiny_dataset)
    assert not (tmp_path / "p").exists()
    # A recipe that names no backend trains anywhere.
    training.check_recipe_backend({k: v for k, v in tiny_recipe().items() if k != "backend"})


def test_cli_train_recipe_refuses_another_backend(tmp_path, capsys):
    from pallets_keras import cli

    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(tiny_recipe(backend=OTHER)))
    assert cli.main(["train", "--recipe", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--backend {OTHER}" in err[0], err
    assert not (tmp_path / "out").exists()


def test_shipped_recipes_name_their_backend():
    """Each shipped recipe says where it was trained, so a rebuild elsewhere is refused."""
    for name in zoo.list_models():
        recipe = zoo.info(name)["recipe"]
        assert recipe.get("backend") in ("tensorflow", "jax", "torch"), name
