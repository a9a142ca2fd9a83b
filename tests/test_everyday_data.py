"""Everyday input (issue 13): the corpus split, the kinds of chat message, and the fixed held-out sets."""
import collections

import pytest

from rnn_demo.data import chat_kinds, dialogues, everyday, fill_sentences, heldout, knowledge

MIN_CHAT_ITEMS, MIN_GAP_ITEMS = 400, 1_000


def test_conversations_split_by_id_into_three_disjoint_parts():
    parts = {split: {c.key for c in everyday.conversation_split(split)} for split in ("train", "validation", "test")}
    assert all(parts.values())
    assert not (parts["train"] & parts["test"]) and not (parts["train"] & parts["validation"])
    assert not (parts["validation"] & parts["test"])
    assert sum(map(len, parts.values())) == len(everyday.conversations())
    with pytest.raises(ValueError, match="split must be"):
        everyday.sentences("test")  # only data/heldout reads the test conversations


@pytest.mark.parametrize("role, name, least", [("test", "chat", MIN_CHAT_ITEMS), ("validation", "chat", MIN_CHAT_ITEMS),
                                               ("test", "gaps", MIN_GAP_ITEMS), ("validation", "gaps", MIN_GAP_ITEMS)])
def test_heldout_files_are_big_enough(role, name, least):
    assert len(heldout.load(name, role)) >= least


def test_heldout_chat_covers_every_kind_and_both_personas():
    items = heldout.load("chat", "test")
    kinds = collections.Counter(item["kind"] for item in items)
    assert set(kinds) == {"self", "feelings", "likes", "jokes", "facts", "persona_facts", "followup",
                          "capital_modern", "capital_shakespeare", "languages", "smalltalk"}
    assert {item["persona"] for item in items if item["kind"] == "persona_facts"} == {"shakespeare"}
    assert all(item["history"] for item in items if item["kind"] == "followup")
    assert any(item["history"] for item in items if item["kind"] == "self")  # multi-turn, unrelated earlier turn
    assert all(item["accepted"] for item in items if item["check"] in ("facts", "capital"))


def test_heldout_files_are_what_the_script_builds():
    assert heldout.chat_items("test") == heldout.load("chat", "test")
    assert heldout.gap_items("test") == heldout.load("gaps", "test")


def test_normalised_ignores_case_marks_and_apostrophes():
    assert everyday.normalised("What's  your name?!") == everyday.normalised("whats your name") == "whats your name"
    assert everyday.normalised("Hi, friend.") == "hi friend" != everyday.normalised("Hi friends")


def test_no_heldout_gap_sentence_or_document_is_trained_on():
    trained = {everyday.normalised(blank.sentence) for blank in fill_sentences.everyday_examples("train")}
    validation = {everyday.normalised(sentence) for sentence in everyday.sentences("validation")}
    for item in heldout.load("gaps", "test"):
        sentence = everyday.normalised(item["left"] + item["answer"] + item["right"])
        assert sentence not in trained and sentence not in validation, item
        assert len(fill_sentences.WORD.findall(item["answer"])) == 1  # one word, as the README says
    for item in heldout.load("gaps", "validation"):
        assert everyday.normalised(item["left"] + item["answer"] + item["right"]) not in trained, item


def test_no_everyday_test_sentence_is_trained_on():
    test = {everyday.normalised(sentence) for sentence in everyday.test_sentences()}
    assert len(test) > heldout.GAP_SENTENCES
    for split in ("train", "validation"):
        assert not test & {everyday.normalised(sentence) for sentence in everyday.sentences(split)}


def test_no_heldout_chat_message_is_trained_on():
    # Any turn of any training exchange, compared as typed text is (case, marks and apostrophes ignored).
    trained = {everyday.normalised(turn) for exchange in dialogues.exchanges("train") for turn in exchange.context}
    for role in heldout.ROLES:
        for item in heldout.load("chat", role):
            assert everyday.normalised(item["message"]) not in trained, item


@pytest.mark.parametrize("kind", chat_kinds.KINDS)
def test_heldout_phrasings_differ_from_trained_ones_beyond_case_and_marks(kind):
    trained = {everyday.normalised(talk.context[-1]) for talk in chat_kinds.talk_of("train", (kind,))}
    held_out = {everyday.normalised(talk.context[-1]) for role in heldout.ROLES
                for talk in chat_kinds.talk_of(role, (kind,))}
    assert held_out and not trained & held_out


def test_smalltalk_split_keeps_a_message_and_its_twins_together():
    trained = {everyday.normalised(talk.message) for talk in dialogues.smalltalk_of("train")}
    assert not trained & {everyday.normalised(talk.message) for talk in dialogues.smalltalk_of("validation")}


