"""The installation's configuration ("Schaltzentrale"): one committed TOML file.

Defaults serve the demo municipality; folders can be overridden by option or environment
variable so a scheduler can run the same installation against another data folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from analysis.contract.schema import CATEGORIES, DATE_FLOOR, MAX_SHRINK, fold_value
from analysis.errors import FhError

CONFIG_FILE_NAME = "fh-analytik.toml"
ENV_CONFIG = "FH_ANALYTIK_KONFIG"
ENV_FOLDERS = {
    "rohdaten": "FH_ANALYTIK_ROHDATEN",
    "daten": "FH_ANALYTIK_DATEN",
    "berichte": "FH_ANALYTIK_BERICHTE",
}

# Used when no configuration file is found at all (e.g. an installed wheel run elsewhere).
DEFAULTS: dict[str, Any] = {
    "kommune": {"name": "Kommune"},
    "ordner": {"rohdaten": "data/raw", "daten": "data/processed", "berichte": "reports"},
    "geheimhaltung": {"mindestfallzahl": 3, "runden_auf_5": False},
    "kalender": {"bundesland": "NW"},
    "berichte": {
        "parallel": 2,
        "zeitlimit_sekunden": 900,
        "kernel_wiederholungen": 2,
        "kernel_behalten": True,
    },
    "aufbereitung": {"fruehestes_datum": DATE_FLOOR, "hoechster_rueckgang": MAX_SHRINK},
    "zuordnungen": {},
    "vergleichswerte": {},
}


@dataclass(frozen=True)
class Baseline:
    """A population share to compare a target group with (representation ratio)."""

    anteil: float
    quelle: str
    untergrenze: float | None = None
    obergrenze: float | None = None
    #: ``lokal`` (the municipality's own count), ``amtlich`` (official statistics) or
    #: ``studie`` (a survey such as KiD 0–3): the order of precedence when several exist.
    art: str = "studie"
    #: The target group it is a baseline for (default: the key of its table).
    gruppe: str = ""


@dataclass(frozen=True)
class Config:
    municipality: str
    raw_dir: Path
    processed_dir: Path
    reports_dir: Path
    min_count: int
    #: How far the values consistent with a publication must reach around a hidden small
    #: count (``[geheimhaltung] schutzbereich``, default: the minimum count).
    protection_level: float
    round_to_5: bool
    land: str
    parallel: int
    timeout_seconds: int
    kernel_retries: int
    #: Run many reports in one kept kernel per worker (``[berichte] kernel_behalten``); off:
    #: a new worker process and kernel for every report, as the ``papermill`` CLI does.
    keep_kernel: bool = True
    #: column -> folded label -> code
    label_mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    baselines: dict[str, Baseline] = field(default_factory=dict)
    #: Dates before this are implausible row errors (``[aufbereitung] fruehestes_datum``).
    date_floor: date = DATE_FLOOR
    #: Share of a table's rows a preparation may lose against the previous state without
    #: being confirmed (``[aufbereitung] hoechster_rueckgang``).
    max_shrink: float = MAX_SHRINK
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Hash of the effective settings, recorded in every manifest."""
        text = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """The effective configuration, as logged at the start of every run."""
        return {
            "kommune": self.municipality,
            "konfigurationsdatei": str(self.source) if self.source else None,
            "ordner": {
                "rohdaten": str(self.raw_dir),
                "daten": str(self.processed_dir),
                "berichte": str(self.reports_dir),
            },
            "geheimhaltung": {
                "mindestfallzahl": self.min_count,
                "schutzbereich": self.protection_level,
                "runden_auf_5": self.round_to_5,
            },
            "kalender": {"bundesland": self.land},
            "berichte": {
                "parallel": self.parallel,
                "zeitlimit_sekunden": self.timeout_seconds,
                "kernel_wiederholungen": self.kernel_retries,
                "kernel_behalten": self.keep_kernel,
            },
            "aufbereitung": {
                "fruehestes_datum": self.date_floor.isoformat(),
                "hoechster_rueckgang": self.max_shrink,
            },
            "zuordnungen": self.label_mappings,
            "vergleichswerte": {
                k: {
                    "anteil": b.anteil,
                    "quelle": b.quelle,
                    "untergrenze": b.untergrenze,
                    "obergrenze": b.obergrenze,
                    "art": b.art,
                    "gruppe": b.gruppe or k,
                }
                for k, b in self.baselines.items()
            },
        }


