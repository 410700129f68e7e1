"""Run DNS queries (dnspython) and print the results as JSON; run inside a lab network namespace.

    python dnsquery.py '[["10.94.2.12", "mail.soctrang.gov.vn", "A", true], ...]'
Each query: server, name, type, recursion desired. Output: one object per query, in order, with
rcode, answers (text of every record of the answer section) and ra (recursion available).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


def ask(server: str, name: str, rdtype: str, recursion: bool) -> dict[str, Any]:
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    if not recursion:
        query.flags &= ~dns.flags.RD
    try:
        response = dns.query.udp(query, server, timeout=3)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, server, timeout=5)
    except Exception as exc:  # a timeout is a result too
        return {"error": f"{type(exc).__name__}: {exc}"}
    answers = [rr.to_text() for rrset in response.answer for rr in rrset]
    return {
        "rcode": dns.rcode.to_text(response.rcode()),
        "answers": answers,
        "ra": bool(response.flags & dns.flags.RA),
        "aa": bool(response.flags & dns.flags.AA),
    }


def main() -> None:
    queries = json.loads(sys.argv[1])
    print(json.dumps([ask(s, n, t, bool(rd)) for s, n, t, rd in queries]))


if __name__ == "__main__":
    main()
