"""Shared fixtures: the shipped tokenizer, tiny checkpoints trained once per test session, and a
way to serve the app in-process."""
import os
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TOKENIZER = ROOT / "assets" / "tokenizer.model"


@pytest.fixture(scope="session")
def tokenizer():
    from rnn_demo.tokenizer import Tokenizer

    return Tokenizer(SHIPPED_TOKENIZER)


# Quick runs trained in a second process while this one trains the others: tracing a Keras model is
# single-threaded Python, so two processes use both cores (the fixtures' 75 s became about 45 s).
BESIDE = [["train", "shakespeare", "--quick", "--cell", "gru"], ["train", "shakespeare", "--quick", "--cell", "lstm"]]
LEARN = ["train", "learn", "--quick"]  # needs only the tokenizer: its folders are copied into learn_assets
RUN_IN_TURN = ("import sys\nfrom rnn_demo.__main__ import main\n"
               "for command in sys.argv[1:]:\n    if main(command.split()) != 0:\n        sys.exit(command)")


# A developer rerunning a few tests may keep the quick checkpoints between sessions: with this variable
# set to a folder, they are trained into it once and read from it afterwards (CI leaves it unset).
KEEP_QUICK_ASSETS = "RNN_DEMO_KEEP_QUICK_ASSETS"
QUICK_ASSETS_COMPLETE = "complete"  # written beside the folders once every quick run has succeeded


@pytest.fixture(scope="session")
def quick_assets(tmp_path_factory) -> Path:
    """An assets folder with the shipped tokenizer and quick GRU, LSTM, chatbot and blank checkpoints (and,
    in a folder beside it, the quick Learn models of `learn_assets`)."""
    kept = os.environ.get(KEEP_QUICK_ASSETS)
    if kept and (Path(kept) / QUICK_ASSETS_COMPLETE).is_file():
        return Path(kept) / "assets"
    root = Path(kept) if kept else tmp_path_factory.mktemp("quick")
    assets = _train_quick_assets(root)
    (root / QUICK_ASSETS_COMPLETE).touch()
    return assets


def _train_quick_assets(root: Path) -> Path:
    from rnn_demo.__main__ import main

    assets, learn = root / "assets", root / "quick-learn"
    for folder in (assets, learn):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for folder in (assets, learn):
        shutil.copy(SHIPPED_TOKENIZER, folder / "tokenizer.model")
    commands = [" ".join([*args, "--out", str(assets)]) for args in BESIDE] + [" ".join([*LEARN, "--out", str(learn)])]
    beside = subprocess.Popen([sys.executable, "-c", RUN_IN_TURN, *commands], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        assert main(["train", "chatbot", "--quick", "--out", str(assets)]) == 0
        assert main(["train", "blank", "--quick", "--out", str(assets)]) == 0
    finally:
        output, _ = beside.communicate()
    assert beside.returncode == 0, output.decode(errors="replace")[-4_000:]
    return assets


@pytest.fixture()
def assets_copy(quick_assets, tmp_path) -> Path:
    """A private copy of `quick_assets` that a test may damage."""
    copy = tmp_path / "assets"
    shutil.copytree(quick_assets, copy)
    return copy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Gradio's launch asks the new server for its page once (a 3 s timeout, no retry after a timeout): late in a
# full run, in a process that holds TensorFlow and dozens of models, that answer has been slower (seen once,
# tests/test_replicas.py). A second launch on a fresh port; a server that cannot answer fails both.
LAUNCH_ATTEMPTS = 2


@contextmanager
def _serve(engine, **build_options):
    """The app of `engine`, launched in-process with the shipped serving options but no pace on each address's
    calls (every test calls from 127.0.0.1; `tests/test_web_surface.py` tests the pace); yields the demo."""
    from rnn_demo.ui import after_launch, build_demo, launch_options

    demo = build_demo(engine, **build_options)
    for attempt in range(LAUNCH_ATTEMPTS):
        try:
            demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                        **launch_options(pacing=None))
            break
        except ValueError as error:  # Gradio's "localhost is not accessible": its one HEAD / took over 3 s
            demo.close()
            if "localhost is not accessible" not in str(error) or attempt + 1 == LAUNCH_ATTEMPTS:
                raise
    after_launch(demo)
    try:
        yield demo
    finally:
        demo.close()


@pytest.fixture(scope="session")
def serve_app():
    """`with serve_app(engine) as demo:` serves the app at `demo.local_url` for the block's duration."""
    return _serve


@pytest.fixture(scope="session")
def learn_assets(tmp_path_factory, quick_assets):
    """The quick assets plus a quick `train learn` run (every part), trained beside `quick_assets`."""
    assets = tmp_path_factory.mktemp("learn-assets")
    for source in (quick_assets, quick_assets.parent / "quick-learn"):
        for item in source.iterdir():
            if item.is_dir():
                shutil.copytree(item, assets / item.name, dirs_exist_ok=True)
            else:
                shutil.copy(item, assets / item.name)
    return assets
