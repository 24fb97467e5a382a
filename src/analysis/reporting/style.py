"""Einheitlicher Grafikstil für alle Berichte: seaborn-Thema, farbenblind-sichere Palette,
deutsche Zahlenformate an den Achsen und eine Quellenzeile unter jeder Grafik.

Notebooks rufen ``apply_style()`` einmal auf und nutzen dann die Hilfen dieses Moduls.
"""

from __future__ import annotations

import os
import sys

import matplotlib

# Without a display (batch runs, servers) pick the file-only backend before pyplot is
# imported; inside Jupyter the inline backend is already chosen and must stay.
if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis import formatting as fmt

#: Okabe–Ito-Palette: für die häufigen Formen der Farbenblindheit unterscheidbar.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blau
    "#E69F00",  # orange
    "#009E73",  # blaugrün
    "#CC79A7",  # rötlich lila
    "#56B4E9",  # himmelblau
    "#D55E00",  # zinnober
    "#F0E442",  # gelb
    "#000000",  # schwarz
)
#: Einheitliche Grafikgröße in Zoll (Breite, Höhe), passt auf eine A4-Seite im Hochformat.
FIGSIZE: tuple[float, float] = (8.0, 4.5)
FONT_SIZE = 11
SOURCE_PREFIX = "Quelle: "


def apply_style() -> None:
    """Grafikstil für alle folgenden Grafiken setzen (einmal je Notebook aufrufen)."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=list(PALETTE),
        font_scale=1.0,
        rc={
            "figure.figsize": FIGSIZE,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "font.size": FONT_SIZE,
            "axes.titlesize": FONT_SIZE + 2,
            "axes.labelsize": FONT_SIZE,
            "xtick.labelsize": FONT_SIZE - 1,
            "ytick.labelsize": FONT_SIZE - 1,
            "legend.fontsize": FONT_SIZE - 1,
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.formatter.use_locale": False,
            # Labels carry site names, which are free text: `$\foo$` is a name, not TeX.
            "text.parse_math": False,
        },
    )


def palette(n: int | None = None) -> list[str]:
    """Die Berichtsfarben (Okabe–Ito); mehr als acht Farben werden wiederholt."""
    colours = list(PALETTE)
    if n is None:
        return colours
    return [colours[i % len(colours)] for i in range(n)]


def _axes(target: Axes | Figure) -> list[Axes]:
    return list(target.axes) if isinstance(target, Figure) else [target]


def number_axis(target: Axes | Figure, axis: str = "y", digits: int = 0) -> None:
    """Achse mit deutschem Tausenderpunkt und Dezimalkomma beschriften (``12.190.000``)."""
    formatter = FuncFormatter(lambda value, _pos: fmt.number(value, digits))
    for ax in _axes(target):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def percent_axis(target: Axes | Figure, axis: str = "y", digits: int = 0) -> None:
    """Achse für Anteile (0 bis 1) als deutsche Prozentwerte beschriften (``25 %``).

    Eine Marke zwischen ganzen Prozent (0,125) bekommt die Nachkommastelle, die sie braucht
    (``12,5 %``): gerundet stünde sie als ``12 %`` neben einer echten ``12``.
    """

    def label(value: float, _pos: int) -> str:
        shown = digits
        while shown < digits + 2 and abs(round(value * 100, shown) - value * 100) > 1e-9:
            shown += 1
        return fmt.percent(value, shown).replace("\xa0", " ")

    formatter = FuncFormatter(label)
    for ax in _axes(target):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def euro_axis(target: Axes | Figure, axis: str = "y", millions: bool = False) -> None:
    """Achse in Euro beschriften (``13.612.000 €`` oder mit ``millions`` ``13,6 Mio. €``)."""

    def label(value: float, _pos: int) -> str:
        if millions:
            return f"{fmt.number(value / 1e6, 1)} Mio. €"
        return fmt.euro(value).replace("\xa0", " ")

    for ax in _axes(target):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(label))


def year_axis(target: Axes | Figure, axis: str = "x") -> None:
    """Jahresachse ohne Tausenderpunkt und nur mit ganzen Jahren (``2014``, nicht ``2.014``)."""
    formatter = FuncFormatter(
        lambda value, _pos: str(round(value)) if value == round(value) else ""
    )
    for ax in _axes(target):
        target_axis = ax.xaxis if axis == "x" else ax.yaxis
        target_axis.set_major_locator(MaxNLocator(integer=True))
        target_axis.set_major_formatter(formatter)


#: Beschriftung der Jahre, deren Wert die Geheimhaltung verbirgt (Text, nicht nur eine Lücke).
HIDDEN_LABEL = "• nicht ausweisbar"


def mark_hidden(ax: Axes, positions: list[float]) -> None:
    """Verborgene Werte als „• nicht ausweisbar“ unten an ihrer Stelle der x-Achse zeigen:
    Eine Lücke in der Linie allein sähe aus wie ein fehlender oder ein Nullwert."""
    for x in positions:
        ax.annotate(
            HIDDEN_LABEL,
            (x, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT_SIZE - 2,
            color="#444444",
        )


def source_note(target: Axes | Figure, text: str) -> None:
    """Quellenzeile („Quelle: …“) links unter die Grafik setzen."""
    figure = target if isinstance(target, Figure) else target.get_figure()
    if figure is None:  # pragma: no cover - an Axes always belongs to a figure here
        raise ValueError("Achse gehört zu keiner Grafik")
    note = text if text.startswith(SOURCE_PREFIX) else SOURCE_PREFIX + text
    figure.text(0.01, -0.02, note, ha="left", va="top", fontsize=FONT_SIZE - 2, color="#444444")


def new_figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None
) -> tuple[Figure, Axes]:
    """Neue Grafik in der einheitlichen Größe (``fig, ax = style.new_figure()``)."""
    fig, ax = plt.subplots(nrows, ncols, figsize=figsize or FIGSIZE, layout="constrained")
    return fig, ax
