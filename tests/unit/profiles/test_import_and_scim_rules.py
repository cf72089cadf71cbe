"""Pure rules of bulk imports (row → fact, outcomes, leaver threshold) and SCIM (filters, patches, workers)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profiles.domain import scim
from services.profiles.domain.hr_import import (
    ImportRow,
    TooManyLeavers,
    changes,
    check_leaver_share,
    fact_id,
    outcome,
    parse_row,
    row_fact,
)
from services.profiles.domain.scim import ENTERPRISE, PATCH_OP, USER, ScimProblem
from services.profiles.domain.worker import WorkerView

pytestmark = pytest.mark.unit

ROW = {
    "employee_id": "E1",
    "legal_name": "Grace Hopper",
    "work_email": "g@example.edu",
    "title": "Professor",
    "job_function": "faculty",
    "department_id": "D1",
    "department_name": "CS",
    "country": "US",
    "original_hire_date": "2020-01-01",
    "last_hire_date": "2020-01-01",
    "effective_date": "2025-01-01",
}


def view(**overrides) -> WorkerView:
    fields = dict(
        employee_id="E1",
        name="Grace Hopper",
        email="g@example.edu",
        job_function="faculty",
        department="CS",
        location=None,
        status="active",
        status_since=date(2025, 1, 1),
    )
    return WorkerView(**{**fields, **overrides})


def test_the_same_row_is_the_same_fact_and_any_change_is_another() -> None:
    row = parse_row(ROW)
    assert isinstance(row, ImportRow)
    assert fact_id(row) == fact_id(parse_row(dict(reversed(list(ROW.items())))))
    assert fact_id(row) != fact_id(parse_row({**ROW, "title": "Chair"}))
    fact = row_fact(row, datetime(2025, 3, 1, tzinfo=UTC))
    assert fact.effective_date == date(2025, 1, 1) and fact.worker.department_name == "CS"


def test_row_errors_name_the_field_and_the_reason() -> None:
    errors = parse_row({**ROW, "country": "usa", "effective_date": "soon"})
    assert {e.field for e in errors} == {"country", "effective_date"}
    assert all(e.reason for e in errors)


@pytest.mark.parametrize(
    ("linked", "before", "after", "expected"),
    [
        (False, None, view(), "created"),
        (True, view(), view(department="Math"), "updated"),
        (True, view(), view(), "unchanged"),
        (True, view(), view(status="leave"), "deactivated"),
        (False, None, None, "unchanged"),
    ],
)
def test_outcomes(linked, before, after, expected) -> None:
    assert outcome(linked, before, after, scheduled=False) == expected


def test_changes_list_only_what_differs() -> None:
    assert changes(view(), view(department="Math")) == {"profile.department": {"old": "CS", "new": "Math"}}


@given(st.integers(0, 1000), st.integers(1, 1000), st.floats(0, 1))
def test_leaver_threshold_refuses_exactly_above_the_share(leavers: int, workforce: int, share: float) -> None:
    leavers = min(leavers, workforce)
    try:
        check_leaver_share(leavers, workforce, share, force=False)
        assert leavers / workforce <= share
    except TooManyLeavers:
        assert leavers / workforce > share
    check_leaver_share(leavers, workforce, share, force=True)


def user(**overrides) -> dict:
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": "ada@example.edu",
        "name": {"givenName": "Ada"},
        ENTERPRISE: {"employeeNumber": "E7", "department": "Cardiology"},
        **overrides,
    }


def test_filters() -> None:
    assert scim.parse_filter('userName eq "a\\"b"') == ("userName", 'a"b')
    assert scim.parse_filter('EXTERNALID eq "x"') == ("externalId", "x")
    with pytest.raises(ScimProblem) as problem:
        scim.parse_filter('userName sw "a"')
    assert problem.value.scim_type == "invalidFilter"


def test_patch_operations() -> None:
    patched = scim.patch(
        user(),
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "name.familyName", "value": "Okafor"},
                {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "E1"}},
                {"op": "add", "path": 'emails[type eq "work"].value', "value": "ada@example.edu"},
                {"op": "remove", "path": f"{ENTERPRISE}:department"},
                {"op": "replace", "value": {"active": False, "title": "Chair"}},
            ],
        },
    )
    assert patched["name"] == {"givenName": "Ada", "familyName": "Okafor"}
    assert patched[ENTERPRISE] == {"employeeNumber": "E7", "manager": {"value": "E1"}}
    assert patched["emails"] == [{"type": "work", "value": "ada@example.edu"}]
    worker = scim.worker(scim.clean(patched), date(2025, 1, 1), date(2025, 3, 1))
    assert (worker.legal_name, worker.supervisor_id, worker.employment_status) == ("Ada Okafor", "E1", "terminated")
    assert worker.termination_date == date(2025, 3, 1) and worker.country == "ZZ"


def test_a_user_needs_a_username_an_employee_id_and_an_email() -> None:
    for bad in (user(userName=" "), {**user(), ENTERPRISE: {}}, user(userName="ada")):
        with pytest.raises(ScimProblem):
            scim.worker(scim.clean(bad), date(2025, 1, 1), date(2025, 1, 1))


def test_a_rows_fact_id_is_uuid5_of_its_sorted_json() -> None:
    """Fact ids are kept: a row imported before the id was computed faster is still the same fact."""
    import json
    import uuid

    from services.profiles.domain.hr_import import FACT_NAMESPACE, fact_id, parse_row

    fields = {
        "employee_id": "E1",
        "legal_name": 'Zoë "Q" \\ ☃',
        "work_email": "zoe@example.edu",
        "title": "Nurse",
        "job_function": "clinical",
        "department_id": "D1",
        "department_name": "Medicine",
        "location": "North site",
        "country": "US",
        "original_hire_date": "2001-02-03",
        "last_hire_date": "2001-02-03",
        "effective_date": "2025-01-01",
    }
    row = parse_row(fields)
    assert not isinstance(row, list), row
    text = "row|" + json.dumps(row.model_dump(mode="json"), sort_keys=True)
    assert fact_id(row) == uuid.uuid5(FACT_NAMESPACE, text)
    assert fact_id(row).version == 5


@given(
    name=st.text(min_size=1, max_size=30).filter(str.strip),
    preferred=st.none() | st.text(max_size=20),
    supervisor=st.none() | st.text(alphabet="ABC123", min_size=1, max_size=5),
    remote=st.booleans(),
    status=st.sampled_from(["active", "leave"]),
    promoted=st.none() | st.dates(min_value=date(2001, 2, 3), max_value=date(2030, 1, 1)),
    location=st.none() | st.text(max_size=20),
)
def test_a_rows_fact_id_is_the_same_for_any_worker_values(
    name, preferred, supervisor, remote, status, promoted, location
):
    """The fact id's sorted JSON, written straight from the row's values, is json.dumps(..., sort_keys=True) of
    the row's JSON dump for every kind of value a worker holds (text of any characters, none, bools, dates)."""
    import json
    import uuid

    from services.profiles.domain.hr_import import FACT_NAMESPACE, fact_id, parse_row

    row = parse_row(
        {
            **ROW,
            "legal_name": name,
            "preferred_name": preferred,
            "supervisor_id": supervisor,
            "remote": remote,
            "employment_status": status,
            "last_promotion_date": promoted.isoformat() if promoted else None,
            "location": location,
        }
    )
    if isinstance(row, list):
        return  # a value the row's rules refuse (a name of only spaces, a control character): no fact
    text = "row|" + json.dumps(row.model_dump(mode="json"), sort_keys=True)
    assert fact_id(row) == uuid.uuid5(FACT_NAMESPACE, text)
