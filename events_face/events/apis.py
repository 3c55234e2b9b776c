"""Events API: thin views over the selectors and services.

The event list and detail are public catalogue reads, the hottest path: they
authenticate from the token alone (its signature and expiry; no user row is
read, since nothing they return depends on the user), answer JSON whatever
the client accepts, and answer from `response_cache`.
"""

from datetime import UTC
from urllib.parse import urlencode

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from events_face.accounts.authentication import AccessTokenAuthentication, AccessTokenWriteAuthentication
from events_face.core import schema
from events_face.core.errors import ANSWERED_ERRORS
from events_face.core.idempotency import idempotency_key_parameter, idempotency_key_read
from events_face.core.throttling import ScopedCacheThrottle
from events_face.events.errors import event_id_parse
from events_face.events.lifecycle import (
    registration_by_cancel_link,
    registration_cancel,
    registration_cancel_by_link,
)
from events_face.events.pagination import EventKeysetPagination, RegistrationKeysetPagination
from events_face.events.response_cache import (
    RenderedResponse,
    cached_response,
    dates_are_cacheable,
    render,
)
from events_face.events.selectors import (
    ALL_STATUSES,
    event_detail,
    event_page,
    registration_list,
)
from events_face.events.serializers import (
    EventDetailSerializer,
    EventListFilterSerializer,
    EventSerializer,
    RegistrationInputSerializer,
    RegistrationListFilterSerializer,
    RegistrationSerializer,
    event_item,
    registration_input,
    registration_item,
)
from events_face.events.services import registration_create

# Stateless: one instance serves every request.
CATALOGUE_AUTHENTICATION = AccessTokenAuthentication()


