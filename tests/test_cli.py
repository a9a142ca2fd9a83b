"""The command line of DESIGN.md, end to end on quick checkpoints."""
import json
import shutil
from pathlib import Path

import pytest

from rnn_demo.__main__ import main

SHIPPED_TOKENIZER = Path(__file__).resolve().parent.parent / "assets" / "tokenizer.model"


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if code == 0 else None


def test_generate_json_shape_and_seeded_reproducibility(quick_assets, capsys):
    argv = ["generate", "--prompt", "ROMEO:", "--max-tokens", "20", "--seed", "5", "--temperature", "1.0",
            "--assets", str(quick_assets), "--json"]
    code, first = run_json(capsys, argv)
    assert code == 0
    assert set(first) >= {"text", "tokens", "seconds", "tokens_per_second"}
    assert first["text"].startswith("ROMEO:") and first["tokens"] == 20
    _, second = run_json(capsys, argv)
    assert second["text"] == first["text"]
    _, other = run_json(capsys, argv[:-3] + ["--seed", "6", "--assets", str(quick_assets), "--json"])
    assert other["text"] != first["text"]


def test_greedy_generation_is_deterministic(quick_assets, capsys):
    argv = ["generate", "--prompt", "JULIET:", "--temperature", "0", "--max-tokens", "15", "--seed", "1",
            "--model", "shakespeare-lstm", "--assets", str(quick_assets), "--json"]
    _, first = run_json(capsys, argv)
    argv[argv.index("--seed") + 1] = "99"  # the seed does not matter when greedy
    _, second = run_json(capsys, argv)
    assert first["text"] == second["text"]


def test_evaluate_text_file(quick_assets, tmp_path, capsys):
    text = tmp_path / "sonnet.txt"
    text.write_text("Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n")
    code, result = run_json(capsys, ["evaluate", "shakespeare", "--text", str(text),
                                     "--assets", str(quick_assets), "--json"])
    assert code == 0
    assert result["chars"] == len(text.read_text())
    assert result["tokens"] > 0 and 0 < result["bits_per_char"] < 30


def test_evaluate_dynamic_reports_beside_the_static_figure(quick_assets, tmp_path, capsys):
    text = tmp_path / "sonnet.txt"
    text.write_text("Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n" * 3)
    argv = ["evaluate", "shakespeare", "--text", str(text), "--assets", str(quick_assets), "--json"]
    _, static = run_json(capsys, argv)
    code, result = run_json(capsys, argv + ["--dynamic-lr", "0.1"])
    assert code == 0
    assert result["bits_per_char"] == pytest.approx(static["bits_per_char"], rel=1e-6)  # never instead of it
    assert set(result["dynamic"]) == {"bits_per_char", "learning_rate", "segment_tokens", "by_text"}
    assert list(result["dynamic"]["by_text"]) == ["sonnet.txt"] and result["dynamic"]["learning_rate"] == 0.1


@pytest.mark.parametrize("value", ["-1", "0", "nan", "fast"])
def test_a_dynamic_step_that_is_not_a_positive_number_is_refused(quick_assets, capsys, value):
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", "shakespeare", "--dynamic-lr", value, "--assets", str(quick_assets)])
    assert exited.value.code == 2
    assert "--dynamic-lr" in capsys.readouterr().err


def test_dynamic_evaluation_is_for_the_language_models_only(quick_assets, capsys):
    assert main(["evaluate", "chatbot", "--dynamic-lr", "0.1", "--assets", str(quick_assets)]) == 2
    assert "applies to `evaluate shakespeare` only" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--prompt", "   "], "empty"),
    (["--prompt", "x" * 100_000], "too long"),
    (["--prompt", "ROMEO:", "--temperature", "-1"], "temperature must be between"),
    (["--prompt", "ROMEO:", "--max-tokens", str(10**9)], "max tokens must be between"),
    (["--prompt", "ROMEO:", "--model", "gpt-5"], "unknown model"),
    (["--prompt", "a\x00b"], "control character"),
])
def test_bad_generate_input_exits_nonzero_with_a_message(quick_assets, capsys, argv, message):
    code = main(["generate", *argv, "--assets", str(quick_assets)])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_checkpoint_exits_with_the_command_to_run(tmp_path, capsys):
    shutil.copy(SHIPPED_TOKENIZER, tmp_path / "tokenizer.model")
    code = main(["generate", "--prompt", "ROMEO:", "--assets", str(tmp_path)])
    assert code == 2
    assert "python -m rnn_demo train shakespeare --cell gru" in capsys.readouterr().err
