"""The platform's tooling, apart from the services: the ``mentorship`` CLI, the local dev stack (broker,
Postgres, services as processes, the demo institution) and the history export.  Services never import
it; it drives them from outside, over HTTP, the bus and their databases' migrations."""
