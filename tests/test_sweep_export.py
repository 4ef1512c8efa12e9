"""The DuckDB sweep's export: the records' row groups each hold one kind, and nothing is lost.

The layout is what lets DuckDB skip the row groups of other kinds when it looks for a rule
pack's candidates (CPL art. 286: crimes of minors) and the other crimes of their persons;
the agreement tests (tests/test_sealing_agreement.py) check the decisions over it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.store.duckdb_sweep import write_parquet

SCHEMA = pa.schema([("id", pa.int64()), ("kind", pa.string())])
KINDS = st.sampled_from(["criminal", "admin_violation", "drug_registration"])


def _write(path: Path, chunks: list[list[str]], rows: int, group_by: str | None) -> None:
    tables, next_id = [], 0
    for kinds in chunks:
        ids = list(range(next_id, next_id + len(kinds)))
        next_id += len(kinds)
        tables.append(pa.table({"id": ids, "kind": kinds}, schema=SCHEMA))
    write_parquet(path, SCHEMA, tables, group_by, rows=rows)


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.lists(KINDS, max_size=12), max_size=6), rows=st.integers(1, 5))
def test_each_row_group_holds_one_kind_and_every_row_once(
    tmp_path_factory: pytest.TempPathFactory, chunks: list[list[str]], rows: int
) -> None:
    path = tmp_path_factory.mktemp("export") / "records.parquet"
    _write(path, chunks, rows, "kind")
    written = pq.ParquetFile(path)
    expected = Counter((i, k) for i, k in enumerate(k for chunk in chunks for k in chunk))
    assert Counter((row["id"], row["kind"]) for row in pq.read_table(path).to_pylist()) == expected
    short: Counter[str] = Counter()
    for index in range(written.metadata.num_row_groups):
        group = written.read_row_group(index)
        kinds = set(group["kind"].to_pylist())
        assert len(kinds) == 1
        assert 0 < group.num_rows <= rows
        if group.num_rows < rows:
            short[kinds.pop()] += 1
    assert all(count == 1 for count in short.values())  # only a kind's last group is short


def test_without_grouping_the_rows_keep_their_order(tmp_path: Path) -> None:
    path = tmp_path / "states.parquet"
    _write(path, [["criminal", "admin_violation", "criminal"]], 2, None)
    assert pq.read_table(path)["kind"].to_pylist() == ["criminal", "admin_violation", "criminal"]
    assert pq.ParquetFile(path).metadata.num_row_groups == 2


def test_an_empty_export_is_a_file_duckdb_reads(tmp_path: Path) -> None:
    path = tmp_path / "records.parquet"
    _write(path, [], 3, "kind")
    assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall() == [(0,)]


def test_each_row_group_says_its_kind_in_its_statistics(tmp_path: Path) -> None:
    """What DuckDB skips a row group by: its statistics, here the kind as minimum and maximum."""
    path = tmp_path / "records.parquet"
    _write(path, [["admin_violation", "criminal"] * 15], 10, "kind")
    metadata = pq.ParquetFile(path).metadata
    kind = SCHEMA.get_field_index("kind")
    seen = []
    for index in range(metadata.num_row_groups):
        stats = metadata.row_group(index).column(kind).statistics
        assert stats is not None and stats.has_min_max
        assert stats.min == stats.max
        seen.append(stats.min)
    assert sorted(seen) == ["admin_violation", "admin_violation", "criminal", "criminal"]
    count = f"SELECT count(*) FROM read_parquet('{path}') WHERE kind = 'criminal'"
    assert duckdb.execute(count).fetchall() == [(15,)]
