-- The W3C trace context of the transaction that queued the row (shared/tracing.py), so the relay publishes
-- each event in the trace of the command or consumed event that made it. The transaction notes it in the
-- transaction-local setting `mentorship.traceparent` only while tracing is on; otherwise the column stays NULL
-- and the event store's insert is the same as before.
ALTER TABLE outbox ADD COLUMN trace_context text DEFAULT NULLIF(current_setting('mentorship.traceparent', true), '');
