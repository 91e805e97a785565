"""Extract the FEEL conformance corpus from camunda/feel-scala's test suite.

Reads the Scala tests under src/test/scala/org/camunda/feel/impl/{builtin,interpreter} of a checkout
(a git directory, e.g. the ``fetch`` mirror) and writes bench/feel/feel_scala_corpus.jsonl: one case a line,
``{"category": <test file>, "expr": ..., "vars": {...}, "expected": <JSON>}`` (plus ``"input"`` for unary
tests, ``"error": true`` where the reference fails). Typed results are ``{"@type": "date"|"time"|
"date and time"|"duration", "value": ISO text}``. Only assertions whose arguments are literals
(strings, numbers, booleans, null, List/Map, java.time parse calls, Val* values) are translated; the
rest (Java beans, custom functions, clocks) are skipped and counted in the header line.

    python bench/feel/extract_corpus.py /work/.mirror/camunda+feel-scala/repo [REV]
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FILES = "src/test/scala/org/camunda/feel/impl"
CALLS = ("evaluateUnaryTests", "evaluateExpression", "eval", "evalUnaryTests")


class Skip(Exception):
    pass


class ScalaValues:
    """A tiny reader of Scala literal arguments."""

    def __init__(self, text: str, constants: dict[str, Any]) -> None:
        self.text = text
        self.i = 0
        self.constants = constants

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.i)

    def eat(self, s: str) -> None:
        if not self.peek(s):
            raise Skip(f"expected {s!r} at {self.text[self.i:self.i + 30]!r}")
        self.i += len(s)

    def string(self) -> str:
        self.ws()
        if self.text.startswith('"""', self.i):
            end = self.text.index('"""', self.i + 3)
            while self.text.startswith('"', end + 3):
                end += 1
            value = self.text[self.i + 3:end]
            self.i = end + 3
            if self.peek(".stripMargin"):
                raise Skip("stripMargin")
            return value
        if self.text.startswith('"', self.i):
            j = self.i + 1
            out = []
            while self.text[j] != '"':
                if self.text[j] == "\\":
                    nxt = self.text[j + 1]
                    if nxt == "u":
                        out.append(chr(int(self.text[j + 2:j + 6], 16)))
                        j += 6
                        continue
                    out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}.get(nxt, nxt))
                    j += 2
                    continue
                out.append(self.text[j])
                j += 1
            self.i = j + 1
            return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")
        raise Skip("not a string")

    def args(self) -> list[tuple[str | None, Any]]:
        self.eat("(")
        items: list[tuple[str | None, Any]] = []
        while not self.peek(")"):
            name = None
            m = re.match(r"\s*(\w+)\s*=(?!=)", self.text[self.i:])
            if m and not self.text[self.i:].lstrip().startswith(("true", "false")):
                name = m.group(1)
                self.i += m.end()
            items.append((name, self.value()))
            if self.peek(","):
                self.eat(",")
        self.eat(")")
        return items

    def value(self) -> Any:
        self.ws()
        t = self.text[self.i:]
        if t.startswith('"'):
            return self.string()
        m = re.match(r"-?\d+(\.\d+)?([eE][+-]?\d+)?[LdfD]?", t)
        if m and not t[m.end():m.end() + 1].isalpha() and not t[m.end():].lstrip().startswith(("to ", ".")):
            self.i += m.end()
            text = m.group(0).rstrip("LdfD")
            return float(text) if ("." in text or "e" in text.lower()) else int(text)
        for word, val in (("true", True), ("false", False), ("null", None), ("ValNull", None), ("Nil", []),
                          ("List.empty", []), ("Map.empty", {}), ("List()", []), ("Map()", {})):
            if t.startswith(word) and not (t[len(word):len(word) + 1].isalnum()):
                self.i += len(word)
                if word in ("List.empty", "Map.empty") and self.peek("["):
                    self.i = self.text.index("]", self.i) + 1
                return [] if isinstance(val, list) else ({} if isinstance(val, dict) else val)
        m = re.match(r"(List|Seq|Map|ValList|ValContext|ValNumber|ValBoolean|ValString|ValDate|ValTime|ValLocalTime|"
                     r"ValDateTime|ValLocalDateTime|ValDayTimeDuration|ValYearMonthDuration|LocalDate\.parse|"
                     r"LocalTime\.parse|LocalDateTime\.parse|ZonedDateTime\.parse|OffsetTime\.parse|"
                     r"Duration\.parse|Period\.parse|BigDecimal|java\.math\.BigDecimal\.valueOf)\s*(?=\()", t)
        if m:
            head = m.group(1)
            self.i += m.end()
            if head in ("Map",):
                return self.map()
            args = [v for _, v in self.args()]
            if head in ("List", "Seq", "ValList"):
                return args if head != "ValList" else args[0]
            if head in ("ValNumber", "ValBoolean", "ValString", "BigDecimal", "java.math.BigDecimal.valueOf"):
                value = args[0]
                if head == "BigDecimal" and isinstance(value, str):
                    value = float(value) if "." in value else int(value)
                return value
            if len(args) != 1:
                raise Skip(head)
            inner = args[0]
            if isinstance(inner, dict) and "@type" in inner:
                return inner
            kinds = {"ValDate": "date", "LocalDate.parse": "date", "ValTime": "time", "ValLocalTime": "time",
                     "LocalTime.parse": "time", "OffsetTime.parse": "time", "ValDateTime": "date and time",
                     "ValLocalDateTime": "date and time", "LocalDateTime.parse": "date and time",
                     "ZonedDateTime.parse": "date and time", "ValDayTimeDuration": "duration",
                     "ValYearMonthDuration": "duration", "Duration.parse": "duration", "Period.parse": "duration"}
            if head == "ValContext":
                raise Skip("ValContext")
            if not isinstance(inner, str):
                raise Skip(head)
            return {"@type": kinds[head], "value": inner}
        m = re.match(r"[A-Za-z_]\w*", t)
        if m and m.group(0) in self.constants and not t[m.end():].lstrip().startswith(("(", ".")):
            self.i += m.end()
            return self.constants[m.group(0)]
        raise Skip(f"value {t[:40]!r}")

    def map(self) -> dict[str, Any]:
        self.eat("(")
        result: dict[str, Any] = {}
        while not self.peek(")"):
            key = self.string()
            self.eat("->")
            result[key] = self.value()
            if self.peek(","):
                self.eat(",")
        self.eat(")")
        return result


