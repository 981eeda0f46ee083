"""Errors the library raises on purpose.

Every one of them carries a message a station user can act on: what was expected and what
was found. The CLI prints them as a single ``Error: ...`` line and exits with code 1; the
service turns them into a 4xx JSON error. Anything else is a bug.
"""


class TriageError(Exception):
    """Base class of the library's own errors."""


class TaxonomyError(TriageError):
    """The taxonomy file is missing, unreadable or inconsistent."""


class InputError(TriageError):
    """An input file or value is unusable (unreadable, wrong encoding, missing column...)."""


class ModelError(TriageError):
    """A model folder is missing, incomplete, or does not match its card."""


class OutputError(TriageError):
    """An output could not be written (missing folder, disk full, no permission)."""
