"""Old home of the wire protocols, now `fakeprovider.dialects`: only `errors` is left here."""
