"""One pipeline execution as every step reads it: its description, steps and durations, and waiting for it."""
