"""The fill tab's memory of the plays: spans found between a gap's neighbours, and how they mix in."""
from pathlib import Path

import pytest

from rnn_demo.data.corpora import Play
from rnn_demo.data.quotes import MIN_MATCHED_WORDS, QuoteIndex, Quotation, mix_quotations

HAMLET = """HAMLET:
To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer

OPHELIA:
Good my lord, how does your honour for this many a day?
"""
OTHER = """FIRST LORD:
I know not, sir, that is the question.

SECOND LORD:
Lend me your ears, and that is the answer: go.

FIRST LORD:
Not to be, that is the
question of the day.
"""


@pytest.fixture(scope="module")
def index():
    return QuoteIndex([Play("hamlet", HAMLET), Play("other", OTHER)])


def test_the_span_between_the_neighbours_is_found_with_its_play(index):
    found = index.find("To be, or not to be, that is the ", ".")
    assert found == [Quotation("question", 1.0, 8, "hamlet")]


def test_a_gap_that_ends_the_sentence_takes_a_span_that_ends_a_clause(index):
    # "not to be, that is the" is followed by "question:" in Hamlet and by "question of the day."
    # in the other play: only the first ends a clause within three words.
    assert index.find("Not to be, that is the ", ".") == [Quotation("question", 1.0, 6, "hamlet")]
    assert index.find("Not to be, that is the ", " of the day.") == [Quotation("question", 1.0, 9, "other")]


def test_a_verse_line_end_ends_a_span_like_punctuation(index):
    # "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer"
    assert [q.filler for q in index.find("Whether 'tis nobler in the ", ".")] == ["mind to suffer"]
    assert [q.filler for q in index.find("the question: whether 'tis nobler in the ", " suffer")] == ["mind to"]


def test_longest_matches_only_and_case_is_ignored(index):
    found = index.find("I KNOW NOT, SIR, THAT IS THE ", ".")
    assert [(q.filler, q.matched_words, q.play) for q in found] == [("question", 7, "other")]


def test_short_matches_are_common_phrases_not_quotations(index):
    assert MIN_MATCHED_WORDS == 4
    assert index.find("lend me ", ".") == []  # two matching words
    assert index.find("Lend me your ", ", and that") != []  # 3 left + 3 right


def test_a_passage_found_in_many_places_is_a_phrase_not_a_quotation():
    def play(words):
        return Play("lords", "\n\n".join(f"LORD:\nGive me the {word} of the day." for word in words))

    assert QuoteIndex([play("abcdefgh")]).find("give me the ", " of the") == []  # 5 words matched, in 8 places
    found = QuoteIndex([play("aab")]).find("give me the ", " of the")
    assert {q.filler: q.share for q in found} == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}


def test_a_quotation_matches_most_of_the_words_typed(index):
    assert index.find("To be, or not to be, that is the ", ".") != []  # 8 of 8
    assert index.find("Never mind whether to be, that is the ", ".") == []  # 5 of the 8 last words


def test_right_neighbours_alone_find_a_span_that_begins_a_clause(index):
    found = index.find("", " is the question: whether 'tis nobler")
    assert [q.filler for q in found] == ["that"]


def test_matches_do_not_run_across_speeches(index):
    # "...many a day?" ends Ophelia's speech; the next play's first speech starts "I know not".
    assert index.find("how does your honour for this many a ", " I know not") == []


def test_no_words_around_the_gap_finds_nothing(index):
    assert index.find("", "") == [] and index.find("!", "?") == []


def test_mixing_weights_the_memory_by_the_words_matched():
    quotations = [Quotation("Question", 0.75, 5, "hamlet"), Quotation("answer", 0.25, 5, "other")]
    mixed, found = mix_quotations({"question": 0.1, "king": 0.5}, quotations, lambda text: 0.02)
    weight = 5 / 8
    assert mixed == pytest.approx({"question": (1 - weight) * 0.1 + weight * 0.75, "king": (1 - weight) * 0.5,
                                   "answer": (1 - weight) * 0.02 + weight * 0.25})
    assert set(found) == {"question", "answer"}  # the beam's spelling is kept


def test_no_quotations_leave_the_model_alone():
    assert mix_quotations({"king": 0.5}, [], lambda text: 1.0) == ({"king": 0.5}, {})


@pytest.fixture()
def two_plays(monkeypatch):
    """training_index over the two small plays above instead of the installed training plays; counts its builds."""
    from rnn_demo.data import quotes

    builds = []
    monkeypatch.setattr(quotes.corpora, "play_split",
                        lambda split: builds.append(split) or (Play("hamlet", HAMLET), Play("other", OTHER)))
    return builds


def test_the_memory_kept_in_a_folder_is_read_back_the_same_without_building(tmp_path, two_plays):
    from rnn_demo.data import quotes

    built = quotes.training_index(tmp_path)
    assert two_plays == ["train"] and [path.name[:7] for path in tmp_path.iterdir()] == [quotes.CACHE_PREFIX]
    read = quotes.training_index(tmp_path)
    assert two_plays == ["train"]  # read, not built again
    for left, right in [("To be, or not to be, that is the ", "."), ("Not to be, that is the ", " of the day."),
                        ("", " or not to be, that is the question")]:
        assert read.find(left, right) == built.find(left, right)
    assert read.find("To be, or not to be, that is the ", ".") == [Quotation("question", 1.0, 8, "hamlet")]
    assert read.words.vocabulary == built.words.vocabulary and read.words.spellings == built.words.spellings


def test_a_kept_file_that_does_not_read_is_built_again_and_replaced(tmp_path, two_plays, caplog):
    from rnn_demo.data import quotes

    quotes.training_index(tmp_path)
    (kept,) = tmp_path.iterdir()
    kept.write_bytes(b"PK\x03\x04 not a whole archive")
    index = quotes.training_index(tmp_path)
    assert two_plays == ["train", "train"] and "building the quotation memory again" in caplog.text
    assert index.find("To be, or not to be, that is the ", ".")[0].filler == "question"
    quotes.training_index(tmp_path)
    assert len(two_plays) == 2  # the rebuilt file reads


def test_a_folder_that_cannot_be_written_only_means_building_each_time(tmp_path, two_plays, caplog):
    from rnn_demo.data import quotes

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    index = quotes.training_index(blocked / "cache")
    assert index.find("To be, or not to be, that is the ", ".")[0].filler == "question"
    assert "is not kept in" in caplog.text


def test_the_file_name_follows_what_the_memory_is_built_from(tmp_path, two_plays, monkeypatch):
    from rnn_demo.data import quotes

    quotes.training_index(tmp_path)
    monkeypatch.setattr(quotes, "CACHE_FORMAT", quotes.CACHE_FORMAT + 1)  # as a change of the sources would
    quotes.training_index(tmp_path)
    assert len(two_plays) == 2 and len(list(tmp_path.iterdir())) == 2


def test_the_engine_keeps_its_memory_where_it_is_told():
    from rnn_demo.serving.engine import CACHE_VARIABLE, default_cache_dir

    assert default_cache_dir({CACHE_VARIABLE: "/srv/cache"}) == Path("/srv/cache")
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/rnn-demo")
    assert default_cache_dir({}) == Path.home() / ".cache" / "rnn-demo"
