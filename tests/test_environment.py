"""requirements.lock and environment.yml pin the same set, and cover pyproject's needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, ver = line.partition("==")
            pins[_canon(name)] = ver
    return pins


def _env_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)==(\S+)\s*$", line)
        if m:
            pins[_canon(m.group(1))] = m.group(2)
    return pins


def test_lock_and_conda_environment_pin_the_same_versions():
    lock, env = _lock_pins(), _env_pins()
    assert len(lock) > 50  # the full transitive set, not just the top level
    assert lock == env


def test_environment_installs_the_package_itself():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "- -e ." in text
    assert "python=3.11" in text


def test_every_declared_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    lock = _lock_pins()
    missing = [d for d in declared if _canon(re.split(r"[<>=!~\[ ]", d)[0]) not in lock]
    assert missing == []
