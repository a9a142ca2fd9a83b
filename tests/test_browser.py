"""A real browser (Debian's headless Chromium, driven by Playwright) using every tab as a person would.

Screenshots of what the browser showed go to test-artifacts/browser/.
"""
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rnn_demo.config import LIMITS
from rnn_demo.serving import Engine

from chromium import CHROMIUM, CHROMIUM_ARGS
from rnn_demo.ui.handlers import INTERNAL_ERROR

from recording_engine import RecordingEngine

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 20_000  # the most any on-screen condition may take (the machine is shared); far above the need
WAIT_S = TIMEOUT_MS / 1000
VIEWPORT = {"width": 1280, "height": 1000}
CHUNK_DELAY_S = 0.003  # per token: 200 tokens last ≥ 0.6 s, so the page shows the text grow
STOP_CHUNK_DELAY_S = 0.02  # per token, while a test presses Stop: 200 tokens would last ≥ 4 s


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    "(.ci/run does this as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def engine(quick_assets):
    return RecordingEngine(quick_assets, chunk_delay_s=CHUNK_DELAY_S)


@pytest.fixture(scope="module")
def app_url(engine, serve_app):
    with serve_app(engine) as demo:
        yield demo.local_url


@pytest.fixture()
def page(browser, request):
    """A fresh page; a screenshot of it is saved when the test ends, passed or failed."""
    expect.set_options(timeout=TIMEOUT_MS)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    snap(page, request.node.name)
    page.close()


