"""The learning-rate schedules a training run can follow."""
import pytest

from rnn_demo.config import TrainingConfig
from rnn_demo.training.callbacks import CosineOverTime, standard_callbacks


def test_cosine_warms_up_peaks_and_anneals_to_one_percent():
    schedule = CosineOverTime(peak=6e-3, minutes=60)
    rates = [schedule.rate_at(share / 100) for share in range(101)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(6e-3)
    assert all(later <= earlier for earlier, later in zip(rates[2:], rates[3:]))  # only falls after the peak
    assert rates[100] == pytest.approx(6e-5)
    assert schedule.rate_at(2.0) == pytest.approx(6e-5)  # past the limit: stays at the floor


def test_the_schedule_is_chosen_by_the_config(tmp_path):
    _, plateau = standard_callbacks(TrainingConfig(), quick=True, run_dir=tmp_path)
    _, cosine = standard_callbacks(TrainingConfig(lr_schedule="cosine"), quick=True, run_dir=tmp_path)
    assert any(type(c).__name__ == "ReduceLROnPlateau" for c in plateau)
    assert not any(type(c).__name__ == "ReduceLROnPlateau" for c in cosine)
    assert any(isinstance(c, CosineOverTime) for c in cosine)


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="lr_schedule must be one of plateau, cosine"):
        TrainingConfig(lr_schedule="step")


def test_a_backup_resumes_only_a_run_of_the_same_settings(tmp_path):
    from dataclasses import replace

    from rnn_demo.config import TrainingConfig
    from rnn_demo.training import callbacks

    first = TrainingConfig(max_minutes=5.0)
    callbacks.standard_callbacks(first, quick=False, run_dir=tmp_path)
    backup = tmp_path / callbacks.BACKUP_FOLDER
    backup.mkdir()
    (backup / "state").write_text("epoch 11")
    (tmp_path / callbacks.HISTORY_FILE).write_text("epoch,loss\n")
    callbacks.standard_callbacks(first, quick=False, run_dir=tmp_path)  # the same run, restarted: it resumes
    assert (backup / "state").exists()
    callbacks.standard_callbacks(replace(first, init_from="assets/chatbot"), quick=False, run_dir=tmp_path)
    assert not backup.exists()  # another run: afresh, the old log kept aside
    assert not (tmp_path / callbacks.HISTORY_FILE).exists() and list(tmp_path.glob("history-*.csv"))
