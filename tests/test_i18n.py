"""The page in English and 简体中文: every visible string of the page has both, and the engine's messages
are written in the visitor's language."""
import json

import gradio as gr
import pytest

from rnn_demo.config import LIMITS
from rnn_demo.serving import ChatRequest, Engine, FillRequest, GenerationRequest
from rnn_demo.serving.chat import OTHER_LANGUAGE_NOTE, UNSURE_NOTE
from rnn_demo.serving.fill import CALIBRATED_MEANING, MODEL_MEANING, NORMALISED_MEANING
from rnn_demo.ui import build_demo, language
from rnn_demo.ui.text import CHINESE, ENGINE_MESSAGES, ENGLISH, STRINGS, say, token_label, translated

TEXT_PROPS = ("label", "info", "placeholder", "title", "description")
# Types whose value is content (the visitor's text, model output, numbers) or a choice shown through its label.
CONTENT_TYPES = {"textbox", "dataset", "number", "slider", "label", "json", "chatbot", "highlightedtext", "dataframe", "radio",
                 "dropdown", "checkbox", "checkboxgroup"}
I18N_MARKER = "__i18n__"


def i18n_key(value):
    """The translation key a config value carries, or None when it is plain text."""
    if isinstance(value, gr.i18n.I18nData):
        return value.key
    if isinstance(value, str) and value.startswith(I18N_MARKER):
        return json.loads(value[len(I18N_MARKER):])["key"]
    return None


def visible_strings(config: dict):
    """(component type, property, value) for every string the page shows from its Blocks config."""
    for component in config["components"]:
        kind, props = component["type"], component["props"]
        for prop in TEXT_PROPS:
            if props.get(prop) is not None and props.get(f"show_{prop}", True) is not False:
                yield kind, prop, props[prop]
        if kind not in CONTENT_TYPES and props.get("value") not in (None, ""):
            yield kind, "value", props["value"]
        for choice in props.get("choices") or ():
            yield kind, "choice", choice[0] if isinstance(choice, (list, tuple)) else choice


@pytest.fixture(scope="module")
def page_config(tmp_path_factory):
    # No checkpoints needed: the page is built the same way whatever the engine can load.
    return build_demo(Engine(tmp_path_factory.mktemp("no-assets"))).get_config_file()


def test_every_visible_string_is_a_key_with_both_languages(page_config):
    found, untranslated = set(), []
    for kind, prop, value in visible_strings(page_config):
        key = i18n_key(value)
        if key is None:
            untranslated.append(f"{kind}.{prop} = {value!r}")
        else:
            found.add(key)
    assert not untranslated, "strings the page shows without a translation key: " + "; ".join(untranslated)
    assert found <= set(STRINGS), f"keys missing from text.STRINGS: {sorted(found - set(STRINGS))}"
    assert len(found) > 40  # the walk really saw the page's labels


def test_the_i18n_tables_have_both_languages_for_every_key():
    for key, (english, chinese) in STRINGS.items():
        assert english.strip() and chinese.strip(), key
        assert english != chinese or not any(c.isalpha() and c.isascii() for c in english.replace("␣", "")), key
    i18n = gr.I18n  # the tables handed to launch(i18n=...) hold every key in both languages
    from rnn_demo.ui.text import I18N
    assert isinstance(I18N, i18n)
    assert set(I18N.translations_dict[ENGLISH]) == set(I18N.translations_dict[CHINESE]) == set(STRINGS)


def test_page_strings_have_no_braces_for_the_browser():
    # The browser reads them as ICU messages, where braces are placeholders; placeholders are filled only
    # server-side (`say`), so a key the page shows must have none.
    shown = {key for key in STRINGS if not any("{" in text for text in STRINGS[key])}
    for key in ("page.intro", "shakespeare.help", "chatbot.help", "fill.help", "chatbot.attention_empty"):
        assert key in shown


BAD_REQUESTS = [
    GenerationRequest(prompt="   "),
    GenerationRequest(prompt="x" * (LIMITS.max_prompt_chars + 1)),
    GenerationRequest(prompt="a\x1bb"),
    GenerationRequest(prompt="a\ud800"),
    GenerationRequest(prompt=42),
    GenerationRequest(prompt="ROMEO:", model="gpt-5"),
    GenerationRequest(prompt="ROMEO:", temperature=-1),
    GenerationRequest(prompt="ROMEO:", temperature=1e-10),
    GenerationRequest(prompt="ROMEO:", temperature="hot"),
    GenerationRequest(prompt="ROMEO:", seed=2.5),
    GenerationRequest(prompt="ROMEO:", max_tokens=10 ** 400),
    ChatRequest(message="hi", persona="pirate"),
    ChatRequest(message="hi", decoding="telepathy"),
    ChatRequest(message="hi", history="no"),
    ChatRequest(message="hi", history=["x"] * (LIMITS.max_history_messages + 1)),
    ChatRequest(message="hi", history=[42]),
    ChatRequest(message="hi", history=["a" * (LIMITS.max_message_chars + 1)]),
    ChatRequest(message="hi", beam_width=0),
    FillRequest(sentence="", top_k=5),
    FillRequest(sentence="fine ___", top_k=0),
]