def snap(page: Page, name: str) -> None:
    """Saves what the page shows now as test-artifacts/browser/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def starts_with_and_goes_on(prefix: str) -> re.Pattern:
    """Text that starts with `prefix` and has more after it."""
    return re.compile(re.escape(prefix) + r"[\s\S]+")


def open_tab(page: Page, url: str, tab: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name=tab).click()


def toast(page: Page):
    """The text of the pop-up messages (gr.Error, gr.Warning) on the page."""
    return page.locator('[data-testid="toast-text"]').filter(visible=True)


def expect_on_screen(page: Page, text: str) -> None:
    """Waits until a pop-up message containing `text` has faded in completely (Playwright counts an
    element at opacity 0 as visible)."""
    body = page.locator('[data-testid="toast-body"]').filter(has_text=text)
    expect(body).to_have_css("opacity", "1")


def test_shakespeare_text_streams_and_grows(page, app_url, engine):
    open_tab(page, app_url, "Shakespeare")
    page.locator("#prompt textarea").fill("JULIET:\n")
    # Record every length the output box takes, from the page itself, while the text streams.
    page.evaluate("""() => {
        const box = document.querySelector('#output textarea');
        window.lengths = [];
        setInterval(() => {
            const length = box.value.length;
            if (window.lengths.at(-1) !== length) window.lengths.push(length);
        }, 5);
    }""")
    engine.ended.clear()
    page.get_by_role("button", name="Generate").click()
    assert engine.ended.wait(WAIT_S) and engine.how == "finished"
    expect(page.locator("#output textarea")).to_have_value(engine.last_text)
    lengths = [n for n in page.evaluate("window.lengths") if n]
    assert len(lengths) >= 3 and lengths == sorted(lengths), f"the text did not grow on screen: {lengths}"
    assert engine.last_text.startswith("JULIET:\n") and engine.tokens == LIMITS.default_new_tokens
    expect(page.locator("#probabilities .confidence-set").first).to_be_visible()


def test_stop_ends_the_stream_on_the_server(page, app_url, engine):
    open_tab(page, app_url, "Shakespeare")
    engine.chunk_delay_s = STOP_CHUNK_DELAY_S
    try:
        engine.ended.clear()
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#output textarea")).to_have_value(starts_with_and_goes_on("ROMEO:\n"))
        page.get_by_role("button", name="Stop").click()
        assert engine.ended.wait(WAIT_S)
    finally:
        engine.chunk_delay_s = CHUNK_DELAY_S
    assert engine.how == "closed" and engine.tokens < LIMITS.default_new_tokens


def test_bad_input_shows_a_specific_message(page, app_url):
    open_tab(page, app_url, "Shakespeare")
    page.locator("#prompt textarea").fill("   ")
    page.get_by_role("button", name="Generate").click()
    expect(toast(page)).to_have_text("prompt is empty: type a few words first")
    expect_on_screen(page, "prompt is empty")
    snap(page, "bad-input-message")


def test_chat_two_turns_and_see_the_attention_map(page, app_url):
    open_tab(page, app_url, "Chatbot")
    message = page.locator("#message textarea")
    message.fill("Hello")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(1)
    expect(page.locator("#attention table")).to_be_visible()
    expect(message).to_have_value("")  # the box is cleared for the next turn
    message.fill("What is the capital of France?")
    message.press("Enter")
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(2)
    expect(page.locator('#chat [data-testid="user"]')).to_contain_text(["Hello", "What is the capital of France?"])
    table = page.locator("#attention table")
    expect(table.locator("th").filter(has_text="France").first).to_be_visible()  # input tokens head the columns
    assert table.locator("td").count() > 0  # one cell per (reply token, input token)
    expect(page.locator("#attention")).to_contain_text("Beam search n-best")


def test_a_persona_switch_starts_a_new_conversation_and_says_why(page, app_url):
    open_tab(page, app_url, "Chatbot")
    page.locator("#message textarea").fill("Hello")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(1)
    page.get_by_label("Shakespearean").check()
    expect(toast(page).filter(has_text="starts a new conversation").first).to_be_visible()
    expect(page.locator('#chat [data-testid="user"]')).to_have_count(0)
    page.locator("#message textarea").fill("Good morning!")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(1)  # one exchange, in the new voice
    snap(page, "chat-persona-switched")


def test_fill_a_blank_and_see_the_candidates(page, app_url):
    open_tab(page, app_url, "Fill the blank")
    page.locator("#sentence textarea").fill("The capital of Japan is ___.")
    page.get_by_role("button", name="Fill").click()
    expect(page.locator("#candidates .confidence-set").first).to_be_visible()
    assert 1 <= page.locator("#candidates .confidence-set").count() <= 5
    expect(page.locator("#candidates .confidence").first).to_have_text(re.compile(r"\d+%"))
    expect(page.locator("#completed")).to_contain_text("The capital of Japan is")
    expect(page.locator("#fill-note")).to_contain_text("best filler")


def test_an_internal_error_shows_only_a_generic_message(page, app_url, engine, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail: /srv/models/blank.h5")

    monkeypatch.setattr(engine, "fill", broken)
    open_tab(page, app_url, "Fill the blank")
    page.get_by_role("button", name="Fill").click()
    expect(toast(page)).to_have_text(INTERNAL_ERROR)
    expect_on_screen(page, INTERNAL_ERROR)
    expect(page.get_by_text("secret detail")).to_have_count(0)
    snap(page, "internal-error-message")


def test_a_missing_checkpoint_is_explained_on_its_tab_and_the_others_work(page, assets_copy, serve_app):
    shutil.rmtree(assets_copy / "blank")
    with serve_app(Engine(assets_copy)) as demo:
        open_tab(page, demo.local_url, "Fill the blank")
        notice = page.locator("#fill-notice").filter(visible=True)
        expect(notice).to_contain_text("checkpoint 'blank' is missing")
        expect(notice).to_contain_text("python -m rnn_demo train blank")
        snap(page, "missing-checkpoint-notice")
        page.get_by_role("button", name="Fill").click()
        expect(toast(page)).to_contain_text("checkpoint 'blank' is missing")
        expect_on_screen(page, "python -m rnn_demo train blank")
        page.get_by_role("tab", name="Shakespeare").click()
        expect(page.locator("#shakespeare-notice").filter(visible=True)).to_have_count(0)
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#output textarea")).to_have_value(starts_with_and_goes_on("ROMEO:\n"))


# The page as visitors see it: both languages, light and dark, a phone and a laptop.
LOCALES = {"en": "en-US", "zh": "zh-CN"}
WIDTHS = {"phone": 390, "laptop": 1280}
HEIGHT = 900
TABS = {"en": ["Shakespeare", "Chatbot", "Fill the blank", "Lab", "Learn", "Train"],
        "zh": ["莎士比亚", "聊天", "填空", "实验室", "学习", "训练"]}
# What may stay English on a Chinese page: names (of models, symbols, options) and the models' own text.
ENGLISH_NAMES = {"GRU", "LSTM", "RNN", "MLP", "CPU", "Top", "MASK", "API", "log", "English",
                 # Gradio's own, untranslated by its zh-CN table: the progress label and a "common.complete" key
                 "processing", "common", "complete",
                 # Gradio's own toast title (its zh-CN table leaves it) and queue status ("In queue of 3")
                 "Warning",
                 "In", "queue", "of",
                 # names of optimizers, cells, tools and units on the Train tab
                 "SGD", "Adam", "SimpleRNN", "SentencePiece", "MB", "UTF", "txt",
                 "Dropout",  # given after its Chinese term, 丢弃率（Dropout）
                 # the Train tab's command shown as code: python -m rnn_demo generate --model FILE
                 "python", "rnn", "demo", "generate", "model", "FILE"}
CONTENT = ("#prompt", "#output", "#chat [data-testid='bot']", "#chat [data-testid='user']", "#probabilities",
           "#candidates", "#completed", "#attention th", "#attention li", ".gallery", "#sentence", "#message",
           "table", "[data-testid='textbox']", "textarea", "code", ".glass", "#lab")


@pytest.fixture(scope="module")
def visitor(browser):
    """`visitor(language, width, dark)`: a page of a new browser context with that language and size."""
    contexts = []

    def open_page(language: str, width: int, dark: bool = False) -> Page:
        context = browser.new_context(locale=LOCALES[language], viewport={"width": width, "height": HEIGHT},
                                      color_scheme="dark" if dark else "light")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield open_page
    for context in contexts:
        context.close()


def english_words_shown(page: Page) -> set[str]:
    """English words in the page's visible text, outside the visitor's and the models' own text."""
    text = page.evaluate("""(content) => {
        return [...document.body.querySelectorAll('*')]
            .filter(e => e.children.length === 0 && e.offsetParent !== null && !content.some(s => e.closest(s)))
            .map(e => e.innerText || '').join(' ');
    }""", list(CONTENT))
    return {word for word in re.findall(r"[A-Za-z]{2,}", text)} - ENGLISH_NAMES


