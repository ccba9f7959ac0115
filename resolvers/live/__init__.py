"""Live updates: the event outbox and the hub that pushes committed events to subscribers."""
