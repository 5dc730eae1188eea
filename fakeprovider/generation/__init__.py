"""Generation: the neutral request, the events a plan is made of, the plan, content, tokens, ids
and per-request random numbers."""
