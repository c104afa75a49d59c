"""Keeping secret values out of logs: the known values, their encodings, and a logging filter.

A :class:`Redactor` knows the secret values of a process: those it handled itself and,
once it :meth:`~Redactor.watch`\\ es the store, every stored secret, whoever set it. It
checks the store for changes at most once a second (one cheap query: count, versions and
latest update of the secrets table), and decrypts only when something changed, so a
secret set by another process (``steward secrets set`` on another machine) is masked in
this process's logs within a second.

A value is masked as written and in the forms it takes on its way into a log line: URL
encoded (``quote``, ``quote_plus``), JSON escaped, and base64 (standard and url-safe,
with and without padding, and inside a longer base64 text such as a basic-auth header).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import quote, quote_plus

from steward.errors import InvalidInputError
from steward.tracking import AuditEvent, now_ms

__all__ = [
    "MASK",
    "Redactor",
    "SecretRedactionFilter",
    "SecretSource",
    "SecretValueGuard",
    "encoded_forms",
    "install_redaction",
]

MASK = "***"
# Shorter values would mask ordinary words and digits everywhere; secrets that short are
# not secrets anyway.
_MIN_LENGTH = 4
# A fragment of a longer base64 text is masked from 6 characters (36 bits) on: shorter
# fragments would match innocent base64 (digests, ids) in the logs.
_MIN_BASE64_FRAGMENT = 6
# A value a param or tag merely contains (rather than equals) is refused from this length
# on: a short secret ("test") would otherwise refuse every value that happens to hold it.
_MIN_CONTAINED = 8
_NEVER = object()


class SecretSource(Protocol):
    """Where the stored secrets are: a cheap change marker and, when it moves, the values."""

    def fingerprint(self) -> object:
        """Anything that changes whenever a secret is set, changed or deleted."""
        ...

    def values(self) -> dict[str, str]:
        """``{name: plaintext}`` of every readable stored secret."""
        ...


def _base64_fragments(raw: bytes, encode: Callable[[bytes], bytes]) -> set[str]:
    """The characters of ``encode(prefix + raw + suffix)`` that depend on ``raw`` alone, for the
    three alignments of ``raw`` in a longer encoded text (``user:secret`` in basic auth)."""
    found = set()
    for shift in range(3):
        text = encode(b"\0" * shift + raw + b"\0\0").decode("ascii")
        start, end = shift * 8, (shift + len(raw)) * 8
        # character i carries bits [6i, 6i + 6) of the input
        first, last = math.ceil(start / 6), (end - 6) // 6
        fragment = text[first : last + 1]
        if len(fragment) >= _MIN_BASE64_FRAGMENT:
            found.add(fragment)
    return found


def encoded_forms(value: str) -> set[str]:
    """``value`` and the forms it takes in URLs, JSON and base64 (each at least 4 characters)."""
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    raw = value.encode("utf-8")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        full = encode(raw).decode("ascii")
        forms |= {full, full.rstrip("=")}
        forms |= _base64_fragments(raw, encode)
    return {f for f in forms if len(f) >= _MIN_LENGTH}


def _alternation(texts: Iterable[str]) -> re.Pattern[str] | None:
    # longest first, so a secret containing another (or a padded form) is masked whole
    ordered = sorted(set(texts), key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in ordered)) if ordered else None


class Redactor:
    """The secret values this process knows, and masking of them in any text.

    Thread-safe: the server adds values from request threads while logging reads them.

    Args:
        values: values to mask from the start.
        refresh_every: seconds between two looks at a watched store from the logging path.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self, values: Iterable[str] = (), *, refresh_every: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        # the store's secrets as of the last refresh: what params and tags are checked against
        self._stored: dict[str, str] = {}
        self._stored_forms: dict[str, str] = {}  # encoded form -> secret name
        self._stored_pattern: re.Pattern[str] | None = None
        self._numbers: dict[float, str] = {}  # numeric secret value -> name (for metric values)
        self._source_factory: Callable[[], SecretSource] | None = None
        self._source: SecretSource | None = None
        self._fingerprint: object = _NEVER
        self._refresh_lock = threading.Lock()
        self._next_check = 0.0
        self.refresh_every = refresh_every
        self._clock = clock
        self.add(*values)

    def add(self, *values: str) -> None:
        """Remember ``values`` and their encoded forms (values under 4 characters are ignored)."""
        with self._lock:
            self._add_locked(values)

    def _add_locked(self, values: Iterable[str]) -> None:
        fresh: set[str] = set()
        for value in values:
            if isinstance(value, str) and len(value) >= _MIN_LENGTH:
                fresh |= encoded_forms(value)
        fresh -= self._values
        if fresh:
            self._values |= fresh
            self._pattern = _alternation(self._values)

    # -- the store ----------------------------------------------------------------------

    def watch(self, source: Callable[[], SecretSource]) -> None:
        """Follow the stored secrets: ``source`` builds the :class:`SecretSource` on first need.

        The first watch wins; watching again (another service object sharing this
        redactor) changes nothing.
        """
        with self._lock:
            if self._source_factory is None:
                self._source_factory = source

    @property
    def watching(self) -> bool:
        """True once a store is watched."""
        return self._source_factory is not None

    def refresh(self, *, force: bool = False) -> None:
        """Learn the stored secrets if they changed since the last look.

        Without ``force`` it looks at most once per ``refresh_every`` seconds and never waits
        for another thread's look (the logging path calls it for every record). With
        ``force`` it always asks the store (one query) and waits its turn: the check of a
        param against the secrets must see a secret set a moment ago.

        Raises:
            StewardError: with ``force``, the store could not be read.
        """
        factory = self._source_factory
        if factory is None:
            return
        if not force and self._clock() < self._next_check:
            return
        if not self._refresh_lock.acquire(blocking=force):
            return  # another thread is looking, or this is a log record emitted while looking
        try:
            if not force and self._clock() < self._next_check:
                return
            self._next_check = self._clock() + self.refresh_every
            if self._source is None:
                self._source = factory()
            marker = self._source.fingerprint()
            if marker == self._fingerprint:
                return
            stored = self._source.values()
            self._learn(stored)
            self._fingerprint = marker
        finally:
            self._refresh_lock.release()

    def _quiet_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - on the logging path: a store hiccup must not break logging; the known values still apply
            return

    def _learn(self, stored: Mapping[str, str]) -> None:
        forms: dict[str, str] = {}
        numbers: dict[float, str] = {}
        for name, value in sorted(stored.items()):
            if len(value) >= _MIN_CONTAINED:
                for form in encoded_forms(value):
                    forms.setdefault(form, name)
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                numbers[number] = name
        with self._lock:
            # values stay masked after a secret is deleted: its value may still be in use
            self._add_locked(stored.values())
            self._stored = dict(stored)
            self._stored_forms = forms
            self._stored_pattern = _alternation(forms)
            self._numbers = numbers

    # -- checks -------------------------------------------------------------------------

    def secret_in(self, text: str) -> str | None:
        """The name of a stored secret that ``text`` equals or carries (in any encoded
        form, for secrets of 8 characters or more); None when there is none.

        Uses what the last :meth:`refresh` learnt.
        """
        if not isinstance(text, str):
            return None
        for name, value in self._stored.items():
            if text == value:
                return name
        pattern = self._stored_pattern
        found = pattern.search(text) if pattern is not None else None
        return self._stored_forms.get(found.group(0)) if found else None

    def secret_equal_to(self, number: float) -> str | None:
        """The name of a stored secret whose value is ``number`` written out (``"0.5"``)."""
        return self._numbers.get(number) if self._numbers else None

    @property
    def has_numeric_secrets(self) -> bool:
        """True when some stored secret reads as a number (metric values are then checked)."""
        return bool(self._numbers)

    def contains(self, text: str) -> bool:
        """True when ``text`` holds a known secret value (in any of its forms)."""
        self._quiet_refresh()
        pattern = self._pattern
        return bool(pattern is not None and isinstance(text, str) and pattern.search(text))

    def redact(self, text: str) -> str:
        """``text`` with every known secret value (and encoded form) replaced by ``***``."""
        self._quiet_refresh()
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)


