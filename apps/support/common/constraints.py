"""Conditional and expression unique constraints enforced on MySQL and MariaDB too.

Django creates a ``UniqueConstraint`` with ``condition=`` as a partial unique index, and one on
expressions (``Lower("email")``) as an expression index. MySQL and MariaDB have no partial
indexes and MariaDB no expression indexes: there Django creates nothing, silently, and the
database takes the duplicates PostgreSQL and SQLite refuse (docs/adr/0044).

``UniqueOnMySQL`` is the migration operation that makes up for it, on MySQL/MariaDB only: for
each of the constraint's fields (or expressions) a virtual generated column that holds the
value where the condition holds and NULL elsewhere, and a unique index on those columns under
the constraint's name. NULLs are never equal to each other, so only the rows the condition
covers are compared: the same rows are refused as on PostgreSQL, with the same constraint name
in the error. The models are left as they are (no state change, ``makemigrations`` stays clean).
"""

from typing import Any

from django.db import models
from django.db.migrations.operations.base import Operation
from django.db.models.sql.query import Query


class UniqueOnMySQL(Operation):
    """Enforce ``model_name``'s ``UniqueConstraint`` ``name`` on MySQL/MariaDB, where Django
    does not create it (a condition, or expressions MariaDB cannot index). Elsewhere: nothing."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the constraint is already in the model's state

    def describe(self) -> str:
        return f"Enforce unique constraint {self.name} on {self.model_name} on MySQL/MariaDB"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not needs_generated_columns(model, self.name, schema_editor.connection):
            return
        for statement in create_sql(model, self.name, schema_editor):
            schema_editor.execute(statement)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not needs_generated_columns(model, self.name, schema_editor.connection):
            return
        for statement in drop_sql(model, self.name, schema_editor):
            schema_editor.execute(statement)


def _constraint(model: type[models.Model], name: str) -> models.UniqueConstraint:
    for constraint in model._meta.constraints:
        if constraint.name == name and isinstance(constraint, models.UniqueConstraint):
            return constraint
    raise LookupError(f"{model._meta.label} has no unique constraint {name}")


def needs_generated_columns(model: type[models.Model], name: str, connection: Any) -> bool:
    """True where Django leaves the constraint out: MySQL/MariaDB, with a condition (no partial
    indexes) or expressions the server cannot index (MariaDB)."""
    if connection.vendor != "mysql":
        return False
    constraint = _constraint(model, name)
    if constraint.condition is not None:
        return True
    return bool(constraint.expressions) and not connection.features.supports_expression_indexes


def column_names(model: type[models.Model], name: str) -> list[str]:
    constraint = _constraint(model, name)
    count = len(constraint.fields) or len(constraint.expressions)
    return [f"{name}_{index}" for index in range(count)]


def create_sql(model: type[models.Model], name: str, schema_editor: Any) -> list[str]:
    """The generated columns and the unique index on them."""
    constraint = _constraint(model, name)
    connection = schema_editor.connection
    query = Query(model=model, alias_cols=False)
    compiler = query.get_compiler(connection=connection)

    def inline(sql: str, params: Any) -> str:
        return sql % tuple(schema_editor.quote_value(param) for param in params)

    values: list[tuple[str, str]] = []  # (SQL of the value, its column type)
    for field_name in constraint.fields:
        field = model._meta.get_field(field_name)
        if not isinstance(field, models.Field):  # a reverse relation has no column
            raise TypeError(f"{name}: {field_name} is not a column of {model._meta.label}")
        values.append((schema_editor.quote_name(field.column), str(field.db_type(connection))))
    for expression in constraint.expressions:
        if not isinstance(expression, models.Expression):
            raise TypeError(f"{name}: {expression!r} is not an expression")
        resolved = expression.resolve_expression(query)
        column_type = str(resolved.output_field.db_type(connection))
        values.append((inline(*compiler.compile(resolved)), column_type))
    condition = None
    if constraint.condition is not None:
        condition = inline(*query.build_where(constraint.condition).as_sql(compiler, connection))

    table = schema_editor.quote_name(model._meta.db_table)
    columns = column_names(model, name)
    additions = []
    for column, (value, db_type) in zip(columns, values, strict=True):
        generated = f"CASE WHEN {condition} THEN {value} END" if condition else value
        additions.append(
            f"ADD COLUMN {schema_editor.quote_name(column)} {db_type} AS ({generated}) VIRTUAL"
        )
    quoted = ", ".join(schema_editor.quote_name(column) for column in columns)
    additions.append(f"ADD UNIQUE INDEX {schema_editor.quote_name(name)} ({quoted})")
    return [f"ALTER TABLE {table} {', '.join(additions)}"]


def drop_sql(model: type[models.Model], name: str, schema_editor: Any) -> list[str]:
    table = schema_editor.quote_name(model._meta.db_table)
    drops = [f"DROP INDEX {schema_editor.quote_name(name)}"] + [
        f"DROP COLUMN {schema_editor.quote_name(column)}" for column in column_names(model, name)
    ]
    return [f"ALTER TABLE {table} {', '.join(drops)}"]
