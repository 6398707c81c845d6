"""How the modules that sell things plug into payments, without payments importing them.

A module (tickets today; education and donations later) registers one ``ItemHandler`` for its
line ``kind`` in its ``AppConfig.ready()``. Payments calls it:

- ``price`` before an order exists: validate the requested lines, return them priced;
- ``hold`` inside the order's creating transaction: take capacity (lock, check, reserve),
  raising ``ConflictError`` when there is none;
- ``paid`` inside the paying transaction: confirm what was held (re-taking capacity if the hold
  ran out), deliver (issue tickets, queue the email on commit); ``ConflictError`` when it can't;
- ``released`` when the order expires or is cancelled: give capacity back, void deliveries;
- ``refunded`` when finance refunds some of a line's items (the gateway confirmed it): void
  that many deliveries not used yet and give their capacity back;
- ``check_cancellable``: raise ``ServiceError`` when the order may no longer be cancelled.

``tax_exempt``: the kind's lines carry no VAT on invoices and credit notes (a donation buys
nothing); tickets and enrollments are taxed. ``guest_allowed``: a guest without an account
(an email only) may order it (donations); everything else needs a signed-in visitor.
``money_only_refunds``: whether finance may give money back without naming lines while the
kind's items stand (a goodwill gesture on tickets); a gift may not stand once its money is
back (its receipt would overstate it), so an order holding one is refunded by its lines.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.translation import gettext as _

from apps.support.common.errors import ServiceError

from . import errors

if TYPE_CHECKING:
    from .models import Order, OrderLine


@dataclass(frozen=True)
class LineRequest:
    """One line as the buyer asked for it: ``kind`` and the fields that kind understands."""

    kind: str
    quantity: int
    fields: dict[str, Any] = field(default_factory=dict)
    index: int = 0  # position in the request, for field errors ("lines.2.slot")


@dataclass(frozen=True)
class PricedLine:
    kind: str
    description: str
    unit_price: Decimal
    currency: str
    quantity: int
    reference: dict[str, Any]


class ItemHandler(Protocol):
    kind: str
    tax_exempt: bool
    guest_allowed: bool
    money_only_refunds: bool

    def price(
        self, *, lines: Sequence[LineRequest], channel: str, now: datetime
    ) -> list[PricedLine]: ...

    def hold(self, *, order: "Order", lines: Sequence["OrderLine"]) -> None: ...

    def paid(self, *, order: "Order") -> None: ...

    def released(self, *, order: "Order", reason: str) -> None: ...

    def refunded(self, *, order: "Order", lines: Sequence[tuple["OrderLine", int]]) -> None: ...

    def check_cancellable(self, *, order: "Order", now: datetime, by_staff: bool) -> None: ...


_handlers: dict[str, ItemHandler] = {}


def register_item_handler(handler: ItemHandler) -> None:
    _handlers[handler.kind] = handler


def item_kinds() -> list[str]:
    """The kinds of item sold here (one registered handler each)."""
    return sorted(_handlers)


def item_handler(kind: str, *, index: int | None = None) -> ItemHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise ServiceError(
            _("Nothing of kind %(kind)s is sold here.") % {"kind": kind},
            code=errors.UNKNOWN_KIND,
            field=f"lines.{index}.kind" if index is not None else "kind",
        ) from None


def is_tax_exempt(kind: str) -> bool:
    """Whether lines of ``kind`` carry no VAT (a kind no longer sold is taxed)."""
    handler = _handlers.get(kind)
    return bool(handler is not None and handler.tax_exempt)


def allows_money_only_refunds(kind: str) -> bool:
    """Whether an amount may be refunded while items of ``kind`` stand (a kind no longer sold:
    yes, as before it was registered)."""
    handler = _handlers.get(kind)
    return handler is None or handler.money_only_refunds


def guests_may_order(kinds: Sequence[str]) -> bool:
    """Whether a guest (no account) may order lines of every one of ``kinds``."""
    return all(kind in _handlers and _handlers[kind].guest_allowed for kind in kinds)


def handlers_for(kinds: Sequence[str]) -> list[ItemHandler]:
    """The handlers of these kinds, in a fixed order (so locks are always taken alike)."""
    return [item_handler(kind) for kind in sorted(set(kinds))]
