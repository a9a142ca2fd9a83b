"""The Train tab through the app's API (gradio_client): train, watch progress, stop, generate, download, reload."""
import time
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rnn_demo.data import corpora
from rnn_demo.serving import Engine
from rnn_demo.usertrain import archive

# cell, units, layers, embedding, optimizer, learning rate, dropout, patience, minutes
TINY = ["gru", 32, 1, 16, "adam", 0.01, 0.0, 20, 0.5]


@pytest.fixture(scope="module")
def client(tmp_path_factory, serve_app):
    with serve_app(Engine(tmp_path_factory.mktemp("no-assets"))) as demo:
        yield Client(demo.local_url, verbose=False)


def test_train_streams_progress_then_generates_and_downloads_the_same_model(client, tmp_path):
    text = corpora.plays()[0].text[:8_000]
    job = client.submit("", text, *TINY, api_name="/train")
    outputs, started = [], time.monotonic()
    for output in job:
        outputs.append(output)
        if len(outputs) == 12 and time.monotonic() - started < 120:  # a few curve points in: stop it
            client.predict("", api_name="/train_stop")
    final = job.outputs()[-1]
    visitor, progress, curve, sample, runs = final[:5]
    assert any("<progress" in o[1] and "Step" in o[1] for o in outputs), "no progress was shown"
    assert "Finished (stopped)" in progress and "<polyline" in curve
    assert len({o[2] for o in outputs}) >= 3, "the plot did not move"
    run_id = runs["value"] if isinstance(runs, dict) else runs
    greedy = client.predict(visitor, run_id, "ROMEO:", 0.0, 30, 0, api_name="/train_generate")
    assert greedy.startswith("ROMEO:") and len(greedy) > len("ROMEO:")
    path = client.predict(visitor, run_id, api_name="/train_download")
    model = archive.load_archive(Path(path).read_bytes())
    assert model.generate("ROMEO:", max_tokens=30, temperature=0.0, seed=0, deadline_s=5.0) == greedy


def test_out_of_range_settings_and_other_visitors_runs_are_refused(client):
    with pytest.raises(AppError, match="units must be between"):
        client.predict("", "word " * 100, "gru", 100_000, 1, 16, "adam", 0.01, 0.0, 5, 1.0, api_name="/train")
    with pytest.raises(AppError, match="time limit \\(minutes\\) must be above 0 and at most 10"):
        client.predict("", "word " * 100, "gru", 32, 1, 16, "adam", 0.01, 0.0, 5, 60.0, api_name="/train")
    with pytest.raises(AppError, match="no such run of yours"):
        client.predict("someone-else-entirely", "abcdef123456", "A", 0.0, 5, 0, api_name="/train_generate")


def test_an_upload_is_read_once_and_deleted_so_that_gradio_never_serves_it_back(tmp_path):
    from rnn_demo.config import InputError
    from rnn_demo.ui.tabs.train import taken_upload

    folder = tmp_path / "uploads"
    upload = folder / "4f2a" / "play.txt"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"To be, or not to be")
    assert taken_upload(str(upload), folder) == b"To be, or not to be"
    assert not upload.exists() and not upload.parent.exists() and folder.exists()
    elsewhere = tmp_path / "secret.txt"
    elsewhere.write_text("not an upload")
    for path in (elsewhere, folder / ".." / "secret.txt", folder / "never-uploaded.txt"):
        with pytest.raises(InputError, match="not an upload"):
            taken_upload(str(path), folder)
    assert elsewhere.read_text() == "not an upload"
