"""`mner bench-modules`' measurements on tiny inputs: the fields are filled and the tables read them."""

from __future__ import annotations

from PIL import Image

from mner.bench.module_cost import cnn_table, measure_cnn_cost, measure_step_cost, step_table


def test_step_cost_counts_trained_parameters_and_rows():
    row = measure_step_cost("decoder-tiny", batch_size=2, words=5, steps=1, lora_r=2)
    assert 0 < row.trained < row.parameters and row.sequence_length == 5 + 2  # BOS + words + EOS
    assert row.seconds_per_step > 0
    assert "| decoder-tiny |" in step_table([row])


def test_cnn_cost_on_generated_images(tmp_path):
    for i in range(3):
        Image.new("RGB", (50 + 10 * i, 40), (60 * i, 100, 20)).save(tmp_path / f"{i}.jpg", "JPEG")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    row = measure_cnn_cost(tmp_path, image_size=16, widths=(4, 8), batch_size=2)
    assert row.images == 3 and row.bad_images == 1
    assert all(v > 0 for v in row.ms_per_image.values())
    assert "CNN 4-8, 16 px" in cnn_table([row])


def test_the_command_writes_its_tables(tmp_path):
    from typer.testing import CliRunner

    from mner.cli.main import app

    result = CliRunner().invoke(app, ["bench-modules", "--text", "decoder-tiny", "--steps", "1", "--batch-size", "2",
                                      "--words", "3", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "| decoder-tiny |" in (tmp_path / "modules.md").read_text()
    result = CliRunner().invoke(app, ["bench-modules", "--text", "gpt-9"])
    assert result.exit_code == 1 and "unknown text module" in result.output
