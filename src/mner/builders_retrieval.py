"""`model.neighbours` -> the labelled-neighbour context (mner.retrieval.neighbours);
`model.knn` -> kNN tagging of a saved model (mner.retrieval.knn).

    neighbours:
      name: context.neighbours.v1
      key: text                # what posts are looked up by: text | caption | knowledge | text|caption
      encoder: minilm-l6       # the sentence encoder of the index
      k: 3                     # neighbours per post
      max_subwords: 64         # cap on the serialised entities, in the tagger's subwords
      none_share: 0.2          # share of training posts (per batch) that see no neighbours
      with_text: false         # also write each neighbour's words before its entities
      field: neighbours        # the visual-text name it fills (model.second_segment reads it)
      append_to: null          # e.g. knowledge: the context follows that text, in the same field
      knowledge_max_subwords: 64
      index: null              # an index directory to use (rebuilt there if it is of other posts)
      cache_dir: runs/index-cache   # else: <cache_dir>/<key>-<content hash>, shared by runs on the same posts
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mner.data.post import Post

CONTEXTS = ("context.neighbours.v1",)


def build_neighbour_context(cfg: dict[str, Any], encoder: Any, train_posts: list[Post] | None = None,
                            saved_dir: Path | None = None, log: Any = print) -> Any:
    from mner.retrieval.index import PostIndex
    from mner.retrieval.neighbours import INDEX_DIR, NeighbourContext

    name = cfg.get("name", "context.neighbours.v1")
    if name not in CONTEXTS:
        raise ValueError(f"unknown model.neighbours.name {name!r}; choose from {CONTEXTS}")
    index = _training_bank(cfg, str(cfg.get("key", "text")), train_posts, saved_dir, INDEX_DIR, "neighbours", log)
    if index is None and cfg.get("index"):
        index = PostIndex.load(cfg["index"])
    if index is None:
        raise ValueError("model.neighbours needs training posts (or model.neighbours.index) to build its bank from")
    featurizer = getattr(encoder, "featurizer", None)
    count_pieces = (lambda w: len(featurizer.word_pieces(w))) if featurizer is not None else None
    cap = cfg.get("max_subwords", 64)
    knowledge_cap = cfg.get("knowledge_max_subwords", 64)
    return NeighbourContext(index, int(cfg.get("k", 3)), str(cfg.get("field", "neighbours")),
                            int(cap) if cap is not None else None, float(cfg.get("none_share", 0.0)),
                            bool(cfg.get("with_text", False)), cfg.get("append_to"),
                            int(knowledge_cap) if knowledge_cap is not None else None, count_pieces)


def _training_bank(cfg: dict[str, Any], key: str, train_posts: list[Post] | None, saved_dir: Path | None,
                   index_dir: str, what: str, log: Any) -> Any:
    """The index a retrieval module searches: the one saved with the model, else one built (or reused from
    the content-hash cache) over the labelled training posts; None when there is neither."""
    from mner.retrieval.index import PostIndex, cached_index, posts_digest

    if saved_dir is not None:
        return PostIndex.load(Path(saved_dir) / index_dir)
    if not train_posts:
        return None
    sentence_encoder = str(cfg.get("encoder", "minilm-l6"))
    labelled = [p for p in train_posts if p.tokens and p.tags is not None]
    directory = cfg.get("index") or Path(cfg.get("cache_dir") or "runs/index-cache") / (
        f"{key.replace('|', '+')}-{posts_digest(labelled, key, sentence_encoder)}")
    index, reused = cached_index(labelled, directory, key, sentence_encoder, log=log)
    log(f"{what}: {'reused' if reused else 'built'} the {key} index of {len(labelled)} training posts in {directory}")
    return index


def build_knn(cfg: dict[str, Any], saved_dir: Path | None) -> Any:
    """`model.knn: {name: knn.words.v1, k, temperature, weight}` of a saved model -> its kNN tagging."""
    from mner.retrieval.knn import KNN_NAMES, KnnSettings, KnnTagging, WordDatastore

    name = cfg.get("name", KNN_NAMES[0])
    if name not in KNN_NAMES:
        raise ValueError(f"unknown model.knn.name {name!r}; choose from {KNN_NAMES}")
    if saved_dir is None:
        raise ValueError("model.knn is added to a trained model (`mner index knn RUN --train FILE --to DIR`), "
                         "not trained: remove it from the training config")
    settings = KnnSettings(int(cfg.get("k", 8)), float(cfg.get("temperature", 0.1)), float(cfg.get("weight", 0.3)))
    return KnnTagging(WordDatastore.load(Path(saved_dir)), settings)


def build_relation_graphs(cfg: dict[str, Any], train_posts: list[Post] | None = None,
                          saved_dir: Path | None = None, log: Any = print) -> Any:
    """`model.visual: {name: visual.relation_graph.v1, graphs: [inter, intra], k: 5, key: caption,
    encoder: minilm-l6, output_dim: 256, cache_dir: runs/index-cache}` -> R-GCN's relation graphs over
    the training posts' captions (mner.retrieval.relation_graph); fuse with `fusion.gated.v1`."""
    from mner.retrieval.relation_graph import GRAPHS, INDEX_DIR, RelationGraphs

    image_key = str(cfg.get("key", "caption"))
    index = _training_bank(cfg, image_key, train_posts, saved_dir, INDEX_DIR, "relation graphs", log)
    if index is None:
        raise ValueError("visual.relation_graph.v1 needs training posts to build its bank from")
    graphs = cfg.get("graphs", list(GRAPHS))
    return RelationGraphs(index, list(graphs or []), int(cfg.get("k", 5)), int(cfg.get("output_dim", 256)),
                          str(cfg.get("text_key", "text")), image_key, float(cfg.get("dropout", 0.1)))
