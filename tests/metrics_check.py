#!/usr/bin/python3
"""Parses the output of `mmmctl metrics` with prometheus_client's own parser
(python3-prometheus-client) and prints what it understood as JSON, for
tests/test_mmmctl_live.cpp to check: {family: {"type", "help", "samples":
[{"name", "labels", "value"}]}}.

Exit status: 0 parsed, 1 not parseable, 77 the parser is not installed.
Usage: metrics_check.py FILE
"""
import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("prometheus_client is not installed (apt-get install python3-prometheus-client)",
          file=sys.stderr)
    sys.exit(77)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    families = {}
    try:
        for family in text_string_to_metric_families(text):
            if family.name in families:
                raise ValueError("family %s appears twice" % family.name)
            families[family.name] = {
                "type": family.type,
                "help": family.documentation,
                "samples": [{"name": s.name, "labels": dict(s.labels), "value": s.value}
                            for s in family.samples],
            }
    except Exception as e:  # the parser raises ValueError and others on bad input
        print("not the Prometheus text format: %s" % e, file=sys.stderr)
        return 1
    json.dump(families, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