class SecretValueGuard:
    """Refuses params, tags and metric values that carry a stored secret (the tracking
    service's :class:`~steward.tracking.SecretGuard`).

    Each refusal names the secret, never its value, and is audited (``secrets.refused``).

    Args:
        redactor: the process's known secrets, watching the store.
        record: appends an audit event.
    """

    def __init__(self, redactor: Redactor, record: Callable[[AuditEvent], object]) -> None:
        self.redactor = redactor
        self._record = record

    def check_values(
        self, actor: str, target: str, texts: Mapping[str, str], numbers: Iterable[float] = ()
    ) -> None:
        """Refuse the first value that equals (or carries) a stored secret.

        Args:
            actor: who is logging.
            target: what they log to (``runs:/<id>``), for the audit entry.
            texts: field -> value of params and tags (``params.lr``).
            numbers: the values of metric points, in order (the field is ``metrics[i]``).

        Raises:
            InvalidInputError: naming the field and the secret.
        """
        if texts:
            # params and tags are few: ask the store, so a secret set a moment ago counts
            self.redactor.refresh(force=True)
        else:
            # metric batches are the hot path: the once-a-second look is enough
            self.redactor.refresh()
        for field, text in texts.items():
            name = self.redactor.secret_in(text)
            if name is not None:
                self._refuse(actor, target, field, name)
        if self.redactor.has_numeric_secrets:
            for i, number in enumerate(numbers):
                name = self.redactor.secret_equal_to(number)
                if name is not None:
                    self._refuse(actor, target, f"metrics[{i}]", name)

    def _refuse(self, actor: str, target: str, field: str, name: str) -> None:
        self._record(AuditEvent(actor, "secrets.refused", f"secrets:/{name}", now_ms(), {"target": target, "field": field}))
        raise InvalidInputError(
            f"{field} holds the value of secret {name}; secrets are never stored as params, tags or metrics "
            f"(pass the secret's name and resolve it where it is used)",
            field=field,
        )


