"""Request templates: `{{ faker.paragraph() }}`, `{{ choice('a', 'b') }}`, `{{ uuid() }}`,
`{{ sequence() }}` / `{{ seq }}`, `{{ random_int(1, 10) }}` in the request's path, JSON string
leaves and header values.

Templates run in jinja2's `ImmutableSandboxedEnvironment`: no underscore attributes, no
mutation of lists or dicts, and `faker.` reaches only Faker's provider methods, so a template
cannot run arbitrary code. Every template is compiled once and rendered once with a dry-run
context when the factory is built, so a bad template is an `InvalidExperiment` naming its field
before any load starts.

Request number `seq` is a pure function of `(seed, seq)`: Faker and the helpers share one
`random.Random` reseeded for each request, so the same seed gives the same requests, whatever
order they are made in. (Faker's date helpers relative to "now", such as `date_this_year`, are
the exception.) A rendered leaf is always a string, even when the whole leaf is one `{{ x }}`:
write numbers and booleans as plain YAML values.
"""

from __future__ import annotations

import functools
import inspect
import random
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jinja2
import orjson
from faker import Factory
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness.errors import InvalidExperiment
from harness.experiment.model import RequestSpec

NAMES = ("faker", "choice", "uuid", "sequence", "seq", "random_int")
TRACE = "trace"  # a trace load's values of the arrival: `trace.tenant`, `trace['x-y']`
_HINT = "a template may use only faker.<provider method>(...), " + ", ".join(NAMES[1:])
_TRACE_HINT = "use a trace value as trace.NAME or trace['NAME']"
_DRY_RUN_SEQ = 0
_2_64 = 1 << 64


class TemplateError(InvalidExperiment):
    """A template that does not compile or render; `field` is its path in the experiment."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class TraceSource(Protocol):
    """What a factory needs of a trace (`harness.load.trace.Trace`)."""

    def __len__(self) -> int: ...

    def values(self, i: int) -> Any: ...

    def check_columns(self, used: dict[str, str]) -> None: ...


class _AnyValue:
    """`trace` in the dry run of a template checked before its trace is read: any name is ""."""

    def __getitem__(self, name: str) -> str:
        return ""


@dataclass(slots=True)
class PreparedRequest:
    """One rendered request; `headers` is a fresh dict the caller may add to."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


# Bounds on what one template may make (docs/experiments.md, "Templates"): a size or count
# argument of a Faker method, the result of `*` on a string or list, a `**`, the rendered text.
MAX_SIZE_ARG = 100_000
MAX_RENDERED_CHARS = 1_000_000
MAX_POWER_BITS = 4_096
MAX_RANDOM_INT = 1 << 63
# Faker's parameters that set how much it makes (characters, words, sentences, elements).
_SIZE_PARAMS = frozenset(
    {"max_nb_chars", "min_chars", "max_chars", "nb_words", "nb_sentences", "nb_paragraphs", "nb",
     "nb_elements", "length", "max_length", "min_length", "ext_word_list_size"}
)  # fmt: skip


