from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis's deadline and too-slow health check are timing claims: on a loaded
# 2-core CI machine a correct example can take seconds. Timing belongs in
# benchmarks/, so the property tests check properties only.
settings.register_profile("hyperdeme", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hyperdeme")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than a few seconds (deselect: -m 'not slow')"
    )
