-- The event store is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
CREATE OR REPLACE FUNCTION ledgerflow_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledgerflow_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS ledgerflow_events_no_update ON ledgerflow_events;
CREATE TRIGGER ledgerflow_events_no_update
    BEFORE UPDATE OR DELETE ON ledgerflow_events
    FOR EACH ROW EXECUTE FUNCTION ledgerflow_refuse_change();

DROP TRIGGER IF EXISTS ledgerflow_events_no_truncate ON ledgerflow_events;
CREATE TRIGGER ledgerflow_events_no_truncate
    BEFORE TRUNCATE ON ledgerflow_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledgerflow_refuse_change();
