"""The synthetic demo municipality: deterministic, seed-004 anchors, volumes, flaws, scaling."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.contract import demo
from analysis.contract.schema import CATEGORIES, TABLES

TODAY = date(2026, 11, 23)  # last complete year 2025


def read(folder: Path, name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(
        folder / name, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs
    )


def parse_dates(values: pd.Series) -> pd.Series:
    # The old exports write TT.MM.JJJJ, the files from 2021 ISO dates.
    iso = values.str.contains("-")
    german = pd.to_datetime(values.where(~iso), format="%d.%m.%Y", errors="coerce")
    return german.fillna(pd.to_datetime(values.where(iso), format="%Y-%m-%d", errors="coerce"))


def german_number(text: str) -> float:
    # "12.190.000,00 €" -> 12190000.0
    return float(text.replace("€", "").strip().replace(".", "").replace(",", "."))


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, demo.DemoSummary]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, demo.write_demo(folder, seed=2014, scale=1.0, today=TODAY)


@pytest.fixture(scope="module")
def contacts(written) -> pd.DataFrame:
    folder, summary = written
    frames = []
    for name in summary.files["erstkontakte"]:
        f = read(folder, name)
        f.columns = [TABLES["erstkontakte"].column_names[i] for i in range(12)] + list(
            f.columns[12:]
        )
        frames.append(f.iloc[:, :12])
    return pd.concat(frames, ignore_index=True)


def test_same_seed_gives_identical_bytes_other_seed_differs(tmp_path):
    a = demo.write_demo(tmp_path / "a", seed=5, today=TODAY)
    demo.write_demo(tmp_path / "b", seed=5, today=TODAY)
    demo.write_demo(tmp_path / "c", seed=6, today=TODAY)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:  # the XLSX files too: zip timestamps are fixed
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "erstkontakte_2020.csv").read_bytes() != (
        tmp_path / "c" / "erstkontakte_2020.csv"
    ).read_bytes()
    # The seed-004 table does not depend on the seed.
    for folder in ("a", "c"):
        hze = read(tmp_path / folder, "kosten_hze.csv")
        assert (
            hze[hze["jahr"] <= "2014"].values.tolist()
            == read(tmp_path / "a", "kosten_hze.csv").head(8).values.tolist()
        )
    assert a.last_year == 2025


def test_years_run_to_the_last_complete_year(tmp_path):
    summary = demo.write_demo(tmp_path, seed=1, today=date(2031, 2, 1))
    assert summary.first_year == 2011 and summary.last_year == 2030
    assert summary.files["erstkontakte"][-1] == "erstkontakte_2030.csv"
    assert not (tmp_path / "erstkontakte_2031.csv").exists()


def test_hze_2011_to_2014_exactly_as_seed_004(written):
    folder, _ = written
    hze = read(folder, "kosten_hze.csv")
    first = hze[hze["jahr"].astype(int).between(2011, 2014)]
    # Seed 004, section 4.2: expenditure and mean case numbers, one `gesamt` row a year.
    assert first["hilfeart"].tolist() == ["gesamt"] * 4
    assert [german_number(v) for v in first["ausgaben_eur"]] == [
        12_190_000.0,
        13_045_000.0,
        13_120_000.0,
        13_612_000.0,
    ]
    assert [german_number(v) for v in first["fallzahl_mittel"]] == [606.0, 689.0, 737.0, 805.0]


def test_hze_later_years_gesamt_or_per_kind_never_both(written):
    folder, _ = written
    hze = read(folder, "kosten_hze.csv")
    kinds = hze.groupby("jahr")["hilfeart"].apply(set)
    # 2007-2010: the years before the Frühe Hilfen started (pre-period of the time series).
    assert [int(y) for y in kinds.index] == list(range(2007, 2026))
    for year, values in kinds.items():
        if int(year) < demo.HZE_BY_KIND_FROM:
            assert values == {"gesamt"}, year
        else:
            assert "gesamt" not in values and values <= set(CATEGORIES["hilfeart"].codes)
    totals = hze.assign(eur=hze["ausgaben_eur"].map(german_number)).groupby("jahr")["eur"].sum()
    # Continued plausibly: growing, but neither halving nor doubling from year to year.
    change = totals.pct_change().dropna()
    assert change.between(-0.1, 0.15).all()
    # Before the start the costs grew faster than after it (what the time series should find):
    # 2007-2010 about +7.6 % a year, 2011-2014 about +3.8 % a year.
    assert change[change.index <= "2010"].mean() > change[change.index > "2011"].mean()


def test_sites_and_opening_dates(written):
    folder, summary = written
    sites = pd.read_csv(folder / "standorte.csv", sep=";", dtype=str, encoding="cp1252")
    assert "Träger" in sites.columns  # a Windows-1252 export with umlauts in the header
    assert (folder / "standorte.csv").read_bytes().count(b"\r\n") == 5
    rows = {r["Standort-ID"]: r for _, r in sites.iterrows()}
    assert list(rows) == ["rheindorf", "steinbuechel", "manfort", "opladen"] == list(summary.sites)
    assert rows["rheindorf"]["Region"] == "Region I"
    assert rows["steinbuechel"]["Region"] == "Region III"
    assert rows["manfort"]["Region"] == "Region IV"
    assert rows["opladen"]["Region"] == "Region II"
    for sid in ("rheindorf", "steinbuechel", "manfort"):
        assert rows[sid]["Eröffnet"] == "01.04.2011"
    assert rows["opladen"]["Eröffnet"].endswith("2016")
    assert all("synthetisch" in name for name in sites["Name"])


def test_volumes_births_welcome_visits_funding(written, contacts):
    folder, summary = written
    # F = 60 must give a million first contacts: 1,000,000 / 60 = 16,667 per base demo.
    assert len(contacts) >= 17_000
    assert summary.rows["erstkontakte"] == len(contacts)
    per_year = parse_dates(contacts["datum_erstkontakt"]).dt.year.value_counts()
    assert per_year[2011] < per_year[2014] < per_year[2019]
    assert 1_000 <= per_year[2019] <= 1_800

    pop = read(folder, "bevoelkerung.csv", skiprows=2)  # export title and date line
    total = pop[pop["gebiet"] == "gesamt"].set_index("jahr")["geburten"].map(german_number)
    assert total["2012"] == 1602  # seed 004, 3.1
    assert total.between(1_400, 1_900).all()
    catchments = pop[pop["gebiet"] != "gesamt"].copy()
    catchments["n"] = catchments["geburten"].map(german_number)
    assert (catchments.groupby("jahr")["n"].sum() < total).all()
    assert set(catchments[catchments["jahr"] == "2015"]["gebiet"]) == {
        "rheindorf",
        "steinbuechel",
        "manfort",
    }

    # A site never has more first contacts than births in its region (reach rate below 1).
    c = contacts[contacts["standort_id"] != "wiesdorf"]
    per_site = c.groupby([parse_dates(c["datum_erstkontakt"]).dt.year, c["standort_id"]]).size()
    births = catchments.set_index([catchments["jahr"].astype(int), "gebiet"])["n"]
    assert (per_site / births.reindex(per_site.index)).max() < 1

    text = (folder / "willkommensbesuche.csv").read_text(encoding="utf-8")
    assert all(line.endswith(";") for line in text.splitlines())  # trailing delimiter
    visits = read(folder, "willkommensbesuche.csv")
    g = visits[visits["gebiet"] == "gesamt"].set_index("jahr")["besuche"].astype(int)
    assert g["2012"] == 170 and g["2014"] == 398  # seed 004, 3.1: 170 in 2012, "fast 400" 2014
    assert "2011" not in g.index

    fund = read(folder, "finanzierung.csv")
    federal = fund[fund["quelle"] == CATEGORIES["quelle"].labels["bundesstiftung"]].copy()
    federal["eur"] = federal["betrag_eur"].map(german_number)
    by_year = federal.groupby("jahr")["eur"].sum()
    # Seed 003: 73,127 EUR in 2012, 100,405 in 2013, 110,642 from 2014.
    assert by_year["2012"] == pytest.approx(73_127.0)
    assert by_year["2013"] == pytest.approx(100_405.0)
    assert by_year["2014"] == pytest.approx(110_642.0)
    assert by_year.between(73_127.0, 110_642.0).all()
    assert {CATEGORIES["quelle"].labels[q] for q in ("kommune", "land", "drittmittel")} <= set(
        fund["quelle"]
    )


def test_access_routes_shift_and_referral_dates(contacts):
    c = contacts.copy()
    c["jahr"] = (
        c["datum_erstkontakt"]
        .str[-4:]
        .where(~c["datum_erstkontakt"].str.contains("-"), c["datum_erstkontakt"].str[:4])
    )
    welcome = c["zugangsweg"].isin(["willkommensbesuch", "Willkommensbesuch"])
    share = welcome.groupby(c["jahr"]).mean()
    assert share["2011"] == 0  # the welcome visits started in 2012
    assert share["2013"] < share["2018"] and share["2018"] > 0.05
    # The municipality's own form label, mapped in fh-analytik.toml, appears in old files.
    assert (c["zugangsweg"] == "Klinikum Schlebusch").sum() > 20

    valid = c[(c["datum_meldung"] != "") & (c["standort_id"] != "wiesdorf")]
    contact = parse_dates(valid["datum_erstkontakt"])
    referral = parse_dates(valid["datum_meldung"])
    ok = contact.notna()
    hol = np.array(
        sorted(holidays.country_holidays("DE", subdiv="NW", years=range(2010, 2027))),
        dtype="datetime64[D]",
    )
    # Working days in (meldung, kontakt]: busday_count counts [meldung, kontakt), shift by one.
    days = np.busday_count(
        referral[ok].to_numpy("datetime64[D]") + 1,
        contact[ok].to_numpy("datetime64[D]") + 1,
        holidays=hol,
    )
    assert 0.3 < len(valid) / len(c) < 0.8
    assert (days < 0).sum() == 1  # only the deliberate flaw
    assert 0.75 < (days[days >= 0] <= 3).mean() < 0.95


def test_every_flaw_is_written_once_where_the_summary_says(written):
    folder, summary = written
    assert [f.key for f in summary.flaws] == [f.key for f in demo.DEMO_FLAWS]
    assert demo.expected_rejects() == {
        "standorte": 0,
        "erstkontakte": 6,
        "angebote": 1,
        "willkommensbesuche": 0,
        "bevoelkerung": 0,
        "kosten_hze": 0,
        "finanzierung": 1,
        "nutzerbefragung": 2,
        "netzwerkpartner": 1,
    }
    marks = {
        "zugangsweg_unbekannt": "Hausarztpraxis",
        "datum_unmoeglich": "31.02.2014",
        "standort_unbekannt": ";wiesdorf;",
        "teilnehmende_ueber_besuche": ";kurs;",
        "note_ausserhalb": ";6;",
        "quelle_unbekannt": "Lotterie-Stiftung",
    }
    for row in summary.flaws:
        if row.file.endswith(".xlsx"):
            sheet = load_workbook(folder / row.file, read_only=True).worksheets[0]
            line = [c.value for c in next(sheet.iter_rows(min_row=row.line, max_row=row.line))]
            assert line[2] == "Polizei / Ordnung"
            continue
        text = (folder / row.file).read_text(encoding="utf-8-sig").splitlines()
        line = text[row.line - 1]
        header = text[0]
        if row.key in marks:
            assert marks[row.key] in line, row
        elif row.key == "feld_fehlt":
            assert line.count(";") == header.count(";") - 1
        elif row.key in ("fall_id_doppelt", "bogen_doppelt"):
            first = line.split(";")[0]
            earlier = [t for t in text[1 : row.line - 1] if t.split(";")[0] == first]
            assert earlier, row  # the key occurs earlier in the same file
        elif row.key == "meldung_nach_kontakt":
            fields = line.split(";")
            assert pd.to_datetime(fields[3], dayfirst=True) > pd.to_datetime(
                fields[2], dayfirst=True
            )
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith(demo.SYNTHETIC_NOTE)
    assert "erstkontakte_2013.csv, Zeile" in readme


def test_scale_multiplies_sites_and_contacts(tmp_path, written):
    _, base = written
    double = demo.write_demo(tmp_path, seed=2014, scale=2, today=TODAY)
    assert len(double.sites) == 8
    assert {"rheindorf_2", "steinbuechel_2", "manfort_2", "opladen_2"} <= set(double.sites)
    ratio = double.rows["erstkontakte"] / base.rows["erstkontakte"]
    assert 1.85 < ratio < 2.15
    assert double.rows["nutzerbefragung"] > 1.8 * base.rows["nutzerbefragung"]
    assert len(double.flaws) == len(demo.DEMO_FLAWS)  # flaws do not scale
    assert double.rows["kosten_hze"] == base.rows["kosten_hze"]  # municipality-wide
    copies = read(tmp_path, "erstkontakte_2020.csv")
    assert (copies["standort_id"] == "rheindorf_2").sum() > 100


@pytest.mark.parametrize(("scale", "n_sites"), [(0.25, 1), (0.3, 2), (1.5, 6), (60, 240)])
def test_fractional_scales_round_sites_up(scale, n_sites):
    sites = demo.demo_sites(scale)
    assert len(sites) == n_sites
    assert sites[0][1] == "rheindorf"


def test_rewrite_removes_only_the_demos_own_files(tmp_path):
    demo.write_demo(tmp_path, seed=1, today=date(2030, 6, 1))
    assert (tmp_path / "erstkontakte_2029.csv").exists()
    (tmp_path / "notizen.txt").write_text("eigene Notiz", encoding="utf-8")
    (tmp_path / "erstkontakte_eigene.csv").write_text("fall_id\n", encoding="utf-8")
    summary = demo.write_demo(tmp_path, seed=1, today=TODAY)
    assert not (tmp_path / "erstkontakte_2029.csv").exists()
    assert (tmp_path / "notizen.txt").exists()
    assert (tmp_path / "erstkontakte_eigene.csv").exists()
    assert summary.other_files == ("erstkontakte_eigene.csv",)
    assert "erstkontakte_eigene.csv" in demo.format_summary(summary)


def test_summary_is_german_and_says_synthetic(written):
    _, summary = written
    text = demo.format_summary(summary)
    assert text.startswith("Synthetische Beispielkommune – erfundene Daten")
    n = summary.rows["erstkontakte"]
    assert f"{n // 1000}.{n % 1000:03d}" in text  # German thousands separator
    assert "Skalierung 1,00" in text
    assert "11 (siehe README.txt)" in text
