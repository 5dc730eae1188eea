"""Recorded traffic: the cassette format (`cassette`), answers read back as neutral events
(`answer`), the recording proxy and the matcher that replays."""
