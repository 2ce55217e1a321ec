"""The photo check: every problem of one photo, in the trainee's words, with what `--fix` can mend.

`analyse` keeps what the fixer needs (the upright picture, the face, the frame to cut); `check_photo`
is the public verdict. Both are synchronous CPU work: from async code use `check_photo_async`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field

import cv2
import numpy as np

from services.photos import framing, measures, mesh, segment
from services.photos.faces import Face, detect
from services.photos.loading import Loaded, Unusable, load
from services.photos.measures import Background, BackgroundReading
from services.photos.problems import CODES, MAX_BYTES, TARGET_HEIGHT, TARGET_WIDTH, Problem

CHECK_LONG_SIDE = 1000
BOTH_BACKGROUNDS: tuple[Background, ...] = ("white", "blue")
WHITE_ONLY: tuple[Background, ...] = ("white",)  # the management system's rule
# Other faces smaller than this share of the main face's height are prints, badges or noise.
OTHER_FACE_MIN_SHARE = 0.35
_TURNS = (1, 3, 2)  # quarter turns (numpy rot90) tried when no upright face is found
SIDEWAYS_DEGREES = 45.0  # a face rolled further than this lies on its side: the photo is turned
_BACKGROUND_NAMES = {"white": "白色", "blue": "蓝色"}


@dataclass
class Analysis:
    """What the check found, kept for the fixer."""

    size_bytes: int
    loaded: Loaded | None
    problems: list[Problem] = field(default_factory=list)
    face: Face | None = None
    quarter_turns: int = 0
    mesh: mesh.Mesh | None = None  # of the main face
    crop: framing.Crop | None = None  # the standard frame, when it can be cut
    gamma: float = 1.0
    paint: Background | None = None  # the plain wall to put behind the person
    person: segment.PersonMask | None = None  # where the person is, when the wall is to be replaced

    @property
    def fixable(self) -> bool:
        return bool(self.problems) and all(p.fixable for p in self.problems)


@dataclass(frozen=True)
class Report:
    """The verdict on one photo (`problems` in a fixed order: the order of `CODES`)."""

    problems: tuple[Problem, ...]
    size_bytes: int
    file_format: str | None
    width: int | None
    height: int | None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def check_photo(
    data: bytes, *, backgrounds: Collection[Background] = BOTH_BACKGROUNDS, max_bytes: int = MAX_BYTES
) -> Report:
    """Check `data` against both systems' rules; `backgrounds` and `max_bytes` can only be narrowed
    (the management system alone wants white)."""
    return report_of(analyse(data, backgrounds=backgrounds, max_bytes=max_bytes))


def report_of(analysis: Analysis) -> Report:
    loaded = analysis.loaded
    return Report(
        problems=tuple(analysis.problems),
        size_bytes=analysis.size_bytes,
        file_format=loaded.file_format if loaded else None,
        width=loaded.width if loaded else None,
        height=loaded.height if loaded else None,
    )


async def check_photo_async(
    data: bytes, *, backgrounds: Collection[Background] = BOTH_BACKGROUNDS, max_bytes: int = MAX_BYTES
) -> Report:
    """`check_photo` in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(check_photo, data, backgrounds=backgrounds, max_bytes=max_bytes)


def analyse(
    data: bytes,
    *,
    backgrounds: Collection[Background] = BOTH_BACKGROUNDS,
    max_bytes: int = MAX_BYTES,
) -> Analysis:
    analysis = Analysis(size_bytes=len(data), loaded=None)
    try:
        loaded = load(data, long_side=CHECK_LONG_SIDE)
    except Unusable as refusal:
        analysis.problems = [refusal.problem]
        return analysis
    analysis.loaded = loaded
    found: list[Problem] = []
    if loaded.format_faults:
        found.append(Problem("format", "；".join(loaded.format_faults), fixable=True))
    limit = min(max_bytes, MAX_BYTES)
    if len(data) > limit:
        message = f"照片有 {len(data):,} 字节，不能超过 {limit:,} 字节（约 {limit // 1024}KB）"
        found.append(Problem("file_size", message, fixable=True))
    faces = detect(loaded.rgb)
    if not faces or abs(faces[0].roll_degrees) > SIDEWAYS_DEGREES:
        faces = _find_turned_face(analysis, loaded, faces)
    faces = _confirmed(analysis, loaded.rgb, faces)
    _judge_picture(analysis, loaded, faces, found, backgrounds)
    analysis.problems = sorted(found, key=lambda p: CODES.index(p.code))
    return analysis


def _confirmed(analysis: Analysis, rgb: np.ndarray, faces: list[Face]) -> list[Face]:
    """The faces with the main one measured on its mesh (the detector's box moves when the same
    photo is saved again). The detector also answers for a cat's face now and then; the mesh's own
    face score does not, so a main face the mesh disowns is dropped and the next one tried."""
    while faces:
        fitted = mesh.fit(rgb, faces[0])
        if fitted.score >= mesh.MIN_FACE_SCORE:
            analysis.mesh = fitted
            return [fitted.face(faces[0].confidence), *faces[1:]]
        faces = faces[1:]
    return faces


