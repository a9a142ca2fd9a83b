"""Shared fixtures: the shipped tokenizer and tiny checkpoints trained once per test session."""
import os
import shutil
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


@pytest.fixture(scope="session")
def quick_assets(tmp_path_factory) -> Path:
    """An assets folder with the shipped tokenizer and quick GRU, LSTM, chatbot and blank checkpoints."""
    from rnn_demo.__main__ import main

    assets = tmp_path_factory.mktemp("assets")
    shutil.copy(SHIPPED_TOKENIZER, assets / "tokenizer.model")
    for cell in ("gru", "lstm"):
        assert main(["train", "shakespeare", "--quick", "--cell", cell, "--out", str(assets)]) == 0
    assert main(["train", "chatbot", "--quick", "--out", str(assets)]) == 0
    assert main(["train", "blank", "--quick", "--out", str(assets)]) == 0
    return assets


@pytest.fixture()
def assets_copy(quick_assets, tmp_path) -> Path:
    """A private copy of `quick_assets` that a test may damage."""
    copy = tmp_path / "assets"
    shutil.copytree(quick_assets, copy)
    return copy
