"""`mner data regions IMAGES_DIR --to DIR`: region proposals from any Hugging Face detector (docs/grounding.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def regions(
    images: list[Path] = typer.Argument(..., help="Image folder(s) or files."),
    to: Path = typer.Option(..., "--to", help="Output folder: one <image>.npz per image (VinVL layout)."),
    detector: str = typer.Option("facebook/detr-resnet-50", "--detector",
                                 help="Hugging Face object / zero-shot detector: hub name or local folder."),
    top_k: int = typer.Option(16, "--top-k", help="Boxes kept per image (best score first)."),
    queries: Optional[str] = typer.Option(None, "--queries", help="Zero-shot detectors (OWL-ViT, OWLv2, "
                                          "Grounding DINO): comma-separated text queries."),
    features: Optional[str] = typer.Option(None, "--features", help="Region features: detector (its own per-box "
                                           "states; the default) or backbone (a vision model over each crop; "
                                           "the default when --backbone is given)."),
    backbone: Optional[str] = typer.Option(None, "--backbone", help="--features backbone: any Hugging Face vision "
                                           "model (ViT, DINOv2, CLIP/SigLIP vision tower, ...), hub name or folder."),
    pooling: str = typer.Option("mean", "--pooling", help="--features backbone: mean (of the last hidden state) "
                                "or cls (its first token)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Detect regions in every image; cached by image content, resumable."""
    from tqdm.auto import tqdm

    from mner.augment.image_files import list_images
    from mner.grounding.detect import RegionDetector, write_regions

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    if top_k < 1:
        fail("--top-k must be at least 1")
    features = features or ("backbone" if backbone else "detector")
    if features not in ("detector", "backbone"):
        fail(f"--features must be detector or backbone, not {features!r}")
    if features == "backbone" and not backbone:
        fail("--features backbone needs --backbone NAME|PATH (a Hugging Face vision model)")
    if features == "detector" and backbone:
        fail("--backbone is used only with --features backbone")
    try:
        files = list_images(images)
        crops = None
        if features == "backbone":
            from mner.grounding.crop_features import CropEmbedder

            crops = CropEmbedder.load(backbone, pooling)  # type: ignore[arg-type]
        found = RegionDetector.load(detector, top_k, [q.strip() for q in (queries or "").split(",") if q.strip()],
                                    crops)
        run = write_regions(files, to, found, progress=lambda xs: tqdm(xs, desc="regions", unit="image",
                                                                       disable=quiet))
    except (FileNotFoundError, ValueError, OSError) as err:
        fail(str(err))
    for problem in run.failed or []:
        typer.echo(f"skipped {problem}", err=True)
    typer.echo(f"{run.images - len(run.failed or [])} images -> {to} ({run.detected} detected, the rest from the "
               f"content cache); region features: {run.feature_dim} values (model.grounding.feature_dim)")
