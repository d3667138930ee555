"""Data sets as palette-indexed `PixelDataset`s."""

from pallets_keras.datasets import cpunks, folder
from pallets_keras.datasets.pixel_dataset import PixelDataset

__all__ = ["PixelDataset", "cpunks", "folder"]
