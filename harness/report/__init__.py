"""Writers of a `Run` and its clause results: console (progress, results table, summary),
JSON journal, JUnit XML and a self-contained HTML page. None of them computes a verdict."""
