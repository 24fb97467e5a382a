"""The scheduled-run script: lock against overlap, log file, exit codes a monitor can read.

The real `fh-analytik` is replaced by a small fake command so the test checks the script's
own behaviour (lock, logging, exit status mapping) quickly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "fh-analytik-planlauf"
FAKE = """#!/usr/bin/env bash
echo "fake $*" >> "$FAKE_DIR/aufrufe"
if [ "$1" = "aufbereiten" ]; then
    touch "$FAKE_DIR/laeuft"
    for _ in $(seq 1 600); do [ -e "$FAKE_DIR/weiter" ] && break; sleep 0.1; done
    exit "${FAKE_AUFBEREITEN_RC:-0}"
fi
exit "${FAKE_BERICHTE_RC:-0}"
"""

pytestmark = pytest.mark.skipif(shutil.which("flock") is None, reason="flock fehlt")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    fake = tmp_path / "fh-analytik"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    env = dict(os.environ)
    env.update(
        {
            "FAKE_DIR": str(tmp_path),
            "FH_ANALYTIK_BIN": str(fake),
            "FH_ANALYTIK_PROJEKT": str(tmp_path),
            "FH_ANALYTIK_SPERRE": str(tmp_path / "sperre" / "planlauf.lock"),
            "FH_ANALYTIK_PROTOKOLL": str(tmp_path / "logs" / "planlauf.log"),
            **extra,
        }
    )
    return env


def _wait_for(path: Path) -> None:
    for _ in range(600):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} erschien nicht")


def test_lock_prevents_a_second_concurrent_run(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = subprocess.Popen([str(SCRIPT)], env=env)
    try:
        _wait_for(tmp_path / "laeuft")  # the first run holds the lock and is busy
        second = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 75
        assert "anderer Lauf" in second.stderr
    finally:
        (tmp_path / "weiter").touch()
        assert first.wait(timeout=120) == 0
    calls = (tmp_path / "aufrufe").read_text().splitlines()
    # Only the first run called the command: aufbereiten, then berichte.
    assert calls == ["fake aufbereiten", "fake berichte --ohne-fortschritt"]
    log = (tmp_path / "logs" / "planlauf.log").read_text()
    assert "Planlauf übersprungen" in log and "Planlauf erfolgreich beendet" in log
    # The lock is released: a later run goes ahead.
    assert subprocess.run([str(SCRIPT)], env=env, timeout=60).returncode == 0


def test_failed_report_gives_exit_1_and_is_logged(tmp_path: Path) -> None:
    (tmp_path / "weiter").touch()
    env = _env(tmp_path, FAKE_BERICHTE_RC="1")
    assert subprocess.run([str(SCRIPT), "--jahr", "2014"], env=env, timeout=60).returncode == 1
    assert "fake berichte --ohne-fortschritt --jahr 2014" in (tmp_path / "aufrufe").read_text()
    assert (
        "mindestens ein Bericht fehlgeschlagen" in (tmp_path / "logs" / "planlauf.log").read_text()
    )


def test_unusable_data_stops_before_the_reports_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "weiter").touch()
    env = _env(tmp_path, FAKE_AUFBEREITEN_RC="2")
    assert subprocess.run([str(SCRIPT)], env=env, timeout=60).returncode == 2
    assert (tmp_path / "aufrufe").read_text().splitlines() == ["fake aufbereiten"]
    assert "Aufbereiten fehlgeschlagen" in (tmp_path / "logs" / "planlauf.log").read_text()
