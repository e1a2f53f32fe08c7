"""moto server with the EKS routes moto 5.2.1 lacks.

TEST EQUIPMENT for the engine test tier. It is not part of the program and
is never deployed. It stands in for the AWS APIs the program reaches through
pulumi-aws (via the stand-in provider in ../awsstandin).

moto answers 404 for EKS add-ons and pod identity associations. This module
wraps moto's own WSGI application (moto.server builds the same one) with a
small middleware that serves those REST routes, with AWS semantics:

  add-ons (API version 2017-11-01):
    POST   /clusters/{name}/addons                    CreateAddon
    GET    /clusters/{name}/addons                    ListAddons
    GET    /clusters/{name}/addons/{addonName}        DescribeAddon
    POST   /clusters/{name}/addons/{addonName}/update UpdateAddon
    DELETE /clusters/{name}/addons/{addonName}        DeleteAddon (?preserve=)
    GET    /clusters/{name}/updates/{updateId}        DescribeUpdate (add-on updates)
  pod identity associations:
    POST   /clusters/{name}/pod-identity-associations        Create
    GET    /clusters/{name}/pod-identity-associations        List (?namespace=&serviceAccount=)
    GET    /clusters/{name}/pod-identity-associations/{id}   Describe
    POST   /clusters/{name}/pod-identity-associations/{id}   Update
    DELETE /clusters/{name}/pod-identity-associations/{id}   Delete
  tags on add-on / association ARNs (cluster ARNs stay with moto):
    GET|POST|DELETE /tags/{arn}

  Semantics: one add-on name per cluster and one association per
  (cluster, namespace, serviceAccount): a second create answers
  ResourceInUseException (409); an unknown cluster, add-on or association
  answers ResourceNotFoundException (404); an association's roleArn must name
  a role that exists in moto's IAM backend, else InvalidParameterException
  "Role provided in the request does not exist". Setting
  MOTO_EXT_ROLE_PROPAGATION_SECONDS=<n> (or POST /moto-ext/config
  {"rolePropagationSeconds": n} at run time) also refuses roles younger
  than n seconds that way, imitating IAM eventual consistency.

  Node groups stay moto's own, except that a node-group call naming a
  cluster that does not exist answers ResourceNotFoundException (404), as
  EKS does, where moto fails with a 500.

  As on AWS, a create/update repeated with the same clientRequestToken (an
  SDK retry) is answered with the original result instead of a conflict.

  EKS requests are recognised by their SigV4 credential scope (service "eks"),
  exactly as moto itself dispatches them; anything else goes to moto.

Helper routes for the test tier (unsigned, plain JSON):
    GET  /moto-ext/health    -> {"ok": true}
    GET|POST /moto-ext/config -> runtime settings, e.g. {"rolePropagationSeconds": 0}
    POST /moto-ext/cluster-defaults -> {"endpoint", "certificateAuthorityData"}:
         clusters made by CreateCluster (pulumi-eks's, through the stand-ins)
         report this endpoint and CA from their first DescribeCluster on,
         i.e. the local kube-apiserver; {} clears it
    /moto-ext/faults         -> fault injection (throttling, errors, held
                                responses), off unless a test sets rules:
                                see moto_faults.py
    POST /moto-ext/clusters  -> create or patch an EKS cluster record:
         {"name", "endpoint", "certificateAuthorityData" (base64 PEM),
          "version" ("1.33"), "region" (us-east-1), "accountId"
          (123456789012), "roleArn", "platformVersion", "tags"}
         status is ACTIVE. Use it to point the record at a local
         kube-apiserver. `python3 moto_eks_ext.py register-cluster -h`
         wraps it for shell use.

Run: python3 moto_eks_ext.py serve --host 127.0.0.1 --port 0 --port-file F
(start.sh/stop.sh in this directory do that in the background).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import random
import re
import string
import sys
import threading
import time
import urllib.request
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

DEFAULT_ACCOUNT = "123456789012"

# Add-ons this extension knows, with the version it reports when the caller
# gives none. An unknown name is refused as EKS refuses it.
ADDON_DEFAULT_VERSIONS = {
    "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
    "vpc-cni": "v1.19.5-eksbuild.3",
    "coredns": "v1.12.1-eksbuild.2",
    "kube-proxy": "v1.33.0-eksbuild.2",
    "aws-ebs-csi-driver": "v1.45.0-eksbuild.2",
    "aws-efs-csi-driver": "v2.1.9-eksbuild.1",
    "aws-mountpoint-s3-csi-driver": "v1.15.0-eksbuild.1",
    "snapshot-controller": "v8.2.0-eksbuild.1",
    "amazon-cloudwatch-observability": "v4.1.0-eksbuild.1",
    "aws-guardduty-agent": "v1.10.0-eksbuild.2",
    "adot": "v0.117.0-eksbuild.1",
    "metrics-server": "v0.7.2-eksbuild.4",
    "eks-node-monitoring-agent": "v1.3.0-eksbuild.2",
    "external-dns": "v0.17.0-eksbuild.1",
    "cert-manager": "v1.17.2-eksbuild.1",
}
ADDON_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
RESOLVE_CONFLICTS = ("NONE", "OVERWRITE", "PRESERVE")

_lock = threading.RLock()

# Endpoint and CA that clusters made by CreateCluster report, set through
# POST /moto-ext/cluster-defaults (empty: moto's own).
_cluster_defaults: dict[str, str] = {}

# Runtime settings, changeable through POST /moto-ext/config.
_settings: dict[str, Any] = {
    "rolePropagationSeconds": float(os.environ.get("MOTO_EXT_ROLE_PROPAGATION_SECONDS", "0") or 0),
}


class EksError(Exception):
    status = 400
    kind = "InvalidParameterException"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {k: v for k, v in fields.items() if v is not None}


class InvalidParameter(EksError):
    status, kind = 400, "InvalidParameterException"


class InvalidRequest(EksError):
    status, kind = 400, "InvalidRequestException"


class NotFound(EksError):
    status, kind = 404, "ResourceNotFoundException"


class InUse(EksError):
    status, kind = 409, "ResourceInUseException"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    resp.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _error(e: EksError) -> Response:
    body = {"message": e.message, "__type": e.kind}
    body.update(e.fields)
    return _json(e.status, body, {"x-amzn-ErrorType": e.kind})


def _sigv4_scope(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, service) from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request", auth)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3).lower()


def _account_for(access_key: str) -> str:
    try:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)
    except Exception:  # noqa: BLE001 - fall back to moto's default account
        return DEFAULT_ACCOUNT


def _eks_backend(account: str, region: str) -> Any:
    from moto.eks.models import eks_backends

    return eks_backends[account][region]


def _cluster(account: str, region: str, name: str) -> Any:
    cluster = _eks_backend(account, region).clusters.get(name)
    if cluster is None:
        raise NotFound(f"No cluster found for name: {name}.", clusterName=name)
    # Extension state lives on moto's Cluster object, so /moto-api/reset and
    # DeleteCluster drop it together with the cluster.
    if not hasattr(cluster, "ext_addons"):
        cluster.ext_addons = {}
        cluster.ext_associations = {}
        cluster.ext_updates = {}
    return cluster


def _check_role_exists(role_arn: str) -> None:
    if not role_arn or not ROLE_ARN_RE.match(role_arn):
        raise InvalidParameter(f"Invalid Role Arn: '{role_arn}'")
    from moto.iam.models import iam_backends

    parts = role_arn.split(":")
    partition, role_account = parts[1], parts[4]
    try:
        role = iam_backends[role_account][partition].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound type
        raise InvalidParameter("Role provided in the request does not exist")
    delay = float(_settings["rolePropagationSeconds"])
    if delay > 0:
        created = getattr(role, "create_date", None)
        if created is not None:
            if created.tzinfo is None:
                created = created.replace(tzinfo=datetime.timezone.utc)
            age = time.time() - created.timestamp()
            if age < delay:
                raise InvalidParameter("Role provided in the request does not exist")


def _now() -> float:
    return time.time()


def _tags_in(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameter("tags must be a map of strings")
    return {str(k): str(v) for k, v in value.items()}


# --------------------------------------------------------------------------
# add-ons


def _addon_view(addon: dict[str, Any]) -> dict[str, Any]:
    view = {
        "addonName": addon["addonName"],
        "clusterName": addon["clusterName"],
        "status": addon["status"],
        "addonVersion": addon["addonVersion"],
        "health": {"issues": []},
        "addonArn": addon["addonArn"],
        "createdAt": addon["createdAt"],
        "modifiedAt": addon["modifiedAt"],
        "tags": dict(addon["tags"]),
        "podIdentityAssociations": list(addon["podIdentityAssociations"]),
    }
    for key in ("serviceAccountRoleArn", "configurationValues"):
        if addon.get(key):
            view[key] = addon[key]
    return view


def _settle_addon(addon: dict[str, Any]) -> None:
    """CREATING/UPDATING become ACTIVE once observed, like a fast control plane."""
    if addon["status"] in ("CREATING", "UPDATING"):
        if addon.get("_observed"):
            addon["status"] = "ACTIVE"
        addon["_observed"] = True


def create_addon(ctx: dict[str, Any], cluster_name: str, body: dict[str, Any]) -> Response:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    name = body.get("addonName")
    if not name:
        raise InvalidParameter("addonName is required")
    if name not in ADDON_DEFAULT_VERSIONS:
        raise InvalidParameter(
            f"Addon {name} specified is not supported in {cluster.version} kubernetes version",
            clusterName=cluster_name,
            addonName=name,
        )
    version = body.get("addonVersion") or ADDON_DEFAULT_VERSIONS[name]
    if not ADDON_VERSION_RE.match(version):
        raise InvalidParameter(
            f"Addon version specified {version} is not supported",
            clusterName=cluster_name,
            addonName=name,
        )
    resolve = body.get("resolveConflicts")
    if resolve is not None and resolve not in RESOLVE_CONFLICTS:
        raise InvalidParameter(f"Invalid resolveConflicts value: {resolve}")
    sa_role = body.get("serviceAccountRoleArn")
    if sa_role:
        _check_role_exists(sa_role)
    if body.get("podIdentityAssociations"):
        raise InvalidParameter(
            "podIdentityAssociations on add-ons are not implemented by this moto extension"
        )
    token = body.get("clientRequestToken")
    existing = cluster.ext_addons.get(name)
    if existing is not None and token and existing.get("_token") == token:
        # A retried request (same clientRequestToken) gets the original answer.
        return _json(200, {"addon": _addon_view(existing)})
    if existing is not None:
        raise InUse(
            f"Addon already exists with name: {name} and cluster name: {cluster_name}",
            clusterName=cluster_name,
            addonName=name,
        )
    now = _now()
    addon = {
        "addonName": name,
        "clusterName": cluster_name,
        "status": "CREATING",
        "addonVersion": version,
        "addonArn": f"arn:aws:eks:{ctx['region']}:{ctx['account']}:addon/{cluster_name}/{name}/{uuid.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": _tags_in(body.get("tags")),
        "podIdentityAssociations": [],
        "serviceAccountRoleArn": sa_role,
        "configurationValues": body.get("configurationValues"),
        "_token": token,
    }
    cluster.ext_addons[name] = addon
    return _json(200, {"addon": _addon_view(addon)})


def _get_addon(ctx: dict[str, Any], cluster_name: str, name: str) -> tuple[Any, dict[str, Any]]:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    addon = cluster.ext_addons.get(name)
    if addon is None:
        raise NotFound(
            f"No addon: {name} found in cluster: {cluster_name}",
            clusterName=cluster_name,
            addonName=name,
        )
    return cluster, addon


def describe_addon(ctx: dict[str, Any], cluster_name: str, name: str) -> Response:
    _, addon = _get_addon(ctx, cluster_name, name)
    _settle_addon(addon)
    return _json(200, {"addon": _addon_view(addon)})


def list_addons(ctx: dict[str, Any], cluster_name: str, query: dict[str, Any]) -> Response:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    names = sorted(cluster.ext_addons)
    page, token = _paginate(names, query)
    return _json(200, {"addons": page, "nextToken": token})


def update_addon(ctx: dict[str, Any], cluster_name: str, name: str, body: dict[str, Any]) -> Response:
    cluster, addon = _get_addon(ctx, cluster_name, name)
    token = body.get("clientRequestToken")
    for done in cluster.ext_updates.values():
        if token and done.get("_token") == token and done["_addon"] == name:
            return _json(200, {"update": {k: v for k, v in done.items() if not k.startswith("_")}})
    params = []
    version = body.get("addonVersion")
    if version:
        if not ADDON_VERSION_RE.match(version):
            raise InvalidParameter(f"Addon version specified {version} is not supported")
        addon["addonVersion"] = version
        params.append({"type": "AddonVersion", "value": version})
    resolve = body.get("resolveConflicts")
    if resolve is not None:
        if resolve not in RESOLVE_CONFLICTS:
            raise InvalidParameter(f"Invalid resolveConflicts value: {resolve}")
        params.append({"type": "ResolveConflicts", "value": resolve})
    if "serviceAccountRoleArn" in body:
        sa_role = body.get("serviceAccountRoleArn") or None
        if sa_role:
            _check_role_exists(sa_role)
        addon["serviceAccountRoleArn"] = sa_role
        params.append({"type": "ServiceAccountRoleArn", "value": sa_role or ""})
    if "configurationValues" in body:
        addon["configurationValues"] = body.get("configurationValues") or None
        params.append({"type": "ConfigurationValues", "value": body.get("configurationValues") or ""})
    if body.get("podIdentityAssociations"):
        raise InvalidParameter(
            "podIdentityAssociations on add-ons are not implemented by this moto extension"
        )
    now = _now()
    addon["modifiedAt"] = now
    addon["status"] = "UPDATING"
    addon["_observed"] = False
    update = {
        "id": str(uuid.uuid4()),
        "status": "Successful",
        "type": "AddonUpdate",
        "params": params,
        "createdAt": now,
        "errors": [],
    }
    cluster.ext_updates[update["id"]] = dict(update, _addon=name, _token=token)
    # The response shows the update in flight; DescribeUpdate reports it done.
    return _json(200, {"update": dict(update, status="InProgress")})


def describe_update(ctx: dict[str, Any], cluster_name: str, update_id: str, query: dict[str, Any]) -> Response:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    update = cluster.ext_updates.get(update_id)
    addon_name = (query.get("addonName") or [None])[0]
    if update is None or (addon_name and update["_addon"] != addon_name):
        raise NotFound(f"No update found for ID: {update_id}", clusterName=cluster_name)
    addon = cluster.ext_addons.get(update["_addon"])
    if addon is not None:
        addon["status"] = "ACTIVE"
    return _json(200, {"update": {k: v for k, v in update.items() if not k.startswith("_")}})


def delete_addon(ctx: dict[str, Any], cluster_name: str, name: str, query: dict[str, Any]) -> Response:
    cluster, addon = _get_addon(ctx, cluster_name, name)
    # preserve=true keeps the add-on's Kubernetes objects on a real cluster;
    # nothing runs here, so the flag is only validated.
    preserve = (query.get("preserve") or ["false"])[0]
    if preserve not in ("true", "false"):
        raise InvalidParameter(f"Invalid preserve value: {preserve}")
    del cluster.ext_addons[name]
    view = _addon_view(addon)
    view["status"] = "DELETING"
    return _json(200, {"addon": view})


# --------------------------------------------------------------------------
# pod identity associations


def _assoc_view(a: dict[str, Any]) -> dict[str, Any]:
    view = {
        "clusterName": a["clusterName"],
        "namespace": a["namespace"],
        "serviceAccount": a["serviceAccount"],
        "roleArn": a["roleArn"],
        "associationArn": a["associationArn"],
        "associationId": a["associationId"],
        "tags": dict(a["tags"]),
        "createdAt": a["createdAt"],
        "modifiedAt": a["modifiedAt"],
        "disableSessionTags": a["disableSessionTags"],
    }
    for key in ("ownerArn", "targetRoleArn", "externalId", "policy"):
        if a.get(key):
            view[key] = a[key]
    return view


def _external_id(ctx: dict[str, Any], cluster_name: str, namespace: str, sa: str) -> str:
    return f"{ctx['region']}/{ctx['account']}/{cluster_name}/{namespace}/{sa}"


def _new_association_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "a-" + "".join(random.choice(alphabet) for _ in range(17))


def create_association(ctx: dict[str, Any], cluster_name: str, body: dict[str, Any]) -> Response:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    for key in ("namespace", "serviceAccount", "roleArn"):
        if not body.get(key):
            raise InvalidParameter(f"{key} is required", clusterName=cluster_name)
    namespace, sa, role_arn = body["namespace"], body["serviceAccount"], body["roleArn"]
    token = body.get("clientRequestToken")
    for existing in cluster.ext_associations.values():
        if existing["namespace"] == namespace and existing["serviceAccount"] == sa:
            if token and existing.get("_token") == token:
                # A retried request (same clientRequestToken) gets the original answer.
                return _json(200, {"association": _assoc_view(existing)})
            raise InUse(
                f"Association already exists: {existing['associationId']}",
                clusterName=cluster_name,
            )
    _check_role_exists(role_arn)
    target = body.get("targetRoleArn")
    if target:
        _check_role_exists(target)
    assoc_id = _new_association_id()
    while assoc_id in cluster.ext_associations:
        assoc_id = _new_association_id()
    now = _now()
    assoc = {
        "clusterName": cluster_name,
        "namespace": namespace,
        "serviceAccount": sa,
        "roleArn": role_arn,
        "associationId": assoc_id,
        "associationArn": f"arn:aws:eks:{ctx['region']}:{ctx['account']}:podidentityassociation/{cluster_name}/{assoc_id}",
        "tags": _tags_in(body.get("tags")),
        "createdAt": now,
        "modifiedAt": now,
        "disableSessionTags": bool(body.get("disableSessionTags", False)),
        "targetRoleArn": target,
        # EKS's external ID for the target role, as the User Guide gives it
        # (pod-id-assign-target-role): region/account/cluster/namespace/sa.
        "externalId": _external_id(ctx, cluster_name, namespace, sa) if target else None,
        "policy": body.get("policy") or None,
        "_token": token,
    }
    cluster.ext_associations[assoc_id] = assoc
    return _json(200, {"association": _assoc_view(assoc)})


def _get_association(ctx: dict[str, Any], cluster_name: str, assoc_id: str) -> tuple[Any, dict[str, Any]]:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    assoc = cluster.ext_associations.get(assoc_id)
    if assoc is None:
        raise NotFound(
            f"No Pod Identity Association found for id: {assoc_id}",
            clusterName=cluster_name,
        )
    return cluster, assoc


def describe_association(ctx: dict[str, Any], cluster_name: str, assoc_id: str) -> Response:
    _, assoc = _get_association(ctx, cluster_name, assoc_id)
    return _json(200, {"association": _assoc_view(assoc)})


def update_association(ctx: dict[str, Any], cluster_name: str, assoc_id: str, body: dict[str, Any]) -> Response:
    _, assoc = _get_association(ctx, cluster_name, assoc_id)
    if body.get("roleArn"):
        _check_role_exists(body["roleArn"])
        assoc["roleArn"] = body["roleArn"]
    if "disableSessionTags" in body and body["disableSessionTags"] is not None:
        assoc["disableSessionTags"] = bool(body["disableSessionTags"])
    if "policy" in body:
        assoc["policy"] = body.get("policy") or None
    if "targetRoleArn" in body:
        target = body.get("targetRoleArn") or None
        if target:
            _check_role_exists(target)
        assoc["targetRoleArn"] = target
        assoc["externalId"] = _external_id(ctx, cluster_name, assoc["namespace"], assoc["serviceAccount"]) if target else None
    assoc["modifiedAt"] = _now()
    return _json(200, {"association": _assoc_view(assoc)})


def delete_association(ctx: dict[str, Any], cluster_name: str, assoc_id: str) -> Response:
    cluster, assoc = _get_association(ctx, cluster_name, assoc_id)
    del cluster.ext_associations[assoc_id]
    return _json(200, {"association": _assoc_view(assoc)})


def list_associations(ctx: dict[str, Any], cluster_name: str, query: dict[str, Any]) -> Response:
    cluster = _cluster(ctx["account"], ctx["region"], cluster_name)
    namespace = (query.get("namespace") or [None])[0]
    sa = (query.get("serviceAccount") or [None])[0]
    rows = [
        a
        for a in sorted(cluster.ext_associations.values(), key=lambda a: a["createdAt"])
        if (not namespace or a["namespace"] == namespace) and (not sa or a["serviceAccount"] == sa)
    ]
    page, token = _paginate(rows, query)
    summaries = [
        {
            k: a[k]
            for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
            if a.get(k)
        }
        for a in page
    ]
    return _json(200, {"associations": summaries, "nextToken": token})


def _paginate(items: list[Any], query: dict[str, Any]) -> tuple[list[Any], str | None]:
    start = int((query.get("nextToken") or ["0"])[0] or 0)
    size = int((query.get("maxResults") or ["100"])[0] or 100)
    page = items[start : start + size]
    token = str(start + size) if start + size < len(items) else None
    return page, token


# --------------------------------------------------------------------------
# tags on extension resources


def _find_by_arn(ctx: dict[str, Any], arn: str) -> dict[str, Any] | None:
    backend = _eks_backend(ctx["account"], ctx["region"])
    for cluster in list(backend.clusters.values()):
        for addon in getattr(cluster, "ext_addons", {}).values():
            if addon["addonArn"] == arn:
                return addon
        for assoc in getattr(cluster, "ext_associations", {}).values():
            if assoc["associationArn"] == arn:
                return assoc
    return None


def tags_route(ctx: dict[str, Any], method: str, arn: str, body: dict[str, Any], query: dict[str, Any]) -> Response:
    res = _find_by_arn(ctx, arn)
    if res is None:
        raise NotFound("Resource was not found")
    if method == "GET":
        return _json(200, {"tags": dict(res["tags"])})
    if method == "POST":
        res["tags"].update(_tags_in(body.get("tags")))
        return _json(200, {})
    for key in query.get("tagKeys", []):
        res["tags"].pop(key, None)
    return _json(200, {})


# --------------------------------------------------------------------------
# test-tier helper: register a cluster record pointing at a local apiserver


def register_cluster(body: dict[str, Any]) -> Response:
    from moto.eks.models import eks_backends

    name = body.get("name")
    endpoint = body.get("endpoint")
    ca = body.get("certificateAuthorityData")
    if not name or not endpoint or not ca:
        raise InvalidParameter("name, endpoint and certificateAuthorityData are required")
    try:
        base64.b64decode(ca, validate=True)
    except Exception:  # noqa: BLE001
        raise InvalidParameter("certificateAuthorityData must be base64")
    region = body.get("region") or "us-east-1"
    account = body.get("accountId") or DEFAULT_ACCOUNT
    version = body.get("version") or "1.33"
    backend = eks_backends[account][region]
    cluster = backend.clusters.get(name)
    if cluster is None:
        cluster = backend.create_cluster(
            name=name,
            role_arn=body.get("roleArn") or f"arn:aws:iam::{account}:role/eks-cluster-role",
            resources_vpc_config={
                "subnetIds": [],
                "securityGroupIds": [],
                "endpointPublicAccess": True,
                "endpointPrivateAccess": False,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            version=version,
            tags=_tags_in(body.get("tags")),
        )
    cluster.endpoint = endpoint
    cluster.certificate_authority = {"data": ca}
    cluster.ext_pointed = True
    cluster.version = version
    cluster.platformVersion = body.get("platformVersion") or "eks.1"
    cluster.status = "ACTIVE"
    return _json(
        200,
        {
            "cluster": {
                "name": cluster.name,
                "arn": cluster.arn,
                "endpoint": cluster.endpoint,
                "version": cluster.version,
                "status": cluster.status,
                "region": region,
                "accountId": account,
            }
        },
    )


def set_cluster_defaults(body: dict[str, Any]) -> Response:
    if not body:
        _cluster_defaults.clear()
        return _json(200, {})
    endpoint, ca = body.get("endpoint"), body.get("certificateAuthorityData")
    if not endpoint or not ca:
        raise InvalidParameter("endpoint and certificateAuthorityData are required (or {} to clear)")
    try:
        base64.b64decode(ca, validate=True)
    except Exception:  # noqa: BLE001
        raise InvalidParameter("certificateAuthorityData must be base64")
    _cluster_defaults.update(endpoint=endpoint, certificateAuthorityData=ca)
    return _json(200, dict(_cluster_defaults))


DESCRIBE_CLUSTER_RE = re.compile(r"^/clusters/(?P<cluster>[^/]+)/?$")
NODEGROUPS_RE = re.compile(r"^/clusters/(?P<cluster>[^/]+)/node-groups(/.*)?$")


def _point_new_cluster(ctx: dict[str, Any], name: str) -> None:
    """A cluster CreateCluster made answers with the local apiserver's endpoint."""
    if not _cluster_defaults:
        return
    cluster = _eks_backend(ctx["account"], ctx["region"]).clusters.get(name)
    if cluster is None or getattr(cluster, "ext_pointed", False):
        return
    cluster.endpoint = _cluster_defaults["endpoint"]
    cluster.certificate_authority = {"data": _cluster_defaults["certificateAuthorityData"]}
    cluster.ext_pointed = True


