"""The e2e stack (simulator and four services as processes) with the processes kept in hand, so a
fault test can kill and restart them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.services import ServiceProcess
from tests.e2e.stack import Stack, running_processes


@dataclass(frozen=True)
class Faulty:
    """The running stack, and each service's process to kill and restart."""

    stack: Stack
    services: dict[str, ServiceProcess]

    def heal(self) -> None:
        """Restart whatever a failed test left dead, so the next test starts whole."""
        for service in self.services.values():
            if not service.running:
                service.restart()


@contextmanager
def running_faulty(kafka: str, mongo: str, log_dir: Path) -> Iterator[Faulty]:
    """As `tests.e2e.stack.running_services`, keeping the service processes."""
    with running_processes(kafka, mongo, log_dir) as (stack, services):
        yield Faulty(stack, services)
