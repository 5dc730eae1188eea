"""The model catalogue: what is known about one model (info), the built-in table, and the
Catalogue with family resolution (families)."""
