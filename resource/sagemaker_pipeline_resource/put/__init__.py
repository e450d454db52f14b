"""The ``out`` step (Concourse's put): the request, its idempotency tokens, the call, the marker that places
its version, and deploying a definition."""
