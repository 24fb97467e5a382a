"""Access routes: counts and shares, working days with NRW holidays, response time,
site comparison, trend, onward referrals and the federal-statistics crosswalk."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from helpers import contact, frame

from analysis.contract.schema import CATEGORIES
from analysis.errors import FhError
from analysis.indicators import access_routes as ar

ROUTE_CODES = list(CATEGORIES["zugangsweg"].codes)
GROUPS = list(CATEGORIES["zugangsweg"].group_names)


def contacts(*rows: dict) -> pd.DataFrame:
    return frame("erstkontakte", list(rows))


def five_contacts() -> pd.DataFrame:
    return contacts(
        contact("1", "a", "2014-06-20", zugangsweg="geburtsklinik", datum_meldung="2014-06-18"),
        contact("2", "a", "2014-06-16", zugangsweg="hebamme", datum_meldung="2014-06-13"),
        contact("3", "b", "2014-11-03", zugangsweg="unbekannt"),
        contact("4", "b", "2014-01-10", zugangsweg="jugendamt", datum_meldung="2014-01-10"),
        contact("5", "b", "2014-01-07", zugangsweg="eigeninitiative", datum_meldung="2013-12-24"),
    )


# --- counts and shares ----------------------------------------------------------------------


def test_route_counts_every_code_in_schema_order_with_zeros():
    counts = ar.route_counts(five_contacts())
    assert list(counts.index) == ROUTE_CODES
    assert counts["geburtsklinik"] == 1 and counts["unbekannt"] == 1
    assert counts["kinderarzt"] == 0
    assert counts.sum() == 5
    assert (counts.name, counts.index.name) == ("anzahl", "zugangsweg")  # the table's headers


def test_route_shares_include_unknown_in_denominator():
    shares = ar.route_shares(five_contacts())
    # 1 of 5 contacts each; unbekannt counts in the denominator: 1/5 = 0.2
    assert shares["hebamme"] == pytest.approx(0.2)
    assert shares["unbekannt"] == pytest.approx(0.2)
    assert shares["frauenarzt"] == 0.0
    assert shares.sum() == pytest.approx(1.0)


def test_group_shares_follow_the_contract_groups():
    groups = ar.group_shares(five_contacts())
    assert list(groups.index) == GROUPS
    # Gesundheitswesen: geburtsklinik + hebamme = 2/5; Jugendhilfe: jugendamt 1/5;
    # Aufsuchend 0; Eigener Zugang: eigeninitiative 1/5; Sonstige: unbekannt 1/5
    assert groups.to_dict() == pytest.approx(
        {
            "Gesundheitswesen": 0.4,
            "Jugendhilfe und Soziales": 0.2,
            "Aufsuchend": 0.0,
            "Eigener Zugang": 0.2,
            "Sonstige": 0.2,
        }
    )


def test_group_counts_are_whole_numbers_named_for_a_table_of_their_own():
    # The exploration in JupyterLab shows the series as a table: its name is the column
    # header ("anzahl") and its index name the row header ("gruppe"); the names of the shares
    # (group_shares) are "anteil" and "gruppe", so both join to one table.
    counts = ar.group_counts(five_contacts())
    assert counts.to_dict() == {
        "Gesundheitswesen": 2,
        "Jugendhilfe und Soziales": 1,
        "Aufsuchend": 0,
        "Eigener Zugang": 1,
        "Sonstige": 1,
    }
    assert list(counts.index) == GROUPS and counts.dtype == "int64"
    assert (counts.name, counts.index.name) == ("anzahl", "gruppe")
    table = pd.concat([counts, ar.group_shares(five_contacts())], axis=1).reset_index()
    assert list(table.columns) == ["gruppe", "anzahl", "anteil"]
    assert ar.group_shares(contacts()).name == "anteil"


def test_no_contacts_gives_zero_counts_and_missing_shares():
    empty = contacts()
    assert ar.route_counts(empty).sum() == 0
    assert ar.route_shares(empty).isna().all()
    assert ar.route_shares(empty).name == ar.route_shares(five_contacts()).name == "anteil"
    assert ar.group_shares(empty).isna().all()


# --- working days ---------------------------------------------------------------------------


def _wd(referral: str | None, contact_day: str, land: str = "NW") -> object:
    result = ar.working_days(
        pd.Series(pd.to_datetime([referral])), pd.Series(pd.to_datetime([contact_day])), land
    )
    return result.iloc[0]


def test_working_days_same_day_is_zero():
    assert _wd("2014-03-05", "2014-03-05") == 0


def test_working_days_over_a_weekend():
    # Fri 13.06.2014 -> Mon 16.06.2014: Sat, Sun do not count, Mon does -> 1
    assert _wd("2014-06-13", "2014-06-16") == 1
    # Mon -> Fri of the same week: Tue, Wed, Thu, Fri -> 4
    assert _wd("2014-03-03", "2014-03-07") == 4


def test_working_days_skip_nrw_holidays():
    # Wed 18.06.2014 -> Fri 20.06.2014: Thu 19.06. is Fronleichnam in NRW -> only Fri = 1
    assert _wd("2014-06-18", "2014-06-20") == 1
    # Berlin has no Fronleichnam: Thu and Fri -> 2
    assert _wd("2014-06-18", "2014-06-20", land="BE") == 2
    # Thu 31.10.2013 -> Mon 04.11.2013: Fri 01.11. Allerheiligen (NRW), Sat, Sun -> Mon = 1
    assert _wd("2013-10-31", "2013-11-04") == 1


# --- the holidays store (issue #11, P3) -------------------------------------------------------
def _package_holidays(land: str, years: range) -> list[str]:
    import holidays

    return [str(d) for d in sorted(holidays.Germany(subdiv=land, years=years))]


@pytest.fixture
def holiday_store(tmp_path, monkeypatch):
    """An empty store folder of its own, and no dates remembered in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ar._holiday_dates.cache_clear()
    yield tmp_path / "cache" / ar.HOLIDAY_STORE
    ar._holiday_dates.cache_clear()


def _block_package(monkeypatch) -> None:
    """Importing ``holidays`` fails from now on: only the store can answer."""
    monkeypatch.setitem(sys.modules, "holidays", None)
    ar._holiday_dates.cache_clear()


def test_holidays_are_kept_and_read_back_without_the_package(holiday_store, monkeypatch):
    from importlib.metadata import version

    expected = _package_holidays("NW", range(2013, 2015))
    assert [str(d) for d in ar.holiday_dates("NW", [2014, 2013])] == expected
    stored = json.loads((holiday_store / "NW.json").read_text(encoding="utf-8"))
    assert stored["holidays"] == version("holidays") and stored["land"] == "NW"
    assert sorted(stored["jahre"]) == ["2013", "2014"]
    assert "2014-06-19" in stored["jahre"]["2014"]  # Fronleichnam

    _block_package(monkeypatch)
    assert [str(d) for d in ar.holiday_dates("NW", [2013, 2014])] == expected
    assert [str(d) for d in ar.holiday_dates("NW", [2014])] == expected[len(expected) // 2 :]
    with pytest.raises(ImportError):  # 2015 is not stored: only the package knows it
        ar.holiday_dates("NW", [2013, 2015])
    monkeypatch.delitem(sys.modules, "holidays")
    ar._holiday_dates.cache_clear()
    assert [str(d) for d in ar.holiday_dates("NW", [2015])] == _package_holidays(
        "NW", range(2015, 2016)
    )
    stored = json.loads((holiday_store / "NW.json").read_text(encoding="utf-8"))
    assert sorted(stored["jahre"]) == ["2013", "2014", "2015"]  # added, none lost
    assert not (holiday_store / "BE.json").exists()
    ar.holiday_dates("BE", [2014])  # each Land its own file
    assert "2014-06-19" not in json.loads((holiday_store / "BE.json").read_text())["jahre"]["2014"]


@pytest.mark.parametrize(
    "damage",
    [
        "kein JSON",
        json.dumps([]),
        json.dumps({"holidays": "0.1", "land": "NW", "jahre": {"2014": ["2014-03-03"]}}),
        json.dumps({"holidays": "{version}", "land": "BE", "jahre": {"2014": ["2014-03-03"]}}),
        json.dumps({"holidays": "{version}", "land": "NW", "jahre": {"2014": "2014-03-03"}}),
        json.dumps({"holidays": "{version}", "land": "NW", "jahre": {"2014": ["2014-02-31"]}}),
        json.dumps({"holidays": "{version}", "land": "NW", "jahre": {"2014": ["2015-03-03"]}}),
        json.dumps({"holidays": "{version}", "land": "NW", "jahre": {"2014": [20140303]}}),
        "[" * 100_000,
    ],
    ids=["kein_json", "liste", "andere_version", "anderes_land", "keine_liste",
         "kein_tag", "falsches_jahr", "zahl", "zu_tief_geschachtelt"],
)  # fmt: skip
def test_a_store_of_another_version_or_damaged_is_not_trusted(holiday_store, damage):
    from importlib.metadata import version

    holiday_store.mkdir(parents=True)
    (holiday_store / "NW.json").write_text(damage.replace("{version}", version("holidays")))
    days = [str(d) for d in ar.holiday_dates("NW", [2014])]
    assert days == _package_holidays("NW", range(2014, 2015))
    assert "2014-03-03" not in days
    stored = json.loads((holiday_store / "NW.json").read_text(encoding="utf-8"))
    assert stored["holidays"] == version("holidays")  # replaced by the package's answer
    assert stored["jahre"]["2014"] == days


def test_a_store_that_cannot_be_written_only_costs_asking_the_package(tmp_path, monkeypatch):
    blocked = tmp_path / "eine_datei"
    blocked.write_text("kein Ordner")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    ar._holiday_dates.cache_clear()
    try:
        days = [str(d) for d in ar.holiday_dates("NW", [2014])]
    finally:
        ar._holiday_dates.cache_clear()
    assert days == _package_holidays("NW", range(2014, 2015))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eine_datei"]  # no leftovers


def test_a_pipe_in_place_of_the_store_is_not_read(holiday_store):
    """Reading a FIFO would wait for a writer forever: the command hung."""
    holiday_store.mkdir(parents=True)
    os.mkfifo(holiday_store / "NW.json")
    code = "from analysis.indicators import access_routes as ar; print(len(ar.holiday_dates('NW', [2014])))"
    env = {**os.environ, "XDG_CACHE_HOME": str(holiday_store.parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout) == (0, "11\n"), done.stderr


def test_a_relative_cache_folder_is_ignored_as_the_xdg_rule_says(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relativ")
    monkeypatch.setenv("HOME", str(tmp_path / "heim"))
    monkeypatch.chdir(tmp_path)
    ar._holiday_dates.cache_clear()
    try:
        ar.holiday_dates("NW", [2014])
    finally:
        ar._holiday_dates.cache_clear()
    assert not (tmp_path / "relativ").exists()
    assert (tmp_path / "heim" / ".cache" / ar.HOLIDAY_STORE / "NW.json").is_file()


@pytest.mark.parametrize("land", ["../NW", "nw", "X", "Augsburg"])
def test_only_a_land_code_names_a_store_file(holiday_store, land):
    """Another text never becomes a path; the package decides whether it knows it."""
    try:
        ar.holiday_dates(land, [2014])
    except FhError as exc:
        assert "Unbekanntes Bundesland" in exc.message
    assert not holiday_store.exists()


def test_an_unknown_land_code_is_a_user_error_and_is_not_stored(holiday_store):
    with pytest.raises(FhError, match="Unbekanntes Bundesland „XX“"):
        ar.holiday_dates("XX", [2014])
    assert not holiday_store.exists()


def test_a_command_with_the_holidays_stored_does_not_import_the_package(holiday_store):
    code = (
        "import sys; from analysis.indicators import access_routes as ar; "
        "print(len(ar.holiday_dates('NW', [2014])), 'holidays' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(holiday_store.parent.parent)}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       check=True).stdout.split()
        for _ in range(2)
    ]  # fmt: skip
    assert runs == [["11", "True"], ["11", "False"]]  # NRW 2014: 11 holidays


def test_working_days_across_the_turn_of_the_year():
    # Tue 24.12.2013 -> Thu 02.01.2014: 25./26.12. holidays, 27.12. Fri counts,
    # 28./29. weekend, 30. and 31.12. count, 01.01. holiday, 02.01. counts -> 4
    assert _wd("2013-12-24", "2014-01-02") == 4


def test_working_days_missing_or_reversed_dates_are_na():
    assert pd.isna(_wd(None, "2014-03-05"))
    # a referral after the contact is rejected by the preparation; here it is simply left out
    assert pd.isna(_wd("2014-03-06", "2014-03-05"))


def test_working_days_keep_the_index_of_the_frame():
    c = five_contacts().set_index("fall_id")
    days = ar.working_days(c["datum_meldung"], c["datum_erstkontakt"])
    assert list(days.index) == ["1", "2", "3", "4", "5"]
    assert days.dtype == "Int64"


def test_unknown_land_is_a_user_error():
    with pytest.raises(FhError, match="Bundesland"):
        _wd("2014-03-03", "2014-03-07", land="XX")


# --- response time and the key-indicator block ----------------------------------------------


def test_response_time_median_and_three_day_share():
    # working days: #1 = 1 (Fronleichnam), #2 = 1 (weekend), #3 no referral, #4 = 0,
    # #5 24.12.2013 -> 07.01.2014: 27.12., 30.12., 31.12., 02.01., 03.01., 06.01., 07.01. = 7
    # n = 4; sorted 0, 1, 1, 7 -> median (1 + 1) / 2 = 1.0; within 3 days: 3 of 4 = 0.75
    rt = ar.response_time(five_contacts(), "NW")
    assert rt == ar.ResponseTime(n=4, median_werktage=1.0, quote_binnen_3_werktagen=0.75)


def test_response_time_without_referrals():
    c = contacts(contact("1", "a", "2014-03-03"), contact("2", "a", "2014-03-04"))
    assert ar.response_time(c, "NW") == ar.ResponseTime(0, None, None)


def test_response_time_by_group():
    table = ar.response_time_by_group(five_contacts(), "NW")
    # Gesundheitswesen: #1 = 1, #2 = 1 -> n 2, median 1, both within 3 days
    assert table.loc["Gesundheitswesen"].to_dict() == {
        "n": 2,
        "median_werktage": 1.0,
        "quote_binnen_3_werktagen": 1.0,
    }
    # Eigener Zugang: #5 = 7 working days -> not within 3
    assert table.loc["Eigener Zugang", "quote_binnen_3_werktagen"] == 0.0
    # Sonstige: #3 has no referral date -> n 0, nothing computable
    assert table.loc["Sonstige", "n"] == 0
    assert pd.isna(table.loc["Sonstige", "median_werktage"])
    assert table.loc["Insgesamt", "n"] == 4
    # Without a Land the rule of the demo's Land, Nordrhein-Westfalen, applies.
    pd.testing.assert_frame_equal(ar.response_time_by_group(five_contacts()), table)


def test_key_indicators_block_matches_the_spec():
    block = ar.key_indicators(five_contacts(), "NW")
    assert set(block) == {"anzahl", "anteile", "gruppen", "reaktionszeit"}
    assert list(block["anzahl"]) == ROUTE_CODES
    assert list(block["anteile"]) == ROUTE_CODES
    assert list(block["gruppen"]) == GROUPS
    assert block["anzahl"]["hebamme"] == 1 and isinstance(block["anzahl"]["hebamme"], int)
    assert block["anteile"]["hebamme"] == pytest.approx(0.2)
    assert block["gruppen"]["Gesundheitswesen"] == pytest.approx(0.4)
    assert block["reaktionszeit"] == {
        "n": 4,
        "median_werktage": 1.0,
        "quote_binnen_3_werktagen": 0.75,
    }


def test_key_indicators_empty_year_counts_zero_and_null_rates():
    block = ar.key_indicators(contacts(), "NW")
    assert all(v == 0 for v in block["anzahl"].values())
    assert all(v is None for v in block["anteile"].values())
    assert all(v is None for v in block["gruppen"].values())
    assert block["reaktionszeit"] == {
        "n": 0,
        "median_werktage": None,
        "quote_binnen_3_werktagen": None,
    }


# --- site comparison, trend, onward referrals -----------------------------------------------


def _many(site: str, route: str, n: int, start: int, year: int = 2014) -> list[dict]:
    return [
        contact(f"{site}{start + i}", site, f"{year}-03-03", zugangsweg=route) for i in range(n)
    ]


def test_site_comparison_reliable_with_enough_cases():
    rows = (
        _many("a", "hebamme", 30, 0)
        + _many("a", "eigeninitiative", 10, 100)
        + _many("b", "hebamme", 10, 0)
        + _many("b", "eigeninitiative", 30, 100)
        + _many("b", "unbekannt", 2, 200)
    )
    res = ar.site_comparison(contacts(*rows))
    assert res.test is not None and res.test.reliable
    assert res.merged == ()
    assert res.excluded_unknown == 2
    # 40 contacts per site; expected 20 per cell; chi2 = 4 * (10^2 / 20) = 20
    assert res.test.statistic == pytest.approx(20.0)
    assert res.test.residuals.loc["a", "Gesundheitswesen"] > 2
    assert res.counts.loc["a", "Gesundheitswesen"] == 30
    assert res.shares.loc["a", "Gesundheitswesen"] == pytest.approx(0.75)
    assert "2 Erstkontakte ohne Angabe" in res.note
    # p < 0.05 and |residual| > 2: the note names the conspicuous cells
    assert "a: mehr Zugänge über „Gesundheitswesen“ als erwartet" in res.note


def test_site_comparison_leaves_out_a_hidden_count_of_excluded_contacts():
    rows = _many("a", "hebamme", 5, 0) + _many("b", "hebamme", 5, 0) + _many("b", "unbekannt", 1, 9)
    shown = ar.site_comparison(contacts(*rows))
    hidden = ar.site_comparison(contacts(*rows), count_excluded=False)
    assert shown.note.endswith(" 1 Erstkontakte ohne Angabe zum Zugangsweg sind nicht enthalten.")
    assert hidden.note.endswith(". Erstkontakte ohne Angabe zum Zugangsweg sind nicht enthalten.")
    assert hidden.excluded_unknown == 1
    assert ar.site_comparison(contacts(*rows[:10]), count_excluded=False).note == (
        ar.site_comparison(contacts(*rows[:10])).note
    )  # nothing left out: no sentence either way


def test_site_comparison_collapses_groups_and_warns_when_small():
    rows = (
        _many("a", "hebamme", 20, 0)
        + _many("a", "jugendamt", 1, 100)
        + _many("a", "willkommensbesuch", 1, 200)
        + _many("b", "hebamme", 5, 0)
        + _many("b", "eigeninitiative", 20, 100)
        + _many("b", "willkommensbesuch", 1, 200)
    )
    res = ar.site_comparison(contacts(*rows))
    assert res.merged  # small groups were put together
    assert "zusammengefasst" in res.note
    assert res.test is not None


def test_site_comparison_needs_two_sites():
    res = ar.site_comparison(contacts(*_many("a", "hebamme", 5, 0)))
    assert res.test is None
    assert res.note == (
        "Ein Vergleich der Standorte ist nicht möglich: Es braucht mindestens zwei Standorte "
        "und zwei Zugangsgruppen mit Erstkontakten."
    )


def test_group_trend_and_unknown_group():
    rows = []
    for year, k in ((2012, 10), (2013, 20), (2014, 35)):
        rows += _many(f"y{year}", "hebamme", k, 0, year)
        rows += _many(f"y{year}", "eigeninitiative", 50 - k, 100, year)
    c = contacts(*rows)
    res = ar.group_trend(c, "Gesundheitswesen")
    assert res.method == "logistisch" and res.years == 3 and res.n == 150
    assert res.odds_ratio_per_year is not None and res.odds_ratio_per_year > 1
    shares = ar.group_shares_by_year(c)
    assert shares.loc[2014, "Gesundheitswesen"] == pytest.approx(35 / 50)
    with pytest.raises(FhError, match="Zugangsgruppe"):
        ar.group_trend(c, "Nachbarschaft")


def test_onward_referrals_crosstab_and_rates():
    c = contacts(
        contact("1", "a", "2014-03-03", zugangsweg="hebamme", weitervermittlung="keine"),
        contact("2", "a", "2014-03-03", zugangsweg="hebamme", weitervermittlung="jugendamt"),
        contact("3", "a", "2014-03-03", zugangsweg="kinderarzt", weitervermittlung="ehrenamt"),
        contact("4", "a", "2014-03-03", zugangsweg="eigeninitiative"),
        contact("5", "a", "2014-03-03", zugangsweg="eigeninitiative", weitervermittlung="keine"),
    )
    table = ar.onward_referrals(c)
    assert list(table.columns) == GROUPS
    assert table.loc["keine", "Gesundheitswesen"] == 1
    assert table.loc["nicht_dokumentiert", "Eigener Zugang"] == 1
    assert table.to_numpy().sum() == 5
    rates = ar.onward_referral_rates(c)
    # Gesundheitswesen: 3 documented, 2 referred on -> 2/3; Eigener Zugang: 1 documented, 0
    assert rates.loc["Gesundheitswesen", "anteil"] == pytest.approx(2 / 3)
    assert rates.loc["Eigener Zugang", "dokumentiert"] == 1
    assert rates.loc["Eigener Zugang", "anteil"] == 0.0
    assert pd.isna(rates.loc["Aufsuchend", "anteil"])
    # overall: 4 documented, 2 referred on -> 0.5
    assert rates.loc["Insgesamt", "anteil"] == pytest.approx(0.5)


# --- crosswalk to the federal statistics ----------------------------------------------------


def test_federal_crosswalk_covers_every_route():
    cw = ar.federal_crosswalk()
    assert list(cw.columns) == [
        "zugangsweg",
        "zugangsweg_label",
        "anregung",
        "anregung_label",
        "zuordnung",
        "hinweis",
    ]
    assert list(cw["zugangsweg"]) == ROUTE_CODES
    assert cw.set_index("zugangsweg").loc["hebamme", "zugangsweg_label"] == ar.ROUTES.label(
        "hebamme"
    )
    assert set(cw["zuordnung"]) <= {"genau", "näherungsweise", "keine Entsprechung"}
    unknown = cw.set_index("zugangsweg").loc["unbekannt"]
    assert pd.isna(unknown["anregung"]) and unknown["zuordnung"] == "keine Entsprechung"
    categories = set(ar.federal_categories()["anregung"])
    assert set(cw["anregung"].dropna()) <= categories
    # every approximate mapping says why
    approx = cw[cw["zuordnung"] == "näherungsweise"]
    assert (approx["hinweis"].str.len() > 0).all()
    # Acquaintances have their own category on the federal form, they are not "Sonstige".
    known = cw.set_index("zugangsweg").loc["bekannte"]
    assert known["anregung"] == "verwandte_bekannte" and known["zuordnung"] == "genau"


def test_federal_route_counts():
    counts = ar.federal_route_counts(five_contacts())
    # geburtsklinik (genau) + hebamme (näherungsweise) -> gesundheitswesen 2, davon 1 näherungsweise
    assert counts.loc["gesundheitswesen", "anzahl"] == 2
    assert counts.loc["gesundheitswesen", "naeherungsweise"] == 1
    assert counts.loc["soziale_dienste", "anzahl"] == 1
    assert counts.loc["eltern", "anzahl"] == 1
    assert counts.loc["schule", "anzahl"] == 0
    # unbekannt has no federal counterpart: 5 contacts, 4 counted
    assert counts["anzahl"].sum() == 4


# --- boundaries of the working-day rule (issue #13) -----------------------------------------
# The rule counts the days d with referral < d <= contact. A count "from the referral day"
# ([referral, contact)) agrees with it whenever both days are working days, so these cases
# put the referral or the contact on a weekend or a holiday, where the two counts differ.


@pytest.mark.parametrize(
    ("referral", "contact_day", "expected"),
    [
        # Sat 07.06.2014 -> Mon 09.06.2014 (Pfingstmontag, NRW holiday) -> Tue 10.06.:
        # Sun, Mon (holiday) do not count, Tue does -> 1; from the referral day: Sat, Sun,
        # Mon -> 0.
        ("2014-06-07", "2014-06-10", 1),
        # referral Sat 15.03.2014, contact Mon 17.03.: Sun no, Mon yes -> 1 ([Sat, Mon) = 0)
        ("2014-03-15", "2014-03-17", 1),
        # referral Thu 13.03.2014, contact Sat 15.03.: Fri yes, Sat no -> 1 ([Thu, Sat) = 2)
        ("2014-03-13", "2014-03-15", 1),
        # referral on Fronleichnam Thu 19.06.2014, contact Fri 20.06. -> 1 ([Thu, Fri) = 0)
        ("2014-06-19", "2014-06-20", 1),
        # referral Wed 18.06.2014, contact on Fronleichnam Thu 19.06. -> 0 ([Wed, Thu) = 1)
        ("2014-06-18", "2014-06-19", 0),
        # referral and contact on the same Sunday -> 0
        ("2014-03-16", "2014-03-16", 0),
        # referral on New Year's Day (Wed 01.01.2014), contact Fri 03.01.: Thu, Fri -> 2
        # ([Wed, Fri) = Thu only = 1)
        ("2014-01-01", "2014-01-03", 2),
    ],
)
def test_working_days_with_referral_or_contact_on_a_weekend_or_holiday(
    referral, contact_day, expected
):
    assert _wd(referral, contact_day) == expected


def test_working_days_exactly_three_and_four():
    # referral Mon 03.03.2014: Tue, Wed, Thu -> Thu 06.03. is exactly 3; Fri 07.03. is 4
    assert _wd("2014-03-03", "2014-03-06") == 3
    assert _wd("2014-03-03", "2014-03-07") == 4
    # across a weekend: Fri 07.03. -> Wed 12.03.: Mon, Tue, Wed = 3 (Sat, Sun skipped)
    assert _wd("2014-03-07", "2014-03-12") == 3


def test_a_contact_exactly_three_working_days_after_is_within_the_standard():
    # Two contacts, both referred Mon 03.03.2014: Thu 06.03. (exactly 3) and Fri 07.03. (4).
    # Within 3 working days: only the first -> 1 of 2 = 0.5; median (3 + 4) / 2 = 3.5.
    c = contacts(
        contact("1", "a", "2014-03-06", datum_meldung="2014-03-03"),
        contact("2", "a", "2014-03-07", datum_meldung="2014-03-03"),
    )
    rt = ar.response_time(c, "NW")
    assert rt == ar.ResponseTime(n=2, median_werktage=3.5, quote_binnen_3_werktagen=0.5)
    assert rt.within_standard == 1


def test_the_standard_counts_holidays_out_before_comparing_with_three():
    # Referred Wed 18.06.2014, contact Mon 23.06.: Thu 19.06. Fronleichnam, Fri counts,
    # Sat/Sun not, Mon counts -> 2 working days: within 3, although 5 calendar days.
    # Referred Fri 13.06.2014 (Sat 14., Sun 15.), contact Thu 19.06. (holiday) -> Mon, Tue,
    # Wed = 3: within. Contact Fri 20.06. -> 4: not within. 2 of 3 within.
    c = contacts(
        contact("1", "a", "2014-06-23", datum_meldung="2014-06-18"),
        contact("2", "a", "2014-06-19", datum_meldung="2014-06-13"),
        contact("3", "a", "2014-06-20", datum_meldung="2014-06-13"),
    )
    days = ar.working_days(c["datum_meldung"], c["datum_erstkontakt"])
    assert days.tolist() == [2, 3, 4]
    assert ar.response_time(c, "NW").quote_binnen_3_werktagen == pytest.approx(2 / 3)


def test_small_counts_merge_by_meaning_and_say_which():
    # Welcome visits (Aufsuchend) are rare: they join "Jugendhilfe und Soziales", not the
    # numerically smallest other column.
    rows = (
        _many("a", "hebamme", 20, 0)
        + _many("a", "jugendamt", 6, 100)
        + _many("a", "willkommensbesuch", 1, 200)
        + _many("a", "eigeninitiative", 12, 300)
        + _many("b", "hebamme", 12, 0)
        + _many("b", "jugendamt", 5, 100)
        + _many("b", "willkommensbesuch", 1, 200)
        + _many("b", "eigeninitiative", 20, 300)
    )
    res = ar.site_comparison(contacts(*rows))
    assert res.merged[0] == (
        "„Jugendhilfe und Soziales + Aufsuchend“ zu „Jugendhilfe, Soziales und aufsuchend“"
    )
    assert res.test is not None
    assert "Jugendhilfe, Soziales und aufsuchend" in res.test.observed.columns
    assert "Wegen kleiner Zahlen zusammengefasst: „Jugendhilfe und Soziales" in res.note


def test_conspicuous_cells_are_holm_corrected():
    from scipy.stats import norm
    from statsmodels.stats.multitest import multipletests

    rows = (
        _many("a", "hebamme", 30, 0)
        + _many("a", "eigeninitiative", 10, 100)
        + _many("b", "hebamme", 10, 0)
        + _many("b", "eigeninitiative", 30, 100)
    )
    res = ar.site_comparison(contacts(*rows))
    r = res.test.residuals.to_numpy().ravel()
    adjusted = multipletests(2 * norm.sf(abs(r)), method="holm")[1]
    # |residual| = 4.47 in every cell: raw p = 7.7e-6, Holm x4 still far below 0.05.
    assert (adjusted < 0.05).all()
    assert "Holm für 4 Zellen korrigiert" in res.note
    # A residual of 2.1 passes the old |r| > 2 rule but not Holm over 4 cells.
    assert 4 * 2 * norm.sf(2.1) > 0.05


def test_group_trend_compares_like_with_like():
    # Site a open all years with a constant 30 % via health services; site b opens in
    # 2016 with 70 %. Over all sites the share rises; over the sites open throughout, not.
    def many(site: str, route: str, n: int, year: int) -> list[dict]:
        return [
            contact(f"{site}{year}{route}{i}", site, f"{year}-03-03", zugangsweg=route)
            for i in range(n)
        ]

    rows = []
    for year in range(2012, 2021):
        rows += many("a", "hebamme", 30, year) + many("a", "eigeninitiative", 70, year)
        if year >= 2016:
            rows += many("b", "hebamme", 70, year) + many("b", "eigeninitiative", 30, year)
    c = contacts(*rows)
    assert ar.stable_sites(c) == ["a"]
    res = ar.group_trend(c, "Gesundheitswesen")
    assert res.odds_ratio_per_year == pytest.approx(1.0, abs=1e-6)
    assert "nicht enthalten: b" in res.note
