"""Chatbot dialogue data: chat context windows, country Q&A splits, play speech pairs."""
import pytest

from rnn_demo.data import corpora, dialogues

PLAY = """ACT I

SCENE I. Verona. A public place.

[Enter SAMPSON and GREGORY]

SAMPSON:
Gregory, o' my word,
we'll not carry coals.

GREGORY:
[Aside]
No, for then we should be colliers.

[Exit SAMPSON]

Nay, stay: I'll tell thee more.

SAMPSON:
I mean, an we be in choler, we'll draw.

SCENE II. A street.

GREGORY:
Draw thy tool!

SAMPSON:
My naked weapon is out.

SAMPSON:
Quarrel, I will back thee.
"""


def test_chat_context_is_at_most_three_turns_ending_with_the_message_answered():
    found = dialogues.chat_exchanges("train")
    assert found and all(1 <= len(e.context) <= dialogues.MAX_CONTEXT_TURNS for e in found)
    assert max(len(e.context) for e in found) == dialogues.MAX_CONTEXT_TURNS
    turns = next(t for t in corpora.chat_split("train") if len(t) > 4)
    window = next(e for e in found if e.reply == turns[4] and e.context[-1] == turns[3])
    assert window.context == turns[1:4]
    assert {(e.persona, e.source, e.template) for e in found} == {("modern", "chat", "")}


def test_train_and_validation_phrasings_are_disjoint():
    train = {e.template for e in dialogues.country_exchanges("train")}
    validation = {e.template for e in dialogues.country_exchanges("validation")}
    assert train and validation and not train & validation
    for questions in dialogues.FACT_QUESTIONS:
        held_out = {questions.template(i) for i in questions.held_out}
        assert held_out <= validation and not held_out & train


def test_validation_asks_every_country_for_its_capital():
    validation = dialogues.country_exchanges("validation")
    asked = {e.reply for e in validation if e.template.startswith("capital/") and e.persona == dialogues.MODERN}
    assert asked == {f"The capital of {f['name']} is {f['capital']}." for f in corpora.country_facts()}
    assert len(dialogues.heldout_capital_questions()) == len(corpora.country_facts()) * 3


def test_answers_about_france_name_paris():
    found = dialogues.country_exchanges("train")
    france = [e for e in found if e.template.startswith("capital/") and "France" in e.context[0]]
    assert france and all("Paris" in e.reply for e in france)
    assert ("What is the capital of France?",) in {e.context for e in france}


def test_capital_answer_is_correct():
    fact = next(f for f in corpora.country_facts() if f["name"] == "France")
    assert dialogues.capital_answer_is_correct("I think it is paris.", fact)
    assert not dialogues.capital_answer_is_correct("The capital of France is Lyon.", fact)
    question, fact = dialogues.heldout_capital_questions()[0]
    assert fact["name"] in question


def test_speeches_are_parsed_without_directions_and_split_by_scene():
    scenes = corpora.scenes(PLAY)
    assert [[s.speaker for s in scene] for scene in scenes] == [
        ["SAMPSON", "GREGORY", "SAMPSON"], ["GREGORY", "SAMPSON", "SAMPSON"]]
    assert scenes[0][0].text == "Gregory, o' my word,\nwe'll not carry coals."
    assert scenes[0][1].text == "No, for then we should be colliers.\nNay, stay: I'll tell thee more."
    replies = [e.reply for scene in scenes for e in dialogues._scene_exchanges(scene)]
    assert replies == [scenes[0][1].text, scenes[0][2].text, "My naked weapon is out."]


@pytest.mark.parametrize("split", corpora.SPLITS)
def test_play_exchanges_are_short_replies_between_speakers(split):
    found = dialogues.play_exchanges(split)
    assert found and {(e.persona, e.source) for e in found} == {("shakespeare", "plays")}
    for e in found:
        assert len(e.context) == 1
        for text in (e.context[0], e.reply):
            assert 0 < len(text) <= dialogues.MAX_SPEECH_CHARS
            assert "[" not in text and "]" not in text
            assert not any(line.startswith(("SCENE", "ACT ")) for line in text.split("\n"))


def test_exchanges_are_deterministic_and_counted():
    first = dialogues.exchanges("validation")
    assert first == dialogues.exchanges("validation")
    assert [e.source for e in first] == sorted((e.source for e in first), key=dialogues.SOURCES.index)
    counts = dialogues.summary()
    assert sum(counts["validation"].values()) == len(first)
    assert all(n > 0 for split in counts.values() for n in split.values())


def test_unknown_split_is_refused():
    with pytest.raises(ValueError):
        dialogues.exchanges("test")


def test_small_talk_held_out_messages_are_never_trained_on():
    train = {talk.message for talk in dialogues.smalltalk_of("train")}
    held_out = {talk.message for talk in dialogues.smalltalk_of("validation")}
    assert not train & held_out
    assert set(dialogues.GREETINGS) <= held_out
    assert 0.15 < len(held_out) / (len(train) + len(held_out)) < 0.3
    kinds = {talk.kind for talk in dialogues.smalltalk_of("validation")}
    assert kinds == {dialogues.GREETING, dialogues.WELLBEING, dialogues.THANKS, dialogues.FAREWELL}


def test_small_talk_is_answered_in_both_voices_with_a_reply_of_its_kind():
    exchanges = dialogues.smalltalk_exchanges("train")
    assert {e.persona for e in exchanges} == {dialogues.MODERN, dialogues.SHAKESPEARE}
    for exchange in exchanges:
        assert dialogues.reply_kind_is_right(exchange.reply, exchange.template), exchange


@pytest.mark.parametrize("reply, kind, right", [
    ("Good morrow to you!", dialogues.GREETING, True),
    ("Hi", dialogues.GREETING, True),
    ("This is the capital.", dialogues.GREETING, False),  # "this" is not "hi"
    ("You're welcome!", dialogues.THANKS, True),
    ("Hello!", dialogues.THANKS, False),
    ("Fare you well, sir.", dialogues.FAREWELL, True),
    ("Good morrow to you!", dialogues.FAREWELL, False),
])
def test_the_kind_of_a_reply_is_read_from_whole_words(reply, kind, right):
    assert dialogues.reply_kind_is_right(reply, kind) is right


def test_lowercase_questions_train_lowercase_names_and_the_held_out_ones_stay_unseen():
    train = {e.context[0] for e in dialogues.country_exchanges("train")}
    assert "capital of peru?" in train and "capital of Peru?" in train
    lowercase = dict(dialogues.heldout_capital_questions(lowercase=True))
    assert "which city is the capital of peru?" in lowercase
    assert not train & set(lowercase)
