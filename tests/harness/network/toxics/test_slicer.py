"""slicer: one write becomes several, of about average_size ± size_variation bytes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from harness.network import ToxiproxyServerThread
from harness.network.toxics.slicer import Slicer
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, sender


def test_slicer_splits_one_write_into_many_reads(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    payload = bytes(range(250)) * 4
    listen = make_proxy(server, upstream(sender(payload)).address)
    add_toxic(
        server, {"type": "slicer", "attributes": {"average_size": 100, "size_variation": 20, "delay": 10_000}}
    )
    reads: list[bytes] = []
    start = time.perf_counter()
    with dial(listen) as conn:
        while data := conn.recv(65536):
            reads.append(data)
    assert b"".join(reads) == payload
    assert len(reads) >= 5, [len(r) for r in reads]
    assert time.perf_counter() - start >= 0.05  # 10 ms between slices


def test_slicer_offsets_cover_the_chunk_in_pieces_no_larger_than_average_plus_variation() -> None:
    slicer = Slicer(average_size=10, size_variation=4, delay=0)
    rng = random.Random(3)
    for size in (1, 14, 15, 100, 4096):
        cuts = slicer.offsets(0, size, rng)
        pieces = [cuts[i + 1] - cuts[i] for i in range(0, len(cuts), 2)]
        assert cuts[0] == 0
        assert cuts[-1] == size
        assert all(cuts[i] == cuts[i + 1] for i in range(1, len(cuts) - 1, 2))  # contiguous
        assert all(0 < p <= 14 for p in pieces), (size, pieces)
    assert len(slicer.offsets(0, 4096, rng)) // 2 > 4096 // 14