@pytest.mark.parametrize("request_", BAD_REQUESTS, ids=lambda r: type(r).__name__)
def test_every_refusal_of_the_checks_is_written_in_chinese(request_, tmp_path):
    from rnn_demo.config import InputError

    with pytest.raises(InputError) as refused:
        Engine(tmp_path).check(request_)
    message = str(refused.value)
    chinese = translated(message, CHINESE)
    assert chinese != message, f"no Chinese for {message!r}"
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese)
    assert translated(message, ENGLISH) == message


@pytest.mark.parametrize("message", [
    "no gap found: write the missing part as ___ (two or more underscores) or [MASK], e.g. 'Paris is the capital of ___.'",
    "found 3 gaps: write exactly one ___",
    "Your message is 60 tokens long and the chatbot reads only the last 47: the start of your message was left out.",
    "The reply was cut at the time limit (0 s), after 0 tokens.",
    "The sentence is 90 tokens long and the model reads only the 64 around the gap: its ends were left out.",
    UNSURE_NOTE.format(confidence=0.12),
    OTHER_LANGUAGE_NOTE,
    CALIBRATED_MEANING, MODEL_MEANING, NORMALISED_MEANING,  # what the fill tab's probabilities mean
    "the distance must be between 1 and 60, not 999",  # learn/copy_task.py
    "place must be one of top, bottom, left, right, centre, not 'up'",  # learn/scenes.py
])
def test_the_engines_notes_are_written_in_chinese(message):
    assert translated(message, CHINESE) != message


TRAIN_SETTINGS_REFUSED = [dict(units=3), dict(layers=1.5), dict(learning_rate=0.0), dict(dropout=0.99),
                          dict(cell="transformer"), dict(optimizer="lion"), dict(minutes=0), dict(embedding=10_000)]


def _refusal(check, *args) -> str:
    from rnn_demo.config import InputError

    with pytest.raises(InputError) as refused:
        check(*args)
    return str(refused.value)


@pytest.mark.parametrize("change", TRAIN_SETTINGS_REFUSED, ids=lambda change: next(iter(change)))
def test_the_train_tabs_refused_settings_are_written_in_chinese(change):
    import dataclasses

    from rnn_demo.usertrain import settings

    message = _refusal(settings.check_settings, dataclasses.replace(settings.PRESETS["small"], **change))
    chinese = translated(message, CHINESE)
    assert chinese != message and any("\u4e00" <= char <= "\u9fff" for char in chinese)
    assert not any(english in chinese for english in ("must be", "units", "layers", "learning rate", "dropout"))


@pytest.mark.parametrize("check, value", [
    ("check_text", "too short"), ("check_text", 42), ("decode_upload", b""), ("decode_upload", b"\x00\x01"),
    ("decode_upload", "é".encode("latin-1") * 300), ("decode_upload", b"x" * (2 * 2 ** 20 + 1)),
], ids=["short text", "not text", "empty file", "binary file", "latin-1 file", "big file"])
def test_the_train_tabs_refused_texts_and_files_are_written_in_chinese(check, value):
    from rnn_demo.usertrain import settings

    message = _refusal(getattr(settings, check), value)
    assert translated(message, CHINESE) != message


def test_a_damaged_model_file_is_explained_in_chinese():
    from rnn_demo.usertrain import archive

    for data in (b"", b"PK\x03\x04 not really a zip"):
        try:
            archive.unpack(data)
        except ValueError as error:
            assert translated(str(error), CHINESE) != str(error)
        else:
            raise AssertionError("a damaged model file was read")


def test_a_message_nobody_translated_stays_as_it_is():
    assert translated("something new went wrong", CHINESE) == "something new went wrong"


def test_token_labels_name_the_structure_symbols():
    assert token_label("<sep>", ENGLISH) == "[end of turn]" and token_label("<sep>", CHINESE) == "[轮次结束]"
    assert token_label("<0xe4>", ENGLISH) == "[byte E4]"
    assert token_label("␣me", CHINESE) == "␣me"


class FakeRequest:
    def __init__(self, **headers):
        self.headers = headers


@pytest.mark.parametrize("headers, expected", [
    ({}, ENGLISH),  # API callers (gradio_client sends neither)
    ({"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}, CHINESE),
    ({"accept-language": "zh-TW"}, CHINESE),
    ({"accept-language": "de-DE,zh-CN;q=0.5"}, ENGLISH),
    ({"cookie": "rnn_lang=zh-CN", "accept-language": "en-US"}, CHINESE),
    ({"cookie": "other=1; rnn_lang=en", "accept-language": "zh-CN"}, ENGLISH),
    ({"cookie": "rnn_lang=fr"}, ENGLISH),
])
def test_the_visitors_language_comes_from_the_pages_cookie_then_the_browser(headers, expected):
    assert language.of(FakeRequest(**headers)) == expected
    assert language.of(None) == ENGLISH


def test_say_fills_in_values():
    assert say("shakespeare.deadline", CHINESE, seconds="30", tokens=5) == "已到时间上限（30 秒），生成了 5 个词元后停止。"
    assert "{" not in say("fill.sure", ENGLISH, percent="93%")
    assert len(ENGINE_MESSAGES) == len({english for english, _ in ENGINE_MESSAGES})
