-- Tamper evidence: one hash-chain link per stored event, in notification order.
-- A link is written in the same transaction as its event (engine/hashchain.py);
-- recorded_at is the append instant (never decreasing), which as-of reads use.
CREATE TABLE IF NOT EXISTS ledgerflow_chain (
    notification_id bigint      PRIMARY KEY,
    recorded_at     timestamptz NOT NULL,
    chain_version   smallint    NOT NULL,
    hash            bytea       NOT NULL
);
CREATE INDEX IF NOT EXISTS ledgerflow_chain_recorded_at ON ledgerflow_chain (recorded_at);

-- Version 1 of the canonical serialisation, the same bytes engine/hashchain.py hashes:
-- sha256(int2 version || prev hash || int8 position || uuid originator || int8 version
--        || int8 recorded_at in microseconds since 1970 || topic || state), where topic
-- and state are each an int4 byte length (-1 for NULL) followed by their bytes.
CREATE OR REPLACE FUNCTION ledgerflow_chain_field(data bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN data IS NULL THEN int4send(-1) ELSE int4send(length(data)) || data END
$$;

CREATE OR REPLACE FUNCTION ledgerflow_chain_link_v1(
    prev bytea, pos bigint, originator uuid, originator_version bigint,
    recorded_at timestamptz, topic text, state bytea
) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(
        int2send(1::smallint) || prev || int8send(pos) || uuid_send(originator)
        || int8send(originator_version)
        || int8send((extract(epoch FROM recorded_at) * 1000000)::bigint)
        || ledgerflow_chain_field(convert_to(topic, 'UTF8'))
        || ledgerflow_chain_field(state)
    )
$$;

-- Links are append-only too.
DROP TRIGGER IF EXISTS ledgerflow_chain_no_update ON ledgerflow_chain;
CREATE TRIGGER ledgerflow_chain_no_update
    BEFORE UPDATE OR DELETE ON ledgerflow_chain
    FOR EACH ROW EXECUTE FUNCTION ledgerflow_refuse_change();

DROP TRIGGER IF EXISTS ledgerflow_chain_no_truncate ON ledgerflow_chain;
CREATE TRIGGER ledgerflow_chain_no_truncate
    BEFORE TRUNCATE ON ledgerflow_chain
    FOR EACH STATEMENT EXECUTE FUNCTION ledgerflow_refuse_change();

-- Events stored before this migration get their links now, timed by their own timestamps.
DO $$
DECLARE
    r    record;
    prev bytea;
    at   timestamptz;
BEGIN
    LOCK TABLE ledgerflow_events IN EXCLUSIVE MODE;
    SELECT hash, recorded_at INTO prev, at FROM ledgerflow_chain
        ORDER BY notification_id DESC LIMIT 1;
    prev := coalesce(prev, decode(repeat('00', 32), 'hex'));
    FOR r IN
        SELECT e.* FROM ledgerflow_events e
        WHERE e.notification_id > coalesce((SELECT max(notification_id) FROM ledgerflow_chain), 0)
        ORDER BY e.notification_id
    LOOP
        at := greatest(
            coalesce((convert_from(r.state, 'UTF8')::jsonb #>> '{timestamp,_data_}')::timestamptz,
                     now()),
            coalesce(at, '-infinity'::timestamptz)
        );
        prev := ledgerflow_chain_link_v1(prev, r.notification_id, r.originator_id,
                                         r.originator_version, at, r.topic, r.state);
        INSERT INTO ledgerflow_chain VALUES (r.notification_id, at, 1, prev);
    END LOOP;
END;
$$;
