"""The engine tier's moto server: moto_eks_ext.py plus IAM enforcement.

TEST EQUIPMENT for the engine test tier, never deployed. start.sh runs it:

    python3 moto_engine.py serve --host 127.0.0.1 --port 0 --port-file F

It serves exactly what moto_eks_ext.py serves (moto with the EKS add-on and
pod identity association routes) with two additions.

1. IAM authorization for pod credentials. moto can authenticate a request
   (recompute its SigV4 signature from the secret of an IAM access key or of
   an STS session) and authorize it against the caller's IAM policies; its
   only switch is global, settings.INITIAL_NO_AUTH_ACTION_COUNT (requests
   before the count are not checked, every one after is; the env variable of
   that name and POST /moto-api/reset-auth set it). A global switch does not
   fit this tier: the Pulumi AWS stand-in, the tests and the agent stand-in
   sign with the fixed key `testing`, which is no IAM identity in moto, and
   the agent's AssumeRole stands for EKS Auth acting as the service principal
   pods.eks.amazonaws.com, which moto cannot model (its trust check handles
   only AWS principals, and fails on a Service principal). So the switch is
   set per request, under a lock:

   - requests signed with an exempt key (MOTO_ENGINE_EXEMPT_KEYS, default
     `testing`): not checked, as before;
   - every other SigV4-signed request, in practice the credentials the agent
     stand-in vended to a pod: checked by moto. An unknown key gets
     InvalidClientTokenId / InvalidAccessKeyId, a wrong signature or session
     token SignatureDoesNotMatch / InvalidToken, and the action is allowed
     only if the role's inline or attached managed policies allow it.

   What moto evaluates (moto 5.2.1, moto/iam/access_control.py): Effect,
   Action/NotAction and Resource with * wildcards, an explicit Deny winning;
   Conditions only as StringEquals against sts:ExternalId (other keys are
   skipped). Session policies are added here (_patch_session_policy): an
   AssumeRole session's request must also be allowed by the session policy
   it was made with, as IAM intersects the two. moto does NOT evaluate
   permissions boundaries, resource policies (bucket policies), SCPs, or aws:PrincipalTag conditions
   (moto drops AssumeRole session tags). sts:GetCallerIdentity is always
   allowed, as on AWS. The resource of an S3 call is the bucket or object ARN.
   Turn the check off at run time with POST /moto-ext/config {"iamAuth": 0}.

   moto recomputes the signature from the request URL as werkzeug decodes it,
   so a query value the client percent-encoded (the CLI's `delimiter=%2F` in
   `aws s3 ls s3://bucket`) no longer matches and moto answers
   SignatureDoesNotMatch (moto issue #5948). The query is re-encoded the way
   SigV4 canonicalizes it before moto's check; nothing else in the signature
   check changes.

2. GET /moto-ext/clusters?endpoint=<url> (unsigned, test-tier helper): the EKS
   cluster records whose endpoint is <url>, as [{"name", "arn", "region",
   "accountId", "endpoint"}]. The engine's node stand-in (the pod runner and
   agent, ../podrunner) asks it which EKS clusters its loopback apiserver
   stands for.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_eks_ext as ext  # noqa: E402

EXEMPT_KEYS = frozenset(
    k for k in os.environ.get("MOTO_ENGINE_EXEMPT_KEYS", "testing").split(",") if k
)
ext._settings.setdefault("iamAuth", float(os.environ.get("MOTO_ENGINE_IAM_AUTH", "1") or 0))

_auth_lock = threading.Lock()


def _canonical_query(query: str) -> str:
    """The query as clients sign it: each key and value percent-encoded."""
    pairs = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        pairs.append(quote(unquote(key), safe="-_.~") + sep + quote(unquote(value), safe="-_.~"))
    return "&".join(pairs)


def _patch_signature_check() -> None:
    from moto.iam import access_control

    original = access_control.IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> Any:
        request = original(self)
        # moto recomputes the signature with the request's parameters as the
        # body when it has none (data=body or params): right for a form POST
        # whose body werkzeug already parsed, wrong for a GET, whose payload
        # the client signed empty, so REST services read by GET (Route 53,
        # EFS) never matched.
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            request.data = b""
        parts = urlsplit(request.url)
        if parts.query:
            request.url = urlunsplit(parts._replace(query=_canonical_query(parts.query)))
        return request

    access_control.IAMRequestBase._create_aws_request = create_aws_request


def _patch_session_policy() -> None:
    from moto.iam import access_control
    from moto.sts.models import sts_backends

    original = access_control.IAMRequestBase.check_action_permitted

    def check_action_permitted(self: Any, resource: str) -> None:
        original(self, resource)
        key = self._access_key
        if self._action == "sts:GetCallerIdentity" or not isinstance(key, access_control.AssumedRoleAccessKey):
            return
        for role in sts_backends[key.account_id][key.partition].assumed_roles:
            if role.access_key_id == key._access_key_id and getattr(role, "policy", None):
                result = access_control.IAMPolicy(role.policy).is_action_permitted(self._action, resource)
                if result != access_control.PermissionResult.PERMITTED:
                    self._raise_access_denied()

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def enforced(environ: dict[str, Any]) -> bool:
    """Whether moto checks this request's signature and IAM permissions."""
    if not ext._settings.get("iamAuth"):
        return False
    scope = ext._sigv4_scope(environ)
    return scope is not None and scope[0] not in EXEMPT_KEYS


def clusters_at(endpoint: str) -> list[dict[str, str]]:
    from moto.eks.models import eks_backends

    found = []
    # dict views: iterating must not create backends for every account/region.
    for account, regions in list(dict.items(eks_backends)):
        for region, backend in list(dict.items(regions)):
            for cluster in list(backend.clusters.values()):
                if getattr(cluster, "endpoint", None) == endpoint:
                    found.append(
                        {
                            "name": cluster.name,
                            "arn": cluster.arn,
                            "region": region,
                            "accountId": account,
                            "endpoint": endpoint,
                        }
                    )
    return sorted(found, key=lambda c: c["arn"])


class EngineApp:
    """WSGI app: the helper route, then moto (with the EKS extension) with
    IAM enforcement switched per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/moto-ext/clusters" and environ.get("REQUEST_METHOD") == "GET":
            from werkzeug.wrappers import Request

            endpoint = Request(environ).args.get("endpoint", "")
            if not endpoint:
                return ext._json(400, {"message": "endpoint is required"})(environ, start_response)
            with ext._lock:
                body = clusters_at(endpoint)
            return ext._json(200, body)(environ, start_response)

        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        with _auth_lock:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enforced(environ) else float("inf")
            ActionAuthenticatorMixin.request_count = 0
            # moto authorizes while building the response, so the body is
            # complete (and the switch still right) when this returns.
            return list(self.app(environ, start_response))


def make_app() -> Any:
    _patch_signature_check()
    _patch_session_policy()
    # Inside the fault injector: a held answer must not hold the IAM
    # switch's lock, or every other request would wait behind it.
    return _ext_make_app(wrap=EngineApp)


_ext_make_app = ext.make_app

if __name__ == "__main__":
    # moto_eks_ext's command line, serving this app.
    ext.make_app = make_app
    ext.main()
