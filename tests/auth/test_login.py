"""`POST /api/auth/token/`: DRF's obtain_auth_token, with throttling shared by every replica."""

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from app.auth import secrets
from app.common.workers import BoundedPool
from app.models import ApiToken, LoginFailure, User
from tests.conftest import make_client
from tests.factories import PASSWORD, create_staff, create_user

PORTFOLIO_VIEW = 4202

FAILED = {"non_field_errors": ["Unable to log in with provided credentials."]}


async def login(client, username, password=PASSWORD, **kwargs):
    return await client.post(
        "/api/auth/token/", json={"username": username, "password": password}, **kwargs
    )


async def test_login_returns_a_new_working_token(app, client, db_connection):
    user = await create_user(app)
    response = await login(client, user.username)
    assert response.status_code == 200
    key = response.json()["token"]
    assert list(response.json()) == ["token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Token {key}"})
    assert me.json()["username"] == user.username
    assert me.json()["last_login"] is not None
    statement = select(ApiToken.expires_at, ApiToken.name).where(ApiToken.user_id == user.id)
    token = (await db_connection.execute(statement)).one()
    lifetime = token.expires_at - datetime.now(UTC)
    assert 29 < lifetime.total_seconds() / 86400 <= 30
    assert token.name.startswith("login from ")


async def test_each_login_issues_another_token(app, client):
    user = await create_user(app)
    first = (await login(client, user.username)).json()["token"]
    second = (await login(client, user.username)).json()["token"]
    assert first != second


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "inactive user"])
async def test_failures_are_indistinguishable(app, client, case):
    user = await create_user(app, is_active=case != "inactive user")
    username = "nobody-here" if case == "unknown user" else user.username
    password = "wrong password" if case == "wrong password" else PASSWORD
    response = await login(client, username, password)
    assert response.status_code == 400
    assert response.json() == FAILED


async def test_unknown_user_costs_a_full_password_check(app, client, monkeypatch):
    checked = []
    original = secrets._verify

    def spy(password_hash, password):
        checked.append(password_hash)
        return original(password_hash, password)

    monkeypatch.setattr(secrets, "_verify", spy)
    await login(client, "no-such-user")
    assert checked == [None]  # verified against the stand-in hash, not skipped


async def test_missing_fields_are_named(client):
    response = await client.post("/api/auth/token/", json={"username": ""})
    assert response.status_code == 400
    assert response.json() == {
        "username": ["This field may not be blank."],
        "password": ["This field is required."],
    }


async def test_passwords_are_not_trimmed(app, client):
    user = await create_user(app)
    response = await login(client, user.username, f" {PASSWORD} ")
    assert response.json() == FAILED


@pytest.fixture
def use_password_pool(app):
    """Give the app another password pool for one test. (Not `monkeypatch.setattr`: it would
    delete the attribute afterwards, as `State` keeps no `__dict__` entry for it.)"""
    original = app.state.password_pool

    def use(pool):
        app.state.password_pool = pool
        return pool

    yield use
    replaced, app.state.password_pool = app.state.password_pool, original
    if replaced is not original:
        replaced.shutdown()


def failure_count():
    return select(func.count()).select_from(LoginFailure)


async def test_repeated_failures_for_a_username_from_an_address_are_throttled(
    app, client, db_connection
):
    user = await create_user(app)
    limit = app.state.settings.login_failures_per_username_and_address
    for _ in range(limit):
        assert (await login(client, user.username, "wrong")).status_code == 400
    refused = await login(client, user.username)  # even the right password, from there
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= app.state.settings.login_failure_window_seconds
    assert refused.json() == {
        "detail": f"Request was throttled. Expected available in {wait} seconds."
    }
    assert (await db_connection.execute(failure_count())).scalar_one() == limit


async def test_the_owner_still_logs_in_from_an_address_that_did_not_fail(app, db_connection):
    """Anyone could otherwise lock the admin out by failing five times."""
    user = await create_user(app)
    limit = app.state.settings.login_failures_per_username_and_address
    async with make_client(app, client=("203.0.113.66", 1)) as attacker:
        for _ in range(limit):
            assert (await login(attacker, user.username, "wrong")).status_code == 400
        assert (await login(attacker, user.username, "wrong")).status_code == 429
    async with make_client(app, client=("198.51.100.7", 1)) as owner:
        assert (await login(owner, user.username)).status_code == 200


async def test_repeated_failures_per_address_are_throttled(app, db_connection):
    limit = app.state.settings.login_failures_per_address
    async with make_client(app, client=("198.51.100.4", 1)) as guesser:
        for number in range(limit):
            assert (await login(guesser, f"guess{number}", "wrong")).status_code == 400
        assert (await login(guesser, "guess-next", "wrong")).status_code == 429
    user = await create_user(app)
    async with make_client(app, client=("198.51.100.5", 1)) as other:
        assert (await login(other, user.username)).status_code == 200


async def test_a_username_has_a_ceiling_across_addresses(settings, committing_client):
    """Guessing spread over many addresses still stops, at a higher count."""
    from app.main import create_app
    from tests.conftest import started

    ceiling = settings.model_copy(update={"login_failures_per_username": 3})
    async for replica in started(create_app(ceiling)):
        user = await create_user(replica)
        for number in range(3):
            async with make_client(replica, client=(f"192.0.2.{number + 1}", 1)) as guesser:
                assert (await login(guesser, user.username, "wrong")).status_code == 400
        async with make_client(replica, client=("192.0.2.200", 1)) as another:
            assert (await login(another, user.username)).status_code == 429


