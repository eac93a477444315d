from __future__ import annotations

import pytest

from flowtime_sim_s3.bundle import decode_bundle, encode_bundle


def test_a_bundle_round_trips_names_order_and_bytes() -> None:
    files = {"model.yaml": b"a: 1\n", "empty.txt": b"", "preview.svg": bytes(range(256))}
    bundle = decode_bundle(encode_bundle("models/m/v1", files))
    assert bundle.key == "models/m/v1"
    assert bundle.files == files and list(bundle.files) == list(files)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"something else",
        encode_bundle("k", {"a": b"xy"})[:-1],
        encode_bundle("k", {"a": b"xy"}) + b"!",
    ],
)
def test_anything_but_a_whole_bundle_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_bundle(data)
