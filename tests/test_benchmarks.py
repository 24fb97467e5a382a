"""The measuring script of issue #11 (benchmarks/run.py): its bookkeeping, not its timings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_results_replace_only_their_own_goals(tmp_path):
    bench = _bench()
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"P2": {"ziel": "P2"}, "P1": {"alt": True}}), encoding="utf-8")
    bench.write_results({"P1": {"ziel": "P1"}, "P3": {"ziel": "P3"}}, path)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "P2": {"ziel": "P2"},
        "P1": {"ziel": "P1"},
        "P3": {"ziel": "P3"},
    }
    bench.write_results({"P1": {"ziel": "P1", "neu": 1}}, tmp_path / "neu.json")
    assert json.loads((tmp_path / "neu.json").read_text(encoding="utf-8")) == {
        "P1": {"ziel": "P1", "neu": 1}
    }


def test_raw_bytes_count_the_files_aufbereiten_reads(tmp_path):
    bench = _bench()
    (tmp_path / "erstkontakte.csv").write_bytes(b"x" * 10)
    (tmp_path / "angebote.xlsx").write_bytes(b"x" * 7)
    (tmp_path / "README.txt").write_bytes(b"x" * 1000)
    assert bench.raw_bytes(tmp_path) == 17


def test_timed_reports_output_and_a_german_error(tmp_path):
    bench = _bench()
    run = bench.timed([sys.executable, "-c", "print('hallo')"])
    assert run.stdout == "hallo\n"
    assert run.peak_mib > 0
    try:
        bench.timed([sys.executable, "-c", "import sys; sys.exit(3)"])
    except SystemExit as exc:
        assert "Befehl fehlgeschlagen (3)" in str(exc)
    else:
        raise AssertionError("ein fehlgeschlagener Befehl muss die Messung abbrechen")


def test_a_change_of_the_program_during_the_run_writes_nothing(tmp_path, monkeypatch):
    # An edit while `make bench` runs makes every stored pattern stale: the "warm" calls
    # would build it again, and the figures would mix two programs.
    import analysis.checksums as checksums

    bench = _bench()
    entry = {
        "ziel": "P1",
        "gemessen_s": 1.0,
        "boden_s": 1.0,
        "verhaeltnis": 1.0,
        "grenze": 2.0,
        "verhaeltnis_cpu": 1.0,
        "erfuellt": True,
        "zeilen": 1,
    }

    class Program:
        """package_source_sha256 as it is: cached after its first call; ``__wrapped__``
        hashes the code as it is now."""

        def __init__(self) -> None:
            self.code = "vorher"
            self.cached: str | None = None

        def __call__(self) -> str:
            if self.cached is None:
                self.cached = self.code
            return self.cached

        def __wrapped__(self) -> str:
            return self.code

    program = Program()
    program()  # something in the process hashed the package before the run (now cached)

    def edit_while_measuring(*args):
        program.code = "nachher"  # the code changes during the run
        return dict(entry)

    monkeypatch.setattr(checksums, "package_source_sha256", program)
    monkeypatch.setattr(bench, "measure_p1", edit_while_measuring)
    monkeypatch.setattr(bench, "measure_p3", lambda *a: dict(entry, ziel="P3"))
    results = tmp_path / "results.json"
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(SystemExit, match="während der Messung geändert"):
        bench.main(["--rohdaten", str(raw), "--ergebnis", str(results)])
    assert not results.exists()
    program = Program()  # unchanged code: the results are written
    monkeypatch.setattr(checksums, "package_source_sha256", program)
    monkeypatch.setattr(bench, "measure_p1", lambda *a: dict(entry))
    assert bench.main(["--rohdaten", str(raw), "--ergebnis", str(results)]) == 0
    assert set(json.loads(results.read_text(encoding="utf-8"))) == {"P1", "P3"}


def test_a_goal_is_met_only_when_time_and_cpu_keep_the_limit():
    bench = _bench()
    assert bench.met(1.5, 1.5, 1.5)
    assert not bench.met(1.44, 1.78, 1.5)  # P3 on a loaded machine: time alone looked met
    assert not bench.met(1.6, 1.2, 1.5)
