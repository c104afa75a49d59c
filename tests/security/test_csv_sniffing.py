"""CSV files that are not comma-separated, as spreadsheets export them.

A European Excel export is UTF-8 with a byte-order mark and ``;`` between fields. Read
with a comma it became one column named ``a;b;c`` (or ``\\ufeffa;b;c``) and was registered
as such: a dataset that looks fine and holds nothing usable. The separator is sniffed
from the header and first lines; a file that still reads as one column whose header holds
a separator is refused with a hint, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from steward.errors import InvalidInputError
from steward.wiring import Services

BOM = b"\xef\xbb\xbf"


def _audit_size(services: Services) -> int:
    return len(services.store.list_audit(limit=100_000))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("excel.csv", BOM + b"a;b;c\r\n1;2,5;x\r\n4;5,0;y\r\n"),
        ("plain-semicolon.csv", b"a;b;c\n1;2;x\n4;5;y\n"),
        ("tabs.csv", b"a\tb\tc\n1\t2\tx\n4\t5\ty\n"),
        ("pipes.csv", b"a|b|c\n1|2|x\n4|5|y\n"),
        ("quoted.csv", b'a;b;c\n1;"2;5";x\n4;"5,0";y\n'),
        ("tabs.tsv", BOM + b"a\tb\tc\n1\t2\tx\n4\t5\ty\n"),
    ],
)
def test_a_csv_with_a_bom_and_another_separator_registers_its_real_columns(
    services: Services, tmp_path: Path, filename: str, data: bytes
) -> None:
    version = services.data("tester").register("export", _write(tmp_path, filename, data))
    assert [f.name for f in version.schema] == ["a", "b", "c"]
    assert version.num_rows == 2


def test_commas_inside_values_of_a_comma_file_do_not_make_it_semicolon_separated(services: Services, tmp_path: Path) -> None:
    path = _write(tmp_path, "notes.csv", b'id,note\n1,"a;b;c"\n2,"d;e"\n')
    version = services.data("tester").register("notes", path)
    assert [f.name for f in version.schema] == ["id", "note"]


def test_a_one_column_csv_without_separators_still_registers(services: Services, tmp_path: Path) -> None:
    version = services.data("tester").register("single", _write(tmp_path, "single.csv", b"value\n1\n2\n"))
    assert [f.name for f in version.schema] == ["value"]


def test_a_file_that_reads_as_one_column_holding_a_separator_is_refused_with_a_hint(
    services: Services, tmp_path: Path
) -> None:
    # ragged: the second line has two fields, so no separator splits every line evenly
    path = _write(tmp_path, "ragged.csv", BOM + b"a;b;c\n1;2;3\n4;5\n")
    before = _audit_size(services)
    with pytest.raises(InvalidInputError) as info:
        services.data("tester").register("ragged", path)
    assert info.value.field == "source"
    assert "ragged.csv'" in info.value.message and "one column" in info.value.message
    assert "';'" in info.value.message and "same number of fields" in info.value.message
    assert services.data("tester").list_datasets() == []
    assert _audit_size(services) == before


def test_an_uploaded_excel_csv_registers_its_real_columns_over_rest(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/datasets/excel/versions", content=BOM + b"a;b;c\r\n1;2;x\r\n", headers={"content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    assert [c["name"] for c in response.json()["schema"]] == ["a", "b", "c"]


def test_an_uploaded_one_column_file_with_separators_is_422_naming_the_source(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/datasets/ragged/versions", content=b"a;b;c\n1;2;3\n4;5\n", headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "source" and "';'" in error["message"] and "the request body" in error["message"]
    assert api.get("/api/v1/datasets").json()["datasets"] == []
