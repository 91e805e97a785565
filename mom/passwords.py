"""The password policy: every password a person sets (``mom users add|passwd``, ``POST /users``,
``POST /users/{name}/password``, ``POST /auth/password``) passes :func:`check_password` first.

The rules follow NIST SP 800-63B rather than composition rules (which make people write
``Password1!``): a minimum length, a maximum (hashing stays cheap), and a refusal of what attackers
try first -- the user name, runs and repetitions (``aaaaaaaaaaaa``, ``123456789012``), and the
10,000 most common passwords shipped in ``common_passwords.txt``, also with digits or symbols
around them (``monkey123456``). Each refusal names its rule, so a person knows what to change.
"""

from __future__ import annotations

import itertools
import string
from functools import cache
from importlib import resources

from mom.domain import DomainError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MIN_DISTINCT_CHARACTERS = 5
RUN_SHARE = 0.75
"""A password whose neighbouring characters are this often the same or next to each other in the
character table is a run (``abcdefghijkl``, ``123456789012``, ``aaaabbbbcccc``)."""
NAME_MIN_LENGTH = 4
"""User names this long must not appear anywhere in the password; shorter ones (``ada``, ``bob``
would refuse ``canada...``, ``bobsled...``) only not be the whole password."""
_AROUND = string.digits + string.punctuation + " "


class PasswordRefused(DomainError):
    """A password breaks a rule of the policy (the message names the rule)."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case (read once)."""
    text = resources.files("mom").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_run(password: str) -> bool:
    pairs = list(itertools.pairwise(password))
    close = sum(1 for a, b in pairs if abs(ord(a) - ord(b)) <= 1)
    return close >= RUN_SHARE * len(pairs)


def check_password(password: str, *, username: str | None = None) -> None:
    """Refuse ``password`` (:class:`PasswordRefused`, naming the rule) unless the policy allows it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(f"password refused (rule: at least {MIN_PASSWORD_LENGTH} characters): "
                              f"it has {len(password)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRefused(f"password refused (rule: at most {MAX_PASSWORD_LENGTH} characters): "
                              f"it has {len(password)}")
    lowered = password.lower()
    name = (username or "").lower()
    if name and (lowered == name or (len(name) >= NAME_MIN_LENGTH and name in lowered)):
        raise PasswordRefused("password refused (rule: must not contain the user name)")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS or _is_run(password):
        raise PasswordRefused(f"password refused (rule: no repetitions or runs of characters; at least "
                              f"{MIN_DISTINCT_CHARACTERS} different characters)")
    common = common_passwords()
    core = lowered.strip(_AROUND)
    if lowered in common or (len(core) >= 4 and core in common):
        raise PasswordRefused("password refused (rule: not one of the 10,000 most common passwords, "
                              "nor one of them with digits or symbols added)")
