"""A webhook receiver for the tests: verifies every delivery with the reference
Standard Webhooks library (PyPI `standardwebhooks`) — and a Stripe-style
`rapport-signature` header, when there is one, with Stripe's own library (PyPI `stripe`) —
and answers with scripted statuses.

Usage: webhook_receiver.py PORT SECRET STATUSES
  STATUSES: comma-separated HTTP statuses for successive requests (the last repeats).
Prints "ready PORT" once listening, then one JSON line per request:
  {"verified": bool, "error": str|null, "id": ..., "type": ..., "signatures": n, "status": n,
   "stripe_verified": bool|null, "stripe_error": str|null}
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook

port, secret, statuses = int(sys.argv[1]), sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
hook = Webhook(secret)
seen = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        out = {"verified": False, "error": None, "id": headers.get("webhook-id"),
               "type": None, "signatures": len(headers.get("webhook-signature", "").split())}
        try:
            payload = hook.verify(body, headers)
            out["verified"] = True
            out["type"] = payload.get("type")
            out["ticket"] = payload.get("data", {}).get("ticket", {}).get("id")
        except Exception as e:  # what the library refuses, and why
            out["error"] = repr(e)
        out["stripe_verified"], out["stripe_error"] = None, None
        if "rapport-signature" in {k.lower() for k in headers}:
            import stripe
            sig = next(v for k, v in headers.items() if k.lower() == "rapport-signature")
            try:
                stripe.WebhookSignature.verify_header(body.decode("utf-8"), sig, secret, 300)
                out["stripe_verified"] = True
            except Exception as e:
                out["stripe_verified"] = False
                out["stripe_error"] = repr(e)
        status = statuses[min(seen, len(statuses) - 1)]
        seen += 1
        out["status"] = status
        print(json.dumps(out), flush=True)
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        reply = f"answered {status}".encode()
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Handler)
print(f"ready {port}", flush=True)
server.serve_forever()
