//! Live chat's visitor features beyond talking: a name and an address given later, files
//! both ways (only ever to their own conversation), a verified site user's earlier
//! conversations, the admin's typing preview, macros answering a chat, and new chats
//! announced on the agents' live stream.

use base64::Engine;
use futures::StreamExt;
use rapport_domain::{Clock, SystemClock};
use rapport_store::op;
use serde_json::{Value, json};

use crate::both_backends;
use crate::chat::{Visitor, reply, start_ok};
use crate::harness::{TestApp, assert_error, count};

/// A tiny PNG header (what the server looks at) and some bytes.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR fake image bytes";

/// Sends a file with a visitor's token (`None`: without one).
pub(crate) async fn upload(
    app: &TestApp,
    token: Option<&str>,
    client_id: &str,
    name: &str,
    data: Vec<u8>,
) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(data)
        .file_name(name.to_owned())
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("client_id", client_id.to_owned())
        .part("file", part);
    let mut r = reqwest::Client::new()
        .post(app.url("/api/v1/chat/files"))
        .multipart(form);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Downloads a conversation's file with a visitor's token.
async fn download(app: &TestApp, token: Option<&str>, id: i64) -> reqwest::Response {
    let mut r = reqwest::Client::new().get(app.url(&format!("/api/v1/chat/files/{id}")));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

fn sign(secret: &str, id: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn history(app: &TestApp, id: &str, signature: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/chat/history"))
        .json(&json!({"identity": {"customer_id": id, "signature": signature}}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A signed-in agent's browser: its session cookie and CSRF token.
async fn agent_browser(app: &TestApp) -> (reqwest::Client, String, String) {
    crate::web::set_password(app, "admin@example.com", "a long enough password").await;
    let http = crate::web::client();
    let (session, csrf) =
        crate::web::sign_in(app, &http, "admin@example.com", "a long enough password").await;
    (http, session, csrf)
}

/// The agent's presence ping on a ticket page, typing or not.
async fn presence(
    app: &TestApp,
    browser: &(reqwest::Client, String, String),
    ticket: i64,
) -> Value {
    let (http, session, csrf) = browser;
    let r = http
        .post(app.url(&format!("/tickets/{ticket}/presence")))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={session}"),
        )
        .form(&[("csrf", csrf.as_str()), ("typing", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

both_backends! {
    async fn a_visitor_gives_a_name_and_an_address_after_the_first_message(app) {
        crate::chat::without_bot(&app).await; // message by message (the bot in chat is `chat_bot`'s)
        let (ticket, token) = start_ok(&app, json!({"body": "Where is my parcel?"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        // Bad input gets an error frame naming the field; nothing changes.
        v.send(json!({"type": "profile", "email": "not an address"})).await;
        let f = v.next_of("error").await;
        assert_eq!((f["code"].as_str(), f["field"].as_str()), (Some("invalid"), Some("email")), "{f}");
        v.send(json!({"type": "profile", "name": "Ada\u{0}"})).await;
        assert_eq!(v.next_of("error").await["field"], "name");
        v.send(json!({"type": "profile"})).await;
        assert_eq!(v.next_of("error").await["field"], "name");
        let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert!(t["customer"]["email"].as_str().unwrap().ends_with("@chat.invalid"));

        // The address attaches the conversation to that customer, as an email would.
        v.send(json!({"type": "profile", "name": "Ada Lovelace", "email": "ada@example.org"})).await;
        let f = v.next_of("profile").await;
        assert_eq!((f["name"].as_str(), f["email"].as_str()), (Some("Ada Lovelace"), Some("ada@example.org")));
        let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert_eq!(t["customer"]["email"], "ada@example.org");
        assert_eq!(t["customer"]["name"], "Ada Lovelace");
        assert_eq!(t["channel"], "chat", "still a chat");
        // The visitor still reads and writes their conversation.
        v.say("p-1", "It was due Monday.").await;
        v.send(json!({"type": "resume", "after": 0})).await;
        // The new message's own live push may come first; the thread follows.
        let mut bodies = Vec::new();
        while bodies.len() < 3 && !bodies.contains(&"Where is my parcel?".to_owned()) {
            bodies.push(v.next_of("message").await["body"].as_str().unwrap().to_owned());
        }
        assert!(bodies.contains(&"Where is my parcel?".to_owned()), "{bodies:?}");
        // A transcript now goes to the given address without asking for it again.
        v.send(json!({"type": "transcript"})).await;
        assert_eq!(v.next_of("transcript").await["type"], "transcript");

        // A stranger typing someone's address never renames them.
        let (other, t2) = start_ok(&app, json!({"body": "hello"})).await;
        let (mut w, _) = Visitor::connect(&app.base, &t2).await;
        w.send(json!({"type": "profile", "name": "Impostor", "email": "ada@example.org"})).await;
        w.next_of("profile").await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{other}")).await;
        assert_eq!(t["customer"]["name"], "Ada Lovelace");
        // And the name given with the start is kept like any other.
        let (third, _) = start_ok(&app, json!({"body": "hi", "name": "Bo", "email": "bo@example.org"})).await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{third}")).await;
        assert_eq!((t["customer"]["name"].as_str(), t["customer"]["email"].as_str()), (Some("Bo"), Some("bo@example.org")));
    }

    async fn files_travel_both_ways_and_only_within_their_conversation(app) {
        crate::chat::without_bot(&app).await; // message by message (the bot in chat is `chat_bot`'s)
        let (a, token_a) = start_ok(&app, json!({"body": "My kettle broke, photo coming"})).await;
        let (_, token_b) = start_ok(&app, json!({"body": "Another visitor"})).await;
        let (mut va, _) = Visitor::connect(&app.base, &token_a).await;

        // The visitor's file is stored on a message of theirs; the bytes decide the type.
        let (s, sent) = upload(&app, Some(&token_a), "f-1", "../kettle photo.jpeg", PNG.to_vec()).await;
        assert_eq!(s, 201, "{sent}");
        assert_eq!(sent["attachment"]["content_type"], "image/png");
        assert_eq!(sent["attachment"]["filename"], "kettle photo.jpeg.png");
        let file_id = sent["attachment"]["id"].as_i64().unwrap();
        let (s, again) = upload(&app, Some(&token_a), "f-1", "kettle.png", PNG.to_vec()).await;
        assert_eq!((s, &again["id"]), (201, &sent["id"]), "a resend stores nothing new");
        let f = va.next_of("message").await;
        assert_eq!(f["id"], sent["id"]);
        assert_eq!(f["attachments"][0]["id"], file_id);
        // Agents see it on the ticket.
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{a}/messages")).await;
        assert!(msgs.to_string().contains("kettle photo.jpeg.png"), "{msgs}");

        // Refused: a page or program whatever its name, an empty file, no token, a big one.
        for (name, data) in [("photo.png", b"MZ\x90\x00program".to_vec()), ("a.png", Vec::new())] {
            let (s, e) = upload(&app, Some(&token_a), "f-2", name, data).await;
            assert_error(s, &e, 422, Some("file"));
        }
        let (s, e) = upload(&app, None, "f-3", "a.png", PNG.to_vec()).await;
        assert_error(s, &e, 401, None);
        let (s, e) = upload(&app, Some("rchat_nope"), "f-3", "a.png", PNG.to_vec()).await;
        assert_error(s, &e, 401, None);
        let (s, e) = upload(&app, Some(&token_a), "bad id!", "a.png", PNG.to_vec()).await;
        assert_error(s, &e, 422, Some("client_id"));
        let mut big = PNG.to_vec();
        big.resize(rapport_domain::chat_file::MAX_FILE_BYTES + 1, 0);
        let (s, e) = upload(&app, Some(&token_a), "f-4", "big.png", big).await;
        assert_error(s, &e, 422, Some("file"));
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM attachments").await, 1, "only the first file was stored");

        // Downloads: the conversation's token only, always as a download.
        let r = download(&app, Some(&token_a), file_id).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(&r.bytes().await.unwrap()[..], PNG);
        assert_eq!(download(&app, Some(&token_b), file_id).await.status(), 404, "another visitor's token");
        assert_eq!(download(&app, None, file_id).await.status(), 401);

        // An agent's attachment on a public reply reaches the visitor, a note's never does.
        let att = |name: &str| json!([{"filename": name, "content_type": "application/pdf",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 label")}]);
        let (s, note) = app.post(&format!("/api/v1/tickets/{a}/messages"), json!({"body": "internal label", "internal": true, "attachments": att("internal.pdf")})).await;
        assert_eq!(s, 201, "{note}");
        let (s, m) = app.post(&format!("/api/v1/tickets/{a}/messages"), json!({"body": "Here is your return label.", "attachments": att("label.pdf")})).await;
        assert_eq!(s, 201, "{m}");
        let f = va.next_of("message").await;
        assert_eq!(f["body"], "Here is your return label.", "the note is never sent: {f}");
        assert_eq!(f["attachments"][0]["filename"], "label.pdf");
        let label = f["attachments"][0]["id"].as_i64().unwrap();
        let r = download(&app, Some(&token_a), label).await;
        assert_eq!(r.status(), 200);
        assert_eq!(&r.bytes().await.unwrap()[..], b"%PDF-1.4 label");
        assert_eq!(download(&app, Some(&token_b), label).await.status(), 404);
        let internal = note["attachments"][0]["id"].as_i64().unwrap();
        assert_eq!(download(&app, Some(&token_a), internal).await.status(), 404, "a note's file");
    }

    async fn a_verified_user_sees_their_earlier_conversations_and_no_one_elses(app) {
        // Message by message, as people wrote them (the bot in chat is `chat_bot`'s).
        crate::chat::without_bot(&app).await;
        let secret = "a site secret that is long enough to use";
        let (s, _) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"identity_secret": secret}))).await;
        assert_eq!(s, 200);
        let id = |u: &str| json!({"customer_id": u, "signature": sign(secret, u)});
        let (first, _) = start_ok(&app, json!({"body": "first visit", "identity": id("u-1")})).await;
        reply(&app, first, "Answered the first time", false).await;
        reply(&app, first, "Internal: VIP", true).await;
        let (second, _) = start_ok(&app, json!({"body": "second visit", "identity": id("u-1")})).await;
        let (_, _) = start_ok(&app, json!({"body": "someone else entirely", "identity": id("u-2")})).await;

        let (s, h) = history(&app, "u-1", &sign(secret, "u-1")).await;
        assert_eq!(s, 200, "{h}");
        let convs = h["conversations"].as_array().unwrap();
        let ids: Vec<i64> = convs.iter().map(|c| c["conversation_id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [second, first], "newest first");
        let bodies: Vec<&str> = convs[1]["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, ["first visit", "Answered the first time"], "public messages only");
        assert!(!h.to_string().contains("someone else"), "{h}");

        // Only with a valid signature; a user never seen has none.
        let (s, e) = history(&app, "u-1", &sign("another secret that is long enough!!", "u-1")).await;
        assert_error(s, &e, 422, Some("identity.signature"));
        let (s, e) = history(&app, "u-2", &sign(secret, "u-1")).await;
        assert_error(s, &e, 422, Some("identity.signature"));
        let (s, e) = history(&app, "", "00").await;
        assert_error(s, &e, 422, Some("identity.customer_id"));
        let (s, h) = history(&app, "u-3", &sign(secret, "u-3")).await;
        assert_eq!((s, h), (200, json!({"conversations": []})));
        let (s, h) = history(&app, "u-2", &sign(secret, "u-2")).await;
        assert_eq!(s, 200);
        assert_eq!(h["conversations"].as_array().unwrap().len(), 1);

        // Someone chatting as the victim's address (unverified) and a verified user of the
        // site typing that same address: the verified user never reads the victim's chat.
        let (victim, _) = start_ok(&app, json!({"body": "victim's private question", "email": "victim@example.org"})).await;
        let (mine, _) = start_ok(&app, json!({"body": "mallory here", "email": "victim@example.org", "identity": id("u-9")})).await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{mine}")).await;
        let (_, tv) = app.get(&format!("/api/v1/tickets/{victim}")).await;
        assert_eq!(t["customer"]["id"], tv["customer"]["id"], "filed under that address, as an email would be");
        let (_, h) = history(&app, "u-9", &sign(secret, "u-9")).await;
        let ids: Vec<i64> = h["conversations"].as_array().unwrap().iter().map(|c| c["conversation_id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [mine], "{h}");
        // …and the site's user id is not tied to the victim for good: without the address,
        // their next chat is theirs alone.
        let (later, _) = start_ok(&app, json!({"body": "mallory again", "identity": id("u-9")})).await;
        let (_, tl) = app.get(&format!("/api/v1/tickets/{later}")).await;
        assert_ne!(tl["customer"]["id"], tv["customer"]["id"], "a typed address links no identity");
        // Nor is it tied to an address nobody has used yet (anyone could claim one).
        let (claim, _) = start_ok(&app, json!({"body": "claiming", "email": "ceo@bigcorp.example", "identity": id("u-8")})).await;
        let (later, _) = start_ok(&app, json!({"body": "later, no address", "identity": id("u-8")})).await;
        let (_, tc) = app.get(&format!("/api/v1/tickets/{claim}")).await;
        let (_, tl) = app.get(&format!("/api/v1/tickets/{later}")).await;
        assert_eq!(tc["customer"]["email"], "ceo@bigcorp.example");
        assert_ne!(tl["customer"]["id"], tc["customer"]["id"], "an unused typed address links no identity either");

        // A verified user who later gives an address keeps their history.
        let (third, token) = start_ok(&app, json!({"body": "third visit", "identity": id("u-1")})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "profile", "email": "u1@example.org"})).await;
        v.next_of("profile").await;
        let (_, h) = history(&app, "u-1", &sign(secret, "u-1")).await;
        let ids: Vec<i64> = h["conversations"].as_array().unwrap().iter().map(|c| c["conversation_id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [third, second, first], "{h}");
    }

    async fn the_typing_preview_is_off_by_default_and_shows_text_only_when_on(app) {
        crate::chat::without_bot(&app).await; // message by message (the bot in chat is `chat_bot`'s)
        let browser = agent_browser(&app).await;
        let (ticket, token) = start_ok(&app, json!({"body": "hello"})).await;
        let (mut v, ready) = Visitor::connect(&app.base, &token).await;
        assert_eq!(ready["typing_preview"], false);
        let (_, set) = app.get("/api/v1/chat/settings").await;
        assert_eq!(set["typing_preview"], false);
        // Off: text sent anyway is neither kept nor shown.
        v.send(json!({"type": "typing", "text": "my card number is"})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(presence(&app, &browser, ticket).await, json!([{"name": "The visitor", "typing": true}]));
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations WHERE visitor_draft IS NOT NULL").await, 0);

        // Only admins turn it on; the widget is told at its next `ready`.
        let (s, e) = app.call("PUT", "/api/v1/chat/settings", Some(&app.agent.token), Some(json!({"typing_preview": true}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"typing_preview": "yes"}))).await;
        assert_error(s, &e, 422, Some("typing_preview"));
        let (s, set) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"typing_preview": true}))).await;
        assert_eq!((s, &set["typing_preview"]), (200, &json!(true)));
        let (mut v, ready) = Visitor::connect(&app.base, &token).await;
        assert_eq!(ready["typing_preview"], true);
        v.send(json!({"type": "typing", "text": "My order is 4711 and"})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(presence(&app, &browser, ticket).await,
            json!([{"name": "The visitor", "typing": true, "draft": "My order is 4711 and"}]));
        // Sending it forgets the draft.
        v.say("d-1", "My order is 4711 and it is late").await;
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations WHERE visitor_draft IS NOT NULL").await, 0);
        // Turning it off forgets every draft at once.
        v.send(json!({"type": "typing", "text": "half a thought"})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations WHERE visitor_draft IS NOT NULL").await, 1);
        let (s, _) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"typing_preview": false}))).await;
        assert_eq!(s, 200);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM chat_conversations WHERE visitor_draft IS NOT NULL").await, 0);
        assert_eq!(presence(&app, &browser, ticket).await, json!([{"name": "The visitor", "typing": true}]));
    }

    async fn a_macro_applied_on_a_chat_reaches_the_visitor_live(app) {
        crate::chat::without_bot(&app).await; // message by message (the bot in chat is `chat_bot`'s)
        let now = SystemClock.now();
        let admin = app.admin.id;
        let m = app.db.write(op!(c => rapport_store::macros::create(c, admin, rapport_store::macros::NewMacro {
            name: "Opening hours".into(),
            body: "We are open 9 to 5, Monday to Friday.".into(),
            set_status: None,
            set_priority: None,
            add_tags: Vec::new(),
        }, now).await)).await.unwrap();
        let (ticket, token) = start_ok(&app, json!({"body": "When are you open?"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        let (http, session, csrf) = agent_browser(&app).await;
        let r = http
            .post(app.url(&format!("/tickets/{ticket}/macro")))
            .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
            .form(&[("csrf", csrf.as_str()), ("macro_id", &m.id.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        let f = loop {
            let f = v.next_of("message").await;
            if f["author"] == "agent" {
                break f;
            }
        };
        assert_eq!(f["body"], "We are open 9 to 5, Monday to Friday.");
        assert_eq!(f["name"], "Test Person");
    }

    async fn a_new_chat_is_announced_on_the_agents_live_stream(app) {
        crate::chat::without_bot(&app).await; // message by message (the bot in chat is `chat_bot`'s)
        let (http, session, _) = agent_browser(&app).await;
        let resp = http
            .get(app.url("/live"))
            .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.bytes_stream();
        // An email-like ticket is no chat: no `chat` event for it.
        let (s, _) = app.post("/api/v1/tickets", json!({"subject": "Not a chat", "body": "by the API", "customer": {"email": "c@example.org"}})).await;
        assert_eq!(s, 201);
        let (ticket, _) = start_ok(&app, json!({"body": "Need help with my order"})).await;
        let mut buf = String::new();
        let mut chats = Vec::new();
        while chats.is_empty() {
            let chunk = tokio::time::timeout(crate::chat::PATIENCE, body.next()).await.expect("an event in time").unwrap().unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if frame.lines().any(|l| l == "event: chat") {
                    let data = frame.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                    chats.push(serde_json::from_str::<Value>(data).unwrap());
                }
            }
        }
        assert_eq!(chats, [json!({"ticket_id": ticket, "subject": "Chat: Need help with my order"})]);

        // With the bot on, a new chat is the bot's: agents hear of it when it is handed over.
        let (s, v) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"bot_enabled": true}))).await;
        assert_eq!(s, 200, "{v}");
        let (botted, token) = start_ok(&app, json!({"body": "Where can I find my invoices?"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "handoff"})).await;
        let mut announced = Vec::new();
        let mut handed_over = false;
        while !handed_over || announced.is_empty() {
            let chunk = tokio::time::timeout(crate::chat::PATIENCE, body.next()).await.expect("an event in time").unwrap().unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if frame.lines().any(|l| l == "event: chat") {
                    let data = frame.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                    announced.push(serde_json::from_str::<Value>(data).unwrap());
                }
                if frame.lines().any(|l| l.contains("\"handed_over\"")) {
                    assert!(announced.is_empty(), "nothing announced before the handoff: {announced:?}");
                    handed_over = true;
                }
            }
        }
        assert_eq!(announced, [json!({"ticket_id": botted, "subject": "Chat: Where can I find my invoices?"})]);
    }
}