# --------------------------------------------------------------------------
# dispatch

_C = r"/clusters/(?P<cluster>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_C + r"/addons/?$"), "create_addon"),
    ("GET", re.compile(_C + r"/addons/?$"), "list_addons"),
    ("GET", re.compile(_C + r"/addons/(?P<addon>[^/]+)/?$"), "describe_addon"),
    ("DELETE", re.compile(_C + r"/addons/(?P<addon>[^/]+)/?$"), "delete_addon"),
    ("POST", re.compile(_C + r"/addons/(?P<addon>[^/]+)/update/?$"), "update_addon"),
    ("GET", re.compile(_C + r"/updates/(?P<update>[^/]+)/?$"), "describe_update"),
    ("POST", re.compile(_C + r"/pod-identity-associations/?$"), "create_association"),
    ("GET", re.compile(_C + r"/pod-identity-associations/?$"), "list_associations"),
    ("GET", re.compile(_C + r"/pod-identity-associations/(?P<assoc>[^/]+)/?$"), "describe_association"),
    ("POST", re.compile(_C + r"/pod-identity-associations/(?P<assoc>[^/]+)/?$"), "update_association"),
    ("DELETE", re.compile(_C + r"/pod-identity-associations/(?P<assoc>[^/]+)/?$"), "delete_association"),
]
TAGS_RE = re.compile(r"^/tags/(?P<arn>arn:.+:(addon|podidentityassociation)/.+)$")


