"""Generic signed-webhook receiver emulator (stdlib only).

Contract (the exporter's own generic webhook sink, modelled on the common
"HMAC-SHA256 of the raw body" scheme used by e.g. GitHub/Stripe webhooks):
* `POST /<any path>` with header `X-Ecomwh-Signature: sha256=<lowercase hex
  HMAC-SHA256(secret, raw body)>`, else 401;
* body `{"operation": "upsert"|"remove", "contacts": [{"email", ...fields}], ...}`,
  at most `--max-batch` contacts (else 413); answer 200 `{"accepted": n}` (plus
  `"rejected": [...]` for rows refused by `--reject-substring` / missing '@');
* `X-Ecomwh-Idempotency-Key` is recorded in the request log.
"""
import hashlib
import hmac

from common import Emulator, Reply, main


class Webhook(Emulator):
    """Signed webhook receiver emulator."""
    routes = (("POST", r"/.*", "webhook", "receive"),)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--secret", required=True)
        parser.add_argument("--max-batch", type=int, default=1000)

    def error(self, status, code, title, detail):
        return Reply(status, {"error": code, "message": detail})

    def authenticate(self, req):
        expected = "sha256=" + hmac.new(self.args.secret.encode(), req.raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(req.header("X-Ecomwh-Signature").encode(), expected.encode()):
            return self.error(401, "invalid_signature", "", "missing or invalid X-Ecomwh-Signature")
        return None

    def describe(self, op, req, match):
        body = req.json() or {}
        contacts = [c for c in body.get("contacts") or [] if isinstance(c, dict)]
        return body.get("operation") or op, [str(c.get("email") or "").lower() for c in contacts], len(contacts)

    def receive(self, req, m):
        body = req.json()
        operation = body.get("operation") if isinstance(body, dict) else None
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if operation not in ("upsert", "remove") or not isinstance(contacts, list) \
                or not all(isinstance(c, dict) for c in contacts):
            raise self.fail(400, "invalid_body",  "",
                            "expected {operation: upsert|remove, contacts: [{email, ...}]}")
        if len(contacts) > self.args.max_batch:
            raise self.fail(413, "batch_too_large", "",
                            f"at most {self.args.max_batch} contacts per request", oversize=True)
        accepted, rejected = 0, []
        with self.lock:
            for contact in contacts:
                email = str(contact.get("email") or "").strip().lower()
                if self.rejected(email):
                    rejected.append({"email": email, "error": "invalid email"})
                    continue
                accepted += 1
                if operation == "remove":
                    self.members.pop(email, None)
                else:
                    self.members[email] = {**self.members.get(email, {}), **contact, "email": email}
        return Reply(200, {"accepted": accepted, **({"rejected": rejected} if rejected else {})})


if __name__ == "__main__":
    main(Webhook)
