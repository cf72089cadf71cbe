"""Scheduled meetings on the real stack: propose, accept, reschedule, cancel, "did it happen?", availability
read in each person's time zone across the weeks where Berlin and New York are 5 hours apart, not 6."""

from __future__ import annotations

from datetime import timedelta

from shared.events.profiles import (
    FieldChange,
    MenteeRegistered,
    MentorRegistered,
    ParticipantErased,
    ProfileFields,
    ProfileUpdated,
)
from tests.integration.relationships.conftest import DIRECTOR, MENTEE, MENTOR, STRANGER

# START is Monday 2026-03-02 09:00 UTC.  The US moves to summer time on 2026-03-08, the EU on 2026-03-29.
TUE_0303_1400_BERLIN = "2026-03-03T14:00:00+01:00"  # 13:00Z = 08:00 in New York (EST): outside 09-12
TUE_0310_1400_BERLIN = "2026-03-10T14:00:00+01:00"  # 13:00Z = 09:00 in New York (EDT): inside
TUE_0331_1500_BERLIN = "2026-03-31T15:00:00+02:00"  # 13:00Z = 09:00 in New York (EDT): inside
TUE_0317_1400_BERLIN = "2026-03-17T14:00:00+01:00"


def registered(cls, participant_id: str, zone: str):
    profile = ProfileFields(biography="", specialty="cardiology", career_stage="senior", time_zone=zone)
    extra = {"capacity": 2} if cls is MentorRegistered else {}
    return cls(
        participant_id=participant_id,
        name=participant_id,
        email=f"{participant_id}@uni.example",
        profile=profile,
        **extra,
    )


def where(response) -> str:
    return ".".join(map(str, response.json()["detail"][0]["loc"][1:]))


