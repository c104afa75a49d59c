"""Audit trail administration: verify the hash chain and export it (administrators).

``GET /api/v1/audit`` (listing, for reviewers) lives with tracking; these two read every
stored row and its hashes, so ``steward audit verify|export`` work against a server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from steward.errors import InvalidInputError
from steward.governance import ChainReport
from steward.wiring import Services

from ._deps import services

router = APIRouter(prefix="/api/v1", tags=["governance"])
JSON = dict[str, Any]  # Any: JSON values


def report_to_dict(report: ChainReport) -> JSON:
    """The REST (and ``steward audit verify --json``) shape of a verification."""
    bad, cp = report.first_break, report.checkpoint
    return {
        "intact": report.intact,
        "checked": report.checked,
        "head": None if report.head_id is None else {"entry_id": report.head_id, "hash": report.head_hash},
        "first_bad": None if bad is None else {"entry_id": bad.entry_id, "reason": bad.reason},
        "missing": None if report.missing is None else {"first": report.missing[0], "last": report.missing[1]},
        "checkpoint": None if cp is None else {"entry_id": cp.entry_id, "hash": cp.hash, "created_at": cp.created_at, "key_id": cp.key_id},
        "checkpoint_problems": list(report.checkpoint_problems),
        "checkpoints": report.checkpoints_note,
    }


def _parse_head(text: str) -> tuple[int, str]:
    entry, sep, digest = text.partition(":")
    if not sep or not entry.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInputError("expect_head is ENTRY_ID:HASH (64 lowercase hex), as a verification reports", field="expect_head")
    return int(entry), digest


@router.get("/audit/verify", summary="Check the audit chain and its signed head checkpoints (administrators)")
def verify_audit(request: Request, expect_head: Annotated[str | None, Query(max_length=100)] = None) -> JSON:
    head = _parse_head(expect_head) if expect_head is not None else None
    return report_to_dict(services(request).audit().verify(expect_head=head))


@router.get("/audit/export", summary="Every audit entry with its chain hashes as JSON lines, oldest first (administrators)")
def export_audit(request: Request) -> StreamingResponse:
    svc: Services = services(request)

    def lines() -> Iterator[bytes]:
        # a sync generator: Starlette runs it in a thread, one page of entries at a time
        for entry in svc.audit().export():
            yield (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
