"""The PNG of `nextcall simulate`: the four figures over the day, one column per answer rate."""

from collections.abc import Mapping, Sequence
from pathlib import Path

from services.simulator.report import Window

ROWS = (
    ("abandon_rate", "abandoned / answered", 100.0, "%"),
    ("occupancy", "talking / signed in", 100.0, "%"),
    ("wait_s", "wait between calls", 1.0, "s"),
    ("calls_per_agent_hour", "calls per agent hour", 1.0, ""),
)


def draw(series: Mapping[float, Mapping[str, Sequence[Window]]], *, cap: float, path: Path) -> None:
    """series: answer rate -> pacer -> the day's 15-minute windows."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart goes to a file
    import matplotlib.pyplot as plt

    rates = sorted(series)
    figure, axes = plt.subplots(
        len(ROWS), len(rates), figsize=(5 * len(rates), 10), sharex=True, squeeze=False
    )
    for column, rate in enumerate(rates):
        for row, (field, label, scale, unit) in enumerate(ROWS):
            ax = axes[row][column]
            for name, windows in series[rate].items():
                hours = [w.start_min / 60 for w in windows]
                ax.plot(hours, [getattr(w, field) * scale for w in windows], label=name)
            if field == "abandon_rate":
                ax.axhline(cap * 100, color="red", linestyle="--", linewidth=1, label="cap")
            ax.set_ylabel(f"{label} ({unit})" if unit else label)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"answer rate {rate:.0%}")
            if row == len(ROWS) - 1:
                ax.set_xlabel("hour of the day (15-minute windows)")
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
