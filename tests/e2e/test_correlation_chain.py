"""One ``X-Correlation-ID`` followed through the services' JSON logs (each process its own log file).

Chain 1: a mentor registers at profiles → matching and notifications consume ``MentorRegistered``.
Chain 2: the mentor accepts a request at matching → relationships consumes ``MatchApproved`` and starts
the relationship → matching and notifications consume ``RelationshipStarted`` — every hop logged under
the caller's correlation id, and each event's causation id is the event that caused it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from mentorship.stack import RunningService, start_services
from shared.auth import Role
from shared.bus import topic_for
from tests.e2e import cloudevents_sdk
from tests.faults.workload import bearer, profile
from tests.helpers import consume_all, eventually

pytestmark = pytest.mark.e2e

ADMIN = bearer("director-1", Role.admin)
NAMES = ("profiles", "matching", "relationships", "notifications")


@pytest.fixture(scope="module")
def services(postgres, broker, tmp_path_factory):
    log_dir = Path(tmp_path_factory.mktemp("correlation"))
    with start_services(
        postgres,
        broker.bootstrap,
        log_dir,
        names=NAMES,
        database_prefix=f"corr_{uuid.uuid4().hex[:8]}",
        extra_env={"MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
    ) as running:
        yield running


def log_lines(service: RunningService, correlation: str) -> list[dict]:
    lines = service.process.log_path.read_text(errors="replace").splitlines()
    return [entry for entry in map(_json, lines) if entry and entry.get("correlation_id") == correlation]


def _json(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def consumed(service: RunningService, correlation: str, event_type: str) -> list[dict]:
    return [
        e
        for e in log_lines(service, correlation)
        if e.get("event") == "event consumed" and e.get("event_type") == event_type and e.get("outcome") == "handled"
    ]


async def test_one_correlation_id_along_profiles_matching_relationships_notifications(services, broker) -> None:
    urls = {name: s.url for name, s in services.items()}
    registration, acceptance = str(uuid.uuid4()), str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=15) as client:
        mentor = {
            "participant_id": "corr-mentor",
            "name": "Mentor",
            "email": "corr.mentor@example.edu",
            "capacity": 2,
            "profile": profile(1, "mentor"),
        }
        response = await client.post(
            f"{urls['profiles']}/mentors", json=mentor, headers={**ADMIN, "X-Correlation-ID": registration}
        )
        assert response.status_code == 201, response.text
        mentee = {
            "participant_id": "corr-mentee",
            "name": "Mentee",
            "email": "corr.mentee@example.edu",
            "profile": profile(2, "mentee"),
        }
        assert (await client.post(f"{urls['profiles']}/mentees", json=mentee, headers=ADMIN)).status_code == 201

        # Chain 1: profiles → matching, notifications.
        async def registration_followed() -> bool:
            return all(consumed(services[s], registration, "MentorRegistered") for s in ("matching", "notifications"))

        await eventually(registration_followed, timeout=60)

        as_mentee = bearer("corr-mentee", Role.mentee)

        async def submitted() -> bool:
            r = await client.post(
                f"{urls['matching']}/requests",
                headers=as_mentee,
                json={"biography": "b", "motivation": "m", "ranked_mentor_ids": ["corr-mentor"]},
            )
            submitted.request_id = r.json().get("request_id") if r.status_code == 201 else None
            return submitted.request_id is not None

        await eventually(submitted, timeout=60, interval=0.3)  # once matching knows the mentee
        request_id = submitted.request_id
        review = await client.post(
            f"{urls['matching']}/requests/{request_id}/review", headers=ADMIN, json={"approved": True}
        )
        assert review.status_code == 200, review.text
        accepted = await client.post(
            f"{urls['matching']}/requests/{request_id}/response",
            json={"accepted": True},
            headers={**bearer("corr-mentor", Role.mentor), "X-Correlation-ID": acceptance},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.headers["X-Correlation-ID"] == acceptance

        # Chain 2: matching → relationships → matching, notifications.
        async def acceptance_followed() -> bool:
            return (
                bool(consumed(services["relationships"], acceptance, "MatchApproved"))
                and bool(consumed(services["notifications"], acceptance, "MatchApproved"))
                and bool(consumed(services["matching"], acceptance, "RelationshipStarted"))
                and bool(consumed(services["notifications"], acceptance, "RelationshipStarted"))
            )

        await eventually(acceptance_followed, timeout=60)

    # The bus carries the chain too: RelationshipStarted was caused by the MatchApproved relationships handled.
    [match_log] = consumed(services["relationships"], acceptance, "MatchApproved")
    records = await consume_all(broker.bootstrap, topic_for("relationships"), expected=10**6, timeout=5)
    started = [json.loads(r.value) for r in records]
    [relationship] = [e for e in started if e["type"] == "RelationshipStarted" and e["correlationid"] == acceptance]
    assert relationship["causationid"] == match_log["event_id"]
    [seen_by_matching] = consumed(services["matching"], acceptance, "RelationshipStarted")
    assert seen_by_matching["event_id"] == relationship["id"]
    assert seen_by_matching["causation_id"] == match_log["event_id"]
    # …and nothing of it leaked into the other chain.
    assert not consumed(services["relationships"], registration, "MatchApproved")

    # Every record the services published reads as a CloudEvent with the SDK, whichever entry point.
    events = []
    for name in NAMES:
        events += [cloudevents_sdk.read(r) for r in await consume_all(broker.bootstrap, topic_for(name), 10**6, 5)]
    chains = {(e["correlationid"], e["type"]) for e in events}
    assert {
        (registration, "MentorRegistered"),
        (acceptance, "MatchApproved"),
        (acceptance, "RelationshipStarted"),
    } <= chains
    by_subject: dict[tuple[str, str], list[str]] = {}
    for event in events:
        by_subject.setdefault((event["source"], event["subject"]), []).append(event["sequence"])
    assert all(sequences == sorted(sequences) for sequences in by_subject.values())  # ordered as strings
    print("cloudevents sdk:", len(events), "records parsed, 0 failed")
