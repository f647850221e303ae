"""Video: Heurist's two text-to-video workflows as job kinds, and saving videos with their record.

Hunyuan (workflow "1") takes a prompt only and gives a fixed 848×480, 73-frame, 24 fps MP4.
Mochi (workflow "2") takes the settings in MOCHI_SETTINGS and gives an animated WebP. An MP4
keeps its record as the container's `comment` tag (the streams are copied, not re-encoded); a
WebP in its XMP, as still images do; where neither works, a .json file beside the video.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import HeuristError, ImageDownloadError
from .jobkinds import Setting, WorkflowJob, WorkflowKind
from .pngfile import _file_name, _free_path, find_saved, save_png

log = logging.getLogger(__name__)

RECORD_TAG = "comment"  # the MP4 metadata tag that holds the JSON record
SIDECAR_SUFFIX = ".json"
VIDEO_SUFFIXES = (".mp4", ".webp")  # what the video kinds save
POSTER_SUFFIX = ".poster.jpg"  # an MP4's first frame, beside it, made when first shown
POSTER_WIDTH = 320
HUNYUAN_CREDITS = 25.0  # Heurist's credits page: "Hunyuan video, 5 seconds: 25 credits"
HUNYUAN_FORMAT = "848×480, 73 frames at 24 fps (about 3 s), 20 steps"

# Mochi, as the public ComfyUI miner bounds it: size 256-1024, length 16-128 frames. The
# miner does not bound steps, fps or quality: these ranges are ours, kept to sane values.
MOCHI_SETTINGS = (
    Setting("width", "Width", 256, 1024, 848, 16, "video width in pixels"),
    Setting("height", "Height", 256, 1024, 480, 16, "video height in pixels"),
    Setting("length", "Length (frames)", 16, 128, 31, 1, "number of frames"),
    Setting("steps", "Steps", 10, 100, 50, 1, "denoising steps; more is slower"),
    Setting("seed", "Seed", -1, 2**32 - 1, -1, 1, "-1 for random", allow_random=True),
    Setting("fps", "Frames per second", 1, 60, 24, 1, "playback speed"),
    Setting("quality", "Quality", 1, 100, 80, 1, "WebP quality of the output"),
)


def verify_mp4(data: bytes, url: str) -> None:
    """Raise ImageDownloadError unless data is a video PyAV can open."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.video:
                raise ValueError("no video stream")
    except Exception as exc:  # PyAV signals bad data with many exception types
        raise ImageDownloadError(
            "The downloaded file is not a playable MP4 video. Generate again."
        ) from exc


def verify_webp(data: bytes, url: str) -> None:
    """Raise ImageDownloadError unless data is a WebP image (animated or not)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=("WEBP",)) as image:
            image.verify()
    except Exception as exc:
        raise ImageDownloadError(
            "The downloaded file is not a WebP animation. Generate again."
        ) from exc


def save_mp4(data: bytes, record: dict[str, Any], output_dir: Path) -> Path:
    """Save an MP4 with its record in its metadata (a .json beside it if that fails)."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    now = datetime.now()
    folder = Path(output_dir) / now.strftime("%Y-%m-%d")
    try:
        tagged = with_record(data, text)
    except Exception:  # PyAV signals a container it cannot remux with many types
        log.warning("Could not write the record into the MP4; writing it beside the video")
        tagged = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_path(folder, _file_name(record, now, ".mp4"))
        _write(target, tagged or data)
        if tagged is None:
            _write(target.with_suffix(SIDECAR_SUFFIX), text.encode("utf-8"))
    except OSError as exc:
        raise HeuristError(
            f"The video could not be saved ({exc.strerror or type(exc).__name__}). Check that "
            "the output folder (HEURIST_OUTPUT_DIR) is writable and has space, then generate "
            "again."
        ) from exc
    return target


def save_webp(data: bytes, record: dict[str, Any], output_dir: Path) -> Path:
    """Save an animated WebP with its record in its XMP, as still images are saved."""
    return save_png(data, record, output_dir)


