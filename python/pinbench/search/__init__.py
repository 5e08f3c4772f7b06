"""The search layer, built on ``pinbench.run`` and never imported by it: ``-nstreams auto``
(``auto_streams``), the highest rate under a latency target (``find_qps``) and the grid of
batch sizes and streams (``sweep``)."""
