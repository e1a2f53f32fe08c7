"""Fault injection in front of moto, switched on per scenario.

TEST EQUIPMENT for the engine test tier, never deployed. It wraps the WSGI
application moto_eks_ext.make_app builds (moto plus the EKS extension) and,
only while a test has installed rules, answers matching AWS calls the way AWS
does when things go wrong. With no rules installed (the default, and after
every reset) every request passes through untouched.

An AWS call is named by its SigV4 service and its operation:
  - query-protocol services (iam, sts): the form body's Action, e.g.
    iam:CreateRole, iam:AttachRolePolicy, iam:GetRole;
  - EKS (REST-JSON): the operation its method and path mean, e.g.
    eks:CreateAddon, eks:DescribeAddon, eks:CreatePodIdentityAssociation,
    eks:DescribeCluster (see EKS_OPERATIONS).

A rule matches one call name and has a fault:
  "throttle"  the service's throttling error, as AWS sends it: IAM/STS
              HTTP 400 <Code>Throttling</Code> "Rate exceeded" (query
              protocol); EKS HTTP 400 ThrottlingException "Rate exceeded"
              (EKS API Reference, Common Errors). The request is not
              performed, as with a real throttle.
  "error"     any other error, given as status/code/message, e.g. EKS's
              400 InvalidParameterException "Role provided in the request
              does not exist" (IAM eventual consistency). Not performed.
  "hold"      the request IS performed (moto creates the resource), then
              its response is held back until the test releases it or
              holdSeconds pass: a create that AWS finished but the caller
              has not heard of yet, so the caller can be killed mid-create
              deterministically.
"count" limits how many matching calls get the fault (default: all).

Routes (unsigned, plain JSON):
  POST   /moto-ext/faults          {"rules": [rule, ...]} replaces all rules
                                   and zeroes the counters
  GET    /moto-ext/faults          {"rules": [... with "injected" and
                                   "held"], "calls": {"iam:CreateRole": n}}
                                   calls counts every call seen since the
                                   last POST/DELETE, faulted or not
  POST   /moto-ext/faults/release  lets every held response go and stops
                                   holding
  DELETE /moto-ext/faults          releases holds, removes all rules

rule = {"service": "iam", "action": "CreateRole", "fault": "throttle",
        "count": 2}
     | {..., "fault": "error", "status": 400,
        "code": "InvalidParameterException", "message": "..."}
     | {..., "fault": "hold", "holdSeconds": 120}
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
import uuid
from typing import Any, Callable

from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

# Method and path of each EKS operation this tier meets, as the EKS REST API
# defines them (botocore's eks service model, "http" of each operation).
_C = r"/clusters/[^/]+"
EKS_OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_C + r"/addons/?$"), "CreateAddon"),
    ("GET", re.compile(_C + r"/addons/?$"), "ListAddons"),
    ("GET", re.compile(_C + r"/addons/[^/]+/?$"), "DescribeAddon"),
    ("DELETE", re.compile(_C + r"/addons/[^/]+/?$"), "DeleteAddon"),
    ("POST", re.compile(_C + r"/addons/[^/]+/update/?$"), "UpdateAddon"),
    ("GET", re.compile(_C + r"/updates/[^/]+/?$"), "DescribeUpdate"),
    ("POST", re.compile(_C + r"/pod-identity-associations/?$"), "CreatePodIdentityAssociation"),
    ("GET", re.compile(_C + r"/pod-identity-associations/?$"), "ListPodIdentityAssociations"),
    ("GET", re.compile(_C + r"/pod-identity-associations/[^/]+/?$"), "DescribePodIdentityAssociation"),
    ("POST", re.compile(_C + r"/pod-identity-associations/[^/]+/?$"), "UpdatePodIdentityAssociation"),
    ("DELETE", re.compile(_C + r"/pod-identity-associations/[^/]+/?$"), "DeletePodIdentityAssociation"),
    ("GET", re.compile(r"/clusters/[^/]+/?$"), "DescribeCluster"),
    ("GET", re.compile(r"/tags/.+$"), "ListTagsForResource"),
    ("POST", re.compile(r"/tags/.+$"), "TagResource"),
    ("DELETE", re.compile(r"/tags/.+$"), "UntagResource"),
]
QUERY_SERVICES = ("iam", "sts")
FAULTS = ("throttle", "error", "hold")
DEFAULT_HOLD_SECONDS = 120.0


class RuleError(ValueError):
    pass


class _Rule:
    def __init__(self, spec: dict[str, Any]) -> None:
        if not isinstance(spec, dict):
            raise RuleError("a rule is a JSON object")
        unknown = set(spec) - {"service", "action", "fault", "count", "status", "code", "message", "holdSeconds"}
        if unknown:
            raise RuleError(f"unknown rule keys {sorted(unknown)}")
        self.service = str(spec.get("service") or "").lower()
        self.action = str(spec.get("action") or "")
        self.fault = str(spec.get("fault") or "")
        if not self.service or not self.action:
            raise RuleError("a rule needs service and action, e.g. iam/CreateRole")
        if self.fault not in FAULTS:
            raise RuleError(f"fault must be one of {FAULTS}, got {self.fault!r}")
        count = spec.get("count")
        self.remaining = None if count is None else int(count)
        self.status = int(spec.get("status") or 400)
        self.code = str(spec.get("code") or "")
        self.message = str(spec.get("message") or "")
        if self.fault == "error" and not self.code:
            raise RuleError("an error rule needs a code")
        self.hold_seconds = float(spec.get("holdSeconds") or DEFAULT_HOLD_SECONDS)
        self.spec = dict(spec)
        self.injected = 0
        self.held = 0
        self.released = threading.Event()

    def view(self) -> dict[str, Any]:
        return dict(self.spec, injected=self.injected, held=self.held)


class FaultInjector:
    """WSGI middleware: injects the configured faults, else passes through."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.rules: list[_Rule] = []
        self.calls: dict[str, int] = {}

    # ---- control routes ----------------------------------------------------

    def _control(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path, method = request.path.rstrip("/"), request.method
        try:
            if path == "/moto-ext/faults" and method == "POST":
                body = json.loads(request.get_data(as_text=True) or "{}")
                rules = [_Rule(r) for r in body.get("rules", [])]
                self._release_all()
                with self.lock:
                    self.rules, self.calls = rules, {}
            elif path == "/moto-ext/faults" and method == "DELETE":
                self._release_all()
                with self.lock:
                    self.rules, self.calls = [], {}
            elif path == "/moto-ext/faults/release" and method == "POST":
                self._release_all()
            elif not (path == "/moto-ext/faults" and method == "GET"):
                return _plain(404, {"message": f"no such fault route: {method} {path}"})(environ, start_response)
        except (RuleError, ValueError) as e:
            return _plain(400, {"message": str(e)})(environ, start_response)
        with self.lock:
            state = {"rules": [r.view() for r in self.rules], "calls": dict(self.calls)}
        return _plain(200, state)(environ, start_response)

    def _release_all(self) -> None:
        with self.lock:
            for r in self.rules:
                if r.fault == "hold":
                    r.remaining = 0
                    r.released.set()

    # ---- request path --------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/moto-ext/faults"):
            return self._control(environ, start_response)
        name = _call_name(environ)
        if name is None:
            return self.app(environ, start_response)
        rule = None
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            for r in self.rules:
                if f"{r.service}:{r.action}" == name and (r.remaining is None or r.remaining > 0):
                    if r.remaining is not None:
                        r.remaining -= 1
                    r.injected += 1
                    rule = r
                    break
        if rule is None:
            return self.app(environ, start_response)
        service = name.split(":", 1)[0]
        if rule.fault == "throttle":
            if service in QUERY_SERVICES:
                return _query_error(400, "Throttling", "Rate exceeded")(environ, start_response)
            return _json_error(400, "ThrottlingException", "Rate exceeded")(environ, start_response)
        if rule.fault == "error":
            if service in QUERY_SERVICES:
                return _query_error(rule.status, rule.code, rule.message)(environ, start_response)
            return _json_error(rule.status, rule.code, rule.message)(environ, start_response)
        return self._hold(rule, environ, start_response)

    def _hold(self, rule: _Rule, environ: dict[str, Any], start_response: Any) -> Any:
        # Perform the call, keep its response, and only then wait: what AWS
        # did is done, the caller just has not heard yet.
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        with self.lock:
            rule.held += 1
        rule.released.wait(rule.hold_seconds)
        with self.lock:
            rule.held -= 1
        start_response(captured["status"], captured["headers"])
        return [body]


def _call_name(environ: dict[str, Any]) -> str | None:
    """service:Operation of a SigV4-signed AWS call, None for anything else."""
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", environ.get("HTTP_AUTHORIZATION", ""))
    if not m:
        return None
    service = m.group(1).lower()
    if service in QUERY_SERVICES:
        return f"{service}:{_query_action(environ)}"
    if service == "eks":
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        for verb, regex, op in EKS_OPERATIONS:
            if verb == method and regex.match(path):
                return f"eks:{op}"
        return f"eks:{method} {path}"
    return None


def _query_action(environ: dict[str, Any]) -> str:
    """The Action of a query-protocol call, leaving the body readable downstream."""
    action = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return action[0]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    return action[0] if action else "?"


def _plain(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _json_error(status: int, code: str, message: str) -> Response:
    resp = Response(json.dumps({"message": message}), status=status, mimetype="application/json")
    resp.headers["x-amzn-ErrorType"] = code
    resp.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return resp


def _query_error(status: int, code: str, message: str) -> Response:
    request_id = str(uuid.uuid4())
    xml = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    resp = Response(xml, status=status, mimetype="text/xml")
    resp.headers["x-amzn-RequestId"] = request_id
    return resp
