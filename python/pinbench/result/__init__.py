"""The result layer: plain records of what a run measured and how it was judged: the
measurement (``measurement``), what ran (``config``), the assembled result (``record``), its
verdict (``validity``), the server scenario's figures (``server``), what the searches tried
(``search``), raw samples on disk (``samples``) and runs compared (``compare``). Reporters only
read these."""
