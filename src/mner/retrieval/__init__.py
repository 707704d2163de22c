"""Retrieval over labelled training posts: a sentence-embedding index (index.py, embed.py),
kNN tagging over a trained tagger's word states (knn.py) and labelled-neighbour context
(neighbours.py). See docs/retrieval.md."""
