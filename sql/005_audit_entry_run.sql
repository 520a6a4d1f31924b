-- A narrower index for the history of a run or task instance: run_id alone picks out a
-- handful of entries (the same run id in other DAGs is filtered on the rows), and costs a
-- rebuild a third of what the (dag_id, task_id, run_id, seq) index did.
DROP INDEX IF EXISTS audit_entry_task;
CREATE INDEX IF NOT EXISTS audit_entry_run ON audit_entry (run_id);
