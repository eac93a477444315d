"""The testing kit for template packs: ``check_pack`` and helpers, plus pytest fixtures.

The fixtures (``flowtime_host``, ``flowtime_root``, ``flowtime_cli``, ``flowtime_client``)
come from :mod:`flowtime_sim.testing.plugin`, which pytest loads by itself wherever
flowtime-sim is installed::

    from flowtime_sim.testing import check_pack, run_template

    def test_pack(flowtime_host):
        check_pack(host=flowtime_host)

    def test_served_is_capped(flowtime_host):
        series = run_template(flowtime_host, "queue", {"capacity_per_bin": 50})
        assert max(series["served"]) <= 50
"""

from __future__ import annotations

from flowtime_sim.testing.checks import (
    HOSTILE_STRING,
    CheckedCase,
    PackCheckFailed,
    PackReport,
    check_pack,
)
from flowtime_sim.testing.cli import FlowtimeCli
from flowtime_sim.testing.models import render_template, run_template
from flowtime_sim.testing.packs import declared_packs, find_entry_point, pack_host

__all__ = [
    "HOSTILE_STRING",
    "CheckedCase",
    "FlowtimeCli",
    "PackCheckFailed",
    "PackReport",
    "check_pack",
    "declared_packs",
    "find_entry_point",
    "pack_host",
    "render_template",
    "run_template",
]