def overlap(box: dict, other: dict, tolerance: float = 1) -> bool:
    """Whether two bounding boxes share more than `tolerance` pixels each way."""
    return (min(box["x"] + box["width"], other["x"] + other["width"]) - max(box["x"], other["x"]) > tolerance
            and min(box["y"] + box["height"], other["y"] + other["height"]) - max(box["y"], other["y"]) > tolerance)


def expect_all_tabs_on_screen(page: Page, language: str) -> None:
    for name in TABS[language]:
        expect(page.get_by_role("tab", name=name, exact=True)).to_be_visible()
    expect(page.locator("#main-tabs .overflow-menu").filter(visible=True)).to_have_count(0)


# Every pair of language, theme and width, in 4 runs instead of all 8 (each run is 7-14 s of the suite).
PAIRWISE = [("en", False, "phone"), ("en", True, "laptop"), ("zh", False, "laptop"), ("zh", True, "phone")]


@pytest.mark.parametrize("language, dark, width", [(lang, dark, WIDTHS[width]) for lang, dark, width in PAIRWISE],
                         ids=[f"{lang}-{'dark' if dark else 'light'}-{width}" for lang, dark, width in PAIRWISE])
def test_every_tab_reads_well(visitor, app_url, language, dark, width):
    page = visitor(language, width, dark)
    page.goto(app_url + ("?__theme=dark" if dark else ""))
    name = f"{language}-{'dark' if dark else 'light'}-{width}"
    expect_all_tabs_on_screen(page, language)
    assert page.evaluate("document.body.classList.contains('dark')") == dark
    page.locator("#generate").click()
    expect(page.locator("#probabilities .confidence-set").first).to_be_visible()
    snap(page, f"{name}-shakespeare")
    page.get_by_role("tab", name=TABS[language][1], exact=True).click()
    page.locator("#message textarea").fill("What is the capital of France?")
    page.locator("#send").click()
    expect(page.locator("#attention table")).to_be_visible()
    first_message = page.locator("#chat [data-testid='user']").first.bounding_box()
    toolbar = page.locator("#chat .icon-button-wrapper, #chat .top-panel").filter(visible=True)
    for index in range(toolbar.count()):  # the chat's toolbar (and each message's copy button) leave it uncovered
        assert not overlap(toolbar.nth(index).bounding_box(), first_message), "a chat button covers the first message"
    cell = page.locator("#attention td").first
    colour = cell.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour.startswith("rgba(253, 186, 116" if dark else "rgba(234, 88, 12"), colour
    snap(page, f"{name}-chatbot")
    page.get_by_role("tab", name=TABS[language][2], exact=True).click()
    page.locator("#fill-button").click()
    expect(page.locator("#fill-note")).not_to_be_empty()
    snap(page, f"{name}-fill")
    if language == "zh":
        for tab in page.get_by_role("tab").all():
            tab.click()
            page.wait_for_timeout(200)
            assert not english_words_shown(page), f"untranslated on {tab.inner_text()}: {english_words_shown(page)}"


