"""What the benchmark scripts share: a sandbox in its own process, figures printed and saved."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SANDBOX_KEY = "sandbox-bench-key"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[str, str]:
    """Write a self-signed certificate for 127.0.0.1 into ``folder``; return (certfile, keyfile)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "sandbox-cert.pem", folder / "sandbox-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(certfile), str(keyfile)


@functools.cache
def trusted_certificate() -> tuple[str, str]:
    """
    Make one self-signed certificate for this process and trust it; return (certfile, keyfile).

    Trust goes through ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``, which clients read when they build
    their default SSL context (aiohttp does so once, at import): call this before anything imports them.
    """
    folder = Path(tempfile.mkdtemp(prefix="vimmerse-bench-tls-"))
    certfile, keyfile = self_signed_certificate(folder)
    os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = certfile
    return certfile, keyfile


@contextlib.contextmanager
def sandbox_process(job_seconds: float, *, https: bool = False, credits: int = 10_000_000) -> Iterator[str]:
    """
    Run the sandbox API in its own process (so it does not share the measured event loop); yield its URL.

    With ``https`` it serves TLS with the certificate of :func:`trusted_certificate`.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "airflow_provider_vimmerse.sandbox", "--port", str(port), "--api-key", SANDBOX_KEY,
        "--job-seconds", str(job_seconds), "--credits", str(credits),
    ]  # fmt: skip
    if https:
        certfile, keyfile = trusted_certificate()
        command += ["--ssl-certfile", certfile, "--ssl-keyfile", keyfile]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"{'https' if https else 'http'}://127.0.0.1:{port}"
    try:
        _wait_for_health(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_health(url: str) -> None:
    import ssl

    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE")) if url.startswith("https") else None
    for _ in range(200):
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/health", timeout=1, context=context).read()
            return
        time.sleep(0.05)
    raise RuntimeError(f"the sandbox did not start on {url}")


def use_sandbox_connection(url: str) -> None:
    """Point ``vimmerse_default`` (and ``http_bench``, for the http provider) at the sandbox."""
    os.environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"] = json.dumps(
        {"conn_type": "vimmerse", "host": url, "password": SANDBOX_KEY, "extra": {"timeout": 30, "retries": 3}}
    )
    scheme, _, rest = url.partition("://")
    host, _, port = rest.partition(":")
    os.environ["AIRFLOW_CONN_HTTP_BENCH"] = json.dumps(
        {"conn_type": "http", "host": host, "port": int(port), "schema": scheme}
    )


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Send this process's stdout and stderr (the triggers' progress lines) to /dev/null meanwhile.

    The log lines are still formatted and written, as on a triggerer; only the terminal is spared.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def rss_bytes() -> int:
    """Return this process's resident memory in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(name: str, figures: dict[str, object], save: bool) -> None:
    """Print the figures and, when ``save`` is set, write them to ``docs/benchmarks/<name>.json``."""
    print(f"== {name}")
    _print_figures(figures, indent="  ")
    if save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")


def _print_figures(figures: dict[str, object], indent: str) -> None:
    for key, value in figures.items():
        if isinstance(value, dict) and key != "events":
            print(f"{indent}{key}:")
            _print_figures(value, indent + "  ")
            continue
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{indent}{key:<40} {shown}")
