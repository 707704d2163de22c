"""The built-in default job runs end to end (tiny encoder here; the README runs minilm-l6)."""

from mner.quickstart import run_quickstart


def test_quickstart_trains_scores_and_shows_an_example(tmp_path, tiny_bert_dir):
    lines: list[str] = []
    summary = run_quickstart(tmp_path / "qs", epochs=1, encoder=str(tiny_bert_dir), echo=lines.append)
    text = "\n".join(lines)
    assert "micro avg" in text and "example:" in text
    assert summary["epochs_run"] == 1
    assert (tmp_path / "qs" / "best" / "model.safetensors").exists()
