"""SendGrid Marketing Campaigns v3 (new Marketing Campaigns) contacts emulator (stdlib only).

Follows https://www.twilio.com/docs/sendgrid/api-reference/contacts :
* `Authorization: Bearer <key>`; errors as `{"errors":[{"field","message"}]}`;
* `PUT /v3/marketing/contacts` "Add or Update a Contact" (max 30,000 contacts / 6 MB,
  202 `{"job_id"}`), applied asynchronously;
* `GET /v3/marketing/contacts/imports/{id}` "Import Contacts Status"
  (`pending` -> `completed`, `results.errors_url` pointing at a CSV of failed rows);
* `POST /v3/marketing/contacts/search/emails` "Get Contacts by Emails" (max 100, 404 when none);
* `DELETE /v3/marketing/lists/{id}/contacts?contact_ids=...` "Remove Contacts from a List"
  (max 100 ids, 202 `{"job_id"}`).
Upsert effects are applied when a status poll first reports "completed".
"""
import csv
import io
import uuid

from common import Emulator, HTTPFailure, Reply, main, now_iso

MAX_CONTACTS, MAX_BYTES, MAX_IDS = 30_000, 6 * 1024 * 1024, 100
CONTACT_NS = uuid.UUID("6f1c9f52-3c55-4f0e-9a53-1b2d8a7e0c11")
PREFIX = "/v3/marketing"


