"""Loading processed data and selecting site and year (analysis.data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import contact, frame, make_dataset, site, write_processed

from analysis import data
from analysis.errors import FhError


@pytest.fixture
def dataset():
    return make_dataset(
        {
            "standorte": [
                site("rheindorf", "2011-04-01"),
                site("007", "2016-03-01"),
                site("alt", "2010-01-01", "2013-06-30"),
            ],
            "erstkontakte": [
                contact("1", "rheindorf", "2012-02-01"),
                contact("2", "rheindorf", "2014-03-01"),
                contact("3", "007", "2016-05-01"),
                contact("1", "007", "2016-06-01"),  # same fall_id, other site: another family
                contact("4", "alt", "2013-01-15"),
            ],
            "bevoelkerung": [
                {"jahr": 2014, "gebiet": "gesamt", "geburten": 1600},
                {"jahr": 2014, "gebiet": "rheindorf", "geburten": 400},
                {"jahr": 2014, "gebiet": "007", "geburten": 300},
                {"jahr": 2015, "gebiet": "rheindorf", "geburten": 410},
                {"jahr": 2015, "gebiet": "007", "geburten": 290},
            ],
        }
    )


def test_missing_manifest_is_a_german_user_error(tmp_path):
    with pytest.raises(FhError) as err:
        data.load_dataset(tmp_path)
    assert err.value.exit_code == 2
    assert "Keine aufbereiteten Daten in" in err.value.message
    assert "fh-analytik aufbereiten" in err.value.message


def test_load_dataset_reads_typed_tables_and_absent_optional_tables(tmp_path):
    folder = write_processed(
        tmp_path / "processed",
        {
            "standorte": [site("007"), site("rheindorf")],
            "erstkontakte": [contact("1", "007", "2014-03-01", alleinerziehend="ja")],
        },
    )
    ds = data.load_dataset(folder)
    assert ds.sites == ("007", "rheindorf")  # file order; the code 007 stays a string
    assert ds.has("erstkontakte") and not ds.has("angebote")
    assert ds.table("bevoelkerung") is None
    contacts = ds.table("erstkontakte")
    assert contacts["fall_id"].dtype == pd.StringDtype()
    assert contacts["datum_erstkontakt"].dtype == "datetime64[ns]"
    assert list(contacts["alleinerziehend"].cat.categories) == ["ja", "nein", "unbekannt"]
    # An absent optional jn column reads as unbekannt.
    assert contacts["sgb2_bezug"].tolist() == ["unbekannt"]
    assert ds.manifest["tabellen"]["erstkontakte"]["angenommen"] == 1


def test_load_dataset_reads_a_table_on_first_use_from_the_files_open_at_load(tmp_path):
    folder = write_processed(
        tmp_path / "processed",
        {
            "standorte": [site("rheindorf")],
            "erstkontakte": [contact("1", "rheindorf", "2014-03-01")],
            "angebote": [{"standort_id": "rheindorf", "jahr": 2014, "angebot": "beratung"}],
        },
    )
    ds = data.load_dataset(folder)
    assert sorted(ds.tables) == ["angebote", "erstkontakte", "standorte"]
    assert "angebote" in ds.tables and "bevoelkerung" not in ds.tables
    assert len(ds.tables) == 3
    # A new `aufbereiten` swaps in other files after the folder was opened: this dataset
    # still reads the state it opened (no mix of old and new tables).
    (folder / "erstkontakte.parquet").unlink()
    (folder / "neu.parquet").write_bytes(b"kein Parquet")
    os.replace(folder / "neu.parquet", folder / "angebote.parquet")
    assert ds.table("erstkontakte")["fall_id"].tolist() == ["1"]
    assert ds.table("angebote")["jahr"].tolist() == [2014]
    assert ds.table("angebote") is ds.table("angebote")  # read once
    with pytest.raises(KeyError):
        ds.tables["bevoelkerung"]


def test_kennzahlen_modules_load_without_scipy_stats_and_statsmodels():
    # `fh-analytik kennzahlen` needs neither; importing them costs a second per call (#11).
    code = (
        "import sys, analysis.data, analysis.indicators.summary, analysis.indicators.costs, "
        "analysis.indicators.access_routes, analysis.protection.publication; "
        "print(sorted(m for m in ('scipy.stats', 'statsmodels', 'scipy.optimize') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    assert out.stdout.strip() == "[]"


def _env() -> dict[str, str]:
    src = str(Path(data.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}


def test_sites_and_years(dataset):
    assert dataset.sites == ("rheindorf", "007", "alt")
    # 2012, 2013, 2014, 2016 from contacts, 2014 and 2015 from bevoelkerung
    assert dataset.years == (2012, 2013, 2014, 2015, 2016)
    assert dataset.site_name("007") == "Standort 007"
    assert dataset.site_name("alle") == "Alle Standorte"


@pytest.mark.parametrize(
    ("site_in", "year_in", "expected"),
    [
        ("007", "2014", ("007", 2014)),
        ("alle", 2014, ("alle", 2014)),
        (" Alle ", " 2016 ", ("alle", 2016)),
        ("rheindorf", 1999, ("rheindorf", 1999)),  # a year without data is no error
    ],
)
def test_check_selection_accepts_strings(dataset, site_in, year_in, expected):
    assert data.check_selection(dataset, site_in, year_in) == expected


def test_check_selection_unknown_site_names_known_sites(dataset):
    with pytest.raises(FhError) as err:
        data.check_selection(dataset, "7", 2014)  # 7 is not 007
    assert err.value.exit_code == 2
    assert "Unbekannter Standort „7“" in err.value.message
    assert "rheindorf, 007, alt" in err.value.message


def test_check_selection_non_numeric_year(dataset):
    with pytest.raises(FhError, match="Ungültiges Jahr „zwanzig“"):
        data.check_selection(dataset, "alle", "zwanzig")


def test_contacts_for_filters_site_and_year(dataset):
    assert data.contacts_for(dataset, "007", 2016)["fall_id"].tolist() == ["3", "1"]
    assert len(data.contacts_for(dataset, "alle", 2016)) == 2
    assert len(data.contacts_for(dataset, "alle", None)) == 5
    assert data.contacts_for(dataset, "rheindorf", 2016).empty


def test_site_years_from_opening_and_closing(dataset):
    pairs = data.site_years(dataset)
    # rheindorf opened 2011 -> from the first data year 2012 to the last 2016;
    # 007 opened 2016; alt closed 2013 -> 2012, 2013.
    assert [y for s, y in pairs if s == "rheindorf"] == [2012, 2013, 2014, 2015, 2016]
    assert [y for s, y in pairs if s == "007"] == [2016]
    assert [y for s, y in pairs if s == "alt"] == [2012, 2013]
    assert data.site_years(dataset, ["007"]) == [("007", 2016)]


def test_area_value_gesamt_row_sum_and_missing(dataset):
    bev = dataset.table("bevoelkerung")
    assert data.area_value(bev, "geburten", "alle", 2014) == 1600  # the gesamt row
    assert data.area_value(bev, "geburten", "alle", 2015) == 700  # no gesamt: 410 + 290
    assert data.area_value(bev, "geburten", "007", 2015) == 290
    assert data.area_value(bev, "geburten", "alt", 2014) is None  # no row
    assert data.area_value(bev, "kinder_u3", "alle", 2014) is None  # value missing
    assert data.area_value(None, "geburten", "alle", 2014) is None  # no table


def test_offers_for_and_missing_table(dataset):
    assert data.offers_for(dataset, "alle", 2014) is None
    ds = make_dataset(
        {
            "standorte": [site("a"), site("b")],
            "angebote": [
                {"standort_id": "a", "jahr": 2014, "angebot": "kurs", "besuche": 10},
                {"standort_id": "b", "jahr": 2014, "angebot": "kurs", "besuche": 5},
                {"standort_id": "a", "jahr": 2015, "angebot": "kurs", "besuche": 7},
            ],
        }
    )
    assert data.offers_for(ds, "a", 2014)["besuche"].tolist() == [10]
    assert data.offers_for(ds, "alle", 2014)["besuche"].sum() == 15


def test_conform_orders_columns_and_types():
    df = frame("bevoelkerung", [{"geburten": 3, "gebiet": "a", "jahr": 2014}])
    assert list(df.columns) == ["jahr", "gebiet", "geburten", "kinder_u3", "kinder_u3_sgb2"]
    assert df["kinder_u3"].dtype == pd.Int64Dtype() and df["kinder_u3"].isna().all()


def test_site_years_ignore_municipality_wide_years():
    ds = make_dataset(
        {
            "standorte": [site("a")],
            "erstkontakte": [contact("1", "a", "2013-05-01"), contact("2", "a", "2014-05-01")],
            # HzE costs reach back to 2008, the site data only to 2013
            "kosten_hze": [
                {"jahr": 2008, "hilfeart": "gesamt", "ausgaben_eur": 1.0, "fallzahl_mittel": 1.0}
            ],
        }
    )
    assert ds.years == (2008, 2013, 2014)
    assert ds.site_data_years == (2013, 2014)
    assert data.site_years(ds) == [("a", 2013), ("a", 2014)]


def test_site_years_for_sites_opening_or_closing_on_the_first_and_last_day_of_a_year():
    # Data 2012-2015. "neujahr" opened 01.01.2013 -> 2013 counts (a whole year open);
    # "silvester" opened 31.12.2013 -> 2013 counts too (open on one day of it);
    # "zu_neujahr" closed 01.01.2014 -> 2014 is its last year; "zu_silvester" closed
    # 31.12.2013 -> 2013 is its last year, 2014 is not.
    ds = make_dataset(
        {
            "standorte": [
                site("neujahr", "2013-01-01"),
                site("silvester", "2013-12-31"),
                site("zu_neujahr", "2012-01-01", "2014-01-01"),
                site("zu_silvester", "2012-01-01", "2013-12-31"),
            ],
            "erstkontakte": [
                contact("1", "neujahr", "2012-06-01"),
                contact("2", "neujahr", "2015-06-01"),
            ],
        }
    )
    years = {s: [y for t, y in data.site_years(ds) if t == s] for s in ("neujahr", "silvester")}
    assert years == {"neujahr": [2013, 2014, 2015], "silvester": [2013, 2014, 2015]}
    assert [y for s, y in data.site_years(ds) if s == "zu_neujahr"] == [2012, 2013, 2014]
    assert [y for s, y in data.site_years(ds) if s == "zu_silvester"] == [2012, 2013]
    # A first contact on the opening day itself and on 31 December belong to that year.
    ds2 = make_dataset(
        {
            "standorte": [site("a", "2013-01-01")],
            "erstkontakte": [
                contact("1", "a", "2013-01-01"),
                contact("2", "a", "2013-12-31"),
                contact("3", "a", "2014-01-01"),
            ],
        }
    )
    assert data.contacts_for(ds2, "a", 2013)["fall_id"].tolist() == ["1", "2"]
    assert data.contacts_for(ds2, "a", 2014)["fall_id"].tolist() == ["3"]


# --- the data as they stood for a report of year J -------------------------------------


def test_up_to_drops_later_rows_and_later_sites_and_hides_later_dates() -> None:
    dataset = make_dataset(
        {
            "standorte": [
                site("rheindorf", "2011-04-01", "2015-01-01"),  # closes in 2015
                site("neu", "2015-01-01"),  # opens on 1 January 2015
                site("silvester", "2014-12-31"),  # opens on the last day of 2014
            ],
            "erstkontakte": [
                contact("1", "rheindorf", "2014-12-31"),
                contact("2", "rheindorf", "2015-01-01"),
                contact("3", "silvester", "2014-12-31"),
            ],
            "bevoelkerung": [
                {"jahr": 2014, "gebiet": "rheindorf", "geburten": 400},
                {"jahr": 2015, "gebiet": "rheindorf", "geburten": 410},
            ],
        }
    )
    bounded = dataset.up_to(2014)
    assert list(bounded.table("erstkontakte")["fall_id"]) == ["1", "3"]  # 31.12. stays
    assert list(bounded.table("bevoelkerung")["jahr"]) == [2014]
    standorte = bounded.table("standorte")
    assert list(standorte["standort_id"]) == ["rheindorf", "silvester"]
    assert standorte["geschlossen"].isna().all()  # the 2015 closing was not known in 2014
    assert bounded.years == (2014,)
    # The full dataset is untouched, and a later year keeps the closing date.
    assert len(dataset.table("erstkontakte")) == 3
    assert dataset.up_to(2015).table("standorte")["geschlossen"].notna().sum() == 1


def test_every_date_column_of_the_contract_is_bounded_by_year() -> None:
    """A new dated column must say how a report of year J treats its later values."""
    from analysis.contract.schema import TABLES

    for table in TABLES.values():
        dated = {c.name for c in table.columns if c.type == "date"}
        rows_by, later = data.YEAR_BOUNDS.get(table.name, (None, ()))
        covered = set(later) | ({rows_by} if rows_by else set())
        assert dated <= covered, (table.name, dated - covered)
        assert covered <= set(table.column_names), table.name
        assert dated or "jahr" in table.column_names or table.name not in data.YEAR_BOUNDS


@pytest.mark.parametrize(
    ("stored", "by_date"),
    [(False, False), (True, False), (True, True)],
    ids=["im_speicher", "ordner", "ordner_nach_datum"],
)
def test_choosing_rows_of_a_bounded_dataset_gives_the_rows_of_the_bounded_table(
    stored: bool, by_date: bool, tmp_path: Path
) -> None:
    """``contacts_for``, ``offers_for`` and ``surveys_for`` on ``up_to(J)`` choose among the
    unbounded rows and bound only those; the frame must be the one of bounding the whole
    table first (rows, order, index, values, the blanked later referral dates included),
    whether or not the whole bounded table was already built. From a processed folder the
    rows are chosen in Arrow before they become pandas, from the row groups (here of 37
    rows) whose statistics admit the year: the same frames, bounded or not, with the
    contacts in file order by date (as aufbereiten writes year after year) or not."""
    import random

    rng = random.Random(11)
    sites = ["a", "b", "c"]
    days = pd.date_range("2012-11-01", "2016-02-28", freq="D")
    contacts = []
    for i in range(400):
        day = rng.choice(days)
        # Some referrals after the contact and after the year's end: bounding blanks them.
        referral = day + pd.Timedelta(days=rng.randint(-20, 20))
        contacts.append(
            contact(str(i), rng.choice(sites), day.strftime("%Y-%m-%d"),
                    datum_meldung=referral.strftime("%Y-%m-%d"))
        )  # fmt: skip
    if by_date:
        contacts.sort(key=lambda row: row["datum_erstkontakt"])
    offers = [
        {"standort_id": s, "jahr": y, "angebot": "kurs", "besuche": rng.randint(0, 50)}
        for s in sites
        for y in range(2012, 2017)
    ]
    surveys = [
        {"bogen_id": str(i), "standort_id": rng.choice(sites),
         "datum": rng.choice(days).strftime("%Y-%m-%d"), "beratung": rng.randint(1, 5)}
        for i in range(150)
    ]  # fmt: skip
    tables = {"standorte": [site(s) for s in sites], "erstkontakte": contacts,
              "angebote": offers, "nutzerbefragung": surveys}  # fmt: skip
    dataset = make_dataset(tables)
    if stored:
        folder = write_processed(tmp_path / "processed", tables)
        for path in folder.glob("*.parquet"):
            pq.write_table(pq.read_table(path), path, row_group_size=37)

        def fresh() -> data.Dataset:  # nothing read yet: every choice is made in Arrow
            return data.load_dataset(folder)
    else:

        def fresh() -> data.Dataset:
            return dataset

    assert (dataset.table("erstkontakte")["datum_meldung"].dt.year > 2013).any()
    choices = [
        (data.contacts_for, "erstkontakte", "datum_erstkontakt"),
        (data.offers_for, "angebote", None),
        (data.surveys_for, "nutzerbefragung", "datum"),
    ]
    blanked = 0
    for bound in (2013, 2014, 2015):
        for choose, table, date_column in choices:
            whole = data.bound_to_year(table, dataset.table(table), bound)
            for who in ["alle", *sites]:
                for year in (None, bound - 1, bound, bound + 1):
                    expected = data.select_site_year(whole, who, year, date_column=date_column)
                    chosen = choose(fresh().up_to(bound), who, year)
                    built = fresh().up_to(bound)
                    built.table(table)  # the whole bounded table first
                    pd.testing.assert_frame_equal(chosen, expected)
                    pd.testing.assert_frame_equal(choose(built, who, year), expected)
                    unbounded = data.select_site_year(
                        dataset.table(table), who, year, date_column=date_column
                    )
                    pd.testing.assert_frame_equal(choose(fresh(), who, year), unbounded)
                    if table == "erstkontakte" and year is None:
                        blanked += int(chosen["datum_meldung"].isna().sum())
    assert blanked > 0  # the blanking of later referral dates was exercised


def test_rows_of_a_table_stored_with_other_types_are_those_of_its_conformed_frame(
    tmp_path: Path,
) -> None:
    """A Parquet file written by hand (site codes as numbers, dates and years as text)
    cannot be chosen from in Arrow: the choice is made on the frame ``conform``
    builds, so ``7`` is still the site ``"7"`` and the text date still has its year."""
    folder = write_processed(
        tmp_path / "processed",
        {
            "standorte": [site("7"), site("8")],
            "erstkontakte": [contact("1", "7", "2014-03-01"), contact("2", "8", "2014-04-01"),
                             contact("3", "7", "2015-01-01")],
            "angebote": [{"standort_id": "7", "jahr": 2014, "angebot": "kurs"},
                         {"standort_id": "7", "jahr": 2015, "angebot": "kurs"}],
        },
    )  # fmt: skip
    contacts = pd.read_parquet(folder / "erstkontakte.parquet")
    contacts["standort_id"] = contacts["standort_id"].astype("int64")
    contacts["datum_erstkontakt"] = contacts["datum_erstkontakt"].dt.strftime("%Y-%m-%d")
    contacts.to_parquet(folder / "erstkontakte.parquet", index=False)
    offers = pd.read_parquet(folder / "angebote.parquet")
    offers["jahr"] = offers["jahr"].astype("int64").astype(str)
    offers.to_parquet(folder / "angebote.parquet", index=False)

    assert data.contacts_for(data.load_dataset(folder), "7", 2014)["fall_id"].tolist() == ["1"]
    assert data.contacts_for(data.load_dataset(folder), "alle", 2015)["fall_id"].tolist() == ["3"]
    assert data.offers_for(data.load_dataset(folder), "7", 2015)["jahr"].tolist() == [2015]
    whole = data.load_dataset(folder).table("erstkontakte")
    pd.testing.assert_frame_equal(
        data.contacts_for(data.load_dataset(folder), "7", None),
        data.select_site_year(whole, "7", None),
    )


def _contacts_with_text_dates(path: Path) -> None:
    # Day-first text in a column that is not chosen by: pandas guesses the format from the
    # values it sees, so the chosen rows alone ("01/02/2021") would read as 2 January.
    frame = pd.read_parquet(path)
    frame["datum_meldung"] = ["13/01/2019", "01/02/2021", "03/04/2021"]
    frame.to_parquet(path, index=False)


def _offers_with_index(index: pd.Index) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame = pd.read_parquet(path)
        frame.index = index
        frame.to_parquet(path)  # the index stored, as pandas does by default

    return write


def _offers_indexed_by_year(path: Path) -> None:
    pd.read_parquet(path).set_index("jahr").to_parquet(path)


def _offers_with_a_nested_jahr(path: Path) -> None:
    table = pq.read_table(path)
    nested = pa.array([{"jahr": 1900}] * table.num_rows)
    pq.write_table(table.add_column(0, "meta", nested), path)


def _contacts_with_a_gap_and_a_dictionary_per_group(path: Path) -> None:
    # As above, with a missing route in the second group: unbekannt on every way.
    _contacts_with_a_dictionary_per_group(path)
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.loc[2, "zugangsweg"] = None
    parts = [frame.iloc[:2], frame.iloc[2:]]
    with pq.ParquetWriter(path, table.schema) as writer:
        for part in parts:
            writer.write_table(
                pa.Table.from_pandas(part, schema=table.schema, preserve_index=False)
            )


def _offers_with_large_numbers_and_gaps(path: Path) -> None:
    # Whole numbers above 2**53 with a gap, without the pandas description "Int64": the
    # whole table reads as float64 (rounded), a chosen row without the gap would not.
    table = pq.read_table(path).replace_schema_metadata(None)
    counts = pa.array([2**53 + 1, None, 5], type=pa.int64())
    table = table.set_column(table.schema.get_field_index("teilnehmende"), "teilnehmende", counts)
    pq.write_table(table, path)


def _offers_without_a_column(path: Path) -> None:
    pd.read_parquet(path).drop(columns=["teilnehmende"]).to_parquet(path, index=False)


def _contacts_with_a_dictionary_per_group(path: Path) -> None:
    # Each row group with its categories in another order (a writer appending per year).
    frame = pd.read_parquet(path)
    codes = list(frame["zugangsweg"].cat.categories)
    parts = [frame.iloc[:2].copy(), frame.iloc[2:].copy()]
    parts[0]["zugangsweg"] = parts[0]["zugangsweg"].cat.reorder_categories(codes[::-1])
    tables = [pa.Table.from_pandas(part, preserve_index=False) for part in parts]
    with pq.ParquetWriter(path, tables[0].schema) as writer:
        for table in tables:
            writer.write_table(table)


@pytest.mark.filterwarnings("ignore:Parsing dates in:UserWarning")  # the day-first text
@pytest.mark.parametrize(
    ("table", "rewrite"),
    [
        ("erstkontakte", _contacts_with_text_dates),
        ("angebote", _offers_with_index(pd.Index([10, 11, 12]))),
        ("angebote", _offers_with_index(pd.RangeIndex(100, 103))),
        ("angebote", _offers_indexed_by_year),
        ("angebote", _offers_with_a_nested_jahr),
        ("erstkontakte", _contacts_with_a_dictionary_per_group),
        ("angebote", _offers_without_a_column),
        ("erstkontakte", _contacts_with_a_gap_and_a_dictionary_per_group),
        ("angebote", _offers_with_large_numbers_and_gaps),
    ],
    ids=["text_datum", "index", "range_index", "jahr_als_index", "jahr_verschachtelt",
         "kategorien_je_gruppe", "ohne_spalte", "kategorien_mit_luecke", "grosse_zahlen"],
)  # fmt: skip
def test_a_file_not_written_by_aufbereiten_is_chosen_from_as_its_whole_frame(
    table: str, rewrite: Callable[[Path], None], tmp_path: Path
) -> None:
    """Only a file exactly as aufbereiten writes it is chosen from in Arrow; any other gives
    the rows choosing from its whole conformed frame gives (found by review: swapped day
    and month, another index, an index or a nested field named jahr read as the year)."""
    folder = write_processed(
        tmp_path / "processed",
        {
            "standorte": [site("A")],
            "erstkontakte": [contact("1", "A", "2019-03-01"), contact("2", "A", "2021-03-01"),
                             contact("3", "A", "2021-05-01")],
            "angebote": [{"standort_id": "A", "jahr": y, "angebot": "kurs"}
                         for y in (2020, 2018, 2021)],
        },
    )  # fmt: skip
    rewrite(folder / f"{table}.parquet")
    choose = data.contacts_for if table == "erstkontakte" else data.offers_for
    whole = data.load_dataset(folder).table(table)
    date_column = "datum_erstkontakt" if table == "erstkontakte" else None
    for year in (2018, 2021, None):
        expected = data.select_site_year(whole, "A", year, date_column=date_column)
        pd.testing.assert_frame_equal(choose(data.load_dataset(folder), "A", year), expected)
        bounded = data.bound_to_year(table, expected, 2021)
        pd.testing.assert_frame_equal(
            choose(data.load_dataset(folder).up_to(2021), "A", year), bounded
        )
    if table == "erstkontakte":  # categories always in the contract's order
        assert list(whole["zugangsweg"].cat.categories) == list(
            data.column_dtype("erstkontakte", "zugangsweg").categories
        )
    if rewrite is _contacts_with_text_dates:  # read from all three values: day first
        met = data.contacts_for(data.load_dataset(folder), "A", 2021)
        assert met["datum_meldung"].dt.month.tolist() == [2, 4]


def test_conform_gives_categories_in_the_contracts_order_and_unordered() -> None:
    codes = list(data.column_dtype("erstkontakte", "zugangsweg").categories)
    orders = (pd.CategoricalDtype(codes[::-1]), pd.CategoricalDtype(codes, ordered=True),
              pd.CategoricalDtype(codes))  # fmt: skip
    for dtype in orders:
        given = pd.DataFrame({"zugangsweg": pd.Series([codes[1], codes[0], None], dtype=dtype)})
        out = data.conform("erstkontakte", given)["zugangsweg"]
        assert out.dtype.ordered is False and list(out.cat.categories) == codes
        # A gap reads as unbekannt whatever the order was (found by review: only a
        # reordered column filled it).
        assert out.tolist() == [codes[1], codes[0], "unbekannt"]


def test_a_file_whose_pandas_description_lies_gives_the_error_of_its_whole_frame(
    tmp_path: Path,
) -> None:
    """Dates described as with a time zone: the whole frame cannot be conformed, and
    choosing rows must not answer where the whole table fails."""
    folder = write_processed(
        tmp_path / "processed",
        {"standorte": [site("A")], "erstkontakte": [contact("1", "A", "2021-03-01")]},
    )
    path = folder / "erstkontakte.parquet"
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:
        if column["name"] == "datum_erstkontakt":
            column["numpy_type"] = "datetime64[ns, UTC]"
            column["metadata"] = {"timezone": "UTC"}
    pq.write_table(table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()}), path)
    with pytest.raises(TypeError):
        data.load_dataset(folder).table("erstkontakte")
    for year in (2020, 2021):
        with pytest.raises(TypeError):
            data.contacts_for(data.load_dataset(folder), "A", year)


def test_a_table_chosen_from_is_read_whole_later_from_the_same_file(tmp_path: Path) -> None:
    """Choosing rows reads the file once; the whole table asked for later is the whole
    file as it was when the folder was opened, not only the chosen rows."""
    folder = write_processed(
        tmp_path / "processed",
        {"standorte": [site("a"), site("b")],
         "erstkontakte": [contact("1", "a", "2014-03-01"), contact("2", "b", "2014-04-01")]},
    )  # fmt: skip
    ds = data.load_dataset(folder)
    assert data.contacts_for(ds, "b", 2014)["fall_id"].tolist() == ["2"]
    (folder / "erstkontakte.parquet").unlink()  # the file is not opened again
    assert ds.table("erstkontakte")["fall_id"].tolist() == ["1", "2"]
    assert data.contacts_for(ds, "a", 2014).index.tolist() == [0]


def test_a_year_of_a_file_written_year_after_year_reads_only_its_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kennzahlen for one year at scale 60 read a million contacts to keep a few hundred;
    with the statistics of row groups only the groups that can hold the year are read."""
    days = pd.date_range("2012-01-01", "2015-12-31", freq="3D")
    contacts = [contact(str(i), "ab"[i % 2], d.strftime("%Y-%m-%d")) for i, d in enumerate(days)]
    folder = write_processed(
        tmp_path / "processed", {"standorte": [site("a"), site("b")], "erstkontakte": contacts}
    )
    path = folder / "erstkontakte.parquet"
    pq.write_table(pq.read_table(path), path, row_group_size=50)  # 487 rows: 10 groups
    read_groups: list[int] = []
    whole_reads: list[int] = []
    real_group, real_read = pq.ParquetFile.read_row_group, pq.ParquetFile.read

    def spy_group(self, i, *args, **kwargs):
        read_groups.append(i)
        return real_group(self, i, *args, **kwargs)

    def spy_read(self, *args, **kwargs):
        whole_reads.append(1)
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy_group)
    monkeypatch.setattr(pq.ParquetFile, "read", spy_read)
    ds = data.load_dataset(folder)
    chosen = data.contacts_for(ds.up_to(2014), "b", 2014)
    # Every third day from 2012-01-01 (366 days) and 2013 (365): 2014-01-01 is day 731, so
    # 2014 is rows 244 (day 732) to 365 (day 1095 = 31 December): groups 4 to 7.
    assert sorted(set(read_groups)) == [4, 5, 6, 7] and whole_reads == []
    assert chosen.index.min() == 245 and chosen.index.max() == 365  # site b: odd rows
    assert (chosen["datum_erstkontakt"].dt.year == 2014).all()
    assert data.contacts_for(ds, "a", 2011).empty and whole_reads == []  # no group admits 2011
    assert len(data.contacts_for(ds, "a", 2014)) == 61
    assert len(read_groups) == 4  # each group is read once
    whole = ds.table("erstkontakte")  # now the whole file, once
    assert whole_reads == [1] and len(whole) == len(days)
    pd.testing.assert_frame_equal(
        chosen, data.select_site_year(whole, "b", 2014, date_column="datum_erstkontakt")
    )
    # Without statistics every group may hold the year: the whole file is read.
    pq.write_table(pq.read_table(path), path, row_group_size=50, write_statistics=False)
    pd.testing.assert_frame_equal(
        data.contacts_for(data.load_dataset(folder).up_to(2014), "b", 2014), chosen
    )


def test_rows_cannot_be_chosen_by_a_column_that_bounding_blanks() -> None:
    bounded = make_dataset({"erstkontakte": [contact("1", "a", "2014-01-01")]}).up_to(2014)
    with pytest.raises(ValueError, match="datum_meldung"):
        bounded.tables.select("erstkontakte", "alle", 2014, "datum_meldung")


def test_a_table_given_as_none_is_absent_for_every_choice() -> None:
    """A dataset built by hand may say "not delivered" with None instead of leaving the
    table out; choosing from it gives None, bounded or not, as for a missing table."""
    given = make_dataset({"erstkontakte": [contact("1", "a", "2014-01-01")]})
    dataset = data.Dataset(given.folder, given.manifest, {**given.tables, "angebote": None})
    assert data.offers_for(dataset, "alle", 2014) is None
    assert data.offers_for(dataset.up_to(2014), "alle", 2014) is None
    assert data.surveys_for(dataset, "alle", 2014) is None