def test_kinds_train_on_both_personas_and_after_an_unrelated_turn():
    exchanges = dialogues.kind_exchanges("train")
    assert {e.persona for e in exchanges} == {"modern", "shakespeare"}
    name = [e for e in exchanges if e.template.startswith("self/name/") and len(e.context) == 3]
    assert name and all("RNN Playground chatbot" in e.reply for e in name)


def test_earlier_turns_are_small_talk_as_often_as_kinds():
    # "Hello" / "Hey!" before "Who are you?" is how a page's chat starts; a model that had only seen kinds
    # before a kind answered it "I'm doing great.".
    smalltalk = {talk.message for talk in dialogues.smalltalk_of("train")}
    kinds = dialogues.kind_exchanges("train")
    after = [e.context[0] in smalltalk for e in kinds if len(e.context) == 3 and not e.template.startswith("followup")]
    assert 0.4 < sum(after) / len(after) < 0.6
    talk = [e for e in dialogues.smalltalk_exchanges("train") if len(e.context) == 3]
    assert talk and all(dialogues.reply_kind_is_right(e.reply, e.template) for e in talk)
    assert {e.persona for e in talk} == {"modern", "shakespeare"}


def test_shakespearean_persona_answers_facts_in_its_voice():
    facts = [e for e in dialogues.country_exchanges("train") if e.persona == "shakespeare"]
    peru = [e for e in facts if e.context == ("What is the capital of Peru?",)]
    assert peru and "Lima" in peru[0].reply and peru[0].reply != "The capital of Peru is Lima."


def test_facts_come_from_the_packages():
    kinds = knowledge.summary()
    assert kinds["element"] == 3 * 118 and kinds["planet"] == 24 and kinds["book"] > 300
    assert ("Hamlet", "William Shakespeare") in knowledge.books()
    iron = [f for f in knowledge.facts() if f.kind == "element/symbol" and f.subject == "Iron"]
    assert iron[0].accepted == ("Fe",)


@pytest.mark.parametrize("kind, reply, extra, right", [
    ("facts", "The symbol of hydrogen is H.", dict(accepted=("H",)), True),
    ("facts", "hello there", dict(accepted=("H",)), False),  # symbols match exactly, as whole words
    ("facts", "Marry, Iron was written by nobody.", dict(accepted=("Fe",)), False),
    ("self", "I'm the RNN Playground chatbot, a small recurrent neural network.", {}, True),
    ("self", "I am not.", {}, False),
    ("feelings", "I'm sorry to hear that.", dict(mood="bad"), True),
    ("feelings", "I'm glad to hear that!", dict(mood="bad"), False),
    ("likes", "I am fond of chess, good sir.", {}, True),
    ("languages", "Sorry, I only speak English.", {}, True),
    ("thanks", "You're welcome!", {}, True),
])
def test_reply_checks(kind, reply, extra, right):
    assert chat_kinds.reply_is_right(kind, reply, **extra) is right


def test_a_joke_is_recognised_only_when_it_is_one():
    joke = chat_kinds.jokes()[0]
    assert chat_kinds.reply_is_right("jokes", "Here's one: " + joke)
    assert not chat_kinds.reply_is_right("jokes", "I am not sure what you mean.")


def _word_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


# Short questions one word apart that ask something else (looked at one by one): not near-duplicates.
DIFFERENT_QUESTIONS = {("are you conscious", "are you human"), ("how do you learn", "how do you think"),
                       ("who owns you", "who built you"), ("who taught you", "who built you")}


def _without_hey(words: tuple[str, ...]) -> tuple[str, ...]:
    return words[1:] if words[:1] == ("hey",) else words


@pytest.mark.parametrize("kind", ("self", "feelings", "likes", "jokes", "followup"))
def test_training_only_phrasings_differ_from_heldout_ones_by_more_than_a_word(kind):
    # The "+" phrasings were written after the held-out sets were fixed; a synonym swapped into a held-out
    # phrasing ("Who designed you?" / "Who built you?") would make the held-out figure a memory test.
    held_out = {tuple(everyday.normalised(talk.context[-1]).split()) for role in heldout.ROLES
                for talk in chat_kinds.talk_of(role, (kind,))}
    # Not the lowercase and "Hey, …" forms of the first trained phrasings ("+t"): they are as near the
    # held-out ones as those phrasings always were ("Who made you?" / "Who built you?").
    more = {tuple(everyday.normalised(talk.context[-1]).split()) for talk in chat_kinds.talk(kind)
            if chat_kinds.is_more(talk) and f"/{chat_kinds.MORE}t" not in talk.template}
    assert more and held_out
    close = {(" ".join(_without_hey(a)), " ".join(_without_hey(b))) for a in more for b in held_out
             if _word_distance(list(a), list(b)) <= 1}
    close -= DIFFERENT_QUESTIONS
    close = sorted(close)
    assert not close, close[:5]
