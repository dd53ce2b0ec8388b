"""Synthetic videos for the decoder tests: every frame draws its own index, so a test can read it back.

A frame is a 4x4 grid of black/white blocks, one bit each (16 bits, most significant first, row by
row), so indices up to 65,535 survive lossy compression: `read_index` thresholds the mean of each
block's inner half, far from the edges where codecs and resizing smear.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream

GRID = 4
INDEX_BITS = GRID * GRID
# The frame rates the tests cover; 29.97 is the NTSC rate, exactly 30000/1001.
FRAME_RATES: tuple[Fraction, ...] = (Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                                     Fraction(60))
# Milliseconds between consecutive frames of the variable-frame-rate fixture, repeated in turn.
VFR_GAPS_MS: tuple[int, ...] = (20, 50, 33, 100, 17)


def best_codec() -> str:
    """libx264 when this PyAV build has it (B-frames, long GOPs: the realistic case), else mpeg4."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _block_bounds(length: int, block: int) -> tuple[int, int]:
    return length * block // GRID, length * (block + 1) // GRID


def draw_index(index: int, width: int, height: int) -> np.ndarray:
    """An RGB uint8 frame whose 4x4 blocks spell `index` in binary (white = 1)."""
    if not 0 <= index < 2**INDEX_BITS:
        raise ValueError(f"frame index {index} does not fit in {INDEX_BITS} bits")
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    for bit in range(INDEX_BITS):
        if index >> (INDEX_BITS - 1 - bit) & 1:
            top, bottom = _block_bounds(height, bit // GRID)
            left, right = _block_bounds(width, bit % GRID)
            frame[top:bottom, left:right] = 255
    return frame


def read_index(frame: np.ndarray) -> int:
    """The index a frame drawn by `draw_index` carries, at any size it was resized to."""
    # Every few pixels suffice to tell a black block from a white one, and keep big frames cheap.
    stride = max(1, min(frame.shape[:2]) // 64)
    gray = frame[::stride, ::stride].astype(np.float32)
    height, width = gray.shape[:2]
    index = 0
    for bit in range(INDEX_BITS):
        top, bottom = _block_bounds(height, bit // GRID)
        left, right = _block_bounds(width, bit % GRID)
        inset_y, inset_x = (bottom - top) // 4, (right - left) // 4
        block = gray[top + inset_y:bottom - inset_y, left + inset_x:right - inset_x]
        index = index << 1 | int(block.mean() > 127.5)
    return index


def write_video(path: Path, n_frames: int, fps: Fraction | int | float = 30,
                size: tuple[int, int] = (64, 48), codec: str | None = None, vfr: bool = False,
                container_format: str | None = None, gop: int = 12) -> Path:
    """Encode `n_frames` index-carrying frames; the container follows the suffix unless named.

    With `vfr`, frames are stamped with irregular gaps (VFR_GAPS_MS, in a 1/1000 time base) instead of
    1/fps each. `size` is (width, height), both even because of 4:2:0 chroma.
    """
    width, height = size
    rate = Fraction(fps).limit_denominator(100_000)
    with av.open(str(path), "w", format=container_format) as container:
        stream = cast(VideoStream, container.add_stream(codec or best_codec(), rate=rate))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        if vfr:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        pts_ms = 0
        for index in range(n_frames):
            frame = av.VideoFrame.from_ndarray(draw_index(index, width, height), format="rgb24")
            if vfr:
                frame.pts, frame.time_base = pts_ms, Fraction(1, 1000)
                pts_ms += VFR_GAPS_MS[index % len(VFR_GAPS_MS)]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def vfr_timestamps(n_frames: int) -> list[float]:
    """Seconds at which the frames of `write_video(..., vfr=True)` are shown."""
    stamps, elapsed_ms = [], 0
    for index in range(n_frames):
        stamps.append(elapsed_ms / 1000)
        elapsed_ms += VFR_GAPS_MS[index % len(VFR_GAPS_MS)]
    return stamps


def write_corrupt(path: Path, n_bytes: int = 4096, seed: int = 0) -> Path:
    """Random bytes under a video suffix."""
    path.write_bytes(random.Random(seed).randbytes(n_bytes))
    return path


def write_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def write_truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    """The first `keep` fraction of a valid file's bytes (a download cut short)."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_without_frame_count(path: Path, n_frames: int, fps: Fraction | int = 25) -> Path:
    """A raw MPEG-4 elementary stream (.m4v): no frame count, no duration, so probing must count."""
    return write_video(path, n_frames, fps, codec="mpeg4", container_format="m4v")


def indices_of(frames: Sequence[np.ndarray]) -> list[int]:
    return [read_index(frame) for frame in frames]



def write_clip_folder(folder: Path, frame_counts: Sequence[int]) -> Path:
    """A local video dataset: `videos/<i>.mp4` of the given lengths (10 fps, 64x48) and `test.jsonl` rows
    {id, question, video} pointing at them."""
    (folder / "videos").mkdir(parents=True)
    rows = []
    for index, frames in enumerate(frame_counts):
        write_video(folder / "videos" / f"{index}.mp4", frames, fps=10, size=(64, 48))
        rows.append({"id": index, "question": f"clip {index}?", "video": f"videos/{index}.mp4"})
    (folder / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder
