-- Tenant isolation by row-level security on current_setting('egov.agency'), which the application sets per
-- transaction (set_config(..., true) = SET LOCAL). A dossier is visible to every agency that has held it;
-- only its current holder may change it. FORCE makes the owner subject too (it gets an explicit policy).
SET LOCAL ROLE egov_oss_owner;

ALTER TABLE oss.dossier ENABLE ROW LEVEL SECURITY;
ALTER TABLE oss.dossier FORCE ROW LEVEL SECURITY;
ALTER TABLE oss.dossier_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE oss.dossier_history FORCE ROW LEVEL SECURITY;
ALTER TABLE oss.dossier_counter ENABLE ROW LEVEL SECURITY;
ALTER TABLE oss.dossier_counter FORCE ROW LEVEL SECURITY;

CREATE POLICY dossier_owner ON oss.dossier TO egov_oss_owner USING (true) WITH CHECK (true);
CREATE POLICY dossier_read ON oss.dossier FOR SELECT TO egov_oss_app
  USING (current_setting('egov.agency', true) = ANY (holders));
CREATE POLICY dossier_insert ON oss.dossier FOR INSERT TO egov_oss_app
  WITH CHECK (agency = current_setting('egov.agency', true) AND holder = agency AND holders = ARRAY[agency]);
CREATE POLICY dossier_update ON oss.dossier FOR UPDATE TO egov_oss_app
  USING (holder = current_setting('egov.agency', true))
  WITH CHECK (current_setting('egov.agency', true) = ANY (holders));

CREATE POLICY history_owner ON oss.dossier_history TO egov_oss_owner USING (true) WITH CHECK (true);
-- the subquery runs under dossier's own policies: history is visible exactly when its dossier is
CREATE POLICY history_read ON oss.dossier_history FOR SELECT TO egov_oss_app
  USING (EXISTS (SELECT 1 FROM oss.dossier d WHERE d.id = dossier_id));
CREATE POLICY history_insert ON oss.dossier_history FOR INSERT TO egov_oss_app
  WITH CHECK (agency = current_setting('egov.agency', true)
              AND EXISTS (SELECT 1 FROM oss.dossier d WHERE d.id = dossier_id));

CREATE POLICY counter_owner ON oss.dossier_counter TO egov_oss_owner USING (true) WITH CHECK (true);
CREATE POLICY counter_own ON oss.dossier_counter TO egov_oss_app
  USING (agency = current_setting('egov.agency', true))
  WITH CHECK (agency = current_setting('egov.agency', true));
