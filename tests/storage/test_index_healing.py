"""The listing index heals itself on every backend: on a folder it is rebuilt from the files,
on S3 the per-machine cache is emptied and the bucket's journal fills it again."""

from __future__ import annotations

import os

import pytest
from kit import Backend

from flowtime_sim.registry import Query


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_lost_or_corrupt_listing_index_lists_everything_again(
        backend: Backend, damage: str, capsys: pytest.CaptureFixture[str]) -> None:
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
        if damage == "missing" and backend.name == "s3":
            assert err == ""  # a new machine's cache: nothing was lost
        elif backend.name == "s3":
            assert err == (f"rebuilt the listing index of {backend.root}: it was corrupt (it "
                           "fills again from the storage's change feed)\n")
        else:
            assert err == (f"rebuilt the listing index of {backend.root}: it was {damage} "
                           "(2 artifacts)\n")
    finally:
        again.close()
