"""Model builders: every variant is a `PaletteAutoencoder` composed from parts.

The parts are the values of four axes, one registered class each
(`pallets_keras.models.registry`, docs/architecture.md).
"""

from pallets_keras.models.autoencoder import PaletteAutoencoder
from pallets_keras.models.variants import (
    VARIANTS,
    build,
    list_variants,
    register_variant,
    variant_config,
)

__all__ = ["PaletteAutoencoder", "VARIANTS", "build", "list_variants", "register_variant",
           "variant_config"]
