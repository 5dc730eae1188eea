"""Serving a provider call: handler, call, gate, delivery, pacing, transport."""
