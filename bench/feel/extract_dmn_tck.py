"""Extract a second FEEL conformance corpus from the DMN TCK (github.com/dmn-tck/tck).

Reads TestCases/compliance-level-3/*-feel-* of a checkout (a git directory, e.g. the ``fetch`` mirror):
each decision whose logic is one FEEL literal expression, with no information requirements, and each
test case without input data, becomes ``{"category": "tck:<directory>", "expr", "vars": {},
"expected" | "error_or_null"}`` in bench/feel/dmn_tck_corpus.jsonl. The TCK tests standard DMN FEEL;
where it expects an error, Camunda 8 answers null, so either passes ("error_or_null"). Skipped: the
clock (now/today) and external Java function directories.

    python bench/feel/extract_dmn_tck.py /work/.mirror/dmn-tck+tck/repo [REV]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from lxml import etree

BASE = "TestCases/compliance-level-3"
SKIP = ("1148-feel-now-function", "1149-feel-today-function", "0076-feel-external-java")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
TYPED = {"date": "date", "dateTime": "date and time", "time": "time", "duration": "duration"}


def _local(element: Any) -> str:
    return etree.QName(element).localname


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _value(node: Any) -> Any:
    """A TCK ``<value>``, ``<list>`` or ``<component>`` holder as JSON."""
    for child in node:
        if not isinstance(child.tag, str):
            continue
        kind = _local(child)
        if kind == "value":
            if child.get(XSI_NIL) == "true":
                return None
            text = child.text or ""
            xsd = (child.get(XSI_TYPE) or "xsd:string").split(":")[-1]
            if xsd in ("decimal", "double", "integer", "int", "long", "float"):
                number = float(text)
                return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
                    else number
            if xsd == "boolean":
                return text.strip() == "true"
            if xsd in TYPED:
                return {"@type": TYPED[xsd], "value": text.strip()}
            if xsd in ("string", "anyType"):
                return text
            raise ValueError(f"value type {xsd}")
        if kind == "list":
            return [_value(item) for item in _children(child, "item")]
        if kind == "component":
            return {c.get("name"): _value(c) for c in _children(node, "component")}
    return None


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def main() -> int:
    repo = Path(sys.argv[1])
    commit = _git(repo, "rev-parse", sys.argv[2] if len(sys.argv) > 2 else "HEAD").strip()
    directories = [d for d in _git(repo, "ls-tree", "--name-only", commit, BASE + "/").split()
                   if "-feel-" in d and not d.endswith(SKIP)]
    cases: list[dict[str, Any]] = []
    skipped = 0
    for directory in sorted(directories):
        files = _git(repo, "ls-tree", "--name-only", commit, directory + "/").split()
        expressions: dict[str, str] = {}
        for dmn in (f for f in files if f.endswith(".dmn")):
            root = etree.fromstring(_git(repo, "show", f"{commit}:{dmn}").encode())
            for decision in root.iter("{*}decision"):
                literal = list(decision.iter("{*}literalExpression"))
                if list(decision.iter("{*}informationRequirement")) or len(literal) != 1:
                    continue
                text = list(literal[0].iter("{*}text"))
                if text and text[0].text:
                    expressions[decision.get("name") or ""] = text[0].text
        for test in (f for f in files if f.endswith(".xml")):
            root = etree.fromstring(_git(repo, "show", f"{commit}:{test}").encode())
            for case in root.iter("{*}testCase"):
                if list(case.iter("{*}inputNode")):
                    skipped += 1
                    continue
                for result in case.iter("{*}resultNode"):
                    name = result.get("name")
                    if name not in expressions:
                        skipped += 1
                        continue
                    row: dict[str, Any] = {"category": "tck:" + Path(directory).name, "expr": expressions[name],
                                           "vars": {}}
                    try:
                        row["expected"] = _value(_children(result, "expected")[0])
                    except (ValueError, IndexError):
                        skipped += 1
                        continue
                    if result.get("errorResult") == "true":
                        row["error_or_null"] = True
                    cases.append(row)
    out = Path(__file__).with_name("dmn_tck_corpus.jsonl")
    header = {"header": {"source": f"https://github.com/dmn-tck/tck/tree/{commit}/{BASE}",
                         "license": "Apache-2.0 (the DMN TCK's test cases)",
                         "generated_by": "bench/feel/extract_dmn_tck.py", "cases": len(cases),
                         "skipped_results": skipped}}
    with out.open("w") as f:
        f.write(json.dumps(header) + "\n")
        for row in cases:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, {skipped} results skipped -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
