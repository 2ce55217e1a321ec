"""The library from async code: work runs in worker threads that share the one detector safely."""

from __future__ import annotations

import asyncio

from services.photos import check_photo, check_photo_async, fix_photo_async
from tests.photos.synth import cat, encode, id_photo_jpeg, portrait


async def test_concurrent_checks_agree_with_one_at_a_time() -> None:
    photos = [
        id_photo_jpeg(),
        encode(cat()),
        encode(portrait(), mode="L"),
        encode(portrait(roll_degrees=15)),
    ] * 2
    alone = [check_photo(photo).codes for photo in photos]
    together = await asyncio.gather(*(check_photo_async(photo) for photo in photos))
    assert [report.codes for report in together] == alone


async def test_fix_from_async_code() -> None:
    outcome = await fix_photo_async(encode(portrait(), "PNG"))
    assert outcome.original.codes == ["file_size"]
    assert outcome.fixed is not None and check_photo(outcome.fixed.data).ok
