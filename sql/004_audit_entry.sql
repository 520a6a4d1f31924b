-- The audit view: one row per change of a run or a task instance, folded from the events
-- by the view projector in the same transaction as dag_run and task_instance.
CREATE TABLE IF NOT EXISTS audit_entry (
    seq          bigint      PRIMARY KEY,
    position     bigint      NOT NULL,  -- the event's notification id, as `audit verify` names it
    recorded_at  timestamptz NOT NULL,
    event        text        NOT NULL,
    dag_id       text,
    run_id       text,
    task_id      text,
    from_state   text,
    to_state     text,
    try_number   integer,
    actor        text,
    reason       text,
    operation_id text,
    operation    text,
    details      jsonb
);
-- History of one task instance (or of a DAG, or a task across runs), oldest first.
CREATE INDEX IF NOT EXISTS audit_entry_task ON audit_entry (dag_id, task_id, run_id, seq);
CREATE INDEX IF NOT EXISTS audit_entry_operation ON audit_entry (operation_id, seq);
-- recorded_at grows with seq, so a BRIN index serves --since/--until at almost no write cost.
CREATE INDEX IF NOT EXISTS audit_entry_recorded_at ON audit_entry USING brin (recorded_at);
