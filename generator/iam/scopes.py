"""Where a permission applies: canonical resource names, their ancestors, and the facts of the
plans (which project a bucket is in, a project's folder and number) that connect them.

Canonical names: `projects/<id>`, `folders/<n>`, `organizations/<n>`, `billingAccounts/<id>`,
`buckets/<b>` (objects under a prefix: `buckets/<b>/objects/<prefix>`), and the API's own
names below a project (`projects/<p>/datasets/<d>`, `projects/<p>/secrets/<s>`,
`projects/<p>/locations/<l>/repositories/<r>`, `projects/<p>/serviceAccounts/<email>`,
`projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`, `projects/<p>/topics/<t>`,
`projects/<p>/locations/<z>/instances/<n>`). A grant on a name applies to everything below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.iam.identities import SA_DOMAIN

KINDS = ("project", "folder", "organization", "billing_account", "bucket", "objects", "dataset",
         "table", "secret", "repository", "service_account", "key_ring", "key", "topic",
         "subscription", "instance", "datascan")

# resource.type of IAM conditions (https://cloud.google.com/iam/docs/conditions-resource-attributes)
CONDITION_TYPES = {
    "project": "cloudresourcemanager.googleapis.com/Project",
    "folder": "cloudresourcemanager.googleapis.com/Folder",
    "organization": "cloudresourcemanager.googleapis.com/Organization",
    "bucket": "storage.googleapis.com/Bucket",
    "objects": "storage.googleapis.com/Object",
    "dataset": "bigquery.googleapis.com/Dataset",
    "table": "bigquery.googleapis.com/Table",
    "secret": "secretmanager.googleapis.com/Secret",
    "repository": "artifactregistry.googleapis.com/Repository",
    "service_account": "iam.googleapis.com/ServiceAccount",
    "key_ring": "cloudkms.googleapis.com/KeyRing",
    "key": "cloudkms.googleapis.com/CryptoKey",
    "topic": "pubsub.googleapis.com/Topic",
    "subscription": "pubsub.googleapis.com/Subscription",
    "instance": "notebooks.googleapis.com/Instance",
    "datascan": "dataplex.googleapis.com/DataScan",
}


class ScopeError(ValueError):
    """A scope value that does not name a resource of its kind."""


def _tail(value: str, collection: str) -> str:
    """The id after `<collection>/` in a full name, or the value itself."""
    marker = f"{collection}/"
    return value.rsplit(marker, 1)[1] if marker in value else value


def _project_of_email(email: str) -> str:
    domain = email.split("@", 1)[-1]
    return domain[: -len(SA_DOMAIN)] if domain.endswith(SA_DOMAIN) else "-"


def name(kind: str, *parts: str) -> str:
    """The canonical name of a scope of `kind` from its parts (ids or full API names)."""
    if kind not in KINDS:
        raise ScopeError(f"unknown scope kind {kind!r}; one of {', '.join(KINDS)}")
    if any(not p for p in parts):
        raise ScopeError(f"{kind}: empty value")
    return str(_BUILDERS[kind](*parts))


def _project(p: str) -> str:
    return f"projects/{_tail(p, 'projects')}"


def _bucket(b: str) -> str:
    return f"buckets/{b.removeprefix('gs://').removeprefix('b/').rstrip('/')}"


def _objects(bucket_and_prefix: str) -> str:
    bucket, _, prefix = bucket_and_prefix.removeprefix("gs://").partition("/")
    return f"buckets/{bucket}/objects/{prefix}"


def _below(collection: str) -> Any:
    def build(*parts: str) -> str:
        if len(parts) == 1 and parts[0].startswith("projects/"):
            return parts[0]
        *parents, last = parts
        return _join(parents, collection, last)

    return build


def _join(parents: list[str], collection: str, last: str) -> str:
    if len(parents) == 1:
        return f"{_project(parents[0])}/{collection}/{_tail(last, collection)}"
    if len(parents) == 2:  # project, location
        where = f"{_project(parents[0])}/locations/{parents[1]}"
        return f"{where}/{collection}/{_tail(last, collection)}"
    raise ScopeError(f"{collection}: expected the full name or project[, location] and id")


def _dataset(*parts: str) -> str:
    if len(parts) == 1:
        project, sep, dataset = parts[0].replace(":", ".").partition(".")
        if parts[0].startswith("projects/"):
            return parts[0]
        if not sep:
            raise ScopeError(f"dataset {parts[0]!r}: expected project.dataset")
        return f"projects/{project}/datasets/{dataset}"
    return f"{_project(parts[0])}/datasets/{_tail(parts[1], 'datasets')}"


def _table(*parts: str) -> str:
    if len(parts) == 1:  # a full name, also as a Dataplex/Data Catalog resource (//bigquery...)
        return parts[0].removeprefix("//bigquery.googleapis.com/")
    return f"{_dataset(parts[0], parts[1])}/tables/{parts[2]}"


def _service_account(*parts: str) -> str:
    value = parts[-1]
    email = _tail(value, "serviceAccounts").lower()
    return f"projects/{_project_of_email(email)}/serviceAccounts/{email}"


def _key(value: str) -> str:
    return value


def _repository(*parts: str) -> str:
    """A repository from its name, from project[, location] and id, or from its address
    (`<location>-docker.pkg.dev/<project>/<repo>`, `https://<location>-kfp.pkg.dev/...`)."""
    value = parts[-1]
    if ".pkg.dev/" in value:
        host, _, path = value.removeprefix("https://").partition("/")
        location = host.split(".pkg.dev", 1)[0].rsplit("-", 1)[0]
        project, _, repo = path.partition("/")
        if not project or not repo:
            raise ScopeError(f"repository {value!r}: expected <host>/<project>/<repository>")
        return f"projects/{project}/locations/{location}/repositories/{repo.split('/', 1)[0]}"
    return str(_below("repositories")(*parts))


def _secret(*parts: str) -> str:
    """A secret from its name, a version's name (`.../versions/latest`) or project and id."""
    name = str(_below("secrets")(*parts))
    return name.split("/versions/", 1)[0]


