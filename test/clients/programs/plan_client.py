"""A merchant's Python client for the client matrix (test/clients/python.test.ts).

    /usr/bin/python3 plan_client.py <urllib|requests> <base-url> <plan.jsonl>

Runs each step of the plan (one JSON object a line: id, method, path, auth, type, scenario, body,
key) and prints one JSON line per reply: id, status, content_type, content_disposition, body_b64.
A step with a `key` is sealed with PyNaCl's SealedBox (libsodium's crypto_box_seal) and sent as
standard base64 (base64.b64encode: the ORIGINAL variant, one line). `{step}` in a path is the
transaction_hash of that step's reply. Each library sends its own default headers: urllib adds
Content-Type: application/x-www-form-urlencoded to any body; requests adds none for a str body.
"""

import base64
import json
import platform
import re
import sys
import urllib.error
import urllib.request

import nacl
from nacl.public import PublicKey, SealedBox

transport, base, plan_file = sys.argv[1:4]


def seal(text, key):
    box = SealedBox(PublicKey(base64.b64decode(key)))
    return base64.b64encode(box.encrypt(text.encode("utf-8"))).decode("ascii")


def send_urllib(method, url, headers, body):
    data = None if body is None else body.encode("utf-8")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as err:  # 4xx and 5xx still carry the gateway's JSON
        return err.code, err.headers, err.read()


def send_requests(method, url, headers, body):
    res = requests.request(method, url, headers=headers, data=body, timeout=30)
    return res.status_code, res.headers, res.content


client = {"id": "_client", "client": transport, "python": platform.python_version(), "pynacl": nacl.__version__}
if transport == "requests":
    import requests

    client["requests"] = requests.__version__
print(json.dumps(client), flush=True)

send = send_requests if transport == "requests" else send_urllib
hashes = {}
with open(plan_file, encoding="utf-8") as plan:
    for line in plan:
        if not line.strip():
            continue
        step = json.loads(line)
        path = re.sub(r"\{(\w+)\}", lambda m: hashes.get(m.group(1), ""), step["path"])
        headers = {}
        if step["auth"]:
            headers["Auth-Identifier"] = step["auth"]
        if step["type"]:
            headers["Content-Type"] = step["type"]
        if step["scenario"]:
            headers["X-Ktpay-Mock-Scenario"] = step["scenario"]
        body = None
        if step["body"]:
            body = seal(step["body"], step["key"]) if step["key"] else step["body"]
        status, res_headers, content = send(step["method"], base + path, headers, body)
        found = re.search(rb'"transaction_hash":"([0-9a-f]{40})"', content)
        if found:
            hashes[step["id"]] = found.group(1).decode("ascii")
        print(
            json.dumps(
                {
                    "id": step["id"],
                    "status": status,
                    "content_type": res_headers.get("Content-Type", ""),
                    "content_disposition": res_headers.get("Content-Disposition", ""),
                    "body_b64": base64.b64encode(content).decode("ascii"),
                }
            ),
            flush=True,
        )
