"""JSON Schema snapshots of every event contract: `python -m devtools.schemas [--write]`."""

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import hanout_shared.contracts as contracts
from hanout_shared.contracts.envelope import CloudEvent, UnknownEvent

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "shared" / "schemas"


def all_events() -> list[type[CloudEvent]]:
    for module in pkgutil.iter_modules(contracts.__path__):
        importlib.import_module(f"{contracts.__name__}.{module.name}")
    found: dict[str, type[CloudEvent]] = {}
    pending = list(CloudEvent.__subclasses__())
    while pending:
        event = pending.pop()
        pending.extend(event.__subclasses__())
        if event is not UnknownEvent:
            found[snapshot_name(event)] = event
    return [found[name] for name in sorted(found)]


def snapshot_name(event: type[CloudEvent]) -> str:
    version = event.model_fields["dataschemaversion"].default
    return f"{event.event_type()}.v{version}.json"


def render(event: type[CloudEvent]) -> str:
    return json.dumps(event.model_json_schema(), indent=2, sort_keys=True) + "\n"


def stale_snapshots() -> list[str]:
    """Names whose committed snapshot is missing or differs from the contract."""
    stale = []
    for event in all_events():
        path = SNAPSHOT_DIR / snapshot_name(event)
        if not path.exists() or path.read_text() != render(event):
            stale.append(path.name)
    return stale


def write_snapshots() -> list[str]:
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for event in all_events():
        path = SNAPSHOT_DIR / snapshot_name(event)
        if not path.exists() or path.read_text() != render(event):
            path.write_text(render(event))
            written.append(path.name)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite changed snapshots")
    args = parser.parse_args()
    if args.write:
        print("\n".join(write_snapshots()) or "snapshots up to date")
        return 0
    stale = stale_snapshots()
    print("\n".join(f"stale: {name}" for name in stale) or "snapshots up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
