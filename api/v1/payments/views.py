"""/api/v1/payments/: orders (create, pay, cancel, refund), payments, refunds and webhook
events for finance, the gateways a front end can use, the gateways' webhooks."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ErrorSerializer
from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.ownership import OwnedObjectsMixin, visible_to
from api.permissions import role_permission, signed_in_user
from api.serializers import represent
from api.throttling import GuestOrderThrottle
from api.viewsets import BaseViewSet
from apps.business.payments import selectors, services
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import COUNTER_METHODS, PaymentMethod, PaymentStatus
from apps.integrations.payments import enabled_gateways, get_gateway
from apps.support.security.roles import ORDER_STAFF, Role

from .filters import OrderFilter, PaymentFilter, RefundFilter, WebhookEventFilter
from .serializers import (
    CancelInput,
    GatewaySerializer,
    OrderCreatedSerializer,
    OrderCreateInput,
    OrderSerializer,
    PayInput,
    PaymentSerializer,
    RefundCreateInput,
    RefundSerializer,
    WebhookAnswer,
    WebhookEventSerializer,
)

FINANCE_ONLY = role_permission(read=(Role.FINANCE,), write=(Role.FINANCE,))


GUEST_TOKEN_HEADER = "X-Order-Token"  # noqa: S105  (a header name)
GUEST_TOKEN_PARAMETER = OpenApiParameter(
    GUEST_TOKEN_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's order (no account): the `guest_token` its creation answered.",
)


class SignedInOrGuest(BasePermission):
    """Signed-in visitors and staff; a guest may place an order (the service decides what a
    guest may order) and read or pay the one its ``X-Order-Token`` names."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        if view.action == "create":
            return True
        return view.action in ("retrieve", "pay") and bool(_guest_token(request))


def _guest_token(request: Request) -> str:
    token = request.headers.get(GUEST_TOKEN_HEADER, "")
    return token if 20 <= len(token) <= 100 and token.isascii() else ""


