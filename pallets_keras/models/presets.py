"""`PresetMixin`: a `PaletteAutoencoder`'s keras-hub style preset methods.

`from_preset`, `presets` and `save_to_preset` are the class' short forms of
`pallets_keras.zoo` (`zoo.load`, `zoo.list_models`, `zoo.save_preset`), where
the preset format lives. `PaletteAutoencoder` inherits them.
"""


class PresetMixin:
    """Loading, listing and saving presets (pretrained weights), keras-hub style.

    A mixin of `PaletteAutoencoder`: each method calls `pallets_keras.zoo`,
    which reads and writes the preset folders (weights, config, priors and
    metadata).

    Example:
    >>> from pallets_keras.models import PaletteAutoencoder
    >>> "onehot_conv_vae" in PaletteAutoencoder.presets()
    True
    """

    @classmethod
    def from_preset(cls, preset, palette=None, image_size=None, compile=True, seed=0):
        """Loads a preset, the keras-hub way (`zoo.load` is the short form).

        Args:
            preset: a shipped preset's name (`PaletteAutoencoder.presets()`)
                or a preset folder's path.
            palette, image_size, compile, seed: as in `zoo.load` (a new
                palette or size adapts the palette ends for fine-tuning).

        Returns:
            A `PaletteAutoencoder` with its priors.

        Raises:
            PresetError: unknown name, damaged or foreign files.

        Example:
        >>> from pallets_keras.models import PaletteAutoencoder
        >>> model = PaletteAutoencoder.from_preset("onehot_conv_vae")
        """
        from pallets_keras import zoo

        return zoo.load(preset, palette=palette, image_size=image_size, compile=compile,
                        seed=seed)

    @staticmethod
    def presets(pattern="*"):
        """Names of the shipped presets (pretrained weights), sorted; the
        architectures are `pallets_keras.models.list_variants()`.

        Example:
        >>> from pallets_keras.models import PaletteAutoencoder
        >>> PaletteAutoencoder.presets("*cvae")
        ['conv_cvae', 'cvae', 'labeled_conv_cvae', 'labeled_cvae']
        """
        from pallets_keras import zoo

        return zoo.list_models(pattern)

    def save_to_preset(self, preset_dir, metadata=None, overwrite=False):
        """Writes this model (weights, config, priors, metadata) as a preset
        folder that `from_preset` reads, atomically (`zoo.save_preset`).

        Args:
            preset_dir: str or Path, the folder.
            metadata: optional dict recorded in `metadata.json`.
            overwrite: replace a folder that is not a preset, or a file.

        Returns:
            The folder's Path.

        Raises:
            PalletsFileError: the place is a file or a foreign folder.

        Example:
        >>> model.save_to_preset("my_preset/")
        """
        from pallets_keras import zoo

        return zoo.save_preset(self, preset_dir, metadata=metadata, overwrite=overwrite)
