"""go-plugin handshake of the launched stand-in: magic cookie, stdout line, AutoMTLS with the
client certificate Terraform passes, and the side services Terraform calls."""

from __future__ import annotations

import base64
import datetime
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generator.offline import PACKAGE_ROOT, server
from generator.offline.proto import tfplugin6_pb2 as pb
from generator.offline.proto import tfplugin6_pb2_grpc as pb_grpc


@dataclass
class ClientCert:
    cert_pem: bytes
    key_pem: bytes


def go_plugin_client_cert(curve: ec.EllipticCurve) -> ClientCert:
    """A certificate shaped like the one go-plugin's client generates (CA, localhost)."""
    key = ec.generate_private_key(curve)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    digest = hashes.SHA512() if isinstance(curve, ec.SECP521R1) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, digest)
    )
    return ClientCert(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@dataclass
class Plugin:
    proc: subprocess.Popen[str]
    fields: list[str]


def launch(extra_env: dict[str, str]) -> Plugin:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGIN_", "TF_PLUGIN"))}
    env.update(extra_env)
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.offline", "plugin", "google"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return Plugin(proc, line.split("|"))


def stop(plugin: Plugin) -> None:
    if plugin.proc.poll() is None:
        plugin.proc.terminate()  # SIGTERM: the plugin stops and removes its private socket dir
        try:
            plugin.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            plugin.proc.kill()
    plugin.proc.communicate(timeout=10)


COOKIE = {server.MAGIC_COOKIE_KEY: server.MAGIC_COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "5,6"}


@pytest.fixture
def p521() -> ClientCert:
    return go_plugin_client_cert(ec.SECP521R1())


@pytest.fixture
def mtls_plugin(p521: ClientCert) -> Iterator[Plugin]:
    plugin = launch({**COOKIE, "PLUGIN_CLIENT_CERT": p521.cert_pem.decode()})
    yield plugin
    stop(plugin)


def test_refuses_to_run_without_the_magic_cookie() -> None:
    plugin = launch({})
    assert plugin.proc.wait(timeout=20) == 1
    assert plugin.fields == [""]
    assert plugin.proc.stderr is not None
    assert "This binary is a plugin" in plugin.proc.stderr.read()
    stop(plugin)


def test_refuses_protocol_5_only() -> None:
    with pytest.raises(server.HandshakeError, match="version"):
        server.check_environment({**COOKIE, "PLUGIN_PROTOCOL_VERSIONS": "5"})


def test_handshake_line_carries_the_server_certificate(mtls_plugin: Plugin) -> None:
    core, app, network, address, protocol, cert_b64 = mtls_plugin.fields
    assert (core, app, network, protocol) == ("1", "6", "tcp", "grpc")
    assert address.startswith("127.0.0.1:")
    assert "=" not in cert_b64  # unpadded, as go-plugin writes and reads it
    der = base64.b64decode(cert_b64 + "=" * (-len(cert_b64) % 4))
    cert = x509.load_der_x509_certificate(der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def _server_pem(plugin: Plugin) -> bytes:
    b64 = plugin.fields[5]
    der = base64.b64decode(b64 + "=" * (-len(b64) % 4))
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _tls_client(plugin: Plugin, tmp_path: Path, cert: ClientCert | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=_server_pem(plugin).decode())
    ctx.set_alpn_protocols(["h2"])
    if cert is not None:
        (tmp_path / "c.pem").write_bytes(cert.cert_pem)
        (tmp_path / "c.key").write_bytes(cert.key_pem)
        ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "c.key")
    return ctx


def test_accepts_go_plugins_p521_client_certificate(
    mtls_plugin: Plugin, p521: ClientCert, tmp_path: Path
) -> None:
    host, port = mtls_plugin.fields[3].split(":")
    ctx = _tls_client(mtls_plugin, tmp_path, p521)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


def test_rejects_a_client_without_the_certificate(mtls_plugin: Plugin, tmp_path: Path) -> None:
    host, port = mtls_plugin.fields[3].split(":")
    ctx = _tls_client(mtls_plugin, tmp_path, None)
    with (
        pytest.raises((ssl.SSLError, ConnectionError, OSError)),
        socket.create_connection((host, int(port)), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        # TLS 1.3 reports a missing client certificate on the first read
        tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        if not tls.recv(1):
            raise ConnectionError("closed")


def test_rejects_another_client_certificate(mtls_plugin: Plugin, tmp_path: Path) -> None:
    host, port = mtls_plugin.fields[3].split(":")
    ctx = _tls_client(mtls_plugin, tmp_path, go_plugin_client_cert(ec.SECP256R1()))
    with (
        pytest.raises((ssl.SSLError, ConnectionError, OSError)),
        socket.create_connection((host, int(port)), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        if not tls.recv(1):
            raise ConnectionError("closed")


def test_grpc_over_mtls_then_controller_shutdown() -> None:
    cert = go_plugin_client_cert(ec.SECP256R1())  # gRPC's own TLS client signs with P-256
    plugin = launch({**COOKIE, "PLUGIN_CLIENT_CERT": cert.cert_pem.decode()})
    try:
        creds = grpc.ssl_channel_credentials(
            root_certificates=_server_pem(plugin),
            private_key=cert.key_pem,
            certificate_chain=cert.cert_pem,
        )
        channel = grpc.secure_channel(
            plugin.fields[3], creds, options=[("grpc.ssl_target_name_override", "localhost")]
        )
        with channel:
            stub = pb_grpc.ProviderStub(channel)
            resp = stub.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=30)
            assert "google_storage_bucket" in resp.resource_schemas
            assert resp.server_capabilities.get_provider_schema_optional
            shutdown = channel.unary_unary("/plugin.GRPCController/Shutdown")
            assert shutdown(b"", timeout=10) == b""
        assert plugin.proc.wait(timeout=20) == 0
    finally:
        stop(plugin)


def test_without_client_certificate_serves_plaintext() -> None:
    plugin = launch(dict(COOKIE))
    try:
        assert len(plugin.fields) == 5
        with grpc.insecure_channel(plugin.fields[3]) as channel:
            health = channel.unary_unary("/grpc.health.v1.Health/Check")
            assert health(b"", timeout=30) == server.HEALTH_SERVING
            meta = pb_grpc.ProviderStub(channel).GetMetadata(pb.GetMetadata.Request(), timeout=30)
            assert "google_service_account" in {r.type_name for r in meta.resources}
    finally:
        stop(plugin)
