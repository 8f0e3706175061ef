"""Every refusal a service writes is for a person: Chinese, saying what to do, without English words or field names.

A refusal (a `DomainError` or a `FieldProblem`) reaches people twice: as the `detail` and `reason` of the API's
problem details, and on the pages' error and form messages; an importer's problem with a row (`Problem(line, field,
reason)`, `problems.add(line, field, reason)`) is printed by the command line, listed by the API and the pages and
written to the downloadable report, as written. This walks the source for every such call and reads the words the
code writes itself (the literal parts of a string or f-string; what is filled in at run time, such as a date, a
registration number or the value a file held, is not checked).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matchmaker

PACKAGE = Path(matchmaker.__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[a-z]{3,}")   # a lowercase word or a field name (signed_on, trial_ends_on)
# Words a Chinese message names as they are written: an HTTP header and its scheme, a standard, file kinds and
# the endings of their names (.xlsx), and the command line's option that names a file's format.
KEPT_AS_WRITTEN = ("Idempotency-Key", "Authorization: Bearer", "Bearer", "GB/T", "Excel", "PDF", "CSV", "WPS",
                   "YYYY", "API", ".xlsx", ".csv", ".jsonl", "--format")
ERRORS = {"DomainError", "InvalidInput", "NotAuthenticated", "Forbidden", "NotFound", "Conflict", "ImportRefused",
          "AccountNotReady", "RegistryImportRefused"}


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and func.attr in ("on", "add") and isinstance(func.value, ast.Name):
        return func.value.id + "." + func.attr
    return None


def _words(node: ast.expr) -> str | None:
    """The text the code itself writes in a message argument, or None when the argument is not a string literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _words(node.left), _words(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    if isinstance(node, ast.IfExp):   # one message or another: both are read
        first, second = _words(node.body), _words(node.orelse)
        return None if first is None and second is None else (first or "") + " " + (second or "")
    return None


def _assigned(tree: ast.AST) -> dict[str, list[ast.expr]]:
    """The string expressions bound to each name in a module (a message is often built first: `reason = …`)."""
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name) and node.value:
            target, value = node.target.id, node.value
        else:
            continue
        if _words(value) is not None:
            bound.setdefault(target, []).append(value)
    return bound


def _messages(tree: ast.AST, constants: dict[str, list[ast.expr]] | None = None):
    """(line, words) of every refusal's text: written in the call, or bound to the name the call passes (in the
    module, or a module-level constant of another module: `parties.NO_DEAL`)."""
    bound = _assigned(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        if name in ERRORS:
            texts = node.args[:1]
        elif name and name.removesuffix(".on") in ERRORS or name == "FieldProblem":
            texts = node.args[1:2]   # .on(field, reason) and FieldProblem(field, reason): the field is a name
        elif name in ("Problem", "problems.add"):
            texts = node.args[2:3]   # Problem(line, field, reason) and problems.add(line, field, reason)
        else:
            continue
        for arg in texts:
            if isinstance(arg, ast.Name):
                values = bound.get(arg.id) or (constants or {}).get(arg.id, [])
            elif isinstance(arg, ast.Attribute):
                values = (constants or {}).get(arg.attr, [])
            else:
                values = [arg]
            for value in values:
                words = _words(value)
                if words is not None:
                    yield node.lineno, words


def _constants(trees: list[ast.AST]) -> dict[str, list[ast.expr]]:
    """Module-level string constants of the whole package, by name (NO_DEAL, LINK_SPENT)."""
    found: dict[str, list[ast.expr]] = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id.isupper() and _words(node.value) is not None:
                found.setdefault(node.targets[0].id, []).append(node.value)
    return found


def _wrong(words: str) -> str | None:
    if not CJK.search(words):   # punctuation alone joins reasons written (and read here) elsewhere
        return "no Chinese" if re.search(r"[A-Za-z]", words) else None
    for kept in KEPT_AS_WRITTEN:
        words = words.replace(kept, "")
    english = ENGLISH.findall(words)
    return f"English words {english}" if english else None


def test_every_refusal_a_service_writes_is_in_chinese():
    wrong = []
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))
             if "migrations" not in path.parts}
    constants = _constants(list(trees.values()))
    for path, tree in trees.items():
        for line, words in _messages(tree, constants):
            why = _wrong(words)
            if why:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {why}: {words!r}")
    assert not wrong, f"{len(wrong)} refusals a person reads are not in Chinese:\n" + "\n".join(wrong)


def test_the_check_finds_an_english_refusal():
    # The walk above must see through the ways messages are written here, or it passes by seeing nothing.
    source = '''
raise NotFound(f"contract {contract_id} not found")
raise InvalidInput.on("trial_ends_on", "required when payment_mode is use_first_pay_later")
problems.append(FieldProblem("signed_on", f"{when} is in the future"))
raise Conflict("该合同已经登记，" + f"登记号 {number}")
problems.add(row.line, "id", f"'{external_id}' appears twice in this file (first on line {first})")
raise ImportRejected([Problem(WHOLE_FILE, "$", "the database refused the rows")])
problems.add(row.line, "id", f"编号“{external_id}”在平台上已存在，请改用新的编号")
raise InvalidInput(f"第 {line} 行有误" if line else "the file is empty")
reason = f"{kind} {record.id} expired on {ends_on}"
raise Conflict(reason, problems=[FieldProblem(field, reason)])
raise NotFound(parties.NO_DEAL)
'''
    constants = _constants([ast.parse('NO_DEAL = "no deal between these two is open to you"')])
    found = [(line, _wrong(words)) for line, words in _messages(ast.parse(source), constants)]
    assert sorted(line for line, why in found if why) == [2, 3, 4, 6, 7, 9, 11, 11, 12]
    assert sorted(line for line, why in found if not why) == [5, 8]
