"""The policy pack: `pulumi preview --policy-pack stacks/policy --policy-pack-config stacks/policy/config.<stack>.json`.

Building PolicyPack starts the analyzer server and blocks; the policies themselves live in the
importable package province_policies, which the tests run directly.
"""

from province_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="egov-cloud", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
