"""`python -m simulator`: the Meta simulator on SIMULATOR_HOST:SIMULATOR_PORT (8090)."""

import uvicorn

from simulator.app import create_app
from simulator.settings import SimulatorSettings


def main() -> None:
    settings = SimulatorSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    main()
