"""Seeding without side effects: `set_random_seed`."""

import random

import keras
import numpy as np


def set_random_seed(seed):
    """`keras.utils.set_random_seed`, without importing TensorFlow on JAX or torch.

    Keras 3.15's version also seeds TensorFlow whenever it is installed, which
    imports it (about 5 s and 700 MB per process) into every JAX or torch
    search process. Falls back to Keras' own when its internals move.
    """
    if keras.backend.backend() != "tensorflow":
        try:
            from keras.src.backend.common import global_state
            from keras.src.random import seed_generator
            from keras.src.utils import rng_utils

            global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
            global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
        except (ImportError, AttributeError):
            pass
        else:
            random.seed(seed)
            np.random.seed(seed)
            if keras.backend.backend() == "torch":
                import torch

                torch.manual_seed(seed)
            return
    keras.utils.set_random_seed(seed)
