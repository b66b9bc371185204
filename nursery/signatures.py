"""A typed signature must be the signer's own name as the nursery has it.

A ledger row reads "given by Grace Okafor, signed Grace Okafor": a parent typing "Mickey Mouse" is not a
signature. Compared leniently, as people type: case, accents, spacing, hyphens and apostrophes do not matter,
and middle names may be added or left out ("grace a. okafor", "Grace OKAFOR", "Gráce Okafor" all sign for
Grace Okafor). The first given name and every part of the surname must be there, in that order.
"""

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+")


def name_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['’`.]", "", text).casefold()  # O'Brien, O’Brien and OBrien are one name
    return _WORD.findall(text)


def signs_for(signature: str, person) -> bool:
    typed = name_words(signature)
    given, family = name_words(person.first_name), name_words(person.last_name)
    if not given or not family:
        return False
    return len(typed) > len(family) and typed[0] == given[0] and typed[-len(family):] == family


def mismatch_message(person, *, own: bool) -> str:
    """What the form says when the signature is not ``person``'s name (``own``: the person is signing)."""
    name = person.get_full_name()
    if not name.strip():
        return ("There is no full name on record for this person, so a signature cannot be checked: please ask "
                "the nursery to add it.")
    if own:
        return f"Please sign with your full name as the nursery has it: {name}. If it is wrong, tell the nursery."
    return f"The name written on the form must be the name of the parent or carer chosen ({name})."
