"""How video frames are named in formats that name images, shared by importers and exporters.

COCO-video (the CocoVID layout of OpenMMLab's mmtracking, which TAO also follows) lists each
frame as an image of its video, and YOLO pairs `images/X.jpg` with `labels/X.txt`. A video's
frames, once extracted (`ffmpeg -i cam1/drive.mp4 -start_number 0 cam1/drive/%06d.jpg`), are
`<video name without extension>/<frame:06d>.jpg`, 0-based as `frame_number` is, so frame 12 of
`cam1/drive.mp4` is the image `cam1/drive/000012.jpg` and the label file
`labels/cam1/drive/000012.txt`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

FRAME_DIGITS = 6


def video_stem(name: str) -> str:
    """A file's name without its extension: a video's frame folder, a YOLO label's path."""
    return PurePosixPath(name).with_suffix("").as_posix()


def frame_image(name: str, frame: int) -> str:
    """The conventional image name of frame `frame` of video `name`."""
    return f"{video_stem(name)}/{frame:0{FRAME_DIGITS}d}.jpg"


def frame_of_stem(stem: str) -> tuple[str, int] | None:
    """(video stem, frame) if `stem` names a frame (`cam1/drive/000012`), else None."""
    folder, _, last = stem.rpartition("/")
    if not folder or len(last) < FRAME_DIGITS or not last.isdigit():
        return None
    return folder, int(last)
