"""Every use case of the relationships service on in-memory ports (no Postgres, no broker).

What is checked is what could go wrong: the events recorded (and their correlation), the view row and
the timers each commit rewrites, the sealed texts, the errors with their field, and that a refused or
failing command leaves nothing behind.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.relationships.adapters.bus import bus_handlers
from services.relationships.application import (
    close_relationship,
    log_meeting,
    progress_goal,
    propose_agreement,
    review_agreement,
    set_goal,
    sign_agreement,
    start_relationship,
)
from services.relationships.application.cadence_watch import CADENCE, REVIEW
from services.relationships.application.commands import (
    CloseRelationship,
    LogMeeting,
    ProgressGoal,
    ProposeAgreement,
    ReviewAgreement,
    SetGoal,
    SignAgreement,
    StartRelationship,
)
from services.relationships.application.confidential import read_texts
from services.relationships.application.fire_timers import timer_handlers
from services.relationships.application.queries import show_relationship
from services.relationships.application.start_relationship import relationship_id_for
from services.relationships.domain.agreement import AgreementTerms, Milestone
from services.relationships.domain.errors import (
    ConfidentialToParties,
    InvalidCommand,
    NotAParty,
    RelationshipNotFound,
    RelationshipRuleViolation,
)
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import MatchApproved
from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.events.relationships import SmartGoal
from shared.inbox import PermanentError
from tests import helpers
from tests.unit.relationships.fakes import World, world

pytestmark = pytest.mark.unit

TODAY = date(2026, 1, 5)  # shared.testing.FixedClock's day
GRACE = timedelta(days=14)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def types(w: World, rid: str) -> list[str]:
    return [e.type_name() for e in w.store.events(rid)]


def terms(**overrides) -> AgreementTerms:
    values = {
        "format": "video",
        "goals": [SmartGoal(goal_id="g1", text="Submit an R01", measure="submitted", due_on=TODAY + timedelta(200))],
        "development_plan": [Milestone(title="Specific aims drafted", due_on=TODAY + timedelta(days=60))],
    }
    return AgreementTerms(**{**values, **overrides})


def envelope_of(event: Event, subject: str) -> Envelope:
    return helpers.envelope_of(event, subject, "/services/elsewhere", time=datetime(2026, 1, 5, tzinfo=UTC))


async def started(w: World, model: str = "one_to_one", mentees: tuple[str, ...] = ("mentee-1",)) -> str:
    return await start_relationship.handle(w.c, StartRelationship(model, "mentor-1", mentees))  # type: ignore[arg-type]


def signature(rid: str, by: str, revision: int = 1, **overrides) -> SignAgreement:
    return SignAgreement(
        rid, by, revision, **{"confidentiality_accepted": True, "no_fault_termination_acknowledged": True, **overrides}
    )


async def agreed(w: World, **term_overrides) -> str:
    rid = await started(w)
    await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-1", terms(**term_overrides)))
    for party in ("mentor-1", "mentee-1"):
        await sign_agreement.handle(w.c, signature(rid, party))
    return rid


async def bus(w: World, event: Event, subject: str) -> Envelope:
    envelope = envelope_of(event, subject)
    async with w.transactions() as conn:  # the consumer's transaction
        await bus_handlers(w.c).inbox_handlers()[event.type_name()](conn, event, envelope)
    return envelope


# --- starting ---------------------------------------------------------------------------------------------


async def test_the_director_starts_a_group_with_its_view_row_and_cadence_timer() -> None:
    w, correlation = world(), uuid.uuid4()
    rid = await start_relationship.handle(
        w.c, StartRelationship("group", "mentor-1", ("a", "b"), correlation_id=correlation)
    )
    assert types(w, rid) == ["RelationshipStarted"]
    [stored] = w.store.streams[rid]
    assert stored.envelope.correlationid == correlation and stored.event.match_id.startswith("direct-")
    assert rid == relationship_id_for(stored.event.match_id)
    assert (await w.read_model.status(None, rid))["phase"] == "preparing"
    assert w.timers.armed.keys() == {f"cadence:{rid}"}
    assert w.timers.armed[f"cadence:{rid}"].due_at == midnight(TODAY + timedelta(weeks=8) + GRACE)


async def test_a_start_that_breaks_the_model_names_its_field_and_leaves_nothing() -> None:
    w = world()
    with pytest.raises(InvalidCommand) as refused:
        await start_relationship.handle(w.c, StartRelationship("one_to_one", "p1", ("p2", "p3"), match_id="m1"))
    assert refused.value.field == "mentee_ids" and "exactly one mentee" in refused.value.reason
    with pytest.raises(InvalidCommand) as refused:
        await start_relationship.handle(w.c, StartRelationship("peer", None, ("p2",), match_id="m1"))
    assert refused.value.field == "mentee_ids" and "2 to 20 members" in refused.value.reason
    with pytest.raises(InvalidCommand) as refused:
        await start_relationship.handle(w.c, StartRelationship("peer", "p1", ("p2", "p3"), match_id="m1"))
    assert refused.value.field == "mentor_id"
    assert w.store.events() == [] and w.read_model.rows == {} and w.timers.armed == {}
    await start_relationship.handle(w.c, StartRelationship("peer", None, ("p1", "p2"), match_id="m1"))
    with pytest.raises(RelationshipRuleViolation, match="already started"):
        await start_relationship.handle(w.c, StartRelationship("peer", None, ("p1", "p2"), match_id="m1"))


async def test_a_match_starts_one_relationship_however_often_it_arrives() -> None:
    w = world()
    match = MatchApproved(match_id="match-7", mentee_id="mentee-1", mentor_id="mentor-1", mode="admin")
    first = await bus(w, match, "match-7")
    await bus(w, match, "match-7")
    rid = relationship_id_for("match-7")
    assert types(w, rid) == ["RelationshipStarted"]
    [stored] = w.store.streams[rid]
    assert (stored.envelope.causationid, stored.envelope.correlationid) == (first.id, first.correlationid)


async def test_a_match_that_cannot_start_is_a_permanent_error_and_writes_nothing() -> None:
    w = world()
    selfish = MatchApproved.model_construct(match_id="m9", mentee_id="p1", mentor_id="p1", mode="admin")
    with pytest.raises(PermanentError, match="match m9 cannot start a relationship"):
        await bus(w, selfish, "m9")
    assert w.store.events() == [] and w.read_model.rows == {}


# --- the agreement ----------------------------------------------------------------------------------------


async def test_proposals_are_revisions_of_one_draft_locked_while_written() -> None:
    w = world()
    rid = await started(w)
    first = await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-1", terms()))
    await sign_agreement.handle(w.c, signature(rid, "mentor-1"))
    second = await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentee-1", terms(format="phone")))
    assert (first.revision, second.revision) == (1, 2) and w.drafts.drafts[rid].signatures == {}
    assert w.drafts.locked == [rid, rid, rid]
    assert (await w.read_model.status(None, rid))["phase"] == "negotiating"
    assert types(w, rid) == ["RelationshipStarted"]  # a draft is not a fact


async def test_only_a_party_proposes_and_only_for_an_existing_relationship() -> None:
    w = world()
    rid = await started(w)
    with pytest.raises(NotAParty, match=f"^no relationship {rid}$"):  # as if it did not exist
        await propose_agreement.handle(w.c, ProposeAgreement(rid, "stranger", terms()))
    with pytest.raises(RelationshipNotFound, match="no relationship nope"):
        await propose_agreement.handle(w.c, ProposeAgreement("nope", "mentor-1", terms()))
    with pytest.raises(InvalidCommand) as refused:
        await propose_agreement.handle(
            w.c,
            ProposeAgreement(
                rid, "mentor-1", terms(development_plan=[Milestone(title="late", due_on=TODAY - timedelta(days=1))])
            ),
        )
    assert refused.value.field == "development_plan.0.due_on"
    assert w.drafts.drafts == {}


async def test_the_last_signature_concludes_the_agreement_and_arms_the_review() -> None:
    w = world()
    rid = await started(w)
    with pytest.raises(RelationshipRuleViolation, match="has no agreement to sign yet"):
        await sign_agreement.handle(w.c, signature(rid, "mentee-1"))
    await propose_agreement.handle(
        w.c, ProposeAgreement(rid, "mentor-1", terms(cadence_weeks_min=2, cadence_weeks_max=4))
    )
    half = await sign_agreement.handle(w.c, signature(rid, "mentee-1"))
    assert (half.signatures.keys(), half.concluded, types(w, rid)) == ({"mentee-1"}, False, ["RelationshipStarted"])
    correlation = uuid.uuid4()
    done = await sign_agreement.handle(w.c, signature(rid, "mentor-1", correlation_id=correlation))
    assert done.concluded and w.drafts.drafts[rid].concluded
    assert types(w, rid) == ["RelationshipStarted", "AgreementSigned"]
    assert w.store.streams[rid][-1].envelope.correlationid == correlation
    row = await w.read_model.status(None, rid)
    assert (row["phase"], row["agreement_signed_on"], row["cadence_weeks_max"]) == ("enabling", TODAY, 4)
    assert w.timers.armed[f"review:{rid}"].due_at == midnight(TODAY + timedelta(days=365))
    assert w.timers.armed[f"cadence:{rid}"].due_at == midnight(TODAY + timedelta(weeks=4) + GRACE)
    with pytest.raises(RelationshipRuleViolation, match="already signed by all parties"):
        await sign_agreement.handle(w.c, signature(rid, "mentor-1"))


async def test_a_refused_signature_names_its_field_and_keeps_the_draft_as_it_was() -> None:
    w = world()
    rid = await started(w)
    await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-1", terms()))
    with pytest.raises(InvalidCommand) as refused:
        await sign_agreement.handle(w.c, signature(rid, "mentee-1", no_fault_termination_acknowledged=False))
    assert refused.value.field == "no_fault_termination_acknowledged"
    with pytest.raises(RelationshipRuleViolation, match="revision 3 is not the current draft"):
        await sign_agreement.handle(w.c, signature(rid, "mentee-1", revision=3))
    assert w.drafts.drafts[rid].signatures == {}


# --- meetings, goals and confidential notes ---------------------------------------------------------------


async def test_a_meeting_is_logged_its_notes_sealed_and_the_cadence_timer_moved() -> None:
    w = world()
    rid = await agreed(w)
    w.clock.advance(days=10)
    held_on = TODAY + timedelta(days=9)
    meeting_id = await log_meeting.handle(
        w.c, LogMeeting(rid, "mentee-1", held_on, 45, "phone", ("goals", "goals"), notes="the tenure dossier")
    )
    [*_, stored] = w.store.events(rid)
    assert stored.meeting_id == meeting_id and stored.topic_tags == ["goals"] and "dossier" not in str(stored)
    [text] = w.texts.texts
    assert (text.kind, text.record_id, text.author_id) == ("meeting_note", meeting_id, "mentee-1")
    assert b"dossier" not in text.sealed.ciphertext and text.written_at == w.clock.now()
    assert w.timers.armed[f"cadence:{rid}"].due_at == midnight(held_on + timedelta(weeks=8) + GRACE)
    assert (await w.read_model.status(None, rid))["meetings"] == 1
    [note] = await read_texts(w.c, rid, "mentor-1", "meeting_note")
    assert (note.text, note.record_id, note.author_id) == ("the tenure dossier", meeting_id, "mentee-1")


async def test_meetings_keep_to_the_programs_topics_and_the_past() -> None:
    w = world(topics=("grants",))
    rid = await agreed(w)
    with pytest.raises(InvalidCommand) as refused:
        await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", TODAY, 30, "video", ("goals",), notes="n"))
    assert refused.value.field == "topic_tags" and "goals" in refused.value.reason
    with pytest.raises(InvalidCommand) as ahead:
        await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", TODAY + timedelta(days=1), 30, "video"))
    assert ahead.value.field == "held_on"
    assert types(w, rid) == ["RelationshipStarted", "AgreementSigned"] and w.texts.texts == []
    await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", TODAY, 30, "video", ("grants",)))
    assert w.texts.texts == []  # no notes, nothing sealed


async def test_notes_that_cannot_be_sealed_roll_the_meeting_back() -> None:
    w = world()
    rid = await agreed(w)
    before = (types(w, rid), dict(w.timers.armed), w.read_model.rows[rid])
    w.cipher.broken = True
    with pytest.raises(RuntimeError, match="no key"):
        await log_meeting.handle(w.c, LogMeeting(rid, "mentee-1", TODAY, 30, "video", notes="secret"))
    assert (types(w, rid), dict(w.timers.armed), w.read_model.rows[rid]) == before and w.texts.texts == []


async def test_confidential_texts_open_only_for_the_parties_and_only_where_sealed() -> None:
    w = world()
    rid, other = await agreed(w), await started(w, "one_to_one", ("mentee-2",))
    await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", TODAY, 30, "video", notes="between us"))
    with pytest.raises(ConfidentialToParties, match=f"meeting notes are confidential to the parties of .* {rid}"):
        await read_texts(w.c, rid, "director-1", "meeting_note", director=True)
    with pytest.raises(NotAParty, match=f"^no relationship {rid}$"):  # to another participant it does not exist
        await read_texts(w.c, rid, "mentee-2", "meeting_note")
    assert await read_texts(w.c, rid, "mentee-1", "feedback_comment") == []
    moved = w.texts.texts[0]
    w.texts.texts.append(type(moved)(moved.kind, moved.record_id, other, "mentor-1", moved.sealed, moved.written_at))
    with pytest.raises(ValueError, match="does not belong here"):
        await read_texts(w.c, other, "mentor-1", "meeting_note")


async def test_goals_are_set_for_a_mentee_and_progress_until_final() -> None:
    w = world()
    rid = await agreed(w)
    goal_id = await set_goal.handle(w.c, SetGoal(rid, "mentor-1", "Publish", "accepted paper", TODAY + timedelta(90)))
    [*_, goal_set] = w.store.events(rid)
    assert goal_set.goal.goal_id == goal_id and goal_set.mentee_id == "mentee-1"
    with pytest.raises(InvalidCommand) as refused:
        await set_goal.handle(w.c, SetGoal(rid, "mentor-1", "Old", "done", TODAY))
    assert refused.value.field == "due_on"
    version = await progress_goal.handle(w.c, ProgressGoal(rid, "mentee-1", goal_id, "achieved", 40))
    assert version == 4 and w.store.events(rid)[-1].progress_percent == 100
    with pytest.raises(RelationshipRuleViolation, match=f"goal {goal_id} is already achieved"):
        await progress_goal.handle(w.c, ProgressGoal(rid, "mentee-1", goal_id, "dropped"))
    with pytest.raises(RelationshipNotFound, match="has no goal g9"):
        await progress_goal.handle(w.c, ProgressGoal(rid, "mentee-1", "g9", "in_progress", 10))
    assert len(w.store.events(rid)) == 4


# --- timers, reviews, closure -------------------------------------------------------------------


async def fire_due(w: World) -> list[str]:
    handlers, fired = timer_handlers(w.c), []
    for timer in w.timers.due(w.clock.now()):
        async with w.transactions() as conn:  # the timer wheel's transaction
            await handlers[timer.kind](conn, timer)
        fired.append(timer.kind)
    return fired


async def test_a_due_cadence_timer_flags_the_pair_lagging_once() -> None:
    w = world()
    rid = await agreed(w)
    w.clock.advance(weeks=8, days=13)
    assert await fire_due(w) == []
    w.clock.advance(days=1)
    assert await fire_due(w) == [CADENCE]
    assert types(w, rid)[-1] == "RelationshipLagging" and w.read_model.rows[rid]["lagging"] is True
    assert f"cadence:{rid}" not in w.timers.armed  # lagging: nothing more until a meeting
    await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", w.c.today(), 30, "video"))
    assert f"cadence:{rid}" in w.timers.armed and w.read_model.rows[rid]["lagging"] is False


async def test_a_due_review_asks_for_the_review() -> None:
    w = world(grace=timedelta(days=400))
    rid = await agreed(w)
    w.clock.advance(days=365)
    assert await fire_due(w) == [REVIEW]
    assert types(w, rid)[-1] == "AgreementReviewDue" and f"review:{rid}" not in w.timers.armed


async def test_the_director_or_a_party_reviews_the_signed_agreement() -> None:
    w = world()
    rid = await started(w)
    with pytest.raises(RelationshipRuleViolation, match="has no signed agreement to review"):
        await review_agreement.handle(w.c, ReviewAgreement(rid, "mentor-1", "continued"))
    rid = await agreed(w)
    with pytest.raises(NotAParty):
        await review_agreement.handle(w.c, ReviewAgreement(rid, "mentee-9", "continued"))
    with pytest.raises(InvalidCommand) as refused:
        await review_agreement.handle(w.c, ReviewAgreement(rid, "mentor-1", "closing", TODAY + timedelta(days=30)))
    assert refused.value.field == "next_review_due_on"
    w.clock.advance(days=100)
    version = await review_agreement.handle(w.c, ReviewAgreement(rid, "director-1", "revised", by_director=True))
    assert version == 3 and w.read_model.rows[rid]["review_due_on"] == TODAY + timedelta(days=465)
    assert w.timers.armed[f"review:{rid}"].due_at == midnight(TODAY + timedelta(days=465))


async def test_closing_cancels_the_timers_and_opens_the_closure_survey() -> None:
    w = world()
    rid = await agreed(w)
    with pytest.raises(InvalidCommand) as refused:
        await close_relationship.handle(w.c, CloseRelationship(rid, "mentor-1", "no_fault_mentee"))
    assert refused.value.field == "reason"
    with pytest.raises(NotAParty):
        await close_relationship.handle(w.c, CloseRelationship(rid, "mentee-9", "objectives_achieved"))
    version = await close_relationship.handle(w.c, CloseRelationship(rid, "mentee-1", "no_fault_mentee"))
    assert version == 3 and w.timers.armed == {}
    row = w.read_model.rows[rid]
    assert (row["phase"], row["closure_reason"], row["closed_on"]) == ("closed", "no_fault_mentee", TODAY)
    with pytest.raises(RelationshipRuleViolation, match="was closed on"):
        await close_relationship.handle(w.c, CloseRelationship(rid, "director-1", "program_ended", by_director=True))


async def test_leaving_the_institution_closes_that_persons_open_relationships() -> None:
    w = world()
    mine, group = await agreed(w), await started(w, "group", ("mentee-2", "mentee-3"))
    unrelated = await start_relationship.handle(w.c, StartRelationship("one_to_one", "mentor-2", ("mentee-4",)))
    await bus(w, ParticipantDeactivated(participant_id="mentor-1", reason="on_leave", effective_date=TODAY), "mentor-1")
    assert w.read_model.rows[mine]["phase"] == "enabling"
    left = await bus(
        w, ParticipantDeactivated(participant_id="mentor-1", reason="left_institution", effective_date=TODAY), "m"
    )
    for rid in (mine, group):
        closed = w.store.events(rid)[-1]
        assert closed.reason == "participant_left" and closed.closed_by is None and closed.rematch_requested
        assert w.store.streams[rid][-1].envelope.causationid == left.id
    assert w.read_model.rows[unrelated]["phase"] == "preparing" and f"cadence:{unrelated}" in w.timers.armed
    assert not any(key.endswith(mine) or key.endswith(group) for key in w.timers.armed)


async def test_an_erased_participant_leaves_no_text_behind() -> None:
    w = world()
    rid = await agreed(w)
    await log_meeting.handle(w.c, LogMeeting(rid, "mentee-1", TODAY, 30, "video", notes="mine"))
    await log_meeting.handle(w.c, LogMeeting(rid, "mentor-1", TODAY, 30, "video", notes="theirs"))
    await bus(w, ParticipantErased(participant_id="mentee-1"), "mentee-1")
    assert [n.text for n in await read_texts(w.c, rid, "mentor-1", "meeting_note")] == ["theirs"]


# --- reads ------------------------------------------------------------------------------------------------


async def test_the_director_sees_status_and_a_party_sees_the_detail() -> None:
    w = world()
    rid = await agreed(w)
    await log_meeting.handle(w.c, LogMeeting(rid, "mentee-1", TODAY, 30, "video", ("goals",), notes="private"))
    status = await show_relationship(w.c, rid, "director-1", director=True)
    assert status["phase"] == "enabling" and "goals" not in status and "agreement" not in status
    detail = await show_relationship(w.c, rid, "mentee-1", director=False)
    assert detail["agreement"]["concluded"] and detail["agreement"]["signatures"] == {
        "mentor-1": "2026-01-05",
        "mentee-1": "2026-01-05",
    }
    assert [g["goal_id"] for g in detail["goals"]] == ["g1"] and detail["goals"][0]["status"] == "in_progress"
    assert detail["meetings"][0]["topic_tags"] == ["goals"] and "notes" not in detail["meetings"][0]
    assert "open_survey" not in detail and detail["meetings"][0]["held_on"] == TODAY
    with pytest.raises(NotAParty, match=f"^no relationship {rid}$"):
        await show_relationship(w.c, rid, "mentee-9", director=False)
    with pytest.raises(RelationshipNotFound, match="no relationship nope"):
        await show_relationship(w.c, "nope", "director-1", director=True)


async def test_a_failing_view_row_rolls_the_whole_commit_back() -> None:
    w = world()
    w.read_model.refuse = True
    with pytest.raises(RuntimeError, match="view row refused"):
        await started(w)
    assert w.store.events() == [] and w.timers.armed == {} and w.read_model.rows == {}
