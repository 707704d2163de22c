"""mner annotate: an OCR-assisted web tool that turns images and posts into labelled data (docs/annotate.md).

    store.py       the project's SQLite store (WAL): items, versions (409 on a stale write), undo history
    intake.py      posts (any mner format) and images -> items; image names checked with resolve_inside
    prepare.py     an item's first version: OCR text (RapidOCR) and a model's pre-tagged entities
    project.py     a project folder: store + entity types + images folder + preparer
    schemas.py checks.py   request bodies and what a saved item must satisfy (422 naming the field)
    app.py         the FastAPI app and page (static/), on mner serve's error handling and limits
    export.py      finished items -> mner JSONL, Twitter CoNLL, GMNER CoNLL + VOC xml
    agreement.py   entity-level F1 of one project against another (mner.metrics)
    edit_count.py  how many pre-tagged entities a person changes, against tagging from scratch
    speed.py       seconds per item of OCR and pre-tagging
"""

from mner.annotate.agreement import agreement
from mner.annotate.edit_count import EditCount, count_edits
from mner.annotate.export import EXPORT_FORMATS, export_project
from mner.annotate.project import Project, open_project
from mner.annotate.store import AnnotationStore, StaleWriteError

__all__ = ["EXPORT_FORMATS", "AnnotationStore", "EditCount", "Project", "StaleWriteError", "agreement",
           "count_edits", "export_project", "open_project"]
