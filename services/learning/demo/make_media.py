"""Make the demo course videos: an ffmpeg test pattern with the course code and title, no sound.

The generated files are committed (a few KB each), so a fresh machine needs no ffmpeg; run this
again after adding a course to the demo catalog. Existing files are kept unless --force is given.

    python -m services.learning.demo.make_media [--force]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import yaml

DEMO_DIR = Path(__file__).parent
MEDIA_DIR = DEMO_DIR / "media"
FONT_CANDIDATES = (
    DEMO_DIR.parents[1] / "documents" / "fonts" / "DroidSansFallback.ttf",
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)


def _font() -> Path:
    for candidate in FONT_CANDIDATES:
        if candidate.exists():
            return candidate
    raise SystemExit("no font with Chinese glyphs found; install fonts-droid-fallback")


def _escape(text: str) -> str:
    """drawtext treats : ' and \\ specially."""
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def make_video(target: Path, *, code: str, title: str, seconds: int, font: Path) -> None:
    caption = (
        f"drawbox=y=ih/2-34:w=iw:h=68:color=black@0.6:t=fill,"
        f"drawtext=fontfile={font}:text='{_escape(code)}':fontcolor=white:fontsize=16:"
        f"x=(w-text_w)/2:y=h/2-28,"
        f"drawtext=fontfile={font}:text='{_escape(title)}':fontcolor=white:fontsize=18:"
        f"x=(w-text_w)/2:y=h/2+2,"
        f"drawtext=fontfile={font}:text='%{{pts\\:hms}}':fontcolor=white:fontsize=14:x=8:y=h-22"
    )
    command = [
        "ffmpeg", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=12:duration={seconds}",
        "-vf", caption,
        "-c:v", "libvpx", "-b:v", "48k", "-auto-alt-ref", "0", "-an",
        str(target),
    ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - fixed program, arguments from our own catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="remake files that already exist")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is needed: apt-get install ffmpeg")
    catalog = yaml.safe_load((DEMO_DIR / "catalog.yml").read_text(encoding="utf-8"))
    font = _font()
    MEDIA_DIR.mkdir(exist_ok=True)
    for course in catalog["courses"]:
        target = MEDIA_DIR / course["media"]
        if target.exists() and not args.force:
            continue
        make_video(target, code=course["code"], title=course["title"], seconds=course["duration"], font=font)
        print(f"{target.name}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
