"""Aufbereitete Daten laden und nach Standort und Jahr auswählen.

The one place that reads ``data/processed/`` and that knows how a site/year selection maps
onto the tables (contacts by date, offers by site, area tables by ``gebiet`` with ``gesamt``).
Notebooks, reports and ``kennzahlen`` all select through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.contract.schema import (  # ALL_SITES is also public as data.ALL_SITES
    ALL_SITES,
    GESAMT,
    JN_CODES,
    MANIFEST,
    TABLES,
    Table,
    category_for,
)
from analysis.errors import FhError


# --- types of the processed format ------------------------------------------------------------
def column_dtype(table: str, column: str) -> Any:
    """The pandas dtype a column has in the processed format (see the team brief)."""
    col = TABLES[table].column(column)
    if col.type == "str":
        return pd.StringDtype()
    if col.type == "int":
        return pd.Int64Dtype()
    if col.type == "float":
        return "float64"
    if col.type == "date":
        return "datetime64[ns]"
    if col.type == "jn":
        return pd.CategoricalDtype(list(JN_CODES))
    return pd.CategoricalDtype(list(category_for(table, column).codes))


def _same_dtype(actual: Any, expected: Any) -> bool:
    """``actual == expected``, for categories also in the same order: pandas calls two
    unordered categoricals with the categories in another order equal, but their codes,
    sorting and the order of a table's rows by category differ."""
    if isinstance(expected, pd.CategoricalDtype):
        return (
            isinstance(actual, pd.CategoricalDtype)
            and actual.ordered == expected.ordered
            and list(actual.categories) == list(expected.categories)
        )
    return bool(actual == expected)


