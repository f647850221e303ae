"""pngfile: images saved with their record, and metadata read back from any image."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from image_helpers import (
    A1111_TEXT,
    NON_LATIN,
    SECRET,
    image_bytes,
    kept_open,
    make_record,
)
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from heurist_ui import pngfile
from heurist_ui.errors import HeuristError, ImageDownloadError
from heurist_ui.infotext import format_infotext
from heurist_ui.pngfile import read_png_metadata, save_png


@pytest.mark.parametrize(
    "changes",
    [{}, {"prompt": NON_LATIN, "neg_prompt": "模糊 😡"}, {"prompt": "two\nlines", "seed": 0}],
)
def test_save_png_round_trips_metadata(tmp_path: Path, changes: dict) -> None:
    record = make_record(**changes)
    path = save_png(image_bytes(), record, tmp_path)

    record["url"] = record["url"].split("?")[0]  # the signed part stays out of files
    expected = (format_infotext(record), record)
    assert read_png_metadata(path) == expected
    assert read_png_metadata(str(path)) == expected
    assert read_png_metadata(path.read_bytes()) == expected
    with Image.open(path) as image:
        assert read_png_metadata(image) == expected
        assert image.text["parameters"] == format_infotext(record)
        assert json.loads(image.text["heurist"]) == record
        assert image.size == (8, 6)


def test_save_png_keeps_a_pngs_pixel_data_and_replaces_old_metadata(tmp_path: Path) -> None:
    # PNG answers get their text chunks added, not a decode and re-encode; stale copies go.
    info = PngInfo()
    info.add_text("parameters", "an older prompt")
    info.add_text("Software", "miner")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buffer, format="PNG", pnginfo=info)
    source = buffer.getvalue()
    record = make_record(prompt=NON_LATIN)

    path = save_png(source, record, tmp_path)

    record["url"] = record["url"].split("?")[0]  # the signed part stays out of files
    start = source.index(b"IDAT") - 4
    idat_chunk = source[start : start + 12 + int.from_bytes(source[start : start + 4], "big")]
    assert idat_chunk in path.read_bytes()
    with Image.open(path) as image:
        assert image.text == {
            "Software": "miner",
            "parameters": format_infotext(record),
            "heurist": json.dumps(record, ensure_ascii=False),
        }
        assert image.getpixel((0, 0)) == (10, 200, 30)


def test_save_png_names_files_by_date_time_seed_model_and_job(tmp_path: Path) -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, 89)
    path = save_png(image_bytes(), make_record(), tmp_path / "out", now=now)
    assert path == tmp_path / "out" / "2025-03-04" / "050607-000089_123_SDXL_89abcdef.png"
    assert path.is_file()


def test_save_png_uses_the_current_time_by_default(tmp_path: Path) -> None:
    path = save_png(image_bytes(), make_record(seed=-1), tmp_path)
    assert path.parent.name == datetime.now().strftime("%Y-%m-%d")
    assert re.fullmatch(r"\d{6}-\d{6}_-1_SDXL_89abcdef\.png", path.name)


def test_save_png_makes_model_ids_safe_for_file_names(tmp_path: Path) -> None:
    record = make_record(model_id="../My Model:v2/(beta)", job_id="x/y")
    path = save_png(image_bytes(), record, tmp_path, now=datetime(2025, 1, 1))
    assert path.parent == tmp_path / "2025-01-01"
    assert path.name == "000000-000000_123_My-Model-v2-beta_xy.png"


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"seed": 0}, "000000-000000_0_SDXL_89abcdef.png"),
        ({"seed": None, "model_id": None, "job_id": None}, "000000-000000_noseed_model_nojob.png"),
        ({"seed": 5.0, "model_id": "///"}, "000000-000000_5_model_89abcdef.png"),
    ],
)
def test_save_png_names_files_without_every_field(tmp_path: Path, changes: dict, name: str):
    path = save_png(image_bytes(), make_record(**changes), tmp_path, now=datetime(2025, 1, 1))
    assert path.name == name


def test_save_png_never_overwrites(tmp_path: Path) -> None:
    now = datetime(2025, 1, 1)
    first = save_png(image_bytes(), make_record(), tmp_path, now=now)
    second = save_png(image_bytes(), make_record(), tmp_path, now=now)
    assert first != second
    assert sorted(p.name for p in first.parent.iterdir()) == sorted([first.name, second.name])


def test_save_png_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_png(image_bytes(), make_record(), tmp_path)
    assert list(path.parent.iterdir()) == [path]

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pngfile.os, "replace", disk_full)
    with pytest.raises(HeuristError, match=r"could not be saved.*No space left"):
        save_png(image_bytes(), make_record(seed=7), tmp_path)
    assert list(path.parent.iterdir()) == [path]


def test_save_png_refuses_data_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageDownloadError, match="not a readable PNG, JPEG or WebP"):
        save_png(b"<html>expired</html>", make_record(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("mode", "fmt", "saved_mode"),
    [
        ("RGB", "PNG", "RGB"),
        ("RGBA", "PNG", "RGBA"),
        ("L", "PNG", "L"),
        ("LA", "PNG", "LA"),
        ("P", "PNG", "P"),
        ("I;16", "PNG", "I;16"),
    ],
)
def test_save_png_keeps_colour_mode_when_png_can(
    tmp_path: Path, mode: str, fmt: str, saved_mode: str
) -> None:
    path = save_png(image_bytes(mode, fmt=fmt), make_record(), tmp_path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == saved_mode


def test_read_png_metadata_reads_a1111_pngs(tmp_path: Path) -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT)
    path = tmp_path / "00001-3361239383.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    assert read_png_metadata(path) == (A1111_TEXT, None)


def test_read_png_metadata_reads_a1111_jpeg_user_comment() -> None:
    exif = Image.Exif()
    # A1111 writes the infotext with piexif: "UNICODE\0" then UTF-16 big-endian.
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + A1111_TEXT.encode("utf-16-be")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG", exif=exif)
    assert read_png_metadata(buffer.getvalue()) == (A1111_TEXT, None)


def test_read_png_metadata_reads_info_of_an_image_in_memory() -> None:
    image = Image.new("RGB", (4, 4))
    image.info["parameters"] = NON_LATIN
    assert read_png_metadata(image) == (NON_LATIN, None)


def test_read_png_metadata_ignores_a_broken_record() -> None:
    info = PngInfo()
    info.add_text("parameters", "a cat")
    info.add_text("heurist", "{not json")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG", pnginfo=info)
    assert read_png_metadata(buffer.getvalue()) == ("a cat", None)


@pytest.mark.parametrize(
    "source",
    [b"", b"not an image at all", image_bytes()[:40], None, 123, "/no/such/file.png", "."],
)
def test_read_png_metadata_never_raises(source: object) -> None:
    assert read_png_metadata(source) == (None, None)  # type: ignore[arg-type]


def test_read_png_metadata_without_metadata_gives_nones() -> None:
    assert read_png_metadata(image_bytes()) == (None, None)


def _chunk_kinds(data: bytes) -> list[bytes]:
    kinds, position = [], 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kinds.append(data[position + 4 : position + 8])
        position += 12 + length
    return kinds


def test_parameters_sit_before_the_pixels_so_the_usual_one_liner_finds_them(tmp_path):
    path = save_png(image_bytes(size=(64, 48)), make_record(), tmp_path)
    kinds = _chunk_kinds(path.read_bytes())
    assert kinds.index(b"tEXt") < kinds.index(b"IDAT")
    assert Image.open(path).info["parameters"].startswith("a lighthouse at dusk\n")


def test_sd_parsers_reads_our_pngs(tmp_path):
    from sd_parsers import ParserManager

    path = save_png(image_bytes(size=(64, 48)), make_record(), tmp_path)
    info = ParserManager().parse(kept_open(path))
    (sampler,) = info.samplers
    assert [p.value for p in sampler.prompts] == ["a lighthouse at dusk"]
    assert [p.value for p in sampler.negative_prompts] == ["blurry, low quality"]
    assert sampler.parameters == {"cfg_scale": "7", "seed": "123", "steps": "20"}
    assert sampler.model.name == "SDXL"
    assert info.metadata["Size"] == "1024x768"


def test_sd_prompt_reader_reads_our_pngs(tmp_path):
    from sd_prompt_reader.image_data_reader import ImageDataReader

    path = save_png(image_bytes(size=(64, 48)), make_record(), tmp_path)
    reader = ImageDataReader(str(path))
    assert (reader.positive, reader.negative) == ("a lighthouse at dusk", "blurry, low quality")
    assert reader.parameter["model"] == "SDXL"
    assert (reader.parameter["seed"], reader.parameter["cfg"]) == ("123", "7")
    assert (reader.parameter["steps"], reader.parameter["size"]) == ("20", "1024x768")


def test_a_saved_png_keeps_no_signed_link(tmp_path):
    path = save_png(image_bytes(), make_record(), tmp_path)
    data = path.read_bytes()
    assert SECRET.encode() not in data and b"X-Amz" not in data
    _, record = read_png_metadata(path)
    assert record["url"] == "https://heurist-images.s3.us-east-1.amazonaws.com/x.png"


def test_an_unwritable_output_folder_is_refused_without_naming_it(tmp_path):
    from heurist_ui.pngfile import check_output_dir

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    with pytest.raises(HeuristError, match="nothing was sent") as raised:
        check_output_dir(blocked / "out")
    assert str(tmp_path) not in str(raised.value)


# --- JPEG and WebP answers: kept as they came, with the metadata added --------------------------


def _jpeg_segments(data: bytes) -> list[bytes]:
    """The marker segments between SOI and SOS (a test's own reading of the format)."""
    segments, position = [], 2
    while data[position + 1] != 0xDA:
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        segments.append(data[position:end])
        position = end
    return segments


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    chunks, position = [], 12
    while position < len(data):
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        chunks.append((data[position : position + 4], data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    assert position == len(data)
    return chunks


def _photo(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """An image with detail, so encoders have pixels to keep or lose."""
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    return Image.merge("RGB", [*image.split()[:2], Image.effect_noise(size, 40)])


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _old_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0131] = "miner 1.0"  # Software
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0an older prompt"
    return exif


@pytest.mark.parametrize("changes", [{}, {"prompt": NON_LATIN, "neg_prompt": "a & <b> </heurist>"}])
def test_save_png_keeps_a_jpeg_as_it_came_with_the_metadata_added(tmp_path: Path, changes: dict):
    source = _encoded(_photo(), "JPEG", quality=90, exif=_old_exif())
    record = make_record(**changes)

    path = save_png(source, record, tmp_path)

    record["url"] = record["url"].split("?")[0]  # the signed part stays out of files
    saved = path.read_bytes()
    assert path.suffix == ".jpg"
    assert read_png_metadata(path) == (format_infotext(record), record)
    assert SECRET.encode() not in saved and b"an older prompt" not in saved
    exif_segment, xmp_segment, *rest = _jpeg_segments(saved)
    assert (
        exif_segment[4:10] == b"Exif\0\0" and xmp_segment[4:33] == b"http://ns.adobe.com/xap/1.0/\0"
    )
    old = [s for s in _jpeg_segments(source) if not s[4:].startswith(b"Exif\0\0")]
    assert rest == old  # JFIF, tables, frame header: all as they were
    scan = source.index(b"\xff\xda")
    assert saved.endswith(source[scan:])  # the compressed pixels, byte for byte
    with Image.open(path) as image, Image.open(io.BytesIO(source)) as original:
        assert image.getexif().get_ifd(0x8769)[0x9286].startswith(b"UNICODE\0")
        assert image.tobytes() == original.tobytes()


def test_save_png_replaces_a_jpegs_own_xmp(tmp_path: Path) -> None:
    xmp = b"<x:xmpmeta><heurist:record>{}</heurist:record></x:xmpmeta>"
    source = _encoded(_photo(), "JPEG", xmp=xmp)
    path = save_png(source, make_record(), tmp_path)
    segments = _jpeg_segments(path.read_bytes())
    assert sum(s[4:].startswith(b"http://ns.adobe.com/xap/1.0/\0") for s in segments) == 1
    assert read_png_metadata(path)[1]["job_id"] == make_record()["job_id"]


@pytest.mark.parametrize(
    ("options", "image_chunks"),
    [
        ({"quality": 80}, [b"VP8 "]),
        ({"lossless": True}, [b"VP8L"]),
        ({"quality": 80, "exif": _old_exif(), "xmp": b"<old/>"}, [b"VP8 "]),
    ],
)
def test_save_png_keeps_a_webp_as_it_came_with_the_metadata_added(
    tmp_path: Path, options: dict, image_chunks: list[bytes]
) -> None:
    source = _encoded(_photo((97, 51)), "WEBP", **options)
    record = make_record(prompt=NON_LATIN)

    path = save_png(source, record, tmp_path)

    record["url"] = record["url"].split("?")[0]
    saved = path.read_bytes()
    assert path.suffix == ".webp"
    assert read_png_metadata(path) == (format_infotext(record), record)
    assert SECRET.encode() not in saved and b"an older prompt" not in saved
    chunks = _riff_chunks(saved)
    assert [kind for kind, _ in chunks] == [b"VP8X", *image_chunks, b"EXIF", b"XMP "]
    vp8x = chunks[0][1]
    assert vp8x[0] == 0x08 | 0x04  # EXIF and XMP, no alpha
    assert (int.from_bytes(vp8x[4:7], "little") + 1, int.from_bytes(vp8x[7:10], "little") + 1) == (
        97,
        51,
    )
    original = dict(_riff_chunks(source))
    for kind in image_chunks:
        assert dict(chunks)[kind] == original[kind]  # the compressed pixels, byte for byte
    with Image.open(path) as image, Image.open(io.BytesIO(source)) as decoded:
        assert image.tobytes() == decoded.tobytes()


def test_save_png_keeps_a_webps_alpha(tmp_path: Path) -> None:
    image = _photo()
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    source = _encoded(image, "WEBP", lossless=True)  # a simple VP8L file, alpha in its bitstream

    path = save_png(source, make_record(), tmp_path)

    chunks = _riff_chunks(path.read_bytes())
    assert chunks[0][1][0] & 0x10  # the VP8X alpha flag
    with Image.open(path) as saved:
        assert saved.mode == "RGBA"
        assert saved.tobytes() == image.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_save_png_names_jpeg_and_webp_files_by_their_format(tmp_path: Path, fmt: str) -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, 89)
    suffix = {"JPEG": ".jpg", "WEBP": ".webp"}[fmt]
    first = save_png(image_bytes(fmt=fmt), make_record(), tmp_path, now=now)
    second = save_png(image_bytes(fmt=fmt), make_record(), tmp_path, now=now)
    assert first.name == f"050607-000089_123_SDXL_89abcdef{suffix}"
    assert second.name == f"050607-000089_123_SDXL_89abcdef-2{suffix}"


@pytest.mark.parametrize(
    "broken",
    [
        _encoded(_photo(), "JPEG")[:-300],  # a download cut short
        _encoded(_photo(), "JPEG")[:2] + b"\xff\xe1\xff\xff" + b"\0" * 40,
        _encoded(_photo(), "WEBP")[:-40],
        _encoded(_photo(), "WEBP")[:20] + b"\0" * 60,
    ],
)
def test_save_png_refuses_a_broken_jpeg_or_webp(tmp_path: Path, broken: bytes) -> None:
    with pytest.raises(ImageDownloadError, match="not a readable PNG, JPEG or WebP"):
        save_png(broken, make_record(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_save_png_saves_a_png_when_the_metadata_outgrows_a_jpeg_segment(tmp_path: Path):
    record = make_record(prompt="🌅" * 17_000, neg_prompt="")  # 68 kB in UTF-16
    path = save_png(_encoded(_photo(), "JPEG"), record, tmp_path)
    record["url"] = record["url"].split("?")[0]
    assert path.suffix == ".png"
    assert read_png_metadata(path) == (format_infotext(record), record)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_third_party_readers_read_our_jpeg_and_webp_files(tmp_path: Path, fmt: str) -> None:
    from sd_parsers import ParserManager
    from sd_prompt_reader.image_data_reader import ImageDataReader

    path = save_png(image_bytes(fmt=fmt, size=(64, 48)), make_record(), tmp_path)
    (sampler,) = ParserManager().parse(kept_open(path)).samplers
    assert [p.value for p in sampler.prompts] == ["a lighthouse at dusk"]
    assert sampler.parameters == {"cfg_scale": "7", "seed": "123", "steps": "20"}
    reader = ImageDataReader(str(path))
    assert (reader.positive, reader.negative) == ("a lighthouse at dusk", "blurry, low quality")
    assert reader.parameter["seed"] == "123"
