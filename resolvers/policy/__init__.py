"""The policy: the one place that says which rows a viewer may list, what they may do, what they may see.

Each resource has its rules as tables (`referrals.RULES`, `seekers.RULES`, `enrollments.RULES`,
`coordinated_entry.ALL_RULES`, `capabilities.ROLES`, `cases.RULES`, `cases.RECORD_RULES`, `audit.RULES`, `families.RULES`),
printed into docs/architecture.md by `rules_markdown()`. Everything else
asks; nothing else decides.
"""

from __future__ import annotations

from db.accounts import Role
from resolvers.policy import audit, capabilities, cases, coordinated_entry, enrollments, families, referrals, seekers
from resolvers.policy.tables import audience_attributes, markdown
from resolvers.viewer import Viewer

_AUDIENCE = {
    role: audience_attributes(
        role, referrals.RULES, seekers.RULES, enrollments.RULES, *coordinated_entry.ALL_RULES, cases.RULES, cases.RECORD_RULES
    )
    for role in Role
}


def audience(viewer: Viewer) -> tuple[object, ...]:
    """Viewers with equal audiences get identical answers from every rule, so they may share a payload.

    It is built from what the standings open to the viewer's role say they read; a rule that reads
    more of a viewer declares it there.
    """
    return (viewer.role, *(getattr(viewer, name) for name in _AUDIENCE[viewer.role]))


def rules_markdown() -> str:
    tables = [markdown(referrals.RULES), markdown(seekers.RULES), markdown(enrollments.RULES), capabilities.markdown()]
    return "\n".join(
        [*tables, coordinated_entry.rules_markdown(), markdown(cases.RULES), markdown(cases.RECORD_RULES), audit.rules_markdown(),
         families.rules_markdown()]
    )
