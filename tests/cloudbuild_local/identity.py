"""Who is calling: fake OAuth tokens per principal, and a fake GCE metadata server that hands a
build's steps the token of the build's service account, as Cloud Build's workers do.

Google's client libraries find credentials there unchanged (Application Default Credentials):
Python's google-auth and Go's (terraform's gcs backend, the providers) both read
GCE_METADATA_HOST (google-auth also GCE_METADATA_IP for its first probe), so a step needs no
key file and no token variable. The GCS and Cloud Build fakes map a token back to its
principal with the same `Accounts`.
"""

from __future__ import annotations

import re
import secrets
import threading

from tests.cloudbuild_local.httpfake import FakeServer, Handler, Request, Response

TOKEN_LIFETIME_S = 3599
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
# an address where nothing listens: a build without an identity fails fast, not after timeouts
NO_METADATA = "127.0.0.1:9"


class Accounts:
    """Principals (service account or user emails) and their fake access tokens."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._principals: dict[str, str] = {}
        self._lock = threading.Lock()

    def token(self, principal: str) -> str:
        """The access token of `principal` (the same one every time)."""
        with self._lock:
            if principal not in self._tokens:
                token = f"ya29.fake-{secrets.token_urlsafe(18)}"
                self._tokens[principal] = token
                self._principals[token] = principal
            return self._tokens[principal]

    def principal(self, token: str | None) -> str | None:
        """Whose token this is; None for a missing or unknown token."""
        if not token:
            return None
        with self._lock:
            return self._principals.get(token)

    def caller(self, request: Request) -> str | None:
        return self.principal(request.bearer())


_SA = r"/computeMetadata/v1/instance/service-accounts/(?P<sa>[^/]+)"


class MetadataServer(FakeServer):
    """The metadata server of one build: project, and the build's service account."""

    def __init__(
        self, accounts: Accounts, service_account: str, project_id: str, project_number: str
    ) -> None:
        super().__init__()
        self.accounts = accounts
        self.service_account = service_account
        self.project_id = project_id
        self.project_number = project_number
        self.route("GET", r"/", self._ping)
        self.route("GET", r"/computeMetadata/v1/?", self._ping)
        self.route("GET", r"/computeMetadata/v1/project/project-id", self._text(project_id))
        self.route("GET", r"/computeMetadata/v1/project/numeric-project-id",
                   self._text(project_number))
        self.route("GET", r"/computeMetadata/v1/universe/universe-domain",
                   self._text("googleapis.com"))
        self.route("GET", _SA + r"/?", self._info)
        self.route("GET", _SA + r"/email", self._email)
        self.route("GET", _SA + r"/scopes", self._scopes)
        self.route("GET", _SA + r"/token", self._token)

    def env(self) -> dict[str, str]:
        return {"GCE_METADATA_HOST": self.host, "GCE_METADATA_IP": self.host}

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        response.headers["Metadata-Flavor"] = "Google"
        return response

    def _flavored(self, request: Request) -> Response | None:
        if request.header("metadata-flavor") != "Google":
            return Response.text(403, "Missing required header: Metadata-Flavor")
        return None

    def _ping(self, request: Request, _: re.Match[str]) -> Response:
        return Response.text(200, "computeMetadata/\n")

    def _text(self, value: str) -> Handler:
        def handler(request: Request, _: re.Match[str]) -> Response:
            return self._flavored(request) or Response.text(200, value)

        return handler

    def _known(self, request: Request, match: re.Match[str]) -> Response | None:
        denied = self._flavored(request)
        if denied:
            return denied
        if match.group("sa") not in ("default", self.service_account):
            return Response.text(404, "not found")
        return None

    def _info(self, request: Request, match: re.Match[str]) -> Response:
        info = {"aliases": ["default"], "email": self.service_account, "scopes": SCOPES}
        return self._known(request, match) or Response.of_json(200, info)

    def _email(self, request: Request, match: re.Match[str]) -> Response:
        return self._known(request, match) or Response.text(200, self.service_account)

    def _scopes(self, request: Request, match: re.Match[str]) -> Response:
        return self._known(request, match) or Response.text(200, "\n".join(SCOPES))

    def _token(self, request: Request, match: re.Match[str]) -> Response:
        token = {"access_token": self.accounts.token(self.service_account),
                 "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}
        return self._known(request, match) or Response.of_json(200, token)
