"""Fill-the-blank data: sentences from plays, chats and country facts with a short span missing."""
from __future__ import annotations

import collections
import functools
import hashlib
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from . import corpora

SOURCES = ("facts", "chat", "plays", "everyday")  # also the order of `examples`

MAX_ANSWER_WORDS = 3
EXAMPLES_PER_SENTENCE = 2
SPAN_LENGTH_WEIGHTS = {1: 60, 2: 25, 3: 15}  # answer words → relative frequency
CONTENT_WORD_PROBABILITY = 0.85  # chance that a span must start and end on content words
PLAY_SENTENCE_WORDS = (4, 25)  # (fewest, most) words of a play sentence
CHAT_SENTENCE_WORDS = (3, 25)
MIN_CHAT_TURN_CHARS = 2  # shorter "turns" are single characters of a mangled corpus entry
CODE_FENCE = "```"  # chat turns with code in them are not sentences
MARKDOWN_ESCAPE = "\\"  # left in some plays by `corpora.clean_play`, e.g. "\\--"
BASELINE_CANDIDATES = 10

STOPWORDS = frozenset("""
    the a an of to and in is it i you that my me be not with for this his your but he so as
    what will have do all thou thy thee shall by we our are on no if or was him her she they
    them at from
""".split())

# A word: letters or digits (any script: "Bogotá", "São Tomé"), with inner apostrophes or
# hyphens ("o'er", "Guinea-Bissau"); a trailing apostrophe ("lovers'") is not part of it.
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")
# What may stand between the words of a fact value used as an answer: "St. Peter Port".
_FACT_WORD_GAP = re.compile(r"\.?\s+")
GAP = re.compile(r"_{2,}|\[mask\]", re.IGNORECASE)
GAP_HELP = ("write the missing part as ___ (two or more underscores) or [MASK], "
            "e.g. 'Paris is the capital of ___.'")


@dataclass(frozen=True)
class FillExample:
    """One sentence with a gap: `left + answer + right` is the whole sentence."""

    left: str  # the text before the answer, usually ending with a space
    answer: str  # 1–3 consecutive words, never starting or ending with punctuation or space
    right: str  # the text after the answer
    source: str  # "plays", "chat" or "facts"
    template: str = ""  # the fact phrasing and blanked role, e.g. "capital/2:name"; "" unless facts

    @property
    def sentence(self) -> str:
        return self.left + self.answer + self.right


# --- sentences and spans ---------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """`text` split after each run of `.`, `!`, `?` or `;`, stripped, empty pieces dropped."""
    return [piece.strip() for piece in _SENTENCE.findall(text) if piece.strip()]


def _word_count_within(sentence: str, limits: tuple[int, int]) -> bool:
    fewest, most = limits
    return fewest <= len(WORD.findall(sentence)) <= most


def _unique(items: Iterable) -> list:
    """`items` without repeats, in order of first appearance."""
    return list(dict.fromkeys(items))


