from __future__ import annotations

import pytest

from include.simulator.apis import Settings
from include.simulator.server import Simulator


@pytest.fixture(scope="module")
def simulator(world, token):
    """A simulator of its own: the runs here write to its CRM, other tests expect it untouched."""
    simulator = Simulator(world, Settings(token=token, google_page_size=250)).start()
    yield simulator
    simulator.stop()
