"""The glass box in a real browser (Debian's headless Chromium, driven by Playwright): coloured tokens with their
alternatives on hover and on tap, the decoding lab and the surprise view, at 1280 px and 390 px, light and dark.

Screenshots of what the browser showed go to test-artifacts/glass/.
"""
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rnn_demo.serving import Engine

from chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "glass"
TIMEOUT_MS = 30_000  # the most any on-screen condition may take (the machine is shared); far above the need
WIDE = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
THEMES = ("light", "dark")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(quick_assets, serve_app):
    with serve_app(Engine(quick_assets)) as demo:
        yield demo.local_url


def opened(browser, url: str, tab: str, viewport: dict, theme: str, *, touch: bool = False) -> Page:
    """A fresh page of the app in `theme`, on tab `tab`."""
    expect.set_options(timeout=TIMEOUT_MS)
    page = browser.new_page(viewport=viewport, has_touch=touch, is_mobile=touch)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}?__theme={theme}")
    page.get_by_role("tab", name=tab).click()
    return page


def snap(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def note_of(page: Page, piece) -> str:
    """The note a coloured piece shows now (its ::after content; "none" when hidden)."""
    return piece.evaluate("element => getComputedStyle(element, '::after').content")


@pytest.mark.parametrize("theme", THEMES)
def test_generated_tokens_are_coloured_and_show_their_alternatives_on_hover(browser, app_url, theme):
    page = opened(browser, app_url, "Shakespeare", WIDE, theme)
    page.locator("#generate").click()
    pieces = page.locator("#glass .glass-piece")
    expect(pieces.nth(20)).to_be_visible()
    expect(page.locator("#probabilities .confidence-set").first).to_be_visible()
    piece = pieces.nth(3)
    assert note_of(page, piece) == "none"
    piece.hover()
    assert "top 5" in note_of(page, piece) and "p = " in note_of(page, piece)
    snap(page, f"shakespeare-glass-{theme}")
    page.close()


def test_a_tap_shows_a_tokens_alternatives_on_a_phone(browser, app_url):
    page = opened(browser, app_url, "Shakespeare", PHONE, "light", touch=True)
    page.locator("#generate").tap()
    piece = page.locator("#glass .glass-piece").nth(5)
    expect(piece).to_be_visible()
    piece.tap()
    assert "top 5" in note_of(page, piece)
    snap(page, "shakespeare-glass-phone-tapped")
    page.close()


def test_one_note_at_a_time(browser, app_url):
    page = opened(browser, app_url, "Shakespeare", PHONE, "light", touch=True)
    page.locator("#generate").tap()
    pieces = page.locator("#glass .glass-piece")
    expect(pieces.nth(8)).to_be_visible()
    pieces.nth(3).hover()  # left "hovered" on a touch screen
    pieces.nth(8).tap()
    assert "top 5" in note_of(page, pieces.nth(8)) and note_of(page, pieces.nth(3)) == "none"
    page.close()
    page = opened(browser, app_url, "Shakespeare", WIDE, "light")
    page.locator("#generate").click()
    pieces = page.locator("#glass .glass-piece")
    expect(pieces.nth(8)).to_be_visible()
    pieces.nth(3).click()  # focused
    pieces.nth(8).hover()
    assert "top 5" in note_of(page, pieces.nth(8)) and note_of(page, pieces.nth(3)) == "none"
    page.close()


@pytest.mark.parametrize("viewport, theme", [(WIDE, "light"), (WIDE, "dark"), (PHONE, "light"), (PHONE, "dark")])
def test_the_decoding_lab_shows_five_decodings_side_by_side(browser, app_url, viewport, theme):
    page = opened(browser, app_url, "Lab", viewport, theme)
    page.locator("#lab-run").click()
    cards = page.locator("#lab-result .glass-card")
    expect(cards).to_have_count(5)
    expect(cards.nth(4)).to_contain_text("Beam search, width 4")
    expect(cards.nth(0)).to_contain_text("natural log")
    expect(cards.nth(0)).to_contain_text("repeated 3-grams")
    lefts = {round(cards.nth(index).bounding_box()["x"]) for index in range(5)}
    if viewport is PHONE:  # stacked, and nothing wider than the screen
        assert len(lefts) == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    else:
        assert len(lefts) >= 3
    name = f"lab-{'phone' if viewport is PHONE else 'wide'}-{theme}"
    snap(page, name)
    page.close()


@pytest.mark.parametrize("viewport, theme", [(WIDE, "light"), (PHONE, "dark")])
def test_the_surprise_view_colours_a_pasted_text_beside_the_baseline(browser, app_url, viewport, theme):
    page = opened(browser, app_url, "Lab", viewport, theme)
    page.locator("#surprise-text textarea").fill("O Romeo, Romeo! wherefore art thou Romeo? 你好")
    page.locator("#surprise-run").click()
    blocks = page.locator("#surprise-result .glass-card")
    expect(blocks).to_have_count(2)
    expect(blocks.nth(0)).to_contain_text("bits/char")
    expect(blocks.nth(1)).to_contain_text("Character trigram baseline")
    piece = blocks.nth(0).locator(".glass-piece").last
    piece.hover()
    assert "bits" in note_of(page, piece)
    snap(page, f"surprise-{'phone' if viewport is PHONE else 'wide'}-{theme}")
    page.close()


def test_a_too_long_text_is_refused_with_a_message(browser, app_url):
    page = opened(browser, app_url, "Lab", WIDE, "light")
    page.locator("#surprise-text textarea").evaluate("(box, text) => { box.removeAttribute('maxlength'); }")
    page.locator("#surprise-text textarea").fill("x" * 2_001)
    page.locator("#surprise-run").click()
    expect(page.locator(".toast-body").first).to_contain_text("the limit is 2,000")
    snap(page, "surprise-too-long")
    page.close()
