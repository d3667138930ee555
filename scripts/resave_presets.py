"""Re-saves presets with the current `zoo.save_preset` (keeps metadata; refreshes hashes).

Usage: python scripts/resave_presets.py [NAME ...]
"""

import sys

from pallets_keras import zoo

GENERATED = ("files", "format_version", "keras_version", "pallets_keras_version",
             "parameter_count")

for name in sys.argv[1:] or zoo.list_models():
    meta = zoo.info(name)
    model = zoo.load(name, compile=False)
    keep = {k: v for k, v in meta.items() if k not in GENERATED}
    zoo.save_preset(model, zoo.zoo_root() / name, metadata=keep)
    print("re-saved", name)
