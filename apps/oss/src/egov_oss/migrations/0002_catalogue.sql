-- The catalogue (agencies, procedures and their steps, holidays), rendered from the model and loaded by
-- `egov-oss load-catalogue`. Not tenant data: every agency may read all of it.
SET LOCAL ROLE egov_oss_owner;

CREATE TABLE oss.agency (
  slug   text PRIMARY KEY,
  name   text NOT NULL,
  kind   text NOT NULL CHECK (kind IN ('department', 'district', 'commune')),
  parent text REFERENCES oss.agency (slug) DEFERRABLE INITIALLY DEFERRED,
  CHECK ((kind = 'commune') = (parent IS NOT NULL))
);

CREATE TABLE oss.procedure (
  code          text PRIMARY KEY,
  name          text NOT NULL,
  unit_kind     text NOT NULL CHECK (unit_kind IN ('department', 'district', 'commune')),
  deadline_days integer NOT NULL CHECK (deadline_days >= 0)
);

CREATE TABLE oss.procedure_step (
  procedure_code text NOT NULL REFERENCES oss.procedure (code) ON DELETE CASCADE,
  position       integer NOT NULL CHECK (position >= 0),
  name           text NOT NULL,
  level          text NOT NULL CHECK (level IN ('department', 'district', 'commune')),
  department     text REFERENCES oss.agency (slug),
  days           integer NOT NULL CHECK (days >= 0),
  PRIMARY KEY (procedure_code, position),
  CHECK ((level = 'department') = (department IS NOT NULL))
);

CREATE TABLE oss.holiday (
  day date PRIMARY KEY
);

GRANT SELECT ON oss.agency, oss.procedure, oss.procedure_step, oss.holiday TO egov_oss_app;

-- received date + n working days (Saturdays, Sundays and catalogue holidays skipped); n = 0 is the same day
CREATE FUNCTION oss.add_working_days(d date, n integer) RETURNS date
LANGUAGE sql STABLE SET search_path = oss, pg_temp AS $$
  SELECT CASE WHEN n <= 0 THEN d ELSE (
    SELECT day::date FROM generate_series(d + 1, d + n * 2 + 60, interval '1 day') AS day
    WHERE extract(isodow FROM day) < 6 AND day::date NOT IN (SELECT h.day FROM oss.holiday h)
    ORDER BY day OFFSET n - 1 LIMIT 1) END
$$;
GRANT EXECUTE ON FUNCTION oss.add_working_days(date, integer) TO egov_oss_app;
