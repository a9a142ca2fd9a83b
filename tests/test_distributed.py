"""`train shakespeare --strategy`: two worker processes on loopback follow the loss curve of one process."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SHIPPED_TOKENIZER, free_port
from rnn_demo.__main__ import main

QUICK_GRU = ["train", "shakespeare", "--quick", "--cell", "gru"]
QUICK_STEPS = 2 * 15  # epochs × steps per epoch of a quick run (training/shakespeare.py)
WORKER_TIMEOUT_S = 300


def assets_folder(path: Path) -> Path:
    path.mkdir()
    shutil.copy(SHIPPED_TOKENIZER, path / "tokenizer.model")
    return path


def step_losses(out: Path) -> np.ndarray:
    with open(out / ".shakespeare-gru-run" / "steps.csv", encoding="utf-8") as handle:
        return np.asarray([float(row["loss"]) for row in csv.DictReader(handle)])


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def start_workers(out: Path, count: int) -> list[subprocess.Popen]:
    """`count` worker processes of one multi-worker run, on ports the OS gave out just before."""
    ports = [free_port() for _ in range(count)]
    return [subprocess.Popen([sys.executable, "-m", "rnn_demo", *QUICK_GRU, "--strategy", "multi-worker",
                              "--out", str(out), "--json"],
                             cwd=ROOT, env={**os.environ, "TF_CONFIG": tf_config(ports, index)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for index in range(count)]


def finish(worker: subprocess.Popen) -> dict:
    """The worker's JSON result, once it has exited with status 0."""
    try:
        out, err = worker.communicate(timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, err = worker.communicate()
        pytest.fail(f"a worker hung; its log ends:\n{err[-3000:]}")
    assert worker.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_workers_follow_the_loss_curve_of_one_process(tmp_path):
    one = assets_folder(tmp_path / "one")
    assert main([*QUICK_GRU, "--strategy", "mirrored", "--out", str(one)]) == 0
    two = assets_folder(tmp_path / "two")
    chief, other = (finish(worker) for worker in start_workers(two, 2))

    alone, together = step_losses(one), step_losses(two)
    assert len(alone) == len(together) == QUICK_STEPS
    assert alone[-1] < alone[0] - 1.0  # it learns (from ~8.3 nats towards the unigram plateau)
    # The same global batches, the summed gradients clipped as one process clips them: the same curve,
    # up to the order of float additions.
    np.testing.assert_allclose(together, alone, rtol=1e-4)

    config = json.loads((two / "shakespeare-gru" / "config.json").read_text())
    assert config["metrics"]["replicas"] == 2 and config["training"]["strategy"] == "multi-worker"
    assert chief["shakespeare-gru"]["metrics"]["replicas"] == 2
    assert other == {"worker-1": {"path": None, "metrics": other["worker-1"]["metrics"]}}
    assert sorted(path.name for path in two.iterdir() if not path.name.startswith(".")) == [
        "shakespeare-gru", "tokenizer.model"]  # the other worker kept no checkpoint
    alone_config = json.loads((one / "shakespeare-gru" / "config.json").read_text())
    assert config["metrics"]["bits_per_char"] == pytest.approx(alone_config["metrics"]["bits_per_char"], rel=1e-3)


def test_strategy_is_refused_where_it_does_not_apply(tmp_path, capsys):
    out = assets_folder(tmp_path / "out")
    assert main(["train", "chatbot", "--quick", "--strategy", "mirrored", "--out", str(out)]) == 2
    assert "--strategy trains the language models (shakespeare) only" in capsys.readouterr().err
    with pytest.raises(ValueError, match="strategy must be one of mirrored, multi-worker or empty"):
        main([*QUICK_GRU, "--strategy", "horovod", "--out", str(out)])