async def pair_in_two_zones(service) -> str:
    rid = await service.start_one_to_one()
    await service.agree(rid)
    await service.feed(
        registered(MentorRegistered, "mentor-1", "Europe/Berlin"),
        registered(MenteeRegistered, "mentee-1", "America/New_York"),
    )
    put = await service.client.put(
        f"/relationships/{rid}/meetings/availability",
        headers=MENTEE,
        json={"windows": [{"weekday": 1, "start": "09:00", "end": "12:00"}]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["mentee-1"] == {
        "time_zone": "America/New_York",
        "windows": [{"weekday": 1, "start": "09:00", "end": "12:00"}],
    }
    assert put.json()["mentor-1"]["time_zone"] == "Europe/Berlin"
    return rid


async def propose(service, rid: str, who, *candidates: str, minutes: int = 60, **more):
    return await service.client.post(
        f"/relationships/{rid}/meetings/proposals",
        headers=who,
        json={"candidates": list(candidates), "duration_minutes": minutes, **more},
    )


async def test_availability_is_read_in_the_other_partys_zone_across_the_dst_gap(service) -> None:
    rid = await pair_in_two_zones(service)
    outside = await propose(service, rid, MENTOR, TUE_0310_1400_BERLIN, TUE_0303_1400_BERLIN)
    assert outside.status_code == 422
    [error] = outside.json()["detail"]
    assert ".".join(map(str, error["loc"][1:])) == "candidates.1" and "mentee-1's availability" in error["msg"]
    assert "America/New_York" in error["msg"]

    ok = await propose(service, rid, MENTOR, TUE_0310_1400_BERLIN, TUE_0331_1500_BERLIN, agenda_topics=["goals"])
    assert ok.status_code == 201, ok.text
    too_long = await propose(service, rid, MENTOR, TUE_0310_1400_BERLIN, minutes=240)  # runs to 12:00+3h NY
    assert too_long.status_code == 422 and where(too_long) == "candidates.0"

    past = await propose(service, rid, MENTEE, "2026-03-01T10:00:00+00:00")
    assert past.status_code == 422 and "past" in past.json()["detail"][0]["msg"]
    naive = await propose(service, rid, MENTEE, "2026-03-10T10:00:00")
    assert naive.status_code == 422
    unknown_goal = await propose(service, rid, MENTEE, "2026-03-11T10:00:00+00:00", agenda_goals=["nope"])
    assert unknown_goal.status_code == 422 and where(unknown_goal) == "agenda_goals"


async def test_propose_accept_reschedule_cancel_and_only_parties_see_it(service) -> None:
    rid = await pair_in_two_zones(service)
    proposed = await propose(service, rid, MENTOR, TUE_0310_1400_BERLIN, TUE_0331_1500_BERLIN, agenda_topics=["goals"])
    mid = proposed.json()["meeting_id"]
    base = f"/relationships/{rid}/meetings/{mid}"

    for outsider in (STRANGER, DIRECTOR):
        assert (await service.client.get(base, headers=outsider)).status_code == 404
        refused = await service.client.post(
            f"{base}/acceptance", headers=outsider, json={"starts_at": TUE_0310_1400_BERLIN}
        )
        assert refused.status_code == 404
        assert (await propose(service, rid, outsider, TUE_0310_1400_BERLIN)).status_code == 404

    own = await service.client.post(f"{base}/acceptance", headers=MENTOR, json={"starts_at": TUE_0310_1400_BERLIN})
    assert own.status_code == 409
    other_time = await service.client.post(
        f"{base}/acceptance", headers=MENTEE, json={"starts_at": "2026-03-10T15:00:00+01:00"}
    )
    assert other_time.status_code == 422 and where(other_time) == "starts_at"
    accepted = await service.client.post(
        f"{base}/acceptance",
        headers=MENTEE,
        json={"starts_at": "2026-03-10T09:00:00-04:00"},  # the same instant
    )
    assert accepted.status_code == 200, accepted.text
    shown = (await service.client.get(base, headers=MENTEE)).json()
    assert shown["status"] == "accepted" and shown["sequence"] == 0
    assert shown["agenda"] == {"goal_ids": ["g1"], "topics": ["goals"]}  # the goal in progress, planned ahead

    clash = await propose(service, rid, MENTEE, "2026-03-10T13:30:00+00:00")
    assert clash.status_code == 422 and f"overlaps the pair's meeting {mid}" in clash.json()["detail"][0]["msg"]

    moved = await service.client.post(f"{base}/reschedule", headers=MENTEE, json={"candidates": [TUE_0317_1400_BERLIN]})
    assert moved.status_code == 200, moved.text
    again = await service.client.post(f"{base}/acceptance", headers=MENTOR, json={"starts_at": TUE_0317_1400_BERLIN})
    assert again.status_code == 200, again.text
    assert (await service.client.get(base, headers=MENTOR)).json()["sequence"] == 2

    cancelled = await service.client.post(f"{base}/cancellation", headers=MENTOR)
    assert cancelled.status_code == 200
    assert (await service.client.post(f"{base}/cancellation", headers=MENTOR)).status_code == 409
    assert await service.event_types(mid) == [
        "MeetingProposed",
        "MeetingAccepted",
        "MeetingRescheduled",
        "MeetingAccepted",
        "MeetingCancelled",
    ]
    [row] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND version = 5", mid
    )
    assert row["sequence"] == 3 and row["relationship_id"] == rid


async def test_did_it_happen_logs_the_meeting_on_the_relationship_with_private_notes(service) -> None:
    rid = await pair_in_two_zones(service)
    mid = (await propose(service, rid, MENTEE, "2026-03-04T16:00:00+00:00", minutes=45)).json()["meeting_id"]
    base = f"/relationships/{rid}/meetings/{mid}"
    assert (
        await service.client.post(f"{base}/acceptance", headers=MENTOR, json={"starts_at": "2026-03-04T16:00:00Z"})
    ).status_code == 200
    early = await service.client.post(f"{base}/held", headers=MENTOR, json={})
    assert early.status_code == 409
    service.clock.advance(timedelta(days=2, hours=8))  # 2026-03-04 17:00Z, after the end
    refusals = [
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"topics": ["x" * 51]}, "topics.0"),
        ({"topics": ["goals"] * 11}, "topics"),
        ({"topics": ["funding", "astrology"]}, "topics.1"),  # not on the program's topic list
    ]
    for body, field in refusals:
        refused = await service.client.post(f"{base}/held", headers=MENTOR, json=body)
        assert refused.status_code == 422 and where(refused) == field, (body, refused.text)
    assert (await service.event_types(mid))[-1] == "MeetingAccepted"  # nothing written by a refusal
    held = await service.client.post(
        f"{base}/held",
        headers=MENTOR,
        json={"notes": "Talked about the K award.", "duration_minutes": 50, "topics": ["funding", "goals"]},
    )
    assert held.status_code == 200, held.text
    assert (await service.client.post(f"{base}/held", headers=MENTEE, json={})).status_code == 409
    status = (await service.client.get(f"/relationships/{rid}", headers=MENTEE)).json()
    assert [m["meeting_id"] for m in status["meetings"]] == [mid]
    assert status["last_meeting_on"] == "2026-03-04"
    notes = (await service.client.get(f"/relationships/{rid}/notes", headers=MENTEE)).json()
    assert [n["text"] for n in notes] == ["Talked about the K award."]
    logged = await service.runtime.pool.fetch(
        "SELECT data FROM events WHERE stream_id = $1 AND event_type = 'MeetingLogged'", rid
    )
    assert logged[0]["data"]["meeting_id"] == mid and "notes" not in logged[0]["data"]
    assert logged[0]["data"]["duration_minutes"] == 50 and logged[0]["data"]["topic_tags"] == ["funding", "goals"]
    assert status["meetings"][0]["duration_minutes"] == 50
    [confirmed] = await service.opened(
        "SELECT stream_id, event_type, data FROM events WHERE stream_id = $1 AND event_type = 'MeetingHeld'", mid
    )
    assert confirmed["duration_minutes"] == 50


