"""Grounded MNER: a grounding head over candidate regions, its training targets,
region proposals from any detector, and the scoring of grounded predictions (docs/grounding.md)."""
