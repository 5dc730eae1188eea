"""A small real LLM-backed service, built the way rehearsal preaches; used by the demo, the
probe library and the tests."""
