"""Photo-like sandbox images that weigh what real generations weigh, rendered cheaply.

`render_photo(width, height, fmt, seed=...)` answers PNG, JPEG (quality 90) or lossy WebP
bytes. At 1024×1024 they weigh about 1.6 MB, 300 KB and 160 KB, as photos do (placeholder art
compresses to almost nothing), and sizes scale with the pixels. The picture is a smooth
left-to-right colour ramp drawn from the seed over a film grain (blurred noise).

The grain is made once per size, wrapping from bottom to top, and cut into bands of BAND_ROWS
rows; each image starts at a band of its own and wraps around, with no seam. A PNG is never
encoded per image: inside a band, the PNG "Up" filter (each row minus the row above) cancels
the ramp, which only changes left to right, so those rows deflate to the same bytes in every
image and are compressed once per size (about 0.5 s at 1024², the first time). Each image
compresses only the first row of each band and splices the pieces into one zlib stream.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageChops, ImageFilter

PHOTO_FORMATS = ("png", "jpeg", "webp")
BAND_ROWS = 32
JPEG_QUALITY = 90
WEBP_QUALITY = 80
PNG_LEVEL = 6  # zlib's default, as Pillow and most PNG writers use
GRAIN_RADIUS = 2.5  # pixels: JPEG and WebP sizes depend on it most
GRAIN_MARGIN = 16  # rows wrapped around before blurring: more than the blur reaches
LUMA_GAIN = 5.0  # grey grain's contrast (blurred noise has a standard deviation of ~8)
CHROMA_GAIN = 0.5  # colour grain's: PNG sizes depend on it most
GRAIN_REACH = 72  # grain stays within 128 ± this...
RAMP_RANGE = (GRAIN_REACH, 255 - GRAIN_REACH)  # ...so ramp + grain never clips
RAMP_STOPS = 6

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ADLER_BASE = 65521


@dataclass(frozen=True)
class _Band:
    """BAND_ROWS rows of texture, and its rows after the first as Up-filtered deflate."""

    texture: Image.Image  # RGB, centred on 128
    deflated: bytes  # raw deflate of the filtered rows after the first, ending byte-aligned
    adler: int  # Adler-32 of those filtered rows
    length: int  # their length in bytes


def render_photo(width: int, height: int, fmt: str, *, seed: str | int) -> bytes:
    """A photo-like width×height image in fmt ("png", "jpeg" or "webp"), the same per seed."""
    if fmt not in PHOTO_FORMATS:
        raise ValueError(f"Unknown photo format {fmt!r}; use one of {PHOTO_FORMATS}")
    rng = random.Random(seed)
    bands = _texture_bands(width, height)
    roll = rng.randrange(len(bands))
    bands = bands[roll:] + bands[:roll]
    ramp = _ramp(width, rng)
    if fmt == "png":
        return _spliced_png(width, height, ramp, bands)
    image = _photo(width, height, ramp, bands)
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
    else:
        image.save(out, format="WEBP", quality=WEBP_QUALITY, method=0)
    return out.getvalue()


def _ramp(width: int, rng: random.Random) -> Image.Image:
    """One RGB row: RAMP_STOPS random colours blended smoothly from left to right."""
    stops = Image.new("RGB", (RAMP_STOPS, 1))
    stops.putdata([tuple(rng.randint(*RAMP_RANGE) for _ in "RGB") for _ in range(RAMP_STOPS)])
    return stops.resize((width, 1), Image.Resampling.BILINEAR)


def _photo(width: int, height: int, ramp: Image.Image, bands: tuple[_Band, ...]) -> Image.Image:
    """The pixels: the ramp on every row, plus the bands' texture stacked in this order."""
    texture = Image.new("RGB", (width, height))
    top = 0
    for band in bands:
        texture.paste(band.texture, (0, top))
        top += band.texture.height
    return ImageChops.add(ramp.resize((width, height), Image.Resampling.NEAREST), texture, 1, -128)


