"""Draw the Teams app icons (color.png 192x192, outline.png 32x32) with the standard library only.

Why a script: the icons are reproducible from source, reviewable as code, and need no image
library in the virtualenv. Run ``python manifest/make_icons.py`` to rewrite both PNGs next to it.

Both files are RGBA (colour type 6), 8 bits per channel, not interlaced, filter 0 on every row,
so that tests can decode them with ``zlib`` alone.
"""

from __future__ import annotations

import itertools
import math
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

Pixel = tuple[int, int, int, int]
Point = tuple[float, float]
# A shader maps a point (in pixel units, origin top-left) to a colour, or None for "transparent".
Shader = Callable[[float, float], tuple[int, int, int] | None]

BLUE = (0x23, 0x64, 0xAA)  # calm blue, also the manifest's accentColor (#2364AA)
WHITE = (0xFF, 0xFF, 0xFF)

COLOR_SIZE = 192
OUTLINE_SIZE = 32


# --- geometry -------------------------------------------------------------------------------------


def in_rounded_rect(x: float, y: float, x0: float, y0: float, x1: float, y1: float, r: float) -> bool:
    """True inside the rectangle (x0, y0)-(x1, y1) whose corners are rounded with radius r."""
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    dx = max(x0 + r - x, 0.0, x - (x1 - r))
    dy = max(y0 + r - y, 0.0, y - (y1 - r))
    return dx * dx + dy * dy <= r * r


def in_triangle(x: float, y: float, a: Point, b: Point, c: Point) -> bool:
    """True inside triangle abc (either winding)."""

    def side(p: Point, q: Point) -> float:
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])

    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    has_neg = s1 < 0 or s2 < 0 or s3 < 0
    has_pos = s1 > 0 or s2 > 0 or s3 > 0
    return not (has_neg and has_pos)


def near_polyline(x: float, y: float, points: list[Point], half_width: float) -> bool:
    """True within half_width of the polyline through points (round joins and caps)."""
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        vx, vy = bx - ax, by - ay
        t = ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)
        t = min(1.0, max(0.0, t))
        if math.hypot(x - (ax + t * vx), y - (ay + t * vy)) <= half_width:
            return True
    return False


# --- the two designs ------------------------------------------------------------------------------


def color_shader(x: float, y: float) -> tuple[int, int, int] | None:
    """Blue rounded square carrying a white speech bubble with a blue tick cut into it."""
    if not in_rounded_rect(x, y, 0, 0, COLOR_SIZE, COLOR_SIZE, 40):
        return None
    bubble = in_rounded_rect(x, y, 40, 44, 152, 128, 24) or in_triangle(x, y, (60, 120), (96, 120), (50, 156))
    tick = near_polyline(x, y, [(70, 87), (88, 105), (122, 68)], 8)
    return WHITE if bubble and not tick else BLUE


def outline_shader(x: float, y: float) -> tuple[int, int, int] | None:
    """The same symbol as a white silhouette on transparent: bubble filled, tick cut out."""
    bubble = in_rounded_rect(x, y, 2, 4, 30, 24, 5) or in_triangle(x, y, (7, 22), (15, 22), (5, 30))
    tick = near_polyline(x, y, [(9.5, 14), (13.5, 18), (22.5, 9)], 1.6)
    return WHITE if bubble and not tick else None


# --- rasterising and PNG encoding -----------------------------------------------------------------


def rasterise(size: int, shader: Shader, samples: int, *, hard_alpha: bool) -> list[list[Pixel]]:
    """Supersample each pixel on a samples x samples grid.

    With hard_alpha the coverage is thresholded at one half, so every pixel is either opaque or fully
    transparent (the outline icon must be only white and transparent).
    """
    rows: list[list[Pixel]] = []
    n = samples * samples
    for py in range(size):
        row: list[Pixel] = []
        for px in range(size):
            r = g = b = hits = 0
            for sy in range(samples):
                for sx in range(samples):
                    c = shader(px + (sx + 0.5) / samples, py + (sy + 0.5) / samples)
                    if c is not None:
                        r, g, b, hits = r + c[0], g + c[1], b + c[2], hits + 1
            if hits == 0 or (hard_alpha and hits * 2 < n):
                row.append((255, 255, 255, 0) if hard_alpha else (0, 0, 0, 0))
                continue
            alpha = 255 if hard_alpha else round(255 * hits / n)
            row.append((round(r / hits), round(g / hits), round(b / hits), alpha))
        rows.append(row)
    return rows


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rows: list[list[Pixel]]) -> bytes:
    """RGBA, 8-bit, no interlace, filter type 0 on every row."""
    height, width = len(rows), len(rows[0])
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(channel for px in row for channel in px) for row in rows)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def render_color() -> bytes:
    """color.png: 192x192, anti-aliased."""
    return encode_png(rasterise(COLOR_SIZE, color_shader, 4, hard_alpha=False))


def render_outline() -> bytes:
    """outline.png: 32x32, white and fully transparent pixels only."""
    return encode_png(rasterise(OUTLINE_SIZE, outline_shader, 4, hard_alpha=True))


def main(argv: list[str]) -> int:
    """Write both icons into the given directory (default: this script's directory)."""
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent
    (out / "color.png").write_bytes(render_color())
    (out / "outline.png").write_bytes(render_outline())
    print(f"wrote {out / 'color.png'} and {out / 'outline.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
