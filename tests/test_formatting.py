"""German formats for numbers, shares, money and dates."""

from __future__ import annotations

from datetime import date, datetime

from analysis import formatting as fmt


def test_numbers_use_german_separators():
    assert fmt.number(12190000) == "12.190.000"
    assert fmt.number(0.5, 1) == "0,5"
    assert fmt.number(None) == fmt.MISSING
    assert fmt.number(float("nan")) == fmt.MISSING


def test_shares_and_changes():
    # 0.2571 * 100 = 25.71 -> one digit: 25,7
    assert fmt.percent(0.2571).replace("\xa0", " ") == "25,7 %"
    # seed 004: 13,045,000 / 12,190,000 - 1 = 7.0139... % -> +7,01 %
    assert fmt.percent_change((13045000 / 12190000 - 1) * 100) == "+7,01 %"
    assert fmt.percent_change(-3.2) == "−3,20 %"
    assert fmt.percent_change(0) == "±0,00 %"


def test_money_and_dates():
    assert fmt.euro(12190000).replace("\xa0", " ") == "12.190.000 €"
    assert fmt.euro(268.554, 2).replace("\xa0", " ") == "268,55 €"
    assert fmt.day(date(2014, 3, 1)) == "01.03.2014"
    assert fmt.timestamp(datetime(2026, 11, 23, 10, 5)) == "23.11.2026, 10:05 Uhr"


def test_named_display_formats_are_shared():
    assert fmt.as_kind(2014, "jahr") == "2014"  # a year, not 2.014
    assert fmt.as_kind(1234, "anzahl") == "1.234"
    assert fmt.as_kind(0.5, "anteil").replace("\xa0", " ") == "50,0 %"
    assert fmt.as_kind(None, "euro") == fmt.MISSING
    assert fmt.as_kind(1.0, "text") is None  # not a named format: the caller decides
