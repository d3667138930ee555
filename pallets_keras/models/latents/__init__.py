"""The latent axis: what the encoder's code is and how z is drawn from it.

One class per value, each in its own module and registered with
`pallets_keras.models.registry.register_latent`; importing this package
registers the built-in ones (adding a latent: one module plus its import
line here, or a module of your own that you import; docs/architecture.md).
"""

from pallets_keras.models.latents.base import KL_METRIC, Latent
from pallets_keras.models.latents.gaussian import GaussianLatent
from pallets_keras.models.latents.gumbel import GumbelLatent
from pallets_keras.models.latents.none import NoLatent
from pallets_keras.models.latents.vector_quantized import VectorQuantizedLatent

__all__ = ["KL_METRIC", "Latent", "NoLatent", "GaussianLatent", "GumbelLatent",
           "VectorQuantizedLatent"]
