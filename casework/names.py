"""A gentle check for a personal name in free text (issue 14 item 7).

Case records use references, never a child's or family's name (ARCHITECTURE, privacy; 001 5.7.4's
record of dissent is shared with managers and kept for years). References are checked strictly
(casework.references); free text cannot be, since the bot cannot tell a name from any other word.
So this check only asks: when a dissent's reason or a complaint's summary looks as if it holds a
name, the person is asked to confirm before it is recorded ("Send anyway or edit"). It never refuses.

The rule, kept simple enough to explain to a user:

* two or more capitalised words in a row ("Jane Smith", "Tyler Brown"), or a title followed by a
  capitalised word ("Mr Patel", "Mrs O'Neill");
* where neither word is a common word written with a capital (sentence openers, days, months), a
  known agency, place, role or procedure term ("Sussex Police", "Child Protection Plan",
  "Health Visitor", "Brighton and Hove");
* and the words are not a registered professional's display name on the case (they are professionals,
  whose names are fine to keep).

It is deliberately lenient: a miss costs what it costs today (the text is kept in its record, never
in the audit log, and can be redacted with ``cpc case redact``); a false alarm costs one tap.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

#: Titles that are followed by a surname: "Mr Patel" is a name even alone.
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})

#: Capitalised words that are not names: sentence openers and function words people capitalise,
#: days and months, and the words of agencies, places, roles and procedures that appear in dissents
#: and complaints. Lower case; matched per word.
NOT_NAMES = frozenset(
    " ".join(
        (
            "a an the this that these those it its i we you he she they his her their our my your and or but if",
            "when while as at by for from in into of on to with without not no nor so yet all any each every some",
            "none both either neither there here what which who whom whose why how was were is are be been being",
            "has have had do does did will would shall should can could may might must also however therefore",
            "although because since after before during until then than monday tuesday wednesday thursday friday",
            "saturday sunday january february march april may june july august september october november",
            "december mon tue wed thu fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec child children",
            "protection plan plans conference conferences initial review core group meeting strategy section",
            "enquiry enquiries assessment safeguarding partnership procedures procedure summary chair chairs",
            "reviewing officer officers manager managers head service services team social care worker workers",
            "work police constable sergeant detective inspector health visitor visitors nurse nursing midwife",
            "midwifery gp doctor school schools education teacher headteacher designated safeguarding lead leads",
            "dsl camhs nhs trust hospital ambulance probation youth justice housing council county borough city",
            "local authority authorities children's adult adults family families parent parents mother father",
            "carer carers grandparent guardian advocate stage panel complaint complaints independent person",
            "investigator decision dissent outcome resolving professional professionals differences escalation",
            "briefing threshold multi agency pan sussex east west brighton hove london hackney england kent",
            "surrey hampshire ofsted lado mash marac mappa cpc cp ic icpc rcpc cin lac send ehcp early help",
            "support",
        )
    ).split()
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _capitalised(word: str) -> bool:
    """ "Jane", "O'Neill", "Smith-Jones"; not "JANE" (an acronym or shouting) nor "jane"."""
    return word[0].isupper() and not word.isupper() and any(ch.islower() for ch in word)


def possible_name(text: str, professionals: Iterable[str] = ()) -> str | None:
    """The first words of ``text`` that look like a personal name, or None (see the module docstring).

    ``professionals`` are registered professionals' display names: their words are not flagged."""
    known = {w.lower() for name in professionals for w in _WORD.findall(name)}
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
    for (first, _s, end), (second, start, _e) in itertools.pairwise(words):
        if text[end:start].strip():  # punctuation between them ("Police, Health"): not one name
            continue
        if first.lower().rstrip(".") in TITLES and _capitalised(second) and second.lower() not in known:
            return f"{first} {second}"
        if not (_capitalised(first) and _capitalised(second)):
            continue
        pair = (first.lower().strip("'’"), second.lower().strip("'’"))
        if any(w in NOT_NAMES or w.removesuffix("'s") in NOT_NAMES or w in known for w in pair):
            continue
        return f"{first} {second}"
    return None
