"""Configuration: ``source`` and each step's ``params`` as validated dataclasses, their bounds, ARNs and
parameter files."""
