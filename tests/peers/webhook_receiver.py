"""A webhook receiver for the tests: verifies every delivery with the reference
Standard Webhooks library (PyPI `standardwebhooks`) and answers with scripted statuses.

Usage: webhook_receiver.py PORT SECRET STATUSES
  STATUSES: comma-separated HTTP statuses for successive requests (the last repeats).
Prints "ready PORT" once listening, then one JSON line per request:
  {"verified": bool, "error": str|null, "id": ..., "type": ..., "signatures": n, "status": n}
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
