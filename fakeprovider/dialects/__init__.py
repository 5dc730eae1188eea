"""Wire protocols as dialects: each parses its requests into neutral values and renders neutral answers."""
