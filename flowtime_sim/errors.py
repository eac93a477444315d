"""The exception hierarchy.

``FlowtimeError`` is the root. ``UserError`` and its subclasses are mistakes the user can fix:
the CLI prints them as one line without a traceback (exit 1) and the service answers them with a
4xx problem document (the service decides which status each kind gets). ``PluginError`` names
the pack and hook that misbehaved.
``IntegrityError`` reports stored data that does not match its recorded hashes (exit 3).
"""

from __future__ import annotations


class FlowtimeError(Exception):
    """Base class of every error flowtime-sim raises on purpose."""


class UserError(FlowtimeError):
    """Something the user can fix: bad input, unknown id, invalid parameter.

    ``field`` optionally names the offending input (a parameter, a request field) so that the
    service can point at it in its problem document.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFoundError(UserError):
    """An id (template, model, version, run, file) that does not exist or is not visible."""


class DamagedArtifactError(NotFoundError):
    """A stored artifact whose ``catalog.json`` is missing or unreadable. Only that artifact is
    lost: the CLI names the file, the service answers as for an artifact that does not exist,
    listings skip it and ``delete`` still removes it. ``key`` is its folder, ``why`` what is
    wrong with its catalog."""

    def __init__(self, message: str, *, key: str, why: str) -> None:
        super().__init__(message, field="id")
        self.key = key
        self.why = why


class ConflictError(UserError):
    """The request contradicts what is stored, e.g. a hash-prefix collision of model ids."""


class ModelError(UserError):
    """A model that fails validation (SPEC §5). The message names the node and offending text."""

    def __init__(self, message: str, *, node: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.node = node


class ParameterError(UserError):
    """One or more template parameters are invalid; ``problems`` lists every one."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class TemplateError(UserError):
    """A template that cannot be rendered (a bug in the template, reported with its id and line)."""


class PluginError(FlowtimeError):
    """A pack or plugin misbehaved. Names the pack (and the hook when known)."""

    def __init__(self, message: str, *, pack: str, hook: str | None = None) -> None:
        super().__init__(message)
        self.pack = pack
        self.hook = hook


class IntegrityError(FlowtimeError):
    """Stored data does not match its recorded hashes. The CLI exits 3."""

    def __init__(self, message: str, bad_files: list[str] | None = None) -> None:
        super().__init__(message)
        self.bad_files = bad_files or []


class InvalidModelError(TemplateError):
    """A template rendered a model that fails validation.

    ``rendered`` is the model text; ``model_line`` the line of it the problem is on and
    ``template_line`` the line of the template body that wrote it, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        rendered: str,
        model_line: int | None = None,
        template_line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.rendered = rendered
        self.model_line = model_line
        self.template_line = template_line


class UnavailableError(FlowtimeError):
    """A service the root depends on (the index database, the object store) cannot be reached
    or did not answer in time. Nothing was changed; the same command works once it is back.
    The service answers 503."""
