"""The object categories of the synthetic data set and the background clutter.

Each category differs in shape *and* appearance (colour family and texture), as real object
classes do; colours are jittered and clutter reuses the palette so colour alone does not solve
the task. A painter returns a boolean mask and an RGB texture of the object's box size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

Painter = Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]


def _mask(width: int, height: int, draw: Callable[[ImageDraw.ImageDraw, int, int], None]) -> np.ndarray:
    img = Image.new("L", (width, height), 0)
    draw(ImageDraw.Draw(img), width - 1, height - 1)
    return np.asarray(img) > 0


def _colour(rng: np.random.Generator, base: tuple[float, float, float]) -> np.ndarray:
    return np.clip(np.array(base) + rng.normal(0.0, 0.08, 3), 0.0, 1.0)


def _solid(rng, base, width, height) -> np.ndarray:
    shade = np.linspace(1.0, 0.75, height)[:, None, None]  # top-lit: [H] -> [H, 1, 1]
    return np.broadcast_to(_colour(rng, base) * shade, (height, width, 3))


def _stripes(rng, base, width, height) -> np.ndarray:
    period = max(2, int(min(width, height) / rng.uniform(2.5, 5.0)))
    yy, xx = np.mgrid[0:height, 0:width]
    on = ((xx + yy) // period) % 2 == 0
    return np.where(on[..., None], _colour(rng, base), _colour(rng, base) * 0.35)


def _checker(rng, base, width, height) -> np.ndarray:
    cell = max(2, int(min(width, height) / rng.uniform(3.0, 6.0)))
    yy, xx = np.mgrid[0:height, 0:width]
    on = (xx // cell + yy // cell) % 2 == 0
    return np.where(on[..., None], _colour(rng, base), np.full(3, 0.92))


def _speckle(rng, base, width, height) -> np.ndarray:
    noise = rng.uniform(0.55, 1.0, (height, width, 1))
    return np.clip(_colour(rng, base) * noise, 0.0, 1.0)


def _disk(rng, width, height):
    return _mask(width, height, lambda d, w, h: d.ellipse([0, 0, w, h], fill=255)), _solid(rng, (0.85, 0.2, 0.15), width, height)


def _box(rng, width, height):
    return _mask(width, height, lambda d, w, h: d.rectangle([0, 0, w, h], fill=255)), _stripes(rng, (0.2, 0.7, 0.25), width, height)


def _triangle(rng, width, height):
    mask = _mask(width, height, lambda d, w, h: d.polygon([(w / 2, 0), (0, h), (w, h)], fill=255))
    return mask, _checker(rng, (0.15, 0.3, 0.85), width, height)


def _ring(rng, width, height):
    thick = max(1, round(min(width, height) * 0.2))
    mask = _mask(width, height, lambda d, w, h: d.ellipse([0, 0, w, h], outline=255, width=thick))
    return mask, _solid(rng, (0.9, 0.8, 0.15), width, height)


def _cross(rng, width, height):
    def draw(d, w, h):
        d.rectangle([w * 0.35, 0, w * 0.65, h], fill=255)
        d.rectangle([0, h * 0.35, w, h * 0.65], fill=255)

    return _mask(width, height, draw), _speckle(rng, (0.75, 0.2, 0.8), width, height)


@dataclass(frozen=True)
class SynthCategory:
    """One synthetic object category."""

    category_id: int  # id written to the COCO file
    name: str  # its name there
    paint: Painter  # (rng, width, height) -> (mask [H, W] bool, texture [H, W, 3] in [0, 1])


CATEGORIES: tuple[SynthCategory, ...] = (
    SynthCategory(1, "disk", _disk),
    SynthCategory(2, "striped_box", _box),
    SynthCategory(3, "checkered_triangle", _triangle),
    SynthCategory(4, "ring", _ring),
    SynthCategory(5, "speckled_cross", _cross),
)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth two-colour gradient with low-frequency blotches: float [S, S, 3] in [0, 1]."""
    ramp = np.linspace(0.0, 1.0, size)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None] + 1.5) / 3.0  # [S, S] in [0, 1]
    low = rng.uniform(0.0, 1.0, (4, 4, 3)).astype(np.float32)
    blotch = np.asarray(Image.fromarray((low * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)) / 255.0
    c0, c1 = rng.uniform(0.1, 0.7, 3), rng.uniform(0.1, 0.7, 3)
    return np.clip((c0 * (1 - t[..., None]) + c1 * t[..., None]) * 0.7 + blotch * 0.3, 0.0, 1.0)


def draw_clutter(rng: np.random.Generator, canvas: np.ndarray, count: int) -> None:
    """Paint `count` distractors (thin lines and irregular blobs in random colours) in place."""
    size = canvas.shape[0]
    layer = Image.new("L", (size, size), 0)
    for index in range(count):
        layer.paste(0, (0, 0, size, size))
        draw = ImageDraw.Draw(layer)
        if index % 2 == 0:
            points = [tuple(p) for p in rng.uniform(0, size, (2, 2))]
            draw.line(points, fill=255, width=int(rng.integers(1, 3)))
        else:
            centre, radius = rng.uniform(0, size, 2), rng.uniform(0.02, 0.12) * size
            angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
            radii = radius * rng.uniform(0.4, 1.0, 7)
            draw.polygon([tuple(centre + r * np.array([np.cos(a), np.sin(a)])) for a, r in zip(angles, radii)], fill=255)
        mask = np.asarray(layer) > 0
        canvas[mask] = rng.uniform(0.0, 1.0, 3)
