"""The runner's errors: a build Cloud Build would reject, and what the runner cannot model."""

from __future__ import annotations


class CloudBuildLocalError(Exception):
    """Base of the runner's errors."""


class InvalidBuild(CloudBuildLocalError):
    """Cloud Build would refuse to create this build (HTTP 400 at builds.create/triggers.run):
    the message follows the service's wording where it is known."""


class UnsupportedImage(CloudBuildLocalError):
    """A step's image has no local stand-in in the ImageMap (or is refused on purpose)."""


class NotModeled(CloudBuildLocalError):
    """The config uses a Cloud Build feature this runner does not model (say so, never guess)."""
