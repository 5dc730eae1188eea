"""Request templates: seeded helpers, nested rendering, and a sandbox that refuses code."""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
import pytest

from harness.errors import InvalidExperiment
from harness.experiment.model import RequestSpec
from harness.experiment.templates import PreparedRequest, RequestFactory, TemplateError, check_request


def factory(
    json: Any = None, headers: dict[str, str] | None = None, path: str = "/r", seed: int = 0
) -> RequestFactory:
    spec = RequestSpec.model_validate({"path": path, "json": json, "headers": headers or {}})
    return RequestFactory(spec, seed)


def body(request: PreparedRequest) -> Any:
    assert request.body is not None
    return orjson.loads(request.body)


SPEC = {
    "text": "{{ faker.paragraph(nb_sentences=8) }}",
    "id": "{{ uuid() }}",
    "n": "{{ random_int(1, 10) }}",
    "pick": "{{ ['x', 'y', 'z']|random }}",
}
HEADERS = {"X-Tenant": "{{ choice('acme', 'globex') }}"}


def test_same_seed_gives_the_same_requests_in_any_order() -> None:
    first, second = factory(SPEC, HEADERS, seed=7), factory(SPEC, HEADERS, seed=7)
    forwards = [first.make(i) for i in range(20)]
    backwards = [second.make(i) for i in reversed(range(20))][::-1]
    assert forwards == backwards


def test_another_seed_gives_other_requests() -> None:
    a = [factory(SPEC, HEADERS, seed=1).make(i) for i in range(5)]
    b = [factory(SPEC, HEADERS, seed=2).make(i) for i in range(5)]
    assert [r.body for r in a] != [r.body for r in b]


def test_requests_differ_from_one_seq_to_the_next() -> None:
    f = factory(SPEC)
    assert len({f.make(i).body for i in range(10)}) == 10


def test_faker_paragraph_is_prose() -> None:
    text = body(factory({"t": "{{ faker.paragraph(nb_sentences=8) }}"}).make(0))["t"]
    assert isinstance(text, str)
    assert text.count(".") >= 4


def test_choice_picks_among_its_options_and_uses_each() -> None:
    f = factory(headers={"X-Tenant": "{{ choice('acme', 'globex') }}"})
    assert {f.make(i).headers["X-Tenant"] for i in range(50)} == {"acme", "globex"}


def test_uuid_is_a_version_4_uuid() -> None:
    f = factory({"id": "{{ uuid() }}"})
    values = [body(f.make(i))["id"] for i in range(5)]
    assert all(uuid.UUID(v).version == 4 for v in values)
    assert len(set(values)) == 5


@pytest.mark.parametrize("template", ["{{ sequence() }}", "{{ seq }}"])
def test_sequence_and_seq_are_the_request_number(template: str) -> None:
    f = factory({"n": template})
    assert [body(f.make(i))["n"] for i in (0, 1, 41)] == ["0", "1", "41"]


def test_random_int_stays_within_bounds() -> None:
    f = factory({"n": "{{ random_int(1, 3) }}"})
    assert {body(f.make(i))["n"] for i in range(60)} == {"1", "2", "3"}


def test_random_filter_is_seeded() -> None:
    spec = {"p": "{{ ['x', 'y', 'z']|random }}"}
    picks = [body(factory(spec, seed=3).make(i))["p"] for i in range(30)]
    assert picks == [body(factory(spec, seed=3).make(i))["p"] for i in range(30)]
    assert set(picks) == {"x", "y", "z"}


def test_nested_json_headers_and_path_are_rendered_and_other_leaves_kept() -> None:
    f = factory(
        {"a": {"b": ["{{ seq }}", 2, True, None, {"c": "tenant-{{ choice('t') }}"}]}, "n": 1.5, "s": "plain"},
        {"X-Req": "r{{ seq }}"},
        path="/items/{{ seq }}",
    )
    request = f.make(3)
    assert body(request) == {"a": {"b": ["3", 2, True, None, {"c": "tenant-t"}]}, "n": 1.5, "s": "plain"}
    assert request.headers == {"X-Req": "r3", "Content-Type": "application/json"}
    assert request.path == "/items/3"
    assert request.method == "POST"


def test_a_whole_leaf_template_stays_a_string() -> None:
    assert body(factory({"n": "{{ random_int(5, 5) }}"}).make(0)) == {"n": "5"}


def test_a_given_content_type_is_kept_and_no_body_means_none() -> None:
    request = factory({"x": 1}, {"content-type": "application/vnd.x+json"}).make(0)
    assert request.headers == {"content-type": "application/vnd.x+json"}
    bare = factory(None).make(0)
    assert bare.body is None
    assert "Content-Type" not in bare.headers