@functools.cache
def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the Faker generator narrowed to its provider methods and
    what a template can make bounded (it is refused fast, not obeyed)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, faker: Any, faker_methods: frozenset[str]) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False)
        self._faker = faker
        self._faker_methods = faker_methods

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_RENDERED_CHARS
                ):
                    raise SecurityError(
                        f"'*' would make {len(seq) * times:,} items; at most {MAX_RENDERED_CHARS:,}"
                    )
        elif isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > MAX_POWER_BITS:
            raise SecurityError(f"'**' would make a number of more than {MAX_POWER_BITS:,} bits")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__self__", None) is not None:  # a bound method: Faker's, most often
            signature = _signature(getattr(__obj, "__func__", __obj))
            if signature is not None:
                _check_sizes(signature, (__obj.__self__, *args), kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if obj is self._faker:
            return attr in self._faker_methods
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        if obj is self._faker:
            return self.undefined(
                f"faker has no method {attribute!r}", name=attribute, obj=obj, exc=SecurityError
            )
        return super().unsafe_undefined(obj, attribute)


class _Helpers:
    """The template globals: one seeded generator, reseeded per request."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random()
        self.seq = 0

    def start(self, seq: int) -> None:
        self.seq = seq
        # An int seed is stable across processes and Python versions (a str is too, but costs
        # a SHA-512 more); the two halves keep (seed, seq) pairs apart.
        self.rng.seed((self.seed % _2_64) << 64 | (seq % _2_64))

    def choice(self, *options: Any) -> Any:
        if not options:
            raise ValueError("choice() needs at least one option")
        return options[self.rng.randrange(len(options))]

    def uuid(self) -> str:
        return str(uuid_module.UUID(int=self.rng.getrandbits(128), version=4))

    def sequence(self) -> int:
        return self.seq

    def random_int(self, low: int = 0, high: int = 9999) -> int:
        if not -MAX_RANDOM_INT <= low <= high <= MAX_RANDOM_INT:
            raise ValueError(
                f"random_int(low, high) needs -2**63 <= low <= high <= 2**63, got ({low}, {high})"
            )
        return self.rng.randint(low, high)

    # Taking the context keeps jinja2 from folding `['a', 'b']|random` into a constant.
    @jinja2.pass_context
    def pick(self, _context: Any, options: Any) -> Any:
        """The `random` filter, seeded (jinja2's own uses the global generator)."""
        items = list(options)
        if not items:
            raise ValueError("random of an empty sequence")
        return items[self.rng.randrange(len(items))]


def _check_sizes(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return  # the call itself will say what is wrong
    for name, value in bound.arguments.items():
        if name in _SIZE_PARAMS and isinstance(value, int | float) and value > MAX_SIZE_ARG:
            raise SecurityError(f"{name}={value:g} is more than the {MAX_SIZE_ARG:,} a template may ask for")


# A compiled request part: a constant, a template, or a container of parts.
_Part = Callable[[], Any]


class RequestFactory:
    """Renders the requests of one experiment: `make(seq)` is a pure function of seed and seq
    (and, with a `trace`, of arrival `seq`'s values, as `trace.NAME`). With `allow_trace` and no
    trace, `trace.NAME` is accepted and renders as "" (checking a file before its trace is read)."""

    def __init__(
        self,
        spec: RequestSpec,
        seed: int,
        *,
        where: str = "target.request",
        trace: TraceSource | None = None,
        allow_trace: bool = False,
    ) -> None:
        faker = Factory.create("en_US")
        self._helpers = helpers = _Helpers(seed)
        faker.random = helpers.rng
        methods = frozenset(
            name
            for provider in faker.get_providers()
            for name in dir(provider)
            if not name.startswith("_") and callable(getattr(provider, name))
        )
        self._env = env = _Sandbox(faker, methods)
        env.globals.clear()  # no lipsum/range/cycler: only the names documented above
        env.globals.update(
            faker=faker,
            choice=helpers.choice,
            uuid=helpers.uuid,
            sequence=helpers.sequence,
            random_int=helpers.random_int,
        )
        env.filters["random"] = helpers.pick
        # The one namespace every template renders in; only `seq` (and `trace`) change between
        # requests.
        self._vars: dict[str, Any] = {**env.globals, "seq": 0}
        self._templates: list[_Template] = []
        self._trace = trace
        self._allow_trace = allow_trace or trace is not None
        self.trace_keys: dict[str, str] = {}  # each trace value the templates use: the first field

        self.method = spec.method
        self._path = self._compile(spec.path, f"{where}.path")
        self._headers = {k: self._compile(v, f"{where}.headers.{k}") for k, v in spec.headers.items()}
        self._body: _Part | None = None if spec.json_ is None else self._compile(spec.json_, f"{where}.json")
        self._static_body: bytes | None = None
        if isinstance(self._body, _Const):
            self._static_body = _encode(self._body(), f"{where}.json")
        self._content_type = not any(k.lower() == "content-type" for k in spec.headers)
        if trace is not None:
            trace.check_columns(self.trace_keys)
        self._dry_run(where)

    def _compile(self, value: Any, field: str) -> _Part:
        if isinstance(value, str):
            if "{{" not in value and "{%" not in value and "{#" not in value:
                return _Const(value)
            template = _Template(self._env, value, field, self._vars, self._allow_trace)
            self._templates.append(template)
            for key in sorted(template.trace_keys):
                self.trace_keys.setdefault(key, field)
            return template
        if isinstance(value, dict):
            parts = {str(k): self._compile(v, f"{field}.{k}") for k, v in value.items()}
            if all(isinstance(p, _Const) for p in parts.values()):
                return _Const(value)
            return lambda: {k: p() for k, p in parts.items()}
        if isinstance(value, list):
            items = [self._compile(v, f"{field}.{i}") for i, v in enumerate(value)]
            if all(isinstance(p, _Const) for p in items):
                return _Const(value)
            return lambda: [p() for p in items]
        return _Const(value)

    def _dry_run(self, where: str) -> None:
        self._helpers.start(_DRY_RUN_SEQ)
        self._vars["seq"] = _DRY_RUN_SEQ
        if self._allow_trace:
            trace = self._trace
            self._vars[TRACE] = trace.values(0) if trace is not None and len(trace) else _AnyValue()
        for template in self._templates:
            template()
        if self._body is not None and self._static_body is None:
            _encode(self._body(), f"{where}.json")

    def make(self, seq: int) -> PreparedRequest:
        """The request number `seq` (from 0)."""
        if self._templates:
            self._helpers.start(seq)
            self._vars["seq"] = seq
            if self._trace is not None:
                self._vars[TRACE] = self._trace.values(seq)
        headers = {k: p() for k, p in self._headers.items()}
        body: bytes | None = None
        if self._body is not None:
            body = self._static_body
            if body is None:
                body = orjson.dumps(self._body(), option=orjson.OPT_NON_STR_KEYS)
            if self._content_type:
                headers["Content-Type"] = "application/json"
        return PreparedRequest(self.method, self._path(), headers, body)


def _encode(value: Any, field: str) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as e:
        raise TemplateError(field, f"cannot be encoded as JSON: {e}") from None


def check_request(spec: RequestSpec, *, where: str = "target.request", allow_trace: bool = False) -> None:
    """Compile and dry-run every template of `spec`; raise `TemplateError` naming the field."""
    RequestFactory(spec, 0, where=where, allow_trace=allow_trace)


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self) -> Any:
        return self.value


def _trace_keys(ast: nodes.Template, field: str) -> set[str]:
    """The names a template reads from `trace`; any other use of `trace` (a filter, a computed
    key) is refused, so that every name can be checked against the trace before the load."""
    keys: set[str] = set()
    seen: set[int] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr) and _is_trace(node.node):
            keys.add(node.attr)
        elif (
            isinstance(node, nodes.Getitem)
            and _is_trace(node.node)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            keys.add(node.arg.value)
        else:
            continue
        seen.add(id(node.node))
    for name in ast.find_all(nodes.Name):
        if name.name == TRACE and name.ctx == "load" and id(name) not in seen:
            raise TemplateError(field, _TRACE_HINT)
    return keys


def _is_trace(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == TRACE


class _Template:
    """One string leaf, compiled once; renders with the factory's current `seq`."""

    __slots__ = ("_blocks", "_concat", "_env", "_name", "_root", "_vars", "field", "trace_keys")

    def __init__(
        self, env: _Sandbox, source: str, field: str, namespace: dict[str, Any], allow_trace: bool
    ) -> None:
        self.field = field
        try:
            ast = env.parse(source)
            unknown = sorted(meta.find_undeclared_variables(ast) - set(NAMES))
            compiled = env.from_string(source)
        except jinja2.TemplateSyntaxError as e:
            raise TemplateError(field, f"template syntax error: {e.message} (line {e.lineno})") from None
        if TRACE in unknown:
            if not allow_trace:
                raise TemplateError(field, "`trace` values need `load.mode: trace`")
            unknown.remove(TRACE)
        if unknown:
            raise TemplateError(field, f"unknown name {', '.join(map(repr, unknown))}; {_HINT}")
        self.trace_keys = _trace_keys(ast, field)
        # `Template.render` merges the globals into a new dict on every call; rendering in one
        # shared namespace (templates cannot write to it: `{% set %}` goes to the context)
        # costs a third as much.
        self._env = env
        self._name = compiled.name
        self._blocks = compiled.blocks
        self._root = compiled.root_render_func
        self._concat = env.concat
        self._vars = namespace

    def __call__(self) -> str:
        try:
            context = new_context(self._env, self._name, self._blocks, self._vars, shared=True)
            text: str = self._concat(self._root(context))
        except SecurityError as e:
            problem = str(e).rstrip(".")
            raise TemplateError(self.field, f"not allowed in a template: {problem}; {_HINT}") from None
        except Exception as e:  # a Faker or helper error, an undefined attribute
            raise TemplateError(self.field, f"template failed: {type(e).__name__}: {e}") from None
        if len(text) > MAX_RENDERED_CHARS:
            raise TemplateError(
                self.field, f"renders {len(text):,} characters; a template may render {MAX_RENDERED_CHARS:,}"
            )
        return text
