"""Logging of the service: personal data and secrets masked in every line, one line per request.

``MaskFilter`` runs ``triage.text.mask`` and ``redact.hide_secrets`` over the final text of
every record (message, arguments and any traceback) on the handlers ``triage serve``
installs, so a phone or ID number, or a key sent as ``?api_key=...``, cannot reach the log
even through a library's message. uvicorn's own access log is
off: the service writes its own request line, with the path masked and the client named
by its key's position (``api#2``), never by the key.
"""
from __future__ import annotations

import logging

from service.redact import hide_secrets
from triage.text import mask

_FMT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskFilter(logging.Filter):
    """Mask personal data in the rendered message and traceback of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what we can
            message = str(record.msg)
        record.msg, record.args = mask(hide_secrets(message)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(hide_secrets(record.exc_text))
        if record.stack_info:
            record.stack_info = mask(hide_secrets(record.stack_info))
        return True


def log_config(level: str = "info") -> dict:
    """A ``logging.config.dictConfig`` for uvicorn and the service, masking on every handler."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask": {"()": "service.logs.MaskFilter"}},
        "formatters": {"plain": {"format": _FMT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "plain", "filters": ["mask"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "service": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "triage": {"handlers": ["stderr"], "level": lvl, "propagate": False},
        },
    }
