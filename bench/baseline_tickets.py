"""The baselines of the ticket writes: a purchase and a check-in in raw SQL (psycopg, through
Django's connection) and ``json.dumps`` — no ORM, no serializers, no DRF, no audit entry.
Each writes the rows the API's path leaves behind, in one transaction, and answers the JSON
the API answers (the same keys; bench/tickets.py checks the shape before measuring).

Authentication, cheap and honest: each decodes the same ``Authorization: Bearer`` access token
the API gets, with simplejwt's own ``AccessToken`` (signature, expiry, token type, as
``JWTAuthentication`` validates it), and takes the user id from its claim. It does not read
the user in a query of its own, as the API does before the view runs: what it needs of the
user (active, the email an order is sent to, the gate's role) is read inside the statement
that locks the slot or the ticket, so that work is done, not skipped, at no extra round trip.

``POST /bench/baseline/purchases/`` with ``{"lines": [{"slot", "ticket_type", "quantity"}],
"pay": {"gateway": "sandbox"}}`` (one line; the benchmark's): locks the slot's row (reading
its live holds, the ticket type and the buyer in that statement), refuses a closed, past or
sold-out slot (409 ``sold_out`` as the API words it), then in one statement inserts the
order (paid), its line, the reservation (confirmed), the payment (succeeded) and the
tickets, and raises the slot's ``sold``; commits; 201 with the order. The sandbox gateway is
not called: it is the stand-in of a remote service (the API's path also writes the
sandbox's own ledger, outside its transactions: the gateway's side, not the park's rows).

``POST /bench/baseline/check-ins/`` with ``{"code", "gate"}``: the code is checked and
turned into the ticket's secret by the API's own function (``signing.secret_from_code``,
HMAC-SHA256), then the ticket's row is locked (reading its slot, order, type, and the
scanner's role in that statement), a void ticket or one outside its day and entry window is
refused, and the check-in is inserted unless one exists (``ON CONFLICT DO NOTHING``: a new
statement, so it sees a check-in committed while this one waited for the lock); 201 with the
check-in, or 409 ``already_checked_in``.
"""

import json
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone, translation
from django.views.decorators.csrf import csrf_exempt
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.tickets.signing import secret_from_code
from bench.baseline_slots import _datetime

ORDER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# The slot locked, its live holds, the ticket type and the buyer, in one statement.
PURCHASE_LOCK_SQL = """
SELECT s.capacity, s.sold, s.is_closed, s.starts_at, s.ends_at, s.date,
       (SELECT COALESCE(SUM(r.quantity), 0) FROM tickets_reservation r
        WHERE r.slot_id = s.id AND r.status = 'held' AND r.expires_at > %(now)s),
       t.id, t.price, t.currency, t.is_active, t.min_quantity, t.valid_from, t.valid_until,
       t.name_es, t.name_en, u.email
FROM tickets_timeslot s
LEFT JOIN tickets_tickettype t ON t.id = %(ticket_type)s
LEFT JOIN security_user u ON u.id = %(user)s AND u.is_active
WHERE s.id = %(slot)s
FOR UPDATE OF s
"""

# Every row of a paid purchase, and the seats sold, in one statement.
PURCHASE_WRITE_SQL = """
WITH o AS (
    INSERT INTO payments_order (created_at, updated_at, code, user_id, email, channel, status,
                                currency, total, expires_at, paid_at, cancel_reason,
                                created_by_id, guest_token_hash)
    VALUES (%(now)s, %(now)s, %(code)s, %(user)s, %(email)s, 'online', 'paid', %(currency)s,
            %(total)s, %(expires_at)s, %(now)s, '', %(user)s, '')
    RETURNING id
), l AS (
    INSERT INTO payments_orderline (order_id, kind, description, unit_price, quantity, total,
                                    reference)
    SELECT o.id, 'ticket', %(description)s, %(price)s, %(quantity)s, %(total)s, %(reference)s
    FROM o RETURNING id
), r AS (
    INSERT INTO tickets_reservation (created_at, updated_at, order_id, slot_id, ticket_type_id,
                                     quantity, unit_price, status, expires_at)
    SELECT %(now)s, %(now)s, o.id, %(slot)s, %(ticket_type)s, %(quantity)s, %(price)s,
           'confirmed', %(expires_at)s
    FROM o RETURNING id
), p AS (
    INSERT INTO payments_payment (created_at, updated_at, order_id, method, amount, currency,
                                  status, gateway_reference, capture_reference, gateway_outcome,
                                  failure_code, failure_message, next_action, succeeded_at,
                                  created_by_id)
    SELECT %(now)s, %(now)s, o.id, 'sandbox', %(total)s, %(currency)s, 'succeeded',
           %(gateway_reference)s, '', 'succeeded', '', '', NULL, %(now)s, %(user)s
    FROM o RETURNING id
), t AS (
    INSERT INTO tickets_ticket (created_at, updated_at, order_id, reservation_id, slot_id,
                                ticket_type_id, price, secret, status)
    SELECT %(now)s, %(now)s, o.id, r.id, %(slot)s, %(ticket_type)s, %(price)s, secret, 'valid'
    FROM o, r, unnest(%(secrets)s::text[]) AS secret
    RETURNING id
), sold AS (
    UPDATE tickets_timeslot SET sold = sold + %(quantity)s WHERE id = %(slot)s
)
SELECT o.id, l.id, p.id, (SELECT count(*) FROM t) FROM o, l, p
"""

