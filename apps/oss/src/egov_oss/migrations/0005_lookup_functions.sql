-- The two narrow doors through RLS, as SECURITY DEFINER functions owned by egov_oss_owner:
-- public_dossier (citizens, no login: masked name, agency names, no official names) and
-- gateway_dossier (the LGSP gateway, authenticated by the front nginx's mutual TLS: everything).
SET LOCAL ROLE egov_oss_owner;

CREATE FUNCTION oss.mask_name(n text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(left(w, 1) || repeat('*', greatest(char_length(w) - 1, 0)), ' ')
  FROM regexp_split_to_table(btrim(n), '\s+') AS w
$$;

CREATE FUNCTION oss.public_dossier(p_number text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = oss, pg_temp AS $$
  SELECT jsonb_build_object(
    'number', d.number, 'status', d.status, 'procedure', p.name, 'agency', a.name,
    'applicant', oss.mask_name(d.applicant_name),
    'received_on', d.received_on, 'due_on', d.due_on, 'closed_on', d.closed_on,
    'on_time', coalesce(d.closed_on, current_date) <= d.due_on,
    'history', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'at', h.at, 'agency', ha.name, 'from_status', h.from_status, 'to_status', h.to_status) ORDER BY h.id)
      FROM oss.dossier_history h JOIN oss.agency ha ON ha.slug = h.agency WHERE h.dossier_id = d.id), '[]'))
  FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code JOIN oss.agency a ON a.slug = d.agency
  WHERE d.number = p_number
$$;

CREATE FUNCTION oss.gateway_dossier(p_number text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = oss, pg_temp AS $$
  SELECT jsonb_build_object(
    'number', d.number, 'status', d.status, 'step', d.step,
    'procedure', jsonb_build_object('code', p.code, 'name', p.name, 'deadline_days', p.deadline_days),
    'agency', d.agency, 'holder', d.holder, 'holders', to_jsonb(d.holders),
    'applicant', jsonb_build_object('name', d.applicant_name, 'contact', d.applicant_contact),
    'received_on', d.received_on, 'due_on', d.due_on, 'closed_on', d.closed_on,
    'on_time', coalesce(d.closed_on, current_date) <= d.due_on,
    'history', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'at', h.at, 'agency', h.agency, 'official', h.official, 'from_status', h.from_status,
        'to_status', h.to_status, 'step', h.step, 'note', h.note) ORDER BY h.id)
      FROM oss.dossier_history h WHERE h.dossier_id = d.id), '[]'))
  FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code
  WHERE d.number = p_number
$$;

REVOKE EXECUTE ON FUNCTION oss.public_dossier(text), oss.gateway_dossier(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION oss.public_dossier(text), oss.gateway_dossier(text) TO egov_oss_app;