def test_headers_are_a_fresh_dict_per_request() -> None:
    f = factory({"x": 1}, {"X-A": "a"})
    first = f.make(0)
    first.headers["X-Request-Id"] = "mine"
    assert "X-Request-Id" not in f.make(1).headers


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ faker.__init__ }}",
        "{{ faker.__class__ }}",
        "{{ faker.random }}",
        "{{ faker['random'] }}",
        "{{ faker|attr('random') }}",
        "{% set f = faker %}{{ f.random }}",
        "{{ faker.seed_instance(1) }}",
        "{{ faker.add_provider }}",
        "{{ faker.name.__globals__ }}",
        "{{ uuid.__globals__ }}",
        "{{ [1].append(2) }}",
        "{{ {}.update(a=1) }}",
        "{{ '{0.__class__}'.format(seq) }}",
    ],
)
def test_the_sandbox_refuses_reaching_outside(template: str) -> None:
    with pytest.raises(InvalidExperiment, match=r"^target\.request\.json\.text: "):
        factory({"text": template})


@pytest.mark.parametrize("name", ["lipsum", "range", "cycler", "joiner", "namespace", "dict", "os", "config"])
def test_names_other_than_the_helpers_are_unknown(name: str) -> None:
    with pytest.raises(TemplateError, match=rf"unknown name '{name}'; a template may use only faker"):
        factory({"text": f"{{{{ {name} }}}}"})


def test_a_syntax_error_names_the_field_and_line() -> None:
    with pytest.raises(
        TemplateError, match=r"^target\.request\.json\.text: template syntax error: .*\(line 1\)"
    ):
        factory({"text": "{{ faker.name( }}"})


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"json": {"messages": [{"content": "ok"}, {"content": "{{ nope }}"}]}}, "json.messages.1.content"),
        ({"headers": {"X-Tenant": "{{ choice( }}"}}, "headers.X-Tenant"),
        ({"path": "/x/{{ ''.__class__ }}"}, "path"),
    ],
)
def test_errors_name_the_field_path(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(TemplateError) as caught:
        RequestFactory(RequestSpec.model_validate({"path": "/r", **spec}), 0)
    assert caught.value.field == f"target.request.{field}"
    assert str(caught.value).startswith(f"target.request.{field}: ")


def test_helper_misuse_is_caught_by_the_dry_run() -> None:
    with pytest.raises(TemplateError, match=r"choice\(\) needs at least one option"):
        factory({"t": "{{ choice() }}"})
    with pytest.raises(TemplateError, match=r"faker has no method 'nope'|no attribute 'nope'"):
        factory({"t": "{{ faker.nope() }}"})
    with pytest.raises(TemplateError, match="unexpected keyword argument"):
        factory({"t": "{{ faker.paragraph(bogus=1) }}"})


def test_check_request_validates_without_a_seed() -> None:
    check_request(RequestSpec.model_validate({"path": "/r", "json": SPEC, "headers": HEADERS}))
    with pytest.raises(TemplateError, match=r"^steps\.0\.json\.t: "):
        check_request(RequestSpec.model_validate({"path": "/r", "json": {"t": "{{ x }}"}}), where="steps.0")


def test_a_static_request_is_encoded_once() -> None:
    f = factory({"x": [1, 2]}, {"X-A": "a"})
    assert f.make(0).body is f.make(1).body
    assert re.fullmatch(rb'\{"x":\[1,2\]\}', f.make(0).body or b"")


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ faker.text(max_nb_chars=10**9) }}", "max_nb_chars=1e+09 is more than the 100,000"),
        ("{{ faker.pystr(1e9) }}", "min_chars=1e+09 is more than the 100,000"),
        ("{{ faker.binary(2000000000) }}", "length=2e+09 is more than the 100,000"),
        ("{{ 'a' * 10**10 }}", "'*' would make 10,000,000,000 items; at most 1,000,000"),
        ("{{ [1, 2] * 10**9 }}", "'*' would make 2,000,000,000 items"),
        ("{{ 10**100000 }}", "'**' would make a number of more than 4,096 bits"),
        ("{{ random_int(0, 10**100) }}", "random_int(low, high) needs -2**63 <= low <= high <= 2**63"),
        (
            "{% for _ in [1] * 150 %}{{ faker.text(max_nb_chars=9000) }}{% endfor %}",
            "a template may render 1,000,000",
        ),
    ],
)
def test_a_template_that_would_make_too_much_is_refused_fast_naming_the_bound(
    template: str, says: str
) -> None:
    with pytest.raises(TemplateError) as info:
        check_request(RequestSpec(path="/x", json={"text": template}))
    assert info.value.field == "target.request.json.text"
    assert says in info.value.problem


def test_templates_within_the_bounds_render_as_before() -> None:
    made = body(factory({"a": "{{ faker.text(max_nb_chars=10000) }}", "b": "{{ 'ab' * 1000 }}"}).make(3))
    assert 5_000 < len(made["a"]) <= 10_000
    assert made["b"] == "ab" * 1000
