"""What a media file is, read from its bytes: type, MIME type, size, and a video's timing.

Images are read with Pillow (header and a full decode check, so a truncated file is caught
here rather than in a training loop), videos with PyAV (FFmpeg). Text is recognised by
extension and by decoding as UTF-8. Anything else, or anything broken, is a `MediaError`
that names the file and says what is wrong; the caller decides whether the batch goes on.
"""

from __future__ import annotations

import codecs
import mimetypes
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.error import FFmpegError
from PIL import Image, UnidentifiedImageError

from trainingdb.versioning.models.vocabulary import MediaType

TEXT_SUFFIXES = frozenset({".txt", ".md", ".json", ".jsonl", ".csv", ".tsv", ".xml", ".html"})
# Pillow refuses images above ~179 Mpx as a decompression bomb; training media this large is
# real (aerial tiles), so the bound is raised, not removed.
Image.MAX_IMAGE_PIXELS = 1 << 30


class MediaError(ValueError):
    """A file is not media trainingdb can read; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    media_type: MediaType
    mime: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frame_count: int | None = None
    duration: float | None = None


def probe(path: Path) -> MediaInfo:
    """probe: the media facts of `path`; MediaError naming the file if it cannot be read."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    if path.suffix.lower() in TEXT_SUFFIXES:
        return _text(path)
    image_error = _image_or_reason(path)
    if isinstance(image_error, MediaInfo):
        return image_error
    video = _video_or_reason(path)
    if isinstance(video, MediaInfo):
        return video
    raise MediaError(f"{path}: not a readable image or video ({image_error}; {video})")


def _text(path: Path) -> MediaInfo:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(1 << 20)
            # Bytes of a character cut by the previous chunk are decoded with this one.
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                where = offset - pending + error.start
                raise MediaError(f"{path}: not UTF-8 text (byte {where})") from None
            if not chunk:
                break
            offset += len(chunk)
    mime = mimetypes.guess_type(path.name)[0] or "text/plain"
    return MediaInfo(MediaType.TEXT, mime)


def _image_or_reason(path: Path) -> MediaInfo | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size, fmt = image.size, image.format
                mime = image.get_format_mimetype() or Image.MIME.get(fmt or "", "")
                image.load()  # decodes every byte: a truncated file fails here
    except UnidentifiedImageError:
        return "no image format recognised"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        if "truncated" in str(error).lower():
            raise MediaError(f"{path}: the image is truncated ({error})") from None
        return f"image: {error}"
    if fmt in ("MPO",) or not mime:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return MediaInfo(MediaType.IMAGE, mime, width=size[0], height=size[1])


def _video_or_reason(path: Path) -> MediaInfo | str:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "video: the file has no video stream"
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            frames = stream.frames or _count_frames(container, stream)
            duration = _seconds(stream.duration, stream.time_base)
            if duration is None and container.duration is not None:
                duration = container.duration / av.time_base
            if duration is None and rate:
                duration = frames / float(rate)
            width, height = stream.codec_context.width, stream.codec_context.height
            names = container.format.name.split(",")
    except (FFmpegError, OSError, ValueError) as error:
        return f"video: {error}"
    if not rate or not width or not height or frames == 0:
        return "video: no frames, frame rate or frame size"
    mime = mimetypes.guess_type(path.name)[0]
    if mime is None or not mime.startswith("video/"):
        mime = "video/mp4" if "mp4" in names else f"video/{names[0]}"
    return MediaInfo(
        MediaType.VIDEO,
        mime,
        width=width,
        height=height,
        fps=float(rate),
        frame_count=frames,
        duration=duration,
    )


def _count_frames(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Frames by demuxing (no decoding): for containers whose header does not say."""
    return sum(1 for packet in container.demux(stream) if packet.size)


def _seconds(duration: int | None, time_base: Fraction | None) -> float | None:
    if duration is None or time_base is None:
        return None
    return float(duration * time_base)
