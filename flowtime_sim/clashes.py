"""Names a pack shares with other installed packs: not errors, but each costs users something.

Two packs offering one template id leave users to write ``pack:id``; a second pack with an
installed pack's entry-point name is refused when both are installed; a distribution name that
is already installed is a different project's. ``pack new``, ``pack check`` and ``doctor``
warn about them where the author can still choose another name.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from flowtime_sim.plugins import ENTRY_POINT_GROUP

if TYPE_CHECKING:
    from flowtime_sim.templates import TemplateIndex


def _normalise(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_packs() -> dict[str, str]:
    """Entry-point name → ``distribution version`` of every installed pack."""
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "?"
    return found


def _template_owners(index: TemplateIndex) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for tid, versions in index.by_id.items():
        owners[tid] = sorted({t.plugin for t in versions})
    return owners


def installed_clashes(index: TemplateIndex) -> list[str]:
    """Template ids that several installed packs offer (``doctor``)."""
    return [
        f"template id {tid!r} is offered by packs {', '.join(packs)}; users must write "
        f"{' or '.join(f'{p}:{tid}' for p in packs)}: rename the template in one of them"
        for tid, packs in sorted(_template_owners(index).items())
        if len(packs) > 1
    ]


def new_pack_clashes(name: str, distribution: str, template_ids: Iterable[str]) -> list[str]:
    """What a new pack called ``name`` would share with the installed packs (``pack new``)."""
    from flowtime_sim.plugins import create_plugin_host
    from flowtime_sim.templates import TemplateIndex

    warnings: list[str] = []
    packs = _installed_packs()
    if name in packs:
        warnings.append(
            f"pack name {name!r} is already the entry point of {packs[name]} "
            "(installed); the two packs could not be installed together: "
            "choose another name"
        )
    dists = {_normalise(d.partition(" ")[0]): d for d in packs.values()}
    if _normalise(distribution) in dists and name not in packs:
        warnings.append(
            f"distribution {distribution} is already installed "
            f"({dists[_normalise(distribution)]}): choose another name"
        )
    owners = _template_owners(TemplateIndex.collect(create_plugin_host(strict=False)))
    for tid in template_ids:
        if tid in owners:
            warnings.append(
                f"template id {tid!r} is already offered by pack "
                f"{', '.join(owners[tid])}; users of both packs would have to "
                f"write {name}:{tid}: rename the template"
            )
    return warnings


def pack_clashes(pack: str, template_ids: Iterable[str]) -> list[str]:
    """What installed pack ``pack`` shares with the other installed packs (``pack check``)."""
    from flowtime_sim.plugins import create_plugin_host
    from flowtime_sim.templates import TemplateIndex

    host = create_plugin_host(strict=False)
    claimed = sorted(
        {
            f"{ep.dist.name} {ep.dist.version}"
            for ep in entry_points(group=ENTRY_POINT_GROUP, name=pack)
            if ep.dist is not None
        }
    )
    warnings = []
    if len(claimed) > 1:
        warnings.append(
            f"pack name {pack!r} is the entry point of several installed distributions "
            f"({', '.join(claimed)}); only one of them loads: rename the pack or uninstall "
            "the others"
        )
    owners = _template_owners(TemplateIndex.collect(host))
    for tid in sorted(set(template_ids)):
        others = [p for p in owners.get(tid, []) if p != pack]
        if others:
            warnings.append(
                f"template id {tid!r} is also offered by pack "
                f"{', '.join(others)}; users of both packs must write "
                f"{pack}:{tid}: rename the template"
            )
    return warnings
