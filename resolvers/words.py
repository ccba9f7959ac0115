"""The product's words for statuses, actions and kinds of referral: one table, read by everything.

Pages get it through the API (`statusWords`, `referralKindWords`) and, so that they can name a status
before the first answer arrives, from web/app/src/lib/words.json, which `make docs` writes from this
module (tests/test_words.py fails when it is stale). Emails, texts and the /r/ link pages read it here.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.referrals import ReferralKind, ReferralStatus


@dataclass(frozen=True)
class StatusWords:
    label: str
    """The status's name, everywhere: badges, filters, emails, texts, link pages."""
    sentence: str
    """What the status means, told to the person referred."""
    seeker_action: str | None = None
    """The seeker's own button for setting it ("I got help"), if a seeker may set it."""
    program_action: str | None = None
    """The program's one-click email link for setting it ("They're eligible"), if it has one."""


STATUS_WORDS: dict[ReferralStatus, StatusWords] = {
    ReferralStatus.NOT_UPDATED: StatusWords("Not updated yet", "Sent. The program hasn't updated it yet."),
    ReferralStatus.NEEDS_CLIENT_ACTION: StatusWords("Needs client action", "The program needs something from you."),
    ReferralStatus.PENDING: StatusWords("Pending", "The program is working on it.", program_action="We're working on it"),
    ReferralStatus.REFERRED_ELSEWHERE: StatusWords("Referred elsewhere", "The program referred you somewhere else."),
    ReferralStatus.ELIGIBLE: StatusWords("Eligible", "The program says you're eligible.", program_action="They're eligible"),
    ReferralStatus.GOT_HELP: StatusWords("Got help", "You got help.", seeker_action="I got help", program_action="They got help"),
    ReferralStatus.COULDNT_GET_HELP: StatusWords(
        "Couldn't get help", "You couldn't get help here.", seeker_action="I couldn't get help"
    ),
    ReferralStatus.COULDNT_CONTACT: StatusWords(
        "Couldn't make contact", "The program couldn't reach you.", program_action="We couldn't reach them"
    ),
    ReferralStatus.NOT_ELIGIBLE: StatusWords("Not eligible", "The program says you're not eligible.", program_action="Not eligible"),
    ReferralStatus.NO_CAPACITY: StatusWords("No capacity", "The program has no room right now.", program_action="No capacity"),
    ReferralStatus.NO_LONGER_INTERESTED: StatusWords(
        "No longer interested", "Marked as no longer interested.", seeker_action="I don't need this anymore"
    ),
}


@dataclass(frozen=True)
class KindWords:
    label: str
    """What the referral is, in a list: "Sent to the program"."""
    noun: str
    """The referral named in a sentence: "logged referral"."""


KIND_WORDS: dict[ReferralKind, KindWords] = {
    ReferralKind.LIVE: KindWords("Sent to the program", "referral"),
    ReferralKind.LOGGED: KindWords("Logged (contact the program directly)", "logged referral"),
    ReferralKind.TRACKING_ONLY: KindWords("Noted by your navigator", "tracked referral"),
}


def status_label(status: ReferralStatus) -> str:
    return STATUS_WORDS[status].label


SEEKER_ACTIONS = {s: w.seeker_action for s, w in STATUS_WORDS.items() if w.seeker_action}
PROGRAM_ACTIONS = {s: w.program_action for s, w in STATUS_WORDS.items() if w.program_action}


def as_json() -> dict[str, object]:
    """The table as web/app/src/lib/words.json holds it."""
    return {
        "statuses": {
            s.name: {"label": w.label, "sentence": w.sentence, "seekerAction": w.seeker_action, "programAction": w.program_action}
            for s, w in STATUS_WORDS.items()
        },
        "kinds": {k.name: {"label": w.label, "noun": w.noun} for k, w in KIND_WORDS.items()},
    }
