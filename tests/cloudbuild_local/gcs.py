"""A stand-in for the Cloud Storage JSON API (and the XML API's object reads), good enough for
`google-cloud-storage` and for Terraform's `gcs` backend (Go's storage client).

Reach it with
- Python: `storage.Client(client_options={"api_endpoint": URL})` with the step's ADC credentials
  (the metadata server gives the build's token), or STORAGE_EMULATOR_HOST=host:port, which makes
  the client anonymous unless it is given credentials;
- Terraform's gcs backend: GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT=URL/storage/v1/ (its
  credentials come from the metadata server too). Do not set STORAGE_EMULATOR_HOST for Go
  clients: Go's storage client then sends no credentials at all.

Modeled: buckets (made by the test, with a default KMS key), objects with generations and
metagenerations, media/multipart/resumable uploads, downloads (with x-goog-hash, Range), list
with prefix/delimiter/offsets/pages, metadata patch, delete, the generation/metageneration
preconditions (412), and IAM: `grant(principal, role, bucket, prefix)` with the predefined
object roles. As in Cloud Storage, overwriting an object needs storage.objects.delete as well
as create, and a grant limited to a name prefix (an IAM condition on the object name) grants no
storage.objects.list, unless its condition admits listing under a prefix (`list_prefix`). A
request without credentials is `allUsers`; one with an unknown token gets 401. Not modeled:
copy/rewrite/compose, ACLs, versioning, retention, XML writes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.cloudbuild_local.httpfake import FakeServer, Handler, Request, Response
from tests.cloudbuild_local.identity import Accounts

GET, LIST, CREATE, DELETE, UPDATE = (
    "storage.objects.get", "storage.objects.list", "storage.objects.create",
    "storage.objects.delete", "storage.objects.update",
)
BUCKET_GET = "storage.buckets.get"
ROLES: Mapping[str, frozenset[str]] = {
    "roles/storage.objectViewer": frozenset({GET, LIST}),
    "roles/storage.objectCreator": frozenset({CREATE}),
    "roles/storage.objectUser": frozenset({GET, LIST, CREATE, DELETE, UPDATE}),
    "roles/storage.objectAdmin": frozenset({GET, LIST, CREATE, DELETE, UPDATE}),
    "roles/storage.legacyBucketReader": frozenset({BUCKET_GET, LIST}),
    "roles/storage.admin": frozenset({GET, LIST, CREATE, DELETE, UPDATE, BUCKET_GET}),
}
ANONYMOUS = "allUsers"
_OBJECT_PERMISSIONS = frozenset({GET, CREATE, DELETE, UPDATE})


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as Cloud Storage reports it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class StoredObject:
    name: str
    data: bytes
    generation: int
    metageneration: int = 1
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    kms_key_name: str | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    writer: str = ""  # the principal that wrote this generation


@dataclass
class Bucket:
    name: str
    default_kms_key_name: str | None = None
    objects: dict[str, StoredObject] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    principal: str
    role: str
    bucket: str
    prefix: str = ""  # "" for the whole bucket; else an IAM condition on the object name
    # a condition that also admits listing under this prefix (the objectListPrefix attribute)
    list_prefix: str | None = None

    def allows(self, principal: str, permission: str, bucket: str, name: str | None,
               listed: str | None = None) -> bool:
        if self.principal not in (principal, ANONYMOUS) or self.bucket != bucket:
            return False
        if permission not in ROLES[self.role]:
            return False
        if not self.prefix:
            return True
        if permission == LIST and self.list_prefix is not None:
            return listed is not None and listed.startswith(self.list_prefix)
        return permission in _OBJECT_PERMISSIONS and name is not None \
            and name.startswith(self.prefix)


@dataclass(frozen=True)
class Decision:
    principal: str
    permission: str
    bucket: str
    name: str | None
    allowed: bool


@dataclass
class _Upload:
    bucket: str
    name: str
    meta: dict[str, Any]
    query: dict[str, str]
    principal: str
    data: bytearray = field(default_factory=bytearray)


class GcsError(Exception):
    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason

    def response(self) -> Response:
        return Response.of_json(self.status, {"error": {
            "code": self.status, "message": self.message,
            "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}})


def _not_found(bucket: str, name: str | None = None) -> GcsError:
    what = f"No such object: {bucket}/{name}" if name else "The specified bucket does not exist."
    return GcsError(404, what, "notFound")


_B = r"/storage/v1/b/(?P<bucket>[^/]+)"
_O = _B + r"/o/(?P<object>[^/]+)"


class FakeGcs(FakeServer):
    def __init__(self, accounts: Accounts) -> None:
        super().__init__()
        self.accounts = accounts
        self.buckets: dict[str, Bucket] = {}
        self.grants: list[Grant] = []
        self.decisions: list[Decision] = []
        self._uploads: dict[str, _Upload] = {}
        self._generations = itertools.count(int(time.time() * 1_000_000))
        self._ids = itertools.count(1)
        routes = [
            ("GET", _B, self._get_bucket),
            ("GET", _B + r"/o", self._list),
            ("GET", _O, self._get_object),
            ("PATCH", _O, self._patch_object),
            ("PUT", _O, self._patch_object),
            ("DELETE", _O, self._delete_object),
            ("POST", r"/upload" + _B + r"/o", self._upload),
            ("PUT", r"/upload" + _B + r"/o", self._resume),
            ("POST", r"/upload" + _B + r"/o/(?P<object>[^/]+)", self._resume),
            ("GET", r"/download" + _O, self._download),
            ("GET", r"/(?P<bucket>[^/]+)/(?P<object>.+)", self._xml_read),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, self._errors(handler))

    # -- test-side API ------------------------------------------------------------------------

    def create_bucket(self, name: str, *, kms_key_name: str | None = None) -> Bucket:
        with self.lock:
            bucket = Bucket(name, kms_key_name)
            self.buckets[name] = bucket
            return bucket

    def grant(self, principal: str, role: str, bucket: str, prefix: str = "",
              list_prefix: str | None = None) -> None:
        """IAM: `role` (roles/storage.*) on `bucket`, or only on names under `prefix`; with
        `list_prefix`, its condition also admits list requests under that prefix
        (`api.getAttribute("storage.googleapis.com/objectListPrefix", "")`)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; modeled: {', '.join(sorted(ROLES))}")
        with self.lock:
            self.grants.append(Grant(principal, role, bucket, prefix, list_prefix))

    def put(self, bucket: str, name: str, data: bytes, *, content_type: str = "text/plain",
            metadata: Mapping[str, str] | None = None) -> StoredObject:
        """Store an object as the test (no permission check)."""
        with self.lock:
            return self._store(bucket, name, data, {"contentType": content_type,
                                                    "metadata": dict(metadata or {})}, {}, "test")

    def get(self, bucket: str, name: str) -> StoredObject | None:
        with self.lock:
            return self.buckets[bucket].objects.get(name)

    def names(self, bucket: str, prefix: str = "") -> list[str]:
        with self.lock:
            return sorted(n for n in self.buckets[bucket].objects if n.startswith(prefix))

    def denied(self) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed]

    # -- plumbing -----------------------------------------------------------------------------

    def _errors(self, handler: Callable[[Request, re.Match[str]], Response]) -> Handler:
        def wrapped(request: Request, match: re.Match[str]) -> Response:
            try:
                return handler(request, match)
            except GcsError as err:
                return err.response()

        return wrapped

    def _caller(self, request: Request) -> str:
        token = request.bearer()
        if token is None:
            return ANONYMOUS
        principal = self.accounts.principal(token)
        if principal is None:
            raise GcsError(401, "Invalid Credentials", "authError")
        return principal

    def _check(self, principal: str, permission: str, bucket: str, name: str | None,
               listed: str | None = None) -> None:
        allowed = any(g.allows(principal, permission, bucket, name, listed) for g in self.grants)
        self.decisions.append(Decision(principal, permission, bucket, name, allowed))
        if allowed:
            return
        kind = "object" if name is not None else "bucket"
        if principal == ANONYMOUS:
            raise GcsError(401, f"Anonymous caller does not have {permission} access to the "
                                f"Google Cloud Storage {kind}.", "required")
        raise GcsError(403, f"{principal} does not have {permission} access to the Google Cloud "
                            f"Storage {kind}. Permission '{permission}' denied on resource (or "
                            "it may not exist).", "forbidden")

    def _bucket(self, name: str) -> Bucket:
        if name not in self.buckets:
            raise _not_found(name)
        return self.buckets[name]

    def _object(self, bucket: str, name: str, request: Request) -> StoredObject:
        obj = self._bucket(bucket).objects.get(name)
        if obj is None:
            raise _not_found(bucket, name)
        generation = request.q("generation")
        if generation and int(generation) != obj.generation:
            raise _not_found(bucket, name)
        self._preconditions(obj, request.query)
        return obj

    @staticmethod
    def _preconditions(obj: StoredObject | None, query: Mapping[str, list[str]]) -> None:
        def q(key: str) -> str | None:
            return query[key][0] if query.get(key) else None

        generation = obj.generation if obj else 0
        checks: list[tuple[str, Callable[[str], bool]]] = [
            ("ifGenerationMatch", lambda v: int(v) == generation),
            ("ifGenerationNotMatch", lambda v: int(v) != generation),
            ("ifMetagenerationMatch", lambda v: obj is not None and int(v) == obj.metageneration),
            ("ifMetagenerationNotMatch",
             lambda v: obj is None or int(v) != obj.metageneration),
        ]
        for key, ok in checks:
            value = q(key)
            if value is not None and not ok(value):
                raise GcsError(412, "At least one of the pre-conditions you specified did not "
                                    "hold.", "conditionNotMet")

    def resource(self, bucket: str, obj: StoredObject) -> dict[str, Any]:
        quoted = urllib.parse.quote(obj.name, safe="")
        out: dict[str, Any] = {
            "kind": "storage#object",
            "id": f"{bucket}/{obj.name}/{obj.generation}",
            "selfLink": f"{self.url}/storage/v1/b/{bucket}/o/{quoted}",
            "mediaLink": f"{self.url}/download/storage/v1/b/{bucket}/o/{quoted}"
                         f"?generation={obj.generation}&alt=media",
            "name": obj.name, "bucket": bucket,
            "generation": str(obj.generation), "metageneration": str(obj.metageneration),
            "contentType": obj.content_type, "storageClass": "STANDARD",
            "size": str(len(obj.data)),
            "md5Hash": _b64(hashlib.md5(obj.data).digest()),
            "crc32c": _b64(crc32c(obj.data).to_bytes(4, "big")),
            "etag": _b64(f"{obj.generation}:{obj.metageneration}".encode()),
            "timeCreated": _rfc3339(obj.created), "updated": _rfc3339(obj.updated),
            "timeStorageClassUpdated": _rfc3339(obj.created),
        }
        if obj.metadata:
            out["metadata"] = dict(obj.metadata)
        if obj.kms_key_name:
            out["kmsKeyName"] = obj.kms_key_name
        return out

    # -- buckets, listing ---------------------------------------------------------------------

    def _get_bucket(self, request: Request, m: re.Match[str]) -> Response:
        name = m["bucket"]
        self._check(self._caller(request), BUCKET_GET, name, None)
        bucket = self._bucket(name)
        out: dict[str, Any] = {"kind": "storage#bucket", "id": name, "name": name,
                               "location": "US", "storageClass": "STANDARD"}
        if bucket.default_kms_key_name:
            out["encryption"] = {"defaultKmsKeyName": bucket.default_kms_key_name}
        return Response.of_json(200, out)

    def _list(self, request: Request, m: re.Match[str]) -> Response:
        name = m["bucket"]
        prefix, delimiter = request.q("prefix"), request.q("delimiter")
        self._check(self._caller(request), LIST, name, None, prefix)
        bucket = self._bucket(name)
        start, end = request.q("startOffset"), request.q("endOffset")
        after = request.q("pageToken")
        limit = int(request.q("maxResults", "1000") or 1000)
        items, prefixes = [], []
        for key in sorted(bucket.objects):
            if not key.startswith(prefix) or key < start or (end and key >= end) or key <= after:
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
                if common not in prefixes:
                    prefixes.append(common)
                continue
            items.append(key)
        out: dict[str, Any] = {"kind": "storage#objects"}
        if len(items) > limit:
            out["nextPageToken"] = items[limit - 1]
            items = items[:limit]
        if items:
            out["items"] = [self.resource(name, bucket.objects[k]) for k in items]
        if prefixes:
            out["prefixes"] = prefixes
        return Response.of_json(200, out)

    # -- objects ------------------------------------------------------------------------------

    def _get_object(self, request: Request, m: re.Match[str]) -> Response:
        if request.q("alt") == "media":
            return self._download(request, m)
        bucket, name = m["bucket"], urllib.parse.unquote(m["object"])
        self._check(self._caller(request), GET, bucket, name)
        return Response.of_json(200, self.resource(bucket, self._object(bucket, name, request)))

    def _media(self, bucket: str, obj: StoredObject, request: Request) -> Response:
        data, status = obj.data, 200
        headers = {"Content-Type": obj.content_type,
                   "x-goog-generation": str(obj.generation),
                   "x-goog-metageneration": str(obj.metageneration),
                   "x-goog-stored-content-length": str(len(obj.data)),
                   "x-goog-stored-content-encoding": "identity",
                   "x-goog-hash": f"crc32c={_b64(crc32c(obj.data).to_bytes(4, 'big'))},"
                                  f"md5={_b64(hashlib.md5(obj.data).digest())}",
                   "ETag": f'"{hashlib.md5(obj.data).hexdigest()}"',
                   "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                  time.gmtime(obj.updated))}
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.header("range"))
        if match and (match[1] or match[2]):
            first = int(match[1]) if match[1] else max(len(data) - int(match[2]), 0)
            last = int(match[2]) if match[1] and match[2] else len(data) - 1
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first: last + 1], 206
        return Response(status, data, headers)

    def _download(self, request: Request, m: re.Match[str]) -> Response:
        bucket, name = m["bucket"], urllib.parse.unquote(m["object"])
        self._check(self._caller(request), GET, bucket, name)
        return self._media(bucket, self._object(bucket, name, request), request)

    def _xml_read(self, request: Request, m: re.Match[str]) -> Response:
        bucket, name = m["bucket"], urllib.parse.unquote(m["object"])
        self._check(self._caller(request), GET, bucket, name)
        return self._media(bucket, self._object(bucket, name, request), request)

    def _patch_object(self, request: Request, m: re.Match[str]) -> Response:
        bucket, name = m["bucket"], urllib.parse.unquote(m["object"])
        self._check(self._caller(request), UPDATE, bucket, name)
        obj = self._object(bucket, name, request)
        body = request.json()
        if "metadata" in body:
            merged = {**obj.metadata, **(body["metadata"] or {})}
            obj.metadata = {k: v for k, v in merged.items() if v is not None}
        if "contentType" in body:
            obj.content_type = body["contentType"]
        obj.metageneration += 1
        obj.updated = time.time()
        return Response.of_json(200, self.resource(bucket, obj))

    def _delete_object(self, request: Request, m: re.Match[str]) -> Response:
        bucket, name = m["bucket"], urllib.parse.unquote(m["object"])
        self._check(self._caller(request), DELETE, bucket, name)
        self._object(bucket, name, request)
        del self.buckets[bucket].objects[name]
        return Response(204)

    # -- uploads ------------------------------------------------------------------------------

    def _authorize_write(self, principal: str, bucket: str, name: str) -> None:
        self._check(principal, CREATE, bucket, name)
        if name in self._bucket(bucket).objects:
            self._check(principal, DELETE, bucket, name)  # overwriting replaces an object

    def _store(self, bucket: str, name: str, data: bytes, meta: Mapping[str, Any],
               query: Mapping[str, str], principal: str) -> StoredObject:
        target = self._bucket(bucket)
        self._preconditions(target.objects.get(name), {k: [v] for k, v in query.items()})
        kms = query.get("kmsKeyName") or meta.get("kmsKeyName") or target.default_kms_key_name
        obj = StoredObject(
            name=name, data=bytes(data), generation=next(self._generations),
            content_type=meta.get("contentType") or "application/octet-stream",
            metadata={k: str(v) for k, v in (meta.get("metadata") or {}).items()},
            kms_key_name=kms, writer=principal,
        )
        target.objects[name] = obj
        return obj

    @staticmethod
    def _multipart(request: Request) -> tuple[dict[str, Any], bytes]:
        found = re.search(r'boundary="?([^";]+)"?', request.header("content-type"))
        if found is None:
            raise GcsError(400, "multipart upload without a boundary", "invalid")
        parts = request.body.split(b"--" + found[1].encode())[1:-1]
        if len(parts) != 2:
            raise GcsError(400, "a multipart upload has a metadata part and a media part",
                           "invalid")
        bodies = [p.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n") for p in parts]
        media_type = re.search(rb"(?i)content-type:\s*([^\r\n]+)", parts[1])
        meta = json.loads(bodies[0] or b"{}")
        if media_type and "contentType" not in meta:
            meta["contentType"] = media_type[1].decode().strip()
        return meta, bodies[1]

    def _upload(self, request: Request, m: re.Match[str]) -> Response:
        bucket, kind = m["bucket"], request.q("uploadType")
        query = {k: v[0] for k, v in request.query.items() if v}
        principal = self._caller(request)
        self._bucket(bucket)
        if kind == "media":
            meta: dict[str, Any] = {"contentType": request.header("content-type")}
            data = request.body
        elif kind == "multipart":
            meta, data = self._multipart(request)
        elif kind == "resumable":
            return self._start_resumable(bucket, request, query, principal)
        else:
            raise GcsError(400, f"uploadType {kind!r} is not supported", "invalid")
        name = query.get("name") or meta.get("name") or ""
        if not name:
            raise GcsError(400, "Required: an object name", "required")
        self._authorize_write(principal, bucket, name)
        obj = self._store(bucket, name, data, meta, query, principal)
        return Response.of_json(200, self.resource(bucket, obj))

    def _start_resumable(self, bucket: str, request: Request, query: dict[str, str],
                         principal: str) -> Response:
        meta = request.json() or {}
        name = query.get("name") or meta.get("name") or ""
        if not name:
            raise GcsError(400, "Required: an object name", "required")
        if "contentType" not in meta and request.header("x-upload-content-type"):
            meta["contentType"] = request.header("x-upload-content-type")
        self._authorize_write(principal, bucket, name)
        upload_id = f"upload-{next(self._ids)}"
        self._uploads[upload_id] = _Upload(bucket, name, meta, query, principal)
        location = (f"{self.url}/upload/storage/v1/b/{bucket}/o?uploadType=resumable"
                    f"&upload_id={upload_id}")
        return Response(200, b"", {"Location": location, "X-GUploader-UploadID": upload_id})

    def _resume(self, request: Request, m: re.Match[str]) -> Response:
        upload = self._uploads.get(request.q("upload_id"))
        if upload is None:
            raise GcsError(404, "No such upload session", "notFound")
        spec = re.fullmatch(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)",
                            request.header("content-range", f"bytes */{len(request.body)}"))
        if spec is None:
            raise GcsError(400, "invalid Content-Range", "invalid")
        if spec[1] is not None and int(spec[1]) == len(upload.data):
            upload.data += request.body
        total = spec[3]
        if total != "*" and len(upload.data) == int(total):
            del self._uploads[request.q("upload_id")]
            obj = self._store(upload.bucket, upload.name, bytes(upload.data), upload.meta,
                              upload.query, upload.principal)
            return Response.of_json(200, self.resource(upload.bucket, obj))
        headers = {"Range": f"bytes=0-{len(upload.data) - 1}"} if upload.data else {}
        return Response(308, b"", headers)
