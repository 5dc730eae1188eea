"""Moved to `fakeprovider.errors`; kept while `plan.py` (being edited on another branch) imports
it from here. Delete once that import reads `fakeprovider.errors`."""

from fakeprovider.errors import ProviderError, invalid

__all__ = ["ProviderError", "invalid"]
