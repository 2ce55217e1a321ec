"""The fixer turns one phone photo into a file both systems accept, or says why it cannot."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from services.photos import BOTH_BACKGROUNDS, MAX_BYTES, WHITE_ONLY, check_photo, fix_photo, mesh
from services.photos.faces import Face, detect
from services.photos.fix import _jpeg, encode_jpeg
from tests.photos.synth import (
    ID_BLUE,
    Placement,
    cat,
    encode,
    face_wall,
    group,
    id_photo_jpeg,
    portrait,
    stored_for_orientation,
)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def measured_face(data: bytes) -> Face:
    """The main face of a JPEG as the check measures it: on its face mesh."""
    rgb = np.asarray(opened(data))
    found = detect(rgb)[0]
    return mesh.fit(rgb, found).face(found.confidence)


def test_a_phone_photo_becomes_a_295x413_jpeg_that_passes() -> None:
    """12 megapixels, held upright (EXIF 6), small head, 700 KB: all fixable, one pass."""
    shown = portrait(3024, 4032, face_height=0.2, face_top=0.3)
    data = encode(stored_for_orientation(shown, 6), quality=92, orientation=6)
    outcome = fix_photo(data)
    assert {"file_size", "aspect", "face_size"} <= set(outcome.original.codes)
    assert outcome.fixed is not None and outcome.fixed.changed
    assert len(outcome.fixed.data) <= MAX_BYTES
    assert check_photo(outcome.fixed.data).ok
    image = opened(outcome.fixed.data)
    assert image.format == "JPEG" and image.size == (295, 413) and image.mode == "RGB"
    assert image.info["dpi"] == (300, 300)
    assert not image.getexif() and "icc_profile" not in image.info and "exif" not in image.info


def test_the_frame_puts_the_head_where_an_id_photo_has_it() -> None:
    outcome = fix_photo(encode(portrait(1200, 1600, face_height=0.2, face_top=0.4, face_centre_x=0.3)))
    assert outcome.fixed is not None
    face = measured_face(outcome.fixed.data)
    assert 0.38 <= face.height / 413 <= 0.46
    assert abs((face.x + face.width / 2) - 295 / 2) < 15
    assert 0.22 <= face.y / 413 <= 0.30


def test_a_tilted_head_is_levelled() -> None:
    outcome = fix_photo(encode(portrait(600, 840, face_height=0.3, face_top=0.3, roll_degrees=15)))
    assert "head_tilt" in outcome.original.codes
    assert outcome.fixed is not None
    face = measured_face(outcome.fixed.data)
    assert abs(face.roll_degrees) < 2


def test_a_second_person_far_enough_away_is_cut_off() -> None:
    two = group(
        1200,
        1600,
        [
            Placement(face_height=0.2, face_top=0.3, face_centre_x=0.88),
            Placement(face_height=0.25, face_top=0.25, face_centre_x=0.4),
        ],
    )
    outcome = fix_photo(encode(two))
    assert "multiple_faces" in outcome.original.codes
    assert outcome.fixed is not None
    assert len(detect(np.asarray(opened(outcome.fixed.data)))) == 1


def test_a_backlit_face_is_brightened() -> None:
    outcome = fix_photo(encode(portrait(person_gamma=7)))
    assert outcome.original.codes == ["exposure"]
    assert outcome.fixed is not None and check_photo(outcome.fixed.data).ok


def test_a_photo_that_passes_is_kept_byte_for_byte() -> None:
    original = id_photo_jpeg()
    outcome = fix_photo(original)
    assert outcome.fixed is not None and outcome.fixed.changed is False
    assert outcome.fixed.data == original


def test_nothing_is_made_when_a_problem_needs_a_new_photo() -> None:
    for data in (encode(cat()), encode(portrait(background=face_wall()), quality=100)):
        outcome = fix_photo(data)
        assert not outcome.original.ok
        assert any(not p.fixable for p in outcome.original.problems)
        assert outcome.fixed is None


def test_the_jpeg_has_the_highest_quality_that_fits() -> None:
    picture = Image.fromarray(portrait())
    data = encode_jpeg(portrait())
    sizes = {quality: len(_jpeg(picture, quality)) for quality in range(40, 96)}
    best = max(quality for quality, size in sizes.items() if size <= MAX_BYTES)
    assert len(data) == sizes[best] <= MAX_BYTES
    assert best == 95 or sizes[best + 1] > MAX_BYTES
    assert len(encode_jpeg(portrait(), max_bytes=15_000)) <= 15_000


def test_an_even_wall_of_another_colour_is_made_white() -> None:
    for data, backgrounds in [
        (
            encode(portrait(900, 1200, face_height=0.3, face_top=0.3, background=(200, 200, 200))),
            BOTH_BACKGROUNDS,
        ),
        (encode(portrait(background=ID_BLUE)), WHITE_ONLY),  # blue will not do for the management system
    ]:
        outcome = fix_photo(data, backgrounds=backgrounds)
        assert "background" in outcome.original.codes
        assert outcome.fixed is not None
        corner = np.asarray(opened(outcome.fixed.data))[:40, :40]
        assert corner.min() >= 245
        assert check_photo(outcome.fixed.data, backgrounds=WHITE_ONLY).ok


def test_a_photo_taken_from_further_away_is_found_and_fixed() -> None:
    """The face a tenth of the photo's height: too small for the detector's view of the whole
    picture, it is found in the picture's tiles and framed like any other."""
    outcome = fix_photo(encode(portrait(1512, 2016, face_height=0.1, face_top=0.3)))
    assert set(outcome.original.codes) <= {"file_size", "aspect", "face_size"}, outcome.original.problems
    assert outcome.fixed is not None and check_photo(outcome.fixed.data).ok
    face = measured_face(outcome.fixed.data)
    assert 0.38 <= face.height / 413 <= 0.46
