-- The users view: one row per user of the HTTP API, folded from the User events
-- (the password hash stays in the events: reads never need it).
CREATE TABLE IF NOT EXISTS app_user (
    username   text PRIMARY KEY,
    role       text        NOT NULL,
    active     boolean     NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text        NOT NULL
);
