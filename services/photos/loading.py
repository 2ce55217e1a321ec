"""Turn uploaded bytes into an upright 8-bit RGB picture, or say plainly why that is impossible.

Everything a phone or a careless export can produce passes through here first: empty files, text
renamed `.jpg`, truncated JPEGs, decompression bombs, HEIC, CMYK, 16-bit and transparent PNGs,
animated GIFs and every EXIF orientation. Large JPEGs are decoded at a reduced scale (libjpeg's DCT
scaling), so a 12-megapixel phone photo costs a fraction of a full decode.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

from services.photos.problems import Problem

# Larger than any phone's normal mode (48 MP); a 20000x20000 PNG bomb is refused before decoding.
# Only JPEGs can be decoded at a reduced scale, so other formats get a lower ceiling.
MAX_PIXELS = 64_000_000
MAX_PIXELS_FULL_DECODE = 25_000_000
MAX_FILE_BYTES = 50 * 1024 * 1024
ACCEPTED_FORMATS = ("JPEG", "PNG")
_EXIF_ORIENTATION = 0x0112
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What decoders raise on malformed input (Pillow's plugins are not consistent about it).
_DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
    Image.DecompressionBombError,
)


class Unusable(Exception):
    """The bytes cannot become a picture; `problem` says why in the trainee's words."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Loaded:
    """An upright RGB picture plus what the original file got wrong about its encoding."""

    rgb: np.ndarray  # height x width x 3, uint8, EXIF orientation applied
    width: int  # full size of the upright original, before any reduced decode
    height: int
    file_format: str
    exif_orientation: int
    format_faults: list[str] = field(default_factory=list)

    @property
    def scale(self) -> float:
        """Pixels of `rgb` per pixel of the original."""
        return self.rgb.shape[1] / self.width


def _unreadable(message: str) -> Unusable:
    return Unusable(Problem("unreadable", message))


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _png_bit_depth(data: bytes) -> int:
    return data[24] if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24 else 8


def load(data: bytes, *, long_side: int) -> Loaded:
    """Decode `data` so that the longer side is `long_side` to 1.5 x `long_side` pixels, or the
    picture's own size when smaller."""
    if not data:
        raise _unreadable("文件是空的（0 字节），请重新选择或重新拍一张照片")
    if len(data) > MAX_FILE_BYTES:
        raise _unreadable("文件太大了（超过 50MB），请上传普通的手机照片")
    if _is_heif(data):
        raise Unusable(
            Problem(
                "format", "这是苹果手机的 HEIC 格式，请在相机设置里选“兼容性最佳”后重拍，或截图后上传 JPG"
            )
        )
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _unreadable("图片的像素多得异常，无法打开，请上传普通的手机照片") from None
    except _DECODE_ERRORS:
        raise _unreadable("这个文件不是图片或已经损坏，请重新拍一张照片") from None
    with image:
        ceiling = MAX_PIXELS if image.format == "JPEG" else MAX_PIXELS_FULL_DECODE
        if image.width * image.height > ceiling:
            raise _unreadable("图片的像素多得异常，无法打开，请上传普通的手机照片")
        return _decode(image, data, long_side)


def _decode(image: Image.Image, data: bytes, long_side: int) -> Loaded:
    # Phones often write MPO: a plain JPEG followed by extra pictures (depth, HDR) it ignores.
    file_format = "JPEG" if image.format == "MPO" else image.format or ""
    faults: list[str] = []
    if file_format not in ACCEPTED_FORMATS:
        faults.append(f"照片是 {file_format or '未知'} 格式，只能用 JPG 或 PNG")
    if file_format != "JPEG" and getattr(image, "n_frames", 1) > 1:
        faults.append("这是一张动图，只能用静态照片")
    if image.mode == "CMYK":
        faults.append("照片是印刷用的 CMYK 颜色，要转成普通的 RGB 颜色")
    if _png_bit_depth(data) == 16:
        faults.append("照片是 16 位 PNG，很多系统打不开，要转成普通的 8 位图片")
    try:
        orientation = int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except _DECODE_ERRORS:
        orientation = 1
    width, height = image.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    try:
        if file_format == "JPEG" and max(image.size) > long_side:
            ratio = long_side / max(image.size)
            image.draft("RGB", (int(image.width * ratio) + 1, int(image.height * ratio) + 1))
        image.load()
        rgb = _to_rgb(image, faults)
        if orientation in _TRANSPOSE:
            rgb = rgb.transpose(_TRANSPOSE[orientation])
    except _DECODE_ERRORS:
        raise _unreadable("照片文件不完整（可能没有传完），请重新上传") from None
    if max(rgb.size) > long_side * 1.5:  # a JPEG's reduced decode is already close enough
        rgb.thumbnail((long_side, long_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Loaded(
        rgb=np.asarray(rgb),
        width=width,
        height=height,
        file_format=file_format,
        exif_orientation=orientation if orientation in _TRANSPOSE else 1,
        format_faults=faults,
    )


def _to_rgb(image: Image.Image, faults: list[str]) -> Image.Image:
    """8-bit RGB; transparency is laid on white, since that is the background the systems want."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image).astype(np.float64)
        if array.max(initial=0) > 255:
            array = array / 257
        return Image.fromarray(array.clip(0, 255).astype(np.uint8)).convert("RGB")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa")
    if has_alpha or (image.mode in ("P", "L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        if int(np.asarray(rgba)[..., 3].min()) < 255:
            faults.append("照片有透明的部分，要换成实色背景")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")
