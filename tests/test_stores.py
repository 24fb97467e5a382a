"""Kept results are written whole or not at all and read only when sound; an unusable place
raises nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from analysis.stores import load_json, store_json


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


def test_a_link_planted_where_the_temporary_file_used_to_go_is_not_followed(tmp_path):
    """The temporary name was predictable (name and process id); a link planted there by
    someone who may write into a shared data folder redirected the write."""
    victim = tmp_path / "fremd.txt"
    victim.write_text("unberührt", encoding="utf-8")
    (tmp_path / f".wert.json.{os.getpid()}.tmp").symlink_to(victim)
    store_json(tmp_path / "wert.json", {"a": 1})
    assert victim.read_text(encoding="utf-8") == "unberührt"
    assert json.loads((tmp_path / "wert.json").read_text(encoding="utf-8")) == {"a": 1}


def test_a_value_that_is_no_utf8_text_is_not_kept_and_raises_nothing(tmp_path):
    store_json(tmp_path / "wert.json", {"version": "x\ud800"})  # a lone surrogate
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    ["", "kein JSON", "[" * 100_000, b"\xff\xfe".decode("latin-1")],
    ids=["leer", "kein_json", "zu_tief", "kein_utf8"],
)
def test_what_is_not_sound_json_reads_as_nothing(tmp_path, content):
    path = tmp_path / "wert.json"
    path.write_text(content, encoding="latin-1")
    assert load_json(path) is None
    assert load_json(tmp_path / "fehlt.json") is None
    assert load_json(tmp_path) is None  # a folder


def test_a_pipe_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "wert.json")
    code = f"from analysis.stores import load_json; print(load_json(__import__('pathlib').Path({str(tmp_path / 'wert.json')!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout == "None\n", done.stderr