def _fills_unknown(dtype: Any) -> bool:
    """Whether a missing value of this dtype reads as ``unbekannt`` (a category with that
    code, as the data contract and aufbereiten have it)."""
    return isinstance(dtype, pd.CategoricalDtype) and "unbekannt" in dtype.categories


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Bring a frame into the processed format: schema columns in schema order, schema dtypes.

    A missing optional column becomes all-missing (``unbekannt`` for ``jn`` and for
    categories that have that code), as the data contract says; a missing value in such a
    column reads as ``unbekannt`` too, whatever order the given categories had. Used when
    loading and by tests that build small frames by hand.
    """
    spec: Table = TABLES[table]
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for col in spec.columns:
        dtype = column_dtype(table, col.name)
        if col.name in frame.columns and _same_dtype(frame[col.name].dtype, dtype):
            series = frame[col.name]
            if _fills_unknown(dtype) and series.isna().any():  # as the conversion below
                series = series.fillna("unbekannt")
            out[col.name] = series
            continue
        values = frame[col.name] if col.name in frame.columns else pd.Series([None] * n)
        values = pd.Series(values.to_numpy(dtype=object), index=frame.index)
        if col.type == "date":
            series = pd.to_datetime(values, errors="raise").astype("datetime64[ns]")
        elif col.type == "float":
            series = pd.to_numeric(values, errors="raise").astype("float64")
        elif col.type == "int":
            series = pd.to_numeric(values, errors="raise").astype(pd.Int64Dtype())
        elif col.type == "str":
            series = values.astype(pd.StringDtype())
        else:
            series = values.astype(dtype)
            if _fills_unknown(dtype):
                series = series.fillna("unbekannt")
        out[col.name] = series
    return pd.DataFrame(out, index=frame.index)


# --- the dataset ------------------------------------------------------------------------------
#: How :meth:`Dataset.up_to` bounds a table by year, besides ``jahr``: the date column whose
#: later rows go, and the date columns whose later values are not yet known.
YEAR_BOUNDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "standorte": ("eroeffnet", ("geschlossen",)),
    "erstkontakte": ("datum_erstkontakt", ("datum_meldung",)),
    "nutzerbefragung": ("datum", ()),
    "netzwerkpartner": (None, ("vereinbarung_seit", "ausgeschieden")),
}


def bound_to_year(table: str, frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """``frame`` of ``table`` as it stood at the end of ``year`` (see :meth:`Dataset.up_to`)."""
    end = pd.Timestamp(year=year, month=12, day=31)
    rows_by, later = YEAR_BOUNDS.get(table, (None, ()))
    keep = pd.Series(True, index=frame.index)
    if "jahr" in frame.columns:
        keep &= ~(frame["jahr"] > year).fillna(False).astype(bool)
    if rows_by is not None and rows_by in frame.columns:
        keep &= ~(frame[rows_by] > end).fillna(False).astype(bool)
    bounded = frame.loc[keep]
    masked = [c for c in later if c in bounded.columns and (bounded[c] > end).any()]
    if masked:
        bounded = bounded.copy()
        for column in masked:
            bounded[column] = bounded[column].mask(bounded[column] > end)
    return bounded


@dataclass(frozen=True, eq=False)
class Dataset:
    """The processed data of one folder: manifest plus one typed frame per present table."""

    folder: Path
    manifest: dict[str, Any]
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """The table's frame, or ``None`` when the (optional) table was not delivered."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name}")
        return self.tables.get(name)

    def has(self, name: str) -> bool:
        return self.table(name) is not None

    @property
    def sites(self) -> tuple[str, ...]:
        """The ``standort_id`` values in file order."""
        standorte = self.table("standorte")
        if standorte is None:
            return ()
        return tuple(str(s) for s in standorte["standort_id"].dropna())

    @property
    def years(self) -> tuple[int, ...]:
        """Every year that has data in any table (contact dates, `jahr`, questionnaire dates)."""
        found: set[int] = set()
        for name, frame in self.tables.items():
            if frame is None or frame.empty:
                continue
            if "jahr" in frame.columns:
                found.update(int(y) for y in frame["jahr"].dropna())
            for col in ("datum_erstkontakt", "datum"):
                if col in frame.columns and name != "standorte":
                    found.update(int(y) for y in frame[col].dropna().dt.year)
        return tuple(sorted(found))

    @property
    def site_data_years(self) -> tuple[int, ...]:
        """Years with site data (first contacts, offers, questionnaires); municipality-wide
        tables such as kosten_hze may reach further back than the Frühe Hilfen sites."""
        found: set[int] = set()
        for name, column in (
            ("erstkontakte", "datum_erstkontakt"),
            ("angebote", "jahr"),
            ("nutzerbefragung", "datum"),
        ):
            frame = self.tables.get(name)
            if frame is None or frame.empty:
                continue
            values = frame[column].dropna()
            found.update(int(y) for y in (values if column == "jahr" else values.dt.year))
        return tuple(sorted(found))

    def up_to(self, year: int) -> Dataset:
        """The data as they stood for a report of ``year``: nothing after 31 December.

        Rows of later years go (by ``jahr`` or the table's event date, see
        :data:`YEAR_BOUNDS`); sites opened later go; a later closing date, agreement or
        exit reads as not yet happened. A report of year J shows what was known for J and
        stays the same when later years' data arrive (its fingerprint hashes this slice).
        """
        return Dataset(
            folder=self.folder, manifest=self.manifest, tables=_BoundTables(self.tables, year)
        )

    def site_name(self, site: str) -> str:
        """German display name of a site (``alle`` → ``Alle Standorte``)."""
        if site == ALL_SITES:
            return "Alle Standorte"
        standorte = self.table("standorte")
        if standorte is not None:
            hit = standorte.loc[standorte["standort_id"] == site, "name"].dropna()
            if len(hit):
                return str(hit.iloc[0])
        return site