# The ticket locked, with what the answer and the checks need, and whether the scanner may
# admit visitors (gate staff, an administrator or a superuser), in one statement.
CHECK_IN_LOCK_SQL = """
SELECT t.id, t.status, t.order_id, t.slot_id, t.ticket_type_id, s.date, s.starts_at, s.ends_at,
       o.code, tt.name_es, tt.name_en, u.email,
       u.is_superuser OR EXISTS (
           SELECT 1 FROM security_user_groups ug JOIN auth_group g ON g.id = ug.group_id
           WHERE ug.user_id = u.id AND g.name IN ('gate_staff', 'administrator'))
FROM tickets_ticket t
JOIN tickets_timeslot s ON s.id = t.slot_id
JOIN payments_order o ON o.id = t.order_id
JOIN tickets_tickettype tt ON tt.id = t.ticket_type_id
LEFT JOIN security_user u ON u.id = %(user)s AND u.is_active
WHERE t.secret = %(secret)s
FOR UPDATE OF t
"""

CHECK_IN_WRITE_SQL = """
INSERT INTO tickets_checkin (ticket_id, gate, checked_in_at, checked_in_by_id)
VALUES (%(ticket)s, %(gate)s, %(now)s, %(user)s)
ON CONFLICT (ticket_id) DO NOTHING
RETURNING id
"""


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _answer(body: Any, status: int) -> HttpResponse:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))  # as DRF writes it
    return HttpResponse(text, status=status, content_type="application/json")


def _refusal(request: HttpRequest, refused: Refused) -> HttpResponse:
    body: dict[str, Any] = {
        "code": refused.code,
        "message": refused.message,
        "errors": [],
        "request_id": getattr(request, "request_id", ""),
    }
    return _answer(body, refused.status)


def _user_id(request: HttpRequest) -> int:
    """The user id of a valid access token (simplejwt's checks), without a query."""
    kind, _, raw = request.headers.get("Authorization", "").partition(" ")
    if kind != "Bearer" or not raw:
        raise Refused(401, "not_authenticated", "Authentication credentials were not provided.")
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]
    except TokenError as error:
        raise Refused(401, "token_not_valid", str(error)) from error
    return int(token[api_settings.USER_ID_CLAIM])


def _money(value: Decimal) -> str:
    return f"{value:.2f}"  # as DRF writes a DecimalField of two places


def _name(name_es: str, name_en: str) -> str:
    return name_en if (translation.get_language() or "es").startswith("en") and name_en else name_es