class SendGrid(Emulator):
    """SendGrid Marketing Campaigns v3 emulator."""
    routes = (
        ("PUT", PREFIX + r"/contacts/?", "upsert", "upsert"),
        ("GET", PREFIX + r"/contacts/imports/([^/]+)/?", "poll", "get_job"),
        ("GET", PREFIX + r"/contacts/imports/([^/]+)/errors/?", "import_errors", "job_errors"),
        ("POST", PREFIX + r"/contacts/search/emails/?", "lookup", "search"),
        ("DELETE", PREFIX + r"/lists/([^/]+)/contacts/?", "remove", "remove_from_list"),
    )

    @classmethod
    def add_arguments(cls, parser):
        super().add_arguments(parser)
        parser.add_argument("--list-id", default="ca7a3796-e8a8-4029-9ccb-df8937940562")

    def reset_vendor(self):
        self.jobs = {}

    def error(self, status, code, title, detail, field=None):
        return Reply(status, {"errors": [{"field": field, "message": detail}]})

    def throttled(self):
        return self.error(429, "", "", "too many requests")

    def server_error(self):
        return self.error(500, "", "", "internal server error")

    def authenticate(self, req):
        if req.header("Authorization") != f"Bearer {self.args.api_key}":
            return self.error(401, "", "", "authorization required")
        return None

    def state_members(self):
        return {e: dict(c, in_list=self.args.list_id in c["list_ids"]) for e, c in self.members.items()}

    # ----- parsing -----------------------------------------------------------
    def bad(self, detail, field=None, status=400, oversize=False):
        if oversize:
            self.bump("rejected_oversize")
        return HTTPFailure(self.error(status, "", "", detail, field))

    def parse_upsert(self, req):
        body = req.json()
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts or not all(isinstance(c, dict) for c in contacts):
            raise self.bad("contacts must be a non-empty array of objects", "contacts")
        list_ids = body.get("list_ids") or []
        if not isinstance(list_ids, list):
            raise self.bad("list_ids must be an array", "list_ids")
        return contacts, list_ids

    def contact_ids(self, req):
        ids = [i for i in req.query.get("contact_ids", "").split(",") if i.strip()]
        if not ids:
            raise self.bad("contact_ids is required", "contact_ids")
        return ids

    def describe(self, op, req, match):
        if op == "upsert":
            contacts = self.parse_upsert(req)[0]
            return op, [str(c.get("email") or "").strip().lower() for c in contacts], len(contacts)
        if op == "remove":
            ids = self.contact_ids(req)
            return op, [e for e, c in self.members.items() if c["id"] in set(ids)], len(ids)
        if op == "lookup":
            emails = (req.json() or {}).get("emails") or []
            return op, [str(e).lower() for e in emails], len(emails)
        return op, [], 0

    # ----- handlers ----------------------------------------------------------
    def upsert(self, req, m):
        too_large = "request body too large: at most %d contacts and %d bytes" % (MAX_CONTACTS, MAX_BYTES)
        if len(req.raw) > MAX_BYTES:
            raise self.bad(too_large, status=413, oversize=True)
        contacts, list_ids = self.parse_upsert(req)
        if len(contacts) > MAX_CONTACTS:
            raise self.bad(too_large, "contacts", status=413, oversize=True)
        unknown = [l for l in list_ids if l != self.args.list_id]
        if unknown:
            raise self.bad(f"list_ids {unknown} do not exist", "list_ids")
        job = {"id": str(uuid.uuid4()), "status": "pending", "job_type": "upsert", "contacts": contacts,
               "list_ids": list_ids, "polls": 0, "started_at": now_iso(), "finished_at": None,
               "created": 0, "updated": 0, "errors": []}
        with self.lock:
            self.jobs[job["id"]] = job
        return Reply(202, {"job_id": job["id"]})

    def find_job(self, job_id):
        if job_id not in self.jobs:
            raise self.bad("job not found", status=404)
        return self.jobs[job_id]

    def get_job(self, req, m):
        with self.lock:
            job = self.find_job(m[1])
            job["polls"] += 1
            if job["status"] == "pending" and job["polls"] > self.args.job_polls:
                self.complete(job)
            errors_url = req.url(f"{PREFIX}/contacts/imports/{job['id']}/errors") if job["errors"] else None
            return Reply(200, {"id": job["id"], "status": job["status"], "job_type": job["job_type"],
                               "results": {"requested_count": len(job["contacts"]),
                                           "created_count": job["created"], "updated_count": job["updated"],
                                           "deleted_count": 0, "errored_count": len(job["errors"]),
                                           "errors_url": errors_url},
                               "started_at": job["started_at"], "finished_at": job["finished_at"]})

    def complete(self, job):
        seen = set()
        for contact in job["contacts"]:
            email = str(contact.get("email") or "").strip().lower()
            if self.rejected(email):
                job["errors"].append((email, "invalid email address"))
                continue
            cur = self.members.get(email)
            if cur is None:
                cur = self.members[email] = {"id": str(uuid.uuid5(CONTACT_NS, email)), "email": email,
                                             "first_name": None, "last_name": None, "custom_fields": {},
                                             "list_ids": [], "created_at": now_iso()}
                job["created"] += 1
            elif email not in seen:
                job["updated"] += 1
            seen.add(email)
            for key in ("first_name", "last_name"):
                if key in contact:
                    cur[key] = contact[key]
            cur["custom_fields"].update(contact.get("custom_fields") or {})
            cur["list_ids"] += [l for l in job["list_ids"] if l not in cur["list_ids"]]
            cur["updated_at"] = now_iso()
        job["status"], job["finished_at"] = "completed", now_iso()

    def job_errors(self, req, m):
        with self.lock:
            rows = list(self.find_job(m[1])["errors"])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "error"])
        writer.writerows(rows)
        return Reply(200, out.getvalue(), content_type="text/csv")

    def search(self, req, m):
        emails = (req.json() or {}).get("emails") if isinstance(req.json(), dict) else None
        if not isinstance(emails, list) or not emails:
            raise self.bad("emails must be a non-empty array", "emails")
        if len(emails) > MAX_IDS:
            raise self.bad(f"at most {MAX_IDS} emails may be searched at once", "emails", oversize=True)
        result, found = {}, False
        with self.lock:
            for email in (str(e).strip().lower() for e in emails):
                cur = self.members.get(email)
                found |= cur is not None
                result[email] = {"contact": dict(cur)} if cur else {"error": "contact not found"}
        if not found:
            raise self.bad("No contacts found", status=404)
        return Reply(200, {"result": result})

    def remove_from_list(self, req, m):
        if m[1] != self.args.list_id:
            raise self.bad("list not found", status=404)
        ids = self.contact_ids(req)
        if len(ids) > MAX_IDS:
            raise self.bad(f"at most {MAX_IDS} contact_ids per request", "contact_ids", oversize=True)
        job = {"id": str(uuid.uuid4()), "status": "completed", "job_type": "delete", "contacts": ids,
               "list_ids": [m[1]], "polls": 0, "started_at": now_iso(), "finished_at": now_iso(),
               "created": 0, "updated": 0, "errors": []}
        with self.lock:
            for c in self.members.values():
                if c["id"] in set(ids) and m[1] in c["list_ids"]:
                    c["list_ids"].remove(m[1])
            self.jobs[job["id"]] = job
        return Reply(202, {"job_id": job["id"]})


if __name__ == "__main__":
    main(SendGrid)
