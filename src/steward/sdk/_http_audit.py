"""The audit trail and secrets over a Steward server's REST API (administration)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from steward.errors import StorageError

from ._audit_backend import FirstPage
from ._http import HttpBackend, _error_from

if TYPE_CHECKING:
    from steward.governance import AuditPage, ChainReport, SecretInfo
    from steward.migrate import ImportSummary

__all__ = ["HttpAudit", "HttpImport", "HttpSecrets", "report_from_dict"]

JSON = dict[str, Any]  # Any: JSON values


def report_from_dict(d: JSON) -> ChainReport:
    """A :class:`~steward.governance.ChainReport` from ``GET /api/v1/audit/verify``."""
    from steward.governance import ChainBreak, ChainReport, Checkpoint

    head, bad, missing, cp = d.get("head"), d.get("first_bad"), d.get("missing"), d.get("checkpoint")
    return ChainReport(
        checked=int(d["checked"]),
        head_id=None if head is None else int(head["entry_id"]),
        head_hash="" if head is None else str(head["hash"]),
        first_break=None if bad is None else ChainBreak(int(bad["entry_id"]), str(bad["reason"])),
        missing=None if missing is None else (int(missing["first"]), int(missing["last"])),
        checkpoint=None if cp is None else Checkpoint(int(cp["entry_id"]), str(cp["hash"]), int(cp["created_at"]), str(cp.get("key_id", ""))),
        checkpoint_problems=tuple(str(p) for p in d.get("checkpoint_problems") or ()),
        checkpoints_note=str(d.get("checkpoints") or ""),
    )


class HttpAudit(FirstPage):
    """:class:`~steward.sdk.AuditBackend` on a server (verify and export need an administrator)."""

    def __init__(self, http: HttpBackend) -> None:
        self._http = http

    def list_entries(
        self,
        *,
        target: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: int | None = None,
        until: int | None = None,
        cursor: int | None = None,
        newest_first: bool = False,
        max_results: int = 100,
    ) -> AuditPage:
        """``GET /api/v1/audit``: the cursor travels as ``page_token``, ``newest_first`` as ``order=desc``."""
        from steward.core import AuditEntry
        from steward.governance import AuditPage

        given = {"target": target, "actor": actor, "action": action, "since": since, "until": until}
        params: dict[str, str | int] = {k: v for k, v in given.items() if v is not None}
        params["order"] = "desc" if newest_first else "asc"
        params["max_results"] = max_results
        if cursor is not None:
            params["page_token"] = str(cursor)
        data = self._http._call("GET", "/audit", params=params)
        entries = [
            AuditEntry(int(e["entry_id"]), int(e["timestamp"]), e["actor"], e["action"], e["target"], dict(e.get("details") or {}))
            for e in data["entries"]
        ]
        token = data.get("next_page_token")
        return AuditPage(entries, None if token is None else int(token))

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> ChainReport:
        params = None if expect_head is None else {"expect_head": f"{expect_head[0]}:{expect_head[1]}"}
        return report_from_dict(self._http._call("GET", "/audit/verify", params=params))

    def export(self) -> Iterator[dict[str, object]]:
        """Entries streamed as the server sends them (never the whole trail in memory)."""
        try:
            with self._http._http.stream("GET", "/audit/export") as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise _error_from(resp)
                for line in resp.iter_lines():
                    if line:
                        entry: dict[str, object] = json.loads(line)
                        yield entry
        except httpx.TransportError as exc:
            raise StorageError(f"Steward server unreachable at {self._http._http.base_url}") from exc


class HttpSecrets:
    """:class:`~steward.sdk.SecretsBackend` on a server (administrators)."""

    def __init__(self, http: HttpBackend) -> None:
        self._http = http

    def set_secret(self, name: str, value: str) -> SecretInfo:
        return _info(self._http._call("PUT", f"/secrets/{quote(name, safe='')}", body={"value": value}))

    def list_secrets(self) -> list[SecretInfo]:
        return [_info(i) for i in self._http._call("GET", "/secrets")["secrets"]]

    def delete_secret(self, name: str) -> None:
        self._http._call("DELETE", f"/secrets/{quote(name, safe='')}")


def _info(d: JSON) -> SecretInfo:
    from steward.governance import SecretInfo

    return SecretInfo(d["name"], int(d["version"]), int(d["created_at"]), d["created_by"], int(d["updated_at"]), d["updated_by"])


class HttpImport:
    """:class:`~steward.sdk.ImportBackend` on a server (administrators): the export folder is
    sent as a tar in resumable chunks, and the server imports it acting as the caller."""

    def __init__(self, http: HttpBackend) -> None:
        self._http = http

    def import_mlflow(self, dump: Path) -> ImportSummary:
        from steward.migrate import ImportSummary
        from steward.migrate._uploaded import pack_dump

        from ._http_data import send_chunks, size_and_sha256

        with tempfile.TemporaryDirectory(prefix="steward-import-") as tmp:
            packed = os.path.join(tmp, "export.tar")
            pack_dump(dump, packed)
            size, digest = size_and_sha256(packed)
            state = self._http._call("POST", "/imports", body={"size": size, "sha256": digest, "filename": str(dump)[:1000]})
            state = send_chunks(self._http, packed, state)
        found = self._http._call("POST", f"/imports/{quote(str(state['upload_id']), safe='')}")
        return ImportSummary(**found)
