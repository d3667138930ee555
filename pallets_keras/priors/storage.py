"""How a preset stores its priors: configs in metadata, arrays in `priors.npz`.

The arrays file is written with `np.savez` and read with
`allow_pickle=False`, and it is hashed with the preset's other files.
"""

import numpy as np

from pallets_keras.priors.base import get_prior_class

PRIORS_FILE = "priors.npz"


def save_priors(model, folder):
    """Writes `model`'s fitted priors into `folder`; returns the metadata
    entries to record ({"priors": {name: {kind, config}}, "default_prior"}, and
    "default_guidance_scale" when it is not 1: how the preset samples by
    default), or {} for a model without any (a plain autoencoder without a
    fitted one)."""
    extra = ({"default_guidance_scale": model.default_guidance_scale}
             if model.default_guidance_scale != 1.0 else {})
    if not model.priors:
        return extra
    arrays, table = {}, {}
    for name, prior in model.priors.items():
        table[name] = {"kind": prior.kind, "config": prior.get_config()}
        for key, value in prior.get_arrays().items():
            arrays[f"{name}/{key}"] = np.asarray(value)
    if arrays:
        np.savez(folder / PRIORS_FILE, **arrays)
    return {"priors": table, "default_prior": model.default_prior, **extra}


def load_priors(model, folder, metadata):
    """Attaches the priors recorded in a preset's `metadata` to `model`."""
    table = metadata.get("priors") or {}
    arrays = {}
    if (folder / PRIORS_FILE).is_file():
        with np.load(folder / PRIORS_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    for name, entry in table.items():
        own = {key.split("/", 1)[1]: value for key, value in arrays.items()
               if key.split("/", 1)[0] == name}
        prior = get_prior_class(entry["kind"]).from_config(entry["config"], own)
        model.add_prior(prior, name=name, default=name == metadata.get("default_prior"))
    if "default_guidance_scale" in metadata:
        model.set_default_guidance_scale(metadata["default_guidance_scale"])