def test_the_switches_change_language_and_theme(visitor, app_url):
    page = visitor("en", WIDTHS["laptop"])
    page.goto(app_url)
    expect(page.get_by_role("tab", name="Shakespeare", exact=True)).to_be_visible()
    page.locator("#switch-theme").click()
    assert page.evaluate("document.body.classList.contains('dark')")
    page.locator("#switch-language").click()
    expect(page.get_by_role("tab", name="莎士比亚", exact=True)).to_be_visible()
    assert "rnn_lang=zh-CN" in page.evaluate("document.cookie") and "__theme=dark" in page.url
    assert page.evaluate("document.body.classList.contains('dark')")  # the theme survives the reload
    page.locator("#prompt textarea").fill("   ")
    page.locator("#generate").click()
    expect(toast(page)).to_have_text("开头是空的：请先输入几个词")  # the server's message, in the page's language
    snap(page, "switched-to-chinese-dark")
    page.locator("#switch-language").click()
    expect(page.get_by_role("tab", name="Shakespeare", exact=True)).to_be_visible()


def test_a_slow_pace_shows_the_text_grow_and_stop_ends_it(page, app_url, engine):
    open_tab(page, app_url, "Shakespeare")
    page.get_by_label("20 a second").check()
    engine.ended.clear()
    started = page.evaluate("performance.now()")
    page.locator("#generate").click()
    assert engine.ended.wait(WAIT_S) and engine.how == "finished"  # the server computed every token at once
    expect(page.locator("#output textarea")).to_have_value(starts_with_and_goes_on("ROMEO:\n"))
    page.wait_for_timeout(1000)
    shown = len(page.locator("#output textarea").input_value())
    assert shown < len(engine.last_text), "the page showed the whole text at once"
    page.locator("#stop").click()
    page.wait_for_timeout(1000)
    stopped = len(page.locator("#output textarea").input_value())
    page.wait_for_timeout(1000)
    assert len(page.locator("#output textarea").input_value()) == stopped < len(engine.last_text)
    assert page.evaluate("performance.now()") - started > 2000
