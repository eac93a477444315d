"""Is a pack project ready to be released? ``flowtime-sim pack check --release``.

A scaffolded project builds and passes ``twine check`` while it still names "Your Name" as its
author; this check names every placeholder left (file and line), and every template version
that ``templates.lock`` does not hold unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flowtime_sim.scaffold import PLACEHOLDERS

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost

#: The project files a placeholder may be left in.
RELEASED_FILES = ("pyproject.toml", "LICENSE", "README.md", "CHANGELOG.md")


def placeholder_problems(project_dir: Path) -> list[str]:
    """Each placeholder left in the project's metadata files, with its file and line."""
    problems: list[str] = []
    for name in RELEASED_FILES:
        path = project_dir / name
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            if name in {"pyproject.toml", "LICENSE", "README.md"}:
                problems.append(f"{name} is missing")
            continue
        for number, line in enumerate(lines, start=1):
            for placeholder, wanted in PLACEHOLDERS.items():
                if placeholder in line:
                    problems.append(
                        f"{name} line {number}: placeholder {placeholder!r}; "
                        f"replace it with {wanted}"
                    )
    return problems


def lock_problems(pack: str, host: PluginHost) -> list[str]:
    """Every template version of ``pack`` must be in ``templates.lock``, unchanged."""
    from flowtime_sim.template_lock import LOCK_NAME, check_lock, pack_folder
    from flowtime_sim.templates import TemplateIndex

    templates = [
        t
        for versions in TemplateIndex.collect(host).by_id.values()
        for t in versions
        if t.plugin == pack
    ]
    folder = pack_folder(host, pack)
    if folder is None or not (folder / LOCK_NAME).is_file():
        return [
            f"{LOCK_NAME} is missing; run 'flowtime-sim pack lock {pack}' to record the "
            "template versions you release"
        ]
    found = check_lock(pack, folder, templates)
    unlocked = [n.partition(" is not in")[0] for n in found.notes]
    return found.failures + [
        f"{what} is not locked; run 'flowtime-sim pack lock {pack}'" for what in unlocked
    ]


def release_problems(project_dir: Path, pack: str, host: PluginHost) -> list[str]:
    """Everything that keeps the project in ``project_dir`` (pack ``pack``) from a release."""
    return placeholder_problems(project_dir) + lock_problems(pack, host)
