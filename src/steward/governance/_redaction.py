"""Keeping secret values out of logs: a registry of known values and a logging filter."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable

__all__ = ["MASK", "Redactor", "SecretRedactionFilter", "install_redaction"]

MASK = "***"
# Shorter values would mask ordinary words and digits everywhere; secrets that short are
# not secrets anyway.
_MIN_LENGTH = 4


class Redactor:
    """The secret values this process knows, and masking of them in any text.

    Thread-safe: the server adds values from request threads while logging reads them.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: str) -> None:
        """Remember ``values`` (those under 4 characters are ignored)."""
        with self._lock:
            fresh = {v for v in values if isinstance(v, str) and len(v) >= _MIN_LENGTH} - self._values
            if not fresh:
                return
            self._values |= fresh
            # longest first, so a secret containing another is masked whole
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def contains(self, text: str) -> bool:
        """True when ``text`` holds a known secret value."""
        pattern = self._pattern
        return bool(pattern is not None and isinstance(text, str) and pattern.search(text))

    def redact(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``***``."""
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)


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
