"""Barrierefreiheit: die Prüfregeln an einem kaputten und einem guten Bericht, Kontrast nach
WCAG von Hand gerechnet, Alternativtexte der Grafiken und Tabellen mit scope.

Die echten Demoberichte prüft der Ende-zu-Ende-Test (test_batch_e2e.py) mit demselben Modul.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from analysis.reporting import accessibility as a11y
from analysis.reporting import cells, export, index, sections, style
from analysis.reporting.sections import Section, bars_alt, series_alt, series_change

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "barrierefreiheit"
REPORT_CSS = export.TEMPLATE_BASE / "bericht" / "bericht.css"


# --- Die Regeln an den beiden Beispielberichten ----------------------------------------------


def test_broken_report_violates_every_rule_exactly_once() -> None:
    findings = a11y.check_file(FIXTURES / "kaputt.html")
    assert Counter(f.rule for f in findings) == dict.fromkeys(a11y.RULES, 1)
    by_rule = {f.rule: f for f in findings}
    assert by_rule["sprache"].reason == "Sprache muss „de“ sein, ist „en“"
    assert by_rule["titel"].reason == "Seite ohne Titel <title>"
    assert by_rule["hauptueberschrift"].reason.endswith("gefunden 2")
    assert by_rule["ueberschriftenfolge"].element == "<h4>Zu tief eingerückt</h4>"
    assert "Sprung von <h2> auf <h4>" in by_rule["ueberschriftenfolge"].reason
    assert "Platzhalter" in by_rule["alternativtext"].reason
    assert by_rule["tabellenkopf"].element == "<th>Jahr</th>"
    assert by_rule["tabellentitel"].reason == "Tabelle ohne Überschrift <caption>"
    # #999999 on white: L = ((0.6 + 0.055) / 1.055) ** 2.4 = 0.3185; 1.05 / 0.3685 = 2.85
    assert "#999999 auf #ffffff ist 2,85:1" in by_rule["kontrast"].reason
    assert by_rule["nur-farbe"].element == "<td Inline-Farbe>"


def test_good_report_passes() -> None:
    assert a11y.check_file(FIXTURES / "gut.html") == []


def test_finding_reads_as_one_german_line() -> None:
    finding = a11y.Finding("titel", "<head>", "Seite ohne Titel <title>")
    assert str(finding) == "[titel] <head>: Seite ohne Titel <title>"


# --- Einzelne Regeln an ihren Grenzen -----------------------------------------------------------


def _page(body: str, lang: str = "de", css: str = "") -> str:
    return (
        f"<html lang='{lang}'><head><title>T</title><style>{css}</style></head>"
        f"<body><main><h1>Bericht</h1>{body}</main></body></html>"
    )


def _rules(page: str) -> list[str]:
    return [f.rule for f in a11y.check_html(page)]


def test_language_de_with_region_is_german() -> None:
    assert _rules(_page("", lang="de-DE")) == []
    assert _rules(_page("", lang="")) == ["sprache"]


def test_headings_may_step_down_one_and_jump_back_up() -> None:
    # h1 → h2 → h3 → h2 is in order; h1 → h3 is a jump, so is a page starting with h2.
    assert _rules(_page("<h2>a</h2><h3>b</h3><h2>c</h2>")) == []
    assert _rules(_page("<h3>b</h3>")) == ["ueberschriftenfolge"]
    page = "<html lang='de'><head><title>T</title></head><body><h2>x</h2></body></html>"
    assert _rules(page) == ["hauptueberschrift", "ueberschriftenfolge"]


@pytest.mark.parametrize(
    ("alt", "ok"),
    [
        (None, False),
        ("", False),
        ("Grafik", False),
        ("No description has been provided for this image", False),
        ("Erstkontakte je Jahr, Rheindorf", False),  # a label, not a finding (< 40 chars)
        ("Line chart of first contacts per 1,000 births, rising", False),  # not German
        ("Liniengrafik der Erstkontakte: von 52 (2012) auf 61 (2014) gestiegen.", True),
    ],
)
def test_alt_text_must_state_a_finding_in_german(alt: str | None, ok: bool) -> None:
    attribute = "" if alt is None else f" alt='{alt}'"
    assert _rules(_page(f"<img src='x.png'{attribute}>")) == ([] if ok else ["alternativtext"])


def test_every_header_cell_needs_a_scope_and_every_table_a_caption() -> None:
    good = (
        "<table><caption>K</caption><thead><tr><th scope='col'>Jahr</th></tr></thead>"
        "<tbody><tr><th scope='row'>2014</th></tr></tbody></table>"
    )
    assert _rules(_page(good)) == []
    assert _rules(_page(good.replace("scope='row'", "scope='zeile'"))) == ["tabellenkopf"]
    no_heads = "<table><caption>K</caption><tr><td>1</td></tr></table>"
    assert _rules(_page(no_heads)) == ["tabellenkopf"]
    assert _rules(_page(good.replace("<caption>K</caption>", "<caption> </caption>"))) == [
        "tabellentitel"
    ]


def test_colour_without_text_is_found_colour_with_text_is_not() -> None:
    css = ".rot { background: #fde2e1; color: #8b1a10; }"
    assert _rules(_page("<span class='rot'>auffällig</span>", css=css)) == []
    assert _rules(_page("<span class='rot'></span>", css=css)) == ["nur-farbe"]
    assert _rules(_page("<span class='rot' title='auffällig'></span>", css=css)) == []
    assert _rules(_page("<div style='color: red'> </div>")) == ["nur-farbe"]
    # A class without colour says nothing by colour: an empty cell there is just empty.
    assert _rules(_page("<span class='zahl'></span>", css=".zahl { text-align: right; }")) == []


# --- Kontrast nach WCAG 2.1 -------------------------------------------------------------------


def test_contrast_ratio_by_hand() -> None:
    black, white = (0, 0, 0), (255, 255, 255)
    assert a11y.contrast_ratio(black, white) == pytest.approx(21.0)  # 1.05 / 0.05
    assert a11y.contrast_ratio(white, black) == pytest.approx(21.0)
    # #767676: c = 118/255 = 0.4627; ((0.4627 + 0.055) / 1.055) ** 2.4 = 0.18116
    # (1 + 0.05) / (0.18116 + 0.05) = 4.542 – the lightest grey that still passes 4.5:1
    grey = a11y.parse_colour("#767676")
    assert grey is not None
    assert a11y.relative_luminance(grey) == pytest.approx(0.18116, abs=1e-5)
    assert a11y.contrast_ratio(grey, white) == pytest.approx(4.542, abs=1e-3)
    # #777777 is one step lighter: 4.478 < 4.5
    lighter = a11y.parse_colour("#777")
    assert lighter is not None
    assert a11y.contrast_ratio(lighter, white) == pytest.approx(4.478, abs=1e-3)


def test_contrast_boundary_in_a_stylesheet() -> None:
    assert a11y.contrast_findings("p { color: #767676; }") == []
    found = a11y.contrast_findings("p { color: #777777; }")
    assert [f.reason for f in found] == [
        "Kontrast #777777 auf #ffffff ist 4,48:1, nötig sind mindestens 4,50:1"
    ]


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("#036", (0, 51, 102)),
        ("#003B5C", (0, 59, 92)),
        ("rgb(0, 51, 102)", (0, 51, 102)),
        ("rgba(0, 51, 102, 1)", (0, 51, 102)),
        ("white", (255, 255, 255)),
        ("rgba(0, 0, 0, 0.5)", None),  # see-through: depends on what lies beneath
        ("transparent", None),
        ("inherit", None),
    ],
)
def test_parse_colour(text: str, rgb: tuple[int, int, int] | None) -> None:
    assert a11y.parse_colour(text) == rgb


def test_css_rules_reach_into_media_blocks_and_page_margins() -> None:
    css = (
        "/* c { color: #fff } */ @page { @bottom-left { color: #555; } }\n"
        "@media print { .a, .b { background: #eee url(x.png) no-repeat; } }"
    )
    rules = a11y.css_rules(css)
    assert [(r.selector, r.declarations) for r in rules] == [
        ("@bottom-left", {"color": "#555"}),
        (".a, .b", {"background": "#eee url(x.png) no-repeat"}),
    ]
    assert a11y.contrast_findings(css) == []  # #555 on #eee: 6.3:1


def test_report_and_index_stylesheets_have_enough_contrast() -> None:
    css = REPORT_CSS.read_text(encoding="utf-8")
    assert len(a11y.css_rules(css)) > 30  # the parser really read the stylesheet
    assert a11y.contrast_findings(css, "bericht.css") == []
    assert a11y.contrast_findings(index._INDEX_CSS, "index.html") == []


# --- Grafiken: ein Weg mit Alternativtext ---------------------------------------------------------


def test_series_change_by_hand() -> None:
    one = lambda v: f"{v:.1f}".replace(".", ",")  # noqa: E731
    # first 52.0 (2012), last 61.0 (2014): risen; the peak 63.0 lies between them
    assert (
        series_change([(2012, 52.0), (2013, 63.0), (2014, 61.0)], one)
        == "von 52,0 (2012) auf 61,0 (2014) gestiegen, am höchsten 2013 mit 63,0"
    )
    assert (
        series_change([(2012, 61.0), (2013, 55.0), (2014, 52.0)], one)
        == "von 61,0 (2012) auf 52,0 (2014) gesunken"
    )
    # hidden years are named, never drawn as a number; equal as printed = unchanged
    assert (
        series_change([(2012, math.nan), (2013, 5.01), (2014, 4.99)], one)
        == "von 2013 bis 2014 gleich bei 5,0; ohne ausweisbaren Wert: 2012"
    )
    assert (
        series_change([(2013, None), (2014, 7.0)], one)
        == "nur 2014 ausweisbar, mit 7,0; ohne ausweisbaren Wert: 2013"
    )
    assert series_change([(2014, None)], one) == "kein Jahr ausweisbar"


def test_series_and_bars_alt_by_hand() -> None:
    assert (
        series_alt("der Ausgaben", [(2013, 1.0), (2014, 2.0)], str)
        == "Liniengrafik der Ausgaben: von 1.0 (2013) auf 2.0 (2014) gestiegen."
    )
    pct = lambda v: f"{round(v * 100)} %"  # noqa: E731
    assert (
        bars_alt("der Anteile", [("Jugendhilfe", 0.2), ("Gesundheit", 0.5), ("Sonst", None)], pct)
        == "Balkengrafik der Anteile: am größten „Gesundheit“ mit 50 %, „Jugendhilfe“ 20 %; "
        "nicht ausweisbar: „Sonst“."
    )
    assert bars_alt("x", [("a", None)], pct) == "Balkengrafik x: kein Balken ausweisbar; " + (
        "nicht ausweisbar: „a“."
    )


def test_a_section_with_a_figure_needs_an_alt_text() -> None:
    fig, _ = style.new_figure()
    try:
        with pytest.raises(ValueError, match=r"Verlauf.*ohne Alternativtext"):
            Section("Verlauf", "Satz.", figure=fig)
        with pytest.raises(ValueError, match="ohne Alternativtext"):
            Section("Verlauf", "Satz.", figure=fig, alt="   ")
        assert Section("Ohne Grafik", "Satz.").alt == ""
    finally:
        plt.close(fig)


def test_show_figure_puts_the_alt_text_into_the_report_html(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr(cells, "_display", lambda bundle, meta=None: shown.append((bundle, meta)))
    style.apply_style()
    fig, ax = style.new_figure()
    ax.plot([2012, 2014], [52, 61])
    alt = "Liniengrafik der Erstkontakte: von 52 (2012) auf 61 (2014) gestiegen."
    cells.show_figure(fig, alt)
    assert not plt.fignum_exists(fig.number)  # closed: Jupyter does not draw it twice
    ((bundle, meta),) = shown
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert bundle["text/plain"] == alt and meta == {"image/png": {"alt": alt}}
    with pytest.raises(ValueError, match="Alternativtext"):
        cells.show_figure(style.new_figure()[0], " ")
    plt.close("all")

    # The report template writes it as <img alt>: the checker finds no fault with the page.
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Reichweite der Frühen Hilfen\n\n## Verlauf"),
        nbformat.v4.new_code_cell(
            "",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data=bundle, metadata={"image/png": {"alt": alt}}
                )
            ],
        ),
    ]
    page = export.render_html(nb, "Reichweite – Rheindorf, 2014")
    assert f'alt="{alt}"' in page
    assert a11y.check_html(page) == []


def test_shown_tables_carry_scope_caption_and_a_readable_hidden_cell() -> None:
    payload = {
        "titel": "Zugangswege",
        "spalten": ["Zugangsweg", "Anzahl"],
        "zeilen": [["Hebamme", 12], ["Kita", "•"]],
        "formate": ["text", "anzahl"],
        "fussnoten": [],
        "quelle": "",
    }
    page = _page(cells.payload_html(payload))
    assert "<caption>Zugangswege</caption>" in page
    assert "<th scope='col' class='text'>Zugangsweg</th>" in page
    assert "<th scope='row' class='text'>Hebamme</th>" in page
    assert f"<abbr title='{cells.SUPPRESSED_TITLE}'>•</abbr>" in page
    assert a11y.check_html(page) == []
    # A first column of numbers is data, not a row label: no row head.
    numbers = {**payload, "spalten": ["Anzahl"], "zeilen": [[3]], "formate": ["anzahl"]}
    assert "<td class='zahl'>3</td>" in cells.payload_html(numbers)


def test_sections_module_shows_figures_only_through_show_figure() -> None:
    # One way for every figure: no section displays or saves a figure itself.
    source = Path(sections.__file__).read_text(encoding="utf-8")
    assert "show_figure(section.figure, section.alt)" in source
    assert "display(" not in source and "savefig" not in source


def test_index_page_passes_with_a_failed_and_an_empty_cell() -> None:
    from analysis.reporting.batch import ReportResult

    known = {
        "2014/rheindorf/reichweite": {
            "analyse": "reichweite",
            "standort": "rheindorf",
            "jahr": 2014,
            "titel": "Reichweite",
            "dateien": ["2014/rheindorf/reichweite.html", "2014/rheindorf/reichweite.pdf"],
        },
        "2014/alle/gesamtbericht": {
            "analyse": "gesamtbericht",
            "standort": "alle",
            "jahr": 2014,
            "titel": "Gesamtbericht",
            "dateien": [],
        },
    }
    failed = ReportResult(
        "2014/rheindorf/reichweite",
        "reichweite",
        "rheindorf",
        2014,
        "Reichweite",
        "fehlgeschlagen",
        "abc",
        fehler="Zeitlimit",
    )
    manifest = {"beendet": "2026-11-23T10:00:00+01:00", "konfiguration": {"kommune": "K"}}
    page = index.render_index(known, [failed], manifest, {"rheindorf": "Rheindorfer Laden"})
    assert "<caption>Berichte für 2014 nach Standort</caption>" in page
    assert "fehlgeschlagen" in page
    assert a11y.check_html(page) == []
