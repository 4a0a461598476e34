#!/usr/bin/env python3
"""Plots of a ctxext ablation grid (ctxext ablate writes results.json, then runs this).

Usage: plot_ablation.py RESULTS.json OUT_DIR
RESULTS.json's "methods": one entry per method x data size, each metric the mean over seeds with its
95% interval (Student-t over seeds; "low"/"high" null for one seed). Writes to OUT_DIR:
  ppl_vs_length.png       perplexity vs evaluation length, one line per method, a panel per data size
                          (the paper's Figure 3 shape: robustness across context windows)
  passkey_vs_length.png   passkey accuracy vs prompt length, the same layout
  ppl_vs_size.png         perplexity vs number of training samples, a panel per evaluation length
  passkey_vs_size.png     (the paper's Figure 2 shape: data efficiency), when the grid has > 1 size
  passkey_<method>.png    accuracy heatmap, length x depth, at the largest data size, pooled over seeds
  passkey_all.png         every method's heatmap side by side, one colour scale
  entropy_per_layer.png   attention entropy of the last query per layer, a panel per length, at the
                          largest data size (drawn by plot_entropy.py; bars when there are > 1 seeds)
Error bars: the t interval over seeds; a passkey point of a single seed shows the Wilson interval of
its trials instead, since it has no seed interval.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from plot_entropy import draw_per_layer  # noqa: E402  (beside this script)


def yerr(points, mean_key="mean"):
    """Asymmetric error bars [[below...], [above...]] from each point's low/high (0 where absent;
    a passkey point of one seed falls back to its Wilson interval)."""
    below, above = [], []
    for p in points:
        low, high = p.get("low"), p.get("high")
        if low is None and "wilson_low" in p:
            low, high = p["wilson_low"], p["wilson_high"]
        below.append(0.0 if low is None else p[mean_key] - low)
        above.append(0.0 if high is None else high - p[mean_key])
    return [below, above]


def passkey_grid(cells):
    """(lengths, depths, accuracy[depth][length]) of one entry's passkey cells."""
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


def colour(entries, name):
    """One colour per method in every figure: matplotlib's cycle in the order methods first appear."""
    return f"C{list(dict.fromkeys(e['name'] for e in entries)).index(name) % 10}"


def size_label(entry):
    return "base, untrained" if entry["num_samples"] is None else f"{entry['num_samples']} samples"


def seeds_note(entries):
    counts = sorted({e["n"] for e in entries if e["num_samples"] is not None})
    return f"seeds per point: {', '.join(map(str, counts))}; bars: 95% t interval over seeds"


def panels(count, width=4.6, height=3.6):
    fig, axes = plt.subplots(1, count, figsize=(width * count + 1.8, height), squeeze=False)
    return fig, axes[0]


def save(fig, out, name):
    fig.savefig(os.path.join(out, name), dpi=120, bbox_inches="tight")
    plt.close(fig)


def label_axes(ax, metric, ticks, xlabel, ylabel, title):
    """Plain tick labels at `ticks` on a log x axis; perplexity on a log y axis."""
    ax.set_xticks(ticks, [str(n) for n in ticks])
    ax.minorticks_off()
    if metric == "ppl":
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def finish(fig, axes, title, out, name):
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, out, name)


def plot_vs_length(entries, sizes, metric, ylabel, title, out, name):
    """metric (a list of {length, mean, low, high}) vs evaluation length, a panel per data size."""
    base = [e for e in entries if e["num_samples"] is None and e.get(metric)]
    fig, axes = panels(len(sizes))
    for ax, size in zip(axes, sizes):
        shown = base + [e for e in entries if e["num_samples"] == size and e.get(metric)]
        for e in shown:
            points = e[metric]
            ax.errorbar([p["length"] for p in points], [p["mean"] for p in points], yerr=yerr(points), marker="o",
                        capsize=3, linestyle="--" if e["num_samples"] is None else "-", label=e["name"],
                        color=colour(entries, e["name"]))
        ax.set_xscale("log", base=2)
        label_axes(ax, metric, sorted({p["length"] for e in shown for p in e[metric]}), "evaluation length (tokens)",
                   ylabel, f"trained on {size} samples")
        mark_contexts(ax, shown)
    finish(fig, axes, f"{title} ({seeds_note(entries)})", out, name)


