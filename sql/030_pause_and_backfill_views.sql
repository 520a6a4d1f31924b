-- Views of the DagPause and Backfill aggregates, folded with the others by the view projector.
CREATE TABLE IF NOT EXISTS dag_pause (
    dag_id    text    PRIMARY KEY,
    is_paused boolean NOT NULL
);

CREATE TABLE IF NOT EXISTS backfill (
    id                 bigint      PRIMARY KEY,
    backfill_uuid      uuid        NOT NULL UNIQUE,
    dag_id             text        NOT NULL,
    from_date          timestamptz NOT NULL,
    to_date            timestamptz NOT NULL,
    reprocess_behavior text,
    max_active_runs    integer     NOT NULL,
    run_backwards      boolean     NOT NULL,
    dag_run_conf       jsonb,
    is_paused          boolean     NOT NULL,
    state              text        NOT NULL,
    created_at         timestamptz NOT NULL,
    completed_at       timestamptz,
    created_by         text        NOT NULL,
    driver             text        NOT NULL
);
CREATE INDEX IF NOT EXISTS backfill_dag ON backfill (dag_id, id);

-- One row per logical date of a backfill: the run it drives and the decision taken for it.
CREATE TABLE IF NOT EXISTS backfill_date (
    backfill_id  bigint      NOT NULL,
    logical_date timestamptz NOT NULL,
    run_id       text        NOT NULL,
    decision     text        NOT NULL,
    base_version bigint      NOT NULL,  -- the run's version when decided (0: none), see BackfillState
    PRIMARY KEY (backfill_id, logical_date)
);
