"""Model builders: every variant is a `PaletteAutoencoder` composed from parts."""

from pallets_keras.models.autoencoder import PaletteAutoencoder
from pallets_keras.models.variants import VARIANTS, build, list_variants, variant_config

__all__ = ["PaletteAutoencoder", "VARIANTS", "build", "list_variants", "variant_config"]
