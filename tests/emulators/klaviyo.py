"""Klaviyo API (JSON:API, revisioned) emulator (stdlib only).

Follows https://developers.klaviyo.com/en/reference/api_overview :
* `Authorization: Klaviyo-API-Key <key>` and a `revision: YYYY-MM-DD[.suffix]` header
  on every request; errors as `{"errors":[{id,status,code,title,detail,source}]}`;
  429 `throttled` with `Retry-After` (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling);
* Bulk Profile Import (https://developers.klaviyo.com/en/reference/bulk_import_profiles):
  `POST /api/profile-bulk-import-jobs` (max 10,000 profiles, max 5 MB payload, 202),
  `GET /api/profile-bulk-import-jobs/{id}` (queued -> processing -> complete),
  `GET .../{id}/import-errors`, `GET .../{id}/profiles` (cursor pagination, 100/page);
* `DELETE /api/lists/{id}/relationships/profiles` (max 1000 ids, 204) and
  `GET /api/lists/{id}/relationships/profiles`.
Job effects are applied when a status poll first reports "complete".
"""
import hashlib
import re
import uuid

from common import Emulator, HTTPFailure, Reply, main, now_iso

MAX_PROFILES, MAX_BYTES, MAX_REMOVE = 10_000, 5 * 1024 * 1024, 1000
JOB = "profile-bulk-import-job"


def profile_id(email):
    return "01" + hashlib.sha1(email.encode()).hexdigest()[:24].upper()


