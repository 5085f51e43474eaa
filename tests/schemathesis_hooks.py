"""Schemathesis hooks for tests/test_schemathesis.py (loaded by `st` through SCHEMATHESIS_HOOKS).

1. The run must not lock itself out. It authenticates as a superuser; writes to that user
   (demoting, deactivating, deleting it, resetting its password, revoking its tokens) and the
   revocation of its own tokens are sent to an id that names nothing (404), in every phase.
   Everything else, other users and their tokens included, is tested as generated.
2. Each call of the stateful phase is written to $FUZZ_CALLS (one JSON object a line), so the
   test can tell which chains of linked calls succeeded; in that phase a link's and a meta
   item's writes get no made-up `If-Match` (see CHILD_WRITES).
3. One false alarm of schemathesis 4.32 is dropped: a multipart body whose only "invalid" part
   is a text field that schemathesis typed as, say, an object. On the wire every form field is
   text (`{}` is a valid `name`), and schemathesis means to judge the body as sent, but its
   validator gives up on the file part (bytes) and then reports the accepted upload. The body
   is judged here as sent, the file as a string; if any part really breaks the schema (a name
   too long, no file), the failure stands.
"""

import json
import os
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import jsonschema_rs
import schemathesis
from pydantic import TypeAdapter, ValidationError
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

USER_ID = int(os.environ["FUZZ_USER_ID"])
TOKEN_IDS = {int(token_id) for token_id in os.environ["FUZZ_TOKEN_IDS"].split(",")}
NOWHERE = 2**63 - 1
# The fuzzing user's writes, by the path parameter naming the user.
USER_WRITES = {
    "update_user": "id", "replace_user": "id", "delete_user": "id", "revoke_user_token": "user_id"
}  # fmt: skip
# A made-up If-Match never matches (412). The stateful phase sends none to a link's or meta
# item's writes, so those chains reach their delete; a portfolio's keep theirs (mostly 412), so
# its children live long enough to be read.
CHILD_WRITES = {
    "update_portfolio_link", "replace_portfolio_link", "delete_portfolio_link",
    "update_portfolio_meta", "replace_portfolio_meta", "delete_portfolio_meta",
}  # fmt: skip
_PATH_ID = TypeAdapter(int)  # what the server reads from the path text


def _names(value: Any, ids: set[int]) -> bool:
    try:
        return _PATH_ID.validate_python(value) in ids
    except ValidationError:
        return False


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    operation = case.operation.definition.raw.get("operationId")
    parameters = dict(case.path_parameters or {})
    user = USER_WRITES.get(operation, "")
    if user and _names(parameters.get(user), {USER_ID}):
        case.path_parameters = {**parameters, user: NOWHERE}
    elif operation == "revoke_own_token" and _names(parameters.get("id"), TOKEN_IDS):
        case.path_parameters = {**parameters, "id": NOWHERE}
    stateful = case.meta is not None and case.meta.phase.name is TestPhase.STATEFUL
    if stateful and operation in CHILD_WRITES and case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "if-match"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.meta is None or case.meta.phase.name is not TestPhase.STATEFUL:
        return
    call = {
        "operation": case.operation.definition.raw.get("operationId"),
        "path": {name: str(value) for name, value in (case.path_parameters or {}).items()},
        "status": response.status_code,
    }
    if response.status_code == 201:
        call["id"] = response.json().get("id")
    with open(os.environ["FUZZ_CALLS"], "a", encoding="utf-8") as calls:
        calls.write(json.dumps(call) + "\n")


OTHER_LOCATIONS = (
    ParameterLocation.PATH,
    ParameterLocation.QUERY,
    ParameterLocation.HEADER,
    ParameterLocation.COOKIE,
)


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """False (drop) only for an accepted multipart body that is valid as sent."""
    if not isinstance(failure, AcceptedNegativeData):
        return True
    if not (case.media_type or "").startswith("multipart/form-data") or case.meta is None:
        return True
    if any(case.meta.is_negative_at(location) for location in OTHER_LOCATIONS):
        return True
    try:
        sent = _form_as_sent(response.request.headers["Content-Type"], response.request.body)
        schema = case.operation.get_body_for_media_type(case.media_type).optimized_schema
        return not jsonschema_rs.validator_for(schema).is_valid(sent)
    except Exception:
        return True  # not judged: the failure stands


def _form_as_sent(content_type: str, body: bytes) -> dict[str, str]:
    """Each field as the server reads it: text, or (a file) some string."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    fields: dict[str, str] = {}
    for part in BytesParser(policy=HTTP).parsebytes(head + body).iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None:
            fields[name] = "<file>"
        else:
            fields[name] = payload.decode(errors="replace")
    return fields