def plot_vs_size(entries, sizes, metric, ylabel, title, out, name):
    """metric vs number of training samples, a panel per evaluation length; the untrained base as a
    dashed horizontal line."""
    lengths = sorted({p["length"] for e in entries for p in e.get(metric, [])})
    fig, axes = panels(len(lengths), width=3.8)
    for ax, length in zip(axes, lengths):
        for method in dict.fromkeys(e["name"] for e in entries):
            series = [(e["num_samples"], p) for e in entries if e["name"] == method for p in e.get(metric, [])
                      if p["length"] == length]
            if not series:
                continue
            if series[0][0] is None:
                ax.axhline(series[0][1]["mean"], color=colour(entries, method), linestyle="--",
                           label=f"{method} (untrained)")
                continue
            series.sort(key=lambda s: s[0])
            points = [p for _, p in series]
            ax.errorbar([n for n, _ in series], [p["mean"] for p in points], yerr=yerr(points), marker="o", capsize=3,
                        label=method, color=colour(entries, method))
        ax.set_xscale("log")
        label_axes(ax, metric, sizes, "training samples", ylabel, f"at {length} tokens")
    finish(fig, axes, f"{title} ({seeds_note(entries)})", out, name)


def plot_passkey_maps(shown, out):
    for e in shown:
        lengths, depths, grid = passkey_grid(e["passkey_cells"])
        fig, ax = plt.subplots(figsize=(1.2 + 0.8 * len(lengths), 1.2 + 0.5 * len(depths)))
        im = draw_passkey(ax, lengths, depths, grid, f"passkey: {e['name']} ({size_label(e)})")
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        save(fig, out, f"passkey_{e['name']}.png")
    cols = min(4, len(shown))
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for i, (ax, e) in enumerate(zip(axes.flat, shown)):
        im = draw_passkey(ax, *passkey_grid(e["passkey_cells"]), e["name"])
        ax.set_ylabel("needle depth")
        if i % cols:  # the depth axis is labelled once per row
            ax.set_ylabel("")
            ax.set_yticklabels([])
        if i + cols < len(shown):
            ax.set_xlabel("")
    sizes = sorted({e["num_samples"] for e in shown if e["num_samples"] is not None})
    trained = f"trained on {sizes[-1]} samples, " if sizes else ""
    fig.suptitle(f"Passkey accuracy per method ({trained}trials pooled over seeds; depth 0 = start, 1 = end)")
    fig.subplots_adjust(hspace=0.45, wspace=0.25, right=0.85)
    fig.colorbar(im, ax=axes, shrink=0.8, label="passkey accuracy")
    save(fig, out, "passkey_all.png")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        results = json.load(f)
    out = sys.argv[2]
    entries = results["methods"]
    sizes = sorted({e["num_samples"] for e in entries if e["num_samples"] is not None})
    # The heatmaps and the entropy panels show one data size: the largest (and the untrained base).
    shown = [e for e in entries if e["num_samples"] is None or (sizes and e["num_samples"] == sizes[-1])]

    if any(e.get("ppl") for e in entries) and sizes:
        plot_vs_length(entries, sizes, "ppl", "perplexity", "Perplexity vs evaluation length", out, "ppl_vs_length.png")
    if any(e.get("passkey") for e in entries) and sizes:
        plot_vs_length(entries, sizes, "passkey", "passkey accuracy", "Passkey accuracy vs prompt length", out,
                       "passkey_vs_length.png")
    if len(sizes) > 1:
        if any(e.get("ppl") for e in entries):
            plot_vs_size(entries, sizes, "ppl", "perplexity", "Perplexity vs training samples", out, "ppl_vs_size.png")
        if any(e.get("passkey") for e in entries):
            plot_vs_size(entries, sizes, "passkey", "passkey accuracy", "Passkey accuracy vs training samples", out,
                         "passkey_vs_size.png")

    with_passkey = [e for e in shown if e.get("passkey_cells")]
    if with_passkey:
        plot_passkey_maps(with_passkey, out)

    lengths = sorted({p["length"] for e in shown for p in e.get("entropy", [])})
    if lengths:
        fig, axes = plt.subplots(1, len(lengths), figsize=(4 * len(lengths), 3.5), squeeze=False)
        for ax, length in zip(axes[0], lengths):
            series = [(e["name"], p["per_layer"], p.get("per_layer_low"), p.get("per_layer_high"))
                      for e in shown for p in e.get("entropy", []) if p["length"] == length]
            draw_per_layer(ax, series, length)
        trained = f", trained on {sizes[-1]} samples" if sizes else ""
        fig.suptitle(f"Attention entropy of the last query, mean over heads{trained} (bars: 95% t interval over seeds)")
        fig.tight_layout()
        save(fig, out, "entropy_per_layer.png")


if __name__ == "__main__":
    main()
