"""Errors a user may see.

Every failure that reaches the CLI or the app is one of these, so that the front ends can print one clear
line instead of a traceback. The message is written for the user (Chinese first, the fix named).
"""


class AssistantError(Exception):
    """Base class: its str() is the message shown to the user."""


class LoadError(AssistantError):
    """A file could not be read as a document (empty, binary, too large, malformed, no text)."""


class StoreError(AssistantError):
    """The store cannot be opened or written (read-only, half-written, server gone, disk full)."""


class ModelMismatchError(StoreError):
    """The store was built with another embedding model than the one configured."""


class QueryError(AssistantError):
    """A question or search request that cannot be run (empty, too long, unknown zone)."""


class EditError(AssistantError):
    """A curator's edit that cannot be made: a document that is not there, a bad value, an unwritable lexicon."""
