-- Where each task instance's latest try ran (folded from its finishing event).
ALTER TABLE task_instance ADD COLUMN IF NOT EXISTS hostname text;

-- Each try's log, compressed (zlib), kept for every executor so any machine can show it; its
-- SHA-256 is the one the try's finishing event records. Not a view: logs are not events.
CREATE TABLE IF NOT EXISTS task_log (
    run_uuid   uuid    NOT NULL,
    task_id    text    NOT NULL,
    try_number integer NOT NULL,
    sha256     text    NOT NULL,
    hostname   text    NOT NULL,
    content    bytea   NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_uuid, task_id, try_number)
);