class JSONOnly(BaseContentNegotiation):
    """The catalogue reads answer JSON to every client (DRF's negotiation costs as much as a cache hit)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0]


class CatalogueReadMixin:
    """The catalogue's reads: a GET that can be answered is answered without DRF's dispatch.

    DRF's dispatch (its Request, the negotiation, the permission and throttle
    loops, the response's finishing) cost a fifth of a cached page
    (bench/request_profile.py). A GET whose token `AccessTokenAuthentication`
    accepts needs none of it: it is answered by the view's `get` with the plain
    Django request. Anything else goes through DRF as before, so each refusal
    keeps its shape, language and headers: no token, a refused one, and bad input
    (any of `ANSWERED_ERRORS` that `get` raises, before anything is stored;
    DRF's pass raises it again and answers it). So `get` reads only what
    both requests have (`GET`, `path`, `META`, `build_absolute_uri`).
    """

    authentication_classes = [AccessTokenAuthentication]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and self._accepts_token(request):
            self.args, self.kwargs, self.request = args, kwargs, request
            try:
                response = self.get(request, *args, **kwargs)
            except ANSWERED_ERRORS:
                pass
            else:
                # The header DRF's finishing adds to every answer.
                response.headers.setdefault("Allow", ", ".join(self.allowed_methods))
                return response
        return super().dispatch(request, *args, **kwargs)

    def _accepts_token(self, request) -> bool:
        try:
            return CATALOGUE_AUTHENTICATION.authenticate(request) is not None
        except APIException:
            return False


# How far behind a cached body's `seats_left` may be: registrations do not bump the
# catalogue version, so a body that counts seats is kept this long at most.
SEATS_LEFT_MAX_AGE = 5  # seconds


def _max_age(rows) -> int | None:
    return SEATS_LEFT_MAX_AGE if any(row["capacity"] is not None for row in rows) else None


def _expiry_times(rows) -> list:
    """When a response about these events expires: the moments they change without a write (see `response_cache`)."""
    return [moment for row in rows for moment in (row["event_time"], row["registration_deadline"])]


# Query parameters that are not filters: a request with only these skips the filter serializer.
PAGINATION_PARAMETERS = {
    EventKeysetPagination.cursor_query_param,
    EventKeysetPagination.page_size_query_param,
}


def canonical_filters(filters: dict) -> list[tuple[str, str]]:
    """The filters as one spelling: fixed order, statuses sorted and deduplicated, defaults left out.

    Two requests that ask for the same list get the same pairs; they are the
    response cache's key and the query of the page's links.
    """
    pairs = []
    if filters.get("name"):
        pairs.append(("name", filters["name"]))
    statuses = filters.get("status")
    if statuses:
        pairs.append(
            ("status", ALL_STATUSES if ALL_STATUSES in statuses else ",".join(sorted(set(statuses))))
        )
    for field in ("date_from", "date_to"):
        if filters.get(field) is not None:
            pairs.append((field, filters[field].isoformat()))
    if filters.get("venue"):
        pairs.append(("venue", str(filters["venue"])))
    if filters.get("ordering") == "-event_time":  # "event_time" is the default
        pairs.append(("ordering", "-event_time"))
    return pairs


class EventListApi(CatalogueReadMixin, GenericAPIView):
    pagination_class = EventKeysetPagination
    serializer_class = EventSerializer  # for the schema; items are shaped by `event_item`

    @extend_schema(
        operation_id="events_list",
        parameters=[EventListFilterSerializer],
        responses={
            200: EventSerializer(many=True),
            400: schema.error("Bad filter value or cursor (`invalid`, `invalid_cursor`)."),
            401: schema.UNAUTHORIZED,
        },
    )
    def get(self, request):
        # Parsed before the cache is asked: the key is the request's canonical form.
        filters = {}
        if not request.GET.keys() <= PAGINATION_PARAMETERS:
            filter_input = EventListFilterSerializer(data=request.GET)
            filter_input.is_valid(raise_exception=True)
            filters = filter_input.validated_data
        cursor, size = self.paginator.read_request(request)
        pairs = canonical_filters(filters)
        if size != self.paginator.page_size:
            pairs.append((self.paginator.page_size_query_param, str(size)))

        def build(now) -> RenderedResponse:
            # Links from the canonical query: a shared page carries no caller's own parameters.
            self.paginator.base_url = request.build_absolute_uri(request.path) + (
                f"?{urlencode(pairs)}" if pairs else ""
            )
            fetched = event_page(filters=filters, cursor=cursor, size=size, now=now)
            page = self.paginator.page_from(fetched, size)
            body = {**self.paginator.links(), "results": [event_item(row, now=now) for row in page]}
            return render(body, moments=_expiry_times(fetched), now=now, max_age=_max_age(page))

        today = timezone.now().date()
        if filters.get("name") or not dates_are_cacheable(
            filters.get("date_from"), filters.get("date_to"), today=today
        ):
            key_parts = None  # unbounded: served, never stored
        else:
            position = (
                None if cursor is None else (cursor.moment.astimezone(UTC), cursor.row_id, cursor.backwards)
            )
            key_parts = ("list", request.path, tuple(pairs), position)
        return cached_response(
            request,
            build,
            key_parts=key_parts,
            venue_id=filters.get("venue"),
            cursor=cursor,
        )


EVENT_ID = OpenApiParameter("event_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
REGISTRATION_ID = OpenApiParameter("registration_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
CANCEL_TOKEN = OpenApiParameter(
    "token",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The signed token of a notification's cancel link.",
)
BUSY = schema.error(
    "The event is busy with other writes (`busy`): nothing was done; retry after Retry-After seconds."
)


class EventDetailApi(CatalogueReadMixin, APIView):
    @extend_schema(
        operation_id="events_retrieve",
        parameters=[EVENT_ID],
        responses={200: EventDetailSerializer, 401: schema.UNAUTHORIZED, 404: schema.NOT_FOUND},
    )
    def get(self, request, event_id: str):
        event_uuid = event_id_parse(event_id)  # one key per event, however its id is spelled

        def build(now) -> RenderedResponse:
            row = event_detail(event_id=event_uuid)
            return render(
                event_item(row, now=now, detail=True),
                moments=_expiry_times([row]),
                now=now,
                max_age=_max_age([row]),
            )

        return cached_response(request, build, key_parts=("detail", event_uuid))


class EventRegisterApi(APIView):
    # The user's row is read by `registration_create`, in its lock's round trip.
    authentication_classes = [AccessTokenWriteAuthentication]
    # Per user (the throttle keys on the authenticated user's id): REGISTRATION_THROTTLE_RATE.
    throttle_classes = [ScopedCacheThrottle]
    throttle_scope = "registration"

    @extend_schema(
        operation_id="events_register",
        request=RegistrationInputSerializer,
        parameters=[
            EVENT_ID,
            idempotency_key_parameter(
                "A repeat with the same key by the same user replays the first response."
            ),
        ],
        responses={
            201: OpenApiResponse(
                RegistrationSerializer,
                description=(
                    "Registered (`confirmed`; the confirmation code goes to the e-mail address), or, on a "
                    "full event with `waitlist: true`, on its waiting list (`waitlisted`, with "
                    "`waitlist_position`; the code comes when a seat frees up)."
                ),
            ),
            400: schema.error(
                "Invalid input or JSON nested too deeply (`invalid`), malformed JSON (`parse_error`), "
                "an e-mail address without a public domain (`email_domain_not_public`)."
            ),
            401: schema.UNAUTHORIZED,
            404: schema.NOT_FOUND,
            409: schema.error(
                "Registration refused: `event_closed`, `already_registered` or `event_full` "
                "(full, and `waitlist` not asked for)."
            ),
            413: schema.TOO_LARGE,
            415: schema.UNSUPPORTED,
            422: schema.error("`idempotency_key_reused`: the key was used for another registration."),
            429: schema.error(
                "Too many registrations by this user (`throttled`) or to this e-mail address from any "
                "account (`address_rate_exceeded`); see Retry-After."
            ),
            503: BUSY,
        },
    )
    def post(self, request, event_id: str):
        payload = registration_input(request.data)
        key = idempotency_key_read(request)
        registration, _created = registration_create(
            event_id=event_id,
            user=request.user,
            idempotency_key=key,
            language=request.LANGUAGE_CODE,  # LocaleMiddleware's pick from Accept-Language
            **payload,
        )
        return Response(registration_item(registration), status=status.HTTP_201_CREATED)


class RegistrationListApi(GenericAPIView):
    pagination_class = RegistrationKeysetPagination
    serializer_class = RegistrationSerializer

    @extend_schema(
        operation_id="registrations_list",
        parameters=[RegistrationListFilterSerializer],
        responses={
            200: RegistrationSerializer(many=True),
            400: schema.error("Bad status, cursor or page size (`invalid`, `invalid_cursor`)."),
            401: schema.UNAUTHORIZED,
        },
    )
    def get(self, request):
        filters = RegistrationListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        registrations = registration_list(user=request.user, status=filters.validated_data.get("status"))
        page = self.paginate_queryset(registrations)
        return self.get_paginated_response(RegistrationSerializer(page, many=True).data)


class RegistrationCancelApi(APIView):
    # The owner's row is read by `registration_cancel`, in its lock's round trip.
    authentication_classes = [AccessTokenWriteAuthentication]
    # Each cancellation is a notification, like a registration: the same per-user limit.
    throttle_classes = [ScopedCacheThrottle]
    throttle_scope = "registration"

    @extend_schema(
        operation_id="registrations_cancel",
        request=None,
        parameters=[REGISTRATION_ID],
        responses={
            200: OpenApiResponse(
                RegistrationSerializer,
                description=(
                    "Cancelled (`cancelled`); a seat it held goes to the first on the waiting list. "
                    "Cancelling a cancelled registration answers the same and changes nothing."
                ),
            ),
            401: schema.UNAUTHORIZED,
            404: schema.error("No registration of yours with this id (`not_found`)."),
            409: schema.error("`cancellation_closed`: the event has started."),
            429: schema.error(
                "Too many registrations and cancellations by this user (`throttled`); see Retry-After."
            ),
            503: BUSY,
        },
    )
    def post(self, request, registration_id: str):
        # Any body is ignored: the id in the path says it all.
        registration, _changed = registration_cancel(registration_id=registration_id, user=request.user)
        return Response(registration_item(registration), status=status.HTTP_200_OK)


class RegistrationCancelLinkApi(APIView):
    """The signed link of a notification: GET describes what POST does; POST cancels.

    No account: the link is the credential (`events/cancel_links.py`). A bad
    link is a 404, as an unknown registration.
    """

    authentication_classes = []
    permission_classes = []
    throttle_classes = [ScopedCacheThrottle]
    throttle_scope = "auth"  # per client address: these requests carry no user

    @extend_schema(
        operation_id="registrations_cancel_link_retrieve",
        auth=[],
        parameters=[CANCEL_TOKEN],
        responses={
            200: OpenApiResponse(
                RegistrationSerializer, description="The registration this link cancels (POST to it)."
            ),
            404: schema.error("Not a valid cancel link (`not_found`)."),
            429: schema.error("Too many requests from this address (`throttled`); see Retry-After."),
        },
    )
    def get(self, request, token: str):
        return Response(registration_item(registration_by_cancel_link(token=token)))

    @extend_schema(
        operation_id="registrations_cancel_link",
        auth=[],
        request=None,
        parameters=[CANCEL_TOKEN],
        responses={
            200: OpenApiResponse(
                RegistrationSerializer, description="Cancelled, as by its owner; a repeat changes nothing."
            ),
            404: schema.error("Not a valid cancel link (`not_found`)."),
            409: schema.error("`cancellation_closed`: the event has started."),
            429: schema.error("Too many requests from this address (`throttled`); see Retry-After."),
            503: BUSY,
        },
    )
    def post(self, request, token: str):
        registration, _changed = registration_cancel_by_link(token=token)
        return Response(registration_item(registration))
