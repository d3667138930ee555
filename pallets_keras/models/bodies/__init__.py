"""The body axis: the layers between the palette ends and the latent.

One class per value, each in its own module and registered with
`pallets_keras.models.registry.register_body`; importing this package
registers the built-in ones.
"""

from pallets_keras.models.bodies.base import Body
from pallets_keras.models.bodies.conv import ConvBody
from pallets_keras.models.bodies.dense import DenseBody

__all__ = ["Body", "ConvBody", "DenseBody"]
