"""gRPC serving of the stand-in providers: go-plugin's handshake and side services.

Two ways Terraform reaches a stand-in:

* **launched** (`python -m generator.offline plugin NAME`, run by the launcher in the
  filesystem mirror): go-plugin handshake. Terraform sets `TF_PLUGIN_MAGIC_COOKIE`,
  `PLUGIN_PROTOCOL_VERSIONS` and, with AutoMTLS, `PLUGIN_CLIENT_CERT` (PEM). The plugin listens
  on 127.0.0.1, trusts only that client certificate, and prints one line on stdout:
  `1|6|tcp|127.0.0.1:PORT|grpc|<server cert, DER, base64 without padding>`.
* **reattached** (`python -m generator.offline serve`): one long-lived process serves every
  provider on its own unix socket, and `TF_REATTACH_PROVIDERS` points Terraform at them, so
  a series of terraform commands starts no plugin process at all.

Besides `tfplugin6.Provider`, go-plugin clients talk to `plugin.GRPCController` (Shutdown),
`plugin.GRPCStdio` (StreamStdio) and `plugin.GRPCBroker` (StartStream); the first two are served
here with generic handlers (their messages are `google.protobuf.Empty` and a stream we never
write to), the broker is left unimplemented (Terraform's providers never use it; go-plugin only
logs the refusal), and `grpc.health.v1.Health/Check` answers SERVING.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generator.offline import schema
from generator.offline.proto import tfplugin6_pb2_grpc as pb_grpc
from generator.offline.provider import StandInProvider, log

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 6
HEALTH_SERVING = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}
# gRPC's polling threads and the handlers share the GIL; Python's default 5 ms switch interval
# adds up to 5 ms to every call Terraform makes (hundreds per plan), a short one keeps calls fast
SWITCH_INTERVAL_S = 0.0002


class HandshakeError(RuntimeError):
    """The plugin was not started the way go-plugin starts plugins."""


@dataclass(frozen=True)
class ServerCert:
    key_pem: bytes
    cert_pem: bytes
    cert_der: bytes


def make_server_cert(now: datetime.datetime | None = None) -> ServerCert:
    """A fresh self-signed certificate for `localhost` (what go-plugin's client verifies)."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mlopsgen offline"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return ServerCert(
        key_pem=key_pem,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        cert_der=cert.public_bytes(serialization.Encoding.DER),
    )


def handshake_line(address: str, cert_der: bytes | None, network: str = "tcp") -> str:
    """go-plugin's stdout handshake: CORE|APP|NETWORK|ADDR|PROTOCOL[|CERT]."""
    fields = [str(CORE_PROTOCOL_VERSION), str(APP_PROTOCOL_VERSION), network, address, "grpc"]
    if cert_der is not None:
        fields.append(base64.b64encode(cert_der).decode().rstrip("="))
    return "|".join(fields)


def check_environment(env: dict[str, str]) -> str | None:
    """Validate go-plugin's launch environment; returns the client cert PEM (None: no mTLS)."""
    if env.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        raise HandshakeError(
            "This binary is a plugin. These are not meant to be executed directly.\n"
            "Terraform starts it (through the mirror mlopsgen's offline mode sets up); "
            "run `mlopsgen validate` instead."
        )
    versions = [v.strip() for v in env.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v.strip()]
    if versions and str(APP_PROTOCOL_VERSION) not in versions:
        raise HandshakeError(
            f"Terraform offers plugin protocol versions {','.join(versions)}; the offline "
            f"stand-in speaks only version {APP_PROTOCOL_VERSION} (Terraform >= 1.0 needed)."
        )
    cert = env.get("PLUGIN_CLIENT_CERT")
    return cert or None


def _raw(fn: Callable[[bytes, Any], bytes]) -> grpc.RpcMethodHandler[bytes, bytes]:
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=None, response_serializer=None
    )


def side_services(shutdown: Callable[[], None] | None) -> list[grpc.GenericRpcHandler]:
    def controller_shutdown(request: bytes, context: Any) -> bytes:
        if shutdown is not None:
            threading.Timer(0.05, shutdown).start()  # answer first, then stop
        return b""

    def stdio(request: bytes, context: Any) -> Iterator[bytes]:
        return iter(())

    def health(request: bytes, context: Any) -> bytes:
        return HEALTH_SERVING

    return [
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController", {"Shutdown": _raw(controller_shutdown)}
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCStdio",
            {
                "StreamStdio": grpc.unary_stream_rpc_method_handler(
                    stdio, request_deserializer=None, response_serializer=None
                )
            },
        ),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": _raw(health)}),
    ]


def new_server(name: str, shutdown: Callable[[], None] | None) -> grpc.Server:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix=f"tf-{name}"),
        options=[
            ("grpc.max_receive_message_length", 256 << 20),
            ("grpc.max_send_message_length", 256 << 20),
            ("grpc.so_reuseport", 0),
        ],
    )
    pb_grpc.add_ProviderServicer_to_server(StandInProvider(name), server)
    server.add_generic_rpc_handlers(side_services(shutdown))
    return server


