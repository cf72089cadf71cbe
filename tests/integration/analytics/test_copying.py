"""Writing facts on real Postgres: the hand-made binary COPY stores what asyncpg's own COPY stores, and
a fact already there (or repeated in the batch) is left out without spoiling the batch's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg
import pytest

from services.analytics.projecting import binary_copy
from services.analytics.projecting.copying import copy_new, insert_new, text_values, unnest_arguments

pytestmark = pytest.mark.integration

COLUMNS = {
    "id": "uuid",
    "label": "text",
    "at": "timestamptz",
    "on_day": "date",
    "n": "integer",
    "flag": "boolean",
    "doc": "json",
    "names": "text[]",
}
ROWS = [
    (
        uuid.uuid4(),
        "héllo\tworld\n\\ \x1f 日本",
        datetime(2024, 9, 2, 8, 0, 0, 123456, tzinfo=UTC),
        date(1999, 12, 31),
        -5,
        True,
        '{"a": "\\"quoted\\"", "b": [1, 2.5, null]}',
        ["mentee-1", "mentor-2", "日本"],
    ),
    (
        str(uuid.uuid4()),
        "",
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
        date(2000, 1, 1),
        2**31 - 1,
        False,
        "[]",
        [],
    ),
    (uuid.uuid4(), None, None, None, None, None, None, None),
    (uuid.uuid4(), "naive time is UTC", datetime(1970, 1, 1, 0, 0, 1), date(2100, 2, 28), 0, True, "{}", ["x"]),
]


async def table(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")


async def test_binary_copy_stores_what_asyncpg_stores(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await table(conn, "by_asyncpg")
        await table(conn, "by_hand")
        await conn.copy_records_to_table("by_asyncpg", records=ROWS, columns=list(COLUMNS))
        await binary_copy.copy_encoded(
            conn, "public", "by_hand", list(COLUMNS), binary_copy.encode(COLUMNS.values(), ROWS)
        )
        peer = await conn.fetch("SELECT *, doc::text AS doc FROM by_asyncpg ORDER BY n NULLS LAST")
        ours = await conn.fetch("SELECT *, doc::text AS doc FROM by_hand ORDER BY n NULLS LAST")
    assert [tuple(r) for r in ours] == [tuple(r) for r in peer]
    assert len(ours) == len(ROWS)
    assert ours[0]["label"] == ROWS[0][1] and ours[-1]["label"] is None  # by n: -5, 0, 2**31 - 1, null


def test_an_unknown_column_type_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        binary_copy.encode(("uuid", "interval"), [(uuid.uuid4(), timedelta(days=1))])


async def test_copy_new_leaves_out_what_is_there_and_keeps_the_transaction(pool: asyncpg.Pool) -> None:
    columns = ("relationship_id", "meeting_id", "held_on")
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE meetings (relationship_id text, meeting_id text, held_on date,"
            " PRIMARY KEY (relationship_id, meeting_id))"
        )
        await conn.execute("INSERT INTO meetings VALUES ('r1', 'm1', '2025-01-01')")
        rows = [
            ("r1", "m1", date(2030, 1, 1)),
            ("r1", "m2", date(2025, 2, 1)),
            ("r1", "m2", date(2030, 2, 1)),
            ("r2", "m1", date(2025, 3, 1)),
        ]
        async with conn.transaction():
            await conn.execute("INSERT INTO meetings VALUES ('r0', 'm0', '2024-12-01')")  # before, same transaction
            await copy_new(conn, "public", "meetings", columns, binary_copy.encode(("text", "text", "date"), rows))
            await conn.execute("INSERT INTO meetings VALUES ('r9', 'm9', '2025-04-01')")  # still usable after
        stored = {
            (r["relationship_id"], r["meeting_id"]): r["held_on"] for r in await conn.fetch("SELECT * FROM meetings")
        }
    assert stored == {
        ("r0", "m0"): date(2024, 12, 1),
        ("r1", "m1"): date(2025, 1, 1),
        ("r1", "m2"): date(2025, 2, 1),
        ("r2", "m1"): date(2025, 3, 1),
        ("r9", "m9"): date(2025, 4, 1),
    }


async def test_insert_new_leaves_out_what_is_there(pool: asyncpg.Pool) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE lagging (event_id uuid PRIMARY KEY, relationship_id text, lagging_at timestamptz)"
        )
        at = datetime(2025, 5, 1, tzinfo=UTC)
        await insert_new(
            conn,
            "public",
            "lagging",
            {"event_id": "uuid", "relationship_id": "text", "lagging_at": "timestamptz"},
            [(first, "r1", at)],
        )
        await insert_new(
            conn,
            "public",
            "lagging",
            {"event_id": "uuid", "relationship_id": "text", "lagging_at": "timestamptz"},
            [(first, "changed", at), (second, "r2", at), (second, "r2 again", at)],
        )
        stored = {r["event_id"]: r["relationship_id"] for r in await conn.fetch("SELECT * FROM lagging")}
    assert stored == {first: "r1", second: "r2"}


@pytest.mark.parametrize(
    "labels",
    [
        ["r1", "r2", "日本 \t x"],  # sent as one text of lines
        ["a line\nbreak", "r2"],  # a value Postgres would split: sent as an array
        ["", "r2"],  # an empty value (a lone one would split into no line at all): an array
        [None, "r2"],  # a NULL: an array
        [""],
    ],
)
async def test_insert_new_stores_every_text_as_it_was_sent(pool: asyncpg.Pool, labels: list) -> None:
    """A text column goes as one text of lines only when Postgres splits it back into exactly its values."""
    rows = [(i, label) for i, label in enumerate(labels)]
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE labels (n integer PRIMARY KEY, label text)")
        await insert_new(conn, "public", "labels", {"n": "integer", "label": "text"}, rows)
        stored = [tuple(r) for r in await conn.fetch("SELECT n, label FROM labels ORDER BY n")]
    assert stored == rows


def test_a_text_column_is_sent_as_lines_only_when_they_split_back_into_its_values() -> None:
    params, args = unnest_arguments(
        ("text", "uuid", "text", "text", "text"),
        [("a", "b"), (uuid.UUID(int=1), uuid.UUID(int=2)), ("a\nb", "c"), ("", "c"), (None, "c")],
    )
    assert params == ("string_to_array($1::text, E'\\n'), $2::uuid[], $3::text[], $4::text[], $5::text[]")
    assert args == ["a\nb", [uuid.UUID(int=1), uuid.UUID(int=2)], ["a\nb", "c"], ["", "c"], [None, "c"]]
    assert text_values(["p1", "p2"], 3) == ("string_to_array($3::text, E'\\n')", "p1\np2")
    assert text_values([]) == ("$1::text[]", [])
