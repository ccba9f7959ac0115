"""Password rules (HUD HMIS security standard, and then some) and argon2 hashing kept off the event loop."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from resolvers.errors import BadInput

# HUD's HMIS Data and Technical Standards ask for at least 8 characters with mixed kinds; NIST SP
# 800-63B (which later HUD guidance follows) prefers length over composition rules and a check
# against known passwords. 12 characters with no composition rule is both: long enough that a
# passphrase is the natural choice, and every HMIS 8-character rule is met.
MIN_LENGTH = 12
# argon2 hashes anything, but a megabyte of "password" only costs us time.
MAX_LENGTH = 256
# The 30,000 most common passwords from leaked lists, as zxcvbn ships them.
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# "Password2024!" is "password" with the usual decorations.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# zxcvbn's estimate: 0-2 is "guessable in fewer than 10^8 tries" (repeats, sequences, keyboard walks, dates).
_MIN_SCORE = 3

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one with a wrong password.
_DUMMY_HASH = _hasher.hash("referloop-timing-equaliser")
# How many argon2 computations run at once (each takes 64 MiB and a core for ~80 ms); the rest queue.
HASH_THREADS = 2
# Niceness of those threads: under a burst of sign-ins the event loop (every socket's pushes and
# answers) gets the CPU first, and sign-ins wait a little longer instead.
HASH_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the threads still keep the loop free
        pass


_executor = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2", initializer=_lower_priority)


@dataclass(frozen=True)
class PasswordProblem:
    rule: str
    message: str


def password_problem(password: str, *, email: str = "", name: str = "") -> PasswordProblem | None:
    """The first rule the password breaks, or None when it may be used."""
    if len(password) < MIN_LENGTH:
        return PasswordProblem("length", f"Use at least {MIN_LENGTH} characters; a few words make a good password.")
    if len(password) > MAX_LENGTH:
        return PasswordProblem("length", f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    local_part = email.split("@", 1)[0].lower()
    personal = [local_part, *(part.lower() for part in re.split(r"\W+", name))]
    if email and email.lower() in lowered or any(len(p) >= 3 and p in lowered for p in personal):
        return PasswordProblem("personal", "Don't use your email address or your name in your password.")
    if lowered in _COMMON or _DECORATION.sub("", lowered) in _COMMON:
        return PasswordProblem("common", "That is one of the most common passwords; choose another.")
    from zxcvbn import zxcvbn  # imported here: its matchers load dictionaries only a password change needs

    if zxcvbn(password, user_inputs=[email, name])["score"] < _MIN_SCORE:
        return PasswordProblem("guessable", "That password is too easy to guess (repeats, sequences or keyboard patterns); add more words.")
    return None


def check_password(password: str, *, email: str = "", name: str = "", field: str = "password") -> None:
    """Raise BAD_USER_INPUT, naming the `field` and the rule broken, if the password may not be used."""
    problem = password_problem(password, email=email, name=name)
    if problem is not None:
        raise BadInput(problem.message, field=field, rule=problem.rule)


async def hash_password(password: str) -> str:
    """The argon2 hash, computed in a worker thread so the event loop keeps serving sockets."""
    return await asyncio.get_running_loop().run_in_executor(_executor, _hasher.hash, password)


def _matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches; as slow for no stored hash as for a wrong password. Off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_executor, _matches, stored, password)
