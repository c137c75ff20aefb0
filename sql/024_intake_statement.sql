-- Intake at the limit, fourth step (issue #19): the group commit's statement is the server's own
-- (server/api/intake_batch.sql), prepared on the intake's connections with a generic plan, no
-- longer wrapped in a PL/pgSQL function. The wrapper cost ~55 us of backend CPU a transaction
-- (~1,300 for 8 cases): the call, its SET of plan_cache_mode, RETURN QUERY's tuplestore read
-- again by the calling query. 023's function is gone with it; case_create (the single call,
-- and every call a batch sends again alone) stays as it was.
DROP FUNCTION case_create_batch(bigint[], text[], text[], text[], text[], jsonb[], text[], text[], text[],
                                bigint[], text[], timestamptz[], timestamptz[], timestamptz[], timestamptz[],
                                smallint[], text[]);
