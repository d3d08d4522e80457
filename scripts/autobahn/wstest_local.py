# -*- coding: utf-8 -*-
"""Python 2 wrapper around Autobahn's `wstest` used by run.sh.

Run it with the testsuite virtualenv's interpreter:

    $AUTOBAHN_VENV/bin/python scripts/autobahn/wstest_local.py -m fuzzingserver -s SPEC -u 0
    $AUTOBAHN_VENV/bin/python scripts/autobahn/wstest_local.py --list-cases SPEC

Differences from plain `wstest`:

* Every listening socket wstest opens (the fuzzing server, the optional web
  port) is bound to $AUTOBAHN_BIND (default 127.0.0.1) instead of all
  interfaces: upstream `listenWS` binds to '' (0.0.0.0).
* `--list-cases SPEC` prints the case ids the spec selects (after "cases" and
  "exclude-cases"), one per line, in run order, and exits. run.sh feeds that
  list to check.py so a run that silently skipped cases is caught.
"""
import json
import sys

BIND = None


def _list_cases(spec_path):
    from autobahntestsuite.case import (Cases, CaseSetname, CaseBasename,
                                        CaseCategories, CaseSubCategories)
    from autobahntestsuite.caseset import CaseSet
    with open(spec_path) as f:
        spec = json.load(f)
    cs = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
    for case_id in cs.parseSpecCases(spec):
        print(case_id)
    return 0


def _main():
    import os
    global BIND
    BIND = os.environ.get("AUTOBAHN_BIND", "127.0.0.1")

    if len(sys.argv) == 3 and sys.argv[1] == "--list-cases":
        return _list_cases(sys.argv[2])

    # Importing wstest first installs the epoll reactor (it must be first).
    from autobahntestsuite import wstest
    from twisted.internet import reactor

    orig_tcp = reactor.listenTCP
    orig_ssl = reactor.listenSSL

    def listenTCP(port, factory, backlog=50, interface=''):
        return orig_tcp(port, factory, backlog, interface or BIND)

    def listenSSL(port, factory, contextFactory, backlog=50, interface=''):
        return orig_ssl(port, factory, contextFactory, backlog, interface or BIND)

    reactor.listenTCP = listenTCP
    reactor.listenSSL = listenSSL

    sys.argv[0] = "wstest"
    return wstest.run() or 0


if __name__ == "__main__":
    sys.exit(_main())
