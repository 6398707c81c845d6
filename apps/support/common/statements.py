"""Querysets compiled once per process and run again with other values (docs/adr/0053).

Building and compiling an ORM statement costs more CPU than PostgreSQL spends running a
lookup by key: about 0.6 ms for ``Order.objects.filter(pk=...)``, against 0.1 ms for the same
statement sent through a cursor. A purchase runs some thirty of them. ``Compiled`` builds the
queryset and compiles it the first time it runs on a database connection, then keeps the
statement, its columns and their converters; every later run only sends the statement with
its values and builds the instances as the ORM's own iterable does (``Model.from_db``, the
backend's converters), so the rows come back exactly as the queryset would give them.

SQLAlchemy's compiled cache and "baked queries" do the same for the same reason.
``Insert`` does it for ``Model.objects.create`` of a model whose saving does nothing more than
insert its row (docs/adr/0054).

The values a statement takes are integers (keys, mostly): the queryset is built with a
stand-in for each, and the stand-ins are found among the compiled statement's parameters; it
is built twice, with two sets of stand-ins, and must compile to the same statement both times.
A queryset whose shape depends on its values (``__in`` of a list, a filter left out for
``None``) cannot be compiled once: build it as usual. Statements run on the primary database
(the services' writes and the reads inside their transactions).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

from .models import AppendOnlyModel

ModelT = TypeVar("ModelT", bound=Model)

# Stand-ins for the values, two sets (first, spacing): in range for every integer column,
# small ones included (the ORM drops or empties a lookup whose value a column cannot hold,
# differently on each database), and spaced differently, so that a value the builder derives
# from another (``pk + 1``) cannot pass for a stand-in in both. Compiled with both sets, the
# statement must be the same and each stand-in found once, in the same place.
_STAND_INS = ((32_000, 100), (31_000, 7))
_MOST_VALUES = 7  # 32_000 + 100 * 6 is below 32_767, the smallest integer column's limit


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int | None, ...]  # for each parameter, which value goes there (None: as is)
    model: Any  # the queryset's model (``ModelT`` of the ``Compiled`` that made the plan)
    converters: tuple[tuple[int, Any], ...]  # (position, (converters, expression))
    init_list: tuple[str, ...]
    start: int
    end: int
    annotations: tuple[tuple[str, int], ...]  # (attribute, column): set on each instance


class Compiled(Generic[ModelT]):
    """``build(*values)``'s rows, the statement compiled once per process and database.

    ``build`` takes ``arity`` integers (1 to 7) and returns a queryset of model instances
    (no ``select_related``, ``prefetch_related``, ``values()``, aggregation, union or
    ``using()``; annotations are set on each instance, as the ORM sets them). Locking querysets
    (``select_for_update``) compile inside a transaction, as the ORM requires.
    """

    def __init__(self, build: Callable[..., QuerySet[ModelT]], arity: int = 1) -> None:
        if not 1 <= arity <= _MOST_VALUES:
            raise ValueError(f"Compiled takes 1 to {_MOST_VALUES} values.")
        self._build, self._arity = build, arity
        self._plans: dict[tuple[str, str], _Plan] = {}

    def __call__(self, *values: int) -> list[ModelT]:
        if len(values) != self._arity:
            raise TypeError(f"{self._arity} values expected, {len(values)} given.")
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.alias, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile()
        params = [
            value if slot is None else values[slot]
            for value, slot in zip(plan.params, plan.slots, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows: Any = cursor.fetchall()
        model, start, end = plan.model, plan.start, plan.end
        if not plan.converters and not plan.annotations:
            return [model.from_db(connection.alias, plan.init_list, row[start:end]) for row in rows]
        instances = []
        for row in rows:
            columns = list(row)
            for position, (converters, expression) in plan.converters:
                value = columns[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                columns[position] = value
            instance = model.from_db(connection.alias, plan.init_list, columns[start:end])
            for name, position in plan.annotations:
                setattr(instance, name, columns[position])
            instances.append(instance)
        return instances

    def _compile(self) -> _Plan:
        compiled = [self._compiled_with(*stand_ins) for stand_ins in _STAND_INS]
        (compiler, sql, params, slots), (_, other_sql, _, other_slots) = compiled
        if sql != other_sql or slots != other_slots:
            raise ValueError("The statement's shape depends on its values.")
        select = compiler.select
        fields = compiler.klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Plan(
            sql=sql,
            params=tuple(params),
            slots=slots,
            model=compiler.klass_info["model"],
            converters=tuple(compiler.get_converters([column[0] for column in select]).items()),
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            start=start,
            end=end,
            annotations=tuple(compiler.annotation_col_map.items()),
        )

    def _compiled_with(
        self, first: int, spacing: int
    ) -> tuple[Any, str, list[Any], tuple[int | None, ...]]:
        """The statement built with these stand-ins, and where each value goes."""
        stand_ins = [first + spacing * n for n in range(self._arity)]
        queryset: Any = self._build(*stand_ins)  # its private state is read below
        query = queryset.query
        if (
            query.select_related
            or query.values_select
            or query.group_by is not None
            or query.combinator
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
            or queryset._db is not None  # using(): these run on the primary
        ):
            raise ValueError("Compiled takes plain querysets of model instances.")
        compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, params = compiler.as_sql()
        slots = tuple(stand_ins.index(value) if value in stand_ins else None for value in params)
        if sorted(slot for slot in slots if slot is not None) != list(range(self._arity)):
            raise ValueError("Each value must appear once among the statement's parameters.")
        return compiler, sql, list(params), slots


def prefetched(instance: Model, name: str, rows: list[Any]) -> None:
    """Make ``instance.<name>.all()`` answer ``rows`` without a query, as ``prefetch_related``
    leaves it: a queryset whose results are known (``.filter()``, ``.get()`` still query)."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(name, None)  # else the manager would answer the rows known before
    queryset = getattr(instance, name).get_queryset()  # not evaluated
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache[name] = queryset


