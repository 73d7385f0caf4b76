"""Smoke test for the emulators (stdlib only): `python3 tests/emulators/selftest.py`.

Starts each emulator as a subprocess and exercises every endpoint and fault with urllib.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))


@contextmanager
def emulator(name, *args):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, f"{name}.py"), *args],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "LISTENING", line
        yield Client(f"http://127.0.0.1:{line[1]}")
    finally:
        proc.terminate()
        proc.wait(5)


class Client:
    def __init__(self, base):
        self.base, self.headers = base, {}

    def call(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=data, method=method, headers={**self.headers, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, hdrs, text = r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            status, hdrs, text = e.code, dict(e.headers), e.read().decode()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, hdrs, parsed

    def state(self):
        return self.call("GET", "/_emulator/state")[2]

    def reset(self):
        assert self.call("POST", "/_emulator/reset")[0] == 200


def expect(got, want, what):
    assert got == want, f"{what}: expected {want!r}, got {got!r}"


def check_faults(c, write, read):
    """--rate-limit-every 2 --fail-every 3: writes 1 ok, 2 429, 3 500, 4 429, 5 ok, 6 429 (both)."""
    c.reset()
    statuses = []
    for i in range(6):
        statuses.append(write()[0])
        if read:
            read()  # reads never advance the write counter
    assert statuses[0] < 300 and statuses[4] < 300, statuses
    expect([statuses[i] for i in (1, 2, 3, 5)], [429, 500, 429, 429], "fault pattern")
    s = c.state()
    expect((s["stats"]["rate_limited"], s["stats"]["server_errors"], s["stats"]["writes"]), (3, 1, 6), "fault stats")
    return s


def parallel(n, fn):
    out = [None] * n
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, fn(i))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# ----------------------------------------------------------------------------- Mailchimp
def test_mailchimp():
    auth = {"Authorization": "Basic " + base64.b64encode(b"anyuser:key-us1").decode()}
    mh = lambda e: hashlib.md5(e.lower().encode()).hexdigest()
    with emulator("mailchimp", "--api-key", "key-us1", "--reject-substring", "fake") as c:
        batch = lambda members, **kw: c.call("POST", "/3.0/lists/abc123", {"members": members, **kw}, auth)
        st, _, body = c.call("POST", "/3.0/lists/abc123", {"members": []},
                             {"Authorization": "Basic " + base64.b64encode(b"u:wrong").decode()})
        expect((st, body["title"]), (401, "API Key Invalid"), "mc bad key")
        expect(c.call("POST", "/3.0/lists/nope", {"members": []}, auth)[0], 404, "mc unknown list")
        expect(c.call("POST", "/3.0/lists/abc123", raw=b"{not json", headers=auth)[0], 400, "mc bad json")
        st, _, body = batch([{"email_address": "A@x.com", "status_if_new": "subscribed",
                              "merge_fields": {"FNAME": "A"}, "tags": ["vip"]},
                             {"email_address": "fake@x.com", "status": "subscribed"},
                             {"email_address": "noat", "status": "subscribed"}],
                            update_existing=True)
        expect((st, body["total_created"], body["error_count"]), (200, 1, 2), "mc batch")
        expect(body["new_members"][0]["id"], mh("a@x.com"), "mc member id")
        expect(body["errors"][0]["error_code"], "ERROR_GENERIC", "mc reject")
        st, _, body = batch([{"email_address": "a@x.com", "status": "subscribed"}], update_existing=False)
        expect(body["errors"][0]["error_code"], "ERROR_CONTACT_EXISTS", "mc exists")
        st, _, body = batch([{"email_address": "a@x.com", "status_if_new": "subscribed",
                              "merge_fields": {"LNAME": "B"}, "tags": ["new"]}], update_existing=True)
        expect(body["total_updated"], 1, "mc update")
        st, _, member = c.call("GET", f"/3.0/lists/abc123/members/{mh('a@x.com')}", headers=auth)
        expect((st, member["merge_fields"], [t["name"] for t in member["tags"]]),
               (200, {"FNAME": "A", "LNAME": "B"}, ["vip", "new"]), "mc get member")
        expect(c.call("GET", f"/3.0/lists/abc123/members/{mh('zz@x.com')}", headers=auth)[0], 404, "mc get 404")
        st, _, body = c.call("DELETE", f"/3.0/lists/abc123/members/{mh('a@x.com')}", headers=auth)
        expect((st, body), (204, None), "mc archive")
        expect(c.call("DELETE", f"/3.0/lists/abc123/members/{mh('a@x.com')}", headers=auth)[0], 404, "mc re-archive")
        expect(c.state()["members"]["a@x.com"]["status"], "archived", "mc archived state")
        st, _, body = batch([{"email_address": "a@x.com", "status_if_new": "subscribed"}], update_existing=True)
        expect((body["total_updated"], body["updated_members"][0]["status"]), (1, "subscribed"), "mc re-add")
        many = [{"email_address": f"u{i}@x.com", "status": "subscribed"} for i in range(501)]
        st, _, body = batch(many, update_existing=True)
        expect((st, body["title"]), (400, "Invalid Resource"), "mc oversize")
        c.call("POST", "/3.0/lists/abc123", {"members": [{"email_address": "k@x.com"}], "update_existing": True},
               {**auth, "Idempotency-Key": "idem-1"})
        s = c.state()
        expect(s["stats"]["rejected_oversize"], 1, "mc oversize stat")
        expect(s["stats"]["auth_failures"], 1, "mc auth stat")
        removal = [e for e in s["log"] if e["op"] == "remove"][0]
        expect((removal["emails"], removal["status"]), (["a@x.com"], 204), "mc removal log")
        expect(s["log"][-1]["idempotency_key"], "idem-1", "mc idempotency key")
        expect(s["log"][0]["status"], 401, "mc logs rejected requests")

    with emulator("mailchimp", "--api-key", "k", "--rate-limit-every", "2", "--fail-every", "3",
                  "--retry-after", "3") as c:
        c.headers = {"Authorization": "Basic " + base64.b64encode(b"u:k").decode()}
        n = iter(range(100))
        s = check_faults(c, lambda: c.call("POST", "/3.0/lists/abc123",
                                           {"members": [{"email_address": f"f{next(n)}@x.com"}]}),
                         lambda: c.call("GET", f"/3.0/lists/abc123/members/{mh('f0@x.com')}"))
        expect(sorted(s["members"]), ["f0@x.com", "f4@x.com"], "mc faults have no effect")
        c.reset()
        c.call("POST", "/3.0/lists/abc123", {"members": []})
        st, hdrs, body = c.call("POST", "/3.0/lists/abc123", {"members": []})
        expect((st, hdrs.get("Retry-After"), body["title"]), (429, "3", "Too Many Requests"), "mc 429 shape")
        st, _, body = c.call("POST", "/3.0/lists/abc123", {"members": []})
        expect((st, body["title"]), (500, "Internal Server Error"), "mc 500 shape")

    with emulator("mailchimp", "--api-key", "k", "--latency-ms", "400") as c:
        c.headers = {"Authorization": "Basic " + base64.b64encode(b"u:k").decode()}
        res = parallel(13, lambda i: c.call("POST", "/3.0/lists/abc123", {"members": [{"email_address": f"p{i}@x.com"}]}))
        crowded = [b for st, _, b in res if st == 429]
        assert crowded and "simultaneous" in crowded[0]["detail"], res
        s = c.state()
        assert s["stats"]["max_concurrent"] >= 11, s["stats"]
        expect(s["stats"]["rate_limited"], len(crowded), "mc crowded stat")


# ----------------------------------------------------------------------------- Klaviyo
def test_klaviyo():
    hdrs = {"Authorization": "Klaviyo-API-Key pk_test", "revision": "2024-10-15",
            "Content-Type": "application/vnd.api+json"}

    def job(emails, list_id="Y6nRLr", props=None):
        return {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
            {"type": "profile", "attributes": {"email": e, "first_name": "F", "properties": props or {"n": i}}}
            for i, e in enumerate(emails)]}},
            "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}}}}

    with emulator("klaviyo", "--api-key", "pk_test", "--job-polls", "2", "--reject-substring", "bounce") as c:
        st, _, body = c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"]), {"revision": "2024-10-15"})
        expect((st, body["errors"][0]["code"]), (401, "not_authenticated"), "kl no auth")
        st, _, body = c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"]),
                             {"Authorization": "Klaviyo-API-Key pk_test"})
        expect((st, body["errors"][0]["code"]), (400, "invalid_revision"), "kl no revision")
        c.headers = hdrs
        expect(c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"], "nope"))[0], 404, "kl unknown list")
        expect(c.call("POST", "/api/profile-bulk-import-jobs", raw=b"{}")[0], 400, "kl bad body")
        st, _, body = c.call("POST", "/api/profile-bulk-import-jobs",
                             job(["A@x.com", "b@x.com", "bounce@x.com", "noat"]))
        expect((st, body["data"]["attributes"]["status"], body["data"]["attributes"]["total_count"]),
               (202, "queued", 4), "kl create job")
        jid = body["data"]["id"]
        for _ in range(2):
            st, _, body = c.call("GET", f"/api/profile-bulk-import-jobs/{jid}")
            expect(body["data"]["attributes"]["status"], "processing", "kl processing")
            expect(c.state()["members"], {}, "kl no effect before completion")
        st, _, body = c.call("GET", f"/api/profile-bulk-import-jobs/{jid}")
        a = body["data"]["attributes"]
        expect((a["status"], a["completed_count"], a["failed_count"]), ("complete", 2, 2), "kl complete")
        members = c.state()["members"]
        expect((sorted(members), members["a@x.com"]["in_list"]), (["a@x.com", "b@x.com"], True), "kl members")
        assert members["a@x.com"]["id"].startswith("01") and len(members["a@x.com"]["id"]) == 26
        st, _, body = c.call("GET", f"/api/profile-bulk-import-jobs/{jid}/import-errors")
        expect([e["attributes"]["source"]["pointer"] for e in body["data"]],
               ["/data/attributes/profiles/data/2", "/data/attributes/profiles/data/3"], "kl import errors")
        expect(body["data"][0]["attributes"]["original_payload"]["email"], "bounce@x.com", "kl error payload")
        # pagination over a 150-profile job
        st, _, body = c.call("POST", "/api/profile-bulk-import-jobs", job([f"p{i}@x.com" for i in range(150)]))
        jid2 = body["data"]["id"]
        for _ in range(3):
            c.call("GET", f"/api/profile-bulk-import-jobs/{jid2}")
        st, _, page1 = c.call("GET", f"/api/profile-bulk-import-jobs/{jid2}/profiles")
        assert len(page1["data"]) == 100 and page1["links"]["next"].startswith("http://"), page1["links"]
        st, _, page2 = c.call("GET", page1["links"]["next"])
        expect((len(page2["data"]), page2["links"]["next"]), (50, None), "kl page 2")
        st, _, body = c.call("GET", "/api/lists/Y6nRLr/relationships/profiles")
        page = body["data"]
        st, _, body = c.call("GET", body["links"]["next"])
        expect(len(page + body["data"]), 152, "kl list members")
        aid = members["a@x.com"]["id"]
        st, _, body = c.call("DELETE", "/api/lists/Y6nRLr/relationships/profiles",
                             {"data": [{"type": "profile", "id": aid}]}, {"Idempotency-Key": "rm-1"})
        expect((st, body), (204, None), "kl remove")
        s = c.state()
        expect(s["members"]["a@x.com"]["in_list"], False, "kl removed from list")
        entry = s["log"][-1]
        expect((entry["op"], entry["emails"], entry["idempotency_key"]), ("remove", ["a@x.com"], "rm-1"), "kl log")
        expect(c.call("DELETE", "/api/lists/Y6nRLr/relationships/profiles",
                      {"data": [{"type": "profile", "id": str(i)} for i in range(1001)]})[0], 400, "kl remove >1000")
        expect(c.call("POST", "/api/profile-bulk-import-jobs", job([f"q{i}@x.com" for i in range(10001)]))[0],
               400, "kl >10000")
        st, _, body = c.call("POST", "/api/profile-bulk-import-jobs", job(["big@x.com"], props={"pad": "x" * (5 << 20)}))
        expect(st, 413, "kl >5MB")
        expect(c.state()["stats"]["rejected_oversize"], 3, "kl oversize stat")

    with emulator("klaviyo", "--api-key", "k", "--rate-limit-every", "2", "--fail-every", "3") as c:
        c.headers = {"Authorization": "Klaviyo-API-Key k", "revision": "2024-10-15.pre"}
        s = check_faults(c, lambda: c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"])),
                         lambda: c.call("GET", "/api/lists/Y6nRLr/relationships/profiles"))
        c.reset()
        c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"]))
        st, h, body = c.call("POST", "/api/profile-bulk-import-jobs", job(["a@x.com"]))
        expect((st, h.get("Retry-After"), body["errors"][0]["code"], body["errors"][0]["detail"]),
               (429, "1", "throttled", "Request was throttled. Expected available in 1 second."), "kl 429")


# ----------------------------------------------------------------------------- SendGrid
def test_sendgrid():
    lid = "ca7a3796-e8a8-4029-9ccb-df8937940562"
    with emulator("sendgrid", "--api-key", "SG.key", "--reject-substring", "bounce") as c:
        st, _, body = c.call("PUT", "/v3/marketing/contacts", {"contacts": [{"email": "a@x.com"}]})
        expect((st, body), (401, {"errors": [{"field": None, "message": "authorization required"}]}), "sg 401")
        c.headers = {"Authorization": "Bearer SG.key"}
        put = lambda contacts, lists=(lid,): c.call("PUT", "/v3/marketing/contacts",
                                                     {"list_ids": list(lists), "contacts": contacts})
        expect(put([{"email": "a@x.com"}], ["nope"])[0], 400, "sg unknown list")
        st, _, body = put([{"email": "A@x.com", "first_name": "A", "custom_fields": {"e1_T": "v"}},
                           {"email": "b@x.com"}, {"email": "bounce@x.com"}, {"email": "noat"}])
        expect(st, 202, "sg upsert")
        jid = body["job_id"]
        st, _, body = c.call("GET", f"/v3/marketing/contacts/imports/{jid}")
        expect((body["status"], c.state()["members"]), ("pending", {}), "sg pending")
        st, _, body = c.call("GET", f"/v3/marketing/contacts/imports/{jid}")
        r = body["results"]
        expect((body["status"], r["requested_count"], r["created_count"], r["updated_count"], r["errored_count"]),
               ("completed", 4, 2, 0, 2), "sg completed")
        st, _, csv_text = c.call("GET", r["errors_url"])
        expect((st, csv_text), (200, "email,error\nbounce@x.com,invalid email address\nnoat,invalid email address\n"),
               "sg errors csv")
        expect(c.call("GET", r["errors_url"], headers={"Authorization": "Bearer no"})[0], 401, "sg errors auth")
        members = c.state()["members"]
        expect((members["a@x.com"]["in_list"], members["a@x.com"]["custom_fields"]), (True, {"e1_T": "v"}), "sg state")
        st, _, body = put([{"email": "a@x.com", "last_name": "Z"}])
        c.call("GET", f"/v3/marketing/contacts/imports/{body['job_id']}")
        st, _, body = c.call("GET", f"/v3/marketing/contacts/imports/{body['job_id']}")
        expect((body["results"]["updated_count"], body["results"]["errors_url"]), (1, None), "sg update")
        st, _, body = c.call("POST", "/v3/marketing/contacts/search/emails", {"emails": ["a@x.com", "zz@x.com"]})
        expect((st, body["result"]["a@x.com"]["contact"]["last_name"], body["result"]["zz@x.com"]),
               (200, "Z", {"error": "contact not found"}), "sg search")
        st, _, body = c.call("POST", "/v3/marketing/contacts/search/emails", {"emails": ["zz@x.com"]})
        expect((st, body["errors"][0]["message"]), (404, "No contacts found"), "sg search 404")
        expect(c.call("POST", "/v3/marketing/contacts/search/emails",
                      {"emails": [f"{i}@x.com" for i in range(101)]})[0], 400, "sg search >100")
        aid = members["a@x.com"]["id"]
        st, _, body = c.call("DELETE", f"/v3/marketing/lists/{lid}/contacts?contact_ids={aid}")
        expect((st, "job_id" in body), (202, True), "sg remove")
        s = c.state()
        expect((s["members"]["a@x.com"]["in_list"], s["log"][-1]["emails"]), (False, ["a@x.com"]), "sg removed")
        ids = ",".join(str(i) for i in range(101))
        expect(c.call("DELETE", f"/v3/marketing/lists/{lid}/contacts?contact_ids={ids}")[0], 400, "sg remove >100")
        expect(c.call("DELETE", f"/v3/marketing/lists/other/contacts?contact_ids={aid}")[0], 404, "sg remove list")
        expect(put([{"email": f"u{i}@x.com"} for i in range(30001)])[0], 413, "sg >30000")
        expect(put([{"email": "big@x.com", "custom_fields": {"p": "x" * (6 << 20)}}])[0], 413, "sg >6MB")
        expect(c.state()["stats"]["rejected_oversize"], 4, "sg oversize stat")

    with emulator("sendgrid", "--api-key", "k", "--rate-limit-every", "2", "--fail-every", "3") as c:
        c.headers = {"Authorization": "Bearer k"}
        check_faults(c, lambda: c.call("PUT", "/v3/marketing/contacts", {"contacts": [{"email": "a@x.com"}]}), None)
        c.reset()
        c.call("PUT", "/v3/marketing/contacts", {"contacts": [{"email": "a@x.com"}]})
        st, h, body = c.call("PUT", "/v3/marketing/contacts", {"contacts": [{"email": "a@x.com"}]})
        expect((st, h.get("Retry-After"), body["errors"][0]["message"]), (429, "1", "too many requests"), "sg 429")


# ----------------------------------------------------------------------------- Webhook
def test_webhook():
    secret = "s3cret"

    def send(c, body, key=None, sig=None, path="/hooks/contacts"):
        raw = json.dumps(body).encode()
        sig = sig or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"X-Ecomwh-Signature": sig, "Content-Type": "application/json"}
        if key:
            headers["X-Ecomwh-Idempotency-Key"] = key
        return c.call("POST", path, raw=raw, headers=headers)

    with emulator("webhook", "--secret", secret, "--max-batch", "5", "--reject-substring", "bounce",
                  "--latency-ms", "200") as c:
        expect(send(c, {"operation": "upsert", "contacts": []}, sig="sha256=00")[0], 401, "wh bad signature")
        st, _, body = send(c, {"operation": "upsert", "contacts": [{"email": "A@x.com", "score": 1},
                                                                   {"email": "bounce@x.com"}]}, key="k1")
        expect((st, body["accepted"], len(body["rejected"])), (200, 1, 1), "wh upsert")
        send(c, {"operation": "upsert", "contacts": [{"email": "a@x.com", "tier": "gold"}]})
        expect(c.state()["members"]["a@x.com"], {"email": "a@x.com", "score": 1, "tier": "gold"}, "wh merge")
        st, _, body = send(c, {"operation": "remove", "contacts": [{"email": "a@x.com"}]}, path="/other")
        expect((st, body["accepted"], c.state()["members"]), (200, 1, {}), "wh remove")
        expect(send(c, {"operation": "upsert", "contacts": [{"email": f"{i}@x.com"} for i in range(6)]})[0],
               413, "wh max batch")
        expect(send(c, {"operation": "nope", "contacts": []})[0], 400, "wh bad op")
        raw = json.dumps({"operation": "upsert", "contacts": [{"email": "chunk@x.com"}]}).encode()
        conn = http.client.HTTPConnection(c.base[len("http://"):])
        conn.request("POST", "/chunked", body=iter([raw[:10], raw[10:]]), encode_chunked=True, headers={
            "X-Ecomwh-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()})
        expect(conn.getresponse().status, 200, "wh chunked body")
        conn.close()
        send(c, {"operation": "remove", "contacts": [{"email": "chunk@x.com"}]})
        parallel(3, lambda i: send(c, {"operation": "upsert", "contacts": [{"email": f"c{i}@x.com"}]}))
        s = c.state()
        entry = s["log"][1]  # first accepted upsert
        expect((entry["op"], entry["emails"], entry["idempotency_key"]), ("upsert", ["a@x.com", "bounce@x.com"], "k1"),
               "wh log")
        expect((s["stats"]["auth_failures"], s["stats"]["rejected_oversize"]), (1, 1), "wh stats")
        assert s["stats"]["max_concurrent"] >= 2, s["stats"]

    with emulator("webhook", "--secret", secret, "--rate-limit-every", "2", "--fail-every", "3") as c:
        s = check_faults(c, lambda: send(c, {"operation": "upsert", "contacts": [{"email": "a@x.com"}]}), None)
        expect([e["status"] for e in s["log"]], [200, 429, 500, 429, 200, 429], "wh fault log")


if __name__ == "__main__":
    for test in (test_mailchimp, test_klaviyo, test_sendgrid, test_webhook):
        test()
        print(f"ok {test.__name__}", flush=True)
    print("ALL EMULATOR SELFTESTS PASSED")