@lru_cache(maxsize=8)
def _texture_bands(width: int, height: int) -> tuple[_Band, ...]:
    """This size's texture, cut into bands, each with its constant part already deflated."""
    rng = random.Random(f"texture {width}x{height}")
    luma = _grain(Image.frombytes("L", (width, height), rng.randbytes(width * height)))
    chroma = _grain(Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)))
    texture = ImageChops.add(
        Image.merge("RGB", [luma.point(_contrast(LUMA_GAIN))] * 3),
        chroma.point(_contrast(CHROMA_GAIN) * 3),
        1,
        -128,
    )
    return tuple(
        _band(texture.crop((0, top, width, min(top + BAND_ROWS, height))))
        for top in range(0, height, BAND_ROWS)
    )


def _grain(noise: Image.Image) -> Image.Image:
    """noise blurred into grain, wrapping top to bottom so a rolled texture shows no seam."""
    width, height = noise.size
    margin = min(height, GRAIN_MARGIN)
    padded = Image.new(noise.mode, (width, height + 2 * margin))
    padded.paste(noise.crop((0, height - margin, width, height)), (0, 0))
    padded.paste(noise, (0, margin))
    padded.paste(noise.crop((0, 0, width, margin)), (0, height + margin))
    blurred = padded.filter(ImageFilter.GaussianBlur(GRAIN_RADIUS))
    return blurred.crop((0, margin, width, height + margin))


def _contrast(gain: float) -> list[int]:
    """A lookup table scaling values around 128, clamped to 128 ± GRAIN_REACH / 2."""
    reach = GRAIN_REACH // 2
    return [min(max(round(128 + (v - 128) * gain), 128 - reach), 128 + reach) for v in range(256)]


def _band(texture: Image.Image) -> _Band:
    rows = _up_filtered(texture)[_row_bytes(texture.width) :]
    compressor = zlib.compressobj(PNG_LEVEL, zlib.DEFLATED, -15)
    deflated = compressor.compress(rows) + compressor.flush(zlib.Z_FULL_FLUSH)
    return _Band(texture, deflated, zlib.adler32(rows), len(rows))


def _row_bytes(width: int) -> int:
    return 1 + 3 * width  # the filter type byte, then RGB


def _up_filtered(image: Image.Image) -> bytes:
    """PNG scanlines of image, each row stored as its difference from the row above ("Up")."""
    above = ImageChops.offset(image, 0, 1)  # row y now holds row y - 1 (the first, the last)
    raw = ImageChops.subtract_modulo(image, above).tobytes()
    stride = 3 * image.width
    return b"".join(b"\x02" + raw[start : start + stride] for start in range(0, len(raw), stride))


def _spliced_png(width: int, height: int, ramp: Image.Image, bands: tuple[_Band, ...]) -> bytes:
    """The PNG of _photo(...) from the bands' cached deflate plus each band's first row."""
    compressor = zlib.compressobj(PNG_LEVEL, zlib.DEFLATED, -15)
    pieces, adler = [], zlib.adler32(b"")
    for band in bands:
        first = (
            b"\x00" + ImageChops.add(ramp, band.texture.crop((0, 0, width, 1)), 1, -128).tobytes()
        )
        pieces.append(compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH))
        pieces.append(band.deflated)
        adler = _adler32_combine(zlib.adler32(first, adler), band.adler, band.length)
    pieces.append(compressor.flush())  # the final (empty) block
    stream = b"\x78\x01" + b"".join(pieces) + adler.to_bytes(4, "big")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND")


def _chunk(kind: bytes, body: bytes = b"") -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind)).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from theirs (zlib's adler32_combine)."""
    rem = second_length % _ADLER_BASE
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (second & 0xFFFF) + _ADLER_BASE - 1
    sum2 += (first >> 16) + (second >> 16) + _ADLER_BASE - rem
    return (sum1 % _ADLER_BASE) | ((sum2 % _ADLER_BASE) << 16)
