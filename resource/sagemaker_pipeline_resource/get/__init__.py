"""The ``in`` step (Concourse's get): an execution downloaded into the step's directory."""
