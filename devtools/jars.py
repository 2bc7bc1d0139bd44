"""The Kafka broker's jars, fetched once from Maven Central into the git-ignored cache."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from devtools.procs import ServerError

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".cache"
POM = ROOT / "infra" / "kafka" / "pom.xml"


def kafka_version(pom: Path = POM) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.parse(pom).findtext("m:properties/m:kafka.version", namespaces=ns)
    if not version:
        raise ServerError(f"{pom} has no <kafka.version> property")
    return version


def ensure_jars(cache_dir: Path = CACHE_DIR) -> Path:
    """Fetch the broker's jars into `<cache_dir>/kafka-<version>/lib` once; return that dir."""
    home = cache_dir / f"kafka-{kafka_version()}"
    lib, marker = home / "lib", home / "complete.sha256"
    pom_hash = hashlib.sha256(POM.read_bytes()).hexdigest()
    if _is_complete(lib, marker, pom_hash):
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be fetching right now
        if not _is_complete(lib, marker, pom_hash):
            _fetch_into(lib)
            marker.write_text(pom_hash + "\n")
    return lib


def _is_complete(lib: Path, marker: Path, pom_hash: str) -> bool:
    return lib.is_dir() and marker.is_file() and marker.read_text().strip() == pom_hash


def _fetch_into(lib: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix="lib-", dir=lib.parent))
    try:
        _copy_dependencies(staging)
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_dependencies(out: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError(
            "Maven (`mvn`) is not on PATH; install it (Debian: apt-get install maven)"
        )
    cmd = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM), "dependency:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={out}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    jars = list(out.glob("kafka_2.13-*.jar"))
    if done.returncode != 0 or not jars:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise ServerError(
            f"Maven could not fetch the Kafka jars (exit {done.returncode}). Is Maven Central "
            f"reachable (proxy, ~/.m2/settings.xml)?\n$ {' '.join(cmd)}\n{tail}"
        )
