"""Notifications: planning them with a change, rendering, sending, and the tokens behind email links."""