class _LazyTables(Mapping[str, pd.DataFrame]):
    """The tables of a processed folder, each read from its Parquet file on first use.

    Every file is opened when the folder is opened, so a later ``aufbereiten`` that swaps
    in a new folder cannot mix old and new tables; a question that needs few tables
    (``kennzahlen`` for one site and year) reads no other, and of a large table it turns
    only the rows it asks for into pandas (:meth:`select`).
    """

    def __init__(self, folder: Path) -> None:
        self._files: dict[str, BinaryIO] = {}
        for name in TABLES:
            path = folder / f"{name}.parquet"
            if path.is_file():
                self._files[name] = path.open("rb")
        self._parquet: dict[str, pq.ParquetFile] = {}
        self._as_written: dict[str, bool] = {}
        self._groups: dict[tuple[str, int], pa.Table] = {}  # row groups read for a choice
        self._arrow: dict[str, pa.Table] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def _file(self, name: str) -> pq.ParquetFile:
        """The table's open Parquet file, its metadata read once."""
        if name not in self._parquet:
            file = self._files[name]  # KeyError for an absent table, as a dict would give
            self._parquet[name] = pq.ParquetFile(file)
        return self._parquet[name]

    def _read(self, name: str) -> pa.Table:
        """The whole table; the file is closed afterwards (it is read only once)."""
        parquet = self._file(name)
        with self._files[name]:
            table = parquet.read(use_pandas_metadata=True)
        for key in [k for k in self._groups if k[0] == name]:
            del self._groups[key]
        return table

    def _written(self, name: str) -> bool:
        """:func:`_as_written` of the table's file, decided once."""
        if name not in self._as_written:
            self._as_written[name] = _as_written(name, self._file(name).schema_arrow)
        return self._as_written[name]

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            # Rows chosen before (select) read the file already; the frame holds it now.
            table = self._arrow.pop(name) if name in self._arrow else self._read(name)
            self._frames[name] = conform(name, table.to_pandas())
        return self._frames[name]

    def select(
        self, name: str, site: str, year: int | None, date_column: str | None
    ) -> pd.DataFrame:
        """:func:`select_site_year` of the table, without turning the other rows into pandas.

        The rows are chosen in Arrow and keep their position in the file as index, so the
        frame is the one choosing from the whole frame gives (rows, order, index, values).
        For a year only the row groups whose statistics admit that year are read (a file
        of many years written year after year, as ``aufbereiten`` writes the contacts).
        Only a file exactly as ``aufbereiten`` writes it is chosen from in Arrow (see
        :func:`_as_written`); any other (written by hand, by an older tool) takes the way
        over the whole frame, because :func:`conform` converts a column from all its values
        (a date format guessed from the chosen rows alone could read differently).
        """
        if name in self._frames or not self._written(name):
            return select_site_year(self[name], site, year, date_column=date_column)
        chosen, positions = [], []
        for table, first_row in self._pieces(name, year, date_column):
            keep = _arrow_choice(table, site, year, date_column)
            if keep is None:
                return select_site_year(self[name], site, year, date_column=date_column)
            found = pc.indices_nonzero(keep)
            chosen.append(table.take(found))
            positions.append(found.to_numpy().astype("int64") + first_row)
        schema = self._file(name).schema_arrow
        frame = pa.concat_tables([schema.empty_table(), *chosen]).to_pandas()
        frame.index = pd.Index(np.concatenate([np.empty(0, "int64"), *positions]), dtype="int64")
        return conform(name, frame)

    def _pieces(
        self, name: str, year: int | None, date_column: str | None
    ) -> list[tuple[pa.Table, int]]:
        """The parts of the table that can hold rows of ``year``, each with the position of
        its first row: the row groups the statistics admit, else the whole table."""
        if name not in self._arrow:
            parquet = self._file(name)
            groups = _row_groups_of_year(parquet, year, date_column)
            count = parquet.metadata.num_row_groups
            if groups is not None and len(groups) < count:  # none at all: no rows of the year
                firsts = np.cumsum(
                    [0] + [parquet.metadata.row_group(i).num_rows for i in range(count)]
                )
                pieces = []
                for group in groups:
                    if (name, group) not in self._groups:
                        self._groups[name, group] = parquet.read_row_group(
                            group, use_pandas_metadata=True
                        )
                    pieces.append((self._groups[name, group], int(firsts[group])))
                return pieces
            self._arrow[name] = self._read(name)
        return [(self._arrow[name], 0)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, name: object) -> bool:
        return name in self._files


def _as_written(name: str, schema: pa.Schema) -> bool:
    """Whether a Parquet file of table ``name`` is exactly as ``aufbereiten`` writes it: the
    contract's columns in order, each of the Arrow type its processed dtype gives, no stored
    index. Then every column of chosen rows comes out of Arrow as :func:`conform` would
    make it from the whole table, and a row's position in the file is its index."""
    spec = TABLES[name]
    if schema.names != list(spec.column_names):
        return False
    meta = schema.pandas_metadata
    # The pandas description says how Arrow turns a column into pandas (Int64 or float64
    # for whole numbers with gaps, a time zone): it must be the one aufbereiten writes.
    if meta is None or meta.get("index_columns") or _pandas_columns(meta) != _written_columns(name):
        return False
    return all(_written_type(col.type, schema.field(col.name).type) for col in spec.columns)


