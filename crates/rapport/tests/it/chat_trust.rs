//! What a stranger at the chat widget must not be able to do (issue 11's attack review):
//! turn transcripts into a mail relay or starve the help desk's automatic mail, re-file a
//! conversation under anyone by "continue by email", read another ticket merged into their
//! chat, flood the assignee's inbox line by line, fill the disk with files, stick the read
//! mark, or keep the bot talking after a person stepped in.

use rapport_domain::{Clock, SystemClock};
use rapport_store::op;
use serde_json::json;

use crate::both_backends;
use crate::chat::{Visitor, reply, start_ok, without_bot};
use crate::chat_visitor::{PNG, upload};
use crate::harness::{assert_error, count};

both_backends! {
    async fn transcripts_are_no_mail_relay(app) {
        without_bot(&app).await;
        let (s, mb) = app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Support"})).await;
        assert_eq!(s, 201, "{mb}");
        let (_, token) = start_ok(&app, json!({"body": "spam me", "email": "first@example.org"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        // Three an hour per conversation, whatever the addresses…
        for n in 1..=3 {
            v.send(json!({"type": "transcript", "email": format!("target{n}@example.net")})).await;
            assert_eq!(v.next_of("transcript").await["queued"], true);
        }
        v.send(json!({"type": "transcript", "email": "target4@example.net"})).await;
        let f = v.next_of("error").await;
        assert_eq!(f["code"], "rate_limited", "{f}");
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%chat_transcript%'").await, 3);

        // …and transcripts together take at most a quarter of the hourly cap on automatic
        // mail (200 by default), so acknowledgements and sign-in links always have room.
        let now = SystemClock.now();
        app.db
            .write(op!(c => {
                for n in 0..47 {
                    rapport_store::testing::execute_in(
                        c,
                        "INSERT INTO auto_mail_log (address, kind, created_at) VALUES ($1, 'transcript', $2)",
                        &[format!("filler{n}@example.net").into(), now.into()],
                    )
                    .await?;
                }
                Ok(())
            }))
            .await
            .unwrap();
        let (_, token) = start_ok(&app, json!({"body": "another", "email": "second@example.org"})).await;
        let (mut w, _) = Visitor::connect(&app.base, &token).await;
        w.send(json!({"type": "transcript"})).await;
        assert_eq!(w.next_of("transcript").await["queued"], false, "50 of 200 used");
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%chat_transcript%'").await, 3);
    }

    async fn continue_by_email_moves_only_an_anonymous_visitor_once_and_only_while_open(app) {
        without_bot(&app).await;
        let (ticket, token) = start_ok(&app, json!({"body": "hello", "email": "ada@example.org"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        // A visitor who gave an address keeps their customer: the typed one re-files nothing.
        v.send(json!({"type": "continue_by_email", "email": "victim@example.net"})).await;
        v.next_of("by_email").await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert_eq!(t["customer"]["email"], "ada@example.org", "{t}");
        assert_eq!(t["channel"], "email");
        // Once: a second switch changes nothing and creates no customer.
        let customers = count(&app.db, "SELECT COUNT(*) FROM customers").await;
        v.send(json!({"type": "continue_by_email", "email": "other@example.net"})).await;
        v.next_of("by_email").await;
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM customers").await, customers);

        // An anonymous visitor moves to the address's customer; on a closed chat nothing moves.
        let (ticket, token) = start_ok(&app, json!({"body": "anyone?"})).await;
        let (s, _) = app.patch(&format!("/api/v1/tickets/{ticket}"), json!({"status": "closed"})).await;
        assert_eq!(s, 200);
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "continue_by_email", "email": "late@example.net"})).await;
        assert_eq!(v.next_of("error").await["code"], "closed");
        v.send(json!({"type": "profile", "email": "late@example.net"})).await;
        assert_eq!(v.next_of("error").await["code"], "closed");
        let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
        assert!(t["customer"]["email"].as_str().unwrap().ends_with("@chat.invalid"), "{t}");
        assert_eq!(t["channel"], "chat");
    }

    async fn nothing_is_merged_into_a_chat_its_visitor_could_read(app) {
        without_bot(&app).await;
        // Someone types the victim's address: the chat is filed under the victim…
        let victim = app.ticket("My refund", "Order NW-1 refund details", "victim@example.org").await;
        let victim_id = victim["id"].as_i64().unwrap();
        reply(&app, victim_id, "Your refund of 80 EUR is on its way", false).await;
        let (chat, token) = start_ok(&app, json!({"body": "it's me, any news?", "email": "victim@example.org"})).await;
        // …but the victim's ticket can never be merged into it.
        let (s, e) = app.post(&format!("/api/v1/tickets/{victim_id}/merge"), json!({"into": chat})).await;
        assert_error(s, &e, 422, Some("into"));
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "resume", "after": 0})).await;
        v.send(json!({"type": "ping"})).await;
        loop {
            let f = v.next().await;
            assert!(!f.to_string().contains("refund of 80"), "{f}");
            if f["type"] == "pong" {
                break;
            }
        }
        // The other way round works: the chat joins the other ticket.
        let (s, m) = app.post(&format!("/api/v1/tickets/{chat}/merge"), json!({"into": victim_id})).await;
        assert_eq!(s, 200, "{m}");
    }

    async fn chat_lines_do_not_mail_the_assignee_one_by_one(app) {
        without_bot(&app).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let (ticket, token) = start_ok(&app, json!({"body": "hi"})).await;
        let (s, _) = app.patch(&format!("/api/v1/tickets/{ticket}"), json!({"assignee_id": app.agent_b.id})).await;
        assert_eq!(s, 200);
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        for n in 0..3 {
            v.say(&format!("line-{n}"), &format!("line {n}")).await;
        }
        crate::harness::settle(&app.db).await;
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.notify' AND payload LIKE '%\"assigned\"%'").await, 1, "the subscriber ran");
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%customer_replied%'").await, 0);
    }

    async fn a_conversation_holds_a_bounded_amount_of_files(app) {
        without_bot(&app).await;
        let (_, token) = start_ok(&app, json!({"body": "photos"})).await;
        let big = |n: usize| {
            let mut d = PNG.to_vec();
            d.resize(n, 7);
            d
        };
        for n in 0..5 {
            let (s, v) = upload(&app, Some(&token), &format!("f-{n}"), "p.png", big(5_000_000)).await;
            assert_eq!(s, 201, "{v}");
        }
        let (s, e) = upload(&app, Some(&token), "f-5", "p.png", big(1_300_000)).await;
        assert_error(s, &e, 422, Some("file"));
        let (s, v) = upload(&app, Some(&token), "f-6", "p.png", big(200)).await;
        assert_eq!(s, 201, "a small one still fits: {v}");
        // A resend of a stored file is answered as before, over the quota or not.
        let (s, _) = upload(&app, Some(&token), "f-0", "p.png", big(5_000_000)).await;
        assert_eq!(s, 201);
        // A client id used for a text message is a conflict, not a server failure.
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.say("text-1", "words").await;
        let (s, e) = upload(&app, Some(&token), "text-1", "p.png", big(200)).await;
        assert_error(s, &e, 409, None);
    }

    async fn the_read_mark_only_moves_to_a_real_message(app) {
        without_bot(&app).await;
        let (ticket, token) = start_ok(&app, json!({"body": "hi"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "read", "up_to": i64::MAX})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(count(&app.db, "SELECT COALESCE(MAX(visitor_read_up_to), 0) FROM chat_conversations").await, 0);
        let m = reply(&app, ticket, "Hello there", false).await;
        v.send(json!({"type": "read", "up_to": m})).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(count(&app.db, "SELECT COALESCE(MAX(visitor_read_up_to), 0) FROM chat_conversations").await, m);
    }

    async fn the_bot_keeps_out_once_a_person_answered(app) {
        crate::bot::demo(&app).await;
        let (ticket, token) = start_ok(&app, json!({"body": "How do I reset my password?"})).await;
        let bots = || count(&app.db, "SELECT COUNT(*) FROM messages WHERE author_kind = 'bot'");
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(bots().await, 1, "the bot answered the first message");
        reply(&app, ticket, "Hi, I'm Sam from the team — let me look.", false).await;
        v.say("after-agent", "How do I change my email address?").await;
        v.send(json!({"type": "ping"})).await;
        v.next_of("pong").await;
        assert_eq!(bots().await, 1, "a person has the chat now");
    }
}
