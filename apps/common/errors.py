"""The error the apps raise for problems the user can fix.

A `UserError` means "the command cannot do what was asked, and here is why": a missing file, a
run folder started with other settings, a loss that became nan. Its message is one line that
says what went wrong, where, and what to do, e.g.

    runs/charlm/run.json was written with --learning-rate 0.001, this command has 0.01;
    rerun with the original settings to resume, or pass a new --run-dir

(shown here on two lines only for width). `apps.common.cli.run_command` prints it as
`error: <message>` and exits with status 2, without a traceback: a traceback is for bugs.
"""


def one_line(text: object) -> str:
    """`text` as a single line: newlines and runs of spaces become one space."""
    return " ".join(str(text).split())


class UserError(Exception):
    """A problem the user can fix; the message is one line (what, where, what to do)."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))
