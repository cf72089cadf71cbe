"""SCIM 2.0 users (RFC 7643/7644) with the enterprise extension, as HR workers.  No I/O.

A SCIM user is one more way HR facts arrive: every create, replace or patch
becomes the worker's full record as of today.  ``active: false`` makes the
worker a leaver (the participant is deactivated); ``active: true`` brings them back.
A patch is applied to the stored resource and the result validated like a replace.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.events.hr import Worker

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned: not given
_FILTER = re.compile(r'^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_VALUE_PATH = re.compile(r'^(\w+)\[\s*(\w+)\s+eq\s+"([^"]*)"\s*\](?:\.(\w+))?$', re.IGNORECASE)
_READ_ONLY = ("id", "meta")


class ScimProblem(ValueError):
    """A request SCIM answers with an error: ``scim_type`` per RFC 7644 §3.12."""

    def __init__(self, status: int, scim_type: str | None, detail: str) -> None:
        super().__init__(detail)
        self.status, self.scim_type, self.detail = status, scim_type, detail


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimProblem:
    return ScimProblem(400, scim_type, detail)


def parse_filter(text: str) -> tuple[str, str]:
    """Only ``userName eq "…"`` and ``externalId eq "…"`` are supported."""
    match = _FILTER.match(text)
    if match is None:
        raise invalid(f'unsupported filter {text!r}: use userName eq "…" or externalId eq "…"', "invalidFilter")
    attribute = "userName" if match.group(1).lower() == "username" else "externalId"
    return attribute, re.sub(r"\\(.)", r"\1", match.group(2))


def clean(resource: Any) -> dict[str, Any]:
    """The client's representation, checked for what every user needs; read-only attributes dropped."""
    if not isinstance(resource, dict):
        raise invalid("the body must be a JSON object", "invalidSyntax")
    schemas = resource.get("schemas")
    if not isinstance(schemas, list) or USER not in schemas:
        raise invalid(f"schemas must include {USER}", "invalidSyntax")
    user = {k: v for k, v in resource.items() if k not in _READ_ONLY}
    name = user.get("userName")
    if not isinstance(name, str) or not name.strip() or len(name) > 254:
        raise invalid("userName is required: a non-empty string of at most 254 characters")
    if "active" in user:
        user["active"] = _boolean("active", user["active"])
    enterprise = user.get(ENTERPRISE, {})
    if not isinstance(enterprise, dict):
        raise invalid(f"{ENTERPRISE} must be an object")
    if not (enterprise.get("employeeNumber") or user.get("externalId")):
        raise invalid(f"{ENTERPRISE}:employeeNumber (or externalId) is required: it is the HR employee id")
    return user


def employee_id(user: dict[str, Any]) -> str:
    return str(user.get(ENTERPRISE, {}).get("employeeNumber") or user["externalId"])


def worker(user: dict[str, Any], hired_on: date, today: date) -> Worker:
    """The HR record a SCIM user stands for; fields an identity provider has no notion of get neutral values."""
    enterprise = user.get(ENTERPRISE, {})
    name = user.get("name") if isinstance(user.get("name"), dict) else {}
    given_family = " ".join(str(p) for p in (name.get("givenName"), name.get("familyName")) if p)
    manager = enterprise.get("manager")
    department = enterprise.get("department") or "unspecified"
    active = user.get("active", True)
    fields = {
        "employee_id": employee_id(user),
        "supervisor_id": manager.get("value") if isinstance(manager, dict) else None,
        "legal_name": name.get("formatted") or given_family or user.get("displayName") or user["userName"],
        "preferred_name": user.get("displayName") or user.get("nickName"),
        "work_email": _work_email(user),
        "title": user.get("title") or "",
        "job_function": user.get("userType") or "unspecified",
        "department_id": str(department)[:64],
        "department_name": department,
        "location": _address(user).get("locality"),
        "country": _country(_address(user).get("country")),
        "employment_status": "active" if active else "terminated",
        "original_hire_date": hired_on,
        "last_hire_date": hired_on,
        "termination_date": None if active else today,
    }
    try:
        return Worker.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise invalid(f"{'.'.join(map(str, err['loc'])) or 'user'}: {err['msg']}") from exc


