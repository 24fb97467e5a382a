"""Shared results of pure computations within one batch run (analysis.memo)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import memo

calls: list[tuple] = []


@memo.shared
def total(frame: pd.DataFrame, *, factor: int = 1) -> int:
    calls.append((len(frame), factor))
    return int(frame["x"].sum()) * factor


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()


def test_without_the_batch_folder_every_call_computes(monkeypatch) -> None:
    monkeypatch.delenv(memo.ENV, raising=False)
    frame = pd.DataFrame({"x": [1, 2]})
    assert total(frame) == total(frame) == 3
    assert len(calls) == 2


def test_within_a_run_the_same_arguments_are_computed_once(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(memo.ENV, str(tmp_path))
    frame = pd.DataFrame({"x": [1, 2]})
    assert total(frame) == 3 and total(frame.copy()) == 3  # same content, other object
    assert len(calls) == 1
    assert total(frame, factor=2) == 6  # other argument
    assert total(pd.DataFrame({"x": [1, 3]})) == 4  # other content
    assert total(pd.DataFrame({"x": [1.0, 2.0]})) == 3  # other type
    assert len(calls) == 4
    # Other program code: nothing of the old code's results is used.
    monkeypatch.setattr("analysis.checksums.package_source_sha256", lambda: "neu")
    assert total(frame) == 3 and len(calls) == 5


def test_a_damaged_entry_is_computed_again_and_odd_arguments_are_not_kept(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(memo.ENV, str(tmp_path))
    frame = pd.DataFrame({"x": [5]})
    total(frame)
    (entry,) = tmp_path.glob("*.pickle")
    entry.write_bytes(b"kaputt")
    assert total(frame) == 5 and len(calls) == 2

    @memo.shared
    def first(values: list[int]) -> int:
        calls.append(("liste",))
        return values[0]

    assert first([7]) == first([7]) == 7  # a list has no content key here: computed twice
    assert calls.count(("liste",)) == 2
    assert len(list(tmp_path.glob("*.pickle"))) == 1
