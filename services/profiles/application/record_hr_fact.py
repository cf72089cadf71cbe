"""Use case: keep one HR fact and let the participant follow the worker.

Runs inside the caller's transaction (the inbox's, so a redelivered fact is
never seen twice; or an import row's or a SCIM write's).  A fact effective
later than today (by the injectable clock) is kept and a durable timer is set
for its date; a rescission is kept even when it arrives before the fact it
withdraws.  Facts that can never make sense raise ``ImpossibleHrFact`` (the bus
adapter sends them to the dead-letter topic; an import reports the row).
"""

from __future__ import annotations

from services.profiles.application import follow_worker
from services.profiles.application.commands import FollowWorker, RecordHrFact
from services.profiles.application.follow_worker import Followed
from services.profiles.application.ports import Ports
from services.profiles.domain.worker import (
    HR_TIMER,
    check_fact,
    check_rescission,
    check_rescission_arrived_first,
    effective_date_timer,
)
from shared.events.hr import HrEventRescinded
from shared.ports import Conn


async def handle(ports: Ports, conn: Conn, cmd: RecordHrFact) -> Followed:
    """A fact about an erased worker is dropped: profiles keeps no personal data about them again."""
    fact, today = cmd.fact, ports.clock.now().date()
    if await ports.hr.is_erased(conn, fact.employee_id):
        return Followed(linked=False, before=None, after=None)
    check_fact(fact, cmd.subject)
    if isinstance(fact, HrEventRescinded):
        owner = await ports.hr.fact_owner(conn, fact.rescinded_event_id)
        if owner is not None:
            check_rescission(fact, *owner)
        await ports.hr.add_rescission(conn, str(cmd.event_id), fact)
    else:
        rescinded = await ports.hr.rescission_of(conn, str(cmd.event_id))
        if rescinded is not None:
            check_rescission_arrived_first(fact, str(cmd.event_id), *rescinded)
        await ports.hr.add_fact(conn, str(cmd.event_id), fact)
    followed = await follow_worker.handle(
        ports, conn, FollowWorker(fact.employee_id, today, cmd.correlation_id, causation_id=cmd.event_id)
    )
    if not isinstance(fact, HrEventRescinded) and fact.effective_date > today:
        key, due_at = effective_date_timer(fact.employee_id, fact.effective_date)
        await ports.timers.schedule(conn, key, HR_TIMER, fact.employee_id, due_at)
    return followed
