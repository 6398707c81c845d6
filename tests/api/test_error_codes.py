"""docs/api/errors.md lists every error code the API can answer, once, with its status.

The codes are collected from the code itself, not from a list kept beside it:

- every ``ServiceError`` (or subclass) and DRF exception the code constructs, with the code it
  passes (a literal, a constant of a module's ``errors.py``, either branch of a conditional, or
  an argument of the helper that builds the error) or its class's default code; the status is
  the one ``api.errors`` gives its class;
- the codes the HTTP layer writes itself (``error_response``/``error_body`` in ``api/``), the
  status codes it names (``api.errors._DEFAULT_CODES``), and those of the gunicorn workers;
- DRF's own exceptions and simplejwt's authentication failures, which the API lets through;
- field codes (inside ``errors`` of a ``validation_error``) that our code names itself.

A code found here and missing from the doc fails, and so does a code in the doc that the code
no longer answers; the failure prints the rows to add.
"""

import ast
import importlib
import inspect
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework import fields as drf_fields
from rest_framework import relations as drf_relations
from rest_framework import serializers as drf_serializers
from rest_framework_simplejwt import authentication as jwt_authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from api import errors as api_errors
from apps.support.common.errors import ServiceError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api" / "errors.md"
SOURCES = ("api", "apps", "config")

# Constants of an errors.py module that are not error codes of the API.
NOT_ANSWERED = {
    "abandoned": "a payment's failure_code (payments.errors.ABANDONED), stored, never an error",
    "interrupted": "a payment's failure_code (payments.errors.INTERRUPTED), stored, never an error",
}

Codes = dict[str, set[int | None]]


def _modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or relative.parts[:2] == ("config", "settings"):
                continue
            if path.name == "admin.py":  # the back office's forms, not the API
                continue
            name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            found.append((name, path, ast.parse(path.read_text(), str(path))))
    return found


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _evaluate(expr: ast.expr, namespace: dict[str, Any]) -> Any:
    """A dotted name (``errors.SOLD_OUT``, ``ConflictError``) in a module's namespace."""
    root = expr
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id in ("self", "cls"):
        raise LookupError
    try:
        return eval(compile(ast.Expression(expr), "<code>", "eval"), dict(namespace))  # noqa: S307
    except (NameError, AttributeError) as error:
        raise LookupError from error


