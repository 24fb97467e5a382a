"""Kept results are written whole or not at all; an unwritable place raises nothing."""

from __future__ import annotations

import json

from analysis.stores import store_json


def test_a_value_is_written_whole_into_new_folders_and_replaced(tmp_path):
    path = tmp_path / "a" / "b" / "wert.json"
    store_json(path, {"jahr": 2014, "text": "Fronleichnam"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"jahr": 2014, "text": "Fronleichnam"}
    store_json(path, [1, 2])
    assert json.loads(path.read_text(encoding="utf-8")) == [1, 2]
    assert sorted(p.name for p in path.parent.iterdir()) == ["wert.json"]  # no temporary file


def test_an_unwritable_place_raises_nothing_and_leaves_nothing(tmp_path):
    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    store_json(tmp_path / "datei" / "wert.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datei"]


def test_a_write_that_cannot_be_renamed_leaves_no_temporary_file(tmp_path):
    (tmp_path / "wert.json").mkdir()  # a folder in the way: the rename fails
    store_json(tmp_path / "wert.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wert.json"]
    assert (tmp_path / "wert.json").is_dir()