async def test_success_clears_the_failures_of_that_address(app, client):
    user = await create_user(app)
    limit = app.state.settings.login_failures_per_username_and_address
    for _ in range(limit - 1):
        await login(client, user.username, "wrong")
    assert (await login(client, user.username)).status_code == 200
    for _ in range(limit - 1):
        assert (await login(client, user.username, "wrong")).status_code == 400


async def test_a_username_longer_once_lower_cased_is_counted_and_throttled(
    app, client, db_connection
):
    """ "İ" lower-cases to two characters: 76 of them made 152, over the old 150-wide column."""
    username = "İ" * 76
    limit = app.state.settings.login_failures_per_username_and_address
    for _ in range(limit):
        response = await login(client, username, "x")
        assert response.status_code == 400
        assert response.json() == FAILED
    assert (await db_connection.execute(failure_count())).scalar_one() == limit
    assert (await login(client, username, "x")).status_code == 429


async def test_a_burst_cannot_overshoot_the_limit(app, committing_client, monkeypatch):
    """30 at once for one username from one address: only the limit reach the password check."""
    checked = []
    original = secrets._verify

    def spy(password_hash, password):
        checked.append(password)
        return original(password_hash, password)

    monkeypatch.setattr(secrets, "_verify", spy)
    limit = app.state.settings.login_failures_per_username_and_address
    responses = await asyncio.gather(
        *(login(committing_client, "admin", "wrong") for _ in range(30))
    )
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {400, 429}
    assert len(checked) <= limit
    assert statuses.count(400) == len(checked)


async def test_no_connection_is_held_while_a_password_is_checked(
    app, committing_client, monkeypatch
):
    user = await create_user(app)
    held = []
    original = secrets._verify

    def spy(password_hash, password):
        held.append(app.state.engine.pool.checkedout())
        return original(password_hash, password)

    monkeypatch.setattr(secrets, "_verify", spy)
    assert (await login(committing_client, user.username)).status_code == 200
    assert (await login(committing_client, user.username, "wrong")).status_code == 400
    assert held == [0, 0]


async def test_a_full_hashing_queue_is_a_429_at_once(client, db_connection, use_password_pool):
    """A flood of logins is refused before it waits, counts or reads anything."""
    pool = use_password_pool(BoundedPool("password-test", threads=1, queue=0))
    release = threading.Event()
    occupied = asyncio.ensure_future(pool.run(release.wait, 10))
    await asyncio.sleep(0.05)
    try:
        refused = await login(client, "someone")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json() == {
            "detail": "Request was throttled. Expected available in 1 second."
        }
        assert (await db_connection.execute(failure_count())).scalar_one() == 0
    finally:
        release.set()
        await occupied
    assert (await login(client, "someone")).status_code == 400  # a thread is free again


async def test_a_hash_made_with_older_parameters_is_upgraded_on_login(app, client, db_connection):
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = await create_user(app)
    await db_connection.execute(
        update(User).where(User.id == user.id).values(password_hash=weaker.hash(PASSWORD))
    )
    assert (await login(client, user.username)).status_code == 200
    stored = (
        await db_connection.execute(select(User.password_hash).where(User.id == user.id))
    ).scalar_one()
    assert not secrets.needs_rehash(stored)
    assert (await login(client, user.username)).status_code == 200


async def test_throttle_is_seen_by_every_replica(app, settings, committing_client):
    """Failures are rows, so a second app instance (another replica) refuses the same guesser."""
    from app.main import create_app
    from tests.conftest import started

    limit = app.state.settings.login_failures_per_username_and_address
    await asyncio.gather(*(login(committing_client, "target", "wrong") for _ in range(limit)))
    async for replica in started(create_app(settings)):
        async with make_client(replica) as other:
            assert (await login(other, "target", "wrong")).status_code == 429


async def test_a_login_flood_gets_no_5xx_and_the_staff_are_still_served(
    app, committing_client, use_password_pool
):
    """60 logins at once, each from its own address: some are checked, the rest refused at
    once, none fails, and a staff member reading meanwhile is answered."""
    staff = await create_staff(app, PORTFOLIO_VIEW)
    use_password_pool(BoundedPool("flood", threads=1, queue=2))
    clients = [make_client(app, client=(f"10.0.{n // 256}.{n % 256}", 1)) for n in range(60)]
    try:
        logins = asyncio.gather(
            *(login(client, f"ghost-{n}", "wrong") for n, client in enumerate(clients))
        )
        reads = asyncio.gather(
            *(committing_client.get("/api/portfolios/", headers=staff.headers) for _ in range(5))
        )
        login_responses, read_responses = await asyncio.gather(logins, reads)
    finally:
        for client in clients:
            await client.aclose()
    statuses = [response.status_code for response in login_responses]
    assert set(statuses) <= {400, 429}
    assert 1 <= statuses.count(400) <= 3  # the thread and the two places behind it
    assert [response.status_code for response in read_responses] == [200] * 5
