"""The ``fh-analytik`` command: a thin German shell over the package's modules.

It parses options, loads the configuration and calls ``demo``, ``ingest``, ``kennzahlen``
and ``reports``; it holds no logic of its own. Expected errors (``FhError``) become a German
message and an exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import gettext
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis import __version__
from analysis.errors import FhError, is_storage_error, os_error_text

# argparse builds its own messages with gettext; these are the German texts for the ones a
# user meets, so that `--help` and usage errors read German like everything else.
_ARGPARSE_DE = {
    "usage: ": "Aufruf: ",
    "options": "Optionen",
    "positional arguments": "Positionsargumente",
    "show this help message and exit": "diese Hilfe anzeigen und beenden",
    "show program's version number and exit": "Versionsnummer anzeigen und beenden",
    "the following arguments are required: %s": "diese Angaben fehlen: %s",
    "unrecognized arguments: %s": "unbekannte Angaben: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "ungültige Auswahl: %(value)r (möglich: %(choices)s)",
    "argument %(argument_name)s: %(message)s": "Angabe %(argument_name)s: %(message)s",
    "invalid %(type)s value: %(value)r": "ungültiger Wert: %(value)r",
    "expected one argument": "erwartet einen Wert",
    "expected at least one argument": "erwartet mindestens einen Wert",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Fehler: %(message)s\n",
    "ambiguous option: %(option)s could match %(matches)s": "mehrdeutige Option: %(option)s passt zu %(matches)s",
}


def _german(message: str) -> str:
    return _ARGPARSE_DE.get(message, gettext.gettext(message))


argparse._ = _german  # type: ignore[attr-defined]


#: Largest ``--skalierung``: 1,000 times the demo is ~20 million first contacts (the
#: benchmark uses 60); beyond that a typo would only fill the disk.
MAX_SCALE = 1000.0


def _scale(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"keine Zahl: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"muss größer als 0 sein: {text!r}")
    if value > MAX_SCALE:
        raise argparse.ArgumentTypeError(
            f"höchstens {MAX_SCALE:.0f} (die Beispielkommune {MAX_SCALE:.0f}-fach): {text!r}"
        )
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"keine ganze Zahl: {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"muss eine ganze Zahl ab 0 sein: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fh-analytik",
        description="Auswertungen für Netzwerke Frühe Hilfen: Reichweite, Zugangswege und "
        "Kostenentwicklung je Standort und Jahr.",
        epilog="Ordner lassen sich auch über FH_ANALYTIK_ROHDATEN, FH_ANALYTIK_DATEN und "
        "FH_ANALYTIK_BERICHTE setzen, die Konfigurationsdatei über FH_ANALYTIK_KONFIG.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"fh-analytik {__version__}",
        help="Versionsnummer anzeigen und beenden",
    )
    parser.add_argument(
        "--konfig", type=Path, help="Konfigurationsdatei (Standard: fh-analytik.toml im Projekt)"
    )
    sub = parser.add_subparsers(dest="befehl", metavar="BEFEHL", title="Befehle")
    sub.required = True

    p = sub.add_parser(
        "beispieldaten",
        help="synthetische Beispielkommune als Rohdaten schreiben",
        description="Schreibt die synthetische Beispielkommune (erfundene Daten) als Rohdateien "
        "im deutschen CSV-Format und teils als XLSX. Gleicher Seed, gleiche Dateien.",
    )
    p.add_argument("--ziel", type=Path, help="Zielordner (Standard: Rohdatenordner)")
    p.add_argument(
        "--seed", type=_seed, default=2014, help="Zufallsstartwert ab 0 (Standard: 2014)"
    )
    p.add_argument(
        "--skalierung",
        type=_scale,
        default=1.0,
        help="vervielfacht Standorte und Datensätze für Lasttests (Standard: 1, höchstens "
        f"{MAX_SCALE:.0f})",
    )

    p = sub.add_parser(
        "aufbereiten",
        help="Rohdaten prüfen und als Parquet aufbereiten",
        description="Liest die Rohdaten, prüft sie gegen den Datenvertrag, legt fehlerhafte "
        "Zeilen mit Begründung beiseite und schreibt typisierte Parquet-Dateien, "
        "Ablehnungen und manifest.json. Exit 0: fertig; 2: eine Datei ist als Ganzes unbrauchbar "
        "oder eine Tabelle würde ohne Bestätigung leer bzw. deutlich kleiner.",
    )
    p.add_argument("--rohdaten", type=Path, help="Ordner mit den Rohdaten")
    p.add_argument("--ziel", type=Path, help="Ordner für die aufbereiteten Daten")
    p.add_argument(
        "--rueckgang-erlauben",
        action="store_true",
        help="bestätigt, dass Tabellen gegenüber dem bisherigen Stand leer werden oder mehr als "
        "den eingestellten Anteil ([aufbereitung] hoechster_rueckgang) ihrer Zeilen verlieren",
    )

    p = sub.add_parser(
        "kennzahlen",
        help="Kennzahlen eines Jahres als JSON ausgeben",
        description="Gibt die Kennzahlen eines Jahres als JSON aus, mit angewandter Geheimhaltung.",
    )
    p.add_argument("--jahr", type=int, required=True, help="Berichtsjahr")
    p.add_argument("--standort", default="alle", help="standort_id oder alle (Standard: alle)")
    p.add_argument("--daten", type=Path, help="Ordner mit den aufbereiteten Daten")
    p.add_argument(
        "--ohne-geheimhaltung",
        action="store_true",
        help="exakte Werte ohne Geheimhaltung (nur für den internen Gebrauch)",
    )

    p = sub.add_parser(
        "berichte",
        help="Berichte mit Papermill erzeugen",
        description="Führt die Berichtsnotebooks für jede Auswahl aus Standort × Jahr × Analyse "
        "aus und erzeugt HTML, PDF und Excel. Unverändertes wird übersprungen. "
        "Exit 0: alle erfolgreich; 1: mindestens ein Bericht fehlgeschlagen; 2: Auswahl oder "
        "Daten unbrauchbar; 3: ein anderer Berichtslauf schreibt gerade in denselben Ordner.",
    )
    p.add_argument("--jahr", type=int, action="append", help="Berichtsjahr (mehrfach möglich)")
    p.add_argument("--standort", action="append", help="standort_id oder alle (mehrfach möglich)")
    p.add_argument("--analyse", action="append", help="Analyse (mehrfach möglich)")
    p.add_argument("--parallel", type=int, help="Zahl paralleler Notebook-Prozesse")
    p.add_argument("--neu", action="store_true", help="alles neu erzeugen, auch Unverändertes")
    p.add_argument("--probelauf", action="store_true", help="nur auflisten, was erzeugt würde")
    p.add_argument("--daten", type=Path, help="Ordner mit den aufbereiteten Daten")
    p.add_argument("--ziel", type=Path, help="Ordner für die Berichte")
    p.add_argument(
        "--ohne-fortschritt", action="store_true", help="keinen Fortschrittsbalken anzeigen"
    )
    p.add_argument(
        "--teil",
        metavar="K/N",
        help="nur Teil K von N des Plans erzeugen (z. B. als Job-Array; docs/betrieb.md)",
    )
    p.add_argument(
        "--zusammenfuehren",
        action="store_true",
        help="die Teilläufe (--teil) zu Übersicht und Laufprotokoll zusammenführen",
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    from analysis.config import load_config

    if args.befehl == "beispieldaten":
        from analysis.contract import demo

        _modules_loaded()

        config = load_config(args.konfig)
        target = args.ziel or config.raw_dir
        summary = demo.write_demo(target, seed=args.seed, scale=args.skalierung)
        print(demo.format_summary(summary))
        return 0

    if args.befehl == "aufbereiten":
        if _own_process:
            _tune_for_preparation()
        from analysis import ingest

        _modules_loaded()

        config = load_config(args.konfig, raw_dir=args.rohdaten, processed_dir=args.ziel)
        ingest.give_back_memory()
        result = ingest.prepare(
            config.raw_dir, config.processed_dir, config, allow_shrink=args.rueckgang_erlauben
        )
        print(ingest.format_summary(result))
        return 0

    if args.befehl == "kennzahlen":
        from analysis import data
        from analysis.indicators import summary as kennzahlen

        _modules_loaded()

        config = load_config(args.konfig, processed_dir=args.daten)
        dataset = data.load_dataset(config.processed_dir)
        values = kennzahlen.key_indicators(
            dataset,
            year=args.jahr,
            site=args.standort,
            config=config,
            confidential=not args.ohne_geheimhaltung,
        )
        json.dump(values, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0

    if args.befehl == "berichte":
        from analysis.reporting import batch as reports

        _modules_loaded()

        config = load_config(args.konfig, processed_dir=args.daten, reports_dir=args.ziel)
        if args.zusammenfuehren:
            from analysis.data import load_dataset
            from analysis.reporting.index import site_names_of

            names = site_names_of(load_dataset(config.processed_dir))
            return reports.merge_shards(config, names).exit_code
        result = reports.run_batch(
            config,
            shard=reports.Shard.parse(args.teil) if args.teil else None,
            years=args.jahr,
            sites=args.standort,
            analyses=args.analyse,
            parallel=args.parallel,
            force=args.neu,
            dry_run=args.probelauf,
            progress=not args.ohne_fortschritt,
        )
        return result.exit_code

    raise AssertionError(f"unbekannter Befehl {args.befehl}")  # argparse prevents this


#: Set by :func:`run`: garbage collection waits until the command's modules are loaded.
_collection_held = False
#: Set by :func:`run`: the process is the command's own, so settings of the whole process
#: may be made for it (:func:`_tune_for_preparation`); not when tests call :func:`main`.
_own_process = False


def _tune_for_preparation() -> None:
    """Settings of the whole process that make ``aufbereiten`` faster (issue #11, P1)."""
    # No linear algebra here: OpenBLAS's threads, started with NumPy, would only spin
    # (about 0,1 s of CPU). Set before NumPy loads; a setting of the caller's is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # All of Arrow's memory from the system allocator (glibc), read when pyarrow first asks
    # for its pool: set before pyarrow loads (``analysis.cli`` does not load it). Switching
    # pyarrow's pool afterwards (``ingest.give_back_memory``) reaches only the calls that
    # pass it, not Arrow's own (e.g. a column turned into NumPy), which went on using
    # mimalloc: it kept freed memory, and every page it took was new to the process. At
    # scale 60 the run took about a tenth less CPU time with the whole process on glibc.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    # Its threads mostly run in pyarrow and NumPy without Python's lock; where two want
    # Python, handing the lock over every 5 ms (the default) cost more than it gave: at
    # scale 60 the whole run took about 4 % longer than with 50 ms.
    sys.setswitchinterval(0.05)


def _modules_loaded() -> None:
    """Resume the garbage collection :func:`run` held, the loaded modules frozen out of it."""
    global _collection_held
    if _collection_held:
        _collection_held = False
        gc.freeze()
        gc.enable()


def run() -> int:
    """The ``fh-analytik`` program in a process of its own (console script, ``python -m``).

    While a command loads pandas, pyarrow and the package, hundreds of thousands of objects
    are created that live as long as the process, and every full garbage collection during
    the imports walks all of them again; afterwards each collection of the command's own
    work would walk them too. So the collector waits until the command's modules are loaded
    (:func:`_modules_loaded`), which then leave its view for good (``gc.freeze``):
    ``kennzahlen`` for one site-year at scale 60 took about a fifth less time
    (issue #11, P3). ``aufbereiten`` also tunes its process (:func:`_tune_for_preparation`).
    :func:`main` itself, as tests and other Python code call it, leaves the collector and
    the process settings alone.
    """
    global _collection_held, _own_process
    gc.disable()
    _collection_held = True
    _own_process = True
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at exit
        return code
    except FhError as exc:
        print(f"Fehler: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`fh-analytik kennzahlen … | head`): stop quietly, as a
        # command killed by SIGPIPE would, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        if not is_storage_error(exc):
            raise  # a bug or a broken kernel: keep the traceback
        # A full disk or a read-only or missing folder the stages did not catch themselves.
        print(
            f"Fehler: Lesen oder Schreiben fehlgeschlagen: {os_error_text(exc)}.", file=sys.stderr
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