def _rng(sentence: str) -> random.Random:
    """A generator seeded by the sentence itself, so its blanks never change between runs."""
    digest = hashlib.sha256(sentence.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _span_starts(words: list[str], length: int, content_ends: bool) -> list[int]:
    """Where a span of `length` words may start; with `content_ends`, only between content words."""
    starts = list(range(len(words) - length + 1))
    if not content_ends:
        return starts
    content = [i for i in starts if _is_content(words[i]) and _is_content(words[i + length - 1])]
    return content or starts


def _is_content(word: str) -> bool:
    return word.lower() not in STOPWORDS


def _choose_span(words: list[str], rng: random.Random) -> tuple[int, int]:
    """(first, last) word index of one span: 1–3 words, preferring content words at both ends."""
    lengths, weights = zip(*SPAN_LENGTH_WEIGHTS.items())
    length = min(rng.choices(lengths, weights)[0], len(words))
    content_ends = rng.random() < CONTENT_WORD_PROBABILITY
    first = rng.choice(_span_starts(words, length, content_ends))
    return first, first + length - 1


def sentence_examples(sentence: str, source: str) -> list[FillExample]:
    """Up to `EXAMPLES_PER_SENTENCE` distinct blanks of one sentence, the same on every run."""
    matches = list(WORD.finditer(sentence))
    if not matches:
        return []
    rng = _rng(sentence)
    words = [match.group() for match in matches]
    spans = _unique(_choose_span(words, rng) for _ in range(EXAMPLES_PER_SENTENCE))
    return [_cut(sentence, matches[first].start(), matches[last].end(), source)
            for first, last in spans]


def word_blanks(sentence: str, source: str, count: int = 1) -> list[FillExample]:
    """Up to `count` distinct one-word blanks of a sentence, each word equally likely, the same on every run.

    The everyday gaps are of this kind: any word, as people leave one out ("How are ___?").
    """
    matches = list(WORD.finditer(sentence))
    rng = _rng("word " + sentence)
    chosen = rng.sample(matches, min(count, len(matches)))
    return [_cut(sentence, match.start(), match.end(), source) for match in chosen]


def _cut(sentence: str, start: int, end: int, source: str) -> FillExample:
    return FillExample(sentence[:start], sentence[start:end], sentence[end:], source)


def _masked_all(texts: Iterable[str], source: str) -> tuple[FillExample, ...]:
    """Blanks of every distinct sentence of `texts`, in order of first appearance."""
    return tuple(
        blank for sentence in _unique(texts) for blank in sentence_examples(sentence, source)
    )


# --- plays ------------------------------------------------------------------------------


def play_sentences(split: str) -> list[str]:
    """Spoken sentences of 4–25 words in the plays of `split`: no speakers, no directions."""
    return [
        sentence
        for play in corpora.play_split(split)
        for scene in corpora.scenes(play.text)
        for speech in scene
        for sentence in sentences(_spoken(speech.text))
        if _word_count_within(sentence, PLAY_SENTENCE_WORDS)
    ]


def _spoken(speech: str) -> str:
    """A speech's lines as one line, without leftover markdown escapes."""
    return speech.replace("\n", " ").replace(MARKDOWN_ESCAPE, "")


@functools.lru_cache(maxsize=None)
def play_examples(split: str) -> tuple[FillExample, ...]:
    """Blanks of the play sentences of `split` (validation: `corpora.VALIDATION_PLAYS`)."""
    corpora.check_split(split)
    return _masked_all(play_sentences(split), "plays")


# --- chat -------------------------------------------------------------------------------


def chat_sentences(split: str) -> list[str]:
    """Sentences of 3–25 words from the prose turns (not code) of the chats of `split`."""
    return [
        sentence
        for turns in corpora.chat_split(split)
        for turn in turns
        if _is_prose(turn)
        for sentence in sentences(turn)
        if _word_count_within(sentence, CHAT_SENTENCE_WORDS)
    ]


def _is_prose(turn: str) -> bool:
    return len(turn.strip()) >= MIN_CHAT_TURN_CHARS and CODE_FENCE not in turn


@functools.lru_cache(maxsize=None)
def chat_examples(split: str) -> tuple[FillExample, ...]:
    """Blanks of the chat sentences of `split` (the conversations of `corpora.chat_split`)."""
    corpora.check_split(split)
    return _masked_all(chat_sentences(split), "chat")


# --- everyday conversations -------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def everyday_examples(split: str) -> tuple[FillExample, ...]:
    """Blanks of the everyday sentences of `split` (`everyday.sentences`): two one-word blanks
    (as in the held-out set) and one span of 1–3 words per sentence."""
    from . import everyday

    corpora.check_split(split)
    return tuple(blank for sentence in everyday.sentences(split)
                 for blank in _unique(word_blanks(sentence, "everyday", EXAMPLES_PER_SENTENCE)
                                      + sentence_examples(sentence, "everyday")[:1]))


# --- facts ------------------------------------------------------------------------------

# Shorter usual names of the same places, so that the answer is 1–3 words ending on a word.
SHORT_FORMS = {"Washington D.C.": "Washington", "City of San Marino": "San Marino"}
REGION_NAMES = {"Americas": "the Americas"}  # "Cuba is in the Americas", not "in Americas"


def _capitals(fact: dict) -> list[str]:
    return [fact["capital"]]


def _regions(fact: dict) -> list[str]:
    return [REGION_NAMES.get(fact["region"], fact["region"]), fact["subregion"]]


def _demonyms(fact: dict) -> list[str]:
    return [fact["demonym"]]


@dataclass(frozen=True)
class FactTemplates:
    """The sentences stating one kind of fact; each blanks either the fact or the country."""

    kind: str  # the template id prefix and the placeholder of the fact value, e.g. "capital"
    values: Callable[[dict], list[str]]  # the fact values of a country; each gets its sentences
    phrasings: tuple[str, ...]  # `{name}` is the country, `{<kind>}` the value; ids "kind/index"
    held_out: tuple[int, ...]  # indices of the phrasings kept for validation

    def template(self, index: int, role: str) -> str:
        return f"{self.kind}/{index}:{role}"


FACT_TEMPLATES = (
    FactTemplates("capital", _capitals, (
        "{capital} is the capital of {name}.",
        "The capital of {name} is {capital}.",
        "{name}'s capital city is {capital}.",
        "The capital city of {name} is {capital}.",
        "{capital} is the capital city of {name}.",
        "In {name}, the capital is {capital}.",
        "{name} has its capital in {capital}.",
        "The capital of {name} is the city of {capital}.",
        "{name}'s capital is {capital}.",
    ), held_out=(2, 5, 7)),
    FactTemplates("region", _regions, (
        "{name} is in {region}.",
        "{name} is located in {region}.",
        "{name} lies in {region}.",
        "You can find {name} in {region}.",
        "{name} is part of {region}.",
        "On a map, {name} is in {region}.",
    ), held_out=(2, 5)),
    FactTemplates("demonym", _demonyms, (
        "People from {name} are called {demonym}.",
        "The demonym for {name} is {demonym}.",
        "The people of {name} are known as {demonym}.",
        "Someone from {name} is called {demonym}.",
        "{demonym} is the word for people from {name}.",
        "A person from {name} is described as {demonym}.",
    ), held_out=(2, 5)),
    FactTemplates("currency", lambda fact: fact["currencies"], (
        "{name} uses the {currency}.",
        "People in {name} pay with the {currency}.",
        "The {currency} is used in {name}.",
        "In {name}, prices can be paid in the {currency}.",
        "One currency of {name} is the {currency}.",
        "The {currency} is a currency of {name}.",
    ), held_out=(2, 5)),
    FactTemplates("language", lambda fact: fact["languages"], (
        "People in {name} speak {language}.",
        "{language} is spoken in {name}.",
        "One language of {name} is {language}.",
        "In {name}, people speak {language}.",
        "{language} is a language of {name}.",
        "{language} is one of the languages spoken in {name}.",
    ), held_out=(2, 5)),
    FactTemplates("neighbour", lambda fact: fact["borders"], (
        "{name} borders {neighbour}.",
        "{name} shares a border with {neighbour}.",
        "{neighbour} is a neighbour of {name}.",
        "{name} and {neighbour} share a border.",
        "{neighbour} borders {name}.",
        "{name} is next to {neighbour}.",
    ), held_out=(2, 5)),
)


def is_answerable(value: str) -> bool:
    """Whether a fact value can be an answer: 1–3 words, nothing but spaces (after an
    abbreviation's period) between them, no punctuation at its ends ("St. Peter Port": yes;
    "Washington D.C.", "Antiguan,Barbudan", "Modern Greek (1453-)": no)."""
    words = list(WORD.finditer(value))
    if not 1 <= len(words) <= MAX_ANSWER_WORDS:
        return False
    if words[0].start() != 0 or words[-1].end() != len(value):
        return False
    gaps = (value[a.end():b.start()] for a, b in zip(words, words[1:]))
    return all(_FACT_WORD_GAP.fullmatch(gap) for gap in gaps)


def _short(value: str) -> str:
    return SHORT_FORMS.get(value, value)


def _fact_examples(phrasing: str, filled: dict[str, str], labels: dict[str, str]) -> list[FillExample]:
    """One blank per answerable value of `filled` (placeholder → text): the country or the fact.

    Args:
        phrasing: e.g. "{capital} is the capital of {name}.".
        filled: the text of each placeholder.
        labels: the template id of each placeholder's blank, e.g. "capital/0:name".
    """
    found = []
    for role, value in filled.items():
        if is_answerable(value):
            before, after = phrasing.split("{" + role + "}")
            found.append(FillExample(before.format(**filled), value, after.format(**filled), "facts",
                               labels[role]))
    return found


def _country_examples(fact: dict, templates: FactTemplates, split: str) -> list[FillExample]:
    """The blanks of one country's facts of one kind, in the phrasings of `split`."""
    held_out = split == "validation"
    found = []
    for value in _unique(filter(None, templates.values(fact))):
        filled = {"name": _short(fact["name"]), templates.kind: _short(value)}
        # The blanked fact's role is its kind, except that a region may be the subregion.
        subregion = templates.kind == "region" and value == fact["subregion"]
        role = "subregion" if subregion else templates.kind
        for i, phrasing in enumerate(templates.phrasings):
            if (i in templates.held_out) == held_out:
                labels = {"name": templates.template(i, "name"),
                          templates.kind: templates.template(i, role)}
                found.extend(_fact_examples(phrasing, filled, labels))
    return found


@functools.lru_cache(maxsize=None)
def fact_examples(split: str) -> tuple[FillExample, ...]:
    """Fact sentences of every country with the country or one fact value blanked.

    Args:
        split: "train" (the phrasings not held out) or "validation" (only the held-out ones);
            both cover every country.

    Returns:
        Blanks by country, then fact kind, then value, then phrasing, then role.
    """
    corpora.check_split(split)
    return tuple(
        blank
        for fact in corpora.country_facts()
        for templates in FACT_TEMPLATES
        for blank in _country_examples(fact, templates, split)
    )


# --- everything -------------------------------------------------------------------------

_BY_SOURCE = {"facts": fact_examples, "chat": chat_examples, "plays": play_examples, "everyday": everyday_examples}


def examples_of(source: str, split: str) -> tuple[FillExample, ...]:
    """The blanks of one source (one of SOURCES) and split."""
    if source not in _BY_SOURCE:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    return _BY_SOURCE[source](split)


@functools.lru_cache(maxsize=None)
def examples(split: str) -> tuple[FillExample, ...]:
    """All blanks of `split`, source after source in the order of SOURCES."""
    corpora.check_split(split)
    return tuple(blank for source in SOURCES for blank in examples_of(source, split))


def summary() -> dict[str, dict[str, int]]:
    """Number of blanks per split and source, e.g. `{"train": {"facts": …, …}, …}`."""
    return {
        split: {source: len(examples_of(source, split)) for source in SOURCES} for split in corpora.SPLITS
    }


# --- user input -------------------------------------------------------------------------


def parse_gap(text: str) -> tuple[str, str]:
    """Splits a sentence at its one gap: `___` (two or more underscores) or `[MASK]`.

    Args:
        text: e.g. "Paris is the capital of ___."

    Returns:
        (left, right) with the gap removed and spacing kept: ("Paris is the capital of ", ".").

    Raises:
        ValueError: when the text has no gap or more than one.
    """
    gaps = list(GAP.finditer(text))
    if not gaps:
        raise ValueError(f"no gap found: {GAP_HELP}")
    if len(gaps) > 1:
        raise ValueError(f"found {len(gaps)} gaps: write exactly one ___")
    return text[:gaps[0].start()], text[gaps[0].end():]


# --- baseline ---------------------------------------------------------------------------


def _last_word(text: str) -> str:
    words = WORD.findall(text)
    return words[-1].lower() if words else ""


def _first_word(text: str) -> str:
    match = WORD.search(text)
    return match.group().lower() if match else ""


def _ranked(counts: collections.Counter) -> list[str]:
    return [answer for answer, _ in counts.most_common()]


def most_frequent_filler_baseline(train_blanks: Iterable[FillExample]) -> Callable[[str, str], list[str]]:
    """A counting baseline: the answers most often seen next to the gap's neighbouring words.

    Args:
        train_blanks: the blanks to count answers in.

    Returns:
        `rank(left, right)` → up to 10 distinct answers, best first: the most frequent after
        the same previous word (lowercased), then before the same next word, then overall.
    """
    after = collections.defaultdict(collections.Counter)  # previous word → answer counts
    before = collections.defaultdict(collections.Counter)  # next word → answer counts
    overall = collections.Counter()
    for blank in train_blanks:
        after[_last_word(blank.left)][blank.answer] += 1
        before[_first_word(blank.right)][blank.answer] += 1
        overall[blank.answer] += 1
    # Ranked once here, so that each call only walks the first few answers of three lists.
    after_ranked = {word: _ranked(counts) for word, counts in after.items()}
    before_ranked = {word: _ranked(counts) for word, counts in before.items()}
    overall_ranked = _ranked(overall)

    def rank(left: str, right: str) -> list[str]:
        tiers = (after_ranked.get(_last_word(left), []), before_ranked.get(_first_word(right), []),
                 overall_ranked)
        return _first_distinct((answer for tier in tiers for answer in tier), BASELINE_CANDIDATES)

    return rank


def _first_distinct(items: Iterable[str], limit: int) -> list[str]:
    """The first `limit` distinct items, reading no further than needed."""
    found: dict[str, None] = {}
    for item in items:
        if len(found) == limit:
            break
        found.setdefault(item)
    return list(found)
