"""The local store: secantusd-rs built once into the user cache, its flags, restarts on its data."""

from __future__ import annotations

import asyncio
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from devtools.procs import ServerError
from devtools.store import (
    BINARY,
    CACHE_ENV,
    DEV,
    TEST,
    VERSION,
    SecantusServer,
    StoreSettings,
    binary_home,
    ensure_binary,
    user_cache,
)

Doc = dict[str, Any]

# Stands in for `cargo install`: logs its call, then installs a stub server under `--root`.
FAKE_CARGO = """#!/bin/sh
echo "$CARGO_PROFILE_RELEASE_LTO $*" >> "{calls}"
{failure}
while [ "$1" != "--root" ]; do shift; done
mkdir -p "$2/bin" && printf '#!/bin/sh\\n' > "$2/bin/{binary}" && chmod +x "$2/bin/{binary}"
"""


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_toolchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str = "") -> Path:
    """cargo, cmake and gcc stubs first on PATH; the file listing cargo's calls."""
    tools, calls = tmp_path / "tools", tmp_path / "cargo-calls"
    tools.mkdir()
    script = FAKE_CARGO.format(calls=calls, failure=failure, binary=BINARY)
    executable(tools / "cargo", script)
    for tool in ("cmake", "gcc"):
        executable(tools / tool, "#!/bin/sh\n")
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    return calls


def test_the_cache_is_the_users_and_an_env_var_moves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert user_cache() == Path.home() / ".cache" / "hanout"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg" / "hanout"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert binary_home() == tmp_path / "mine" / BINARY / VERSION


def test_the_binary_is_built_once_with_the_light_profile_while_others_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_toolchain(tmp_path, monkeypatch)
    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(lambda _: ensure_binary(tmp_path / "cache"), range(3)))
    assert built == [tmp_path / "cache" / BINARY / VERSION / "bin" / BINARY] * 3
    [call] = calls.read_text().splitlines()
    assert call.startswith(f"false install secantus-mdb --version {VERSION} --locked ")
    assert ensure_binary(tmp_path / "cache") == built[0]
    assert len(calls.read_text().splitlines()) == 1
    assert [path.name for path in built[0].parents[1].iterdir() if path.is_dir()] == ["bin"]


def test_a_failed_build_fails_loudly_with_the_log_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_toolchain(tmp_path, monkeypatch, failure='echo "error: linking with cc failed"; exit 101')
    with pytest.raises(ServerError, match=r"(?s)failed \(exit 101\).*linking with cc failed"):
        ensure_binary(tmp_path / "cache")
    assert not (binary_home(tmp_path / "cache") / "bin" / BINARY).exists()


def test_building_without_the_tools_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="cargo, cmake, gcc not on PATH"):
        ensure_binary(tmp_path / "cache")


@pytest.mark.parametrize(
    ("settings", "tail"),
    [
        (DEV, ["1G", "--log-level", "WARNING", "--sync-on-commit"]),
        (TEST, ["512M", "--log-level", "WARNING"]),
    ],
    ids=["dev", "test"],
)
def test_the_settings_become_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: StoreSettings, tail: list[str]
) -> None:
    fake_toolchain(tmp_path, monkeypatch)
    server = SecantusServer(tmp_path / "store", port=27999, settings=settings, cache=tmp_path)
    command = server.command()
    assert command[0] == str(ensure_binary(tmp_path))
    assert command[command.index("--cache-size") + 1 :] == tail
    assert (tmp_path / "store" / "secantusd.toml").read_text() == ""


async def insert_each(url: str, count: int) -> None:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(url)
    try:
        for n in range(count):
            await client["store_test"]["kept"].insert_one({"_id": n})
    finally:
        await client.close()


async def count_kept(url: str) -> int:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(url)
    try:
        return await client["store_test"]["kept"].count_documents({})
    finally:
        await client.close()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("settings", "grace"), [(TEST, 10.0), (DEV, 0.0)], ids=["sigterm", "sigkill-synced"]
)
async def test_a_restart_on_the_same_data_dir_keeps_every_acknowledged_write(
    tmp_path: Path, settings: StoreSettings, grace: float
) -> None:
    server = SecantusServer(tmp_path / "store", settings=settings)
    await asyncio.to_thread(server.start)
    try:
        await insert_each(server.url, 300)
        await asyncio.to_thread(server.stop, grace)
        await asyncio.to_thread(server.start)
        assert await count_kept(server.url) == 300
    finally:
        server.close()
    assert (tmp_path / "store").is_dir(), "a data dir given by the caller is never removed"


@pytest.mark.integration
async def test_the_store_is_a_single_node_replica_set() -> None:
    with SecantusServer() as server:
        client: AsyncMongoClient[Doc] = AsyncMongoClient(server.url)
        try:
            hello = await client.admin.command("hello")
        finally:
            await client.close()
    assert hello["isWritablePrimary"] and hello.get("setName")
