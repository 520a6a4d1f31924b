-- The Celery executor's outbox: a try is recorded here (queued, with its Celery task id) before it is
-- published; published_at is set once the broker confirmed it, and a relay republishes the rest.
CREATE TABLE IF NOT EXISTS try_dispatch (
    celery_id    uuid        PRIMARY KEY,
    run_uuid     uuid        NOT NULL,
    task_id      text        NOT NULL,
    try_number   integer     NOT NULL,
    queue        text        NOT NULL,
    job          jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    UNIQUE (run_uuid, task_id, try_number)
);
CREATE INDEX IF NOT EXISTS try_dispatch_unconfirmed ON try_dispatch (recorded_at) WHERE published_at IS NULL;

-- A worker's claim on a try (one row per try: a second delivery finds it and never runs the try), its
-- heartbeat while the try runs, and the outcome once it ended or its worker was found dead.
CREATE TABLE IF NOT EXISTS try_claim (
    run_uuid     uuid        NOT NULL,
    task_id      text        NOT NULL,
    try_number   integer     NOT NULL,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    result       jsonb,
    ended_at     timestamptz,
    PRIMARY KEY (run_uuid, task_id, try_number)
);