def project_root() -> Path:
    """The repository root when running from a source checkout, else the working directory."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def find_config_file() -> Path | None:
    env = os.environ.get(ENV_CONFIG)
    if env:
        path = Path(env)
        if not path.is_file():
            raise FhError(f"Konfigurationsdatei {path} (aus {ENV_CONFIG}) wurde nicht gefunden.")
        return path
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    candidate = project_root() / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    path: Path | None = None,
    *,
    raw_dir: Path | str | None = None,
    processed_dir: Path | str | None = None,
    reports_dir: Path | str | None = None,
) -> Config:
    """Read the configuration; explicit folders win over environment, which wins over the file."""
    source = Path(path) if path else find_config_file()
    data: dict[str, Any] = DEFAULTS
    base = Path.cwd()
    if source is not None:
        try:
            with source.open("rb") as fh:
                data = _merge(DEFAULTS, tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FhError(f"Konfigurationsdatei {source} ist nicht lesbar: {exc}") from exc
        base = source.resolve().parent

    def folder(key: str, explicit: Path | str | None) -> Path:
        value = explicit or os.environ.get(ENV_FOLDERS[key]) or data["ordner"][key]
        p = Path(value)
        return p if p.is_absolute() else (base / p if not explicit else Path.cwd() / p)

    try:
        min_count = int(data["geheimhaltung"]["mindestfallzahl"])
        level = data["geheimhaltung"].get("schutzbereich")
        protection_level = float(min_count if level is None else level)
        parallel = int(data["berichte"]["parallel"])
        timeout = int(data["berichte"]["zeitlimit_sekunden"])
        retries = int(data["berichte"]["kernel_wiederholungen"])
        keep_kernel = data["berichte"].get("kernel_behalten", True)
    except (TypeError, ValueError) as exc:
        raise FhError(f"Konfigurationsdatei {source}: ungültiger Zahlenwert ({exc}).") from exc
    if not isinstance(keep_kernel, bool):
        raise FhError(
            f"Konfigurationsdatei {source}: kernel_behalten muss true oder false sein "
            f"(gefunden: {keep_kernel!r})."
        )
    if min_count < 1:
        raise FhError(f"Konfigurationsdatei {source}: mindestfallzahl muss mindestens 1 sein.")
    if not protection_level >= 0 or protection_level == float("inf"):
        raise FhError(
            f"Konfigurationsdatei {source}: schutzbereich muss eine Zahl ab 0 sein "
            f"(gefunden: {level})."
        )

    mappings: dict[str, dict[str, str]] = {}
    for column, table in (data.get("zuordnungen") or {}).items():
        category = CATEGORIES.get(column)
        if category is None:
            raise FhError(
                f"Konfigurationsdatei {source}: Zuordnung für unbekannte Spalte „{column}“. "
                f"Möglich sind: {', '.join(sorted(CATEGORIES))}."
            )
        for label_text, code in (table or {}).items():
            if code not in category.codes:
                raise FhError(
                    f"Konfigurationsdatei {source}: Zuordnung „{label_text}“ → „{code}“: "
                    f"„{code}“ ist kein Code von {column}."
                )
            mappings.setdefault(column, {})[fold_value(label_text)] = code

    baselines = {
        key: _baseline(source, key, v) for key, v in (data.get("vergleichswerte") or {}).items()
    }
    date_floor, max_shrink = _preparation(source, data.get("aufbereitung") or {})

    return Config(
        municipality=str(data["kommune"]["name"]),
        raw_dir=folder("rohdaten", raw_dir),
        processed_dir=folder("daten", processed_dir),
        reports_dir=folder("berichte", reports_dir),
        min_count=min_count,
        protection_level=protection_level,
        round_to_5=bool(data["geheimhaltung"]["runden_auf_5"]),
        land=str(data["kalender"]["bundesland"]),
        parallel=parallel,
        timeout_seconds=timeout,
        kernel_retries=retries,
        keep_kernel=keep_kernel,
        label_mappings=mappings,
        baselines=baselines,
        date_floor=date_floor,
        max_shrink=max_shrink,
        source=source.resolve() if source else None,
        raw=data,
    )


def _share(value: Any) -> float | None:
    """A share between 0 and 1, or None when ``value`` is none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    share = float(value)
    return share if math.isfinite(share) and 0 <= share <= 1 else None


def _baseline(source: Path | None, key: str, entry: Any) -> Baseline:
    """One ``[vergleichswerte.<key>]`` section: ``anteil`` is required, bounds optional."""
    where = f"Konfigurationsdatei {source}: [vergleichswerte.{key}]"
    if not isinstance(entry, dict):
        raise FhError(f"{where} muss ein Abschnitt mit anteil = <Anteil zwischen 0 und 1> sein.")
    if "anteil" not in entry:
        raise FhError(
            f"{where}: der Wert anteil fehlt (ein Anteil zwischen 0 und 1, z. B. anteil = 0.103)."
        )
    values: dict[str, float | None] = {}
    for name in ("anteil", "untergrenze", "obergrenze"):
        if name not in entry:
            values[name] = None
            continue
        values[name] = _share(entry[name])
        if values[name] is None:
            raise FhError(f"{where}: {name} = {entry[name]!r} ist kein Anteil zwischen 0 und 1.")
    anteil = values["anteil"]
    assert anteil is not None
    kind = str(entry.get("art", "studie"))
    if kind not in ("lokal", "amtlich", "studie"):
        raise FhError(f"{where}: art „{kind}“ ist unbekannt (möglich: lokal, amtlich, studie).")
    return Baseline(
        anteil=anteil,
        quelle=str(entry.get("quelle", "")),
        untergrenze=values["untergrenze"],
        obergrenze=values["obergrenze"],
        art=kind,
        gruppe=str(entry.get("gruppe", key)),
    )


def _preparation(source: Path | None, section: dict[str, Any]) -> tuple[date, float]:
    """``[aufbereitung]``: the plausible date floor and the share a table may lose."""
    where = f"Konfigurationsdatei {source}: [aufbereitung]"
    floor = section.get("fruehestes_datum", DATE_FLOOR)
    if isinstance(floor, datetime):
        floor = floor.date()
    elif isinstance(floor, str):
        try:
            floor = date.fromisoformat(floor)
        except ValueError:
            floor = None
    if not isinstance(floor, date) or floor > date.today():
        raise FhError(
            f"{where}: fruehestes_datum muss ein Datum vor heute sein, z. B. "
            f"fruehestes_datum = 1990-01-01 (gefunden: {section.get('fruehestes_datum')!r})."
        )
    shrink = _share(section.get("hoechster_rueckgang", MAX_SHRINK))
    if shrink is None:
        raise FhError(
            f"{where}: hoechster_rueckgang muss ein Anteil zwischen 0 und 1 sein, z. B. 0.5 "
            f"(gefunden: {section.get('hoechster_rueckgang')!r})."
        )
    return floor, shrink
