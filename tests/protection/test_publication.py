"""The publication of a year: its cells, its equations, one pattern for every output.

Hand-made data with the arithmetic in comments; the LP engine itself is tested in
``test_audit.py``, the attacker's view of everything published in ``test_attacker.py``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import contact, make_dataset, site, write_processed

from analysis.config import load_config
from analysis.errors import FhError
from analysis.indicators.summary import key_indicators
from analysis.protection import publication as pub
from analysis.reporting import sections
from analysis.reporting.cells import Report


@pytest.fixture(scope="module")
def config():
    return load_config()


def _rows(site_id: str, year: int, routes: dict[str, int], **fixed) -> list[dict]:
    rows, i = [], 0
    for route, n in routes.items():
        for _ in range(n):
            rows.append(
                contact(
                    f"{site_id}-{year}-{i}",
                    site_id,
                    f"{year}-05-{i % 28 + 1:02d}",
                    zugangsweg=route,
                    **fixed,
                )
            )
            i += 1
    return rows


def _dataset():
    # Site a: 10 Hebamme + 2 Jobcenter (a small route), site b: 9 Hebamme + 4 Geburtsklinik.
    return make_dataset(
        {
            "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
            "erstkontakte": _rows(
                "a", 2014, {"hebamme": 10, "jobcenter": 2}, lebensphase_kind="m0_6"
            )
            + _rows("b", 2014, {"hebamme": 9, "geburtsklinik": 4}, lebensphase_kind="m0_6")
            + _rows("a", 2013, {"hebamme": 2}, lebensphase_kind="m0_6")
            + _rows("b", 2013, {"hebamme": 7}, lebensphase_kind="m0_6"),
        }
    )


def test_cells_hold_the_counts_and_the_equations_hold():
    p = pub.build_publication(_dataset(), 2014)
    v = p.values
    assert v[("a", pub.EK)] == 12 and v[("b", pub.EK)] == 13 and v[("alle", pub.EK)] == 25
    assert v[("a", pub.ROUTE, "jobcenter")] == 2
    # Jobcenter is in "Jugendhilfe und Soziales": group = 2 at a, 0 at b, 2 for all sites.
    assert v[("alle", pub.GROUP, "Jugendhilfe und Soziales")] == 2
    # No answers on target groups: all 12 of a are "unbekannt", none known.
    assert v[("a", pub.TARGET, "alleinerziehend", "unbekannt")] == 12
    for eq in p.equations:
        assert sum(coef * v[c] for c, coef in eq.items()) == 0
    # Complements are part of the system but not published anywhere.
    assert ("a", pub.TARGET, "alleinerziehend", "nein") not in p.published
    assert ("a", pub.ROUTE, "jobcenter") in p.published


def test_small_counts_are_hidden_with_enough_company(config):
    protected = pub.protect_publication(pub.build_publication(_dataset(), 2014), 3, 3)
    jobcenter = ("a", pub.ROUTE, "jobcenter")
    assert jobcenter in protected.primary and protected.is_hidden(jobcenter)
    # A hidden 2 among a's 12 contacts would be 12 - 10 unless another route of a, or the
    # total, is hidden too: the pattern hides at least one more published cell of site a.
    others = {c for c in protected.published_hidden if c[0] == "a"} - {jobcenter}
    assert others
    assert protected.audit["kleine_zahlen"] == len(protected.primary)
    assert protected.audit["engstes_intervall"] >= 3


def test_under_rounding_to_5_a_reader_knows_each_shown_count_only_within_2():
    # Rounded publications are audited against what a reader sees: every published count
    # lies within ±2 of its rounded value (a 12 is shown as 10, so 8 to 12 are possible).
    publication = pub.build_publication(_dataset(), 2014)
    linear = publication.linear(round_to_5=True)
    jobcenter, total = ("a", pub.ROUTE, "jobcenter"), ("a", pub.EK)
    assert linear.published_bounds[total] == (8.0, 12.0)  # 12 -> shown 10
    assert linear.published_bounds[jobcenter] == (0.0, 2.0)  # 2 -> shown 0, never below 0
    assert set(linear.published_bounds) == set(publication.published)
    assert publication.linear().published_bounds == {}
    protected = pub.protect_publication(publication, 3, 3, round_to_5=True)
    exact = pub.protect_publication(publication, 3, 3, round_to_5=False)
    # Rounding is itself protection: fewer secondary cells than with exact counts, and it is
    # off unless asked for.
    assert protected.hidden != exact.hidden
    assert pub.protect_publication(publication, 3, 3).hidden == exact.hidden


def test_the_offers_of_a_site_add_no_site_of_their_own():
    dataset = make_dataset(
        {
            "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
            "erstkontakte": _rows("a", 2014, {"hebamme": 5}) + _rows("b", 2014, {"hebamme": 4}),
            "angebote": [
                {"standort_id": "b", "jahr": 2014, "angebot": "kurs", "besuche": 30},
                {"standort_id": "a", "jahr": 2014, "angebot": "kurs", "besuche": 12},
            ],
        }
    )
    publication = pub.build_publication(dataset, 2014)
    assert sorted(publication.sites) == ["a", "b"]
    assert {c[0] for c in publication.values} == {"a", "b", "alle"}


def test_reports_and_kennzahlen_hide_the_same_cells(config):
    dataset = _dataset()
    protected = pub.protected_year(dataset, 2014, config)
    report = Report(dataset, config, "a", 2014, "Standort a", "zugangswege")
    table = sections.routes_table(report).table
    k = key_indicators(dataset, year=2014, site="a", config=config)
    for code, label in [
        ("jobcenter", "Jobcenter / Sozialamt"),
        ("hebamme", "Hebamme / Familienhebamme"),
    ]:
        cell = ("a", pub.ROUTE, code)
        assert bool(table.hidden.loc[label, "Anzahl"]) == protected.is_hidden(cell)
        assert (k["zugangswege"]["anzahl"][code] is None) == protected.is_hidden(cell)
    # The hidden route's share is hidden too, in the table and in kennzahlen.
    assert bool(table.hidden.loc["Jobcenter / Sozialamt", "Anteil"])
    assert k["zugangswege"]["anteile"]["jobcenter"] is None


def test_a_value_hidden_in_2013_stays_hidden_in_the_2014_trend(config):
    # Site a had 2 first contacts in 2013: hidden in 2013's publication, and in the
    # "Verlauf" of the 2014 report, although the 2014 table alone would not require it.
    dataset = _dataset()
    assert pub.protected_year(dataset, 2013, config).is_hidden(("a", pub.EK))
    report = Report(dataset, config, "a", 2014, "Standort a", "reichweite")
    trend = sections.reach_trend(report).table
    assert bool(trend.hidden.loc[2013, "Erstkontakte"])
    assert not bool(trend.hidden.loc[2014, "Erstkontakte"])
    assert list(trend.values.index) == [2013, 2014]  # nothing after the report year
    # Site b's 7 contacts of 2013 are not small, but 2013's publication hid them (else
    # a = all - b = 9 - 7 = 2): they stay hidden in b's 2014 trend too.
    assert pub.protected_year(dataset, 2013, config).is_hidden(("b", pub.EK))
    report_b = Report(dataset, config, "b", 2014, "Standort b", "reichweite")
    trend_b = sections.reach_trend(report_b).table
    assert bool(trend_b.hidden.loc[2013, "Erstkontakte"])


def test_the_pattern_is_kept_beside_the_data_and_reused(tmp_path, config):
    folder = write_processed(
        tmp_path / "daten",
        {
            "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
            "erstkontakte": _rows("a", 2014, {"hebamme": 10, "jobcenter": 2})
            + _rows("b", 2014, {"hebamme": 9}),
        },
    )
    from analysis.data import load_dataset

    dataset = load_dataset(folder)
    first = pub.protected_year(dataset, 2014, config)
    stored = json.loads((folder / "geheimhaltung" / "2014.json").read_text(encoding="utf-8"))
    assert stored["schluessel"]["mindestfallzahl"] == 3
    pub._CACHE.clear()
    again = pub.protected_year(load_dataset(folder), 2014, config)
    assert again.hidden == first.hidden and again.values == first.values
    # Another protection level is another pattern, not the stored one.
    wider = load_config()
    object.__setattr__(wider, "protection_level", 5.0)
    pub._CACHE.clear()
    assert pub.protected_year(load_dataset(folder), 2014, wider).protection_level == 5.0
    # A stored pattern that is not one of ours is computed again, never trusted or fatal.
    for damage in (
        "[" * 100_000,
        "[1, 2]",
        '{"schluessel": 1}',
        '{"schluessel": %s, "muster": []}',
    ):
        text = damage % json.dumps(stored["schluessel"]) if "%s" in damage else damage
        (folder / "geheimhaltung" / "2014.json").write_text(text, encoding="utf-8")
        pub._CACHE.clear()
        assert pub.protected_year(load_dataset(folder), 2014, config).hidden == first.hidden


def test_the_stored_pattern_reads_back_every_cell_flag_and_the_order():
    # Sites interleaved (two runs of "a"), ints and floats, the flags as patterns hold them:
    # none, published, hidden only (a secondary cell nobody publishes), published and hidden,
    # hidden and primary, all three.
    a1, a2, b1, b2, a3 = ("a", "x"), ("a", "y", "1"), ("b", "x"), ("b", "y", "2"), ("a", "z")
    b3, b4 = ("b", "w"), ("b", "v")
    protected = pub.ProtectedPublication(
        year=2014,
        values={a1: 10, a2: 2, b1: 0, b2: 2.5, a3: 7, b3: 4, b4: 1},
        published=frozenset({a1, a2, b2}),
        hidden=frozenset({a2, b1, b2, b3}),
        primary=frozenset({a2, b1}),
        min_count=3,
        protection_level=3.0,
        audit={"geprueft": 2},
    )
    text = json.dumps(protected.to_json())
    back = pub.ProtectedPublication.from_json(json.loads(text))
    assert back == protected
    assert list(back.values) == [a1, a2, b1, b2, a3, b3, b4]
    assert [type(v) for v in back.values.values()] == [int, int, int, float, int, int, int]
    # Every cell id once: the stored pattern does not repeat cells per set.
    assert text.count('"y"') == 2 and text.count('"x"') == 2
    # The bits: 1 published, 2 hidden, 4 primary.
    assert protected.to_json()["zellen"] == [
        ["a", [["x", 10, 1], ["y", "1", 2, 7]]],
        ["b", [["x", 0, 6], ["y", "2", 2.5, 3]]],
        ["a", [["z", 7, 0]]],
        ["b", [["w", 4, 2], ["v", 1, 0]]],
    ]


def test_a_pattern_with_a_hidden_cell_without_value_is_not_stored():
    protected = pub.ProtectedPublication(
        year=2014,
        values={("a", "x"): 10},
        published=frozenset({("a", "x")}),
        hidden=frozenset({("a", "y")}),
        primary=frozenset(),
        min_count=3,
        protection_level=3.0,
    )
    with pytest.raises(ValueError, match="ohne Wert"):
        protected.to_json()


def test_the_stored_pattern_survives_a_new_run_of_aufbereiten_on_the_same_data(
    tmp_path, config, monkeypatch
):
    # make berichte runs aufbereiten again before every batch: it swaps in a new folder with
    # the same bytes, new modification times and a new time stamp in the manifest. The
    # stored pattern must move along and still count.
    from datetime import date

    from analysis.contract.demo import write_demo
    from analysis.data import load_dataset
    from analysis.ingest import prepare

    raw, out = tmp_path / "roh", tmp_path / "aufbereitet"
    write_demo(raw, scale=0.2, today=date(2026, 1, 15))
    prepare(raw, out, today=date(2026, 1, 15))
    first = pub.protected_year(load_dataset(out), 2014, config)
    assert (out / "geheimhaltung" / "2014.json").is_file()
    prepare(raw, out, today=date(2026, 1, 16))
    pub._CACHE.clear()

    def not_again(*args, **kwargs):
        raise AssertionError("Muster neu berechnet, obwohl die Daten gleich sind")

    monkeypatch.setattr(pub, "protect_publication", not_again)
    assert pub.protected_year(load_dataset(out), 2014, config).hidden == first.hidden


def test_the_stored_pattern_is_keyed_by_the_content_of_the_data(tmp_path, config, monkeypatch):
    # One count changed by hand in a Parquet file, same number of rows, manifest untouched:
    # the stored pattern no longer fits and is decided again.
    from analysis.data import load_dataset

    tables = {
        "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
        "erstkontakte": _rows("a", 2014, {"hebamme": 10, "jobcenter": 2})
        + _rows("b", 2014, {"hebamme": 9}),
    }
    folder = write_processed(tmp_path / "daten", tables)
    pub.protected_year(load_dataset(folder), 2014, config)
    contacts = pd.read_parquet(folder / "erstkontakte.parquet")
    contacts["zugangsweg"] = contacts["zugangsweg"].replace("jobcenter", "hebamme")
    contacts.to_parquet(folder / "erstkontakte.parquet", index=False)
    pub._CACHE.clear()
    decided: list[int] = []
    real = pub.protect_publication

    def counted(p, *args, **kwargs):
        decided.append(p.year)
        return real(p, *args, **kwargs)

    monkeypatch.setattr(pub, "protect_publication", counted)
    again = pub.protected_year(load_dataset(folder), 2014, config)
    assert decided == [2014]
    assert not again.is_hidden(("a", pub.ROUTE, "hebamme"))  # 12, nothing small left


def test_a_failed_audit_refuses_the_year_in_the_batch(tmp_path, monkeypatch):
    from analysis.reporting import batch

    folder = write_processed(
        tmp_path / "daten",
        {"standorte": [site("a", "2011-01-01")], "erstkontakte": _rows("a", 2014, {"hebamme": 5})},
    )
    config = load_config(processed_dir=folder, reports_dir=tmp_path / "berichte")

    def refuse(p, *args, **kwargs):
        raise FhError(
            f"Geheimhaltung {p.year}: Prüfung fehlgeschlagen für Standort a, zugangsweg hebamme"
        )

    monkeypatch.setattr(pub, "protect_publication", refuse)
    pub._CACHE.clear()
    result = batch.run_batch(config, analyses=["reichweite"], progress=False)
    assert result.exit_code == 1
    assert {r.status for r in result.reports} == {"fehlgeschlagen"}
    assert all("Standort a, zugangsweg hebamme" in r.fehler for r in result.reports)
    assert not list((tmp_path / "berichte").rglob("*.html")) or all(
        p.name == "index.html" for p in (tmp_path / "berichte").rglob("*.html")
    )


def test_the_final_audit_refuses_a_pattern_that_leaves_a_small_count_computable(monkeypatch):
    # The audit after the pattern is independent of the search: with only the small counts
    # themselves hidden (no company), a's 2 Jobcenter contacts follow from the shown totals,
    # exactly 2, where the protection asks that a reader cannot narrow it below 0 to 5
    # (2 ± 3, never below 0). The year is refused, naming the cell and both intervals.
    from analysis.protection import audit as lp

    monkeypatch.setattr(
        lp, "protect", lambda linear, primary, level, **kw: set(primary) | kw["already_hidden"]
    )
    with pytest.raises(FhError) as refused:
        pub.protect_publication(pub.build_publication(_dataset(), 2014), 3, 3)
    message = refused.value.message
    assert message.startswith("Geheimhaltung 2014: Prüfung fehlgeschlagen für Standort a, ")
    assert message.endswith(
        " (vereinbar sind Werte von 2 bis 2, verlangt 0 bis 5). Das Jahr wird nicht veröffentlicht."
    )


def test_kennzahlen_refuses_a_year_whose_audit_fails(monkeypatch, config):
    def refuse(p, *args, **kwargs):
        raise FhError(
            "Geheimhaltung 2014: Prüfung fehlgeschlagen für Standort a, zugangsweg hebamme"
        )

    monkeypatch.setattr(pub, "protect_publication", refuse)
    pub._CACHE.clear()
    with pytest.raises(FhError, match="Prüfung fehlgeschlagen"):
        key_indicators(_dataset(), year=2014, site="a", config=config)
    # Without confidentiality (internal use) the exact values are still there.
    exact = key_indicators(_dataset(), year=2014, site="a", config=config, confidential=False)
    assert exact["zugangswege"]["anzahl"]["jobcenter"] == 2


def test_every_cell_kennzahlen_names_is_a_cell_of_the_publication():
    # A path naming a cell the publication does not hold escapes the year's pattern:
    # kennzahlen would then apply only the primary rule to it. The small-cells municipality
    # with a survey has every kind of cell, so every path must find its cell.
    import small_cells

    tables = small_cells.raw_tables()
    tables["erstkontakte"] = tables["erstkontakte"].replace({"": None})
    tables["nutzerbefragung"] = pd.DataFrame(
        {
            "bogen_id": [f"q{i}" for i in range(6)],
            "standort_id": ["nord"] * 4 + ["ost"] * 2,
            "datum": [f"{small_cells.YEAR}-10-0{i + 1}" for i in range(6)],
            **{
                topic: [1, 2, 2, 3, 1, None]
                for topic in ("erreichbarkeit", "raeume", "angebote", "beratung")
            },
            "weiterempfehlung": ["ja", "ja", "nein", "ja", "ja", None],
        }
    )
    publication = pub.build_publication(make_dataset(tables), small_cells.YEAR)
    assert publication.values[("nord", pub.SURVEY)] == 4
    for site_id in [*small_cells.SITES, "alle"]:
        cells = pub.indicator_cells(site_id)
        assert len(cells) == 82
        missing = sorted(path for path, cell in cells.items() if cell not in publication.values)
        assert missing == [], site_id


def test_equations_only_join_cells_that_exist():
    # A total without parts, or parts without their total, gives no equation: an equation
    # "total = 0" or one over a cell the publication lacks would make the system wrong.
    total, part = ("a", pub.EK), ("a", pub.ROUTE, "hebamme")
    assert pub._additive(total, [part], {total: 3.0}) is None
    assert pub._additive(total, [part], {part: 3.0}) is None
    assert pub._additive(total, [part], {total: 3.0, part: 3.0}) == {total: 1.0, part: -1.0}


def test_hiding_costs_follow_what_a_reader_needs_most():
    # For the same value: a mean's n and grade sum are kept before the number of
    # questionnaires, which is kept before a single grade count; first contacts and the
    # all-sites cells cost more than their parts.
    weight = pub._weight
    n_of_mean = ("a", pub.RATING, "beratung", "n")
    sum_of_grades = ("a", pub.RATING, "beratung", pub.RATING_SUM)
    questionnaires = ("a", pub.SURVEY)
    one_grade = ("a", pub.RATING, "beratung", "2")
    assert weight(n_of_mean, 4) == weight(sum_of_grades, 4) > weight(questionnaires, 4)
    assert weight(questionnaires, 4) > weight(one_grade, 4) == 5.0  # 1 + value
    assert weight(("a", pub.EK), 4) > weight(("a", pub.ROUTE, "hebamme"), 4)
    assert weight(("alle", pub.SURVEY), 4) > weight(questionnaires, 4)


def test_a_cell_in_german_words_and_the_value_a_reader_gets():
    assert pub.describe(("a", pub.ROUTE, "jobcenter")) == "Standort a, zugangsweg jobcenter"
    assert pub.describe(("alle", pub.EK)) == "alle Standorte, erstkontakte"
    protected = pub.protect_publication(pub.build_publication(_dataset(), 2014), 3, 3)
    jobcenter, hebamme = ("a", pub.ROUTE, "jobcenter"), ("a", pub.ROUTE, "hebamme")
    assert protected.is_hidden(jobcenter) and protected.value(jobcenter) is None
    assert not protected.is_hidden(("b", pub.EK)) and protected.value(("b", pub.EK)) == 13
    # a's 10 Hebamme contacts are the company of its 2 Jobcenter ones: hidden too.
    assert protected.is_hidden(hebamme) and protected.value(hebamme) is None
    assert protected.values[hebamme] == 10  # the pattern still knows the true value
    assert protected.value(("a", "gibt es nicht")) is None  # not part of the system
