"""Fill-the-blank data: sentence spans, fact templates and their split, gap parsing, baseline."""
import functools
import re

import pytest

from rnn_demo.data import corpora, everyday, fill_sentences

SAMPLE_SIZE = 500
_ENDS_ON_WORDS = re.compile(r"[^\W_].*[^\W_]|[^\W_]", re.S)


def _sample(items: tuple) -> tuple:
    """About `SAMPLE_SIZE` items spread evenly over `items`."""
    return items[::max(1, len(items) // SAMPLE_SIZE)]


def _phrasing(template: str) -> tuple[str, str]:
    """("{capital} is the capital of {name}.", "capital") for "capital/0:capital"."""
    kind_index, role = template.split(":")
    kind, index = kind_index.split("/")
    templates = next(t for t in fill_sentences.FACT_TEMPLATES if t.kind == kind)
    return templates.phrasings[int(index)], kind if role == "subregion" else role


def _fact_sentence_pattern(phrasing: str, role: str) -> re.Pattern:
    """`phrasing` as a regex whose group "answer" is the blanked placeholder."""
    parts = re.split(r"\{(\w+)\}", phrasing)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else ("(?P<answer>.+)" if part == role else ".+")
        for i, part in enumerate(parts)
    )
    return re.compile(pattern)


@functools.lru_cache(maxsize=None)
def _sentences(source: str, split: str) -> frozenset[str]:
    if source == "everyday":
        return frozenset(everyday.sentences(split))
    found = fill_sentences.play_sentences(split) if source == "plays" else fill_sentences.chat_sentences(split)
    return frozenset(found)


def _check_sentence(blank: fill_sentences.FillExample, split: str) -> None:
    """The blank is cut from its sentence: a fact phrasing or a sentence of plays or chat."""
    sentence = blank.left + blank.answer + blank.right
    start, end = len(blank.left), len(blank.left) + len(blank.answer)
    if blank.source == "facts":  # "{name}'s capital" blanks the name out of a word "France's"
        phrasing, role = _phrasing(blank.template)
        match = _fact_sentence_pattern(phrasing, role).fullmatch(sentence)
        assert match and match.span("answer") == (start, end), blank
    else:
        words = list(fill_sentences.WORD.finditer(sentence))
        assert start in {word.start() for word in words} and end in {word.end() for word in words}
        assert sentence in _sentences(blank.source, split) and blank.template == "", blank


@pytest.mark.parametrize("source", fill_sentences.SOURCES)
@pytest.mark.parametrize("split", corpora.SPLITS)
def test_blanks_rebuild_their_sentence_around_an_answer_of_one_to_three_words(source, split):
    found = fill_sentences.examples_of(source, split)
    assert found and {blank.source for blank in found} == {source}
    for blank in _sample(found):
        assert 1 <= len(fill_sentences.WORD.findall(blank.answer)) <= fill_sentences.MAX_ANSWER_WORDS, blank
        assert _ENDS_ON_WORDS.fullmatch(blank.answer), blank
        _check_sentence(blank, split)


def test_sentences_split_after_stops_and_semicolons():
    found = fill_sentences.sentences("Stay; I'll go.  Who comes?! Nay")
    assert found == ["Stay;", "I'll go.", "Who comes?!", "Nay"]


@pytest.mark.parametrize("split", corpora.SPLITS)
def test_play_sentences_are_speech_only(split):
    found = fill_sentences.play_sentences(split)
    assert found
    for sentence in found:
        assert 4 <= len(fill_sentences.WORD.findall(sentence)) <= 25
        assert not re.search(r"[\[\]\\\n]", sentence), sentence
        assert not re.match(r"(ACT|SCENE)\b", sentence), sentence
        assert not corpora.is_speaker(sentence), sentence


@pytest.mark.parametrize("split", corpora.SPLITS)
def test_chat_sentences_are_prose(split):
    found = fill_sentences.chat_sentences(split)
    assert found
    for sentence in found:
        assert 3 <= len(fill_sentences.WORD.findall(sentence)) <= 25
        assert "`" not in sentence and "\n" not in sentence, sentence


def test_spans_are_seeded_by_the_sentence_and_mostly_content_words():
    sentence = "But soft, what light through yonder window breaks?"
    found = fill_sentences.sentence_examples(sentence, "plays")
    assert [b.answer for b in found] == ["soft", "through yonder window"]
    assert found[0] == fill_sentences.FillExample("But ", "soft", sentence[len("But soft"):], "plays")
    assert fill_sentences.sentence_examples(sentence, "plays") == found
    repeat_dropped = fill_sentences.sentence_examples("Paris is the capital of France.", "chat")
    assert [b.answer for b in repeat_dropped] == ["Paris"]
    answers = [fill_sentences.WORD.findall(b.answer) for b in fill_sentences.examples_of("chat", "train")]
    content = sum(fill_sentences._is_content(w[0]) and fill_sentences._is_content(w[-1]) for w in answers)
    assert content / len(answers) > 0.75
    lengths = [len(words) for words in answers]
    assert lengths.count(1) > lengths.count(2) > lengths.count(3) > 0


def test_fact_templates_hold_out_a_third_of_phrasings():
    for templates in fill_sentences.FACT_TEMPLATES:
        least = 6 if templates.kind == "capital" else 3
        assert len(templates.phrasings) >= least
        assert len(templates.held_out) * 3 == len(templates.phrasings)
        for phrasing in templates.phrasings:
            assert sorted(re.findall(r"\{(\w+)\}", phrasing)) == sorted(["name", templates.kind])


def test_train_and_validation_fact_templates_are_disjoint():
    train = {b.template.split(":")[0] for b in fill_sentences.fact_examples("train")}
    validation = {b.template.split(":")[0] for b in fill_sentences.fact_examples("validation")}
    assert train and validation and not train & validation
    for templates in fill_sentences.FACT_TEMPLATES:
        held_out = {f"{templates.kind}/{i}" for i in templates.held_out}
        assert held_out <= validation and not held_out & train


def test_fact_answers_are_fact_values_and_roles_are_recorded():
    roles = {b.template.split(":")[1] for b in fill_sentences.fact_examples("train")}
    assert roles == {"name", "capital", "region", "subregion", "demonym", "currency", "language",
                     "neighbour"}
    values = {
        value
        for f in corpora.country_facts()
        for value in [f["name"], f["capital"], f["region"], f["subregion"], f["demonym"],
                      *f["currencies"], *f["languages"], *f["borders"]]
    }
    values |= set(fill_sentences.SHORT_FORMS.values()) | set(fill_sentences.REGION_NAMES.values())
    assert all(b.answer in values for b in fill_sentences.fact_examples("validation"))


def test_every_country_with_a_capital_has_validation_capital_blanks():
    found = {b.sentence: b.answer for b in fill_sentences.fact_examples("validation")
             if b.template.endswith(":capital")}
    capital = fill_sentences.FACT_TEMPLATES[0]
    assert capital.kind == "capital" and len(capital.held_out) >= 2
    missing = []
    for fact in corpora.country_facts():
        name = fill_sentences.SHORT_FORMS.get(fact["name"], fact["name"])
        city = fill_sentences.SHORT_FORMS.get(fact["capital"], fact["capital"])
        if not fill_sentences.is_answerable(city):
            missing.append(fact["name"])
            continue
        for i in capital.held_out:
            assert found[capital.phrasings[i].format(name=name, capital=city)] == city
    assert len(missing) <= 2  # e.g. "Kralendijk / Oranjestad / The Bottom"
    names = {b.answer for b in fill_sentences.fact_examples("validation") if b.template.endswith(":name")}
    assert "France" in names and "United States" in names


@pytest.mark.parametrize("split", corpora.SPLITS)
def test_every_country_appears_in_both_splits(split):
    text = "\n".join(b.sentence for b in fill_sentences.fact_examples(split))
    assert all(fact["name"] in text for fact in corpora.country_facts())


def test_france_and_paris_are_blanked_in_training():
    found = set(fill_sentences.fact_examples("train"))
    paris = fill_sentences.FillExample("", "Paris", " is the capital of France.", "facts", "capital/0:capital")
    france = fill_sentences.FillExample("Paris is the capital of ", "France", ".", "facts", "capital/0:name")
    assert paris in found and france in found
    assert fill_sentences.FillExample("The capital of United States is ", "Washington", ".", "facts",
                        "capital/1:capital") in found


def test_is_answerable():
    for value in ("Paris", "St. Peter Port", "St. George's", "Guinea-Bissau", "Bogotá",
                  "the Americas"):
        assert fill_sentences.is_answerable(value), value
    for value in ("", "Washington D.C.", "Antiguan,Barbudan", "Modern Greek (1453-)",
                  "Latin America and the Caribbean", " Paris"):
        assert not fill_sentences.is_answerable(value), value


@pytest.mark.parametrize("text, expected", [
    ("Paris is the capital of ___.", ("Paris is the capital of ", ".")),
    ("Paris is the capital of __.", ("Paris is the capital of ", ".")),
    ("Paris is the capital of _____.", ("Paris is the capital of ", ".")),
    ("Paris is the capital of [MASK].", ("Paris is the capital of ", ".")),
    ("Paris is the capital of [mask].", ("Paris is the capital of ", ".")),
    ("___ is the capital of France.", ("", " is the capital of France.")),
    ("[Mask] is the capital of France.", ("", " is the capital of France.")),
    ("To be or not to ___", ("To be or not to ", "")),
    ("a  ___  b", ("a  ", "  b")),
    ("snake_case ___", ("snake_case ", "")),
    ("___", ("", "")),
])
def test_parse_gap_keeps_the_text_around_the_gap(text, expected):
    assert fill_sentences.parse_gap(text) == expected


@pytest.mark.parametrize("text, message", [
    ("Paris is the capital of France.", "no gap found: write the missing part as ___"),
    ("", "no gap found"),
    ("a_single underscore _", "no gap found"),
    ("___ is the capital of ___.", "found 2 gaps: write exactly one ___"),
    ("__ [MASK] ___", "found 3 gaps: write exactly one ___"),
])
def test_parse_gap_refuses_no_gap_or_several(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fill_sentences.parse_gap(text)


def test_blanks_are_ordered_by_source_deterministic_and_counted():
    found = fill_sentences.examples("validation")
    assert [b.source for b in found] == sorted((b.source for b in found), key=fill_sentences.SOURCES.index)
    assert found == fill_sentences.examples_of("facts", "validation") + fill_sentences.examples_of(
        "chat", "validation") + fill_sentences.examples_of("plays", "validation") + fill_sentences.examples_of(
        "everyday", "validation")
    counts = fill_sentences.summary()
    assert sum(counts["validation"].values()) == len(found)
    assert all(n > 0 for split in counts.values() for n in split.values())


def test_unknown_split_or_source_is_refused():
    with pytest.raises(ValueError, match="split"):
        fill_sentences.examples("test")
    with pytest.raises(ValueError, match="source"):
        fill_sentences.examples_of("poems", "train")


def _blank(sentence: str, answer: str) -> fill_sentences.FillExample:
    start = sentence.index(answer)
    return fill_sentences.FillExample(sentence[:start], answer, sentence[start + len(answer):], "facts")


def test_baseline_ranks_fillers_by_neighbouring_words_then_overall():
    train = [
        _blank("Paris is the capital of France.", "France"),
        _blank("Lyon is a city of France.", "France"),
        _blank("Berlin is the capital of Germany.", "Germany"),
        _blank("Madrid is in Spain.", "Spain"),
        _blank("Spain is sunny.", "Spain"),
        _blank("Spain is big.", "Spain"),
        _blank("Rome is old.", "Rome"),
    ]
    rank = fill_sentences.most_frequent_filler_baseline(train)
    left, right = fill_sentences.parse_gap("Nice is a city of ___.")
    assert rank(left, right) == ["France", "Germany", "Spain", "Rome"]
    assert rank("", " is sunny.") == ["Spain", "Rome", "France", "Germany"]
    assert rank("Nothing like it", " whatsoever") == ["Spain", "France", "Germany", "Rome"]
    many = [_blank(f"Word w{i} here.", f"w{i}") for i in range(20)]
    assert len(fill_sentences.most_frequent_filler_baseline(many)("", "")) == fill_sentences.BASELINE_CANDIDATES
