"""`toxiproxy` comes with the plugin: a proxy in front of the fake provider breaks the network
for one test, and the next test finds neither the proxy nor its toxics."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_proxy_made_in_one_test_cuts_the_provider_and_is_gone_in_the_next(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)  # the embedded server, not one outside
    suite.makepyfile(
        """
        import openai
        import pytest

        def ask(base_url):
            with openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=5) as client:
                return client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
                )

        def test_cut(toxiproxy, fake_provider):
            upstream = fake_provider.url.removeprefix("http://")
            proxy = toxiproxy.create(upstream=upstream, name="llm", listen="127.0.0.1:0")
            through = f"http://{proxy.listen}/v1"
            ask(through)
            proxy.add_toxic(type="reset_peer", attributes={"timeout": 0})
            with pytest.raises(openai.APIConnectionError):
                ask(through)
            # The provider answered both: the network lost the second answer on its way back.
            assert [c.status for c in fake_provider.ledger()] == [200, 200]

        def test_clean(toxiproxy):
            assert toxiproxy.proxies() == {}
        """
    )
    # In a fresh interpreter: in this one, pytester drops the HTTP transport modules a run
    # imported, and the SDK's next run would no longer recognise their connection errors.
    suite.runpytest_subprocess().assert_outcomes(passed=2)