def _write(target: Path, data: bytes) -> None:
    temporary = target.parent / f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def with_record(data: bytes, record_json: str) -> bytes:
    """The MP4 with record_json as its comment tag; streams copied packet by packet."""
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source, av.open(out, "w", format="mp4") as target:
        target.metadata[RECORD_TAG] = record_json
        streams = {}
        for stream in source.streams:
            if stream.type in ("video", "audio"):
                streams[stream.index] = target.add_stream_from_template(stream)
        for packet in source.demux(*[source.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            target.mux(packet)
    return out.getvalue()


def read_video_record(path: str | Path) -> dict[str, Any] | None:
    """The record saved with a video (MP4 tag, WebP XMP, or .json beside it), or None."""
    path = Path(path)
    try:
        if path.suffix == ".mp4":
            import av

            with av.open(str(path)) as container:
                text = container.metadata.get(RECORD_TAG)
            if text is None and path.with_suffix(SIDECAR_SUFFIX).is_file():
                text = path.with_suffix(SIDECAR_SUFFIX).read_text(encoding="utf-8")
            record = json.loads(text) if text else None
        else:
            from .pngfile import read_png_metadata

            record = read_png_metadata(path)[1]
    except Exception:
        log.debug("No record readable from %s", path.name, exc_info=True)
        return None
    return record if isinstance(record, dict) else None


def poster_frame(path: str | Path) -> bytes:
    """The video's first frame as PNG bytes (an image an agent or a gallery can show)."""
    from PIL import Image

    path = Path(path)
    if path.suffix == ".mp4":
        import av

        with av.open(str(path)) as container:
            image = next(container.decode(video=0)).to_image()
    else:
        with Image.open(path, formats=("WEBP",)) as animation:
            animation.seek(0)
            image = animation.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def find_video(output_dir: str | Path, job_id: object) -> Path | None:
    """The saved video of this job in output_dir; None if it is gone (the cap deleted it)."""
    return find_saved(output_dir, job_id, VIDEO_SUFFIXES)


def poster_of(video: str | Path) -> Path:
    """A still to show for a saved video: an animated WebP is its own; an MP4 gets a small
    JPEG of its first frame beside it, made once (raises OSError or PyAV's errors if not)."""
    video = Path(video)
    if video.suffix != ".mp4":
        return video
    poster = video.with_name(video.stem + POSTER_SUFFIX)
    if not poster.is_file():
        from PIL import Image

        with Image.open(io.BytesIO(poster_frame(video))) as frame:
            frame.thumbnail((POSTER_WIDTH, POSTER_WIDTH))
            out = io.BytesIO()
            frame.convert("RGB").save(out, format="JPEG", quality=80)
        _write(poster, out.getvalue())
    return poster


def forget_poster(output_dir: str | Path, job_id: object) -> None:
    """Delete the poster left by a video that is gone (the cap deletes videos, not posters)."""
    poster = find_saved(output_dir, job_id, (POSTER_SUFFIX[-4:],))
    if poster is not None and poster.name.endswith(POSTER_SUFFIX):
        with contextlib.suppress(OSError):
            poster.unlink()


def _hunyuan_price(job: WorkflowJob) -> float:
    return HUNYUAN_CREDITS


HUNYUAN = WorkflowKind(
    name="hunyuan",
    label="Hunyuan video",
    workflow_id="1",
    task_type="txt2vid",
    extension="mp4",
    price=_hunyuan_price,
    price_note=f"Heurist's credits page: 25 credits for 5 s of Hunyuan. Video: {HUNYUAN_FORMAT}",
    verify=verify_mp4,
    save=save_mp4,
)

MOCHI = WorkflowKind(
    name="mochi",
    label="Mochi video",
    workflow_id="2",
    task_type="txt2vid",
    extension="webp",
    settings=MOCHI_SETTINGS,
    price_note="Heurist publishes no price for Mochi: the cost is unknown until you are billed",
    verify=verify_webp,
    save=save_webp,
)

VIDEO_KINDS = {kind.name: kind for kind in (HUNYUAN, MOCHI)}
