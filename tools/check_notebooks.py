"""Fail when a notebook in notebooks/ is stored with outputs or execution counts.

Outputs can hold data and make diffs unreadable; strip them with `nbstripout`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    bad = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and (
                cell.get("outputs") or cell.get("execution_count")
            ):
                bad.append(path.relative_to(ROOT))
                break
    for path in bad:
        print(f"Notebook mit gespeicherten Ausgaben: {path} – bitte mit nbstripout bereinigen.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
