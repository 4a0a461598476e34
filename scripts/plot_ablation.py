#!/usr/bin/env python3
"""Plots of a ctxext ablation (ctxext ablate writes results.json, then runs this).

Usage: plot_ablation.py RESULTS.json OUT_DIR
Writes OUT_DIR/ppl_vs_length.png (perplexity vs evaluation length, one line per method),
OUT_DIR/passkey_<method>.png (accuracy heatmap, length x depth), OUT_DIR/passkey_all.png (every
method's heatmap side by side, one colour scale) and OUT_DIR/entropy_per_layer.png
(attention entropy of the last query, mean over heads, per layer; one panel per length, drawn by
plot_entropy.py).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from plot_entropy import draw_per_layer  # noqa: E402  (beside this script)


def passkey_grid(cells):
    """(lengths, depths, accuracy[depth][length]) of one method's passkey cells."""
    lengths = sorted({c["length"] for c in cells})
    depths = sorted({c["depth"] for c in cells})
    grid = [[next(c["accuracy"] for c in cells if c["length"] == l and c["depth"] == d) for l in lengths]
            for d in depths]
    return lengths, depths, grid


def draw_passkey(ax, lengths, depths, grid, title):
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto", origin="lower")
    ax.set_xticks(range(len(lengths)), [str(l) for l in lengths])
    ax.set_yticks(range(len(depths)), [f"{d:g}" for d in depths])
    ax.set_xlabel("prompt length (tokens)")
    ax.set_ylabel("needle depth (0 = start, 1 = end)")
    ax.set_title(title)
    return im


def mark_contexts(ax, methods):
    """Dotted vertical lines at the contexts the methods were built for: the smallest is the base
    model's original context (method none keeps it), the others the extended contexts."""
    contexts = sorted({m["extended_context"] for m in methods if m.get("extended_context")})
    for i, n in enumerate(contexts):
        label = f"original context {n}" if i == 0 and len(contexts) > 1 else f"extended context {n}"
        ax.axvline(n, color="grey" if i == 0 else "black", linestyle=":", linewidth=1, label=label)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        results = json.load(f)
    out = sys.argv[2]
    methods = results["methods"]

    if any(m.get("ppl") for m in methods):
        fig, ax = plt.subplots(figsize=(8, 4.2))
        for m in methods:
            if m.get("ppl"):
                ax.plot([p["length"] for p in m["ppl"]], [p["ppl"] for p in m["ppl"]], marker="o", label=m["name"])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        lengths = sorted({p["length"] for m in methods for p in m.get("ppl", [])})
        ax.set_xticks(lengths, [str(n) for n in lengths])
        ax.minorticks_off()
        mark_contexts(ax, methods)
        ax.set_xlabel("evaluation length (tokens)")
        ax.set_ylabel("perplexity")
        ax.set_title("Perplexity vs evaluation length (sliding windows)")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        fig.tight_layout()
        fig.savefig(os.path.join(out, "ppl_vs_length.png"), dpi=120)
        plt.close(fig)

    with_passkey = [m for m in methods if m.get("passkey")]
    for m in with_passkey:
        lengths, depths, grid = passkey_grid(m["passkey"])
        fig, ax = plt.subplots(figsize=(1.2 + 0.8 * len(lengths), 1.2 + 0.5 * len(depths)))
        im = draw_passkey(ax, lengths, depths, grid, f"passkey: {m['name']}")
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"passkey_{m['name']}.png"), dpi=120)
        plt.close(fig)
    if with_passkey:
        cols = min(4, len(with_passkey))
        rows = (len(with_passkey) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
        for ax in axes.flat[len(with_passkey):]:
            ax.axis("off")
        for i, (ax, m) in enumerate(zip(axes.flat, with_passkey)):
            im = draw_passkey(ax, *passkey_grid(m["passkey"]), m["name"])
            ax.set_ylabel("needle depth")
            if i % cols:  # the depth axis is labelled once per row
                ax.set_ylabel("")
                ax.set_yticklabels([])
            if i + cols < len(with_passkey):
                ax.set_xlabel("")
        fig.suptitle("Passkey accuracy per method (needle depth: 0 = start of the prompt, 1 = end)")
        fig.subplots_adjust(hspace=0.45, wspace=0.25, right=0.85)
        fig.colorbar(im, ax=axes, shrink=0.8, label="passkey accuracy")
        fig.savefig(os.path.join(out, "passkey_all.png"), dpi=120)
        plt.close(fig)

    lengths = sorted({e["length"] for m in methods for e in m.get("entropy", [])})
    if lengths:
        fig, axes = plt.subplots(1, len(lengths), figsize=(4 * len(lengths), 3.5), squeeze=False)
        for ax, length in zip(axes[0], lengths):
            series = [(m["name"], e["per_layer"]) for m in methods for e in m.get("entropy", []) if e["length"] == length]
            draw_per_layer(ax, series, length)
        fig.suptitle("Attention entropy of the last query, mean over heads")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "entropy_per_layer.png"), dpi=120)
        plt.close(fig)

if __name__ == "__main__":
    main()