def _handle_eks(request: Request, ctx: dict[str, Any]) -> Response | None:
    path, method = request.path, request.method
    query = request.args.to_dict(flat=False)

    def body() -> dict[str, Any]:
        raw = request.get_data(as_text=True)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidRequest("request body is not JSON")
        if not isinstance(data, dict):
            raise InvalidRequest("request body is not a JSON object")
        return data

    m = TAGS_RE.match(path)
    if m:
        return tags_route(ctx, method, m.group("arn"), body() if method == "POST" else {}, query)
    for verb, regex, handler in ROUTES:
        if verb != method:
            continue
        m = regex.match(path)
        if not m:
            continue
        g = m.groupdict()
        c = g["cluster"]
        if handler == "create_addon":
            return create_addon(ctx, c, body())
        if handler == "list_addons":
            return list_addons(ctx, c, query)
        if handler == "describe_addon":
            return describe_addon(ctx, c, g["addon"])
        if handler == "delete_addon":
            return delete_addon(ctx, c, g["addon"], query)
        if handler == "update_addon":
            return update_addon(ctx, c, g["addon"], body())
        if handler == "describe_update":
            return describe_update(ctx, c, g["update"], query)
        if handler == "create_association":
            return create_association(ctx, c, body())
        if handler == "list_associations":
            return list_associations(ctx, c, query)
        if handler == "describe_association":
            return describe_association(ctx, c, g["assoc"])
        if handler == "update_association":
            return update_association(ctx, c, g["assoc"], body())
        if handler == "delete_association":
            return delete_association(ctx, c, g["assoc"])
    return None


