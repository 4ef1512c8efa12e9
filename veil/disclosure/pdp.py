"""The policy decision point: asks the Cedar policies in `policies/` about one request.

The policies and their schema are read and validated once, when Veil starts; a policy that
does not validate against the schema stops the start-up (fail closed). The decision sees
only who asks, for what, and the request's own fields: never the subject's records, so a
refusal cannot depend on the data (SPEC section 4, indistinguishability).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import cedarpy

from veil.disclosure.catalogue import DisclosureCatalogue

NAMESPACE = "Veil"


class PolicyError(RuntimeError):
    """The policy files do not parse or do not validate against their schema."""


@dataclass(frozen=True, slots=True)
class Entity:
    type: str  # without the namespace: Organisation, Subject, Regulation, Registry
    id: str
    attrs: Mapping[str, Any] | None = None

    def uid(self) -> dict[str, str]:
        return {"type": f"{NAMESPACE}::{self.type}", "id": self.id}

    def cedar(self) -> dict[str, Any]:
        attrs = {
            k: (sorted(v) if isinstance(v, (set, frozenset, tuple)) else v)
            for k, v in (self.attrs or {}).items()
        }
        return {"uid": self.uid(), "attrs": attrs, "parents": []}


# The records store as a whole: the resource of administrative actions (veil.cedarschema).
REGISTRY = Entity("Registry", "records")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    policies: tuple[str, ...]  # the @id of each policy that determined the decision


def policy_text() -> tuple[str, str]:
    """The Cedar policies and their schema, as shipped."""
    folder = resources.files("veil.disclosure").joinpath("policies")
    return (
        folder.joinpath("veil.cedar").read_text("utf-8"),
        folder.joinpath("veil.cedarschema").read_text("utf-8"),
    )


class PolicyDecisionPoint:
    def __init__(self, catalogue: DisclosureCatalogue, policies: str | None = None) -> None:
        shipped, schema_text = policy_text()
        text = shipped if policies is None else policies
        try:
            self._schema = cedarpy.Schema.from_str(schema_text)
            self._policies = cedarpy.PolicySet.from_str(text)
        except ValueError as exc:
            raise PolicyError(f"Cedar policies: {exc}") from exc
        result = cedarpy.validate_policies(text, self._schema)
        if not result.validation_passed:
            raise PolicyError(f"Cedar policies do not validate: {result.errors}")
        static = json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"]
        self._names = {
            key: (p.get("annotations") or {}).get("id", key) for key, p in static.items()
        }
        regulations = [
            Entity("Regulation", reg.id, {"unit_types": reg.unit_types}).cedar()
            for reg in catalogue.regulations.values()
        ]
        # The regulations are parsed once; each request adds only who asks (one entity,
        # cached per principal), which costs a fraction of parsing the whole set each time.
        self._base = cedarpy.Entities.from_json_str(json.dumps(regulations), self._schema)
        self._with_principal = lru_cache(maxsize=4096)(self._base.with_added_json_str)

    def decide(
        self,
        principal: Entity,
        action: str,
        resource: Entity,
        context: Mapping[str, Any],
    ) -> Decision:
        """Whether `principal` may take `action` on `resource`; errors count as refusals.

        The resource (a subject's blind index, a regulation, the registry) needs no
        attributes beyond the regulations', which are already in the entity set.
        """
        entities = self._with_principal(json.dumps([principal.cedar()], sort_keys=True))
        request = {
            "principal": principal.uid(),
            "action": {"type": f"{NAMESPACE}::Action", "id": action},
            "resource": resource.uid(),
            "context": dict(context),
        }
        result = cedarpy.is_authorized(request, self._policies, entities, self._schema)
        reasons = tuple(self._names.get(r, r) for r in result.diagnostics.reasons)
        return Decision(allowed=bool(result.allowed), policies=reasons)
