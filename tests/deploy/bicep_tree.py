"""Reading deploy/azure/main.bicep through pycep-parser's syntax tree.

pycep gives a template as ``parameters``, ``variables``, ``resources`` and ``outputs``; values
are plain JSON, except expressions: ``{"function": {"type": name, "parameters": {...}}}`` and
``{"operator": {"type": name, "operands": {...}}}``. Two limits of pycep shape what can be
read: a symbol reference and a string literal are both plain strings (``image: cpuImage`` and
``image: 'cpuImage'`` read the same), and arithmetic has no precedence (``a / 1000 + 15`` reads
as ``a / (1000 + 15)``), so the template parenthesises every mixed expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from deploy_checks import BICEP
from deploy_tools import parse_bicep

_SYMBOL_IN_TEXT = r"\$\{{[^}}]*(?<![\w.]){name}\b"


@cache
def template() -> dict[str, Any]:
    return parse_bicep(BICEP.read_text())


def resource(name: str) -> dict[str, Any]:
    """A resource's body (``= if (cond) {...}``: the body; ``condition`` has the test)."""
    config = template()["resources"][name]["config"]
    return config["config"] if "condition" in config else config


def condition(name: str) -> Any:
    return template()["resources"][name]["config"].get("condition")


def accessor_path(node: Any) -> list[str]:
    """``logs.properties.customerId`` as ``['logs', 'properties', 'customerId']``."""
    if isinstance(node, dict) and node.get("operator", {}).get("type") == "property_accessor":
        operands = node["operator"]["operands"]
        return accessor_path(operands["operand_1"]) + accessor_path(operands["operand_2"])
    assert isinstance(node, str), node
    return [node]


def variable(name: str) -> Any:
    return template()["variables"][name]["value"]


def decorators(param: str) -> dict[str, Any]:
    """A parameter's decorators by type (``secure``: None)."""
    found = template()["parameters"][param]["decorators"]
    return {d["type"]: d.get("argument") for d in found}


def function(node: Any, name: str) -> dict[str, Any]:
    """The parameters of a call to ``name`` (AssertionError if ``node`` is not one)."""
    assert isinstance(node, dict) and node.get("function", {}).get("type") == name, node
    return node["function"]["parameters"]


def evaluate(node: Any, symbols: dict[str, Any]) -> Any:
    """Literals, symbols, ``string()``, ``+ - * /`` (integer division, as Bicep's)."""
    if isinstance(node, str):
        return symbols.get(node, node)
    if isinstance(node, list):
        return [evaluate(item, symbols) for item in node]
    if isinstance(node, dict) and "function" in node:
        (argument,) = function(node, "string").values()
        return str(evaluate(argument, symbols))
    if isinstance(node, dict) and "operator" in node:
        op = node["operator"]
        a, b = (evaluate(v, symbols) for v in op["operands"].values())
        ops = {"add": lambda: a + b, "substract": lambda: a - b, "multiply": lambda: a * b,
               "divide": lambda: a // b}
        assert op["type"] in ops, f"cannot evaluate {op['type']}"
        return ops[op["type"]]()
    return node


def defaults() -> dict[str, Any]:
    """Every parameter that has a default, with it."""
    return {name: p["default"] for name, p in template()["parameters"].items()
            if p.get("default") is not None}


def keys(node: dict[str, Any]) -> set[str]:
    """An object's keys, quoted ones (``'maxmemory-policy': ...``) unquoted."""
    return {key.strip("'") for key in node}


def values(node: Any) -> Iterator[str]:
    """Every string in value position (not object keys, property names after a dot, function
    or operator names)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from values(item)
    elif isinstance(node, dict):
        if "function" in node:
            yield from values(list(node["function"]["parameters"].values()))
        elif "operator" in node:
            operands = node["operator"]["operands"]
            if node["operator"]["type"] == "property_accessor":
                operands = {"operand_1": operands["operand_1"]}
            yield from values(list(operands.values()))
        else:
            yield from values(list(node.values()))


def uses(name: str) -> int:
    """References to a symbol anywhere in the template (its declaration is a key: not one)."""
    tree = template()
    nodes = [p.get("default") for p in tree["parameters"].values()]
    nodes += [v["value"] for v in tree["variables"].values()]
    nodes += [r["config"] for r in tree["resources"].values()]  # condition included
    nodes += [o["value"] for o in tree["outputs"].values()]
    pattern = re.compile(_SYMBOL_IN_TEXT.format(name=re.escape(name)))
    return sum(value == name or len(pattern.findall(value)) for value in values(nodes))


def container(app: str) -> dict[str, Any]:
    (only,) = resource(app)["properties"]["template"]["containers"]
    return only


def argv(app: str) -> list[str]:
    """The command and arguments of an app's container, parameters at their defaults."""
    box = container(app)
    return evaluate(box.get("command", []) + box.get("args", []), defaults())


def env_list(node: Any) -> list[dict[str, Any]]:
    """Every entry an ``env`` value may hold: a list, a variable naming one, ``concat`` of
    those, or ``cond ? a : b`` (both)."""
    if isinstance(node, str):
        return env_list(variable(node))
    if isinstance(node, list):
        return node
    if node.get("operator", {}).get("type") == "conditional":
        operands = node["operator"]["operands"]
        return env_list(operands["true_value"]) + env_list(operands["false_value"])
    return [item for part in function(node, "concat").values() for item in env_list(part)]


def scale_rules(app: str) -> list[dict[str, Any]]:
    return resource(app)["properties"]["template"]["scale"].get("rules", [])


def queue_rules(app: str) -> list[tuple[str, str, str]]:
    """(metadata variable, listName, auth) of each KEDA ``redis`` rule of an app."""
    found = []
    for rule in scale_rules(app):
        custom = rule.get("custom")
        if custom is None:
            continue
        assert custom["type"] == "redis", rule
        base, extra = function(custom["metadata"], "union").values()
        found.append((base, extra["listName"], custom["auth"]))
    return found
