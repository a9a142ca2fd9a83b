"""Gradio's session state without the deep link's copy of the page (rnn_demo/ui/sessions.py)."""
import httpx
from gradio.blocks import BlocksConfig
from gradio.state_holder import SessionState

from rnn_demo.serving import Engine
from rnn_demo.ui.sessions import LeanSessionState, LeanStateHolder

HTTP_TIMEOUT_S = 30
FILL = {"data": ["Paris is the capital of ___.", 5]}


def rest_fill(demo, session_hash=None) -> str:
    """A /fill through the REST API, as a script calls it; the result stream's text."""
    base = demo.local_url.rstrip("/")
    posted = httpx.post(f"{base}/gradio_api/call/fill", json={**FILL, "session_hash": session_hash},
                        timeout=HTTP_TIMEOUT_S)
    assert posted.status_code == 200, posted.text
    return httpx.get(f"{base}/gradio_api/call/fill/{posted.json()['event_id']}", timeout=HTTP_TIMEOUT_S).text


def test_a_new_session_builds_no_config_of_the_page(quick_assets, serve_app, monkeypatch):
    with serve_app(Engine(quick_assets)) as demo:
        assert isinstance(demo.server_app.state_holder, LeanStateHolder)
        assert demo.state_holder is demo.server_app.state_holder
        built = []
        original = BlocksConfig.config_for_block
        monkeypatch.setattr(BlocksConfig, "config_for_block",
                            lambda self, *args, **kwargs: built.append(args[0]) or original(self, *args, **kwargs))
        assert "event: complete" in rest_fill(demo, session_hash="lean-one")
        # Gradio's own state built the config of every component of the page for each new session.
        assert len(demo.blocks) > 100 and len(built) == 0
        state = demo.server_app.state_holder["lean-one"]
        assert isinstance(state, LeanSessionState) and state.config_values == {}


def test_the_same_session_keeps_its_components_between_calls(quick_assets, serve_app):
    with serve_app(Engine(quick_assets)) as demo:
        first = rest_fill(demo, session_hash="lean-two")
        state = demo.server_app.state_holder["lean-two"]
        assert rest_fill(demo, session_hash="lean-two") == first  # the same answer from the same session
        assert demo.server_app.state_holder["lean-two"] is state


def test_gradios_session_state_is_still_built_as_the_lean_one_assumes(quick_assets, serve_app):
    """LeanSessionState hands Gradio's __init__ an app without components: Gradio must still read only those two
    attributes of it and keep `config_values` as the one thing built from them."""
    with serve_app(Engine(quick_assets)) as demo:
        full, lean = SessionState(demo), LeanSessionState(demo)
        assert set(vars(full)) == set(vars(lean))
        assert full.config_values and lean.config_values == {}
        assert lean.blocks_config.blocks.keys() == full.blocks_config.blocks.keys()


def test_the_page_makes_one_fastapi_app_the_one_launch_serves(quick_assets, serve_app, monkeypatch):
    """Gradio would make an app of the page when the Blocks is made, closed and queued (page._no_app_until_launch):
    building makes none, `launch` makes the one that serves, and the page works through it."""
    from gradio.routes import App

    from rnn_demo.ui import build_demo

    made = []
    create = App.create_app
    spy = staticmethod(lambda *args, **kwargs: made.append(1) or create(*args, **kwargs))
    monkeypatch.setattr(App, "create_app", spy)
    demo = build_demo(Engine(quick_assets))
    assert made == [] and demo.app is None
    assert App.__dict__["create_app"] is spy  # put back once the page is built
    with serve_app(Engine(quick_assets)) as served:
        assert len(made) == 1 and served.server_app is served.app
        assert "event: complete" in rest_fill(served, session_hash="one-app")