def _purchase(request: HttpRequest) -> HttpResponse:
    user = _user_id(request)
    try:
        data = json.loads(request.body)
        (line,) = data["lines"]
        slot, ticket_type = int(line["slot"]), int(line["ticket_type"])
        quantity = int(line.get("quantity", 1))
        gateway = data["pay"]["gateway"]
    except (ValueError, KeyError, TypeError) as error:
        raise Refused(400, "invalid", "One ticket line and pay.gateway, please.") from error
    if gateway != "sandbox":
        raise Refused(400, "unknown_gateway", "Only the sandbox pays here.")
    if not 1 <= quantity <= settings.TICKETS_MAX_PER_LINE:
        raise Refused(400, "invalid_quantity", "Quantity out of range.")
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        cursor.execute(
            PURCHASE_LOCK_SQL,
            {"now": now, "slot": slot, "ticket_type": ticket_type, "user": user},
        )
        row = cursor.fetchone()
        if row is None:
            raise Refused(400, "slot_not_found", "There is no such time slot.")
        (
            capacity,
            sold,
            is_closed,
            starts_at,
            ends_at,
            day,
            held,
            type_id,
            price,
            currency,
            is_active,
            min_quantity,
            valid_from,
            valid_until,
            name_es,
            name_en,
            email,
        ) = row
        if email is None:
            raise Refused(401, "authentication_failed", "User not found or inactive.")
        if type_id is None or not is_active:
            raise Refused(400, "ticket_type_not_found", "This ticket type is not on sale.")
        if (valid_from and day < valid_from) or (valid_until and day > valid_until):
            raise Refused(400, "ticket_type_not_valid", "This ticket type is not valid then.")
        if quantity < min_quantity:
            raise Refused(400, "quantity_below_minimum", "Too few tickets for this type.")
        if is_closed:
            raise Refused(409, "slot_closed", "The park does not admit visitors then.")
        if ends_at <= now:
            raise Refused(409, "slot_past", "The slot is over.")
        remaining = capacity - sold - held
        if quantity > remaining:
            raise Refused(409, "sold_out", f"Only {max(remaining, 0)} places are left.")
        label = formats.date_format(timezone.localtime(starts_at), "DATETIME_FORMAT")
        description = f"{_name(name_es, name_en)} — {label}"
        total = price * quantity
        expires_at = now + timedelta(minutes=settings.ORDER_HOLD_MINUTES)
        code = "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(8))
        reference = {"slot": slot, "ticket_type": ticket_type}
        gateway_reference = f"sbx_pay_{secrets.token_hex(12)}"
        cursor.execute(
            PURCHASE_WRITE_SQL,
            {
                "now": now,
                "code": code,
                "user": user,
                "email": email,
                "currency": currency,
                "total": total,
                "expires_at": expires_at,
                "description": description,
                "price": price,
                "quantity": quantity,
                "reference": json.dumps(reference),
                "slot": slot,
                "ticket_type": ticket_type,
                "gateway_reference": gateway_reference,
                "secrets": [secrets.token_hex(10).upper() for _ in range(quantity)],
            },
        )
        order_id, line_id, payment_id, tickets = cursor.fetchone()
        if tickets != quantity:
            raise AssertionError(f"{tickets} tickets written for {quantity} seats")
    created = _datetime(now)
    body = {
        "id": order_id,
        "code": code,
        "status": "paid",
        "channel": "online",
        "email": email,
        "currency": currency,
        "total": _money(total),
        "expires_at": _datetime(expires_at),
        "paid_at": created,
        "canceled_at": None,
        "disputed_at": None,
        "created_at": created,
        "lines": [
            {
                "id": line_id,
                "kind": "ticket",
                "description": description,
                "unit_price": _money(price),
                "quantity": quantity,
                "total": _money(total),
                "reference": reference,
            }
        ],
        "payments": [
            {
                "id": payment_id,
                "order": order_id,
                "order_code": code,
                "method": "sandbox",
                "amount": _money(total),
                "currency": currency,
                "status": "succeeded",
                "gateway_reference": gateway_reference,
                "failure_code": "",
                "failure_message": "",
                "next_action": None,
                "created_at": created,
                "succeeded_at": created,
                "refunds": [],
            }
        ],
        "guest_token": None,
    }
    return _answer(body, 201)


def _check_in(request: HttpRequest) -> HttpResponse:
    user = _user_id(request)
    try:
        data = json.loads(request.body)
        code, gate = str(data["code"]), str(data["gate"])
    except (ValueError, KeyError, TypeError) as error:
        raise Refused(400, "invalid", "code and gate, please.") from error
    if not gate or len(gate) > 64 or len(code) > 200:
        raise Refused(400, "invalid", "code and gate, please.")
    secret = secret_from_code(code)
    if secret is None:
        raise Refused(400, "invalid_ticket_code", "This is not a Parque Marino ticket code.")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CHECK_IN_LOCK_SQL, {"user": user, "secret": secret})
        row = cursor.fetchone()
        if row is None:
            raise Refused(404, "unknown_ticket", "No ticket has this code.")
        (
            ticket,
            status,
            order,
            slot,
            ticket_type,
            day,
            starts_at,
            ends_at,
            order_code,
            name_es,
            name_en,
            email,
            may_admit,
        ) = row
        if email is None:
            raise Refused(401, "authentication_failed", "User not found or inactive.")
        if not may_admit:
            raise Refused(403, "permission_denied", "Only the gate staff admits visitors.")
        now = timezone.now()
        if status != "valid":
            raise Refused(409, "ticket_void", "This ticket was cancelled.")
        grace = timedelta(minutes=settings.TICKETS_CHECK_IN_GRACE_MINUTES)
        if day != timezone.localdate(now):
            raise Refused(409, "wrong_day", f"This ticket is for {day.isoformat()}.")
        if now < starts_at - grace:
            raise Refused(409, "too_early", "Too early.")
        if now > ends_at + grace:
            raise Refused(409, "slot_ended", "The entry time of this ticket ended.")
        cursor.execute(
            CHECK_IN_WRITE_SQL, {"ticket": ticket, "gate": gate, "now": now, "user": user}
        )
        inserted = cursor.fetchone()
        if inserted is None:
            raise Refused(409, "already_checked_in", "Already used.")
    checked_in_at = _datetime(now)
    body = {
        "id": inserted[0],
        "ticket": {
            "id": ticket,
            "code": code.strip().upper(),
            "status": status,
            "order": order,
            "order_code": order_code,
            "slot": slot,
            "starts_at": _datetime(starts_at),
            "ends_at": _datetime(ends_at),
            "ticket_type": ticket_type,
            "ticket_type_name": _name(name_es, name_en),
            "checked_in_at": checked_in_at,
        },
        "gate": gate,
        "checked_in_at": checked_in_at,
        "checked_in_by": email,
    }
    return _answer(body, 201)


@csrf_exempt
def purchase(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        return _purchase(request)
    except Refused as refused:
        return _refusal(request, refused)


@csrf_exempt
def check_in(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        return _check_in(request)
    except Refused as refused:
        return _refusal(request, refused)
