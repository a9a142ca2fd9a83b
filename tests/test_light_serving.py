"""`python app.py` serves every tab without importing TensorFlow (or Keras), nor, without `--mcp`,
the MCP SDK, nor loading pandas (`rnn_demo.entry`).

How the test knows: a `sitecustomize` module, put first on the app's PYTHONPATH, adds an import
hook that writes the name of every `tensorflow`/`keras`/`mcp` import attempt to a file the moment it
happens (it blocks nothing). Unlike a check at exit, this sees imports in any thread, and it
survives the app being stopped by a signal; a marker line proves the hook was armed.
"""
import importlib
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from benchmarks.app_process import CHAT, FILL, GENERATE
from rnn_demo import entry
from tests.conftest import ROOT, free_port

HOOK = '''
import os, sys

class _Watch:
    """Records tensorflow/keras/mcp import attempts, and those of pandas's modules, in $RNN_DEMO_IMPORT_LOG;
    imports nothing itself. The app's own refusal of `mcp` (a finder put before this one) answers first: an attempt seen
    here is one that would have loaded."""

    def find_spec(self, name, path=None, target=None):
        # pandas itself is imported (Gradio's caching module), deferred: its modules load only if it is read.
        if name.split(".")[0] in ("tensorflow", "keras", "mcp") or name.startswith("pandas."):
            with open(os.environ["RNN_DEMO_IMPORT_LOG"], "a") as log:
                log.write(name + "\\n")
        return None

with open(os.environ["RNN_DEMO_IMPORT_LOG"], "a") as log:
    log.write("armed\\n")
sys.meta_path.insert(0, _Watch())
'''
ARMED = "armed"
START_TIMEOUT_S = 120


@pytest.fixture()
def watched_app(tmp_path):
    """The shipped app in its own process, with the import hook; yields (url, import log path)."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(HOOK)
    imports = tmp_path / "imports.log"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "hook"), str(ROOT)]),
           "RNN_DEMO_IMPORT_LOG": str(imports), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(tmp_path / "app.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "app.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the page was not served in time"
            time.sleep(0.2)
        yield url, imports
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_every_tab_is_served_without_tensorflow_the_mcp_sdk_or_pandas(watched_app):
    from gradio_client import Client

    url, imports = watched_app
    client = Client(url, verbose=False)
    for model in ("shakespeare-gru", "shakespeare-lstm"):
        text = client.predict(**{**GENERATE, "model": model, "max_tokens": 10}, api_name="/generate")
        assert "ROMEO:" in str(text)
    chat = client.predict(**CHAT, api_name="/chat")
    assert chat
    fill = client.predict(**FILL, api_name="/fill")
    assert "France" in str(fill)
    attempts = imports.read_text().split()
    # One "armed" per Python process of the app's tree (the app, and the sampler's precompiling child).
    assert attempts and attempts[0] == ARMED, "the import hook did not run in the app's process"
    imported = sorted({name for name in attempts if name != ARMED})
    assert imported == [], f"the serving process tree imported {imported}"


@pytest.mark.parametrize("argv, environ, expected", [
    ([], {}, False),
    (["--mcp"], {}, True),
    (["--mc"], {}, True),  # argparse's abbreviation, as the full parse takes it
    ([], {"GRADIO_MCP_SERVER": "True"}, True),
    ([], {"GRADIO_MCP_SERVER": "false"}, False),
])
def test_the_mcp_sdk_is_refused_only_where_no_mcp_server_is_asked_for(argv, environ, expected):
    assert entry.serves_mcp(argv, environ) is expected


def test_a_refused_package_reads_as_not_installed_and_others_still_import(monkeypatch):
    assert "xmlrpc" not in sys.modules
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    entry.refuse("xmlrpc")
    with pytest.raises(ModuleNotFoundError, match="not imported by this process"):
        importlib.import_module("xmlrpc.client")
    assert importlib.import_module("html.parser") is not None  # others are found as before
    monkeypatch.undo()
    assert importlib.import_module("xmlrpc.client") is not None
    monkeypatch.delitem(sys.modules, "xmlrpc.client")
    monkeypatch.delitem(sys.modules, "xmlrpc")


def test_a_deferred_package_loads_on_its_first_attribute_read(monkeypatch):
    assert "wsgiref" not in sys.modules
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    assert entry.defer("wsgiref") is not None
    module = importlib.import_module("wsgiref")
    assert "wsgiref" in sys.modules and "wsgiref.util" not in sys.modules
    assert type(module).__name__ == "_LazyModule"  # not yet executed
    client = importlib.import_module("wsgiref.util")  # reads the package's __path__: loads it
    assert client.guess_scheme({}) == "http"
    assert type(sys.modules["wsgiref"]).__name__ == "module"
    assert entry.defer("wsgiref") is None  # already imported: left as it is
    monkeypatch.delitem(sys.modules, "wsgiref.util")
    monkeypatch.delitem(sys.modules, "wsgiref")


def test_app_py_defers_pandas_before_it_imports_gradio():
    source = (ROOT / "app.py").read_text()
    assert "pandas" in entry.DEFERRED_PACKAGES
    assert source.index("entry.defer(*entry.DEFERRED_PACKAGES)") < source.index("from rnn_demo.serving import")


CUSTOM_COMPONENT = '''
import gradio as gr


class Shout(gr.Textbox):
    """A component class of our own: Gradio's metaclass would write a stub beside this file."""
'''
STUB_PROBE = '''
import sys
sys.path[:0] = [{root!r}, {folder!r}]
if {skip!r}:
    from rnn_demo import entry
    assert entry.skip_stub_writing()
import gradio.component_meta as meta
import shout
print(meta.create_or_modify_pyi.__module__)
'''


@pytest.mark.parametrize("skip", [True, False])
def test_gradio_writes_no_type_stub_where_the_app_skips_it(tmp_path, skip):
    """With `entry.skip_stub_writing()` (as app.py calls it) a component class made after `import gradio` leaves
    no `.pyi` beside its source; without it, Gradio writes one (the control: the test can fail)."""
    (tmp_path / "shout.py").write_text(CUSTOM_COMPONENT)
    probe = STUB_PROBE.format(root=str(ROOT), folder=str(tmp_path), skip=skip)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == ("rnn_demo.entry" if skip else "gradio.component_meta")
    assert (tmp_path / "shout.pyi").exists() is not skip


def test_stub_writing_is_skipped_only_before_gradio_is_imported(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setitem(sys.modules, entry.STUB_MODULE, object())
    assert entry.skip_stub_writing() is False
    assert not any(isinstance(finder, entry.StubWritingSkipped) for finder in sys.meta_path)
    monkeypatch.delitem(sys.modules, entry.STUB_MODULE)
    assert entry.skip_stub_writing() is True
    assert entry.skip_stub_writing() is True  # a second call adds no second finder
    assert sum(isinstance(finder, entry.StubWritingSkipped) for finder in sys.meta_path) == 1


def test_app_py_skips_gradio_stub_writing_before_it_imports_gradio():
    source = (ROOT / "app.py").read_text()
    assert source.index("entry.skip_stub_writing()") < source.index("from rnn_demo.serving import")
