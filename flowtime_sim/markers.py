"""The hook markers. Plugins decorate their implementations with :data:`hookimpl`."""

from __future__ import annotations

import pluggy

PROJECT = "flowtime_sim"

#: Version of the plugin API this host implements. A pack declares the range it supports
#: (``plugin_api = ">=1,<2"``); see ``docs/pack-authors/compatibility.md`` for what bumps it.
PLUGIN_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
