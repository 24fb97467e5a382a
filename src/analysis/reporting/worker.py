"""Entry of the batch's worker processes: ``python -m analysis.reporting.worker …``.

One report in a fresh kernel (``AUFTRAG.json ERGEBNIS.json``) or a long-lived worker with a
kept kernel (``--dauerhaft``); the work itself is :func:`analysis.reporting.export.main`.

A worker's start-up is paid once per worker (kept kernels) or once per report (fresh
kernels), so it is kept short here, before anything else is imported: jsonschema, which
nbformat uses to check notebooks, imports ``rfc3987_syntax`` for the ``iri`` formats, and
that compiles about 35 Lark grammars on import, about 1 s of every start on a 2-core
machine (jsonschema issue #1428). No notebook schema uses those formats; with the module
marked as missing, jsonschema leaves the two format checks out and everything else as it is.
Only this process is affected, not an interactive session or the ``papermill`` CLI.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

from analysis.reporting.export import main  # noqa: E402  (after the line above, on purpose)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