class SecretRedactionFilter(logging.Filter):
    """A logging filter that masks known secret values in the message and the traceback.

    Attach it to handlers (a filter on a logger does not see its children's records).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        # mask the format string and each argument in place, keeping the arguments' shape:
        # some formatters (uvicorn's access log) unpack record.args themselves
        if isinstance(record.msg, str) and self.redactor.contains(record.msg):
            record.msg = self.redactor.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.redactor.contains(record.exc_text):
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info and self.redactor.contains(record.stack_info):
            record.stack_info = self.redactor.redact(record.stack_info)
        return True

    def _arg(self, value: object) -> object:
        if isinstance(value, int | float | bool) or value is None:
            return value
        text = str(value)
        return self.redactor.redact(text) if self.redactor.contains(text) else value


def install_redaction(redactor: Redactor, logger_names: Iterable[str] = ("", "uvicorn", "uvicorn.error", "uvicorn.access")) -> Callable[[], None]:
    """Attach a :class:`SecretRedactionFilter` to every handler of the named loggers.

    Returns:
        A function that detaches it again (the server calls it at shutdown).
    """
    filt = SecretRedactionFilter(redactor)
    handlers = {h for name in logger_names for h in logging.getLogger(name).handlers}
    if logging.lastResort is not None:
        # records of loggers without handlers (no logging configured) end here
        handlers.add(logging.lastResort)
    for handler in handlers:
        handler.addFilter(filt)

    def remove() -> None:
        for handler in handlers:
            handler.removeFilter(filt)

    return remove