class EksExtension:
    """WSGI middleware in front of moto's DomainDispatcherApplication."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        response: Response | None = None
        try:
            if path.startswith("/moto-ext/"):
                request = Request(environ)
                with _lock:
                    if path == "/moto-ext/health":
                        response = _json(200, {"ok": True})
                    elif path == "/moto-ext/config":
                        if request.method == "POST":
                            update = json.loads(request.get_data(as_text=True) or "{}")
                            for key, value in update.items():
                                if key not in _settings:
                                    raise InvalidParameter(f"unknown setting {key!r}; known: {sorted(_settings)}")
                                _settings[key] = float(value)
                        response = _json(200, dict(_settings))
                    elif path == "/moto-ext/clusters" and request.method == "POST":
                        response = register_cluster(json.loads(request.get_data(as_text=True) or "{}"))
                    elif path == "/moto-ext/cluster-defaults" and request.method == "POST":
                        response = set_cluster_defaults(json.loads(request.get_data(as_text=True) or "{}"))
                    else:
                        response = _json(404, {"message": f"no such helper route: {request.method} {path}"})
            else:
                scope = _sigv4_scope(environ)
                m = DESCRIBE_CLUSTER_RE.match(path)
                if scope and scope[2] == "eks" and m and environ.get("REQUEST_METHOD") == "GET":
                    with _lock:
                        _point_new_cluster({"account": _account_for(scope[0]), "region": scope[1]}, m.group("cluster"))
                ng = NODEGROUPS_RE.match(path)
                if scope and scope[2] == "eks" and ng:
                    # moto answers node-group calls on a missing cluster
                    # with a 500 (KeyError); EKS with ResourceNotFoundException.
                    with _lock:
                        _cluster(_account_for(scope[0]), scope[1], ng.group("cluster"))
                if scope and scope[2] == "eks" and (
                    "/addons" in path
                    or "/pod-identity-associations" in path
                    or "/updates/" in path
                    or TAGS_RE.match(path)
                ):
                    request = Request(environ)
                    ctx = {"account": _account_for(scope[0]), "region": scope[1]}
                    with _lock:
                        response = _handle_eks(request, ctx)
        except EksError as e:
            response = _error(e)
        if response is not None:
            return response(environ, start_response)
        return self.app(environ, start_response)


def make_app(wrap: Any = None) -> Any:
    """moto with the EKS extension; wrap, if given, wraps that app inside the
    fault injector (moto_engine.py's per-request IAM switch holds a lock
    while moto answers, so a held answer must be held outside it)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    # Outermost: fault injection (moto_faults.py), inert until a test installs rules.
    from moto_faults import FaultInjector

    app = EksExtension(DomainDispatcherApplication(create_backend_app))
    if wrap is not None:
        app = wrap(app)
    return FaultInjector(app)


