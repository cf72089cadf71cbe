"""SCIM 2.0 users (RFC 7643/7644) with the enterprise extension, as HR workers.  No I/O.

A SCIM user is one more way HR facts arrive: every create, replace or patch
becomes the worker's full record as of today.  ``active: false`` makes the
worker a leaver (the participant is deactivated); ``active: true`` brings them back.
A patch is applied to the stored resource and the result validated like a replace.

A password (and any attribute the schema marks ``returned: never``) is dropped from
every request before anything is stored: sign-in is the institution's OpenID Connect
provider, so the platform has no use for it and never keeps or returns one.

A SCIM group is a department: its members are the users whose enterprise
``department`` is the group's ``displayName`` (see ``provision_scim_group``).
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
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
UNKNOWN_COUNTRY = "ZZ"  # ISO 3166 user-assigned: not given
NEVER_RETURNED = ("password",)  # core User attributes with ``returned: never``: never stored, never answered
ALWAYS_RETURNED = ("id", "schemas")
USER_FILTERS = ("userName", "externalId", "id")
GROUP_FILTERS = ("displayName", "externalId", "id")
_FILTER = re.compile(r'^\s*([\w.:-]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_VALUE_PATH = re.compile(r'^(\w+)\[\s*(\w+)\s+eq\s+"([^"]*)"\s*\](?:\.(\w+))?$', re.IGNORECASE)
_READ_ONLY = ("id", "meta", "groups")  # groups: read-only, the group of the user's department


class ScimProblem(ValueError):
    """A request SCIM answers with an error: ``scim_type`` per RFC 7644 §3.12."""

    def __init__(self, status: int, scim_type: str | None, detail: str) -> None:
        super().__init__(detail)
        self.status, self.scim_type, self.detail = status, scim_type, detail


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimProblem:
    return ScimProblem(400, scim_type, detail)


def parse_filter(text: str, attributes: tuple[str, ...] = USER_FILTERS) -> tuple[str, str]:
    """Only ``<attribute> eq "…"`` for the given attributes (``userName``, ``externalId``, ``id`` for users)."""
    match = _FILTER.match(text)
    named = match and match.group(1).lower().rsplit(":", 1)[-1]
    chosen = next((a for a in attributes if a.lower() == named), None)
    if match is None or chosen is None:
        choices = " or ".join(f'{a} eq "…"' for a in attributes)
        raise invalid(f"unsupported filter {text!r}: use {choices}", "invalidFilter")
    return chosen, re.sub(r"\\(.)", r"\1", match.group(2))


def without_secrets(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without ``password`` (however it is spelt: names are case-insensitive, the core URN may
    prefix them): what the schema marks ``returned: never`` is dropped, never stored."""
    never = {n.lower() for n in NEVER_RETURNED} | {f"{USER}:{n}".lower() for n in NEVER_RETURNED}
    return {k: v for k, v in resource.items() if k.lower() not in never}


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """RFC 7644 §3.4.2.5: only ``attributes`` (with those always returned), or all but ``excludedAttributes``.
    Names are case-insensitive, may carry their schema URN and may name a sub-attribute (``name.givenName``)."""
    resource = without_secrets(resource)
    if attributes:
        kept = {k: v for k, v in resource.items() if k in ALWAYS_RETURNED}
        for path in attributes:
            _copy_path(resource, kept, path)
        return kept
    result = copy.deepcopy(resource)
    for path in excluded:
        _drop_path(result, path)
    return result


def attribute_list(text: str | None) -> list[str]:
    return [a.strip() for a in (text or "").split(",") if a.strip()]


def _split_path(resource: dict[str, Any], path: str) -> tuple[str | None, list[str]]:
    """(extension URN or None, [attribute, sub-attribute…]) with the resource's own spelling of each name."""
    extension = next((k for k in resource if k.startswith("urn:") and path.lower().startswith(k.lower())), None)
    if extension is not None:
        rest = path[len(extension) :].lstrip(":")
        return extension, rest.split(".") if rest else []
    for core in (USER, GROUP):
        if path.lower().startswith(core.lower() + ":"):
            path = path[len(core) + 1 :]
    return None, path.split(".")


def _key(container: Any, name: str) -> str | None:
    if not isinstance(container, dict):
        return None
    return next((k for k in container if k.lower() == name.lower()), None)


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: str) -> None:
    extension, names = _split_path(source, path)
    if extension is not None:
        if not names:
            target[extension] = copy.deepcopy(source[extension])
            return
        source, target = source[extension], target.setdefault(extension, {})
    for depth, name in enumerate(names):
        key = _key(source, name)
        if key is None:
            return
        if depth == len(names) - 1 or not isinstance(source[key], dict | list):
            target[key] = copy.deepcopy(source[key])
            return
        if isinstance(source[key], list):  # emails.value: that sub-attribute of every value
            sub = names[depth + 1]
            target[key] = [
                {k: v for k, v in i.items() if k.lower() == sub.lower()} for i in source[key] if isinstance(i, dict)
            ]
            return
        source, target = source[key], target.setdefault(key, {})


