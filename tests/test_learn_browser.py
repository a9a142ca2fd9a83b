"""The Learn tab in a real browser (Debian's headless Chromium, driven by Playwright): a scene drawn and
captioned, the hidden state unrolled as a heatmap, the copy task recomputed at a small N and the embedding
map, at 1280 px and 390 px, light and dark, in English and 简体中文.

Screenshots of what the browser showed go to test-artifacts/learn/.
"""
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rnn_demo.serving import Engine

from chromium import CHROMIUM, CHROMIUM_ARGS


ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "learn"
TIMEOUT_MS = 30_000  # the most any on-screen condition may take (the machine is shared); far above the need
WIDE = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
SMALL_N = 3  # steps back for the copy task recomputed in the browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(learn_assets, serve_app):
    with serve_app(Engine(learn_assets)) as demo:
        yield demo.local_url


def opened(browser, url: str, viewport: dict, theme: str, locale: str = "en-US") -> Page:
    """A fresh page of the app in `theme` and `locale`, on the Learn tab."""
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}?__theme={theme}")
    page.get_by_role("tab", name="学习" if locale.startswith("zh") else "Learn", exact=True).click()
    return page


def snap(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def fits_the_screen(page: Page, viewport: dict) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def sub_tab(page: Page, name: str) -> None:
    tab = page.locator("#learn-tabs").get_by_role("tab", name=name, exact=True)
    expect(tab).to_be_visible()  # on screen at every width: the bar wraps, no "•••" menu
    tab.click()


@pytest.mark.parametrize("viewport, theme", [(WIDE, "light"), (WIDE, "dark"), (PHONE, "light"), (PHONE, "dark")],
                         ids=["wide-light", "wide-dark", "phone-light", "phone-dark"])
def test_a_scene_is_captioned_and_a_sentence_unrolled(browser, app_url, viewport, theme):
    page = opened(browser, app_url, viewport, theme)
    name = f"{'phone' if viewport is PHONE else 'wide'}-{theme}"
    expect(page.locator("#learn-diagram-one-to-many svg")).to_contain_text("one-to-many")
    page.locator("#learn-compose").click()
    expect(page.locator("#learn-scene img")).to_be_visible()
    expect(page.locator("#learn-caption textarea")).not_to_have_value("")
    assert len(page.locator("#learn-caption textarea").input_value().split()) >= 2
    fits_the_screen(page, viewport)
    snap(page, f"shapes-{name}")
    sub_tab(page, "The recurrence, unrolled")
    page.locator("#learn-unroll").click()
    expect(page.locator("#learn-heatmap svg rect").nth(50)).to_be_attached()
    expect(page.locator("#learn-heatmap svg")).to_contain_text("tokens ×")
    expect(page.locator("#learn-roles")).to_contain_text("Pearson r")
    snap(page, f"unrolled-{name}")
    page.context.close()


def test_the_copy_task_is_recomputed_at_a_small_n_and_the_embeddings_drawn(browser, app_url):
    page = opened(browser, app_url, WIDE, "light")
    sub_tab(page, "Vanishing gradients, measured")
    page.locator("#learn-copy-show").click()
    expect(page.locator("#learn-gradient-norms svg")).to_contain_text("steps before the end")
    page.locator("#learn-distance input[type='number']").fill(str(SMALL_N))
    page.locator("#learn-distance input[type='number']").press("Enter")
    page.locator("#learn-recompute").click()
    expect(page.locator("#learn-recomputed svg")).to_contain_text(f"recomputed now, N = {SMALL_N}")
    snap(page, "gradients-wide-light")
    sub_tab(page, "Embeddings")
    page.locator("#learn-neighbours").click()
    expect(page.locator("#learn-near tbody tr")).not_to_have_count(0)
    page.locator("#learn-map-draw").click()
    expect(page.locator("#learn-map svg")).to_contain_text("PCA")
    snap(page, "embeddings-wide-light")
    page.context.close()


def test_the_tab_speaks_chinese_to_a_chinese_browser(browser, app_url):
    page = opened(browser, app_url, PHONE, "dark", locale="zh-CN")
    expect(page.locator("#learn-diagram-one-to-many svg")).to_contain_text("一对多")
    expect(page.locator("#learn-diagram-many-to-one svg")).to_contain_text("类型")
    page.locator("#learn-compose").click()
    expect(page.locator("#learn-caption textarea")).not_to_have_value("")
    page.locator("#learn-speech textarea").fill("   ")
    page.locator("#learn-classify").click()
    expect(page.locator('[data-testid="toast-text"]').filter(visible=True)).to_have_text("请先输入台词")
    sub_tab(page, "展开的循环")
    page.locator("#learn-unroll").click()
    expect(page.locator("#learn-roles")).to_contain_text("皮尔逊")
    snap(page, "chinese-phone-dark")
    sub_tab(page, "嵌入")
    page.locator("#learn-neighbours").click()
    expect(page.locator("#learn-near")).to_contain_text("余弦相似度")
    page.context.close()
