"""The fixed held-out sets of everyday input: chat messages by kind and everyday gap sentences.

Built once by `python -m rnn_demo.data.heldout` into `rnn_demo/data/heldout/` and kept as files,
so that every evaluation scores the same items. Two of each: `*_validation.json` (for choosing
things: the chatbot's "unsure" threshold, the fill calibration) and `*_test.json` (reported, never
used to choose anything). Chat items come from held-out phrasings (`chat_kinds.role_of`), the
held-out small talk and capital phrasings of `dialogues`, and other languages, leaving out any message
that is, `everyday.normalised`, a turn of a training exchange of any source; gap sentences come from
the held-out everyday conversations (`everyday.split_of`), none of them trained on (`gap_items`).
"""
from __future__ import annotations

import functools
import json
import random
from pathlib import Path

from . import chat_kinds, dialogues, everyday
from .fill_sentences import word_blanks

FOLDER = Path(__file__).with_name("heldout")
ROLES = ("validation", "test")
SEED = 13  # the number: which items are sampled
# Messages per kind and persona (None: both personas, counted together).
CHAT_SIZES = {"self": 40, "feelings": 50, "likes": 50, "jokes": 16, "facts": 60, "persona_facts": 50,
              "followup": 50, "capital_modern": 40, "capital_shakespeare": 40, "languages": 40, "smalltalk": 30}
WITH_HISTORY_EVERY = 3  # every third single-message item gets an unrelated exchange before it
GAP_SENTENCES = 1_200


def _item(kind: str, persona: str, context: tuple[str, ...], *, check: str, accepted=(), mood: str = "") -> dict:
    return {"kind": kind, "persona": persona, "history": list(context[:-1]), "message": context[-1],
            "check": check, "accepted": list(accepted), "mood": mood}


@functools.lru_cache(maxsize=None)
def trained_messages() -> frozenset[str]:
    """Every turn of every training exchange (`dialogues.exchanges("train")`), `everyday.normalised`."""
    return frozenset(everyday.normalised(turn) for exchange in dialogues.exchanges("train")
                     for turn in exchange.context)


def _unseen(message: str) -> bool:
    return everyday.normalised(message) not in trained_messages()


def _sample(items: list, size: int, rng: random.Random) -> list:
    return rng.sample(items, size) if len(items) > size else list(items)


def _both_personas(talks, size: int, rng: random.Random, kind: str) -> list[dict]:
    chosen = _sample([(talk, persona) for talk in talks if _unseen(talk.context[-1])
                      for persona in chat_kinds.PERSONAS], size, rng)
    return [_item(kind, persona, talk.context, check=talk.kind, accepted=talk.accepted,
                  mood=talk.template.split("/")[1] if talk.kind == "feelings" else "")
            for talk, persona in chosen]


def _capital_items(role: str, persona: str, size: int, rng: random.Random) -> list[dict]:
    questions = [(question, fact) for question, fact in dialogues.heldout_capital_questions()
                 if chat_kinds.role_of("capital " + question, True) == role and _unseen(question)]
    return [_item(f"capital_{persona}", persona, (question,), check="capital", accepted=(fact["capital"],))
            for question, fact in _sample(questions, size, rng)]


def _smalltalk_items(role: str, size: int, rng: random.Random) -> list[dict]:
    talks = [talk for talk in dialogues.smalltalk_of("validation")
             if chat_kinds.role_of("smalltalk " + everyday.normalised(talk.message), True) == role
             and _unseen(talk.message)]
    chosen = _sample([(talk, persona) for talk in talks for persona in chat_kinds.PERSONAS], size, rng)
    return [_item("smalltalk", persona, (talk.message,), check=talk.kind) for talk, persona in chosen]


def _add_history(items: list[dict], rng: random.Random) -> None:
    """Puts an unrelated earlier exchange before every `WITH_HISTORY_EVERY`-th single-message item."""
    earlier = [(talk.context[0], talk.replies) for talk in chat_kinds.talk_of("train", ("self", "likes", "feelings"))
               if not chat_kinds.is_more(talk)]  # the fixed files were built before the training-only phrasings
    for i, item in enumerate(items):
        if not item["history"] and item["kind"] != "languages" and i % WITH_HISTORY_EVERY == 0:
            message, replies = rng.choice(earlier)
            item["history"] = [message, replies[chat_kinds.PERSONAS.index(item["persona"])]]


def chat_items(role: str) -> list[dict]:
    """The held-out chat messages of `role`, by kind, each with its automatic check."""
    rng = random.Random(f"{SEED} chat {role}")
    items = []
    for kind in ("self", "feelings", "likes", "jokes", "followup"):
        items += _both_personas(chat_kinds.talk_of(role, (kind,)), CHAT_SIZES[kind], rng, kind)
    facts = [talk for talk in chat_kinds.talk_of(role, ("facts",)) if _unseen(talk.context[-1])]
    for kind, persona in (("facts", chat_kinds.MODERN), ("persona_facts", chat_kinds.SHAKESPEARE)):
        items += [_item(kind, persona, talk.context, check="facts", accepted=talk.accepted)
                  for talk in _sample(facts, CHAT_SIZES[kind], rng)]
    for persona in chat_kinds.PERSONAS:
        items += _capital_items(role, persona, CHAT_SIZES[f"capital_{persona}"], rng)
    items += _both_personas(chat_kinds.talk_of(role, ("languages",)), CHAT_SIZES["languages"], rng, "languages")
    items += _smalltalk_items(role, CHAT_SIZES["smalltalk"], rng)
    _add_history(items, rng)
    return items


def gap_items(role: str) -> list[dict]:
    """One gap in each of `GAP_SENTENCES` sentences of the everyday conversations of `role`: one word,
    each word of the sentence equally likely (`fill_sentences.word_blanks`). Test sentences are a plain
    sample of the test conversations (`everyday.sentences` leaves them out of training and validation);
    validation sentences leave out any that also occur in a training conversation (both `everyday.normalised`)."""
    if role == "test":
        candidates = everyday.test_sentences()
    else:
        trained = {everyday.normalised(sentence) for sentence in everyday.sentences("train")}
        candidates = tuple(sentence for sentence in everyday.sentences(role)
                           if everyday.normalised(sentence) not in trained)
    chosen = sorted(_sample(list(candidates), GAP_SENTENCES, random.Random(f"{SEED} gaps {role}")))
    items = []
    for sentence in chosen:
        blank = word_blanks(sentence, "everyday")[0]
        items.append({"left": blank.left, "answer": blank.answer, "right": blank.right})
    return items


def path(name: str, role: str) -> Path:
    """The file of a held-out set: name "chat" or "gaps", role "validation" or "test"."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return FOLDER / f"{name}_{role}.json"


def load(name: str, role: str = "test") -> list[dict]:
    """A held-out set as built (see `build`)."""
    target = path(name, role)
    if not target.exists():
        raise FileNotFoundError(f"{target.name} is missing: python -m rnn_demo.data.heldout")
    return json.loads(target.read_text(encoding="utf-8"))


def build() -> dict[str, int]:
    """Writes every held-out set; returns the number of items in each file."""
    FOLDER.mkdir(exist_ok=True)
    counts = {}
    for role in ROLES:
        for name, items in (("chat", chat_items(role)), ("gaps", gap_items(role))):
            path(name, role).write_text(json.dumps(items, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
            counts[path(name, role).name] = len(items)
    return counts


if __name__ == "__main__":
    print(json.dumps(build(), indent=1))
