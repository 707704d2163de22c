"""Distillation: a student (e.g. the fast text-only model) learns a teacher's soft labels.

The teacher is any trained mner model, typically one that reads LLM knowledge as a second
segment; the student reads only what a user's posts have. `targets.py` computes the
teacher's per-word label posteriors once and caches them on disk; `prepare.py` turns a
config's `distill` section into training posts and a `DistillObjective`
(`mner.training.objectives`). Entry points: `mner distill TEACHER CONFIG` or any config with
a `distill:` section through `mner train` / `mner experiment`.
"""
