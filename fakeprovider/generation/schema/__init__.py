"""JSON values generated from a JSON Schema: values (the walk), numbers, strings, patterns."""
