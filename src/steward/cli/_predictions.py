"""``steward predictions read|segments``: a deployment's prediction log from the terminal."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import typer

from steward.errors import InvalidInputError
from steward.predictions import read

from ._output import note, print_json, print_table
from ._session import load_settings, run_local_or_remote
from ._time import format_time, parse_since

app = typer.Typer(name="predictions", help="The prediction log of served deployments.", no_args_is_help=True)

START = typer.Option(None, "--start", help="First time included: ISO-8601 or a duration ago (7d).")
END = typer.Option(None, "--end", help="First time excluded: ISO-8601 or a duration ago.")


def _window(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    return (
        None if start is None else parse_since(start, field="--start"),
        None if end is None else parse_since(end, field="--end"),
    )


@app.command("read")
def read_command(
    deployment: str = typer.Argument(..., help="Deployment (or bare model) name."),
    start: str | None = START,
    end: str | None = END,
    out: Path | None = typer.Option(None, "--out", help="Write the window to a .parquet or .csv file."),  # noqa: B008 - typer idiom
    limit: int = typer.Option(20, "--limit", min=1, help="Rows shown when not writing a file."),
    as_json: bool = typer.Option(False, "--json", help="Print the shown rows as one JSON document."),
) -> None:
    """Logged predictions of a window, labels joined."""
    lo, hi = _window(start, end)
    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInputError("--out must end in .parquet or .csv", field="--out")
    table = read(deployment, lo, hi, as_pandas=False, settings=load_settings())
    if out is not None:
        if out.suffix.lower() == ".csv":
            import pyarrow.csv as pacsv

            flat = table.drop_columns([f.name for f in table.schema if str(f.type).startswith(("list", "large_list"))])
            pacsv.write_csv(flat, out)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, out)
        note(f"{table.num_rows} rows written to {out}")
        return
    shown = table.slice(0, limit).to_pylist()
    if as_json:
        print_json({"deployment": deployment, "rows": table.num_rows, "predictions": [{k: str(v) if hasattr(v, "isoformat") else v for k, v in r.items()} for r in shown]})
        return
    columns = [c for c in ("timestamp", "request_id", "row", "model_version", "variant", "output", "label") if c in table.column_names]
    print_table(columns, [[("-" if r[c] is None else str(r[c])) for c in columns] for r in shown], title=f"{deployment}: {table.num_rows} rows")


@app.command("segments")
def segments_command(
    deployment: str = typer.Argument(..., help="Deployment (or bare model) name."),
    start: str | None = START,
    end: str | None = END,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """The indexed Parquet segments of a deployment's log."""
    lo, hi = _window(start, end)
    found = run_local_or_remote(
        lambda s: s.predictions,
        lambda svc: [seg.to_dict() for seg in svc.list_segments(deployment, lo, hi)],
        lambda http: http._call(
            "GET", f"/deployments/{quote(deployment, safe='')}/prediction-segments",
            params={k: str(v) for k, v in (("start", lo), ("end", hi)) if v is not None},
        )["segments"],
    )
    if as_json:
        print_json({"segments": found})
        return
    print_table(
        ["first", "last", "rows", "bytes", "path"],
        [[format_time(s["min_time"]), format_time(s["max_time"]), str(s["rows"]), str(s["bytes"]), s["path"]] for s in found],
        title=f"{deployment}: {len(found)} segments",
    )
