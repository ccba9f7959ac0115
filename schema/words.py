"""The product's words for statuses and kinds of referral (resolvers/words.py), for the dashboards."""

from __future__ import annotations

import strawberry

from resolvers.words import KIND_WORDS, STATUS_WORDS
from schema.enums import ReferralKind, ReferralStatus
from schema.fields import field


@strawberry.type(name="StatusWord", description="What a status is called everywhere: pages, emails, texts, link pages.")
class StatusWordType:
    status: ReferralStatus
    label: str = strawberry.field(description="Its name: badges, filters, emails, texts.")
    sentence: str = strawberry.field(description="What it means, told to the person referred.")
    seeker_action: str | None = strawberry.field(description="The seeker's button for setting it, if a seeker may.")
    program_action: str | None = strawberry.field(description="The program's one-click email link for setting it, if any.")


@strawberry.type(name="ReferralKindWord", description="What a kind of referral is called.")
class ReferralKindWordType:
    kind: ReferralKind
    label: str = strawberry.field(description="In a list: \"Sent to the program\".")
    noun: str = strawberry.field(description="In a sentence: \"logged referral\".")


@strawberry.type
class WordsQuery:
    @field(description="Every status's words, in the order the dashboards list them (no sign-in needed).")
    def status_words(self) -> list[StatusWordType]:
        return [
            StatusWordType(
                status=s, label=w.label, sentence=w.sentence, seeker_action=w.seeker_action, program_action=w.program_action
            )
            for s, w in STATUS_WORDS.items()
        ]

    @field(description="Every kind of referral's words (no sign-in needed).")
    def referral_kind_words(self) -> list[ReferralKindWordType]:
        return [ReferralKindWordType(kind=k, label=w.label, noun=w.noun) for k, w in KIND_WORDS.items()]
