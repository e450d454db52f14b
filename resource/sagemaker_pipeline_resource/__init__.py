"""A Concourse CI resource type that tracks and triggers AWS SageMaker Pipeline executions.

The steps: ``check.py``, ``get/`` (``in``) and ``put/`` (``out``), dispatched on ``argv[0]`` by ``cli.py``
through the concoursetools resource class in ``concourse.py``. What they share lives below them and never in
another step: ``config/``, ``aws/``, ``versions/`` (the version and its ordering), ``execution/`` (reading
and waiting for one execution). The module map, one line a module, is in docs/development.md (a test keeps
it in step with the files).
"""

__version__ = "0.1.0"
