"""Route specs (routes files): the per-route budget table, its readiness checklist
(`rehearse lint`), rehearsal plans (`rehearse plan`) and readiness runs (`rehearse rehearse`)."""