class Resolver:
    """The strings an expression passed as ``code=`` can hold."""

    def __init__(self, tree: ast.Module, namespace: dict[str, Any], where: str) -> None:
        self.tree, self.namespace, self.where = tree, namespace, where
        self.parents = _parents(tree)

    def codes(self, expr: ast.expr, at: ast.AST) -> set[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.codes(expr.body, at) | self.codes(expr.orelse, at)
        try:
            value = _evaluate(expr, self.namespace)
        except LookupError:
            return self._argument(expr, at)
        if not isinstance(value, str):
            raise AssertionError(f"{self.where}:{at.lineno}: code is not a string")
        return {value}

    def _argument(self, expr: ast.expr, at: ast.AST) -> set[str]:
        """A parameter of the helper that builds the error: what its callers pass."""
        function = at
        while function is not None and not isinstance(function, ast.FunctionDef):
            function = self.parents.get(function)  # type: ignore[assignment]
        names = [arg.arg for arg in function.args.args] if function else []
        if not isinstance(expr, ast.Name) or expr.id not in names:
            raise AssertionError(
                f"{self.where}:{at.lineno}: cannot tell which error code "
                f"`{ast.unparse(expr)}` holds; use a literal or a constant of an errors.py"
            )
        position = names.index(expr.id)
        codes: set[str] = set()
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            if call.func.id != function.name:
                continue
            passed = {k.arg: k.value for k in call.keywords}.get(expr.id)
            if passed is None and position < len(call.args):
                passed = call.args[position]
            if passed is not None:
                codes |= self.codes(passed, call)
        if not codes:
            raise AssertionError(f"{self.where}: no caller of {function.name} passes a code")
        return codes


def _status_of_service_error(cls: type[ServiceError]) -> int:
    return next(code for klass, code in api_errors._SERVICE_ERROR_STATUS if issubclass(cls, klass))


def _is_field_error_callable(value: Any) -> bool:
    if value in (drf_exceptions.ErrorDetail, DjangoValidationError):
        return True
    if inspect.isclass(value):
        if issubclass(value, drf_exceptions.ValidationError | DjangoValidationError):
            return True
        return value.__module__ == django_validators.__name__
    return False


def collect() -> tuple[Codes, set[str], set[str]]:
    """(error codes with their statuses, field codes of our own, codes of errors.py modules)."""
    codes: Codes = defaultdict(set)
    field_codes: set[str] = set()
    declared: set[str] = set()
    for name, path, tree in _modules():
        module = importlib.import_module(name)
        resolver = Resolver(tree, vars(module), str(path.relative_to(ROOT)))
        if path.name == "errors.py" and name.startswith("apps."):
            declared |= {
                value
                for key, value in vars(module).items()
                if key.isupper() and isinstance(value, str)
            }
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                value = node.values[keys.index("code")] if "code" in keys else None
                if "field" in keys and isinstance(value, ast.Constant):
                    field_codes.add(value.value)  # a field error written by hand
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "fail" and node.args:
                field_codes |= resolver.codes(node.args[0], node)  # self.fail("key")
                continue
            keyword = {k.arg: k.value for k in node.keywords}
            if isinstance(node.func, ast.Name) and node.func.id in ("error_response", "error_body"):
                # A literal code; the others pass on what they were given (DRF's, the
                # defaults of api.errors), collected below.
                if isinstance(keyword.get("code"), ast.Constant):
                    given = node.args[1] if len(node.args) > 1 else None
                    number = given.value if isinstance(given, ast.Constant) else None
                    codes[keyword["code"].value].add(number)
                continue
            try:
                called = _evaluate(node.func, vars(module))
            except LookupError:
                continue
            if inspect.isclass(called) and issubclass(called, ServiceError):
                found = (
                    resolver.codes(keyword["code"], node)
                    if "code" in keyword
                    else {called.default_code}
                )
                for code in found:
                    codes[code].add(_status_of_service_error(called))
            elif _is_field_error_callable(called) and "code" in keyword:
                field_codes |= resolver.codes(keyword["code"], node)
            elif inspect.isclass(called) and issubclass(called, drf_exceptions.APIException):
                passed = keyword.get("code")
                found = resolver.codes(passed, node) if passed else {str(called.default_code)}
                for code in found:
                    codes[code].add(called.status_code)

    # Subclasses of ServiceError that set their own default code.
    for cls in _all_subclasses(ServiceError):
        codes[cls.default_code].add(_status_of_service_error(cls))
    # Statuses the HTTP layer names itself when it rewrites another layer's error page.
    for number, code in api_errors._DEFAULT_CODES.items():
        codes[code].add(number)
    codes["error"].add(None)  # any other status
    # The gunicorn workers' answers to requests that never reached Django.
    from config.gunicorn_workers import _code_and_message

    for number in range(400, 600):
        code, _message = _code_and_message(number)
        codes[code].add(number if code != "error" else None)
    # DRF's own exceptions (validation errors become validation_error, field by field).
    for cls in _all_subclasses(drf_exceptions.APIException):
        if cls.__module__ == drf_exceptions.__name__ and cls is not drf_exceptions.ValidationError:
            codes[str(cls.default_code)].add(cls.status_code)
    # simplejwt's authentication (JWTAuthentication is a default authentication class).
    codes[str(InvalidToken.default_code)].add(InvalidToken.status_code)
    source = inspect.getsource(jwt_authentication)
    for code in re.findall(r'code="([a-z_]+)"', source):
        if code == "password_changed" and not jwt_settings.CHECK_REVOKE_TOKEN:
            continue  # only checked when CHECK_REVOKE_TOKEN is on
        codes[code].add(401)
    return dict(codes), field_codes, declared


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def drf_field_codes() -> set[str]:
    """Codes of DRF's and Django's own field checks, which the doc may name as examples."""
    found = {"unique", "invalid"}
    for module in (drf_fields, drf_relations, drf_serializers):
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, drf_fields.Field):
                found |= set(getattr(value, "default_error_messages", {}))
    for value in vars(django_validators).values():
        code = getattr(value, "code", None)
        if isinstance(code, str):
            found.add(code)
    return found


ROW = re.compile(r"^\|\s*([^|]*?)\s*\|\s*`([a-z_]+)`\s*\|")


def documented() -> tuple[dict[str, str], list[str]]:
    """The doc's error table ({code: status cell}) and its field codes (in order)."""
    errors_table: dict[str, str] = {}
    fields: list[str] = []
    section = None
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
        match = ROW.match(line)
        if not match:
            continue
        status, code = match.groups()
        if section == "field codes":
            fields.append(code)
        else:
            assert code not in errors_table, f"`{code}` is listed twice in {DOC.name}"
            errors_table[code] = status
    return errors_table, fields


@pytest.fixture(scope="module")
def from_code() -> tuple[Codes, set[str], set[str]]:
    return collect()


def test_every_error_code_is_documented_once_with_its_status(from_code):
    codes, _fields, _declared = from_code
    table, _field_list = documented()
    missing = sorted(set(codes) - set(table))
    rows = [
        f"| {', '.join(str(s) for s in sorted(s for s in codes[c] if s)) or 'any'} | `{c}` | … |"
        for c in missing
    ]
    assert missing == [], "add these codes to docs/api/errors.md:\n" + "\n".join(rows)
    gone = sorted(set(table) - set(codes))
    assert gone == [], f"docs/api/errors.md lists codes the API no longer answers: {gone}"
    for code, statuses in codes.items():
        known = {status for status in statuses if status is not None}
        written = {int(number) for number in re.findall(r"\b[1-5][0-9]{2}\b", table[code])}
        if known:
            assert known <= written, f"`{code}`: the code answers {sorted(known)}"


def test_every_field_code_of_our_own_is_documented(from_code):
    _codes, fields, _declared = from_code
    _table, listed = documented()
    assert len(listed) == len(set(listed)), "a field code is listed twice"
    assert sorted(fields - set(listed)) == [], "add these to the doc's field codes"
    assert sorted(set(listed) - fields - drf_field_codes()) == []


def test_every_code_of_an_errors_module_is_answered(from_code):
    codes, fields, declared = from_code
    unused = sorted(declared - set(codes) - fields - set(NOT_ANSWERED))
    assert unused == [], f"constants of errors.py modules no error carries: {unused}"
