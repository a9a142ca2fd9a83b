"""The training process: reads a run folder's text and settings, trains, and writes its events as JSON lines.

Started by `serving.runs.RunStore` with multiprocessing's spawn method, so TensorFlow lives only here and
the serving process stays free of it. The folder is the only channel: `text.txt` and `settings.json` in,
`events.jsonl` out (appended and flushed event by event), a `stop` file asks it to stop (best weights kept).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

TEXT_FILE, SETTINGS_FILE, EVENTS_FILE, STOP_FILE, MODEL_FOLDER = "text.txt", "settings.json", "events.jsonl", "stop", "model"
THREADS = 2  # the cores of the hosted app


def main(run_dir: str) -> None:
    """Trains the run in `run_dir`; every outcome, a failure included, ends with a "done" or "error" event."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    folder = Path(run_dir)
    with open(folder / EVENTS_FILE, "a", encoding="utf-8") as out:
        def emit(event: dict) -> None:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            out.flush()

        try:
            run(folder, emit)
        except Exception as error:  # the run's failure is reported to its visitor, and the process ends
            emit({"event": "error", "message": f"training failed: {error.__class__.__name__}: {error}"[:500]})
            raise


def run(folder: Path, emit) -> dict:
    import tensorflow as tf

    from .settings import TrainSettings, check_settings, check_text
    from .trainer import train

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    settings = check_settings(TrainSettings.from_dict(json.loads((folder / SETTINGS_FILE).read_text("utf-8"))))
    text = check_text((folder / TEXT_FILE).read_text("utf-8"))
    return train(text, settings, folder / MODEL_FOLDER, emit=emit, should_stop=(folder / STOP_FILE).exists)
