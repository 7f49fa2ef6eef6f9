"""The one error type the jazz data layer raises for bad input files.

Every reader in `apps.jazz` (MIDI validation, monophonic reading, the course
pipeline, the corpus loader) turns whatever went wrong - a missing path, bytes
that are not MIDI, a MIDI file with only drums - into a `JazzDataError`.  Its
message is a single line that names the file and the problem, in the form

    <problem>: <path>[ (<detail>)]

for example ``not a MIDI file: /tmp/x.mid (no MThd header)``.  The short
``problem`` part is kept on the exception as `reason`, so that a caller that
skips bad files can list them compactly ("a.mid (not a MIDI file)").
"""
from __future__ import annotations

import os


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class JazzDataError(ValueError):
    """A data file could not be used; the message names the file and the reason."""

    def __init__(self, reason: str, path: str | os.PathLike, detail: str = "") -> None:
        self.reason = _one_line(reason)
        self.path = os.fspath(path)
        self.detail = _one_line(detail)
        message = f"{self.reason}: {self.path}"
        if self.detail:
            message += f" ({self.detail})"
        super().__init__(message)


try:  # the apps' shared "the user can fix this" error, printed as `error: ...` with exit status 2
    from apps.common.errors import UserError as _UserError
except ImportError:  # pragma: no cover - apps.common is part of the project
    _UserError = Exception


class JazzUsageError(_UserError):
    """A request the jazz commands cannot carry out (primer too long, no checkpoint, ...); one line."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))
