-- Roles (created only if missing; names are fixed and documented in the README) and the schema.
-- egov_oss_owner owns every object (NOLOGIN; the migrator SETs ROLE to it); egov_oss_app is the role the
-- web application logs in as: it owns nothing, so row-level security always applies to it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'egov_oss_owner') THEN
    CREATE ROLE egov_oss_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'egov_oss_app') THEN
    CREATE ROLE egov_oss_app LOGIN;
  END IF;
  IF current_user <> 'egov_oss_owner' AND NOT pg_has_role(current_user, 'egov_oss_owner', 'MEMBER') THEN
    EXECUTE format('GRANT egov_oss_owner TO %I', current_user);
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS oss AUTHORIZATION egov_oss_owner;
GRANT USAGE ON SCHEMA oss TO egov_oss_app;