def _find_turned_face(analysis: Analysis, loaded: Loaded, faces: list[Face]) -> list[Face]:
    """A photo lying on its side (no EXIF tag) shows no upright face, or one lying down (the
    detector finds some): try it turned, first by the quarter turns that would stand that face up."""
    turns_to_try: tuple[int, ...] = _TURNS
    if faces:
        upright = round(faces[0].roll_degrees / 90) % 4
        turns_to_try = (upright, *(turns for turns in _TURNS if turns != upright))
    for turns in turns_to_try:
        turned = np.ascontiguousarray(np.rot90(loaded.rgb, turns))
        found = detect(turned) if turns else []
        if found and abs(found[0].roll_degrees) <= SIDEWAYS_DEGREES:
            analysis.quarter_turns = turns
            loaded.rgb = turned
            if turns % 2:
                loaded.width, loaded.height = loaded.height, loaded.width
            return found
    return faces


def _judge_picture(
    analysis: Analysis,
    loaded: Loaded,
    faces: list[Face],
    found: list[Problem],
    backgrounds: Collection[Background],
) -> None:
    rgb = loaded.rgb
    face = faces[0] if faces else None
    analysis.face = face
    reading = measures.read_background(rgb, faces)
    _judge_background(analysis, rgb, reading, backgrounds, found)
    if measures.is_grayscale(rgb):
        found.append(Problem("grayscale", "照片是黑白的，要用彩色照片"))
    framing_problems = _framing_problems(analysis, loaded)
    if face is None:
        found.append(Problem("no_face", "照片里没有找到人脸，请正对镜头、露出整张脸重拍"))
        found.extend(framing_problems)
        return
    height, width = rgb.shape[:2]
    crop = framing.standard_crop(face, level=abs(face.roll_degrees) > framing.MAX_TILT_DEGREES)
    # an even wall, or one the fixer replaces, can be extended past the edge
    plain = (reading is not None and reading.uniform) or analysis.paint is not None
    verdict = framing.judge_crop(crop, width, height, scale=loaded.scale, can_pad=plain)
    if verdict.feasible:
        analysis.crop = crop
    _judge_face(analysis, rgb, faces, reading, verdict, found)
    found.extend(
        Problem(item.code, item.message, fixable=item.fixable or verdict.feasible)
        for item in framing_problems
    )


def _judge_face(
    analysis: Analysis,
    rgb: np.ndarray,
    faces: list[Face],
    reading: BackgroundReading | None,
    verdict: framing.CropVerdict,
    found: list[Problem],
) -> None:
    """The problems of the main face (`faces[0]`), given whether the standard frame can be cut."""
    face = faces[0]
    height, width = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    others = [f for f in faces[1:] if f.height >= OTHER_FACE_MIN_SHARE * face.height]
    if others:
        outside = analysis.crop is not None and not any(_overlaps(other, analysis.crop) for other in others)
        advice = "，自动修正会把别人裁掉" if outside else "，请单独重拍"
        found.append(Problem("multiple_faces", "照片里不止一个人，只能有您一个人" + advice, fixable=outside))

    light = measures.exposure(grey, face)
    lit = not (light.too_dark or light.too_bright)
    cut = framing.touches_edge(face, width, height) or framing.crown_cut(face)
    visible = measures.visibility(grey, face)
    half = visible.half_face_hidden or (
        reading is not None and measures.half_face_is_background(rgb, face, reading.colour)
    )
    if cut:
        found.append(
            Problem("face_incomplete", "脸或头顶被照片边缘切掉了，请把整个头部都拍进去，头顶上方留点空")
        )
    elif half:
        found.append(Problem("face_incomplete", "只露出了半边脸，请正对镜头、露出整张脸重拍"))
    glare = (
        analysis.mesh is not None
        and not (cut or half)
        and lit
        and analysis.mesh.glare_share(rgb) > mesh.MAX_GLARE_SHARE
    )
    occluded = not (cut or half or glare) and visible.feature_hidden and lit
    if glare:  # a white patch over an eye hides it too, but the cure is different
        found.append(
            Problem("glasses_glare", "眼镜反光挡住了眼睛，请摘下眼镜重拍，或换个角度避开灯光和窗户的反光")
        )
    elif occluded:  # in a washed-out or dark face the eyes show no detail either
        found.append(Problem("face_occluded", "眼睛或嘴巴被挡住了，请摘掉墨镜、口罩，头发和手不要挡脸"))

    share = face.height / height
    if not cut and not framing.MIN_FACE_HEIGHT <= share <= framing.MAX_FACE_HEIGHT:
        size_word = "太小" if share < framing.MIN_FACE_HEIGHT else "太大"
        advice = "自动修正会重新裁剪" if verdict.feasible else verdict.reason + "，请重拍"
        found.append(Problem("face_size", f"头像在照片里{size_word}，{advice}", fixable=verdict.feasible))

    roll = abs(face.roll_degrees)
    if roll > framing.MAX_TILT_DEGREES:
        fixable = verdict.feasible and roll <= framing.MAX_FIXABLE_TILT_DEGREES
        found.append(Problem("head_tilt", f"头歪了约 {roll:.0f} 度，请坐正、两眼保持水平", fixable=fixable))

    if analysis.mesh is not None and not (cut or half or occluded or glare):
        _judge_expression(analysis.mesh, grey, face, found)

    if measures.sharpness(grey, face) < measures.MIN_SHARPNESS:
        found.append(Problem("blurry", "照片模糊，请对好焦、拿稳手机，在光线充足的地方重拍"))

    if not lit and not (cut or half):
        word = "太暗" if light.too_dark else "太亮"
        advice = "（也可自动调整）" if light.fixable else ""
        found.append(
            Problem("exposure", f"脸部{word}，请在明亮均匀的光线下重拍{advice}", fixable=light.fixable)
        )
        if light.fixable:
            analysis.gamma = light.gamma()


