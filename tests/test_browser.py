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
from rnn_demo.ui.handlers import INTERNAL_ERROR

from recording_engine import RecordingEngine

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
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
