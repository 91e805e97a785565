"""User-task forms: Camunda form-js definitions to JSON Schema, and validation of submitted data.

Nothing reaches a workflow until the data is valid against its form: the errors come back per
field (``{"qty": "must be at least 1"}``) so the inbox can show them next to the inputs.

Only the form's own fields: a completion's data is merged into the process variables, so a field the
form does not have (``{"approved": true, "new_qty": -1}``) would overwrite any variable; each such
field is refused by name. A user task without a form (or whose form the deployment does not hold)
takes no data at all: completing it confirms it, nothing more. Refusing (rather than dropping the
extra fields silently) tells the client its data did not land. A JSON Schema form may allow more
fields only by saying so itself (``additionalProperties``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import jsonschema

_INPUT_TYPES: dict[str, dict[str, Any]] = {
    "textfield": {"type": "string"},
    "textarea": {"type": "string"},
    "number": {"type": "number"},
    "checkbox": {"type": "boolean"},
    "datetime": {"type": "string"},
    "select": {},
    "radio": {},
    "checklist": {"type": "array"},
    "taglist": {"type": "array"},
}


def _field_schema(component: dict[str, Any]) -> dict[str, Any]:
    kind = str(component.get("type", ""))
    schema: dict[str, Any] = dict(_INPUT_TYPES[kind])
    validate = component.get("validate") or {}
    if component.get("label"):
        schema["title"] = str(component["label"])
    values = [v.get("value") for v in component.get("values") or [] if isinstance(v, dict)]
    if values and kind in ("select", "radio"):
        schema["enum"] = values
    if values and kind in ("checklist", "taglist"):
        schema["items"] = {"enum": values}
    for source, target in (
        ("min", "minimum"),
        ("max", "maximum"),
        ("minLength", "minLength"),
        ("maxLength", "maxLength"),
        ("pattern", "pattern"),
    ):
        if validate.get(source) is not None:
            schema[target] = validate[source]
    return schema


def _collect(components: list[Any], properties: dict[str, Any], required: list[str]) -> None:
    for component in components:
        if not isinstance(component, dict):
            continue
        if isinstance(component.get("components"), list):  # group / dynamic list
            _collect(component["components"], properties, required)
        kind = component.get("type")
        key = component.get("key")
        if kind not in _INPUT_TYPES or not key:
            continue
        properties[str(key)] = _field_schema(component)
        if (component.get("validate") or {}).get("required"):
            required.append(str(key))


def form_js_to_json_schema(form: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (object) equivalent to the input fields of a form-js definition."""
    if form.get("type") == "object" and "properties" in form:
        return form  # already a JSON Schema
    properties: dict[str, Any] = {}
    required: list[str] = []
    _collect(list(form.get("components") or []), properties, required)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if form.get("id"):
        schema["$id"] = str(form["id"])
    return schema


# A quantified group that itself holds a quantifier, like ``(a+)+``: backtracking can take
# exponential time on a short input (a stuck request), so such patterns are refused.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def form_definition_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` (a form turned into JSON Schema) cannot check data, or None when it can."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return f"the form definition is invalid at {where}: {exc.message}; fix the form in the diagram"
    for path, pattern in _patterns(schema, ""):
        if _NESTED_QUANTIFIER.search(pattern):
            return (f"the form definition's pattern {pattern!r} at {path} nests quantifiers and can take "
                    "exponential time; fix the form in the diagram")
    return None


def _patterns(node: Any, path: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.append((path or "(root)", value))
            else:
                found += _patterns(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _patterns(value, f"{path}/{i}")
    return found


def _non_finite(data: Any, path: str) -> str | None:
    if isinstance(data, float) and not math.isfinite(data):
        return path or "_form"
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = _non_finite(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


NOT_IN_FORM = "is not a field of the form"
NO_FORM = "the task has no form: completing it confirms it and takes no data"


def unknown_fields(schema: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, str]:
    """The fields of ``data`` that the form ``schema`` does not have, each with why (empty: none)."""
    if not schema:
        return {str(key): NO_FORM for key in data}
    extra = schema.get("additionalProperties", False)
    if extra is True or isinstance(extra, dict):
        return {}  # the form itself allows more fields
    properties = schema.get("properties")
    known = set(properties) if isinstance(properties, dict) else set()
    return {str(key): NOT_IN_FORM for key in data if key not in known}


def validate_form_data(schema: dict[str, Any] | None, data: Any, *, only_form_fields: bool = True) -> dict[str, str]:
    """Errors per field (empty when valid). ``_form`` holds errors about the data as a whole.

    ``only_form_fields``: refuse fields the form does not have (see the module doc); False only where
    data accepted before that rule must be taken again (a workflow replaying its history)."""
    if not isinstance(data, dict):
        return {"_form": f"form data must be a JSON object, got {type(data).__name__}"}
    if only_form_fields:
        unknown = unknown_fields(schema, data)
        if unknown:
            return unknown
    not_finite = _non_finite(data, "")
    if not_finite:
        return {not_finite: "must be a finite number (NaN and Infinity are not numbers)"}
    if not schema:
        return {}
    broken = form_definition_problem(schema)
    if broken:
        return {"_form": broken}
    errors: dict[str, str] = {}
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "_form"
            errors.setdefault(missing, "is required")
            continue
        path = ".".join(str(p) for p in error.absolute_path) or "_form"
        errors.setdefault(path, error.message)
    return errors
