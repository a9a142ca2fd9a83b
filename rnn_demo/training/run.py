"""One training run of one model: what it reads, the checkpoint it starts from, and the one it saves."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import checkpoints
from ..config import TrainingConfig, to_dict
from ..tokenizer import Tokenizer

# What config.json records of the checkpoint a run started from, besides its name and file hashes.
PROVENANCE_KEYS = ("command", "created", "model", "training", "metrics", "data", "initialised_from")


@dataclass(frozen=True)
class Run:
    """Where one `train` run reads and writes, and how it was asked for.

    Attributes:
        tokenizer: the shared tokenizer; the model takes its vocabulary size.
        out_dir: the folder the checkpoint is saved in (and `--init-from` names are looked up in).
        name: the checkpoint's folder under `out_dir`.
        run_dir: the folder of the training log and, in full runs, the resumable backup.
        quick: a tiny run in well under a minute (tests, CI).
        command: the command line, recorded in config.json.
    """

    tokenizer: Tokenizer
    out_dir: Path
    name: str
    run_dir: Path
    quick: bool
    command: str

    @property
    def directory(self) -> Path:
        """The checkpoint folder this run saves."""
        return self.out_dir / self.name

    def initial_checkpoint(self, training: TrainingConfig) -> checkpoints.Checkpoint | None:
        """The checkpoint named by `training.init_from` (a folder, or a checkpoint name in `out_dir`), or None."""
        if not training.init_from:
            return None
        path = Path(training.init_from)
        return checkpoints.load_checkpoint(path if path.is_dir() else self.out_dir / training.init_from,
                                           self.tokenizer)

    def save(self, model, *, family: str, training: TrainingConfig, metrics: dict, data: dict,
             initialised_from: dict | None = None, extra_files: tuple[str, ...] = ()) -> dict:
        """Saves the trained model with how it was made and measured.

        Args:
            model: the trained Keras model; its `config` is recorded as the model's.
            family: its registry family, e.g. "seq2seq".
            training: the run's settings.
            metrics: its held-out figures.
            data: what it was trained and measured on.
            initialised_from: the record of the checkpoint it started from (`provenance`), if any.
            extra_files: files the run wrote into its folder that belong to the checkpoint.
        Returns:
            The checkpoint's config.json contents.
        """
        meta = {"command": self.command, "training": to_dict(training), "metrics": metrics, "data": data}
        if initialised_from is not None:
            meta["initialised_from"] = initialised_from
        checkpoints.save_checkpoint(self.directory, model, family=family, model_config=model.config,
                                    tokenizer=self.tokenizer, meta=meta, extra_files=extra_files)
        return checkpoints.read_meta(self.directory)


def provenance(source: checkpoints.Checkpoint) -> dict:
    """What config.json records of the checkpoint a run started from (`--init-from`)."""
    return {"checkpoint": source.name, "weights_sha256": source.meta.get("files"),
            **{key: source.meta.get(key) for key in PROVENANCE_KEYS}}
