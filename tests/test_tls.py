"""TLS: the trust store, ``ca_bundle`` for a private CA and ``verify_ssl: false``, end to end.

A private CA and a server certificate for 127.0.0.1 are made here, and a TLS-terminating forwarder on
127.0.0.1 puts HTTPS in front of the (plain HTTP) emulator, as a VPC endpoint or TLS-inspecting proxy with
a private CA would.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sagemaker_pipeline_resource.aws.session import AWS, in_memory_file, trust_store
from sagemaker_pipeline_resource.config.params import SourceConfig

NOW = dt.datetime.now(dt.timezone.utc)
ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model"


def _certificate(subject: str, key, issuer_key, issuer_name, ca: bool) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test Private CA", ca_key, ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate("127.0.0.1", server_key, ca_key, ca.subject, ca=False)
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return {
        "ca_pem": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "cert": str(directory / "server.pem"),
        "key": str(directory / "server.key"),
    }


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def https_url(emulator, pki) -> Iterator[str]:
    """HTTPS on 127.0.0.1 (certificate from the private CA), forwarded to the emulator."""
    upstream = urlparse(emulator.url)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["cert"], pki["key"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                secured = context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):  # a client that does not trust us hangs up: expected
                client.close()
                continue
            backend = socket.create_connection((upstream.hostname, upstream.port))
            threading.Thread(target=_pipe, args=(secured, backend), daemon=True).start()
            threading.Thread(target=_pipe, args=(backend, secured), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    listener.close()


def test_trust_store_prefers_the_workers_certificates(tmp_path: Path) -> None:
    assert trust_store(tmp_path).endswith("cacert.pem")  # none mounted: botocore's bundle
    (tmp_path / "ca-bundle.crt").write_text("x", encoding="utf-8")
    assert trust_store(tmp_path) == str(tmp_path / "ca-bundle.crt")


def test_ca_bundle_is_added_to_the_trust_store_not_put_in_its_place(pki) -> None:
    aws = AWS(SourceConfig.from_json({"pipeline": ARN, "ca_bundle": pki["ca_pem"]}))
    combined = Path(str(aws.verify)).read_text(encoding="utf-8")
    assert pki["ca_pem"].strip() in combined
    assert combined.count("BEGIN CERTIFICATE") > 10  # the public CAs are still there
    assert AWS(SourceConfig.from_json({"pipeline": ARN, "verify_ssl": False})).verify is False


def test_private_ca_end_to_end(run, emulator, pipeline, source, https_url, pki) -> None:
    [arn] = emulator.seed_executions(pipeline, 1, start=NOW - dt.timedelta(hours=1))
    over_tls = {**source, "endpoint_url": https_url, "max_attempts": 1}

    untrusted = run("check", {"source": over_tls})
    assert untrusted.returncode == 1
    assert "TLS failed" in untrusted.stderr and "ca_bundle" in untrusted.stderr

    trusted = run("check", {"source": {**over_tls, "ca_bundle": pki["ca_pem"]}})
    assert [version["execution_arn"] for version in trusted.json] == [arn]

    unverified = run("check", {"source": {**over_tls, "verify_ssl": False}})
    assert [version["execution_arn"] for version in unverified.json] == [arn]
    assert "verify_ssl is false" in unverified.stderr


def test_the_combined_bundle_is_in_memory_with_a_temporary_file_as_fallback(monkeypatch):
    """On Linux nothing is written (a read-only root works, see the image test); elsewhere a temporary file."""
    path, release = in_memory_file("-----BEGIN CERTIFICATE-----\n", ".pem")
    assert path.startswith("/proc/self/fd/") and Path(path).read_text() == "-----BEGIN CERTIFICATE-----\n"
    release()
    monkeypatch.delattr(os, "memfd_create")
    path, release = in_memory_file("-----BEGIN CERTIFICATE-----\n", ".pem")
    assert Path(path).is_file() and Path(path).read_text() == "-----BEGIN CERTIFICATE-----\n"
    release()
    assert not Path(path).exists()
