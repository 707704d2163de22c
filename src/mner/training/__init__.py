"""Training: optimiser groups, LR schedules, batching order, the loop, resumable runs."""
