"""Start-up cost: what a run does not import until it needs it."""
