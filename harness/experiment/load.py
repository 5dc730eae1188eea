"""Reading experiment files: YAML with line numbers, validated whole, errors that say where.

Every error names the file, the field path, the line, and what was expected:
`experiments/outage.yaml: load.rate (line 12): Input should be greater than 0 (got -5)`.
Routes files (`harness.routes.load`) are read with the same helpers (`read_source`,
`parse_yaml`, `validate_model`), so both kinds of file report errors in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from fakeprovider.yaml_input import MAX_BYTES, InputTooLarge, load_yaml
from harness.errors import HarnessError, InvalidExperiment
from harness.experiment.model import Experiment, FieldError
from harness.experiment.templates import RequestFactory, TemplateError, check_request

_Model = TypeVar("_Model", bound=BaseModel)


def _node_at(node: yaml.Node | None, path: Sequence[str | int]) -> yaml.Node | None:
    """The YAML node at a pydantic error location; if the path ends early (a missing field),
    the key of the deepest mapping entry found on the way, else that node."""
    key: yaml.Node | None = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if found is None:
                return key or node
            key, node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            key, node = None, node.value[part]
        else:
            return key or node
    if isinstance(node, yaml.CollectionNode) and not node.flow_style and key is not None:
        return key  # a block mapping or list: its key's line, not its first entry's
    return node


def _path_text(loc: Iterable[str | int], data: Any) -> str:
    """`contract.0.retries.max_attempts_per_request`: the clause's name put back in its path."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "contract" and parts[1].isdigit():
        try:
            entry = data["contract"][int(parts[1])]
        except (KeyError, IndexError, TypeError):
            entry = None
        if isinstance(entry, dict) and len(entry) == 1 and (len(parts) < 3 or parts[2] not in entry):
            parts.insert(2, str(next(iter(entry))))
    return ".".join(parts)


def format_errors(e: ValidationError, source: str, data: Any, root: yaml.Node | None) -> str:
    lines = []
    for err in e.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            loc += cause.loc
        node = _node_at(root, loc)
        where = _path_text(loc, data) or "(top level)"
        line = f" (line {node.start_mark.line + 1})" if node is not None else ""
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "value_error" and "error" in err.get("ctx", {}):
            msg = str(err["ctx"]["error"])
        elif isinstance(err.get("input"), str | int | float) and err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        lines.append(f"{source}: {where}{line}: {msg}")
    return "\n".join(lines)


def read_source(path: Path, error: type[HarnessError]) -> str:
    """The text of the file at `path`; one that cannot be read raises `error` naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:  # refused before it is read, let alone parsed
            raise error(f"{path}: {size:,} bytes: more than the {MAX_BYTES:,} a file may hold")
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte {e.start}: {e.object[e.start : e.start + 1]!r})") from None


def parse_yaml(text: str, source: str, error: type[HarnessError]) -> tuple[Any, yaml.Node | None]:
    """The data in YAML `text` and its node tree (which has the line numbers); invalid YAML
    raises `error` naming `source`, the line and the column."""
    try:
        data = load_yaml(text)
        root = yaml.compose(text)
    except InputTooLarge as e:
        raise error(f"{source}: too large: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise error(f"{source}: invalid YAML{where}: {getattr(e, 'problem', e)}") from None
    return data, root


def validate_model(
    model: type[_Model], data: Any, source: str, root: yaml.Node | None, error: type[HarnessError]
) -> _Model:
    """`data` as a `model`; every validation error at once in `error`, by `format_errors`."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(format_errors(e, source, data, root)) from None


def parse_experiment(text: str, source: str, overrides: dict[str, Any] | None = None) -> Experiment:
    """Validate experiment YAML text; `overrides` (dotted keys) are applied before validation."""
    data, root = parse_yaml(text, source, InvalidExperiment)
    return validate_experiment(data, source, overrides, root)


def validate_experiment(
    data: Any, source: str, overrides: dict[str, Any] | None = None, root: yaml.Node | None = None
) -> Experiment:
    if not isinstance(data, dict):
        raise InvalidExperiment(f"{source}: an experiment is a mapping (title, target, load, ...)")
    for key, value in (overrides or {}).items():
        _set(data, key.split("."), value)
    exp = validate_model(Experiment, data, source, root, InvalidExperiment)
    try:
        check_request(exp.target.request, allow_trace=exp.load.mode == "trace")
    except TemplateError as e:
        node = _node_at(root, [int(p) if p.isdigit() else p for p in e.field.split(".")])
        line = f" (line {node.start_mark.line + 1})" if node is not None else ""
        raise InvalidExperiment(f"{source}: {e.field}{line}: {e.problem}") from None
    return exp


def _set(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise InvalidExperiment(f"override {'.'.join(path)}: {part} is not a mapping")
    node[path[-1]] = value


def load_experiment(
    path: Path, overrides: dict[str, Any] | None = None, *, check_files: bool = True
) -> Experiment:
    """The experiment in `path`, with the scenario file it names read and checked too (unless
    `check_files` is false: a copy the runner made for its load processes, already checked)."""
    exp = resolve_files(
        parse_experiment(read_source(path, InvalidExperiment), str(path), overrides), path.parent
    )
    if check_files and exp.provider.scenario is not None:
        check_scenario_file(path, exp.provider.scenario)
    if check_files:
        check_trace_file(path, exp)
    return exp


def resolve_files(exp: Experiment, folder: Path) -> Experiment:
    """`exp` with its trace's `load.file` made absolute from `folder` (the experiment file's):
    copies of the experiment (the locust engine's, a time-scaled one) then find it wherever
    they are."""
    if exp.load.file is None:
        return exp
    where = str((folder / exp.load.file).resolve())
    return exp.model_copy(update={"load": exp.load.model_copy(update={"file": where})})


def check_trace_file(source: Path | str, exp: Experiment) -> None:
    """A trace load's file is readable, and has every value the request templates use: found
    by `validate`, not mid-run. (Read again when the experiment runs.)"""
    from harness.load.trace import trace_of

    try:
        trace = trace_of(exp.load)
        if trace is not None:
            RequestFactory(exp.target.request, exp.seed, trace=trace)
    except TemplateError as e:
        raise InvalidExperiment(f"{source}: {e.field}: {e.problem}") from None
    except InvalidExperiment as e:
        raise InvalidExperiment(f"{source}: load.file: {e}") from None


def check_scenario_file(path: Path, scenario: str) -> None:
    """`provider.scenario` exists and is a valid scenario: found by `validate`, not mid-run."""
    from fakeprovider.scenario import ScenarioError, load_scenario

    where = (path.parent / scenario).resolve()
    if not where.is_file():
        raise InvalidExperiment(f"{path}: provider.scenario: no such file {where}")
    try:
        load_scenario(where)
    except ScenarioError as e:
        # The scenario's own error names its file; say which experiment field led there.
        raise InvalidExperiment(f"{path}: provider.scenario: {e}") from None


def experiment_files(paths: Iterable[Path]) -> list[Path]:
    """Files named on the command line, a folder standing for its `*.yaml` / `*.yml` files."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                raise InvalidExperiment(f"{p}: no *.yaml experiment files in this folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InvalidExperiment(f"{p}: no such file or folder")
    return out