def patch(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    """RFC 7644 §3.5.2: add, replace, remove; paths ``attr``, ``attr.sub``, ``attr[type eq "x"].sub``, with
    the enterprise URN as prefix.  Returns the new representation (validated by the caller)."""
    if not isinstance(body, dict) or PATCH_OP not in (body.get("schemas") or []):
        raise invalid(f"schemas must include {PATCH_OP}", "invalidSyntax")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise invalid("Operations must be a non-empty list", "invalidSyntax")
    user = copy.deepcopy(resource)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise invalid(f"Operations[{number}] must be an object", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise invalid(f"Operations[{number}].op must be add, replace or remove", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        if path is None:
            if op == "remove" or not isinstance(value, dict):
                raise invalid(f"Operations[{number}]: without a path, value must be an object", "noTarget")
            for key, inner in value.items():
                _set(user, key, inner, merge=True)
        elif not isinstance(path, str) or not path:
            raise invalid(f"Operations[{number}].path must be a string", "invalidPath")
        elif op == "remove":
            _remove(user, path)
        else:
            _set(user, path, value, merge=op == "add")
    return user


def _set(user: dict[str, Any], path: str, value: Any, *, merge: bool) -> None:
    container, attribute = _target(user, path, create=True)
    if isinstance(attribute, tuple):  # emails[type eq "work"].value
        name, key, match, sub = attribute
        items = container.setdefault(name, [])
        found = next((i for i in items if isinstance(i, dict) and str(i.get(key)).lower() == match.lower()), None)
        if found is None:
            found = {key: match}
            items.append(found)
        if sub is None:
            found.update(value if isinstance(value, dict) else {"value": value})
        else:
            found[sub] = value
        return
    old = container.get(attribute)
    if merge and isinstance(old, dict) and isinstance(value, dict):
        old.update(value)
    elif merge and isinstance(old, list) and isinstance(value, list):
        old.extend(v for v in value if v not in old)
    else:
        container[attribute] = value


def _remove(user: dict[str, Any], path: str) -> None:
    container, attribute = _target(user, path, create=False)
    if isinstance(attribute, tuple):
        name, key, match, sub = attribute
        items = container.get(name, [])
        for item in [i for i in items if isinstance(i, dict) and str(i.get(key)).lower() == match.lower()]:
            if sub is None:
                items.remove(item)
            else:
                item.pop(sub, None)
        return
    if container is not None:
        container.pop(attribute, None)


def _target(user: dict[str, Any], path: str, *, create: bool) -> tuple[Any, Any]:
    """The dict holding the attribute and the attribute's name (or a value-filter tuple)."""
    container: Any = user
    if path.startswith(ENTERPRISE):
        rest = path[len(ENTERPRISE) :].lstrip(":")
        container = user.setdefault(ENTERPRISE, {}) if create else user.get(ENTERPRISE)
        if not rest:
            return user, ENTERPRISE
        path = rest
    elif path.startswith("urn:") and not path.startswith(USER):
        raise invalid(f"unknown schema in path {path!r}", "invalidPath")
    path = path.removeprefix(USER).lstrip(":")
    value_path = _VALUE_PATH.match(path)
    if value_path:
        name, key, match, sub = value_path.groups()
        return container, (name, key, match, sub)
    if "[" in path or not re.fullmatch(r"\w+(\.\w+)?", path):
        raise invalid(f"unsupported path {path!r}", "invalidPath")
    if path in _READ_ONLY:
        raise invalid(f"{path} is read-only", "mutability")
    if "." in path:
        parent, path = path.split(".")
        if container is None:
            return None, path
        nested = container.setdefault(parent, {}) if create else container.get(parent)
        if nested is not None and not isinstance(nested, dict):
            raise invalid(f"{parent} is not a complex attribute", "invalidPath")
        return nested, path
    return container, path


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):  # some identity providers send strings
        return value.lower() == "true"
    raise invalid(f"{name} must be a boolean")


def _work_email(user: dict[str, Any]) -> str:
    emails = [e for e in user.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    if not isinstance(user.get("emails", []), list):
        raise invalid("emails must be a list")
    for chosen in ([e for e in emails if e.get("primary")], [e for e in emails if e.get("type") == "work"], emails):
        if chosen:
            return str(chosen[0]["value"])
    if "@" in user["userName"]:
        return user["userName"]
    raise invalid("emails: a work email is required (or a userName that is one)")


def _address(user: dict[str, Any]) -> dict[str, Any]:
    addresses = [a for a in user.get("addresses") or [] if isinstance(a, dict)]
    primary = [a for a in addresses if a.get("primary")] or addresses
    return primary[0] if primary else {}


def _country(value: Any) -> str:
    return value.upper() if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2}", value) else UNKNOWN_COUNTRY
