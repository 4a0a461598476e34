#!/usr/bin/env python3
"""Attention-entropy figures: `ctxext eval entropy --plot` (the paper's Figure 1: entropy of a query
against the number of keys it sees, one line per layer, with the uniform-attention reference ln n)
and the per-layer panels of plot_ablation.py.

Usage: plot_entropy.py ENTROPY.json OUT.png
ENTROPY.json: ctxext's entropy results, a list of {"length", "samples", "per_layer", ...}.
"""
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def draw_per_layer(ax, series, length):
    """One panel at one context length: entropy per layer for each (label, per_layer, low, high) in
    series; low/high (per layer, entries None where there is no interval) draw error bars, None:
    none."""
    for label, per_layer, low, high in series:
        below = [0.0 if lo is None else m - lo for m, lo in zip(per_layer, low)] if low else None
        above = [0.0 if hi is None else hi - m for m, hi in zip(per_layer, high)] if high else None
        bars = [below, above] if below is not None and any(below + above) else None
        ax.errorbar(range(len(per_layer)), per_layer, yerr=bars, marker="o", capsize=3, label=label)
    ax.axhline(math.log(length), color="grey", linestyle="--", label=f"uniform: ln {length} = {math.log(length):.2f}")
    layers = max(len(s[1]) for s in series)
    ax.set_xticks(range(layers))
    ax.set_xlabel("layer")
    ax.set_ylabel("entropy (nats)")
    ax.set_title(f"last query over {length} keys")
    ax.legend(fontsize=7)


def draw_vs_length(ax, probes):
    """Entropy against the number of keys n (one line per layer) and ln n, the entropy of uniform attention."""
    probes = sorted(probes, key=lambda p: p["length"])
    lengths = [p["length"] for p in probes]
    for layer in range(len(probes[0]["per_layer"])):
        ax.plot(lengths, [p["per_layer"][layer] for p in probes], marker="o", label=f"layer {layer}")
    ax.plot(lengths, [math.log(n) for n in lengths], color="black", linestyle="--", label="uniform: ln n")
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.set_xlabel("keys seen by the query n (query position + 1)")
    ax.set_ylabel("attention entropy (nats), mean over heads")
    samples = probes[0].get("samples", 1)
    ax.set_title(f"Attention entropy per layer ({samples} sample{'s' if samples != 1 else ''})")
    ax.legend(fontsize=7)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        probes = json.load(f)
    if not probes:
        sys.exit(f"{sys.argv[1]}: no entropy results to plot")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    draw_vs_length(ax, probes)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