def _typed(value: Any) -> bool:
    if isinstance(value, dict):
        return "@type" in value or any(_typed(v) for v in value.values())
    if isinstance(value, list):
        return any(_typed(v) for v in value)
    return False


def _balanced(text: str, start: int) -> int:
    """The index after the parenthesis closing the one at ``start`` (strings skipped)."""
    depth, i = 0, start
    while i < len(text):
        if text.startswith('"""', i):
            i = text.index('"""', i + 3) + 3
            while i < len(text) and text[i] == '"':
                i += 1
            continue
        ch = text[i]
        if ch == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise Skip("unbalanced")


def _expected(reader: ScalaValues) -> dict[str, Any]:
    t = reader.text[reader.i:].lstrip()
    reader.ws()
    if t.startswith("should"):
        reader.i += 6
        reader.ws()
        t = reader.text[reader.i:]
    else:
        raise Skip("no should")
    t = re.sub(r"^\(\s+", "(", t)
    if t.startswith("(returnNull() and reportFailure") or t.startswith("returnNull()"):
        return {"expected": None}
    if t.startswith("failToParse()") or t.startswith("failWith(") or t.startswith("(failWith") or \
            t.startswith("failToParse"):
        return {"error": True}
    for head in ("returnResult", "be"):
        if t.startswith(head + "("):
            reader.i += len(head)
            args = reader.args()
            if len(args) != 1:
                raise Skip("matcher args")
            return {"expected": args[0][1]}
    raise Skip(f"matcher {t[:30]!r}")