def _pandas_columns(meta: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c.get("name"), c.get("pandas_type"), c.get("numpy_type"), c.get("metadata"))
        for c in meta.get("columns") or []
    ]


@cache
def _written_columns(name: str) -> list[tuple[Any, ...]]:
    """The pandas description of the columns of ``name`` as ``aufbereiten`` writes them."""
    meta = pa.Schema.from_pandas(conform(name, pd.DataFrame()), preserve_index=False)
    return _pandas_columns(meta.pandas_metadata)


def _written_type(kind: str, arrow: pa.DataType) -> bool:
    """Whether ``arrow`` is the type a processed column of contract type ``kind`` has."""
    text = (pa.types.is_string, pa.types.is_large_string)
    if kind == "str":
        return any(test(arrow) for test in text)
    if kind == "int":
        return pa.types.is_int64(arrow)
    if kind == "float":
        return pa.types.is_float64(arrow)
    if kind == "date":
        return pa.types.is_timestamp(arrow) and arrow.unit == "ns" and arrow.tz is None
    return pa.types.is_dictionary(arrow) and any(test(arrow.value_type) for test in text)


def _row_groups_of_year(
    parquet: pq.ParquetFile, year: int | None, date_column: str | None
) -> list[int] | None:
    """Row groups of a Parquet file as written by ``aufbereiten`` (:func:`_as_written`)
    whose statistics admit rows of ``year`` (by ``date_column`` or ``jahr``); a group
    without statistics is kept. ``None`` (every group) without a year."""
    if year is None:
        return None
    column = date_column or "jahr"
    metadata = parquet.metadata
    index = next(i for i in range(metadata.num_columns) if metadata.schema.column(i).path == column)
    groups = []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max:
            groups.append(group)
            continue
        low, high = stats.min, stats.max
        if date_column is not None:
            low, high = low.year, high.year
        if low <= year <= high:
            groups.append(group)
    return groups


def _arrow_choice(
    table: pa.Table, site: str, year: int | None, date_column: str | None
) -> pa.ChunkedArray | None:
    """The mask :func:`select_site_year` builds, computed on a table as written by
    ``aufbereiten`` (:func:`_as_written`); ``None`` when it would choose every row."""
    masks = []
    if site != ALL_SITES:
        masks.append(pc.equal(table.column("standort_id"), site))
    if year is not None:
        column = table.column(date_column or "jahr")
        masks.append(pc.equal(pc.year(column) if date_column else column, year))
    if not masks:
        return None
    # A missing site or date gives null, and null is not chosen (indices_nonzero): no
    # match, as in pandas.
    return masks[0] if len(masks) == 1 else pc.and_(*masks)


class _BoundTables(Mapping[str, pd.DataFrame]):
    """The tables of a dataset as they stood at the end of ``year``, each bounded on first
    use (a question that needs few tables reads and bounds no other)."""

    def __init__(self, source: Mapping[str, pd.DataFrame], year: int) -> None:
        self._source = source
        self._year = year
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = bound_to_year(name, self._source[name], self._year)
        return self._frames[name]

    def select(
        self, name: str, site: str, year: int | None, date_column: str | None
    ) -> pd.DataFrame | None:
        """:func:`select_site_year` of the bounded table, without bounding all of it first.

        Both keep or drop whole rows, and the choice reads no column whose values bounding
        blanks: choosing among the unbounded rows and bounding the few chosen gives the same
        frame (rows, order, index, values) as bounding the whole table and then choosing.
        """
        if date_column in YEAR_BOUNDS.get(name, (None, ()))[1]:
            raise ValueError(
                f"Auswahl nach {name}.{date_column} nicht möglich: das Begrenzen auf ein Jahr "
                "leert spätere Werte dieser Spalte"
            )
        if name in self._frames:  # already bounded for another question
            return select_site_year(self._frames[name], site, year, date_column=date_column)
        if not _present(self._source, name):
            return None
        chosen = _choose(self._source, name, site, year, date_column)
        return bound_to_year(name, chosen, self._year)

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)

    def __contains__(self, name: object) -> bool:
        return name in self._source


