"""The report layer: what a person or a program reads of a result. Console lines (``console``),
the JSON document (``json``), plots (``plot``, ``plot_sweep``), compare tables (``compare``) and
the progress line (``progress``). Reporters format records of ``pinbench.result``; they compute
nothing new."""
