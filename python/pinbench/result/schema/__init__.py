"""pinbench's JSON documents: one module per document, each with its writer (record -> dict)
and its reader (dict -> the same record) side by side, and the versions they write and read.

- ``run``: ``pinbench -x`` (``Result`` -> dict -> ``RunDoc``); ``run_sections`` writes the
  sections that no report reads back;
- ``ab``: ``pinbench ab -x`` (``AbResult``), ``sweep``: ``pinbench sweep -x`` (``Sweep``);
- ``generation``: ``-s generate``'s token figures (``GenerationFigures``), in a run and in a
  sweep point;
- ``version``: the schema versions, and what a key meant in each; ``values``: NaN as null;
- ``load``: any document by its kind.

Example::

    >>> from pinbench.result.schema import load_document
    >>> doc = load_document("result.json")  # doctest: +SKIP
"""

from .load import Document, load_document, read_document

__all__ = ["Document", "load_document", "read_document"]
