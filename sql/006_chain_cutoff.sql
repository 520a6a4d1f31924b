-- As-of reads need "the last position recorded at or before T". recorded_at never
-- decreases along the chain (engine/hashchain.py), so a binary search over the primary
-- key answers it in about twenty index probes, and every append maintains one index less.
DROP INDEX IF EXISTS ledgerflow_chain_recorded_at;

CREATE OR REPLACE FUNCTION ledgerflow_chain_cutoff(t timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lo    bigint;
    hi    bigint;
    mid   bigint;
    pos   bigint;
    at    timestamptz;
    found bigint := 0;
BEGIN
    SELECT min(notification_id), max(notification_id) INTO lo, hi FROM ledgerflow_chain;
    WHILE lo <= hi LOOP
        mid := lo + (hi - lo) / 2;
        SELECT notification_id, recorded_at INTO pos, at FROM ledgerflow_chain
            WHERE notification_id >= mid ORDER BY notification_id LIMIT 1;
        IF pos > hi THEN          -- no link between mid and hi (positions have gaps)
            hi := mid - 1;
        ELSIF at <= t THEN
            found := pos;
            lo := pos + 1;
        ELSE
            hi := mid - 1;
        END IF;
    END LOOP;
    RETURN found;
END;
$$;
