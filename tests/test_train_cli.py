"""`python -m rnn_demo train text --file F --json` and `generate --model FILE.zip`: the Train tab's run from the shell."""
import json

from rnn_demo.__main__ import main
from rnn_demo.usertrain import archive

POEM = ("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"
        "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n"
        "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n") * 12


def test_train_text_prints_json_events_and_its_model_generates_again(tmp_path, capsys):
    source = tmp_path / "poems.txt"
    source.write_text(POEM, encoding="utf-8")
    out = tmp_path / "poems.zip"
    assert main(["train", "text", "--file", str(source), "--preset", "tiny", "--cell", "simple_rnn",
                 "--optimizer", "momentum", "--learning-rate", "0.1", "--max-steps", "60", "--eval-every", "20",
                 "--seq-len", "32", "--out", str(out), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "start" and events[0]["tokenizer"] == "characters"  # Chinese: one token a character
    assert kinds.count("eval") == 3 and kinds[-2:] == ["done", "saved"]
    assert events[-2]["steps"] == 60 and "folder" not in events[-2]
    model = archive.load_archive(out.read_bytes())
    assert model.config.cell == "simple_rnn"
    expected = model.generate("床前", max_tokens=20, temperature=0.0, seed=0, deadline_s=5.0)

    assert main(["generate", "--model", str(out), "--prompt", "床前", "--max-tokens", "20", "--temperature", "0",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == expected and result["tokens"] == 20
    assert set(result["text"]) <= set(POEM) | {"\ufffd"}


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 50)
    assert main(["train", "text", "--file", str(binary), "--json"]) == 2
    assert "looks binary" in capsys.readouterr().err
    text = tmp_path / "ok.txt"
    text.write_text("word " * 100, encoding="utf-8")
    assert main(["train", "text", "--file", str(text), "--units", "100000"]) == 2
    assert "units must be between" in capsys.readouterr().err
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["generate", "--model", str(broken), "--prompt", "a"]) == 2
    assert "not a zip archive" in capsys.readouterr().err
