"""Deprecations of the plugin API, announced with a warning before anything is removed.

A deprecated hook keeps working for the rest of its plugin-API major version: the host still
calls it, and pluggy emits :class:`FlowtimeSimDeprecationWarning` when a pack implementing it is
registered. The hook is removed only in the next major version (see
``docs/pack-authors/compatibility.md``). :data:`DEPRECATIONS` is the list the docs show.
"""

from __future__ import annotations

from dataclasses import dataclass


class FlowtimeSimDeprecationWarning(DeprecationWarning):
    """A pack uses something the plugin API will remove in its next major version.

    Turn it into an error in a pack's tests to find every use:
    ``filterwarnings = ["error::flowtime_sim.deprecations.FlowtimeSimDeprecationWarning"]``.
    """


@dataclass(frozen=True, slots=True)
class Deprecation:
    """One deprecated part of the plugin API and what replaces it.

    ``since`` is the plugin-API version that deprecated it; ``removal`` the one that removes it.
    """

    name: str
    replacement: str
    since: str
    removal: str
    note: str = ""

    def message(self) -> str:
        text = (
            f"{self.name} is deprecated since plugin API {self.since} and will be removed "
            f"in plugin API {self.removal}; use {self.replacement} instead"
        )
        return f"{text} ({self.note})" if self.note else text

    def warning(self) -> FlowtimeSimDeprecationWarning:
        return FlowtimeSimDeprecationWarning(self.message())


#: Hook ``flowtime_template_packs`` was the first name of template discovery.
TEMPLATE_PACKS_HOOK = Deprecation(
    name="hook flowtime_template_packs",
    replacement="flowtime_templates",
    since="1.0",
    removal="2.0",
    note="same arguments and return value: rename the function",
)

#: Everything deprecated in the current plugin API, oldest first.
DEPRECATIONS: tuple[Deprecation, ...] = (TEMPLATE_PACKS_HOOK,)
