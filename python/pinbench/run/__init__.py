"""The run layer: the machine (``topology``), the plan of streams, cores and instances
(``layout``, ``instances``), the pinned runner (``measure``), and one benchmark from settings to
assembled result (``prepare``, ``execute``, ``assemble``)."""
