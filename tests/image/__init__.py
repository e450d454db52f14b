"""The container image: its build helper (``python -m tests.image.build``) and its tests (``pytest -m image``)."""
