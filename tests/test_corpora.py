"""Corpora from installed packages: cleaned plays, the play split, dialogues, facts."""
import pytest

from rnn_demo.data import corpora, dialogues, fill_sentences


def test_markdown_becomes_play_script():
    markdown = "# Title\n\n## ACT I\n\n**ROMEO**  \nBut soft!  \n_Enter JULIET, above_\n\n**JULIET**  \n_\\[Aside]_  \nAy me!\n"
    text = corpora.clean_play(markdown)
    assert text == "ACT I\n\nROMEO:\nBut soft!\n[Enter JULIET, above]\n\nJULIET:\n[Aside]\nAy me!\n"


def test_split_holds_out_the_validation_plays():
    train = {play.name for play in corpora.play_split("train")}
    validation = {play.name for play in corpora.play_split("validation")}
    assert validation == set(corpora.VALIDATION_PLAYS)
    assert not train & validation
    assert len(train) == 36


def test_cleaned_plays_have_no_markdown():
    text = corpora.play_split("validation")[0].text
    assert "**" not in text and "_" not in text and "#" not in text
    assert "\nGOWER:\n" in text


def test_chat_split_is_stable_and_disjoint():
    train, validation = corpora.chat_split("train"), corpora.chat_split("validation")
    assert len(validation) > 0 and len(train) > 5 * len(validation)
    assert not set(train) & set(validation)
    assert corpora.chat_split("validation") == validation


def test_country_facts_name_capitals():
    facts = {fact["name"]: fact for fact in corpora.country_facts()}
    assert facts["France"]["capital"] == "Paris"
    assert "Paris is the capital of France." in corpora.fact_sentences(facts["France"])


@pytest.mark.parametrize("split_of", [corpora.play_split, corpora.chat_split, dialogues.exchanges,
                                      fill_sentences.examples])
def test_every_split_function_refuses_an_unknown_split_name(split_of):
    with pytest.raises(ValueError, match="split must be 'train' or 'validation', not 'test'"):
        split_of("test")