def extract(text: str, category: str, skipped: dict[str, int]) -> list[dict[str, Any]]:
    constants: dict[str, Any] = {}
    for m in re.finditer(r"val (\w+)\s*=\s*(\"\"\".*?\"\"\"|\"(?:[^\"\\]|\\.)*\")", text, re.S):
        with contextlib.suppress(Skip):
            constants[m.group(1)] = ScalaValues(m.group(2), {}).string()
    cases = []
    pattern = re.compile(r"(?<![\w.])(" + "|".join(CALLS) + r")\s*\(")
    for m in pattern.finditer(text):
        line_start = text.rfind("\n", 0, m.start())
        if text[line_start:m.start()].strip().startswith(("def ", "private", "//")):
            continue
        try:
            end = _balanced(text, m.end() - 1)
            reader = ScalaValues(text[:end], constants)
            reader.i = m.end() - 1
            args = reader.args()
            after = ScalaValues(text, constants)
            after.i = end
            expectation = _expected(after)
            unary = m.group(1) in ("evaluateUnaryTests", "evalUnaryTests")
            positional = [v for n, v in args if n is None]
            named = {n: v for n, v in args if n is not None}
            if "expression" in named:
                positional.insert(0, named.pop("expression"))
            expr = positional[0]
            if not isinstance(expr, str):
                raise Skip("expression not a string")
            case: dict[str, Any] = {"category": category, "expr": expr}
            variables: Any = {}
            if unary:
                if len(positional) < 2 and "inputValue" not in named:
                    raise Skip("unary without input")
                case["input"] = positional[1] if len(positional) > 1 else named["inputValue"]
                rest = positional[2:]
            else:
                rest = positional[1:]
            if rest:
                variables = rest[0]
            variables = named.get("variables", variables)
            if set(named) - {"variables", "inputValue"} or not isinstance(variables, dict):
                raise Skip("other arguments")
            if _typed(variables):
                raise Skip("typed variable (Zeebe variables are JSON)")
            case["vars"] = variables
            case.update(expectation)
            if "withClock" in text[max(0, m.start() - 400):m.start()] and ("now()" in expr or "today()" in expr):
                raise Skip("clock")
            cases.append(case)
        except (Skip, ValueError, IndexError) as reason:
            key = f"{category}: {str(reason)[:30]}"
            skipped[key] = skipped.get(key, 0) + 1
    return cases


def main() -> int:
    repo = Path(sys.argv[1])
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", rev], capture_output=True, text=True,
                            check=True).stdout.strip()
    names = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", commit, FILES],
                           capture_output=True, text=True, check=True).stdout.split()
    skipped: dict[str, int] = {}
    cases: list[dict[str, Any]] = []
    for name in sorted(names):
        if not name.endswith("Test.scala") or ("/builtin/" not in name and "/interpreter/" not in name):
            continue
        text = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{name}"], capture_output=True, text=True,
                              check=True).stdout
        cases.extend(extract(text, Path(name).stem, skipped))
    out = Path(__file__).with_name("feel_scala_corpus.jsonl")
    header = {"header": {"source": f"https://github.com/camunda/feel-scala/tree/{commit}/{FILES}",
                         "license": "Apache-2.0 (the expressions and expectations come from feel-scala's tests)",
                         "generated_by": "bench/feel/extract_corpus.py", "cases": len(cases),
                         "skipped_assertions": sum(skipped.values())}}
    with out.open("w") as f:
        f.write(json.dumps(header) + "\n")
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, {sum(skipped.values())} assertions skipped -> {out}", file=sys.stderr)
    for key, count in sorted(skipped.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {count:4d} {key}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
