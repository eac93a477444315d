"""The embedded listing index is a cache of the stored catalogs, on every blob store: lost or
corrupt, it is rebuilt from them. (A PostgreSQL index is the authority, not a cache: the
contract kit and the team tests cover it.)"""

from __future__ import annotations

import os

import pytest
from kit import Backend

from flowtime_sim.registry import Query


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_lost_or_corrupt_listing_index_lists_everything_again(
    sqlite_backend: Backend, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = sqlite_backend
    ft = backend.flowtime()
    made = {ft.create_model("tiny", name=name).artifact.id for name in ("a", "b")}
    path = ft.registry().storage.index_path()
    ft.close()
    capsys.readouterr()
    if damage == "missing":
        for name in os.listdir(path.parent):
            if name.startswith(path.name):
                os.unlink(path.parent / name)
    else:
        path.write_bytes(os.urandom(4096))
    again = backend.flowtime()
    try:
        assert {a["id"] for a in again.list(Query()).items} == made
        err = capsys.readouterr().err
        assert err == (
            f"rebuilt the listing index of {backend.root}: it was {damage} (2 artifacts)\n"
        )
    finally:
        again.close()