@extend_schema_view(
    create=extend_schema(
        request=OrderCreateInput,
        responses={
            201: OrderCreatedSerializer,
            202: OpenApiResponse(
                OrderCreatedSerializer,
                description="Bought with `pay`: the gateway confirms later (see the payment's "
                "`next_action`).",
            ),
            402: OpenApiResponse(
                ErrorSerializer,
                description="Bought with `pay`: `payment_declined`; `details.order` is the order "
                "created, payable with `pay/` while its hold lasts.",
            ),
            401: OpenApiResponse(
                ErrorSerializer,
                description="`sign_in_required`: a guest may only make a donation.",
            ),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
    ),
    retrieve=extend_schema(parameters=[GUEST_TOKEN_PARAMETER]),
)
class OrderViewSet(
    OwnedObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet
):
    """Orders: a visitor's own; all of them for the ticket office and finance.

    ``POST`` holds the seats for ``ORDER_HOLD_MINUTES`` (15 by default); an order not paid by
    then expires by itself and its seats are for sale again. A guest without an account may
    place an order of donations only, with an ``email``: the answer's ``guest_token`` (shown
    once) reads and pays it through the ``X-Order-Token`` header.
    """

    permission_classes = [SignedInOrGuest]
    serializer_class = OrderSerializer
    selector = selectors.order_list
    filterset_class = OrderFilter
    ordering_fields = ("created_at", "total")
    owner_field = "user"
    owner_staff_roles = ORDER_STAFF

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(GuestOrderThrottle())
        return throttles

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(self, request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        data = OrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = [
            LineRequest(
                kind=line["kind"],
                quantity=line.get("quantity", 1),
                fields={
                    key: value for key, value in line.items() if key not in ("kind", "quantity")
                },
                index=index,
            )
            for index, line in enumerate(data.validated_data["lines"])
        ]
        actor = request.user if request.user.is_authenticated else None
        channel, email = data.validated_data["channel"], data.validated_data.get("email", "")
        pay = data.validated_data.get("pay")
        if pay is None:
            order = services.order_create(actor=actor, lines=lines, channel=channel, email=email)
            return Response(
                represent(OrderCreatedSerializer, order), status=status.HTTP_201_CREATED
            )
        payment = services.order_buy(
            actor=actor,
            lines=lines,
            channel=channel,
            email=email,
            method=pay["gateway"],
            options=pay.get("sandbox") or {},
        )
        if payment.status == PaymentStatus.PENDING:
            # The order as it stands: its payment's next_action says what the buyer does next.
            body = represent(
                OrderCreatedSerializer, selectors.order_list().get(pk=payment.order_id)
            )
            body["guest_token"] = getattr(payment.order, "guest_token", "") or None
            return Response(body, status=status.HTTP_202_ACCEPTED)
        return Response(
            represent(OrderCreatedSerializer, payment.order), status=status.HTTP_201_CREATED
        )

    def get_queryset(self) -> QuerySet[Any]:
        if not self.request.user.is_authenticated:
            token = _guest_token(self.request)
            if not token:
                return selectors.order_list().none()
            orders = selectors.order_plain() if self.action == "pay" else selectors.order_list()
            return orders.filter(guest_token_hash=services.guest_token_hash(token))
        # Workflows lock and read the order themselves: no need to load its relations here.
        if self.action in ("pay", "cancel", "refunds"):
            return visible_to(
                selectors.order_plain(),
                self.request.user,
                owner_field=self.owner_field,
                staff_roles=self.owner_staff_roles,
            )
        return super().get_queryset()

    def _representation(self, order_id: int) -> dict[str, Any]:
        return represent(OrderSerializer, selectors.order_list().get(pk=order_id))

    @extend_schema(
        operation_id="payments_orders_pay",
        request=PayInput,
        parameters=[IDEMPOTENCY_PARAMETER, GUEST_TOKEN_PARAMETER],
        responses={
            200: OpenApiResponse(OrderSerializer, description="Paid; tickets issued."),
            202: OpenApiResponse(
                OrderSerializer,
                description="The gateway confirms later (see the payment's `next_action`).",
            ),
            402: OpenApiResponse(
                ErrorSerializer,
                description="`payment_declined`: the order stays payable while its hold lasts.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        """Pay with a gateway, or record a counter payment (ticket office). A declined payment
        answers 402 `payment_declined` and the order stays payable while its hold lasts."""
        order = self.get_object()
        return idempotent(self, request, lambda: self._pay(request, order))

    def _pay(self, request: Request, order: Any) -> Response:
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.order_pay(
            order=order,
            actor=request.user if request.user.is_authenticated else None,
            method=data.validated_data["gateway"],
            options=data.validated_data.get("sandbox") or {},
        )
        if payment.status == PaymentStatus.PENDING:
            return Response(self._representation(order.pk), status=status.HTTP_202_ACCEPTED)
        return Response(represent(OrderSerializer, payment.order))

    @extend_schema(
        operation_id="payments_orders_cancel", request=CancelInput, responses={200: OrderSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel an unpaid order, or a paid one up to ``ORDER_CANCELLATION_HOURS`` before the
        visit (refunded to where it was paid from); the seats go back on sale."""
        order = self.get_object()
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        actor = signed_in_user(request)
        services.order_cancel(
            order=order, actor=actor, reason=data.validated_data.get("reason", "")
        )
        return Response(self._representation(order.pk))

    @extend_schema(
        operation_id="payments_orders_refunds_create",
        request=RefundCreateInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OpenApiResponse(
                RefundSerializer,
                description=(
                    "The refund as the gateway left it: `succeeded`, `pending` (the gateway "
                    "confirms later) or `failed` (nothing changed; retry it)."
                ),
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`refund_exceeds_captured`, `nothing_to_refund`.",
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[FINANCE_ONLY])
    def refunds(self, request: Request, pk: str | None = None) -> Response:
        """Finance gives money back: `{}` the whole order (its tickets voided, the order
        cancelled), `{"lines": [{"line": 7, "quantity": 1}]}` some items (voided, their seats
        back on sale) or `{"amount": "2900.00"}` money only. Never more than was captured."""
        order = self.get_object()
        return idempotent(self, request, lambda: self._refund(request, order))

    def _refund(self, request: Request, order: Any) -> Response:
        data = RefundCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        refund = services.refund_request(
            order=order,
            actor=signed_in_user(request),
            lines=[services.LineRefund(**line) for line in lines] if lines else None,
            amount=data.validated_data.get("amount"),
            reason=data.validated_data.get("reason", ""),
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Every payment attempt, for reconciliation. Records: read-only."""

    permission_classes = [role_permission(read=(Role.FINANCE,))]
    serializer_class = PaymentSerializer
    selector = selectors.payment_list
    filterset_class = PaymentFilter
    ordering_fields = ("created_at", "amount")


class RefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Every refund, for finance: asked for, confirmed or refused by the gateway."""

    permission_classes = [FINANCE_ONLY]
    serializer_class = RefundSerializer
    selector = selectors.refund_list
    filterset_class = RefundFilter
    ordering_fields = ("created_at", "amount")

    @extend_schema(
        operation_id="payments_refunds_retry",
        request=None,
        responses={
            200: RefundSerializer,
            409: OpenApiResponse(ErrorSerializer, description="`refund_not_retryable`."),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Ask the gateway again for a failed refund (the same idempotency key: the money is
        never given back twice)."""
        refund = services.refund_retry(refund=self.get_object(), actor=signed_in_user(request))
        return Response(RefundSerializer(refund).data)


class WebhookEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The gateways' deliveries as received, for finance and administrators: what each was,
    whether it was processed, how many attempts it took and the last error."""

    permission_classes = [FINANCE_ONLY]
    serializer_class = WebhookEventSerializer
    selector = selectors.webhook_event_list
    filterset_class = WebhookEventFilter
    ordering_fields = ("received_at", "processed_at")

    @extend_schema(
        operation_id="payments_webhook_events_replay",
        request=None,
        responses={200: WebhookEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Process the stored event again (its effects are idempotent: a settlement already
        applied changes nothing)."""
        event = services.webhook_event_process(event=self.get_object())
        return Response(WebhookEventSerializer(event).data)


class GatewayListView(APIView):
    """The online gateways visitors can pay with here, and the public keys a front end needs
    (Stripe's publishable key, PayPal's client id). Never a secret."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="payments_gateways_list", responses={200: GatewaySerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        gateways = [
            {"name": name, "public": gateway.public_config()}
            for name in enabled_gateways()
            if (gateway := get_gateway(name)) is not None
        ]
        return Response(GatewaySerializer(gateways, many=True).data)


class WebhookView(APIView):
    """A gateway's webhook: verified by signature, stored raw, processed once per event id.

    Answers 200 for every verified delivery (repeats included), 400 `webhook_rejected` for a
    bad signature.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes: list[Any] = []

    @extend_schema(
        operation_id="payments_webhooks_receive",
        parameters=[
            OpenApiParameter(
                "gateway",
                str,
                OpenApiParameter.PATH,
                enum=[method for method in PaymentMethod.values if method not in COUNTER_METHODS],
                description="An online gateway; one not enabled here: 400 `unknown_gateway`.",
            )
        ],
        request={"application/json": {"type": "object"}},
        responses={
            200: WebhookAnswer,
            400: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "`webhook_rejected`: the signature does not check out; `unknown_gateway`: "
                    "that gateway is not enabled here."
                ),
            ),
        },
    )
    def post(self, request: Request, gateway: str) -> Response:
        event = services.webhook_receive(
            gateway_name=gateway, headers=dict(request.headers), body=request.body
        )
        return Response(WebhookAnswer(event).data)