def _drop_path(resource: dict[str, Any], path: str) -> None:
    extension, names = _split_path(resource, path)
    container: Any = resource
    if extension is not None:
        if not names:
            resource.pop(extension, None)
            return
        container = resource[extension]
    for name in names[:-1]:
        key = _key(container, name)
        if key is None:
            return
        container = container[key]
    if isinstance(container, list):
        for item in container:
            if (key := _key(item, names[-1])) is not None:
                item.pop(key)
        return
    key = _key(container, names[-1])
    if key is not None and key not in ALWAYS_RETURNED:
        container.pop(key)


def clean(resource: Any) -> dict[str, Any]:
    """The client's representation, checked for what every user needs; read-only attributes dropped."""
    _require_schema(resource, USER)
    user = {k: v for k, v in without_secrets(resource).items() if k not in _READ_ONLY}
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


def keep_employee_number(resource: Any, stored: dict[str, Any]) -> Any:
    """A replace or patch that leaves out the employee number keeps the stored one: it is immutable
    (RFC 7643 §2.2), so leaving it out does not unassign it.  A different value is refused later."""
    number = stored.get(ENTERPRISE, {}).get("employeeNumber")
    if not isinstance(resource, dict) or not number:
        return resource
    enterprise = resource.get(ENTERPRISE)
    if enterprise is None:
        enterprise = {}
    if not isinstance(enterprise, dict) or enterprise.get("employeeNumber"):
        return resource
    kept = {**resource, ENTERPRISE: {**enterprise, "employeeNumber": number}}
    if isinstance(kept.get("schemas"), list) and ENTERPRISE not in kept["schemas"]:
        kept["schemas"] = [*kept["schemas"], ENTERPRISE]
    return kept


def clean_group(resource: Any) -> dict[str, Any]:
    """A group (a department): ``displayName`` is the department's name; ``members`` are user ids."""
    _require_schema(resource, GROUP)
    group = {k: v for k, v in resource.items() if k not in _READ_ONLY}
    name = group.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise invalid("displayName is required: a non-empty string of at most 200 characters (the department)")
    members = group.get("members", [])
    if not isinstance(members, list) or not all(
        isinstance(m, dict) and isinstance(m.get("value"), str) for m in members
    ):
        raise invalid('members must be a list of {"value": "<user id>"}')
    if any(str(m.get("type", "User")) != "User" for m in members):
        raise invalid("members can only be users: a department holds people, not other groups")
    group["members"] = [{"value": m["value"]} for m in members]
    return group


def _require_schema(resource: Any, schema: str) -> None:
    """Refused unless ``resource`` is a JSON object whose ``schemas`` include ``schema`` (USER or GROUP)."""
    if not isinstance(resource, dict):
        raise invalid("the body must be a JSON object", "invalidSyntax")
    schemas = resource.get("schemas")
    if not isinstance(schemas, list) or schema not in schemas:
        raise invalid(f"schemas must include {schema}", "invalidSyntax")


def stored_for_write(kind: str, resource_id: str, stored: dict | None, expected_version: int | None) -> dict:
    """The stored ``kind`` (user or group) a write changes: 404 when there is none, 412 when ``If-Match``
    named another version than the stored one (``expected_version`` None: any)."""
    if stored is None:
        raise ScimProblem(404, None, f"no {kind} {resource_id}")
    if expected_version is not None and expected_version != stored["version"]:
        raise ScimProblem(412, None, f"{kind} {resource_id} is at version {stored['version']}, not {expected_version}")
    return stored


def member_ids(group: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(m["value"] for m in group.get("members", [])))


def department(user: dict[str, Any]) -> str | None:
    value = user.get(ENTERPRISE, {}).get("department")
    return value if isinstance(value, str) and value else None


def with_department(user: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The user moved into department ``name`` (None: out of any)."""
    moved = copy.deepcopy(user)
    enterprise = moved.setdefault(ENTERPRISE, {})
    if name is None:
        enterprise.pop("department", None)
    else:
        enterprise["department"] = name
    if ENTERPRISE not in moved.setdefault("schemas", [USER]):
        moved["schemas"].append(ENTERPRISE)
    return moved


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


def patch(resource: dict[str, Any], body: Any, core: str = USER) -> dict[str, Any]:
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
                _set(user, key, inner, merge=True, core=core)
        elif not isinstance(path, str) or not path:
            raise invalid(f"Operations[{number}].path must be a string", "invalidPath")
        elif op == "remove":
            _remove(user, path, core)
        else:
            _set(user, path, value, merge=op == "add", core=core)
    return user


def _set(user: dict[str, Any], path: str, value: Any, *, merge: bool, core: str = USER) -> None:
    container, attribute = _target(user, path, create=True, core=core)
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


def _remove(user: dict[str, Any], path: str, core: str = USER) -> None:
    container, attribute = _target(user, path, create=False, core=core)
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


def _target(user: dict[str, Any], path: str, *, create: bool, core: str = USER) -> tuple[Any, Any]:
    """The dict holding the attribute and the attribute's name (or a value-filter tuple)."""
    container: Any = user
    if path.startswith(ENTERPRISE):
        rest = path[len(ENTERPRISE) :].lstrip(":")
        container = user.setdefault(ENTERPRISE, {}) if create else user.get(ENTERPRISE)
        if not rest:
            return user, ENTERPRISE
        path = rest
    elif path.startswith("urn:") and not path.startswith(core):
        raise invalid(f"unknown schema in path {path!r}", "invalidPath")
    path = path.removeprefix(core).lstrip(":")
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
