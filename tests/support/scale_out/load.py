"""The load of a soak run: virtual users on threads, each a closed loop of sessions over HTTP.

A session is what a person does: sign up and log in (a new user) or just log
in (a returning one), try the capacity-limited event, register for an event
from the list and then once more with the same e-mail, then a mix of actions
(browse the list with filters and follow `next`, open events, register with a
fresh e-mail or the same one again, try the capacity-limited event, look at
their registrations). So every situation the proofs speak of comes up in every
session, however few there are. Every request is recorded as a `Sample`;
nothing is retried, so every failure is counted.

The users reach the web servers through a `Balancer`, as they would through a
load balancer: round robin over the servers that are up; a server that fails
a request (no answer, 502, 503) is taken out at once, for every user, and put
back when its health check (`/api/health/`) answers 200 again.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

# What each kind of request may answer in a healthy run: statuses, and for 409 the error codes.
SIGN_UP = "POST /api/auth/register"
LOG_IN = "POST /api/auth/login"
LIST = "GET /api/events/"
LIST_NEXT = "GET /api/events/ (next page)"
DETAIL = "GET /api/events/{id}/"
REGISTER = "POST /api/events/{id}/register/"
REGISTER_CAPACITY = "POST .../register/ (capacity-limited event)"
REGISTER_AGAIN = "POST .../register/ (same e-mail again)"
MY_REGISTRATIONS = "GET /api/registrations/"

EXPECTED: dict[str, dict[int, frozenset[str]]] = {
    SIGN_UP: {201: frozenset()},
    LOG_IN: {200: frozenset()},
    LIST: {200: frozenset()},
    LIST_NEXT: {200: frozenset()},
    DETAIL: {200: frozenset()},
    # The sync may close an event between the list and the request.
    REGISTER: {201: frozenset(), 409: frozenset({"event_closed"})},
    REGISTER_CAPACITY: {201: frozenset(), 409: frozenset({"event_full"})},
    REGISTER_AGAIN: {409: frozenset({"already_registered", "event_closed"})},
    MY_REGISTRATIONS: {200: frozenset()},
}

# How often each action comes up in a session, after its sign-up and login.
ACTION_WEIGHTS = {
    "browse": 35,
    "detail": 25,
    "register": 12,
    "register_capacity": 10,
    "register_again": 6,
    "my_registrations": 12,
}
SEARCH_WORDS = ("work", "django", "data", "design", "conf", "talk", "security", "meetup")
PASSWORD = "soak-test-password-2718"
RETURNING_SHARE = 0.7  # of sessions after the first: log in to an account made earlier
HEALTH_CHECK_INTERVAL = 0.25  # seconds between two health checks of a server that is out


@dataclass(slots=True)
class Sample:
    endpoint: str
    server: int
    started: float  # seconds since the load started
    seconds: float
    status: int | None  # None: no answer (refused, reset, timed out)
    code: str = ""  # the error body's code, or the transport error's class name
    email: str = ""  # a registration's e-mail, to find the request behind a stored row

    @property
    def failed(self) -> bool:
        """A server error or no answer at all."""
        return self.status is None or self.status >= 500

    def expected(self) -> bool:
        allowed = EXPECTED[self.endpoint]
        if self.status not in allowed:
            return False
        return not allowed[self.status] or self.code in allowed[self.status]


class Balancer:
    """Round robin over the servers that are up; a failed server is out until its health check passes."""

    def __init__(self, servers: list[str]) -> None:
        self.servers = servers
        self.up = [True] * len(servers)
        self._lock = threading.Lock()
        self._turn = 0
        self._stop = threading.Event()
        self._checker = threading.Thread(target=self._check, name="soak-balancer-health", daemon=True)
        self._checker.start()

    def pick(self) -> int:
        with self._lock:
            candidates = [index for index, up in enumerate(self.up) if up] or list(range(len(self.servers)))
            self._turn += 1
            return candidates[self._turn % len(candidates)]

    def failed(self, index: int) -> None:
        with self._lock:
            self.up[index] = False

    def _check(self) -> None:
        with httpx.Client(timeout=1) as http:
            while not self._stop.wait(HEALTH_CHECK_INTERVAL):
                for index, server in enumerate(self.servers):
                    if self.up[index]:
                        continue
                    try:
                        healthy = http.get(f"{server}/api/health/").status_code == 200
                    except httpx.TransportError:
                        healthy = False
                    if healthy:
                        with self._lock:
                            self.up[index] = True

    def close(self) -> None:
        self._stop.set()
        self._checker.join()


@dataclass
class LoadPlan:
    clients: int = 8
    duration: float = 20.0  # seconds
    actions_per_session: int = 100
    think_seconds: float = 0.0  # pause after each action
    ramp_up_seconds: float = 5.0  # the last user starts this long after the first
    seed: int = 1


@dataclass
class LoadGenerator:
    """`clients` virtual users against `servers` (base URLs) until `duration` has passed."""

    plan: LoadPlan
    servers: list[str]
    capacity_event_id: str
    run_tag: str
    samples: list[Sample] = field(default_factory=list)
    registered_ids: list[str] = field(default_factory=list)  # ids of the 201s, as the clients saw them
    started_monotonic: float = 0.0
    started_wall: datetime | None = None

    def __post_init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._users: list[VirtualUser] = []
        self._stop = threading.Event()
        self.errors: list[str] = []  # exceptions that ended a user's thread (a bug of the generator)
        self.balancer: Balancer | None = None
        self.seconds = 0.0

    def start(self) -> None:
        self.balancer = Balancer(self.servers)
        self.started_monotonic = time.monotonic()
        self.started_wall = datetime.now(UTC)
        for number in range(self.plan.clients):
            user = VirtualUser(number=number, load=self, rng=random.Random(f"{self.plan.seed}:{number}"))
            thread = threading.Thread(target=user.run_guarded, name=f"soak-user-{number}", daemon=True)
            self._users.append(user)
            self._threads.append(thread)
            thread.start()

    def elapsed(self) -> float:
        return time.monotonic() - self.started_monotonic

    def stopping(self) -> bool:
        return self._stop.is_set() or self.elapsed() >= self.plan.duration

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        """Wait for every user to finish its request in hand; then gather what they recorded (once)."""
        for thread in self._threads:
            thread.join()
        if self._users:
            self.balancer.close()
        users, self._users = self._users, []
        for user in users:
            self.samples.extend(user.samples)
            self.registered_ids.extend(user.registered_ids)
        self.samples.sort(key=lambda sample: sample.started)
        # Until the last answer: the users stop taking new actions at `duration`.
        self.seconds = max(
            [self.plan.duration, *(sample.started + sample.seconds for sample in self.samples)]
        )


class VirtualUser:
    def __init__(self, *, number: int, load: LoadGenerator, rng: random.Random) -> None:
        self.number = number
        self.load = load
        self.rng = rng
        self.samples: list[Sample] = []
        self.registered_ids: list[str] = []
        self.http = httpx.Client(timeout=30)
        self.serial = 0
        self.access = ""
        self.open_events: list[str] = []
        self.seen_events: list[str] = []
        self.venues: list[str] = []
        self.registered: list[tuple[str, str]] = []  # (event id, e-mail) answered 201 in this session
        self.accounts: list[str] = []  # usernames this user signed up

    def run_guarded(self) -> None:
        try:
            # Users arrive one after another over the ramp-up, not all in the same instant.
            time.sleep(self.number * self.load.plan.ramp_up_seconds / self.load.plan.clients)
            while not self.load.stopping():
                self.session()
        except Exception as exc:  # recorded: the run fails on it
            self.load.errors.append(f"user {self.number}: {type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    # --- one request ---------------------------------------------------------------------------
    def request(
        self, endpoint: str, method: str, path: str, email: str = "", **kwargs
    ) -> httpx.Response | None:
        server = self.load.balancer.pick()
        if self.access:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.access}"
        started = time.monotonic()
        try:
            response = self.http.request(method, self.load.servers[server] + path, **kwargs)
        except httpx.TransportError as exc:
            sample = Sample(endpoint, server, started - self.load.started_monotonic,
                            time.monotonic() - started, None, type(exc).__name__, email)  # fmt: skip
            self.samples.append(sample)
            self.load.balancer.failed(server)
            return None
        code = ""
        if response.status_code >= 400:
            try:
                code = str(response.json()["error"]["code"])
            except (ValueError, KeyError, TypeError):
                code = "(no error body)"
        self.samples.append(Sample(endpoint, server, started - self.load.started_monotonic,
                                   time.monotonic() - started, response.status_code, code, email))  # fmt: skip
        if response.status_code in (502, 503):
            self.load.balancer.failed(server)
        return response

    # --- a session -------------------------------------------------------------------------------
    def session(self) -> None:
        """A returning user logs in; a new one (the first time, then 30% of sessions) signs up first."""
        self.access = ""
        if self.accounts and self.rng.random() < RETURNING_SHARE:
            username = self.rng.choice(self.accounts)
        else:
            self.serial += 1
            username = f"{self.load.run_tag}-u{self.number}-s{self.serial}"
            signed_up = self.request(SIGN_UP, "POST", "/api/auth/register", json={
                "username": username, "email": f"{username}@example.com", "password": PASSWORD,
            })  # fmt: skip
            if signed_up is None or signed_up.status_code != 201:
                return
            self.accounts.append(username)
        logged_in = self.request(
            LOG_IN, "POST", "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        if logged_in is None or logged_in.status_code != 200:
            return
        self.access = logged_in.json()["access"]
        self.registered = []
        # How a session starts: the popular event first (all users arriving at once rush
        # it), an event from the list, then that registration again by mistake.
        self.register_capacity()
        self.register()
        self.register_again()
        actions, weights = zip(*ACTION_WEIGHTS.items(), strict=True)
        # Sessions of different lengths, so that users do not all sign up again at once.
        mean = self.load.plan.actions_per_session
        for _ in range(self.rng.randint(mean // 2, mean * 3 // 2)):
            if self.load.stopping():
                return
            getattr(self, self.rng.choices(actions, weights)[0])()
            if self.load.plan.think_seconds:
                time.sleep(self.load.plan.think_seconds)

    def _fresh_guest(self) -> tuple[str, str]:
        """(full name, e-mail) never used before in this run."""
        self.serial += 1
        tag = f"{self.load.run_tag}.{self.number}.{self.serial}"
        return f"Guest {self.number}-{self.serial}", f"guest.{tag}@example.com"

    # --- the actions -----------------------------------------------------------------------------
    def browse(self) -> None:
        params = {"page_size": self.rng.choice((10, 20, 50))}
        today = datetime.now(UTC).date()
        choice = self.rng.randrange(7)
        if choice == 1:
            params["status"] = "all"
        elif choice == 2:
            params["name"] = self.rng.choice(SEARCH_WORDS)
        elif choice == 3:
            params["date_from"] = (today + timedelta(days=self.rng.randint(0, 60))).isoformat()
        elif choice == 4 and self.venues:
            params["venue"] = self.rng.choice(self.venues)
        elif choice == 5:
            params["ordering"] = "-event_time"
        elif choice == 6:
            params["status"] = "new,published"
        response = self.request(LIST, "GET", "/api/events/", params=params)
        pages = self.rng.choice((0, 0, 1, 2))
        while response is not None and response.status_code == 200:
            page = response.json()
            self._remember(page["results"])
            if not pages or not page["next"]:
                return
            pages -= 1
            link = urlsplit(page["next"])  # the path and cursor; the host is whichever server answered
            response = self.request(LIST_NEXT, "GET", f"{link.path}?{link.query}")

    def _remember(self, events: list[dict]) -> None:
        for event in events:
            self.seen_events.append(event["id"])
            # The capacity-limited event is tried by its own action only, so its 201s are counted apart.
            if event["registration_open"] and event["id"] != self.load.capacity_event_id:
                self.open_events.append(event["id"])
            if event["venue"]:
                self.venues.append(event["venue"]["id"])
        # Keep the most recent: the sync changes events while users browse.
        del self.seen_events[:-200], self.open_events[:-100], self.venues[:-50]

    def detail(self) -> None:
        if not self.seen_events:
            return self.browse()
        self.request(DETAIL, "GET", f"/api/events/{self.rng.choice(self.seen_events)}/")

    def _register(self, endpoint: str, event_id: str, full_name: str, email: str) -> None:
        response = self.request(endpoint, "POST", f"/api/events/{event_id}/register/", email=email,
                                json={"full_name": full_name, "email": email})  # fmt: skip
        if response is not None and response.status_code == 201:
            self.registered.append((event_id, email))
            self.registered_ids.append(response.json()["id"])

    def register(self) -> None:
        if not self.open_events:
            self.browse()
        if self.open_events:
            self._register(REGISTER, self.rng.choice(self.open_events), *self._fresh_guest())

    def register_capacity(self) -> None:
        self._register(REGISTER_CAPACITY, self.load.capacity_event_id, *self._fresh_guest())

    def register_again(self) -> None:
        """The same e-mail for the same event, as typed another time (another case)."""
        if not self.registered:
            return self.register()
        event_id, email = self.rng.choice(self.registered)
        self._register(REGISTER_AGAIN, event_id, "Guest Again", email.upper())

    def my_registrations(self) -> None:
        self.request(MY_REGISTRATIONS, "GET", "/api/registrations/")
