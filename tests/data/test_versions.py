"""Dataset versions on real stores (SQLite and PostgreSQL): register, find, load, diff, lineage."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from steward import Client, Settings
from steward.data import ROLES, DataService
from steward.errors import IntegrityError, InvalidInputError, NotFoundError
from steward.sdk import _run
from steward.wiring import Services


@pytest.fixture
def data(services: Services) -> DataService:
    return services.data("tester")


def frame(n: int = 100, shift: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": list(range(n)),
            "amount": [i * 1.5 + shift for i in range(n)],
            "kind": [["a", "b", "c"][i % 3] for i in range(n)],
        }
    )


def audit_count(services: Services) -> int:
    return len(services.store.list_audit(target="datasets:/"))


def test_registering_a_frame_stores_its_data_schema_and_profile(data: DataService, services: Services) -> None:
    v = data.register("tx", frame(), description="first")
    assert (v.name, v.version, v.ref, v.storage) == ("tx", 1, "datasets:/tx/1", "stored")
    assert len(v.content_hash) == 64 and v.short_hash == v.content_hash[:12]
    assert (v.num_rows, v.num_columns) == (100, 3)
    assert [tuple(c) for c in v.schema] == [("id", "int64", False), ("amount", "double", False), ("kind", "large_string", False)]
    assert v.profile["columns"]["kind"]["distinct"] == 3
    assert v.artifact_digest is not None and services.blobs.exists(v.artifact_digest)
    assert data.load(v).equals(frame())
    assert data.scan("tx:1").select(pl.col("amount").sum()).collect().item() == frame()["amount"].sum()
    assert audit_count(services) == 1


def test_registering_the_same_content_again_returns_the_same_version_and_writes_nothing(
    data: DataService, services: Services, tmp_path: Path
) -> None:
    first = data.register("tx", frame())
    frame().write_csv(tmp_path / "tx.csv")
    frame().write_parquet(tmp_path / "tx.parquet")
    for source in (frame().to_pandas(), frame().to_arrow(), tmp_path / "tx.csv", str(tmp_path / "tx.parquet")):
        assert data.register("tx", source) == first
    assert [v.version for v in data.list("tx")] == [1]
    assert audit_count(services) == 1


def test_new_content_gets_the_next_version_and_every_reference_form_finds_it(data: DataService) -> None:
    v1 = data.register("tx", frame())
    v2 = data.register("tx", frame(120))
    assert v2.version == 2
    assert data.get("tx") == v2
    assert data.get("tx:1") == v1
    assert data.get("datasets:/tx/1") == v1
    assert data.get("datasets:/tx") == v2
    assert data.get(v1.content_hash[:8]) == v1
    assert data.get(f"tx@{v2.short_hash}") == v2
    assert [v.version for v in data.list()] == [1, 2]
    summary = data.list_datasets()
    assert [(s.name, s.latest_version, s.num_versions) for s in summary] == [("tx", 2, 2)]


def test_the_same_content_under_two_names_shares_one_blob(data: DataService) -> None:
    a = data.register("a", frame())
    b = data.register("b", frame())
    assert (a.version, b.version) == (1, 1)
    assert a.artifact_digest == b.artifact_digest
    with pytest.raises(InvalidInputError, match="several versions"):
        data.get(a.content_hash[:10])


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("tx:9", NotFoundError),
        ("nope", NotFoundError),
        ("tx:0", InvalidInputError),
        ("datasets:/tx/1/2", InvalidInputError),
        ("tx@xyz", InvalidInputError),
        ("", InvalidInputError),
        ("ffffff", NotFoundError),
    ],
)
def test_bad_or_unknown_references_raise_clear_errors(data: DataService, ref: str, error: type[Exception]) -> None:
    data.register("tx", frame())
    with pytest.raises(error):
        data.get(ref)


def test_a_reference_only_version_keeps_the_path_and_detects_changed_data(data: DataService, tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    frame().write_parquet(path)
    v = data.register("ref", path, reference_only=True)
    assert (v.storage, v.artifact_digest, v.artifact_uri) == ("reference", None, str(path))
    assert data.load(v).equals(frame())
    frame(101).write_parquet(path)
    with pytest.raises(IntegrityError, match="changed"):
        data.load(v)
    with pytest.raises(InvalidInputError, match="reference_only"):
        data.register("ref", frame(), reference_only=True)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[object, type[Exception], str]]:
    good = tmp_path / "good.parquet"
    frame(5000).write_parquet(good)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "mixed").mkdir()
    frame().write_csv(tmp_path / "mixed" / "a.csv")
    frame().write_parquet(tmp_path / "mixed" / "b.parquet")
    return {
        "missing path": (tmp_path / "nope.parquet", NotFoundError, "no file or folder"),
        "truncated parquet": (truncated, InvalidInputError, "truncated, corrupt"),
        "unknown format": (tmp_path / "notes.json", InvalidInputError, "unknown format"),
        "empty csv": (tmp_path / "empty.csv", InvalidInputError, "empty|truncated"),
        "header only": (tmp_path / "header.csv", InvalidInputError, "no rows"),
        "empty frame": (pl.DataFrame({"a": []}), InvalidInputError, "no rows"),
        "no columns": (pl.DataFrame(), InvalidInputError, "no columns"),
        "empty folder": (tmp_path / "nothing", InvalidInputError, "no data files"),
        "mixed folder": (tmp_path / "mixed", InvalidInputError, "mixes Parquet and CSV"),
        "mixed pandas column": (pd.DataFrame({"a": [1, "x", 2.5]}, dtype=object), InvalidInputError, "column 'a' mixes types"),
        "not data": (object(), InvalidInputError, "pass a pandas or polars DataFrame"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing path", "truncated parquet", "unknown format", "empty csv", "header only", "empty frame", "no columns",
     "empty folder", "mixed folder", "mixed pandas column", "not data"],
)
def test_bad_input_is_refused_clearly_and_leaves_nothing_registered(
    data: DataService, services: Services, tmp_path: Path, case: str
) -> None:
    source, error, message = _bad_inputs(tmp_path)[case]
    with pytest.raises(error, match=message):
        data.register("bad", source)
    with pytest.raises(NotFoundError):
        data.list("bad")
    assert data.list_datasets() == []
    assert audit_count(services) == 0


def test_an_invalid_name_is_refused(data: DataService) -> None:
    with pytest.raises(InvalidInputError, match="name"):
        data.register("no spaces", frame())


def test_an_all_missing_column_is_registered_and_profiled_as_missing(data: DataService) -> None:
    v = data.register("nulls", pl.DataFrame({"a": [1, 2], "empty": pl.Series([None, None], dtype=pl.Float64)}))
    col = v.profile["columns"]["empty"]
    assert (col["missing_share"], col["count"]) == (1.0, 0)
    assert any("entirely missing" in w for w in v.profile["warnings"])


@pytest.mark.slow
def test_a_csv_column_that_turns_to_text_late_is_loaded_as_text_with_a_warning(data: DataService, tmp_path: Path) -> None:
    # beyond pyarrow's first 16 MB block, so the column was first inferred as integers
    path = tmp_path / "late.csv"
    n = 1_700_000
    body = "".join(f"{i},{i}\n" for i in range(n))
    path.write_text("a,b\n" + body + f"{n},oops\n")
    v = data.register("late", path)
    assert {c.name: c.type for c in v.schema} == {"a": "int64", "b": "large_string"}
    assert v.num_rows == n + 1
    assert any("'b' mixes numbers and text" in w for w in v.profile["warnings"])
    assert data.load(v)["b"][-1] == "oops"


def test_diff_reports_schema_rows_and_distribution_distance(data: DataService) -> None:
    a = data.register("tx", frame())
    b = data.register("tx", frame(150, shift=50.0).drop("kind").with_columns(pl.lit(1).alias("new")))
    d = data.diff("tx:1", "tx:2")
    assert (d.a, d.b, d.row_change) == (a, b, 50)
    assert d.added_columns == (("new", "int64"),)
    assert d.removed_columns == (("kind", "large_string"),)
    amount = next(c for c in d.columns if c.name == "amount")
    assert amount.distances["wasserstein"] > 10 and amount.distances["psi"] > 0.1
    same = data.diff("tx:1", "tx:1")
    assert same.same_content and all(c.distances == {} for c in same.columns)


def test_lineage_lists_the_runs_that_logged_a_version_with_their_role(settings: Settings, data: DataService) -> None:
    v = data.register("tx", frame())
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        with client.start_run("lineage", name="train-1", capture=False) as run:
            run.log_input(v, role="train")
            run.log_input("tx:1", role="test")
            with pytest.raises(InvalidInputError, match="role"):
                run.log_input(v, role="holdout")
        with client.start_run("lineage", name="other", capture=False) as other:
            other.log_input(data.register("tx", frame(3)), role="validation")
    finally:
        client.close()
    found = data.lineage("tx:1")
    assert [(u.run_name, u.role, u.dataset) for u in found.runs] == [("train-1", "train", v.ref), ("train-1", "test", "tx:1")]
    assert found.to_dict()["runs"][0]["run_id"] == run.run_id


def test_the_sdk_knows_the_same_input_roles_as_the_data_stage() -> None:
    assert _run._INPUT_ROLES == ROLES


@pytest.mark.slow
def test_two_processes_registering_the_same_content_at_once_end_with_one_version(
    settings: Settings, tmp_path: Path, data: DataService
) -> None:
    frame(20_000).write_parquet(tmp_path / "same.parquet")
    script = textwrap.dedent(
        f"""
        from steward.settings import Settings
        from steward.wiring import build_services
        s = build_services(Settings(home={str(settings.home)!r}, database_url={settings.resolved_database_url()!r},
                                    artifact_root={settings.resolved_artifact_root()!r}, user="p"))
        print(s.data().register("race", {str(tmp_path / "same.parquet")!r}).version)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert {o[0].strip() for o in outs} == {b"1"}
    assert [v.version for v in data.list("race")] == [1]
