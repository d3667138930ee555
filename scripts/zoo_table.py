"""Writes docs/zoo.md: every preset's figures on the test split, from its metadata."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pallets_keras.io_utils import atomic_write_text  # noqa: E402

COLUMNS = [("pixel_accuracy", "pixel acc", "{:.2%}"),
           ("pixel_accuracy_foreground", "pixel acc (fg)", "{:.2%}"),
           ("exact_images", "exact images", "{:.1%}"),
           ("palette_adherence", "palette adherence", "{:.2%}"),
           ("neg_elbo", "-ELBO (nats)", "{:.1f}"),
           ("kl", "KL (nats)", "{:.1f}"),
           ("novelty", "novelty", "{:.1%}"),
           ("nearest_hamming", "nearest train (px)", "{:.1f}"),
           ("earring_hit_rate_on", "earring asked", "{:.1%}"),
           ("earring_hit_rate_off", "no earring asked", "{:.1%}")]


def target_check(metrics, targets):
    notes = []
    for key, want in targets.items():
        if key.endswith("_max"):
            got = metrics.get(key[:-4])
            ok = got is not None and got <= want
            notes.append(f"{key[:-4]} <= {want:g}: {'met' if ok else f'MISSED ({got:.3f})'}")
        else:
            got = metrics.get(key)
            ok = got is not None and got >= want
            short = "" if ok else f" by {want - got:.3f}" if got is not None else ""
            notes.append(f"{key} >= {want:g}: {'met' if ok else 'MISSED' + short}")
    return "; ".join(notes)


def main():
    rows, notes = [], []
    for meta_path in sorted((ROOT / "zoo").glob("*/metadata.json")):
        m = json.loads(meta_path.read_text())
        f = m["metrics"]
        cells = [fmt.format(f[k]) if k in f else "" for k, _, fmt in COLUMNS]
        if m["representation"] == "rgba":
            cells[3] = (f"{f['palette_adherence']:.2%} raw, 100% snapped; raw pixel acc "
                        f"{f['pixel_accuracy_raw']:.2%}")
        t = m.get("training", {})
        rows.append(f"| `{m['name']}` | {m['parameter_count']:,} | " + " | ".join(cells)
                    + f" | {t.get('epochs_run', '')} ep, {t.get('seconds', 0) / 60:.1f} min |")
        if m.get("targets"):
            notes.append(f"- `{m['name']}`: {target_check(f, m['targets'])}")
    head = ("| preset | params | " + " | ".join(c for _, c, _ in COLUMNS)
            + " | training (CPU, 2 cores) |")
    lines = ["# The zoo: figures on the test split (punks 9000-9999)", "",
             "Written by `scripts/zoo_table.py` from each preset's `metadata.json`; the figures "
             "were measured by `pallets_keras.metrics.evaluate` right after training. "
             "Reconstructions use the posterior mean; ELBO uses one posterior sample per image; "
             "novelty is over 500 prior samples against the 9,000 training punks; earring rates "
             "over 500 samples whose other labels are rows of the test split.", "",
             head, "|" + " --- |" * (head.count("|") - 1)] + rows
    lines += ["", "## Targets", ""] + notes
    atomic_write_text(ROOT / "docs" / "zoo.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    # The README keeps a short version between two markers.
    short = ["| preset | params | pixel acc | exact images | -ELBO (nats) | earring asked / not |",
             "| --- | --- | --- | --- | --- | --- |"]
    for meta_path in sorted((ROOT / "zoo").glob("*/metadata.json")):
        m = json.loads(meta_path.read_text())
        f = m["metrics"]
        ear = (f"{f['earring_hit_rate_on']:.0%} / {f['earring_hit_rate_off']:.0%}"
               if "earring_hit_rate_on" in f else "")
        elbo = f"{f['neg_elbo']:.0f}" if "neg_elbo" in f else ""
        short.append(f"| `{m['name']}` | {m['parameter_count']:,} | {f['pixel_accuracy']:.2%} | "
                     f"{f['exact_images']:.1%} | {elbo} | {ear} |")
    readme = (ROOT / "README.md").read_text()
    a, b = "<!-- zoo-table -->", "<!-- /zoo-table -->"
    if a in readme and b in readme:
        head, rest = readme.split(a, 1)
        _, tail = rest.split(b, 1)
        readme = head + a + "\n" + "\n".join(short) + "\n" + b + tail
        atomic_write_text(ROOT / "README.md", readme)


if __name__ == "__main__":
    main()