# --------------------------------------------------------------------------
# command line


def _serve(args: argparse.Namespace) -> None:
    import signal

    from werkzeug.serving import make_server

    server = make_server(args.host, args.port, make_app(), threaded=True)
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"moto (with EKS extension) serving on http://{args.host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


def _register(args: argparse.Namespace) -> None:
    if args.ca_file:
        with open(args.ca_file, "rb") as f:
            ca = base64.b64encode(f.read()).decode()
    elif args.ca_data:
        ca = args.ca_data
    else:
        sys.exit("one of --ca-file or --ca-data is required")
    payload = {
        "name": args.name,
        "endpoint": args.endpoint,
        "certificateAuthorityData": ca,
        "version": args.version,
        "region": args.region,
        "accountId": args.account_id,
    }
    req = urllib.request.Request(
        args.url.rstrip("/") + "/moto-ext/clusters",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            print(resp.read().decode())
    except urllib.error.HTTPError as e:
        sys.exit(f"register-cluster failed: HTTP {e.code}: {e.read().decode()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run moto with the EKS extension")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--port-file", help="write the bound port here once listening")
    reg = sub.add_parser("register-cluster", help="create/patch an EKS cluster record")
    reg.add_argument("--url", default=os.environ.get("AWS_ENDPOINT_URL", ""), help="moto base URL")
    reg.add_argument("--name", required=True)
    reg.add_argument("--endpoint", required=True, help="kube-apiserver URL, e.g. https://127.0.0.1:6443")
    reg.add_argument("--ca-file", help="PEM CA bundle of the apiserver (base64-encoded for you)")
    reg.add_argument("--ca-data", help="base64 PEM, as EKS reports certificateAuthority.data")
    reg.add_argument("--version", default="1.33")
    reg.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    reg.add_argument("--account-id", default=DEFAULT_ACCOUNT)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        _serve(args)
    else:
        if not args.url:
            sys.exit("--url (or AWS_ENDPOINT_URL) is required")
        _register(args)


if __name__ == "__main__":
    main()
