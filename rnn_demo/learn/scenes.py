"""Scenes the app draws itself (coloured shapes at places) and their captions: the one-to-many task's data.

A scene holds one or two objects. One object is captioned with its place ("a red circle at the top");
two stand side by side or one above the other ("a red circle left of a blue square"). Every scene is
drawn by NumPy from a seed, so data sets are generated in code and reproduced exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 32
SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 0.95),
           "yellow": (0.95, 0.85, 0.1)}
PLACES = ("top", "bottom", "left", "right", "centre")
RELATIONS = ("left of", "above")
START, END, PAD = "<start>", "<end>", "<pad>"
VOCABULARY = (PAD, START, END, "a", "at", "the", "of", "left", "above", *COLOURS, *SHAPES, "top", "bottom",
              "right", "centre")
WORD_ID = {word: index for index, word in enumerate(VOCABULARY)}
OBJECT_RADIUS = (4, 6)  # half the size of a shape, in pixels (inclusive range)
JITTER = 2  # pixels a shape may stray from its place
NOISE = 0.03  # the background's pixel noise


@dataclass(frozen=True)
class Thing:
    """One object of a scene."""

    shape: str
    colour: str


@dataclass(frozen=True)
class Scene:
    """One or two objects; `place` for one, `relation` (the first object to the second) for two."""

    things: tuple[Thing, ...]
    place: str = ""
    relation: str = ""

    def caption(self) -> str:
        first = f"a {self.things[0].colour} {self.things[0].shape}"
        if len(self.things) == 1:
            return f"{first} at the {self.place}"
        return f"{first} {self.relation} a {self.things[1].colour} {self.things[1].shape}"


def check_scene(scene: Scene) -> Scene:
    """The scene if its words are known (ValueError naming the bad one otherwise)."""
    for thing in scene.things:
        if thing.shape not in SHAPES or thing.colour not in COLOURS:
            raise ValueError(f"unknown object {thing.colour!r} {thing.shape!r}: shapes are {', '.join(SHAPES)}, "
                             f"colours {', '.join(COLOURS)}")
    if len(scene.things) == 1 and scene.place not in PLACES:
        raise ValueError(f"place must be one of {', '.join(PLACES)}, not {scene.place!r}")
    if len(scene.things) == 2 and scene.relation not in RELATIONS:
        raise ValueError(f"relation must be one of {', '.join(RELATIONS)}, not {scene.relation!r}")
    if len(scene.things) not in (1, 2):
        raise ValueError("a scene holds one or two objects")
    return scene


def random_scene(rng: np.random.Generator) -> Scene:
    """A scene drawn uniformly: one object at a place, or two in a relation (half each)."""
    count = 1 + int(rng.integers(2))
    things = tuple(Thing(SHAPES[rng.integers(len(SHAPES))], list(COLOURS)[rng.integers(len(COLOURS))])
                   for _ in range(count))
    if count == 1:
        return Scene(things, place=PLACES[rng.integers(len(PLACES))])
    return Scene(things, relation=RELATIONS[rng.integers(len(RELATIONS))])


def _centres(scene: Scene) -> list[tuple[float, float]]:
    """(row, column) of each object's centre, before jitter."""
    low, mid, high = IMAGE_SIZE * 0.25, IMAGE_SIZE * 0.5, IMAGE_SIZE * 0.75
    if len(scene.things) == 1:
        return [{"top": (low, mid), "bottom": (high, mid), "left": (mid, low), "right": (mid, high),
                 "centre": (mid, mid)}[scene.place]]
    return [(mid, low), (mid, high)] if scene.relation == "left of" else [(low, mid), (high, mid)]


def _mask(shape: str, row: float, column: float, radius: int) -> np.ndarray:
    """(size, size) bool: the pixels of one shape."""
    rows, columns = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) + 0.5
    dy, dx = rows - row, columns - column
    if shape == "circle":
        return dy ** 2 + dx ** 2 <= radius ** 2
    if shape == "square":
        return (np.abs(dy) <= radius * 0.85) & (np.abs(dx) <= radius * 0.85)
    # an upward triangle: widening from its apex to its base
    return (dy >= -radius) & (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)


def draw(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """The scene as an image (size, size, 3) of floats in [0, 1]: shapes on a noisy dark background."""
    image = rng.uniform(0.0, NOISE, size=(IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    for thing, (row, column) in zip(scene.things, _centres(scene)):
        radius = int(rng.integers(OBJECT_RADIUS[0], OBJECT_RADIUS[1] + 1))
        row, column = row + rng.integers(-JITTER, JITTER + 1), column + rng.integers(-JITTER, JITTER + 1)
        image[_mask(thing.shape, row, column, radius)] = COLOURS[thing.colour]
    return image


def encode_caption(caption: str, max_words: int) -> tuple[np.ndarray, np.ndarray]:
    """(decoder input: <start> + words, target: words + <end>), each (max_words,) padded with <pad>."""
    ids = [WORD_ID[word] for word in caption.split()]
    source = [WORD_ID[START], *ids][:max_words]
    target = [*ids, WORD_ID[END]][:max_words]
    pad = WORD_ID[PAD]
    return (np.array(source + [pad] * (max_words - len(source)), np.int32),
            np.array(target + [pad] * (max_words - len(target)), np.int32))


def dataset(count: int, seed: int, max_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """`count` random scenes from `seed`: (images (n, s, s, 3), decoder inputs (n, w), targets (n, w), captions)."""
    rng = np.random.default_rng(seed)
    images, sources, targets, captions = [], [], [], []
    for _ in range(count):
        scene = random_scene(rng)
        images.append(draw(scene, rng))
        source, target = encode_caption(scene.caption(), max_words)
        sources.append(source)
        targets.append(target)
        captions.append(scene.caption())
    return np.stack(images), np.stack(sources), np.stack(targets), captions


def to_png_array(image: np.ndarray, scale: int = 6) -> np.ndarray:
    """The image as uint8 (size·scale, size·scale, 3), enlarged by repeating pixels (for the page)."""
    big = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)
