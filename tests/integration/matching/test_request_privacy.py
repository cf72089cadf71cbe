"""Who reads what of a request over HTTP: a mentor reads the mentee's biography and motivation only while the
request waits for their answer, or once it matched them; a mentor who declined, let the deadline pass or was
passed over keeps seeing the request without them. Anyone else gets the 404 of an id nobody holds."""

from __future__ import annotations

from shared.auth import Role
from tests.helpers import unique
from tests.integration.matching.conftest import DIRECTOR, days, mentee_registered, mentor_registered
from tests.integration.service_harness import auth

PERSONAL = {"biography": "Cardiology fellow", "motivation": "Grant writing"}  # what Service.submit sends


async def as_seen_by(service, who: dict[str, str], rid: str) -> dict:
    one = await service.client.get(f"/requests/{rid}", headers=who)
    assert one.status_code == 200, one.text
    listed = [r for r in (await service.client.get("/requests", headers=who)).json()["items"] if r["request_id"] == rid]
    assert listed == [one.json()]  # the list shows a request exactly as the request itself does
    return one.json()


def personal(view: dict) -> dict:
    return {key: view[key] for key in PERSONAL}


async def test_a_mentor_no_longer_asked_reads_the_request_without_its_personal_text(service) -> None:
    first, second, third, mentee = (unique(p) for p in ("mentor", "mentor", "mentor", "mentee"))
    await service.feed(
        mentor_registered(first), mentor_registered(second), mentor_registered(third), mentee_registered(mentee)
    )
    rid = await service.submit(mentee, first, second, third)
    await service.approve(rid)
    first_, second_, third_ = (auth(m, Role.mentor) for m in (first, second, third))
    assert personal(await as_seen_by(service, first_, rid)) == PERSONAL  # asked now

    assert (await service.answer(rid, first, False)).status_code == 200  # declined
    declined = await as_seen_by(service, first_, rid)
    assert personal(declined) == {"biography": None, "motivation": None}
    assert declined["status"] == "forwarded" and declined["mentor_id"] == second
    assert personal(await as_seen_by(service, second_, rid)) == PERSONAL

    service.clock.advance(days(7))  # second lets the deadline pass: third is asked
    assert await service.fire_timers() == 1
    assert personal(await as_seen_by(service, second_, rid)) == {"biography": None, "motivation": None}
    assert personal(await as_seen_by(service, third_, rid)) == PERSONAL

    assert (await service.answer(rid, third, True)).status_code == 200  # matched: third keeps it
    assert personal(await as_seen_by(service, third_, rid)) == PERSONAL
    for passed_over in (first_, second_):
        assert personal(await as_seen_by(service, passed_over, rid)) == {"biography": None, "motivation": None}
    for always in (DIRECTOR, auth(mentee, Role.mentee)):
        assert personal(await as_seen_by(service, always, rid)) == PERSONAL


async def test_a_request_one_may_not_read_answers_as_an_id_nobody_holds(service) -> None:
    asked, ranked_later, other, mentee = (unique(p) for p in ("mentor", "mentor", "mentee", "mentee"))
    await service.feed(
        mentor_registered(asked), mentor_registered(ranked_later), mentee_registered(mentee), mentee_registered(other)
    )
    rid = await service.submit(mentee, asked, ranked_later)
    await service.approve(rid)
    nobody = "00000000-0000-4000-8000-000000000000"
    attempts = [
        (auth(ranked_later, Role.mentor), "GET", "/requests/{}", None),
        (auth(other, Role.mentee), "GET", "/requests/{}", None),
        (auth(other, Role.mentee), "POST", "/requests/{}/withdrawal", {}),
        (auth(ranked_later, Role.mentor), "POST", "/requests/{}/response", {"accepted": True}),
    ]
    for who, method, path, body in attempts:
        hidden = await service.client.request(method, path.format(rid), headers=who, json=body)
        missing = await service.client.request(method, path.format(nobody), headers=who, json=body)
        assert (hidden.status_code, missing.status_code) == (404, 404), (method, path)
        assert hidden.json() == {"detail": f"no request {rid}"}
        assert missing.json() == {"detail": f"no request {nobody}"}
