"""The model zoo: `list_models`, `info`, `load`, `save_preset`."""

# Loading a preset deserializes `PaletteAutoencoder` and the custom layers by
# their registered names: import them so they are registered.
import pallets_keras.models  # noqa: F401
from pallets_keras.zoo.registry import (
    DamagedPresetError,
    PresetError,
    PresetRecoveryWarning,
    adapt,
    check_save_path,
    info,
    list_models,
    load,
    save_preset,
    zoo_root,
)

__all__ = ["DamagedPresetError", "PresetError", "PresetRecoveryWarning", "adapt",
           "check_save_path", "info", "list_models", "load", "save_preset", "zoo_root"]
