"""Dev F1 of an ensemble of mner models: their per-word CRF posteriors averaged, the best BIO-valid path.

    python scripts/ensemble_dev_f1.py runs/teacher-t17-s1 runs/grid-twitter2017-knowledge-free/knowledge-modality-dropout/seed-{1,2,3} \
        --data ../shared/data/twitter2017/valid.txt --knowledge ../shared/data/knowledge/pgim_chatgpt_twitter2017_valid.jsonl

The tags a distillation student learns from when `distill.teacher` lists several runs
(`mner.distill.ensemble`), scored with mner's evaluator: what an ensemble teacher is worth before a
student is trained on it. Prints each member's F1 (its own CRF path) and the ensemble's, fp32.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders or model directories (two or more)")
    parser.add_argument("--data", required=True, help="labelled posts to score on (e.g. dev)")
    parser.add_argument("--knowledge", help="knowledge JSONL for those posts, when the models read it")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from mner.checkpoint import from_pretrained
    from mner.data.loading import load_posts
    from mner.distill.ensemble import average_targets
    from mner.distill.targets import compute_targets
    from mner.metrics.entities import entity_scores
    from mner.predict import resolve_model_dir

    if args.threads:
        torch.set_num_threads(args.threads)
    posts = load_posts(args.data, visual_text={"knowledge": args.knowledge} if args.knowledge else {})
    gold = [p.tags for p in posts]
    members = []
    print("| model | dev F1 |\n|---|---|")
    for run in args.runs:
        targets = compute_targets(from_pretrained(resolve_model_dir(run)), posts, progress_bar=False)
        members.append(targets)
        print(f"| {run} | {entity_scores(gold, [targets.tags(p) for p in posts]).f1:.2f} |")
    ensemble = average_targets(members)
    print(f"| **ensemble of {len(members)}** | **{entity_scores(gold, [ensemble.tags(p) for p in posts]).f1:.2f}** |")


if __name__ == "__main__":
    main()
