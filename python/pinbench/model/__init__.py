"""The model layer: find a model (``resolve``), read its graph (``graph``), apply ``-b`` and
``-shapes`` to a copy (``overrides``, ``load``), choose the free dims (``dims``) and make the
inputs (``inputs``, ``data``). Records: ``spec``."""
