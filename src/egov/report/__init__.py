"""The audit site (issue 17): `egov report` turns the model, the control catalogue, the plan's items
(docs/plan-items.yml) and the last run's evidence (reports/) into static HTML an auditor reads offline.

Modules, one job each: :mod:`~egov.report.collect` reads the evidence, :mod:`~egov.report.controls`
the catalogue and each host's control results, :mod:`~egov.report.plan` the plan's items,
:mod:`~egov.report.kpi` the figures the repository can compute, :mod:`~egov.report.markup` escapes
and lays out HTML, :mod:`~egov.report.site` writes the pages, :mod:`~egov.report.links` checks them.
"""
