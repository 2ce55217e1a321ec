"""Photo check and fix throughput on a 295x413 ID photo and 12-megapixel phone photos (one on a white
wall, one on a busy wall the fixer replaces); peak memory.

Each measurement runs in a fresh process, so its peak resident memory is its own (the models are
loaded before the clock starts, as in a running server). One thread: each network is shared and
serialised per process.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from skimage import data as samples

from services.photos import check_photo, fix_photo
from services.photos.networks import FACE_DETECTION, FACE_MESH, SEGMENTATION, network
from tests.photos.synth import (
    animated_gif,
    encode,
    heic_like,
    id_photo_jpeg,
    png16,
    png_bomb,
    portrait,
    stored_for_orientation,
    transparent_png,
)

COMMAND = "python -m bench photos"


def phone_photo() -> bytes:
    """3024x4032 (12.2 MP), stored sideways with EXIF orientation 6 like a phone does, JPEG q92."""
    shown = portrait(3024, 4032, face_height=0.2, face_top=0.3)
    return encode(stored_for_orientation(shown, 6), quality=92, orientation=6)


def busy_selfie() -> bytes:
    """The same 12 MP phone photo taken in front of a launch pad (scikit-image's public-domain NASA
    rocket picture): the fixer segments the person and replaces the scene."""
    shown = portrait(3024, 4032, face_height=0.2, face_top=0.3, background=samples.rocket())
    return encode(stored_for_orientation(shown, 6), quality=92, orientation=6)


def small_png() -> bytes:
    """295x413 but saved as PNG (about 130 KB): the fixer has to re-encode it."""
    return encode(portrait(), "PNG")


INPUTS: dict[str, Callable[[], bytes]] = {
    "295x413 JPEG": id_photo_jpeg,
    "295x413 PNG": small_png,
    "12 MP phone JPEG": phone_photo,
    "12 MP busy wall": busy_selfie,
}


def _turned(orientation: int) -> bytes:
    return encode(stored_for_orientation(portrait(), orientation), orientation=orientation)


BAD_INPUTS: dict[str, Callable[[], bytes]] = {
    "zero bytes": lambda: b"",
    "text renamed .jpg": lambda: "我的照片\n".encode() * 20,
    "truncated JPEG": lambda: id_photo_jpeg()[:3000],
    "20000x20000 PNG bomb": png_bomb,
    "HEIC": heic_like,
    "CMYK JPEG": lambda: encode(portrait(), mode="CMYK"),
    "16-bit PNG": lambda: png16(portrait(), grey=False),
    "animated GIF": animated_gif,
    "transparent PNG": transparent_png,
    **{f"EXIF orientation {n}": partial(_turned, n) for n in range(2, 9)},
}
WORK: dict[str, Callable[[bytes], object]] = {"check": check_photo, "fix": fix_photo}


@dataclass(frozen=True)
class Result:
    per_second: float
    cpu_ms: float  # process CPU time per photo, all threads
    idle_mb: float  # resident high-water mark with the models loaded, before any photo
    peak_mb: float


def _peak_mb() -> float:
    """This process's resident high-water mark (VmHWM; unlike ru_maxrss it starts afresh at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _loaded_models() -> None:
    """Everything a running server has loaded before its first photo."""
    network(FACE_DETECTION)
    network(FACE_MESH)
    network(SEGMENTATION)


def _measure(work: str, data: bytes, rounds: int) -> Result:
    _loaded_models()
    idle = _peak_mb()
    WORK[work](data)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        WORK[work](data)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Result(rounds / seconds, cpu / rounds * 1000, idle, _peak_mb())


def _bad_inputs(files: dict[str, bytes]) -> list[tuple[str, float, list[str]]]:
    _loaded_models()
    check_photo(id_photo_jpeg())
    timings = []
    for name, data in files.items():
        started = time.perf_counter()
        report = check_photo(data)
        timings.append((name, (time.perf_counter() - started) * 1000, report.codes))
    return timings


def main() -> None:
    load = os.getloadavg()[0]
    print(f"command: {COMMAND}   (fresh process per line, one caller thread; load average {load:.1f})")
    context = multiprocessing.get_context("spawn")
    for label, make in INPUTS.items():
        data = make()
        rounds = 20 if len(data) > 200_000 else 60
        for work in WORK:
            if work == "fix" and label == "295x413 JPEG":
                continue  # it already passes: the fixer hands back the same bytes
            with context.Pool(1) as pool:
                result = pool.apply(_measure, (work, data, rounds))
            print(
                f"{work:<5} {label:<17} {len(data):>8,} B  {result.per_second:6.1f} photos/s  "
                f"cpu {result.cpu_ms:5.0f} ms/photo  peak {result.peak_mb:4.0f} MB "
                f"(idle {result.idle_mb:.0f} MB)  n={rounds}",
                flush=True,
            )
    files = {name: make() for name, make in BAD_INPUTS.items()}
    with context.Pool(1) as pool:
        timings = pool.apply(_bad_inputs, (files,))
    name, slowest, codes = max(timings, key=lambda timing: timing[1])
    print(f"bad input: {len(timings)} files, slowest {slowest:.0f} ms ({name}: {', '.join(codes)})")
    for name, milliseconds, codes in timings:
        print(f"  {name:<22} {milliseconds:6.0f} ms  {', '.join(codes)}")


if __name__ == "__main__":
    main()
