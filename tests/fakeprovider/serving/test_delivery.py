"""Sending an answer: how a bug of ours is labelled."""

from __future__ import annotations

from fakeprovider.serving.delivery import internal_error_message


def test_a_bug_is_labelled_as_the_harness_recognises_it() -> None:
    from harness.pytest_plugin.server_errors import INTERNAL_ERROR_PREFIX

    message = internal_error_message(KeyError("x"))
    assert message == f"{INTERNAL_ERROR_PREFIX}: KeyError('x')"
