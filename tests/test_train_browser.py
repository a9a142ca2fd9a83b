"""The Train tab in a real browser (Debian's headless Chromium, driven by Playwright): a sample text, a few seconds
of training with the curve moving, Stop, then generation from the run. Screenshots go to test-artifacts/train/."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from rnn_demo.serving import Engine

from chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "train"
TIMEOUT_MS = 120_000  # the training process imports TensorFlow first (the machine is shared)


@pytest.fixture(scope="module")
def page(tmp_path_factory, serve_app):
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium`")
    with serve_app(Engine(tmp_path_factory.mktemp("no-assets"))) as demo, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto(demo.local_url)
        page.get_by_role("tab", name="Train").click()
        yield page
        browser.close()


def snap(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def _points(page) -> int:
    """The number of points on the validation curve now (0 before the first evaluation)."""
    lines = page.locator("#train-curve polyline")
    if lines.count() < 2:
        return 0
    return len(lines.nth(1).get_attribute("points").split())


def test_training_moves_the_plot_then_stop_and_generate(page):
    page.locator("#train-use-sample").click()
    page.wait_for_function("document.querySelector('#train-text textarea').value.length > 1000")
    page.get_by_label("tiny (1 min)").check()
    page.locator("#train-start").click()
    expect(page.locator("#train-progress")).to_contain_text("Step")
    page.wait_for_function("document.querySelectorAll('#train-curve polyline').length >= 2")
    first = _points(page)
    snap(page, "1-training")
    page.wait_for_function(f"(() => {{ const l = document.querySelectorAll('#train-curve polyline'); "
                           f"return l.length >= 2 && l[1].getAttribute('points').split(' ').length > {first}; }})()")
    assert _points(page) > first, "the plot did not move"
    snap(page, "2-plot-moved")
    page.locator("#train-stop").click()
    expect(page.locator("#train-progress")).to_contain_text("Finished (stopped)")
    assert page.locator("#train-sample textarea").input_value(), "no sample was shown"
    expect(page.locator("#train-runs input")).to_have_value(re.compile("stopped"))  # the train event has ended
    page.locator("#train-prompt textarea").fill("HAMLET:")
    page.locator("#train-generate").click()
    try:
        page.wait_for_function("document.querySelector('#train-output textarea').value.length > 40", timeout=30_000)
    except Exception:
        snap(page, "failed-generation")
        raise AssertionError(f"no text; the page says: {page.locator('.toast-body').all_inner_texts()}") from None
    assert page.locator("#train-output textarea").input_value().startswith("HAMLET:")
    snap(page, "3-stopped-and-generated")


def _generated(page) -> str:
    """Generates from the chosen run (greedy, as set) and returns the text once it has stopped growing."""
    page.locator("#train-generate").click()
    page.wait_for_timeout(1_000)  # the new text starts again from the prompt
    page.wait_for_function("document.querySelector('#train-output textarea').value.length > 40", timeout=30_000)
    text, previous = page.locator("#train-output textarea").input_value(), None
    for _ in range(60):  # until it has stopped growing
        if text == previous:
            return text
        page.wait_for_timeout(500)
        text, previous = page.locator("#train-output textarea").input_value(), text
    raise AssertionError("the text kept growing for 30 s")


def test_a_downloaded_model_uploaded_again_writes_the_same_greedy_text(page, tmp_path):
    temperature = page.locator("#train-temperature input[type=number]")
    temperature.fill("0")
    temperature.press("Enter")
    greedy = _generated(page)
    page.locator("#train-download").click()
    link = page.locator("#train-file a[href]").first
    expect(link).to_be_attached()
    model_file = tmp_path / "model.zip"
    model_file.write_bytes(page.request.get(link.get_attribute("href")).body())
    assert model_file.read_bytes()[:4] == b"PK\x03\x04"
    page.locator("#train-upload input[type=file]").set_input_files(str(model_file))
    expect(page.locator("#train-runs input")).to_have_value(re.compile("uploaded"))
    assert _generated(page) == greedy
    snap(page, "4-uploaded-and-generated")


def test_a_binary_file_is_refused_with_a_message(page, tmp_path):
    binary = tmp_path / "notes.txt"
    binary.write_bytes(b"\x00\x01\x02 not text")
    page.locator("#train-upload input[type=file]").set_input_files(str(binary))
    expect(page.locator('[data-testid="toast-body"]').filter(has_text="looks binary").first).to_be_visible()
    snap(page, "5-binary-refused")
