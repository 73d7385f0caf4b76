"""Mailchimp Marketing API 3.0 emulator (stdlib only).

Follows the contract of https://mailchimp.com/developer/marketing/api/ :
* HTTP Basic auth, any username, password = API key
  (https://mailchimp.com/developer/marketing/docs/fundamentals/#authentication);
* `POST /3.0/lists/{list_id}` "Batch subscribe or unsubscribe" (max 500 members,
  per-member `errors` with `error_code`, `new_members`/`updated_members`);
* `GET`/`DELETE /3.0/lists/{list_id}/members/{subscriber_hash}` (hash = md5 of the
  lower-cased email; DELETE archives, 204);
* errors as problem documents `{type,title,status,detail,instance}`
  (https://mailchimp.com/developer/marketing/docs/errors/), at most 10 simultaneous
  connections (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits).
"""
import base64
import hashlib

from common import Emulator, HTTPFailure, Reply, main

MAX_BATCH = 500


def subscriber_hash(email):
    return hashlib.md5(email.lower().encode()).hexdigest()


class Mailchimp(Emulator):
    """Mailchimp Marketing API 3.0 emulator."""
    max_inflight = 10
    routes = (
        ("POST", r"/3\.0/lists/([^/]+)/?", "upsert", "batch"),
        ("DELETE", r"/3\.0/lists/([^/]+)/members/([^/]+)/?", "remove", "archive"),
        ("GET", r"/3\.0/lists/([^/]+)/members/([^/]+)/?", "lookup", "get_member"),
    )

    @classmethod
    def add_arguments(cls, parser):
        super().add_arguments(parser)
        parser.add_argument("--list-id", default="abc123")

    def error(self, status, code, title, detail):
        return Reply(status, {"type": "https://mailchimp.com/developer/marketing/docs/errors/",
                              "title": title, "status": status, "detail": detail, "instance": ""},
                     content_type="application/problem+json")

    def throttled(self):
        return self.error(429, "throttled", "Too Many Requests",
                          "You have exceeded the limit of API requests; please retry later.")

    def too_crowded(self):
        return self.error(429, "throttled", "Too Many Requests",
                          "You have exceeded the limit of 10 simultaneous connections.")

    def authenticate(self, req):
        scheme, _, token = req.header("Authorization").partition(" ")
        try:
            password = base64.b64decode(token, validate=True).decode().partition(":")[2]
        except ValueError:
            password = None
        if scheme.lower() == "basic" and password == self.args.api_key:
            return None
        return self.error(401, "unauthorized", "API Key Invalid",
                          "Your API key may be invalid, or you've attempted to access the wrong datacenter.")

    def by_hash(self, h):
        # An index, not a scan: benchmarks hold a million members.
        email = self.__dict__.setdefault("ids", {}).get(h.lower())
        return email if email in self.members else None

    def describe(self, op, req, match):
        if op == "upsert":
            members = (req.json() or {}).get("members") or []
            emails = [str(m.get("email_address", "")).lower() for m in members if isinstance(m, dict)]
            return op, emails, len(members)
        email = self.by_hash(match[2])
        return op, [email] if email else [], 1

    def check_list(self, list_id):
        if list_id != self.args.list_id:
            raise HTTPFailure(self.not_found())

    def batch(self, req, m):
        self.check_list(m[1])
        body = req.json()
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list) or not all(isinstance(x, dict) for x in members):
            raise self.fail(400, "invalid", "Invalid Resource",
                            "The resource submitted could not be validated: 'members' must be an array of objects.")
        if len(members) > MAX_BATCH:
            raise self.fail(400, "invalid", "Invalid Resource",
                            f"You may submit no more than {MAX_BATCH} members in a single batch request.",
                            oversize=True)
        update, sync = bool(body.get("update_existing")), bool(body.get("sync_tags"))
        new, updated, errors = [], [], []
        with self.lock:
            for item in members:
                email = str(item.get("email_address", "")).strip().lower()
                if self.rejected(email):
                    errors.append({"email_address": email, "error_code": "ERROR_GENERIC",
                                   "error": f"{email} looks fake or invalid, please enter a real email address."})
                    continue
                cur = self.members.get(email)
                if cur and cur["status"] != "archived" and not update:
                    errors.append({"email_address": email, "error_code": "ERROR_CONTACT_EXISTS",
                                   "error": f"{email} is already a list member, do you want to update? "
                                            "please provide update_existing:true in the request body"})
                    continue
                if cur is None or cur["status"] == "archived":
                    status = item.get("status_if_new") or item.get("status") or "subscribed"
                    (new if cur is None else updated).append(email)
                    cur = cur or {"id": subscriber_hash(email), "email_address": email,
                                  "merge_fields": {}, "tags": []}
                    cur["status"] = status
                    self.members[email] = cur
                    self.__dict__.setdefault("ids", {})[cur["id"]] = email
                else:
                    cur["status"] = item.get("status") or cur["status"]
                    updated.append(email)
                cur["merge_fields"].update(item.get("merge_fields") or {})
                tags = [t.get("name") if isinstance(t, dict) else str(t) for t in item.get("tags") or []]
                cur["tags"] = tags if sync else cur["tags"] + [t for t in tags if t not in cur["tags"]]
            view = lambda e: {k: self.members[e][k] for k in ("id", "email_address", "status", "merge_fields")}
            return Reply(200, {"new_members": [view(e) for e in new],
                               "updated_members": [view(e) for e in updated],
                               "errors": errors, "total_created": len(new),
                               "total_updated": len(updated), "error_count": len(errors)})

    def member_or_404(self, m, archived_ok):
        self.check_list(m[1])
        email = self.by_hash(m[2])
        if email is None or (not archived_ok and self.members[email]["status"] == "archived"):
            raise HTTPFailure(self.not_found())
        return self.members[email]

    def archive(self, req, m):
        with self.lock:
            self.member_or_404(m, archived_ok=False)["status"] = "archived"
        return Reply(204)

    def get_member(self, req, m):
        with self.lock:
            cur = dict(self.member_or_404(m, archived_ok=True))
        cur["tags"] = [{"id": i + 1, "name": t} for i, t in enumerate(cur["tags"])]
        cur.update(list_id=self.args.list_id, tags_count=len(cur["tags"]))
        return Reply(200, cur)


if __name__ == "__main__":
    main(Mailchimp)
