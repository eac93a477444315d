"""Who is calling: bearer tokens from a tokens file, and what each caller may see (SPEC §10).

The tokens file is YAML or JSON, one entry per token::

    "tok-3c1f0a7d9e5b42c8a1f6": {identity: alice, teams: [pricing, ops]}
    "tok-9b2e6d4c8a0f13e7b5d2": {identity: bob, teams: [pricing]}
    "tok-51a7c3e9f2d8b0a4c6e1": {identity: carol}

A token is at least 16 characters of ``A-Z a-z 0-9 - . _ ~ + /`` (optionally ``=``-padded);
an identity becomes the ``owner`` of what that caller creates. Two identities are teammates
when their entries share a team. Without a tokens file there is one local user who sees
everything.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowtime_sim.errors import UserError

TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/-]{16,}=*")
SESSION_COOKIE = "flowtime_sim_token"


class TokensFileError(UserError):
    """The tokens file cannot be read or does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: who they are and whose team artifacts they may see."""

    identity: str
    teammates: frozenset[str] = frozenset()
    sees_everything: bool = False  # the single local user when no tokens file is configured
    by_cookie: bool = False  # signed in on the page rather than sending a bearer token

    @property
    def viewer(self) -> tuple[str, frozenset[str]] | None:
        """The registry listing's visibility filter (None: no filtering)."""
        return None if self.sees_everything else (self.identity, self.teammates)

    def can_see(self, catalog: Mapping[str, Any]) -> bool:
        """``public``, the caller's own, or ``team`` owned by a teammate."""
        if self.sees_everything:
            return True
        owner = catalog.get("owner")
        visibility = catalog.get("visibility", "private")
        return (
            owner == self.identity
            or visibility == "public"
            or (visibility == "team" and owner in self.teammates)
        )


@dataclass(frozen=True, slots=True)
class Account:
    identity: str
    teams: frozenset[str] = field(default_factory=frozenset)


class Tokens:
    """The accounts of a tokens file. Tokens are kept only as SHA-256 digests."""

    def __init__(self, accounts: Mapping[str, Account], source: str = "<tokens>") -> None:
        self.source = source
        self._entries = [
            (hashlib.sha256(token.encode()).digest(), account)
            for token, account in accounts.items()
        ]
        teams: dict[str, set[str]] = {}
        for account in accounts.values():
            teams.setdefault(account.identity, set()).update(account.teams)
        self._teams = teams

    @classmethod
    def load(cls, path: str | Path) -> Tokens:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokensFileError(
                f"cannot read the tokens file {str(p)!r}: {exc}", field="tokens"
            ) from None
        return cls(parse_tokens(text, str(p)), str(p))

    def authenticate(self, token: str) -> Account | None:
        """The account of ``token``, comparing against every entry in constant time."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found = None
        for known, account in self._entries:
            if hmac.compare_digest(known, digest):
                found = account
        return found

    def caller(self, account: Account, *, by_cookie: bool = False) -> Caller:
        mine = self._teams.get(account.identity, set())
        teammates = frozenset(who for who, teams in self._teams.items() if teams & mine)
        return Caller(account.identity, teammates, by_cookie=by_cookie)


def parse_tokens(text: str, name: str) -> dict[str, Account]:
    """Parse the tokens file ``text``: a mapping of token to ``{identity, teams?}``."""
    from flowtime_sim.yaml_dialect import YamlError, load_json, load_yaml

    try:
        data = load_json(text) if name.endswith(".json") else load_yaml(text)
    except (ValueError, YamlError) as exc:
        raise TokensFileError(
            f"tokens file {name!r} is not valid "
            f"{'JSON' if name.endswith('.json') else 'YAML'}: {exc}",
            field="tokens",
        ) from None
    if not isinstance(data, dict) or not data:
        raise TokensFileError(
            f"tokens file {name!r} must be a non-empty mapping of token to {{identity, teams}}",
            field="tokens",
        )
    accounts = {}
    for token, entry in data.items():
        accounts[_token(token, name)] = _account(entry, name, str(token)[:4])
    return accounts


def _token(token: object, name: str) -> str:
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        shown = f"{str(token)[:4]}..." if isinstance(token, str) else repr(token)
        raise TokensFileError(
            f"tokens file {name!r}: token {shown} must be at least 16 "
            "characters of letters, digits and - . _ ~ + /",
            field="tokens",
        )
    return token


def _account(entry: object, name: str, hint: str) -> Account:
    where = f"tokens file {name!r}, token {hint}..."
    if not isinstance(entry, dict) or set(entry) - {"identity", "teams"}:
        raise TokensFileError(
            f"{where}: each entry must be a mapping with 'identity' and optionally 'teams'",
            field="tokens",
        )
    identity = entry.get("identity")
    if not _is_name(identity):
        raise TokensFileError(
            f"{where}: identity {identity!r} must be 1 to 128 printable "
            "characters without surrounding spaces",
            field="tokens",
        )
    teams = entry.get("teams") or []
    if not isinstance(teams, list) or not all(_is_name(t) for t in teams):
        raise TokensFileError(
            f"{where}: teams {teams!r} must be a list of team names", field="tokens"
        )
    assert isinstance(identity, str)
    return Account(identity, frozenset(teams))


def _is_name(value: object) -> bool:
    """1 to 128 printable characters without surrounding white space."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 128
        and value == value.strip()
        and value.isprintable()
    )