@dataclass(frozen=True)
class _InsertPlan:
    sql: str
    fields: tuple[Any, ...]  # the columns given, in the statement's order
    returns_key: bool  # the statement ends in ``RETURNING`` the key


class Insert(Generic[ModelT]):
    """``model.objects.create(**values)``, the ``INSERT`` compiled once per process and
    database: each call prepares the values as the ORM does (``Field.pre_save``, then
    ``get_db_prep_save``), sends the kept statement and gives the saved instance with its key.

    ``pre_save`` and ``post_save`` are sent as ``save()`` sends them. Only for a model whose
    saving is nothing more than its row: no parent model, no ``save()`` of its own beyond
    ``AppendOnlyModel``'s guard against changes (an ``Insert`` is never an update), no column
    with a placeholder of its own; anything else is refused at the first call.

    ``prefix`` is SQL put before the ``INSERT`` (a ``WITH`` clause) and its parameters, for a
    statement that does one more thing in the same round trip.
    """

    def __init__(self, model: type[ModelT]) -> None:
        self.model = model
        self._plans: dict[tuple[str, str], _InsertPlan] = {}

    def __call__(
        self, values: dict[str, Any], *, prefix: tuple[str, list[Any]] = ("", [])
    ) -> ModelT:
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.alias, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(connection)
        if "pk" in values or self.model._meta.pk.attname in values:
            raise ValueError("An Insert's key comes from the database.")
        instance = self.model(**values)
        cast(Any, instance)._prepare_related_fields_for_save(operation_name="save")  # as save()
        using = connection.alias
        pre_save.send(self.model, instance=instance, raw=False, using=using, update_fields=None)
        params = [
            *prefix[1],
            *(
                field.get_db_prep_save(field.pre_save(instance, True), connection)
                for field in plan.fields
            ),
        ]
        # As save() does: a refused INSERT inside an atomic block marks it for rollback.
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(prefix[0] + plan.sql, params)
            if plan.returns_key:
                (primary_key,) = cursor.fetchone()
            else:
                meta = self.model._meta
                primary_key = connection.ops.last_insert_id(
                    cursor, meta.db_table, str(meta.pk.column)
                )
        instance.pk = primary_key
        instance._state.adding = False
        instance._state.db = using
        post_save.send(
            self.model, instance=instance, created=True, update_fields=None, raw=False, using=using
        )
        return instance

    def _compile(self, connection: Any) -> _InsertPlan:
        model, meta = self.model, self.model._meta
        saves = [klass for klass in model.__mro__ if "save" in vars(klass)]
        if (
            meta.parents
            or saves not in ([Model], [AppendOnlyModel, Model])
            or list(meta.db_returning_fields) != [meta.pk]
        ):
            raise ValueError(f"{meta.label} does more when saved than insert its row.")
        fields = [
            field
            for field in meta.local_concrete_fields
            if field is not meta.auto_field and not field.generated
        ]
        if any(hasattr(field, "get_placeholder") for field in fields):
            raise ValueError(f"{meta.label} has a column with a placeholder of its own.")
        query = InsertQuery(model)
        query.insert_values(fields, [model()])
        compiler: Any = query.get_compiler(connection=connection)
        compiler.returning_fields = meta.db_returning_fields
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(fields) or sql.count("%s") != len(fields):
            raise ValueError(f"{meta.label}'s INSERT does not take one value per column.")
        return _InsertPlan(
            sql=sql,
            fields=tuple(fields),
            returns_key=bool(connection.features.can_return_columns_from_insert),
        )
