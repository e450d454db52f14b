"""Versions: the version Concourse stores, the rule that orders executions into versions, and the
marker a put leaves on its execution."""
