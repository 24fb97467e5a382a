"""The data contract in code: folding rules, category lists, and the generated user documentation."""

from __future__ import annotations

from analysis.config import project_root
from analysis.contract import docs
from analysis.contract.schema import CATEGORIES, JN_ALIASES, JN_CODES, TABLES, fold_name, fold_value


def test_committed_contract_document_is_generated_from_the_schema():
    committed = (project_root() / docs.CONTRACT_DOC).read_text(encoding="utf-8")
    assert committed == docs.contract_markdown(), (
        "docs/datenvertrag.md ist veraltet – neu erzeugen mit: .venv/bin/python -m analysis.contract.docs"
    )


def test_contract_document_names_every_table_column_and_code():
    text = docs.contract_markdown()
    for table in TABLES.values():
        assert f"### `{table.name}`" in text
        for column in table.column_names:
            assert f"| `{column}` |" in text
    for category in CATEGORIES.values():
        if category.name != "jn":
            for code, label in category.labels.items():
                assert f"| `{code}` | {label} |" in text


def test_fold_name_ignores_case_spaces_hyphens_and_umlauts():
    assert {
        fold_name(n) for n in ("Datum Erstkontakt", "datum_erstkontakt", "Datum-Erstkontakt")
    } == {"datum_erstkontakt"}
    assert fold_name(" Träger ") == "traeger"
    assert fold_name("Bevölkerung") == "bevoelkerung"


def test_fold_value_is_case_and_whitespace_insensitive():
    assert fold_value("  Klinikum   SCHLEBUSCH ") == fold_value("klinikum schlebusch")


def test_every_table_is_consistent():
    for table in TABLES.values():
        names = table.column_names
        assert len(names) == len(set(names)), table.name
        for key in table.key:
            assert key in names
        for rule in table.row_rules:
            assert rule.left in names and rule.right in names
        for column in table.columns:
            if column.type == "cat":
                assert column.category in CATEGORIES, (table.name, column.name)
        if table.total_column:
            assert table.total_column in table.key
            assert "gesamt" in CATEGORIES[table.column(table.total_column).category].codes
    assert next(t for t in TABLES.values() if t.required_table).name == "standorte"


def test_jn_aliases_map_to_jn_codes():
    assert set(JN_ALIASES.values()) <= set(JN_CODES)
    assert JN_ALIASES[""] == "unbekannt"


def test_category_labels_are_unique_after_folding():
    # a label read back from a file must map to exactly one code
    for category in CATEGORIES.values():
        folded = [fold_value(label) for label in category.labels.values()]
        assert len(folded) == len(set(folded)), category.name
