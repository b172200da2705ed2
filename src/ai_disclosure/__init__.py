"""Tell people, on every response, when a public digital service involves AI."""

from ._disclose import (
    ai_content,
    disclose,
    disclosure_head,
    disclosure_notice,
    request_disclosure,
)
from ._errors import AIDisclosureError
from ._headers import (
    AIDisclosureHeader,
    HeaderError,
    header_for,
    parse_header,
    serialize_header,
)
from ._inject import Position
from ._logger import DisclosureLogger
from ._manifest import ManifestError, ManifestProblem, Problem, load_manifest
from ._middleware import AIDisclosureMiddleware
from ._model import (
    Audience,
    BiasAudit,
    EthicsReview,
    EthicsStatus,
    HumanReview,
    Interaction,
    Involvement,
    Manifest,
    Origin,
    Route,
    Service,
    System,
    SystemStatus,
    involvement,
)
from ._schemas import load_schema
from ._version import __version__
from .client import AsyncRegistryClient, RegistryClient, RegistryError

__all__ = [
    "AIDisclosureError",
    "AIDisclosureHeader",
    "AIDisclosureMiddleware",
    "AsyncRegistryClient",
    "Audience",
    "BiasAudit",
    "DisclosureLogger",
    "EthicsReview",
    "EthicsStatus",
    "HeaderError",
    "HumanReview",
    "Interaction",
    "Involvement",
    "Manifest",
    "ManifestError",
    "ManifestProblem",
    "Origin",
    "Position",
    "Problem",
    "RegistryClient",
    "RegistryError",
    "Route",
    "Service",
    "System",
    "SystemStatus",
    "__version__",
    "ai_content",
    "disclose",
    "disclosure_head",
    "disclosure_notice",
    "header_for",
    "involvement",
    "load_manifest",
    "load_schema",
    "parse_header",
    "request_disclosure",
    "serialize_header",
]
