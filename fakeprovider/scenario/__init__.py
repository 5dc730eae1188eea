"""Scenarios: the model (model.py), its fault and quota rules (rules.py), the answer-length rules
(answer_length_rules.py) and the fault engine (engine.py). The scenario model is re-exported here."""

from fakeprovider.scenario.model import (
    MAX_ECHO_CHARS,
    MAX_ERRORS_SHOWN,
    CompiledScenario,
    ReplySpec,
    Scenario,
    ScenarioError,
    ScriptedResponse,
    ToolCallReply,
    format_validation_error,
    load_scenario,
    parse_rule,
    parse_scenario,
    scenario_json,
)

__all__ = [
    "MAX_ECHO_CHARS",
    "MAX_ERRORS_SHOWN",
    "CompiledScenario",
    "ReplySpec",
    "Scenario",
    "ScenarioError",
    "ScriptedResponse",
    "ToolCallReply",
    "format_validation_error",
    "load_scenario",
    "parse_rule",
    "parse_scenario",
    "scenario_json",
]
