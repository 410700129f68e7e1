"""The provincial cloud seen from the controller: mocked plans, policy runs and the Ansible hand-off.

No Pulumi engine or OpenStack API is needed: the program in ``stacks/`` runs against Pulumi's
unit-test mocks (``egov.cloud.mocked_run``).
"""
