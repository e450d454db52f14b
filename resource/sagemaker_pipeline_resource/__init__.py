"""A Concourse CI resource type that tracks and triggers AWS SageMaker Pipeline executions.

The directory is ``resource/`` but the import name is ``sagemaker_pipeline_resource``: a top-level package
called ``resource`` would shadow the standard library's module of that name.

Where each step lives:

- ``cli``: the dispatcher (``argv[0]`` is ``check``, ``in`` or ``out``); wires stdin/stdout/stderr only.
- ``config``: source configuration and step params, validated into dataclasses.
- ``arns``: parsing pipeline and execution ARNs.
- ``aws``: the boto3 session and client (credentials, roles, endpoints, retries, timeouts).
- ``errors``: the one exception type users see, and how AWS errors become it.
- ``version``: the version Concourse stores for an execution.
- ``history``: which executions become versions, and in which order (the heart of ``check``).
- ``check``, ``get``, ``put``: the three steps; ``waiter`` polls a running execution for ``put``.
- ``resource``: the concoursetools resource class that ties the steps together.
- ``startup``, ``snapshot``: start-up cost (what a run does not import; the image's start-up snapshot).
"""

__version__ = "0.1.0"
