"""The conditioning axis: where labels enter the model.

| name        | labels into the encoder | into the decoder (steer generation) |
| ----------- | ----------------------- | ----------------------------------- |
| none        | no                      | no                                  |
| labeled     | yes                     | no                                  |
| conditional | yes                     | yes                                 |

Each value is a small class registered with `register_conditioning`.
"""

from pallets_keras.models.registry import register_conditioning


class Conditioning:
    """One value of the conditioning axis (stateless; the registry keeps one).

    Attributes:
        name: str, the registered name.
        encoder_labels: bool, the encoder (and so the model) takes labels.
        decoder_labels: bool, the decoder takes them too: they steer generation.
    """

    name = None
    encoder_labels = False
    decoder_labels = False

    def __repr__(self):
        return f"{type(self).__name__}()"


@register_conditioning
class NoConditioning(Conditioning):
    """No labels anywhere."""

    name = "none"


@register_conditioning
class LabeledConditioning(Conditioning):
    """Labels into the encoder only, as the original LabeledVAE: the decoder
    never sees them, so they cannot steer generation."""

    name = "labeled"
    encoder_labels = True


@register_conditioning
class ConditionalConditioning(Conditioning):
    """Labels into the encoder and the decoder (a CVAE): they steer generation."""

    name = "conditional"
    encoder_labels = True
    decoder_labels = True
