"""Tampered or truncated model files give an error naming the file; nothing loads with pickle."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mner.checkpoint import from_pretrained, save_pretrained
from mner.cli.main import app
from mner.config import load_config
from mner.model_files import ModelFileError
from mner.training.run import train_run
from posts_factory import make_posts

SRC = Path(__file__).resolve().parents[2] / "src" / "mner"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("model-files") / "run"
    cfg = load_config(None, [f"output_dir={out}", "train.epochs=1", "train.batch_size=4"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    posts = make_posts(4)
    train_run(cfg, progress_bar=False, log=lambda *_: None, train_posts=posts, dev_posts=posts)
    return out


def damaged_copy(run: Path, tmp_path: Path, name: str, damage) -> Path:  # noqa: ANN001
    model = tmp_path / "model"
    shutil.copytree(run / "best", model)
    path = model / name
    path.write_bytes(damage(path.read_bytes()))
    return model


DAMAGES = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "flipped header": lambda b: b[:4] + bytes([b[4] ^ 0xFF]) + b[5:],
    "utf-16": lambda b: b.decode("latin-1").encode("utf-16"),
}


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "labels.json"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_model_file_is_named(run: Path, tmp_path: Path, name: str, damage: str) -> None:
    model = damaged_copy(run, tmp_path, name, DAMAGES[damage])
    with pytest.raises(ModelFileError) as caught:
        from_pretrained(model)
    assert str(caught.value).startswith(str(model)), str(caught.value)
    result = CliRunner().invoke(app, ["predict", str(model), "Alice in Paris"])
    assert result.exit_code == 1 and str(model) in result.output and "Traceback" not in result.output


def test_weights_of_another_shape_and_edited_config(run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(run / "best", model)
    labels = json.loads((model / "labels.json").read_text())
    (model / "labels.json").write_text(json.dumps(labels + ["B-EXTRA", "I-EXTRA"]))  # head size no longer fits
    with pytest.raises(ModelFileError, match=r"model\.safetensors: its tensors do not fit"):
        from_pretrained(model)
    (model / "labels.json").write_text(json.dumps(labels))
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "model": {**config["model"], "head": {"name": "x.v9"}}}))
    with pytest.raises(ModelFileError, match=r"config\.json: does not describe a loadable model"):
        from_pretrained(model)


def test_a_damaged_training_checkpoint_is_named_on_resume(run: Path, tmp_path: Path, tiny_bert_dir: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(run, out)
    trainer = out / "checkpoint" / "trainer.safetensors"
    trainer.write_bytes(trainer.read_bytes()[:100])
    cfg = load_config(None, [f"output_dir={out}", "train.epochs=2", "train.batch_size=4"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    with pytest.raises(ModelFileError, match=r"checkpoint/trainer\.safetensors: not a readable safetensors"):
        train_run(cfg, resume=True, progress_bar=False, log=lambda *_: None, train_posts=make_posts(4),
                  dev_posts=make_posts(4))


def test_a_model_saves_and_loads_after_the_checks(run: Path, tmp_path: Path) -> None:
    model = from_pretrained(run / "best")
    save_pretrained(model, tmp_path / "copy")
    assert from_pretrained(tmp_path / "copy").labels == model.labels


FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def test_no_load_path_uses_pickle() -> None:
    """Greps the package's code (not its comments) for pickle, torch.load and allow_pickle=True."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] in FORBIDDEN_MODULES for a in node.names):
                found.append(f"{where}: import {[a.name for a in node.names]}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{where}: from {node.module} import")
            if isinstance(node, ast.Attribute) and node.attr == "load" and isinstance(node.value, ast.Name) \
                    and node.value.id == "torch":
                found.append(f"{where}: torch.load")
            if isinstance(node, ast.keyword) and node.arg in ("allow_pickle", "weights_only") \
                    and not (isinstance(node.value, ast.Constant) and node.value.value is (node.arg == "weights_only")):
                found.append(f"{where}: {node.arg}={ast.unparse(node.value)}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy") \
                    and not any(k.arg == "allow_pickle" for k in node.keywords):
                found.append(f"{where}: np.load without allow_pickle=False")
    assert not found, "\n".join(found)


def test_import_layers() -> None:
    """checkpoint never reaches the export package; evaluation never imports training (no circles)."""
    def imports(module: str) -> set[str]:
        tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert not {m for m in imports("checkpoint.py") if m.startswith(("mner.export", "mner.predict"))}
    assert not {m for m in imports("modules/int8_linear.py") if m.startswith(("mner.export", "mner.predict",
                                                                                 "mner.checkpoint"))}
    assert not {m for m in imports("evaluation.py") if m.startswith("mner.training")}


@pytest.mark.parametrize("name", ["model.onnx", "head.safetensors", "onnx.json"])
def test_a_damaged_onnx_export_is_named(run: Path, tmp_path: Path, name: str) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from mner.export import export_model, load_tagger

    exported = tmp_path / "onnx"
    export_model(run, "onnx", exported)
    path = exported / name
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    with pytest.raises(ModelFileError) as caught:
        load_tagger(exported)
    assert str(caught.value).startswith(str(path)), str(caught.value)
