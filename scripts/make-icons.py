# /// script
# requires-python = ">=3.11"
# dependencies = ["pillow>=10"]
# ///
"""Draw the app icons (our own artwork: a gold star over a columned hall, on the site's red).

The PNGs it writes to ``src/cityhall/web/static/icons/`` are committed; run this again only
to change them:

    .venv/bin/uv run --script scripts/make-icons.py

"any" icons are a rounded square with transparent corners; "maskable" ones fill the whole
square and keep the emblem inside the central safe circle (radius 40 %), so a launcher can
cut any shape from them.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "src" / "cityhall" / "web" / "static" / "icons"
RED = (165, 14, 14, 255)  # --brand in site.css (#a50e0e), also the manifest's theme_color
GOLD = (255, 205, 0, 255)
SUPERSAMPLE = 4

Point = tuple[float, float]


def _star(cx: float, cy: float, r: float) -> list[Point]:
    inner = r * math.sin(math.radians(18)) / math.sin(math.radians(54))
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _emblem() -> list[list[Point]]:
    """The emblem as polygons in a unit square (0..1), centred on (0.5, 0.5)."""
    shapes = [_star(0.5, 0.27, 0.13)]
    shapes.append([(0.22, 0.52), (0.5, 0.43), (0.78, 0.52)])  # pediment
    shapes.append(_rect(0.22, 0.535, 0.78, 0.575))  # entablature
    for i in range(4):  # columns
        x = 0.27 + i * 0.14
        shapes.append(_rect(x, 0.595, x + 0.06, 0.745))
    shapes.append(_rect(0.18, 0.765, 0.82, 0.805))  # steps
    shapes.append(_rect(0.14, 0.825, 0.86, 0.865))
    return shapes


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=RED)
        scale = 0.72  # the emblem's farthest corner stays inside the 40 % safe circle
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(big * 0.2), fill=RED)
        scale = 0.9
    for shape in _emblem():
        pen.polygon(
            [(big * (0.5 + (x - 0.5) * scale), big * (0.5 + (y - 0.5) * scale)) for x, y in shape],
            fill=GOLD,
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-192.png": (192, True),
    "maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),  # iOS rounds the corners itself
    "favicon-32.png": (32, False),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (size, maskable) in ICONS.items():
        draw(size, maskable=maskable).save(OUT / name, optimize=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