async def test_a_meeting_held_without_duration_or_topics_keeps_the_scheduled_ones(service) -> None:
    rid = await pair_in_two_zones(service)
    mid = (
        await propose(service, rid, MENTEE, "2026-03-04T16:00:00+00:00", minutes=45, agenda_topics=["networking"])
    ).json()["meeting_id"]
    base = f"/relationships/{rid}/meetings/{mid}"
    accepted = await service.client.post(
        f"{base}/acceptance", headers=MENTOR, json={"starts_at": "2026-03-04T16:00:00Z"}
    )
    assert accepted.status_code == 200
    service.clock.advance(timedelta(days=2, hours=8))
    assert (await service.client.post(f"{base}/held", headers=MENTEE, json={})).status_code == 200
    [logged] = await service.runtime.pool.fetch(
        "SELECT data FROM events WHERE stream_id = $1 AND event_type = 'MeetingLogged'", rid
    )
    assert logged["data"]["duration_minutes"] == 45 and logged["data"]["topic_tags"] == ["networking"]


async def test_an_erased_persons_zone_and_windows_are_forgotten(service) -> None:
    rid = await pair_in_two_zones(service)
    await service.feed(ParticipantErased(participant_id="mentee-1"))
    rows = await service.runtime.pool.fetchval("SELECT count(*) FROM scheduling_calendars WHERE person_id = 'mentee-1'")
    assert rows == 0
    shown = (await service.client.get(f"/relationships/{rid}/meetings/availability", headers=MENTOR)).json()
    assert shown["mentee-1"] == {"time_zone": "UTC", "windows": []}


async def test_windows_are_checked_and_only_parties_set_them(service) -> None:
    rid = await service.start_one_to_one()
    backwards = await service.client.put(
        f"/relationships/{rid}/meetings/availability",
        headers=MENTOR,
        json={"windows": [{"weekday": 0, "start": "12:00", "end": "09:00"}]},
    )
    assert backwards.status_code == 422 and where(backwards) == "windows.0"
    bad_time = await service.client.put(
        f"/relationships/{rid}/meetings/availability",
        headers=MENTOR,
        json={"windows": [{"weekday": 7, "start": "25:00", "end": "09:00"}]},
    )
    assert bad_time.status_code == 422
    stranger = await service.client.put(
        f"/relationships/{rid}/meetings/availability", headers=STRANGER, json={"windows": []}
    )
    assert stranger.status_code == 404


async def test_a_changed_time_zone_is_followed_and_a_value_that_is_no_zone_ignored(service) -> None:
    rid = await pair_in_two_zones(service)
    await service.feed(
        ProfileUpdated(
            participant_id="mentee-1",
            changes=[FieldChange(field="profile.time_zone", old="America/New_York", new="America/Chicago")],
        ),
        ProfileUpdated(
            participant_id="mentor-1",
            changes=[FieldChange(field="profile.time_zone", old="Europe/Berlin", new="Mars/Olympus_Mons")],
        ),
    )
    shown = (await service.client.get(f"/relationships/{rid}/meetings/availability", headers=MENTEE)).json()
    assert shown["mentee-1"]["time_zone"] == "America/Chicago" and shown["mentor-1"]["time_zone"] == "Europe/Berlin"
    # Tuesday 09:00-12:00 now in Chicago: 14:00 Berlin on 2026-03-10 is 08:00 there
    refused = await propose(service, rid, MENTOR, TUE_0310_1400_BERLIN)
    assert refused.status_code == 422 and "America/Chicago" in refused.json()["detail"][0]["msg"]
