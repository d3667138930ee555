"""Measures zoo presets against the baseline and checks them for collapse.

    KERAS_BACKEND=jax python scripts/check_collapse.py [NAME ...]

For each preset (default: all), on the test split (punks 9000-9999): pixel
accuracy and foreground accuracy against the constant most-common-colour image
(`metrics.baseline`), the foreground margin, the KL against its ceiling
(Gumbel VAEs), and `metrics.collapse`'s verdicts (collapsed, saturated,
beats the baseline by 10 foreground points). Prints a Markdown table and
writes the figures as JSON to stdout's last line.
"""

import json
import sys


def main(names):
    from pallets_keras import metrics, zoo
    from pallets_keras.datasets import cpunks

    ds = cpunks.load()
    train, test = ds.split()
    base = metrics.baseline(train.indices, test.indices, ds.palette)
    print(f"baseline (constant image): pixel accuracy {100 * base['pixel_accuracy']:.2f}%, "
          f"foreground {100 * base['pixel_accuracy_foreground']:.2f}%")
    print("| preset | pixel acc | fg acc | fg margin | dependence | distinct recon | KL | "
          "KL ceiling | collapsed | saturated | beats baseline |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = {}
    for name in names or zoo.list_models():
        model = zoo.load(name)
        data = test if model.conditioning == "none" else test.select_labels(model.label_names)
        c = metrics.collapse(model, data, train=train)
        rows[name] = c
        kl = "" if c["kl"] is None else f"{c['kl']:.2f}"
        ceiling = "" if c["kl_ceiling"] is None else f"{c['kl_ceiling']:.2f}"
        why = [k for k in ("input_independent", "kl_near_zero") if c[k]]
        print(f"| `{name}` | {100 * c['pixel_accuracy']:.2f}% | "
              f"{100 * c['pixel_accuracy_foreground']:.2f}% | "
              f"{100 * c['margin_foreground']:+.2f} | {c['dependence']:.3f} | "
              f"{100 * c['distinct_reconstructions']:.1f}% | {kl} | {ceiling} | "
              f"{'yes (' + ', '.join(why) + ')' if c['collapsed'] else 'no'} | "
              f"{'yes' if c['saturated'] else 'no'} | "
              f"{'yes' if c['beats_baseline'] else 'no'} |", flush=True)
    print(json.dumps({"baseline": base, "presets": rows}))


if __name__ == "__main__":
    main(sys.argv[1:])
