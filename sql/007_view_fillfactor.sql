-- Leave room on each page so that re-folding a run's rows (every clear, every retry)
-- can update them in place (HOT) instead of touching the primary-key indexes.
ALTER TABLE task_instance SET (fillfactor = 70);
ALTER TABLE dag_run SET (fillfactor = 70);