def _judge_expression(face_mesh: mesh.Mesh, grey: np.ndarray, face: Face, found: list[Problem]) -> None:
    """Pose, eyes and mouth from the mesh: none of them can be mended, so each asks for a new photo."""
    yaw, pitch, _roll = face_mesh.pose
    if abs(yaw) > mesh.MAX_YAW_DEGREES:
        found.append(Problem("head_yaw", f"脸侧转了约 {abs(yaw):.0f} 度，请正脸对着镜头重拍"))
    nod = pitch - mesh.LEVEL_PITCH_DEGREES
    if abs(nod) > mesh.MAX_PITCH_DEGREES:
        word = "头抬得太高" if nod > 0 else "头低下去了"
        found.append(Problem("head_pitch", f"{word}，请平视镜头、下巴放平重拍"))
    centre = measures.face_centre(grey, face)
    face_mean = float(centre.mean()) if centre.size else 128.0
    shut = face_mesh.eye_openness < mesh.SHUT_EYE_OPENNESS
    if shut and face_mesh.iris_share(grey, face_mean) < mesh.IRIS_DARK_SHARE:
        found.append(Problem("eyes_closed", "眼睛闭上了，请睁开眼睛看着镜头重拍"))
    if face_mesh.mouth_openness > mesh.OPEN_MOUTH:
        found.append(Problem("mouth_open", "嘴张开了，请自然地闭上嘴重拍"))


def _judge_background(
    analysis: Analysis,
    rgb: np.ndarray,
    reading: BackgroundReading | None,
    backgrounds: Collection[Background],
    found: list[Problem],
) -> None:
    """A wall that is not plain white (or blue, where allowed) is replaced by the fixer when the
    person can be told from it; only then is it fixable."""
    wanted = "或".join(_BACKGROUND_NAMES[b] for b in BOTH_BACKGROUNDS if b in backgrounds)
    if reading is None or (reading.kind in backgrounds and reading.uniform):
        return
    paint: Background = "white" if "white" in backgrounds else "blue"
    person = segment.person_mask(rgb, analysis.face) if analysis.face is not None else None
    fault = f"背景不干净，要是一整片纯{wanted}" if not reading.uniform else f"背景要是纯{wanted}"
    if person is not None and person.trusted:
        analysis.paint, analysis.person = paint, person
        advice = f"，自动修正会把背景换成纯{_BACKGROUND_NAMES[paint]}"
        found.append(Problem("background", fault + advice, fixable=True))
    elif not reading.uniform:
        found.append(Problem("background", fault + "，不能有杂物、阴影或图案，请换个地方重拍"))
    else:
        found.append(Problem("background", fault + f"，请站在{wanted}的墙或幕布前重拍"))


def _framing_problems(analysis: Analysis, loaded: Loaded) -> list[Problem]:
    """Orientation, resolution and aspect of the photo as shown (after its EXIF turn, which phones
    use for every upright photo and is no fault): marked fixable here when the picture only lies on
    its side; the caller decides for the rest once it knows whether a good frame can be cut."""
    problems: list[Problem] = []
    if loaded.width > loaded.height:
        problems.append(Problem("orientation", "照片是横的，要竖着拍（竖版）"))
    elif analysis.quarter_turns:
        problems.append(Problem("orientation", "照片是躺倒或翻转的，要转正（自动修正会处理）", fixable=True))
    if loaded.width < TARGET_WIDTH or loaded.height < TARGET_HEIGHT:
        problems.append(
            Problem(
                "resolution",
                f"照片只有 {loaded.width}x{loaded.height} 像素，至少要 {TARGET_WIDTH}x{TARGET_HEIGHT}",
            )
        )
    aspect = loaded.width / loaded.height
    if abs(aspect / framing.TARGET_ASPECT - 1) > framing.ASPECT_TOLERANCE and loaded.width <= loaded.height:
        problems.append(Problem("aspect", "照片比例不对，要是一寸照的宽高比 25:35（如 295x413 像素）"))
    return problems


def _overlaps(face: Face, crop: framing.Crop) -> bool:
    return not (
        face.x + face.width <= crop.x
        or face.x >= crop.right
        or face.y + face.height <= crop.y
        or face.y >= crop.bottom
    )
