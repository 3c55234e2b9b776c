"""The scale-out soak, shared by its test (`tests/test_scale_out.py`, shortened) and its
benchmark (`bench/scale_out.py`, full): the deployment (`deployment.py`), the load
(`load.py`), the run (`soak.py`), the proofs (`proofs.py`) and the figures (`report.py`)."""