def load_dataset(folder: Path | str) -> Dataset:
    """Open a processed-data folder: ``manifest.json`` now, each table when first used."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise FhError(
            f"Keine aufbereiteten Daten in {folder}; bitte zuerst `fh-analytik aufbereiten` ausführen."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FhError(f"{manifest_path} ist nicht lesbar: {exc}") from exc
    tables = _LazyTables(folder)
    if "erstkontakte" not in tables or "standorte" not in tables:
        raise FhError(
            f"In {folder} fehlen die Pflichttabellen standorte und/oder erstkontakte; "
            "bitte `fh-analytik aufbereiten` erneut ausführen."
        )
    return Dataset(folder=folder, manifest=manifest, tables=tables)


# --- selection --------------------------------------------------------------------------------
def check_selection(
    dataset: Dataset, site: str, year: int | str, *, plausible_from: date | None = None
) -> tuple[str, int]:
    """Validate a site/year selection as it comes from the command line or a notebook.

    The site stays a string (``007`` is not ``7``); ``alle`` means every site. An unknown
    site or a year that is not a number is a user error (exit status 2); so is, with
    ``plausible_from`` (the data contract's earliest plausible date), a year before it or
    after the current one: a year no data can have is not "a year without data".
    """
    site_text = str(site).strip()
    if site_text.casefold() == ALL_SITES:
        site_text = ALL_SITES
    elif site_text not in dataset.sites:
        known = ", ".join(dataset.sites) or "(keine)"
        raise FhError(
            f"Unbekannter Standort „{site_text}“. Bekannte Standorte: {known} "
            f"(oder {ALL_SITES} für alle zusammen).",
            exit_code=2,
        )
    year_text = str(year).strip()
    try:
        year_int = int(year_text)
    except ValueError:
        raise FhError(
            f"Ungültiges Jahr „{year_text}“: bitte eine Jahreszahl wie 2014 angeben.", exit_code=2
        ) from None
    if plausible_from is not None and not plausible_from.year <= year_int <= date.today().year:
        raise FhError(
            f"Jahr {year_int} liegt außerhalb des plausiblen Bereichs der Daten "
            f"({plausible_from.year} bis {date.today().year}; Datenvertrag, "
            "[aufbereitung] fruehestes_datum).",
            exit_code=2,
        )
    return site_text, year_int


def contacts_for(dataset: Dataset, site: str, year: int | None) -> pd.DataFrame:
    """First contacts of a site (or ``alle``) whose contact date lies in ``year`` (None: every year)."""
    contacts = _rows_of(dataset, "erstkontakte", site, year, date_column="datum_erstkontakt")
    if contacts is None:
        return conform("erstkontakte", pd.DataFrame())
    return contacts


def _rows_of(
    dataset: Dataset, name: str, site: str, year: int | None, *, date_column: str | None = None
) -> pd.DataFrame | None:
    """Rows of a per-site table for site and year (``None`` without the table). On a dataset
    bounded by :meth:`Dataset.up_to` the rows are chosen before they are bounded: the same
    frame, without copying a large table that the question needs a small part of."""
    if name not in TABLES:
        raise KeyError(f"unknown table {name}")
    tables = dataset.tables
    if isinstance(tables, _BoundTables):
        return tables.select(name, site, year, date_column)
    if not _present(tables, name):
        return None
    return _choose(tables, name, site, year, date_column)


def _present(tables: Mapping[str, pd.DataFrame], name: str) -> bool:
    """Whether the table was delivered; a folder's table is not read to find out."""
    if isinstance(tables, _LazyTables):
        return name in tables
    return tables.get(name) is not None


def _choose(
    tables: Mapping[str, pd.DataFrame],
    name: str,
    site: str,
    year: int | None,
    date_column: str | None,
) -> pd.DataFrame:
    """:func:`select_site_year` of a present table; a folder's table chooses before it
    becomes a frame (:meth:`_LazyTables.select`)."""
    if isinstance(tables, _LazyTables):
        return tables.select(name, site, year, date_column)
    return select_site_year(tables[name], site, year, date_column=date_column)


def select_site_year(
    frame: pd.DataFrame,
    site: str,
    year: int | None,
    *,
    site_column: str = "standort_id",
    date_column: str | None = None,
) -> pd.DataFrame:
    """Rows of a per-site table for a site (``alle``: every site) and year (None: every year).

    The year comes from ``jahr`` or, for tables with a date, from ``date_column``.
    """
    mask = pd.Series(True, index=frame.index)
    if site != ALL_SITES:
        mask &= (frame[site_column] == site).fillna(False).astype(bool)
    if year is not None:
        if date_column is not None:
            mask &= (frame[date_column].dt.year == year).fillna(False).astype(bool)
        else:
            mask &= (frame["jahr"] == year).fillna(False).astype(bool)
    return frame.loc[mask]


def offers_for(dataset: Dataset, site: str, year: int | None) -> pd.DataFrame | None:
    """Rows of the offer statistics for site and year; ``None`` without table ``angebote``."""
    return _rows_of(dataset, "angebote", site, year)


def surveys_for(dataset: Dataset, site: str, year: int | None) -> pd.DataFrame | None:
    """Questionnaires of a site (``alle``: every site) dated in ``year``; ``None`` without
    table ``nutzerbefragung``."""
    return _rows_of(dataset, "nutzerbefragung", site, year, date_column="datum")


def area_rows(
    frame: pd.DataFrame, site: str, year: int, *, area_column: str = "gebiet"
) -> pd.DataFrame:
    """Rows of an area table (``gebiet`` = site or ``gesamt``) that stand for site and year.

    For ``alle`` the ``gesamt`` row(s) of the year when there are any, else every site row of
    the year (to be summed); for a site its own row(s).
    """
    of_year = frame.loc[(frame["jahr"] == year).fillna(False).astype(bool)]
    if site == ALL_SITES:
        whole = of_year.loc[(of_year[area_column] == GESAMT).fillna(False).astype(bool)]
        if len(whole):
            return whole
        return of_year.loc[(of_year[area_column] != GESAMT).fillna(False).astype(bool)]
    return of_year.loc[(of_year[area_column] == site).fillna(False).astype(bool)]


def area_value(
    frame: pd.DataFrame | None, column: str, site: str, year: int, *, area_column: str = "gebiet"
) -> int | float | None:
    """One number of an area table for site and year: the ``gesamt`` row for ``alle`` (else the
    sum over sites), the site's row otherwise; ``None`` when the table, the row or the value is missing.
    """
    if frame is None:
        return None
    rows = area_rows(frame, site, year, area_column=area_column)
    values = rows[column].dropna()
    if values.empty:
        return None
    total = values.sum()
    if pd.api.types.is_integer_dtype(rows[column].dtype):
        return int(total)
    return float(total)


def site_years(dataset: Dataset, sites: Iterable[str] | None = None) -> list[tuple[str, int]]:
    """The (site, year) pairs a site was open, from ``eroeffnet``/``geschlossen``.

    Bounded by the first and last year that have site data (``Dataset.site_data_years``,
    else any data); a site without opening date counts from the first such year, one without
    closing date until the last.
    """
    years = dataset.site_data_years or dataset.years
    if not years:
        return []
    first, last = years[0], years[-1]
    standorte = dataset.table("standorte")
    wanted = set(sites) if sites is not None else None
    pairs: list[tuple[str, int]] = []
    if standorte is None:
        return pairs
    for row in standorte.itertuples(index=False):
        site = str(row.standort_id)
        if wanted is not None and site not in wanted:
            continue
        start = first if pd.isna(row.eroeffnet) else max(first, row.eroeffnet.year)
        end = last if pd.isna(row.geschlossen) else min(last, row.geschlossen.year)
        pairs.extend((site, y) for y in range(start, end + 1))
    return pairs


def table_files(dataset: Dataset, table: str) -> list[str]:
    """The raw file names a table was read from, as recorded in the manifest."""
    entry = (dataset.manifest.get("tabellen") or {}).get(table) or {}
    return [str(f.get("datei")) for f in entry.get("dateien") or [] if f.get("datei")]
