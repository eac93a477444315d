"""Opening the listing index of a root through the ``flowtime_index_backends`` hook: the
index-side twin of :func:`flowtime_sim.storage.open_storage`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flowtime_sim.errors import FlowtimeError, NotFoundError, PluginError
from flowtime_sim.registry.contracts import _redacted

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.registry.contracts import Index
    from flowtime_sim.storage import Storage
    from flowtime_sim.types import IndexBackend

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def open_index(host: PluginHost, url: str | None, storage: Storage) -> Index:
    """Open the index ``url`` (``None``: the default) for ``storage``'s root."""
    from flowtime_sim.dispatch import describe
    from flowtime_sim.types import IndexBackend

    collected = host.collect("flowtime_index_backends")
    offers: list[tuple[str, IndexBackend]] = []
    failures: list[Exception] = list(collected.failures)
    for result in collected.results:
        items = list(result.value) if isinstance(result.value, list | tuple) else [result.value]
        bad = [item for item in items if not isinstance(item, IndexBackend)]
        if bad:
            failures.append(
                PluginError(
                    f"plugin {result.plugin!r}: flowtime_index_backends returned a "
                    f"{type(bad[0]).__name__}, not an IndexBackend",
                    pack=result.plugin,
                    hook="flowtime_index_backends",
                )
            )
            continue
        offers += [(result.plugin, item) for item in items if isinstance(item, IndexBackend)]
    if url is None:
        found = [(p, b) for p, b in offers if b.default]
        wanted = "the default index"
    else:
        m = _SCHEME.match(url)
        scheme = m.group(1).lower() if m else ""
        found = [(p, b) for p, b in offers if scheme in b.schemes]
        wanted = f"{scheme}:// indexes" if scheme else f"the index {_redacted(url)!r}"
    if not found:
        known = ", ".join(sorted({f"{s}://" for _, b in offers for s in b.schemes})) or "none"
        hint = (
            " (install flowtime-sim[postgresql] for postgresql:// indexes)"
            if url and url.startswith(("postgres://", "postgresql://"))
            else ""
        )
        failed = "".join(f"; {failure}" for failure in failures)
        raise NotFoundError(
            f"no index backend for {wanted}{hint}; available: {known}{failed}", field="index"
        )
    if len(found) > 1:
        names = ", ".join(sorted(name for name, _ in found))
        raise PluginError(
            f"several plugins offer {wanted} ({names}); disable all but one "
            "with FLOWTIME_SIM_DISABLE_PLUGINS",
            pack=found[1][0],
            hook="flowtime_index_backends",
        )
    plugin, backend = found[0]
    try:
        return backend.open(url, storage)
    except FlowtimeError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin!r}: opening the index {_redacted(url or '')} failed: {describe(exc)}",
            pack=plugin,
            hook="flowtime_index_backends",
        ) from exc
