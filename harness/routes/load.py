"""Reading routes files: YAML with line numbers, validated whole, errors that say where.

`routes.yaml: routes.summarize.retry.max_attempts (line 31): Input should be greater than or
equal to 1 (got 0)` — the same shape as experiment files' errors, because both are read by the
same helpers of `harness.experiment.load`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import InvalidRoutes
from harness.experiment.load import parse_yaml, read_source, validate_model
from harness.routes.spec import RoutesFile


def parse_routes(text: str, source: str) -> RoutesFile:
    data, root = parse_yaml(text, source, InvalidRoutes)
    return validate_routes(data, source, root)


def validate_routes(data: Any, source: str, root: yaml.Node | None = None) -> RoutesFile:
    if not isinstance(data, dict):
        raise InvalidRoutes(f"{source}: a routes file is a mapping (target, routes, ...)")
    return validate_model(RoutesFile, data, source, root, InvalidRoutes)


def load_routes(path: Path) -> RoutesFile:
    return parse_routes(read_source(path, InvalidRoutes), str(path))
