"""The one naming both halves of analytics share: generation ``n`` lives in schema ``gen_<n>``.

Outside the layers (projecting builds generations, querying reads them; neither imports the other).
"""

from __future__ import annotations


def schema_name(generation: int) -> str:
    return f"gen_{generation}"