def _watch_parent(stop: threading.Event) -> None:
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # Terraform died without stopping us
            stop.set()


def run_plugin(name: str, env: dict[str, str] | None = None, out: Any = None) -> int:
    """Run one provider the way Terraform launches plugins; returns the exit status."""
    env = dict(os.environ if env is None else env)
    out = out or sys.stdout
    try:
        client_cert = check_environment(env)
    except HandshakeError as exc:
        print(exc, file=sys.stderr)
        return 1
    schema.provider_schema(name)  # fail before the handshake when the snapshot lacks it
    stop = threading.Event()
    server = new_server(name, stop.set)
    proxy: TLSProxy | None = None
    if client_cert:
        # gRPC's own TLS (BoringSSL) does not offer the ECDSA P-521 signature scheme go-plugin's
        # client certificate needs, so Go would send no certificate. Python's OpenSSL does:
        # TLS ends in a small proxy that requires the client certificate, and the gRPC server
        # listens on a private unix socket behind it.
        private = Path(tempfile.mkdtemp(prefix="mlg-plugin-"))
        backend = private / "grpc.sock"
        if not server.add_insecure_port(f"unix:{backend}"):
            print(f"could not listen on {backend}", file=sys.stderr)
            return 1
        cert = make_server_cert()
        proxy = TLSProxy(backend, cert, client_cert, private)
        address = f"127.0.0.1:{proxy.port}"
        cert_der: bytes | None = cert.cert_der
    else:
        port = server.add_insecure_port("127.0.0.1:0")
        if not port:
            print("could not listen on 127.0.0.1", file=sys.stderr)
            return 1
        address = f"127.0.0.1:{port}"
        cert_der = None
    server.start()
    if proxy is not None:
        proxy.start()
    out.write(handshake_line(address, cert_der) + "\n")
    out.flush()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    stop.wait()
    if proxy is not None:
        proxy.close()
    server.stop(grace=0.2)
    return 0


class TLSProxy:
    """Mutual TLS on 127.0.0.1 in front of a plaintext gRPC unix socket (asyncio, own thread)."""

    def __init__(self, backend: Path, cert: ServerCert, client_cert_pem: str, private: Path):
        self.backend = backend
        self.private = private
        cert_file, key_file = private / "server.pem", private / "server.key"
        key_file.touch(mode=0o600)
        key_file.write_bytes(cert.key_pem)
        cert_file.write_bytes(cert.cert_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert_file, key_file)
        key_file.unlink()  # loaded: the private key stays in memory only
        cert_file.unlink()
        ctx.load_verify_locations(cadata=client_cert_pem)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.set_alpn_protocols(["h2"])
        self.ctx = ctx
        self.loop = asyncio.new_event_loop()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True, name="tls-proxy")

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, sock=self.sock, ssl=self.ctx)
        )
        try:
            self.loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            b_reader, b_writer = await asyncio.open_unix_connection(str(self.backend))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, b_writer), _pipe(b_reader, writer))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=2)
        shutil.rmtree(self.private, ignore_errors=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError, ssl.SSLError):
            writer.close()


# ---------------------------------------------------------------------------------------------
# reattach mode


def reattach_config(sockets: dict[str, Path], pid: int) -> dict[str, Any]:
    """The TF_REATTACH_PROVIDERS value for providers served on unix sockets."""
    return {
        schema.ADDRESSES[name]: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": True,
            "Addr": {"Network": "unix", "String": str(path)},
        }
        for name, path in sockets.items()
    }


def serve_reattach(names: Sequence[str], socket_dir: Path | None = None, out: Any = None) -> int:
    """Serve the named providers until SIGTERM/SIGINT/stdin EOF; prints the reattach JSON."""
    out = out or sys.stdout
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    own_dir = socket_dir is None
    socket_dir = socket_dir or Path(tempfile.mkdtemp(prefix="mlg-tf-"))
    stop = threading.Event()
    servers = []
    sockets: dict[str, Path] = {}
    for name in names:
        server = new_server(name, None)  # Terraform must not stop a shared server
        path = socket_dir / f"{name}.sock"
        if not server.add_insecure_port(f"unix:{path}"):
            print(f"could not listen on {path}", file=sys.stderr)
            return 1
        server.start()
        servers.append(server)
        sockets[name] = path
    out.write(json.dumps(reattach_config(sockets, os.getpid())) + "\n")
    out.flush()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def stdin_eof() -> None:  # the parent closing our stdin means: stop
        with contextlib.suppress(OSError, ValueError):
            sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=stdin_eof, daemon=True).start()
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    stop.wait()
    for server in servers:
        server.stop(grace=0.2)
    for path in sockets.values():
        path.unlink(missing_ok=True)
    if own_dir:
        shutil.rmtree(socket_dir, ignore_errors=True)
    log("reattach server stopped")
    return 0
