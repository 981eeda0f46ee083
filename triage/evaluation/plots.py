"""Figures for the notebooks, drawn from the tables of ``triage.evaluation.analysis``.

Each function returns a matplotlib ``Figure`` built without pyplot (no global state, no
window); a notebook shows it as the cell's value, a script saves it with ``savefig``.
Axis labels use the category and tier codes, which every font can draw."""
from __future__ import annotations

import numpy as np


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def label_distribution(table):
    """Stacked bars of opinions per category and tier (``analysis.label_distribution``)."""
    t = table.drop(index="total", errors="ignore").drop(columns=["total", "corrections"], errors="ignore")
    fig, (ax,) = _figure(7, 3.5)
    bottom = np.zeros(len(t))
    for tier in t.columns:
        ax.bar(t.index, t[tier], bottom=bottom, label=tier)
        bottom += t[tier].to_numpy()
    ax.set_ylabel("opinions")
    ax.set_title("Labelled opinions per category and tier")
    ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1, 1))
    ax.tick_params(axis="x", rotation=20)
    return fig


def confusion_matrices(sbs, task: str = "category"):
    """One confusion matrix per model (rows: truth, columns: prediction), counts written in."""
    fig, axes = _figure(4.2 * len(sbs.names), 4, ncols=len(sbs.names))
    for ax, name in zip(axes, sbs.names):
        cm = sbs.metrics[name][task]["confusion_matrix"]
        m, labels = np.array(cm["matrix"]), cm["labels"]
        ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for (r, c), v in np.ndenumerate(m):
            ax.text(c, r, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{name}\n{task} macro-F1 {sbs.metrics[name][task]['macro_f1']:.3f}")
    return fig


def per_class_f1(table):
    """Grouped bars of F1 per class and model (``analysis.per_class_f1``)."""
    t = table.drop(columns=["change"], errors="ignore")
    fig, (ax,) = _figure(7, 3.5)
    width = 0.8 / len(t.columns)
    x = np.arange(len(t))
    for k, name in enumerate(t.columns):
        ax.bar(x + k * width - 0.4 + width / 2, t[name], width, label=name)
    ax.set_xticks(x, t.index, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (out of fold)")
    ax.set_title(f"F1 per {t.index.name or 'class'}")
    ax.legend()
    return fig


def reliability(table):
    """Reliability diagram (``analysis.calibration``): accuracy against mean probability per bin."""
    t = table[table["n"] > 0]
    fig, (ax,) = _figure(4.5, 4.5)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(t["mean_probability"], t["accuracy"], marker="o", label="model")
    for _, r in t.iterrows():
        ax.annotate(str(r["n"]), (r["mean_probability"], r["accuracy"]), textcoords="offset points", xytext=(4, -10),
                    fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean category probability in the bin")
    ax.set_ylabel("share right")
    ax.set_title(f"Reliability (ECE {table.attrs.get('ece', float('nan')):.3f}; numbers: opinions)")
    ax.legend(loc="upper left")
    return fig


def coverage_tradeoff(table, threshold: float | None = None):
    """Coverage, accuracy of the accepted opinions and share of off-topic texts flagged
    against the review threshold (``analysis.coverage_tradeoff``), the chosen one marked."""
    threshold = table.attrs.get("threshold") if threshold is None else threshold
    fig, (ax,) = _figure(6.5, 4)
    ax.plot(table["threshold"], table["coverage"], marker=".", label="coverage (accepted without review)")
    ax.plot(table["threshold"], table["accuracy_accepted"], marker=".", label="accuracy of the accepted")
    if table["offtopic_flagged"].notna().any():
        ax.plot(table["threshold"], table["offtopic_flagged"], marker=".", linestyle=":", label="off-topic flagged")
    if threshold is not None:
        ax.axvline(threshold, color="red", linestyle="--", label=f"chosen threshold {threshold:.2f}")
    ax.set_xlabel("review threshold on the category probability")
    ax.set_ylim(0, 1.02)
    ax.set_title("Review threshold: coverage against accuracy")
    ax.legend(loc="lower left", fontsize=8)
    return fig
