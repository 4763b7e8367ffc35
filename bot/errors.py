"""Errors a user can fix. One place (the engine) turns them into a private reply."""

from __future__ import annotations


class UserError(Exception):
    """Something the person typed was wrong; `form` shows the right way to write it."""

    def __init__(self, message: str, form: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.form = form

    def __str__(self) -> str:
        if self.form:
            return f"{self.message}\nTry: `{self.form}`"
        return self.message
