"""Reading routes files: YAML with line numbers, validated whole, errors that say where.

`routes.yaml: routes.summarize.retry.max_attempts (line 31): Input should be greater than or
equal to 1 (got 0)` — the same shape as experiment files' errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import InvalidRoutes
from harness.experiment.load import format_errors
from harness.routes.spec import RoutesFile


def parse_routes(text: str, source: str) -> RoutesFile:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InvalidRoutes(f"{source}: invalid YAML{where}: {getattr(e, 'problem', e)}") from None
    return validate_routes(data, source, root)


def validate_routes(data: Any, source: str, root: yaml.Node | None = None) -> RoutesFile:
    if not isinstance(data, dict):
        raise InvalidRoutes(f"{source}: a routes file is a mapping (target, routes, ...)")
    try:
        return RoutesFile.model_validate(data)
    except ValidationError as e:
        raise InvalidRoutes(format_errors(e, source, data, root)) from None


def load_routes(path: Path) -> RoutesFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidRoutes(f"{path}: cannot read: {e.strerror}") from None
    return parse_routes(text, str(path))