class Klaviyo(Emulator):
    """Klaviyo JSON:API emulator."""
    routes = (
        ("POST", r"/api/profile-bulk-import-jobs/?", "upsert", "create_job"),
        ("GET", r"/api/profile-bulk-import-jobs/([^/]+)/?", "poll", "get_job"),
        ("GET", r"/api/profile-bulk-import-jobs/([^/]+)/import-errors/?", "import_errors", "job_errors"),
        ("GET", r"/api/profile-bulk-import-jobs/([^/]+)/profiles/?", "job_profiles", "job_profiles"),
        ("DELETE", r"/api/lists/([^/]+)/relationships/profiles/?", "remove", "remove_from_list"),
        ("GET", r"/api/lists/([^/]+)/relationships/profiles/?", "list_profiles", "list_profiles"),
    )

    @classmethod
    def add_arguments(cls, parser):
        super().add_arguments(parser)
        parser.add_argument("--list-id", default="Y6nRLr")

    def reset_vendor(self):
        self.jobs = {}

    def error(self, status, code, title, detail):
        return Reply(status, {"errors": [{"id": str(uuid.uuid4()), "status": status, "code": code,
                                          "title": title, "detail": detail, "source": {"pointer": "/data/"}}]},
                     content_type="application/vnd.api+json")

    def throttled(self):
        n = self.args.retry_after
        return self.error(429, "throttled", "Request was throttled.",
                          f"Request was throttled. Expected available in {n} second{'s' if n != 1 else ''}.")

    def server_error(self):
        return self.error(500, "error", "A server error occurred.", "A server error occurred.")

    def not_found(self, detail="The requested resource was not found."):
        return self.error(404, "not_found", "Not found.", detail)

    def authenticate(self, req):
        if req.header("Authorization") != f"Klaviyo-API-Key {self.args.api_key}":
            return self.error(401, "not_authenticated", "Authentication credentials were not provided.",
                              "Missing or invalid private key.")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.\w+)?", req.header("revision")):
            return self.error(400, "invalid_revision", "Invalid revision header.",
                              "A valid 'revision' header (YYYY-MM-DD) is required.")
        return None

    def state_members(self):
        return {e: dict(m, in_list=self.args.list_id in m["lists"]) for e, m in self.members.items()}

    # ----- parsing -----------------------------------------------------------
    def parse_job(self, req):
        body = req.json()
        try:
            data = body["data"]
            assert data["type"] == JOB
            profiles = data["attributes"]["profiles"]["data"]
            assert isinstance(profiles, list)
            lists = [d["id"] for d in ((data.get("relationships") or {}).get("lists") or {}).get("data") or []]
        except (TypeError, KeyError, AssertionError):
            raise self.fail(400, "invalid", "Invalid input.",
                            f"Expected a '{JOB}' document with data.attributes.profiles.data.")
        return profiles, lists

    def removal_ids(self, req):
        data = (req.json() or {}).get("data") if isinstance(req.json(), dict) else None
        if not isinstance(data, list) or not all(isinstance(d, dict) and "id" in d for d in data):
            raise self.fail(400, "invalid", "Invalid input.", "Expected data: [{type: profile, id}].")
        return [d["id"] for d in data]

    @staticmethod
    def email_of(profile):
        attrs = profile.get("attributes") if isinstance(profile, dict) else None
        return str((attrs or {}).get("email") or "").strip().lower()

    def describe(self, op, req, match):
        if op == "upsert":
            profiles = self.parse_job(req)[0]
            return op, [self.email_of(p) for p in profiles], len(profiles)
        if op == "remove":
            ids = self.removal_ids(req)
            return op, [e for e, m in self.members.items() if m["id"] in set(ids)], len(ids)
        return op, [], 0

    # ----- handlers ----------------------------------------------------------
    def check_list(self, list_id):
        if list_id != self.args.list_id:
            raise HTTPFailure(self.not_found(f"A list with id {list_id} does not exist."))

    def create_job(self, req, m):
        if len(req.raw) > MAX_BYTES:
            raise self.fail(413, "request_too_large", "Request entity too large.",
                            f"Payload exceeds the maximum of {MAX_BYTES} bytes.", oversize=True)
        profiles, lists = self.parse_job(req)
        if len(profiles) > MAX_PROFILES:
            raise self.fail(400, "invalid", "Invalid input.",
                            f"A job may contain at most {MAX_PROFILES} profiles.", oversize=True)
        for list_id in lists:
            self.check_list(list_id)
        job = {"id": uuid.uuid4().hex, "profiles": profiles, "lists": lists, "polls": 0,
               "status": "queued", "created_at": now_iso(), "completed_at": None,
               "errors": [], "imported": []}
        with self.lock:
            self.jobs[job["id"]] = job
            return Reply(202, self.job_doc(job), content_type="application/vnd.api+json")

    def job_doc(self, job):
        return {"data": {"type": JOB, "id": job["id"], "attributes": {
            "status": job["status"], "total_count": len(job["profiles"]),
            "completed_count": len(job["imported"]), "failed_count": len(job["errors"]),
            "created_at": job["created_at"], "completed_at": job["completed_at"]}}}

    def find_job(self, job_id):
        if job_id not in self.jobs:
            raise HTTPFailure(self.not_found(f"Import job {job_id} does not exist."))
        return self.jobs[job_id]

    def get_job(self, req, m):
        with self.lock:
            job = self.find_job(m[1])
            job["polls"] += 1
            if job["status"] != "complete":
                if job["polls"] > self.args.job_polls:
                    self.complete(job)
                else:
                    job["status"] = "processing"
            return Reply(200, self.job_doc(job), content_type="application/vnd.api+json")

    def complete(self, job):
        for index, profile in enumerate(job["profiles"]):
            email = self.email_of(profile)
            if self.rejected(email):
                job["errors"].append({"type": "import-error", "id": uuid.uuid4().hex, "attributes": {
                    "code": "invalid", "title": "Invalid input.", "detail": "Invalid email address",
                    "source": {"pointer": f"/data/attributes/profiles/data/{index}"},
                    "original_payload": {"email": email}}})
                continue
            attrs = profile["attributes"]
            cur = self.members.setdefault(email, {"id": profile_id(email), "email": email, "first_name": None,
                                                  "last_name": None, "properties": {}, "lists": []})
            for key in ("first_name", "last_name"):
                if key in attrs:
                    cur[key] = attrs[key]
            cur["properties"].update(attrs.get("properties") or {})
            cur["lists"] += [l for l in job["lists"] if l not in cur["lists"]]
            if cur["id"] not in job["imported"]:
                job["imported"].append(cur["id"])
        job["status"], job["completed_at"] = "complete", now_iso()

    def page(self, req, items):
        rows, nxt = self.paginate(req, items)
        return Reply(200, {"data": rows, "links": {"self": req.url(req.path, req.query), "next": nxt}},
                     content_type="application/vnd.api+json")

    def job_errors(self, req, m):
        with self.lock:
            return self.page(req, list(self.find_job(m[1])["errors"]))

    def job_profiles(self, req, m):
        with self.lock:
            ids = set(self.find_job(m[1])["imported"])
            rows = [{"type": "profile", "id": p["id"], "attributes": {"email": p["email"]}}
                    for p in self.members.values() if p["id"] in ids]
        return self.page(req, rows)

    def list_profiles(self, req, m):
        self.check_list(m[1])
        with self.lock:
            rows = [{"type": "profile", "id": p["id"]} for p in self.members.values() if m[1] in p["lists"]]
        return self.page(req, rows)

    def remove_from_list(self, req, m):
        self.check_list(m[1])
        ids = self.removal_ids(req)
        if len(ids) > MAX_REMOVE:
            raise self.fail(400, "invalid", "Invalid input.",
                            f"At most {MAX_REMOVE} profiles may be removed per request.", oversize=True)
        ids = set(ids)
        with self.lock:
            for p in self.members.values():
                if p["id"] in ids and m[1] in p["lists"]:
                    p["lists"].remove(m[1])
        return Reply(204)


if __name__ == "__main__":
    main(Klaviyo)
