-- Tenant data: dossiers, their per-agency-and-year counters and the append-only history.
SET LOCAL ROLE egov_oss_owner;

CREATE TABLE oss.dossier_counter (
  agency text NOT NULL REFERENCES oss.agency (slug),
  year   integer NOT NULL,
  last   integer NOT NULL,
  PRIMARY KEY (agency, year)
);

CREATE TABLE oss.dossier (
  id                bigserial PRIMARY KEY,
  number            text NOT NULL UNIQUE,
  agency            text NOT NULL REFERENCES oss.agency (slug),      -- the agency that recorded it
  holder            text NOT NULL REFERENCES oss.agency (slug),      -- the agency that holds it now
  holders           text[] NOT NULL,                                 -- every agency that has held it
  procedure_code    text NOT NULL REFERENCES oss.procedure (code),
  applicant_name    text NOT NULL,
  applicant_contact text NOT NULL,
  status            text NOT NULL CHECK (status IN ('received', 'in_progress', 'transferred', 'resolved', 'rejected')),
  step              integer NOT NULL DEFAULT 0,
  received_on       date NOT NULL,
  due_on            date NOT NULL,
  closed_on         date,
  idempotency_key   text NOT NULL,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (agency, idempotency_key),
  CHECK (holder = ANY (holders))
);
CREATE INDEX dossier_holders_idx ON oss.dossier USING gin (holders);
CREATE INDEX dossier_holder_idx ON oss.dossier (holder, status);

CREATE TABLE oss.dossier_history (
  id          bigserial PRIMARY KEY,
  dossier_id  bigint NOT NULL REFERENCES oss.dossier (id),
  at          timestamptz NOT NULL DEFAULT now(),
  agency      text NOT NULL REFERENCES oss.agency (slug),
  official    text NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  step        integer NOT NULL,
  note        text NOT NULL DEFAULT ''
);
CREATE INDEX dossier_history_dossier_idx ON oss.dossier_history (dossier_id, id);

-- append-only, for everyone (the owner too): updates and deletes raise
CREATE FUNCTION oss.history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'oss.dossier_history is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER dossier_history_append_only BEFORE UPDATE OR DELETE ON oss.dossier_history
  FOR EACH ROW EXECUTE FUNCTION oss.history_append_only();
CREATE TRIGGER dossier_history_no_truncate BEFORE TRUNCATE ON oss.dossier_history
  FOR EACH STATEMENT EXECUTE FUNCTION oss.history_append_only();

GRANT SELECT, INSERT, UPDATE ON oss.dossier_counter TO egov_oss_app;
GRANT SELECT, INSERT, UPDATE ON oss.dossier TO egov_oss_app;
GRANT SELECT, INSERT ON oss.dossier_history TO egov_oss_app;
GRANT USAGE ON SEQUENCE oss.dossier_id_seq, oss.dossier_history_id_seq TO egov_oss_app;
