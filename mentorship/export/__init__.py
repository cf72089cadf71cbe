"""The event history as Hive-partitioned Parquet for analysts (DuckDB, Spark), personal data left out."""

from mentorship.export.history import PSEUDONYM_KEY_ENV, ExportRequest, catalog_types, export_history
from mentorship.export.output import MANIFEST, OutputRefused
from mentorship.export.source import BrokerUnavailable

__all__ = [
    "MANIFEST",
    "PSEUDONYM_KEY_ENV",
    "BrokerUnavailable",
    "ExportRequest",
    "OutputRefused",
    "catalog_types",
    "export_history",
]
