"""A request's timeline as each reader may read it (``domain/request_timeline.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.matching.domain.request_timeline import timeline
from shared.events.matching import (
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
)

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
DUE = AT + timedelta(days=7)
HISTORY = [
    (
        RequestRanked(request_id="r", mentee_id="e", biography="b", motivation="m", ranked_mentor_ids=["a", "b", "c"]),
        AT,
    ),
    (RequestReviewed(request_id="r", reviewer_id="d", approved=True), AT),
    (RequestForwarded(request_id="r", mentee_id="e", mentor_id="a", choice_rank=1, respond_by=DUE), AT),
    (MentorResponded(request_id="r", mentor_id="a", choice_rank=1, accepted=False, reason="full"), AT),
    (RequestForwarded(request_id="r", mentee_id="e", mentor_id="b", choice_rank=2, respond_by=DUE), AT),
    (RequestExpired(request_id="r", mentor_id="b", choice_rank=2, respond_by=DUE), DUE),
    (RequestForwarded(request_id="r", mentee_id="e", mentor_id="c", choice_rank=3, respond_by=DUE), DUE),
    (MentorResponded(request_id="r", mentor_id="c", choice_rank=3, accepted=True), DUE),
    (MatchApproved(match_id="r", mentee_id="e", mentor_id="c", mode="director", request_id="r", choice_rank=3), DUE),
]
ALL = [
    "submitted",
    "approved",
    "forwarded",
    "mentor_declined",
    "forwarded",
    "expired",
    "forwarded",
    "mentor_accepted",
    "matched",
]


def test_the_director_reads_every_step_with_every_reason() -> None:
    steps = timeline(HISTORY, "d", mentee_id="e", director=True)
    assert [s["step"] for s in steps] == ALL
    assert steps[3]["mentor_reason"] == "full" and steps[2]["respond_by"] == DUE and steps[-1]["mode"] == "director"


def test_the_mentee_reads_every_step_but_not_a_mentors_reason() -> None:
    steps = timeline(HISTORY, "e", mentee_id="e", director=False)
    assert [s["step"] for s in steps] == ALL
    assert all("mentor_reason" not in s for s in steps)


def test_a_mentor_reads_only_their_own_turn() -> None:
    assert [s["step"] for s in timeline(HISTORY, "a", mentee_id="e", director=False)] == [
        "forwarded",
        "mentor_declined",
    ]
    assert [s["step"] for s in timeline(HISTORY, "b", mentee_id="e", director=False)] == ["forwarded", "expired"]
    mine = timeline(HISTORY, "c", mentee_id="e", director=False)
    assert [s["step"] for s in mine] == ["forwarded", "mentor_accepted", "matched"]
