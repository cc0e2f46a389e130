//! Live chat, server side: a visitor starts a conversation, talks over a real WebSocket,
//! reconnects without losing or doubling anything, never reaches another visitor's
//! conversation, and hears agents' replies — from this node or another.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rapport_domain::{Clock, SystemClock};
use rapport_store::op;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_backends;
use crate::harness::{Backend, Process, Scratch, TestApp, assert_error, count, free_port};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A visitor's open socket.
pub(crate) struct Visitor {
    ws: Socket,
}

/// How long a test waits for a frame before failing (a hang, not a timing assertion).
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

impl Visitor {
    /// Opens the socket on `base` (with `origin`, if given) without authenticating.
    pub(crate) async fn open(base: &str, origin: Option<&str>) -> Result<Visitor, String> {
        let url = format!("{}/api/v1/chat/ws", base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(Visitor { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                Err(format!("http {}", r.status().as_u16()))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Opens and authenticates; returns the socket and its `ready` frame.
    pub(crate) async fn connect(base: &str, token: &str) -> (Visitor, Value) {
        let mut v = Visitor::open(base, None).await.unwrap();
        v.send(json!({"type": "auth", "token": token})).await;
        let ready = v.next().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        (v, ready)
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub(crate) async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.unwrap();
    }

    /// The next JSON frame (panics after [`PATIENCE`] or when the socket closes).
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame read");
            match m {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// The next frame of `kind`, skipping others (such as echoes of one's own messages).
    pub(crate) async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next().await;
            if f["type"] == kind {
                return f;
            }
        }
    }

    /// Whether the server closed the socket (reading to the end).
    pub(crate) async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("closed in time")
            {
                Some(Ok(Message::Close(c))) => return c.map(|c| u16::from(c.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    }

    /// Sends a message and returns its ack.
    pub(crate) async fn say(&mut self, client_id: &str, body: &str) -> Value {
        self.send(json!({"type": "message", "client_id": client_id, "body": body}))
            .await;
        let ack = self.next_of_either("ack", "error").await;
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ack["client_id"], client_id);
        ack
    }

    pub(crate) async fn next_of_either(&mut self, a: &str, b: &str) -> Value {
        loop {
            let f = self.next().await;
            if f["type"] == a || f["type"] == b {
                return f;
            }
        }
    }
}

/// Puts agent `user_id` at work: a browser session of theirs seen just now (what the
/// workspace's sign-in gives; chats go only to agents at work).
pub(crate) async fn at_work(app: &TestApp, user_id: i64) {
    let now = SystemClock.now();
    let token = format!("test-session-{user_id}-{}", now.micros());
    app.db
        .write(op!(c => {
            rapport_store::testing::execute_in(
                c,
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, last_seen_at)
                 VALUES ($1, $2, 'test', $3, $4, $3)",
                &[token.clone().into(), user_id.into(), now.into(), now.plus_secs(3_600).into()],
            )
            .await
        }))
        .await
        .unwrap();
}

/// Sets an agent's chat status (`online`, `away`, `offline`), as they would themselves,
/// at work.
pub(crate) async fn set_chat_status(app: &TestApp, who: &crate::harness::Agent, status: &str) {
    at_work(app, who.id).await;
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/chat/agents/{}", who.id),
            Some(&who.token),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

/// Turns the assistant bot off: these scenarios are about the transport, message by
/// message (the bot in chat is `chat_bot`'s).
pub(crate) async fn without_bot(app: &TestApp) {
    let (s, v) = app
        .call(
            "PUT",
            "/api/v1/chat/settings",
            Some(&app.admin.token),
            Some(json!({"bot_enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

pub(crate) async fn start(base: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/chat/conversations"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

pub(crate) async fn start_ok(app: &TestApp, body: Value) -> (i64, String) {
    let (s, v) = start(&app.base, body).await;
    assert_eq!(s, 201, "{v}");
    (
        v["conversation_id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn reply(app: &TestApp, ticket: i64, body: &str, internal: bool) -> i64 {
    let (s, m) = app
        .post(
            &format!("/api/v1/tickets/{ticket}/messages"),
            json!({"body": body, "internal": internal}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    m["id"].as_i64().unwrap()
}

pub(crate) async fn messages_on(db: &rapport_store::Db, ticket: i64) -> Vec<String> {
    db.read(op!(c => rapport_store::messages::for_ticket(c, &rapport_domain::Principal::System, ticket).await))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

both_backends! {
    async fn an_agent_typing_reaches_the_visitor(app) {
        let (ticket, token) = start_ok(&app, json!({"body": "hello"})).await;
        let (mut v, ready) = Visitor::connect(&app.base, &token).await;
        assert_eq!(ready["agents_online"], false);
        crate::web::set_password(&app, "admin@example.com", "a long enough password").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "admin@example.com", "a long enough password").await;
        let presence = |typing: &'static str| {
            let (http, url) = (http.clone(), app.url(&format!("/tickets/{ticket}/presence")));
            let (session, csrf) = (session.clone(), csrf.clone());
            async move {
                let r = http
                    .post(url)
                    .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
                    .form(&[("csrf", csrf.as_str()), ("typing", typing)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            }
        };
        // The visitor is not typing yet; then is, and the agent's ticket page shows it.
        assert_eq!(presence("0").await, json!([]));
        // The agent with the chat open has seen the visitor's message (once).
        let f = v.next_of("read").await;
        assert_eq!((f["author"].as_str(), f["up_to"].as_i64()), (Some("agent"), ready["last_id"].as_i64()));
        v.send(json!({"type": "typing"})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(presence("1").await, json!([{"name": "The visitor", "typing": true}]));
        let f = v.next().await;
        assert_eq!(f["type"], "typing", "no second read mark for nothing new: {f}");
        // A socket opened later (on any node) learns the mark from `ready`.
        let (_, later) = Visitor::connect(&app.base, &token).await;
        assert_eq!(later["agent_read_up_to"], ready["last_id"]);
        assert_eq!(ready["agent_read_up_to"], 0);
        assert_eq!((f["author"].as_str(), f["name"].as_str()), (Some("agent"), Some("Test Person")));
        // A signed-in agent is at work, but not online for chats until they say so.
        let (_, started) = start(&app.base, json!({"body": "again"})).await;
        assert_eq!(started["agents_online"], false);
        set_chat_status(&app, &app.admin, "online").await;
        let (_, started) = start(&app.base, json!({"body": "again"})).await;
        assert_eq!(started["agents_online"], true);
        set_chat_status(&app, &app.admin, "away").await;
        let (_, started) = start(&app.base, json!({"body": "and again"})).await;
        assert_eq!(started["agents_online"], false, "away is not online");
    }

    async fn a_visitor_talks_and_nothing_doubles(app) {
        without_bot(&app).await;
        let (s, started) = start(&app.base, json!({"name": "Ada", "body": "Is the blue kettle in stock?", "client_id": "first-1"})).await;
        assert_eq!(s, 201, "{started}");
        assert!(started["token"].as_str().unwrap().starts_with("rchat_"));
        let ticket = started["conversation_id"].as_i64().unwrap();
        let token = started["token"].as_str().unwrap().to_owned();
        // The conversation is a chat ticket in the help desk, with its first message.
        let (s, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["channel"], "chat");
        assert!(t["customer"]["email"].as_str().unwrap().ends_with("@chat.invalid"));
        assert_eq!(t["customer"]["name"], "Ada");
        // The token is stored hashed, never as given.
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations WHERE token_hash LIKE 'rchat_%'").await, 0);

        let (mut v, ready) = Visitor::connect(&app.base, &token).await;
        assert_eq!(ready["conversation_id"], ticket);
        assert_eq!(ready["last_id"], started["message_id"]);
        // Resending the first message (its client id came with the start) stores nothing.
        let ack0 = v.say("first-1", "Is the blue kettle in stock?").await;
        assert_eq!(ack0["id"], started["message_id"]);
        let ack = v.say("c-2", "Size 1.7 litres please").await;
        let again = v.say("c-2", "Size 1.7 litres please").await;
        assert_eq!(ack["id"], again["id"], "a resend is the same message");
        assert_eq!(messages_on(&app.db, ticket).await, ["Is the blue kettle in stock?", "Size 1.7 litres please"]);

        // An agent's reply through the API reaches the socket; a note never does.
        reply(&app, ticket, "Internal: check the warehouse", true).await;
        let r = reply(&app, ticket, "Yes, we have three left.", false).await;
        let m = loop {
            let f = v.next_of("message").await;
            assert_ne!(f["body"], "Internal: check the warehouse");
            if f["author"] == "agent" {
                break f;
            }
        };
        assert_eq!(m["id"], r);
        assert_eq!(m["body"], "Yes, we have three left.");
        assert_eq!(m["name"], "Test Person");
        assert!(m["at"].is_string());

        // A reload: a new socket resumes after the last message it saw and gets exactly
        // what is newer; from 0 it gets the whole public conversation, once.
        drop(v);
        let (mut v2, _) = Visitor::connect(&app.base, &token).await;
        v2.send(json!({"type": "resume", "after": ack["id"]})).await;
        let f = v2.next_of("message").await;
        assert_eq!(f["id"], r, "only the agent's reply is newer");
        v2.send(json!({"type": "resume", "after": 0})).await;
        let mut bodies = Vec::new();
        for _ in 0..3 {
            bodies.push(v2.next_of("message").await["body"].as_str().unwrap().to_owned());
        }
        assert_eq!(bodies, ["Is the blue kettle in stock?", "Size 1.7 litres please", "Yes, we have three left."]);
        v2.send(json!({"type": "ping"})).await;
        assert_eq!(v2.next().await["type"], "pong", "nothing else was sent: no note, no double");

        // Read receipts are stored.
        v2.send(json!({"type": "read", "up_to": r})).await;
        v2.send(json!({"type": "ping"})).await;
        v2.next_of("pong").await;
        assert_eq!(count(&app.db, "SELECT MAX(visitor_read_up_to) FROM chat_conversations").await, r);
    }

    async fn a_start_sent_again_is_the_same_conversation(app) {
        without_bot(&app).await;
        // The answer to the start was lost; the widget sends it again, same client id.
        let first = json!({"body": "is my order shipped?", "client_id": "c0ffee00c0ffee00c0ffee00"});
        let (s, one) = start(&app.base, first.clone()).await;
        assert_eq!(s, 201, "{one}");
        let (s, two) = start(&app.base, first.clone()).await;
        assert_eq!(s, 201, "{two}");
        assert_eq!(one["conversation_id"], two["conversation_id"], "not a second conversation");
        assert_eq!(one["message_id"], two["message_id"]);
        assert_ne!(one["token"], two["token"], "a new token");
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations").await, 1);
        // The new token works; the lost one no longer does.
        let (mut v, _) = Visitor::connect(&app.base, two["token"].as_str().unwrap()).await;
        v.send(json!({"type": "resume", "after": 0})).await;
        assert_eq!(v.next_of("message").await["body"], "is my order shipped?");
        let mut old = Visitor::open(&app.base, None).await.unwrap();
        old.send(json!({"type": "auth", "token": one["token"]})).await;
        assert_eq!(old.next().await["code"], "unauthorized");
        // Another text, or a short (guessable) client id, starts a conversation of its own.
        let (_, three) = start(&app.base, json!({"body": "another question", "client_id": "c0ffee00c0ffee00c0ffee00"})).await;
        assert_ne!(three["conversation_id"], one["conversation_id"]);
        let (_, a) = start(&app.base, json!({"body": "short id", "client_id": "m-1"})).await;
        let (_, b) = start(&app.base, json!({"body": "short id", "client_id": "m-1"})).await;
        assert_ne!(a["conversation_id"], b["conversation_id"]);
    }

    async fn a_token_opens_one_conversation_only(app) {
        without_bot(&app).await;
        let (a, token_a) = start_ok(&app, json!({"body": "Visitor A here"})).await;
        let (b, token_b) = start_ok(&app, json!({"body": "Visitor B here"})).await;
        assert_ne!(a, b);
        let (mut va, ready) = Visitor::connect(&app.base, &token_a).await;
        assert_eq!(ready["conversation_id"], a);
        let (mut vb, _) = Visitor::connect(&app.base, &token_b).await;
        // B's socket reads only B's conversation, even asking for everything.
        vb.send(json!({"type": "resume", "after": 0})).await;
        let f = vb.next_of("message").await;
        assert_eq!(f["body"], "Visitor B here");
        reply(&app, a, "Secret answer for A", false).await;
        let got = va.next_of("message").await;
        assert_eq!(got["body"], "Secret answer for A");
        reply(&app, b, "Answer for B", false).await;
        let f = vb.next_of("message").await;
        assert_eq!(f["body"], "Answer for B", "B never hears A's reply");
        // B writes only into B's conversation.
        vb.say("b-1", "from B").await;
        assert_eq!(messages_on(&app.db, a).await, ["Visitor A here", "Secret answer for A"]);

        // A wrong, altered or foreign token opens nothing.
        for bad in ["", "rchat_00", &format!("{token_a}x"), &app.admin.token, "rap_nope"] {
            let mut v = Visitor::open(&app.base, None).await.unwrap();
            v.send(json!({"type": "auth", "token": bad})).await;
            let f = v.next().await;
            assert_eq!(f["code"], "unauthorized", "{bad}: {f}");
            assert_eq!(v.closed().await, Some(4003));
        }
        // A first frame that is not auth is refused.
        let mut v = Visitor::open(&app.base, None).await.unwrap();
        v.send(json!({"type": "message", "client_id": "x", "body": "hi"})).await;
        assert_eq!(v.next().await["code"], "unauthorized");
        // The visitor's token is no API token.
        let (s, e) = app.call("GET", &format!("/api/v1/tickets/{a}"), Some(&token_a), None).await;
        assert_error(s, &e, 401, None);
    }

    async fn bad_frames_get_error_frames_and_the_socket_stays(app) {
        let (_, token) = start_ok(&app, json!({"body": "hello"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        let cases = [
            ("not json", "bad_json", None),
            ("[1,2]", "unknown_type", None),
            (r#"{"type":"shout"}"#, "unknown_type", None),
            (r#"{"type":"message","client_id":"a"}"#, "invalid", Some("body")),
            (r#"{"type":"message","client_id":"a b","body":"x"}"#, "invalid", Some("client_id")),
            (r#"{"type":"message","client_id":"a","body":"   "}"#, "invalid", Some("body")),
            (r#"{"type":"resume","after":"x"}"#, "invalid", None),
            (r#"{"type":"continue_by_email","email":"nope"}"#, "invalid", Some("email")),
        ];
        for (raw, code, field) in cases {
            v.send_raw(Message::Text(raw.into())).await;
            let f = v.next().await;
            assert_eq!(f["type"], "error", "{raw}: {f}");
            assert_eq!(f["code"], code, "{raw}: {f}");
            if let Some(field) = field {
                assert_eq!(f["field"], field, "{raw}: {f}");
            }
            assert!(f["message"].is_string());
        }
        let big = "x".repeat(5000);
        v.send(json!({"type": "message", "client_id": "big", "body": big})).await;
        let f = v.next().await;
        assert_eq!((f["code"].as_str(), f["field"].as_str(), f["client_id"].as_str()), (Some("too_big"), Some("body"), Some("big")));
        v.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
        assert_eq!(v.next().await["code"], "bad_frame");
        // Still usable.
        v.say("ok-1", "still here").await;
        // A frame over the socket's limit closes it (1009), without harming the server.
        v.send_raw(Message::Text("x".repeat(100 * 1024).into())).await;
        assert!(matches!(v.closed().await, Some(1009) | None));
        let (mut again, _) = Visitor::connect(&app.base, &token).await;
        again.say("ok-2", "back again").await;
    }

    async fn messages_are_rate_limited_per_visitor(app) {
        let (_, token) = start_ok(&app, json!({"body": "hello"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        for i in 0..20 {
            v.say(&format!("m{i}"), "again").await;
        }
        v.send(json!({"type": "message", "client_id": "m20", "body": "one too many"})).await;
        let f = v.next_of_either("ack", "error").await;
        assert_eq!(f["code"], "rate_limited", "{f}");
        assert_eq!(f["client_id"], "m20");
        // One address holds at most 50 sockets open on a node.
        let mut open = Vec::new();
        for _ in 0..49 {
            open.push(Visitor::connect(&app.base, &token).await.0);
        }
        assert_eq!(Visitor::open(&app.base, None).await.err().as_deref(), Some("http 429"));
        open.pop();
        drop(v);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut again = None;
        for _ in 0..50 {
            if let Ok(s) = Visitor::open(&app.base, None).await {
                again = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(again.is_some(), "a closed socket frees its place");
        // Starting conversations is limited per client address too.
        let mut last = 0;
        for _ in 0..12 {
            last = start(&app.base, json!({"body": "spam"})).await.0;
        }
        assert_eq!(last, 429);
    }

    async fn only_listed_origins_may_embed_the_chat(app) {
        // Any site by default.
        let (s, _) = start(&app.base, json!({"body": "hi"})).await;
        assert_eq!(s, 201);
        let (s, e) = app.call("PUT", "/api/v1/chat/settings", Some(&app.agent.token), Some(json!({"allowed_origins": ["https://shop.example.com"]}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"allowed_origins": ["shop.example.com"]}))).await;
        assert_error(s, &e, 422, Some("allowed_origins"));
        let (s, set) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"allowed_origins": ["https://shop.example.com"]}))).await;
        assert_eq!(s, 200, "{set}");
        assert_eq!(set["allowed_origins"], json!(["https://shop.example.com"]));

        let post = |origin: Option<&'static str>| {
            let base = app.base.clone();
            async move {
                let mut r = reqwest::Client::new().post(format!("{base}/api/v1/chat/conversations")).json(&json!({"body": "hi"}));
                if let Some(o) = origin {
                    r = r.header("origin", o);
                }
                let r = r.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (s, e) = post(Some("https://evil.example")).await;
        assert_error(s, &e, 403, None);
        assert_eq!(e["error"]["code"], "origin_not_allowed");
        let (s, _) = post(None).await;
        assert_eq!(s, 403, "no Origin is no listed site");
        let (s, ok) = post(Some("https://shop.example.com")).await;
        assert_eq!(s, 201, "{ok}");

        assert_eq!(Visitor::open(&app.base, Some("https://evil.example")).await.err().as_deref(), Some("http 403"));
        assert_eq!(Visitor::open(&app.base, None).await.err().as_deref(), Some("http 403"));
        let mut v = Visitor::open(&app.base, Some("https://shop.example.com")).await.unwrap();
        v.send(json!({"type": "auth", "token": ok["token"]})).await;
        assert_eq!(v.next().await["type"], "ready");
    }

    async fn a_verified_identity_keeps_one_customer(app) {
        use hmac::{Hmac, Mac};
        let sign = |secret: &str, id: &str| {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(id.as_bytes());
            mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let secret = "a site secret that is long enough to use";
        // Without a secret set, identities are refused.
        let (s, e) = start(&app.base, json!({"body": "hi", "identity": {"customer_id": "u-1", "signature": sign(secret, "u-1")}})).await;
        assert_error(s, &e, 422, Some("identity"));
        let (s, e) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"identity_secret": "short"}))).await;
        assert_error(s, &e, 422, Some("identity_secret"));
        let (s, set) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"identity_secret": secret}))).await;
        assert_eq!(s, 200, "{set}");
        assert_eq!(set["identity_secret_set"], true);
        assert!(!set.to_string().contains(secret), "the secret is never read out");
        let (_, got) = app.get("/api/v1/chat/settings").await;
        assert!(!got.to_string().contains(secret));
        // Sealed at rest.
        let stored: String = app.db.read(op!(c => rapport_store::testing::one_in(c, "SELECT value FROM settings WHERE key = 'chat.identity_secret'", &[]).await?.text(0))).await.unwrap();
        assert!(!stored.contains(secret));

        let (s, e) = start(&app.base, json!({"body": "hi", "identity": {"customer_id": "u-1", "signature": sign("another secret that is long enough!!", "u-1")}})).await;
        assert_error(s, &e, 422, Some("identity.signature"));
        let (s, e) = start(&app.base, json!({"body": "hi", "identity": {"customer_id": "u-2", "signature": sign(secret, "u-1")}})).await;
        assert_error(s, &e, 422, Some("identity.signature"));
        let u1 = json!({"customer_id": "u-1", "signature": sign(secret, "u-1")});
        let (first, _) = start_ok(&app, json!({"body": "first visit", "name": "Kim", "identity": u1})).await;
        let (second, _) = start_ok(&app, json!({"body": "second visit", "identity": u1})).await;
        let (_, t1) = app.get(&format!("/api/v1/tickets/{first}")).await;
        let (_, t2) = app.get(&format!("/api/v1/tickets/{second}")).await;
        assert_eq!(t1["customer"]["id"], t2["customer"]["id"], "the same site user, the same customer");
        assert_eq!(t2["customer"]["name"], "Kim");
        // A typed address neither moves a linked user's chat nor changes the link (it is
        // where transcripts go).
        let (third, _) = start_ok(&app, json!({"body": "third visit", "email": "kim@example.org", "identity": u1})).await;
        let (fourth, _) = start_ok(&app, json!({"body": "fourth visit", "identity": u1})).await;
        let (_, t3) = app.get(&format!("/api/v1/tickets/{third}")).await;
        let (_, t4) = app.get(&format!("/api/v1/tickets/{fourth}")).await;
        assert_eq!(t3["customer"]["id"], t1["customer"]["id"]);
        assert_eq!(t4["customer"]["id"], t1["customer"]["id"]);
    }

    async fn no_agent_online_is_said_and_the_chat_goes_on_by_email(app) {
        without_bot(&app).await;
        let (s, v) = start(&app.base, json!({"body": "anyone there?"})).await;
        assert_eq!(s, 201);
        assert_eq!(v["agents_online"], false);
        assert!(v["expected_reply"].as_str().unwrap().contains("request"), "{v}");
        let ticket = v["conversation_id"].as_i64().unwrap();
        let token = v["token"].as_str().unwrap().to_owned();

        let (mut visitor, ready) = Visitor::connect(&app.base, &token).await;
        assert_eq!(ready["agents_online"], false);
        // Without an address there is nowhere to send a transcript.
        visitor.send(json!({"type": "transcript"})).await;
        let f = visitor.next().await;
        assert_eq!((f["code"].as_str(), f["field"].as_str()), (Some("invalid"), Some("email")), "{f}");
        // A second tab, open before the switch, goes on working after it.
        let (mut tab, _) = Visitor::connect(&app.base, &token).await;
        visitor.send(json!({"type": "continue_by_email", "email": "lena@example.org"})).await;
        let f = visitor.next_of("by_email").await;
        assert_eq!(f["email"], "lena@example.org");
        let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert_eq!(t["channel"], "email");
        assert_eq!(t["customer"]["email"], "lena@example.org");
        // The visitor still reads their conversation, moved to the real customer.
        visitor.send(json!({"type": "resume", "after": 0})).await;
        assert_eq!(visitor.next_of("message").await["body"], "anyone there?");
        // An agent's reply now goes out by email (queued for the outbox) and still
        // reaches the open socket.
        let (s, m) = app.post(&format!("/api/v1/tickets/{ticket}/messages"), json!({"body": "We are back tomorrow."})).await;
        assert_eq!(s, 201);
        assert_eq!(m["delivery"], "queued");
        let f = visitor.next_of("message").await;
        assert_eq!(f["body"], "We are back tomorrow.");
        assert_eq!(tab.next_of("message").await["body"], "We are back tomorrow.");
        tab.say("tab-1", "from the other tab").await;

        // The transcript goes through the jobs queue (a mailbox to send from exists).
        let (s, mb) = app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Support"})).await;
        assert_eq!(s, 201, "{mb}");
        visitor.send(json!({"type": "transcript"})).await;
        let f = visitor.next_of("transcript").await;
        assert_eq!(f["queued"], true);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.notify' AND payload LIKE '%chat_transcript%'").await, 1);
        // The transcript holds the public conversation, never a note.
        reply(&app, ticket, "Internal: refund them", true).await;
        let notice = rapport_store::notify::Notice::ChatTranscript { ticket_id: ticket, to: "lena@example.org".into() };
        let sealer = app.sealer.clone();
        let text = app
            .db
            .read(op!(c => {
                let r = rapport_mail::notify::render(c, &notice, "https://help.example.com", &sealer).await.unwrap();
                Ok(String::from_utf8_lossy(&r.message.formatted()).into_owned())
            }))
            .await
            .unwrap();
        assert!(text.contains("To: lena@example.org"), "{text}");
        assert!(text.contains("anyone there?") && text.contains("We are back tomorrow."), "{text}");
        assert!(text.contains("from the other tab"), "{text}");
        assert!(!text.contains("refund"), "{text}");

        // With an agent online and at work, the start says so.
        set_chat_status(&app, &app.agent, "online").await;
        let (agent, now) = (app.agent.id, SystemClock.now());
        app.db.write(op!(c => rapport_store::presence::touch(c, ticket, agent, false, now).await)).await.unwrap();
        let (_, v) = start(&app.base, json!({"body": "hello again"})).await;
        assert_eq!(v["agents_online"], true);
        assert!(v["expected_reply"].is_null());
    }
}

/// The server is killed with SIGKILL right after acknowledging a message; after a restart
/// the message is there, and resending it stores nothing new.
async fn an_acknowledged_message_survives_kill_9(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let admin = crate::durability::setup_with_cli(&scratch).await;
    let mut proc = Process::start(&scratch).await;
    // The transport alone: the bot off (its messages are `chat_bot`'s).
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/chat/settings", proc.base))
        .bearer_auth(&admin)
        .json(&json!({"bot_enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = start(&proc.base, json!({"body": "before the crash"})).await;
    assert_eq!(s, 201, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let ticket = v["conversation_id"].as_i64().unwrap();
    let (mut visitor, _) = Visitor::connect(&proc.base, &token).await;
    let ack = visitor.say("crash-1", "acknowledged, then killed").await;
    proc.signal("KILL");
    let status = proc.child.wait().await.unwrap();
    assert!(!status.success(), "killed, not exited");
    drop(visitor);

    let db = crate::durability::reopen(&scratch).await;
    let bodies = messages_on(&db, ticket).await;
    assert_eq!(bodies, ["before the crash", "acknowledged, then killed"]);
    drop(db);
    let again = Process::start(&scratch).await;
    let (mut visitor, _) = Visitor::connect(&again.base, &token).await;
    let resent = visitor.say("crash-1", "acknowledged, then killed").await;
    assert_eq!(
        resent["id"], ack["id"],
        "the resend after the restart doubles nothing"
    );
}

/// Two `rapport serve` nodes on one PostgreSQL database: the visitor is connected to node
/// A, an agent replies through node B's API, and the visitor hears it live.
async fn two_nodes_share_chats(_: Backend) {
    let scratch = Scratch::new(Backend::Postgres).await;
    let api_token = crate::durability::setup_with_cli(&scratch).await;
    let a = Process::start(&scratch).await;
    let b = Process::start(&scratch).await;
    assert_ne!(a.base, b.base);
    let (s, v) = start(&a.base, json!({"body": "hello from node A"})).await;
    assert_eq!(s, 201, "{v}");
    let token = v["token"].as_str().unwrap();
    let ticket = v["conversation_id"].as_i64().unwrap();
    let (mut visitor, _) = Visitor::connect(&a.base, token).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/tickets/{ticket}/messages", b.base))
        .bearer_auth(&api_token)
        .json(&json!({"body": "answered on node B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let f = visitor.next_of("message").await;
    assert_eq!(f["body"], "answered on node B");
    assert_eq!(f["author"], "agent");
    // And the visitor's message, sent on A, is in the ticket B's API reads.
    visitor.say("n-1", "thanks!").await;
    let thread: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets/{ticket}/messages", b.base))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(thread.to_string().contains("thanks!"), "{thread}");
    let _ = free_port;
}

crate::on_both!(an_acknowledged_message_survives_kill_9);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_chats_postgres() {
    two_nodes_share_chats(Backend::Postgres).await;
}
