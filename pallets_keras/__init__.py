"""pallets_keras: palette-exact pixel-art autoencoders for Keras 3."""

from pallets_keras.version import __version__
from pallets_keras.palette import Palette, SnapReport
from pallets_keras import datasets
from pallets_keras import layers, losses, models
from pallets_keras import metrics, plot, zoo
from pallets_keras.training import finetune, fit
