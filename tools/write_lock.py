"""Write requirements.lock and environment.yml from one freshly installed environment.

Both files pin the same versions (tests/test_environment.py checks it), so pip and conda
users get the same tested set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    venv = Path(sys.argv[1])
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if "==" in line and not line.startswith("pip==")),
        key=str.lower,
    )
    (ROOT / "requirements.lock").write_text(
        "# Exakter, getesteter Paketstand für reproduzierbare Installationen "
        "(pip install -r requirements.lock).\n"
        "# Erzeugt mit: make lock. environment.yml führt dieselben Versionen "
        "(geprüft von tests/test_environment.py).\n" + "\n".join(pins) + "\n",
        encoding="utf-8",
    )
    env_lines = [
        "# Conda-Umgebung mit demselben Paketstand wie requirements.lock (erzeugt mit make lock).",
        "# conda env create -f environment.yml && conda activate fh-analytik",
        "name: fh-analytik",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        *[f"      - {pin}" for pin in pins],
        "      - -e .",
    ]
    (ROOT / "environment.yml").write_text("\n".join(env_lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
