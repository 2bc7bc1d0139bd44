"""`python -m devtools.stack fetch|run|up`: jars and store built, or the stack around a command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType

from devtools.jars import CACHE_DIR, ensure_jars
from devtools.procs import ServerError
from devtools.stack import Stack, running_stack
from devtools.store import ensure_binary

log = logging.getLogger("devtools")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.stack")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "fetch", help="fetch the Kafka jars into .cache/ and build the store, unless already there"
    )
    run = actions.add_parser("run", help="run a command with KAFKA_BOOTSTRAP_SERVERS/MONGODB_URL")
    up = actions.add_parser("up", help="run the broker and store until Ctrl-C")
    for sub in (run, up):
        sub.add_argument("--data-dir", type=Path, help="keep the data here (default: temporary)")
        sub.add_argument("--kafka-port", type=int, help="default: a free port")
        sub.add_argument("--mongo-port", type=int, help="default: a free port")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command")
    return parser


def _stack(args: argparse.Namespace) -> AbstractContextManager[Stack]:
    return running_stack(
        data_dir=args.data_dir,
        kafka_port=args.kafka_port,
        mongo_port=args.mongo_port,
    )


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _ignore_signals() -> None:
    """From here on, only tearing down is left: let nothing interrupt it."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _run(cmd: list[str], args: argparse.Namespace) -> int:
    with _stack(args) as stack:
        try:
            child = subprocess.Popen(cmd, env={**os.environ, **stack.env()})
        except OSError as exc:
            log.error("cannot run %s: %s", cmd[0], exc)
            return 127
        # A terminal's Ctrl-C already reaches the child (same process group): don't double it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda signum, _: child.send_signal(signum))
        code = child.wait()
        _ignore_signals()
    return code if code >= 0 else 128 - code


def _up(args: argparse.Namespace) -> int:
    with _stack(args) as stack:
        for key, value in stack.env().items():
            print(f"export {key}={value}", flush=True)
        log.info("running; Ctrl-C stops everything")
        try:
            while True:
                signal.pause()
        except (KeyboardInterrupt, SystemExit):
            _ignore_signals()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("devtools: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    try:
        if args.action == "fetch":
            print(ensure_jars(CACHE_DIR))
            print(ensure_binary())
            return 0
        if args.action == "up":
            return _up(args)
        cmd: list[str] = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            parser.error("run needs a command: run -- CMD [ARG...]")
        return _run(cmd, args)
    except KeyboardInterrupt:
        return 130
    except ServerError as exc:
        log.error("%s", exc)
        return 1
