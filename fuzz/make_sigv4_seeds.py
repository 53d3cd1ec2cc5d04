#!/usr/bin/env python3
"""Writes corpus/sigv4/: requests correctly signed (Authorization header) or presigned (query)
with the key pair test/test at 2024-05-01T12:00:00Z, the time the sigv4 fuzz target verifies at.
An independent, minimal SigV4 signer (non-S3 rules, paths without dot segments)."""
import hashlib, hmac, os, urllib.parse

KEY, SECRET, DATE, DAY = "test", "test", "20240501T120000Z", "20240501"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "sigv4")


def enc(s, safe=""):
    return urllib.parse.quote(s, safe="-_.~" + safe)


def canonical_query(query):
    pairs = []
    for seg in filter(None, query.split("&")):
        n, _, v = seg.partition("=")
        pairs.append((enc(urllib.parse.unquote_plus(n)), enc(urllib.parse.unquote_plus(v))))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def hm(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()


def signature(method, path, query, headers, body, region, service, exclude_sig=False):
    names = sorted({n.lower() for n, _ in headers})
    canon_headers = "".join(
        n + ":" + ",".join(" ".join(v.split()) for hn, v in headers if hn.lower() == n) + "\n" for n in names)
    q = "&".join(s for s in query.split("&") if not s.startswith("X-Amz-Signature=")) if exclude_sig else query
    creq = "\n".join([method, enc(path, "/"), canonical_query(q), canon_headers, ";".join(names),
                      hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{DAY}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", DATE, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = hm(("AWS4" + SECRET).encode(), DAY)
    for part in (region, service, "aws4_request"):
        k = hm(k, part)
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest(), ";".join(names), scope


def write(name, method, target, headers, body="", region="us-east-1", service="sqs", presign=False):
    path, _, query = target.partition("?")
    if presign:
        signed = sorted({n.lower() for n, _ in headers})
        params = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{KEY}/{DAY}/{region}/{service}/aws4_request"),
                  ("X-Amz-Date", DATE), ("X-Amz-Expires", "300"), ("X-Amz-SignedHeaders", ";".join(signed))]
        query = "&".join(filter(None, [query] + [f"{n}={enc(v)}" for n, v in params]))
        sig, _, _ = signature(method, path, query, headers, body, region, service)
        query += "&X-Amz-Signature=" + sig
        all_headers = headers
    else:
        all_headers = headers + [("X-Amz-Date", DATE)]
        sig, names, scope = signature(method, path, query, all_headers, body, region, service)
        all_headers = all_headers + [("Authorization",
                                      f"AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders={names}, Signature={sig}")]
    text = f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\n"
    text += "".join(f"{n}: {v}\r\n" for n, v in all_headers) + "\r\n" + body
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(text.encode())


form = "Action=SendMessage&QueueUrl=http%3A%2F%2F127.0.0.1%3A4566%2F000000000000%2FOrderQueue-CF&MessageBody=hello+world"
write("sqs_form_header", "POST", "/", [("Host", "127.0.0.1:4566"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], form)
write("sns_form_header", "POST", "/", [("Host", "localhost:4566"), ("Content-Type", "application/x-www-form-urlencoded")],
      "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A000000000000%3AOrderTopic&Message=%7B%7D", region="eu-west-1", service="sns")
write("dynamodb_json_header", "POST", "/", [("Host", "127.0.0.1:4566"), ("Content-Type", "application/x-amz-json-1.0"),
      ("X-Amz-Target", "DynamoDB_20120810.GetItem"), ("X-Amz-Security-Token", "session  token")],
      '{"TableName":"Orders","Key":{"orderId":{"S":"ord-1"}}}', service="dynamodb")
write("sqs_get_query_header", "GET", "/000000000000/OrderQueue-CF?Action=ReceiveMessage&MaxNumberOfMessages=10&AttributeName.1=All",
      [("Host", "127.0.0.1:4566"), ("X-Custom", "  a   b  ")])
write("sqs_presigned", "GET", "/?Action=ListQueues&QueueNamePrefix=Order", [("Host", "127.0.0.1:4566")], presign=True)
write("logs_presigned_path", "GET", "/a%20b/c~d?z=1&a=%7e&a=2", [("Host", "127.0.0.1:4566")], service="logs", presign=True)
