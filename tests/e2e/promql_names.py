"""promql_names.py -- every metric a rendered stream's PromQL reads, found by a real PromQL parser.

Usage: promql_names.py STREAM...   (rendered YAML streams; prints JSON to stdout)

Reads each PrometheusRule (`spec.groups[].rules[].expr`) and each Grafana dashboard ConfigMap
(label `grafana_dashboard: "1"`: every `expr` string anywhere in its JSON documents, and the
templating queries `label_values(EXPR, label)` / `query_result(EXPR)`), parses every expression
with `promql_parser` (PyPI promql-parser: the Rust promql-parser crate, Prometheus' grammar;
installed by tests/e2e/install.sh --only prom) and walks the syntax tree. A regex over the text
would miss names in `{__name__="x"}` or take function names for metrics; the tree does not.

Output: {"exprs": N, "selectors": [{"name", "labels": {label: [op, value]}, "where"}...],
         "recorded": [names defined by `record:` rules], "errors": ["where: message"...]}
A selector without a literal metric name (a regex on __name__) is an error: it cannot be checked.
Grafana variables ($var, ${var}, $__rate_interval) are replaced by `5m` before parsing, which is
valid both as a range and inside a label matcher's string.
"""
import json
import re
import sys

import promql_parser
import yaml

GRAFANA_VAR = re.compile(r"\$__\w+|\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")


def walk(node, where, out, errors):
    """Collects the vector selectors below node; unknown node types are errors, not skipped."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        labels, name = {}, node.name
        ms = list(node.matchers.matchers)
        for group in node.matchers.or_matchers or []:
            ms.extend(group)
        for m in ms:
            op = str(m.op).split(".")[-1]
            if m.name == "__name__":
                if op == "Equal":
                    name = m.value
                else:
                    errors.append(f"{where}: metric name matched by {op} {m.value!r}: cannot be checked")
                continue
            labels[m.name] = [op, m.value]
        if not name:
            errors.append(f"{where}: a selector without a metric name")
            return
        out.append({"name": name, "labels": labels, "where": where})
    elif kind == "MatrixSelector":
        walk(node.vector_selector, where, out, errors)
    elif kind == "BinaryExpr":
        walk(node.lhs, where, out, errors)
        walk(node.rhs, where, out, errors)
    elif kind in ("UnaryExpr", "ParenExpr", "SubqueryExpr"):
        walk(node.expr, where, out, errors)
    elif kind == "AggregateExpr":
        walk(node.expr, where, out, errors)
        if node.param is not None:
            walk(node.param, where, out, errors)
    elif kind == "Call":
        for a in node.args:
            walk(a, where, out, errors)
    elif kind in ("NumberLiteral", "StringLiteral"):
        pass
    else:
        errors.append(f"{where}: unknown PromQL node {kind}")


def parse(expr, where, out, errors):
    try:
        tree = promql_parser.parse(expr)
    except Exception as e:  # the parser raises ValueError with its message
        errors.append(f"{where}: does not parse: {e}: {expr!r}")
        return
    walk(tree, where, out, errors)


def dashboard_exprs(node, path):
    """(path, expr) of every `expr` string and templating query in a dashboard's JSON."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}"
            if k == "expr" and isinstance(v, str):
                yield p, v
            elif k == "templating" and isinstance(v, dict):
                for i, var in enumerate(v.get("list") or []):
                    q = var.get("query") if isinstance(var, dict) else None
                    if isinstance(q, dict):
                        q = q.get("query")
                    if isinstance(var, dict) and var.get("type") == "query" and isinstance(q, str):
                        m = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", q, re.S)
                        r = re.fullmatch(r"\s*query_result\((.*)\)\s*", q, re.S)
                        if m:
                            yield f"{p}.list[{i}].query", m.group(1)
                        elif r:
                            yield f"{p}.list[{i}].query", r.group(1)
            else:
                yield from dashboard_exprs(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from dashboard_exprs(v, f"{path}[{i}]")


def main():
    out, errors, recorded, n = [], [], [], 0
    for src in sys.argv[1:]:
        for d in yaml.safe_load_all(open(src)):
            if not isinstance(d, dict):
                continue
            md = d.get("metadata") or {}
            name = f"{d.get('kind')} {md.get('name')}"
            if d.get("kind") == "PrometheusRule":
                for g in (d.get("spec") or {}).get("groups") or []:
                    for r in g.get("rules") or []:
                        what = r.get("alert") or r.get("record")
                        if r.get("record"):
                            recorded.append(r["record"])
                        n += 1
                        parse(str(r.get("expr", "")), f"{name} {what}", out, errors)
            elif d.get("kind") == "ConfigMap" and str((md.get("labels") or {}).get("grafana_dashboard")) == "1":
                for key, text in (d.get("data") or {}).items():
                    try:
                        board = json.loads(text)
                    except ValueError as e:
                        errors.append(f"{name} {key}: not JSON: {e}")
                        continue
                    for p, expr in dashboard_exprs(board, key):
                        n += 1
                        parse(GRAFANA_VAR.sub("5m", expr), f"{name} {p}", out, errors)
    json.dump({"exprs": n, "selectors": out, "recorded": sorted(set(recorded)), "errors": errors}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
