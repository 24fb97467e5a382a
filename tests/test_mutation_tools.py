"""The mutation-testing helpers (tools/mutation_sample.py, tools/mutation_report.py), issue #13."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _mutants(folder: Path, modules: dict[str, int]) -> None:
    """A mutants/ folder as mutmut leaves it: one .meta file per module with its mutants."""
    for module, n in modules.items():
        meta = folder / "src" / Path(*module.split(".")).with_suffix(".py.meta")
        meta.parent.mkdir(parents=True, exist_ok=True)
        names = {f"{module}.x_f__mutmut_{i}": None for i in range(1, n + 1)}
        meta.write_text(json.dumps({"exit_code_by_key": names}), encoding="utf-8")


def test_the_sample_takes_the_same_share_of_every_module_and_repeats(tmp_path):
    tool = _tool("mutation_sample")
    _mutants(tmp_path, {"analysis.a": 200, "analysis.b": 30, "analysis.c": 3})
    by_module = tool.mutant_names(tmp_path)
    assert {m: len(n) for m, n in by_module.items()} == {
        "analysis.a": 200,
        "analysis.b": 30,
        "analysis.c": 3,
    }
    chosen = tool.sample(by_module, 0.1, 7)
    per_module = Counter(n.split(".x_")[0] for n in chosen)
    # 10 % rounded, and at least one from a module too small for its share.
    assert per_module == {"analysis.a": 20, "analysis.b": 3, "analysis.c": 1}
    assert len(set(chosen)) == len(chosen)
    assert tool.sample(by_module, 0.1, 7) == chosen  # the same seed: the same sample
    assert tool.sample(by_module, 0.1, 8) != chosen
    # One module's draw does not depend on the others.
    alone = tool.sample({"analysis.b": by_module["analysis.b"]}, 0.1, 7)
    assert alone == [n for n in chosen if n.startswith("analysis.b.")]


def test_the_sample_honours_name_patterns_and_refuses_a_bad_share(tmp_path):
    tool = _tool("mutation_sample")
    _mutants(tmp_path, {"analysis.a": 50, "analysis.b": 50})
    by_module = tool.mutant_names(tmp_path)
    chosen = tool.sample(by_module, 0.2, 1, ["analysis.b.*"])
    assert len(chosen) == 10 and all(n.startswith("analysis.b.") for n in chosen)
    assert tool.sample(by_module, 1.0, 1) == sorted(
        by_module["analysis.a"] + by_module["analysis.b"]
    )
    for share in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="nicht zwischen 0 und 1"):
            tool.sample(by_module, share, 1)


def test_the_report_gives_each_score_with_its_wilson_interval():
    report = _tool("mutation_report")
    results = {
        "analysis.a": {f"m{i}": "getötet" for i in range(15)}
        | {f"s{i}": "überlebt" for i in range(4)}
        | {"t": "ohne Tests", "n": "nicht geprüft"},
        "analysis.b": {"x": "nicht geprüft"},
    }
    sample = set(results["analysis.a"]) - {"n"}
    table, survivors = report.summary(results, sample)
    lines = table.split("\n")
    # 15 of 20 checked = 75 %. Wilson 95 % by hand, z = 1.95996, z² = 3.8415: centre
    # (0.75 + 3.8415/40) / (1 + 3.8415/20) = 0.84604 / 1.19207 = 0.70972, half width
    # 1.95996 * sqrt(0.75 * 0.25 / 20 + 3.8415/1600) / 1.19207 = 0.17842: 53,1 % to 88,8 %.
    assert lines[2] == "| analysis.a | 20 | 15 | 4 | 1 | 0 | 1 | 75,0 % | 53,1 % bis 88,8 % |"
    assert len(lines) == 4  # a module without checked mutants has no row
    assert lines[3].startswith("| **zusammen** | 20 | 15 | 4 | 1 | 0 | 2 | 75,0 % |")
    assert sorted(survivors) == ["s0", "s1", "s2", "s3", "t"]
    assert report._interval(Counter({"nicht geprüft": 3})) == "–"


def test_modules_of_the_same_size_are_not_sampled_at_the_same_positions(tmp_path):
    # Each module draws with its own seed: otherwise equal-sized modules would always test
    # their n-th mutants together (the same kinds of change in the same places).
    tool = _tool("mutation_sample")
    _mutants(tmp_path, {"analysis.a": 100, "analysis.b": 100})
    chosen = tool.sample(tool.mutant_names(tmp_path), 0.1, 3)
    a = sorted(int(n.rsplit("_", 1)[1]) for n in chosen if n.startswith("analysis.a."))
    b = sorted(int(n.rsplit("_", 1)[1]) for n in chosen if n.startswith("analysis.b."))
    assert len(a) == len(b) == 10 and a != b


def test_the_interval_is_shown_only_for_a_sample_checked_completely_and_alone():
    report = _tool("mutation_report")
    results = {
        "analysis.a": {"m1": "getötet", "m2": "überlebt", "m3": "nicht geprüft"},
        "analysis.b": {"b1": "getötet", "b2": "nicht geprüft"},
    }

    def rows(sample):
        return report.summary(results, sample)[0].split("\n")[2:]

    # 1 of 2: Wilson centre 0.5, half width 1.96 * sqrt(0.125 + 3.8415/16) / 2.9207 = 0.4055.
    a, b, total = rows({"m1", "m2", "b1", "b2"})  # b not finished: no interval for b, total
    assert a.endswith("| 50,0 % | 9,5 % bis 90,5 % |")
    assert b.endswith("| 100,0 % | – |") and total.endswith("| – |")
    # all finished: b 1 of 1 (lower bound 1 / (1 + z²) = 0,207), total 2 of 3 (centre
    # (2/3 + z²/6) / (1 + z²/3) = 0,5731, half width 0,3654) has one too
    a, b, total = rows({"m1", "m2", "b1"})
    assert b.endswith("| 100,0 % | 20,7 % bis 100,0 % |")
    assert total.endswith("| 66,7 % | 20,8 % bis 93,9 % |")
    for sample in (None, {"m1", "m2", "m3", "b1"}, {"m1", "b1"}):  # none, unfinished, not alone
        assert rows(sample)[0].endswith("| 50,0 % | – |")
    # A sampled mutant of a module without results, or of a module none of whose drawn
    # mutants was checked: no interval for the total.
    assert rows({"m1", "m2", "b1", "c1"})[-1].endswith("| – |")
    untouched = {**results, "analysis.b": {"b1": "nicht geprüft", "b2": "nicht geprüft"}}
    table = report.summary(untouched, {"m1", "m2", "b1"})[0].split("\n")
    assert len(table) == 4 and table[-1].endswith("| – |")
    # A module drawn whole is a census: its score is exact, no interval.
    census = {"analysis.c": {"c1": "getötet", "c2": "überlebt"}}
    assert report.summary(census, {"c1", "c2"})[0].split("\n")[2].endswith("| 50,0 % | – |")


@pytest.mark.parametrize(
    ("text", "share"), [("0,03", 0.03), ("0.03", 0.03), ("3 %", 0.03), ("1", 1.0)]
)
def test_the_share_is_read_the_german_way(text, share):
    assert _tool("mutation_sample").parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["0", "1,5", "drei", "", "3 %%"])
def test_a_bad_share_is_refused_in_german_before_anything_runs(text, tmp_path, capsys):
    tool = _tool("mutation_sample")
    assert tool.main(["--anteil", text], folder=tmp_path) == 2
    assert capsys.readouterr().err.startswith("Fehler: Anteil „")


def test_the_sampler_writes_its_sample_and_refuses_an_empty_one(tmp_path, capsys):
    tool = _tool("mutation_sample")
    assert tool.main(["--anteil", "0,5"], folder=tmp_path) == 2  # nothing generated yet
    assert "keine Mutanten" in capsys.readouterr().err
    _mutants(tmp_path, {"analysis.a": 4})
    assert tool.main(["--anteil", "0,5"], folder=tmp_path) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2
    assert (tmp_path / "stichprobe.txt").read_text(encoding="utf-8").split() == printed
    assert tool.main(["--anteil", "0,5", "analysis.gibtsnicht.*"], folder=tmp_path) == 2
    assert "kein Mutantenname passt" in capsys.readouterr().err


def test_another_seed_draws_another_sample_and_a_bad_seed_is_refused(tmp_path, capsys):
    tool = _tool("mutation_sample")
    _mutants(tmp_path, {"analysis.a": 40})
    assert tool.main(["--anteil", "0,25"], folder=tmp_path) == 0
    default = capsys.readouterr().out.split()
    assert tool.main(["--anteil", "0,25", "--startwert", "2026"], folder=tmp_path) == 0
    assert capsys.readouterr().out.split() == default  # 2026 is the default seed
    assert tool.main(["--anteil", "0,25", "--startwert", " 2027 "], folder=tmp_path) == 0
    other = capsys.readouterr().out.split()
    assert len(other) == 10 and other != default
    assert other == tool.sample(tool.mutant_names(tmp_path), 0.25, 2027)
    for text in ("zwei", "1,5", ""):
        assert (
            tool.main(["--anteil", "0,25", "--startwert", text, "--pruefen"], folder=tmp_path) == 2
        )
        assert capsys.readouterr().err == f"Fehler: Startwert „{text}“ ist keine ganze Zahl.\n"
