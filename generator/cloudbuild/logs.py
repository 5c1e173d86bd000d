"""Where the logs of a build that runs as a user-managed service account go.

Cloud Build refuses to start a build that runs as a user-managed service account
(``serviceAccount`` in the file, or ``service_account`` on a trigger that runs it) unless it
sets ``logsBucket``, ``options.logging: CLOUD_LOGGING_ONLY`` or ``NONE``, or
``options.defaultLogsBucketBehavior: REGIONAL_USER_OWNED_BUCKET``. ``STACKDRIVER_ONLY`` counts
as ``CLOUD_LOGGING_ONLY``: the discovery document says it "is the same as CLOUD_LOGGING_ONLY"
(and deprecates it; the structure check warns).
"""

from __future__ import annotations

from generator.cloudbuild.config import Node, get, string
from generator.cloudbuild.context import BuildContext
from generator.cloudbuild.findings import Sink

LOGGING_WITHOUT_BUCKET = frozenset({"CLOUD_LOGGING_ONLY", "STACKDRIVER_ONLY", "NONE"})
REGIONAL_BUCKET = "REGIONAL_USER_OWNED_BUCKET"


def logs_have_destination(root: Node) -> bool:
    options = get(root, "options")
    logging = get(options, "logging")
    behavior = get(options, "defaultLogsBucketBehavior")
    return (
        (logging is not None and logging.value in LOGGING_WITHOUT_BUCKET)
        or (behavior is not None and behavior.value == REGIONAL_BUCKET)
        or bool(string(get(root, "logsBucket")))
    )


def check_logging(sink: Sink, root: Node, ctx: BuildContext) -> None:
    sa = get(root, "serviceAccount")
    file_sa = (string(sa) or "").strip() != ""
    runner = ctx.service_account_runner()
    if (not file_sa and runner is None) or logs_have_destination(root):
        return
    why = "'serviceAccount' in this file" if file_sa else f"'service_account' on {runner}"
    logging = get(get(root, "options"), "logging")
    line = logging.line if logging is not None else (sa.line if file_sa and sa else 1)
    sink.error(
        line,
        f"this build runs as a user-managed service account ({why}), so Cloud Build refuses to "
        "start it unless its logs have a destination: set 'options: {logging: "
        "CLOUD_LOGGING_ONLY}' (or NONE), or 'logsBucket: gs://BUCKET', or "
        f"'options: {{defaultLogsBucketBehavior: {REGIONAL_BUCKET}}}'",
    )
