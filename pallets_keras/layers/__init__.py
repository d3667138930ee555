"""Custom layers, registered for `.keras` serialization."""

from pallets_keras.layers.gaussian_sampling import GaussianSampling
from pallets_keras.layers.gumbel_softmax import GumbelSoftmax
from pallets_keras.layers.label_conditioning import LabelConditioning
from pallets_keras.layers.palette_argmax import PaletteArgmax
from pallets_keras.layers.palette_embedding import PaletteLookup
from pallets_keras.layers.palette_softmax import PaletteSoftmax
from pallets_keras.layers.vector_quantizer import VectorQuantizer

__all__ = ["GaussianSampling", "GumbelSoftmax", "LabelConditioning", "PaletteArgmax",
           "PaletteLookup", "PaletteSoftmax", "VectorQuantizer"]