_BUILDERS: dict[str, Any] = {
    "project": _project,
    "folder": lambda f: f"folders/{_tail(f, 'folders')}",
    "organization": lambda o: f"organizations/{_tail(o, 'organizations')}",
    "billing_account": lambda b: f"billingAccounts/{_tail(b, 'billingAccounts')}",
    "bucket": _bucket,
    "objects": _objects,
    "dataset": _dataset,
    "table": _table,
    "secret": _secret,
    "repository": _repository,
    "service_account": _service_account,
    "key_ring": _below("keyRings"),
    "key": _key,
    "topic": _below("topics"),
    "subscription": _below("subscriptions"),
    "instance": _below("instances"),
    "datascan": _below("dataScans"),
}


def kind_of(canonical: str) -> str:
    """The scope kind of a canonical name."""
    head = canonical.split("/", 1)[0]
    top = {"folders": "folder", "organizations": "organization",
           "billingAccounts": "billing_account"}
    if head in top:
        return top[head]
    if head == "buckets":
        return "objects" if "/objects/" in canonical else "bucket"
    segments = canonical.split("/")
    if len(segments) == 2:
        return "project"
    last = segments[-2]
    return {"datasets": "dataset", "tables": "table", "secrets": "secret",
            "repositories": "repository", "serviceAccounts": "service_account",
            "keyRings": "key_ring", "cryptoKeys": "key", "topics": "topic",
            "subscriptions": "subscription", "instances": "instance",
            "dataScans": "datascan"}.get(last, "project")


def condition_name(canonical: str) -> str:
    """resource.name as IAM conditions see it (storage names start `projects/_/buckets/`)."""
    if canonical.startswith("buckets/"):
        return "projects/_/" + canonical
    return canonical


@dataclass
class Hierarchy:
    """What the plans say about where resources live."""

    project_parent: dict[str, str] = field(default_factory=dict)  # projects/x -> folders/n
    bucket_project: dict[str, str] = field(default_factory=dict)  # buckets/b -> projects/x
    numbers: dict[str, str] = field(default_factory=dict)  # number -> project id

    def ancestors(self, canonical: str) -> list[str]:
        """The name itself, then each resource above it, nearest first."""
        chain = [canonical]
        current = canonical
        while True:
            parent = self._parent(current)
            if parent is None or parent in chain:
                return chain
            chain.append(parent)
            current = parent

    def _parent(self, canonical: str) -> str | None:
        if canonical.startswith("buckets/"):
            if "/objects/" in canonical:
                return canonical.split("/objects/", 1)[0]
            return self.bucket_project.get(canonical)
        if canonical.startswith("projects/"):
            segments = canonical.split("/")
            if len(segments) == 2:
                return self.project_parent.get(canonical)
            # drop the last collection/id pair; locations/<l> alone is not a resource
            up = segments[:-2]
            if len(up) >= 2 and up[-2] == "locations":
                up = up[:-2]
            return "/".join(up)
        return None

    def add_project(self, project_id: str, values: Mapping[str, Any]) -> None:
        folder, org = values.get("folder_id"), values.get("org_id")
        parent = f"folders/{_tail(str(folder), 'folders')}" if folder else (
            f"organizations/{_tail(str(org), 'organizations')}" if org else None)
        if parent:
            self.project_parent[f"projects/{project_id}"] = parent
        number = values.get("number")
        if isinstance(number, str) and number:
            self.numbers[number] = project_id


def covers(grant_scope: str, need_scope: str, hierarchy: Hierarchy) -> bool:
    """Does a grant on `grant_scope` apply to `need_scope` (it or an ancestor)?"""
    if grant_scope in hierarchy.ancestors(need_scope):
        return True
    # a grant on objects under a prefix covers objects under any longer prefix
    if grant_scope.startswith("buckets/") and "/objects/" in grant_scope:
        return need_scope.startswith(grant_scope)
    return False


def describe(canonical: str) -> str:
    kind = kind_of(canonical)
    label = kind.replace("_", " ")
    if kind == "objects":
        bucket, _, prefix = canonical[len("buckets/"):].partition("/objects/")
        return f"objects under gs://{bucket}/{prefix}"
    if kind == "bucket":
        return f"bucket gs://{canonical[len('buckets/'):]}"
    return f"{label} {canonical}"


def unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
