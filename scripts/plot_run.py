#!/usr/bin/env python3
"""Training curves of one ctxext run (ctxext plot RUN_DIR runs this after checking metrics.jsonl).

Usage: plot_run.py METRICS.jsonl OUT.png TITLE
Draws, against the optimizer step: the training loss (mean NLL per supervised token; steps skipped
for a non-finite loss are marked with a red x on the axis), the held-out eval loss where rows carry
"eval_loss", and the learning rate. Written to a temporary name, then renamed: never half a PNG.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def main(metrics_path, out_path, title):
    rows = [json.loads(line) for line in open(metrics_path, encoding="utf-8") if line.strip()]
    steps = [r["step"] for r in rows]
    scored = [r for r in rows if r.get("loss") is not None and not r.get("skipped", False)]
    skipped = [r["step"] for r in rows if r.get("loss") is None or r.get("skipped", False)]
    evals = [r for r in rows if r.get("eval_loss") is not None]

    fig, (ax_loss, ax_lr) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, height_ratios=[2, 1])
    ax_loss.plot([r["step"] for r in scored], [r["loss"] for r in scored], marker="o", ms=3, label="train loss")
    if evals:
        ax_loss.plot([r["step"] for r in evals], [r["eval_loss"] for r in evals], marker="s", ms=4,
                     label="eval loss (held out)")
    if skipped:
        bottom = min([r["loss"] for r in scored], default=0.0)
        ax_loss.plot(skipped, [bottom] * len(skipped), "rx", ms=8, label="skipped (non-finite)")
    ax_loss.set_ylabel("loss (NLL / supervised token)")
    ax_loss.set_title(title)
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()

    ax_lr.plot(steps, [r["lr"] for r in rows], marker="o", ms=3, color="tab:green")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_xlabel("optimizer step")
    ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax_lr.grid(alpha=0.3)
    ax_lr.xaxis.set_major_locator(MaxNLocator(integer=True))

    fig.tight_layout()
    tmp = out_path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out_path)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
