"""Fixtures: the province and its stacks built once per session under Pulumi's mocks."""

from __future__ import annotations

from typing import Any

import pytest

from egov.cloud.mocked_run import MockedStack, run_mocked
from egov.cloud.paths import make_stacks_importable
from egov.cloud.stack_config import read_policy_config
from egov.model import Province, load_province

make_stacks_importable()


@pytest.fixture(scope="session")
def province() -> Province:
    return load_province()


@pytest.fixture(scope="session")
def prod(province: Province) -> MockedStack:
    return run_mocked(province, "prod")


@pytest.fixture(scope="session")
def staging(province: Province) -> MockedStack:
    return run_mocked(province, "staging")


@pytest.fixture(scope="session")
def prod_policy_config() -> dict[str, dict[str, Any]]:
    return read_policy_config("prod")


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_openstack warns about its own deprecated aliases when the package is imported.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_openstack.*")
