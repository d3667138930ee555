"""The model zoo: `list_models`, `info`, `load`, `save_preset`."""

from pallets_keras.zoo.registry import (PresetError, adapt, info, list_models, load,
                                        save_preset, zoo_root)

__all__ = ["PresetError", "adapt", "info", "list_models", "load", "save_preset", "zoo_root"]
