"""Plot style: Agg backend, palette, German axis formats, source line."""

from __future__ import annotations

import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt
import pytest

from analysis.reporting import style


@pytest.fixture
def fig_ax():
    style.apply_style()
    fig, ax = style.new_figure()
    yield fig, ax
    plt.close(fig)


def test_backend_is_file_only_outside_jupyter():
    assert matplotlib.get_backend().lower() == "agg"


def test_palette_is_okabe_ito_and_applied(fig_ax):
    assert style.palette(2) == ["#0072B2", "#E69F00"]
    assert len(style.palette(10)) == 10  # repeats after eight colours
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [matplotlib.colors.to_hex(c).upper() for c in cycle[:3]] == [
        "#0072B2",
        "#E69F00",
        "#009E73",
    ]
    assert tuple(matplotlib.rcParams["figure.figsize"]) == style.FIGSIZE


def _labels(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_german_number_percent_and_year_axes(fig_ax):
    fig, ax = fig_ax
    ax.plot([2011, 2012, 2013, 2014], [0.0, 0.25, 0.5, 0.75])
    ax.set_ylim(0, 1)
    style.percent_axis(ax)
    style.year_axis(ax)
    fig.canvas.draw()
    assert "20 %" in _labels(ax.yaxis) and "100 %" in _labels(ax.yaxis)
    assert "2012" in _labels(ax.xaxis)
    assert all("." not in label for label in _labels(ax.xaxis))  # no "2.012"
    style.number_axis(ax)
    ax.set_ylim(0, 20_000_000)
    fig.canvas.draw()
    assert "10.000.000" in _labels(ax.yaxis)
    style.euro_axis(ax, millions=True)
    fig.canvas.draw()
    assert "10,0 Mio. €" in _labels(ax.yaxis)


def test_percent_axis_shows_the_decimal_a_tick_needs(fig_ax):
    fig, ax = fig_ax
    ax.plot([2012, 2014], [0.10, 0.25])
    ax.set_yticks([0.10, 0.125, 0.15, 0.2])
    style.percent_axis(ax)
    fig.canvas.draw()
    # 0.125 is 12,5 % – rounded to "12 %" it would lie about where the line is
    assert _labels(ax.yaxis) == ["10 %", "12,5 %", "15 %", "20 %"]


def test_hidden_years_are_written_on_the_figure(fig_ax):
    _fig, ax = fig_ax
    ax.plot([2012, 2014], [1, 2])
    style.mark_hidden(ax, [2013])
    (note,) = ax.texts
    assert note.get_text() == "• nicht ausweisbar" and note.xy == (2013, 0)


def test_source_note_under_the_figure(fig_ax):
    fig, ax = fig_ax
    style.source_note(ax, "Musterstadt, Erstkontakte (synthetisch)")
    style.source_note(fig, "Quelle: Destatis 61111-0001")
    texts = [t.get_text() for t in fig.texts]
    assert texts == [
        "Quelle: Musterstadt, Erstkontakte (synthetisch)",
        "Quelle: Destatis 61111-0001",
    ]
    assert all(t.get_position()[1] < 0 for t in fig.texts)  # below the axes


def test_figure_saves_without_display(fig_ax, tmp_path):
    fig, ax = fig_ax
    ax.bar(["a", "b"], [1, 2])
    style.source_note(fig, "Test")
    out = tmp_path / "grafik.png"
    fig.savefig(out)
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("name", [r"$\foo$", "$x$ und $", r"Laden \$ 1", "{}", "=1+2"])
def test_site_names_are_text_not_tex(fig_ax, tmp_path, name):
    # A site named `$\foo$` broke matplotlib's mathtext: names are free text.
    fig, ax = fig_ax
    ax.bar([name], [3])
    ax.set_title(name)
    style.source_note(fig, f"Quelle: Erstkontakte; {name}")
    fig.savefig(tmp_path / "grafik.png")
    assert ax.get_title(loc="left") == name  # titles sit left in the report style
