"""The representation axis: how pixels enter the encoder and leave the decoder.

| name   | input end                        | output end                 | losses              |
| ------ | -------------------------------- | -------------------------- | ------------------- |
| onehot | `Embedding` of the indices       | logits over the palette    | categorical, binary |
| rgba   | `PaletteLookup` (RGBA in [0, 1]) | RGBA in [0, 1] (sigmoid)   | bce, mse            |

Each value is a small class registered with `register_representation`.
"""

import keras
import numpy as np
from keras import ops

from pallets_keras import losses
from pallets_keras.layers import PaletteLookup
from pallets_keras.models.registry import register_representation
from pallets_keras.palette_head import palette_head_crossentropy

# The output end's layer, the same name in every representation: the palette
# head (per-pixel Dense to K logits or to RGBA).
OUTPUT_END = "palette_head"


class Representation:
    """One value of the representation axis (stateless; the registry keeps one).

    Attributes:
        name: str, the registered name.
        output_key: str, the decoder output holding the image.
        losses: tuple of the reconstruction losses it takes, the default first.
        palette_ends: names of the layers whose weights are tied to the
            palette (its input and output ends): what `zoo.adapt` re-creates
            for a new palette and fine-tuning's warm-up trains alone.
    """

    name = None
    output_key = None
    losses = ()
    palette_ends = ()

    def input_end(self, indices, cfg):
        """Indices (batch, H, W) -> per-pixel features (batch, H, W, C)."""
        raise NotImplementedError

    def output_end(self, features, cfg):
        """Per-pixel features -> the decoder's image output."""
        raise NotImplementedError

    def reconstruction(self, indices, outputs, loss, palette_colors):
        """(per-image reconstruction loss (batch,), per-pixel hits (batch, H, W))."""
        raise NotImplementedError

    def fuses_head(self, loss):
        """True when training with `loss` can skip the output end's full
        output and take its loss from the per-pixel features the output end
        reads (`fused_reconstruction`)."""
        return False

    def fused_reconstruction(self, indices, features, head):
        """`reconstruction` from the output end's input `features` and its
        layer `head`, without materializing the output (see `fuses_head`)."""
        raise NotImplementedError

    def check_loss(self, loss):
        if loss not in self.losses:
            raise ValueError(f"reconstruction_loss for {self.name} must be one of "
                             f"{self.losses}, got {loss!r}.")

    def __repr__(self):
        return f"{type(self).__name__}()"


@register_representation
class OneHotRepresentation(Representation):
    """Palette indices in, logits over the K palette colours out: every pixel
    the model draws is a palette colour by construction."""

    name = "onehot"
    output_key = "logits"
    losses = ("categorical", "binary")
    palette_ends = ("palette_embedding", "palette_head")

    def input_end(self, indices, cfg):
        # Unit-scale vectors, like the one-hot they stand for: Keras' default
        # (uniform +-0.05) starves a dense body of signal and stalls training
        # on the mean image.
        return keras.layers.Embedding(
            len(cfg["palette_colors"]), cfg["embedding_dim"], name="palette_embedding",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0))(indices)

    def output_end(self, features, cfg):
        return keras.layers.Dense(len(cfg["palette_colors"]), name=OUTPUT_END)(features)

    def reconstruction(self, indices, outputs, loss, palette_colors):
        logits = outputs["logits"]
        if loss == "binary":
            rec = losses.palette_binary_crossentropy(indices, logits)
        else:
            rec = losses.palette_crossentropy(indices, logits)
        return rec, losses.palette_hits(indices, logits)

    def fuses_head(self, loss):
        return loss == "categorical"

    def fused_reconstruction(self, indices, features, head):
        # The same cross-entropy and hits chunk by chunk of pixels: the
        # (batch, H, W, K) logits are never materialized (palette_head.py).
        return palette_head_crossentropy(indices, features, head.kernel, head.bias)


@register_representation
class RGBARepresentation(Representation):
    """RGBA in [0, 1] in and out, the original study's AE; outputs are
    snapped to the palette afterwards."""

    name = "rgba"
    output_key = "rgba"
    losses = ("bce", "mse")
    palette_ends = ("palette_lookup", "palette_head")

    def input_end(self, indices, cfg):
        return PaletteLookup(cfg["palette_colors"], name="palette_lookup")(indices)

    def output_end(self, features, cfg):
        return keras.layers.Dense(4, activation="sigmoid", name=OUTPUT_END)(features)

    def reconstruction(self, indices, outputs, loss, palette_colors):
        rgba = outputs["rgba"]
        table = ops.convert_to_tensor(np.asarray(palette_colors, "float32") / 255.0)
        target = ops.take(table, ops.cast(indices, "int32"), axis=0)
        rec = (losses.rgba_binary_crossentropy(target, rgba) if loss == "bce"
               else losses.rgba_squared_error(target, rgba))
        hit = ops.cast(ops.all(ops.equal(ops.round(rgba * 255.0),
                                         ops.round(target * 255.0)), axis=-1), "float32")
        return rec, hit
