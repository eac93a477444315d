"""Names of synthesized series, spelled as FlowTime's Rust engine spells them.

Reference: ``reference/flowtime-upstream.md`` §2.2. A topology node ``HubQueue`` owns series
``hub_queue_queue``, ``hub_queue_utilization`` and so on: its id in snake case, then a suffix.
"""

from __future__ import annotations


def snake(name: str) -> str:
    """``name`` in FlowTime's snake case.

    Walking the characters: an upper-case letter after the first position is preceded by
    ``_`` when the character before it is not upper case, or when the character after it is
    lower case; every upper-case letter is lowered; anything else is kept as it is. So
    ``HubQueue`` → ``hub_queue``, ``HTTPService`` → ``http_service``, ``DLQ`` → ``dlq``,
    ``API_Gateway`` → ``api__gateway``.
    """
    out: list[str] = []
    for i, char in enumerate(name):
        if char.isupper():
            if i > 0:
                before_upper = name[i - 1].isupper()
                after_lower = i + 1 < len(name) and name[i + 1].islower()
                if not before_upper or after_lower:
                    out.append("_")
            out.append(char.lower())
        else:
            out.append(char)
    return "".join(out)
