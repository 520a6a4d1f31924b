-- Projection tables: disposable views folded from ledgerflow_events.
CREATE TABLE IF NOT EXISTS dag_run (
    run_uuid            uuid PRIMARY KEY,
    version             bigint      NOT NULL,
    dag_id              text        NOT NULL,
    run_id              text        NOT NULL,
    logical_date        timestamptz NOT NULL,
    data_interval_start timestamptz NOT NULL,
    data_interval_end   timestamptz NOT NULL,
    run_type            text        NOT NULL,
    state               text        NOT NULL,
    conf                jsonb       NOT NULL,
    dag_fingerprint     text,
    clear_number        integer     NOT NULL DEFAULT 0,
    UNIQUE (dag_id, run_id)
);
CREATE INDEX IF NOT EXISTS dag_run_dag_logical_date ON dag_run (dag_id, logical_date);

CREATE TABLE IF NOT EXISTS task_instance (
    run_uuid   uuid    NOT NULL REFERENCES dag_run (run_uuid) DEFERRABLE INITIALLY DEFERRED,
    task_id    text    NOT NULL,
    state      text,
    try_number integer NOT NULL,
    max_tries  integer NOT NULL,
    PRIMARY KEY (run_uuid, task_id)
);

CREATE TABLE IF NOT EXISTS pool (
    name  text PRIMARY KEY,
    slots integer NOT NULL
);

CREATE TABLE IF NOT EXISTS operation (
    operation_id uuid PRIMARY KEY,
    name         text        NOT NULL,
    arguments    jsonb       NOT NULL,
    actor        text        NOT NULL,
    reason       text,
    host         text        NOT NULL,
    ledgerflow_version text  NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    outcome      text,
    summary      jsonb
);
