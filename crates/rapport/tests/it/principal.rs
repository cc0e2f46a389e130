//! Who is acting, enforced in the store: a customer principal reads only their own tickets,
//! only the public messages on them and only those messages' files, whatever asks; and what
//! the store reads back (event kinds, author kinds, delivery states) is typed.

use rapport_domain::{
    AuthorKind, Body, Channel, Clock, EmailAddress, EventKind, Principal, Priority, Role, Subject,
    SystemClock, Viewer,
};
use rapport_store::messages::{self, Delivery, NewAttachment};
use rapport_store::tickets::{self, NewReply, NewTicket};
use rapport_store::{StoreError, events, op};

use crate::both_backends;
use crate::harness::TestApp;

fn file(name: &str) -> NewAttachment {
    NewAttachment {
        filename: name.into(),
        content_type: "text/plain".into(),
        data: format!("contents of {name}").into_bytes(),
        content_id: None,
    }
}

fn new_ticket(email: &str, attachment: &str) -> NewTicket {
    NewTicket {
        subject: Subject::parse("Where is my order?").unwrap(),
        body: Body::parse("It has not arrived.").unwrap(),
        customer_email: EmailAddress::parse(email).unwrap(),
        customer_name: None,
        channel: Channel::Email,
        priority: Priority::Normal,
        category: None,
        tags: Vec::new(),
        custom_fields: serde_json::Map::new(),
        team_id: None,
        assignee_id: None,
        attachments: vec![file(attachment)],
    }
}

/// Two customers' tickets; on the first an agent's public reply, an internal note with a
/// file and a note of Rapport's. Returns (ticket a, customer a, ticket b, customer b,
/// a's public file, the note's file, b's file).
async fn two_customers(app: &TestApp) -> (i64, i64, i64, i64, i64, i64, i64) {
    let agent = Viewer {
        user_id: app.admin.id,
        role: Role::Admin,
        team_ids: vec![],
    };
    let now = SystemClock.now();
    app.db
        .write(op!(c => {
            let a = tickets::create(c, None, new_ticket("alice@example.com", "receipt.txt"), now).await?;
            let b = tickets::create(c, None, new_ticket("bob@example.com", "bob.txt"), now).await?;
            let reply = |body: &str, internal: bool, attachments| NewReply {
                body: Body::parse(body).unwrap(),
                internal,
                attachments,
                status: None,
                deliver: false,
            };
            tickets::reply(c, &agent, a.id, reply("On its way.", false, vec![]), now).await?;
            let note = tickets::reply(c, &agent, a.id, reply("Courier lost it, refund quietly.", true, vec![file("courier.txt")]), now).await?;
            tickets::system_note(c, a.id, &Body::parse("The acknowledgement bounced.").unwrap(), now).await?;
            let a_file = messages::for_ticket(c, &Principal::System, a.id).await?[0].attachments[0].id;
            let b_file = messages::for_ticket(c, &Principal::System, b.id).await?[0].attachments[0].id;
            Ok((a.id, a.customer.id, b.id, b.customer.id, a_file, note.attachments[0].id, b_file))
        }))
        .await
        .unwrap()
}

both_backends! {
    async fn a_customer_reads_only_their_own_tickets(app) {
        let (a, alice, b, bob, ..) = two_customers(&app).await;
        let got = app.db.read(op!(c => {
            let who = Principal::Customer(alice);
            let own = tickets::get(c, &who, a).await?;
            let other = tickets::get(c, &who, b).await;
            let other_thread = messages::for_ticket(c, &who, b).await;
            let own_list = tickets::for_customer(c, &who, alice).await?;
            let bobs_list = tickets::for_customer(c, &who, bob).await?;
            Ok((own.id, other, other_thread, own_list.len(), bobs_list.len()))
        })).await.unwrap();
        assert_eq!(got.0, a);
        assert!(matches!(got.1, Err(StoreError::NotFound("ticket"))), "{:?}", got.1);
        assert!(matches!(got.2, Err(StoreError::NotFound("ticket"))), "{:?}", got.2);
        assert_eq!(got.3, 1, "alice's own requests");
        assert_eq!(got.4, 0, "alice never lists bob's requests");
        // An agent still reads both, and bob's list.
        let agent = Principal::Agent(Viewer { user_id: app.admin.id, role: Role::Admin, team_ids: vec![] });
        let n = app.db.read(op!(c => {
            tickets::get(c, &agent, b).await?;
            Ok(tickets::for_customer(c, &agent, bob).await?.len())
        })).await.unwrap();
        assert_eq!(n, 1);
    }

    async fn a_customer_never_sees_notes_in_the_thread(app) {
        let (a, alice, ..) = two_customers(&app).await;
        let (theirs, all) = app.db.read(op!(c => {
            let theirs = messages::for_ticket(c, &Principal::Customer(alice), a).await?;
            let all = messages::for_ticket(c, &Principal::System, a).await?;
            Ok((theirs, all))
        })).await.unwrap();
        assert_eq!(all.len(), 4, "message, reply, note, system note");
        let kinds: Vec<(AuthorKind, bool)> = theirs.iter().map(|m| (m.author.kind, m.internal)).collect();
        assert_eq!(kinds, vec![(AuthorKind::Customer, false), (AuthorKind::Agent, false)]);
        assert!(theirs.iter().all(|m| !m.body.contains("refund quietly") && !m.body.contains("bounced")));
        assert!(all.iter().any(|m| m.author.kind == AuthorKind::System && m.internal));
    }

    async fn a_customer_downloads_only_public_files_of_their_own_tickets(app) {
        let (_, alice, _, _, a_file, note_file, b_file) = two_customers(&app).await;
        let who = Principal::Customer(alice);
        let (own, note, other) = app.db.read(op!(c => {
            let own = messages::visible_attachment(c, &who, a_file).await?;
            let note = messages::visible_attachment(c, &who, note_file).await;
            let other = messages::visible_attachment(c, &who, b_file).await;
            Ok((own, note, other))
        })).await.unwrap();
        assert_eq!(own.data, b"contents of receipt.txt");
        assert!(matches!(note, Err(StoreError::NotFound("attachment"))), "{:?}", note.map(|f| f.meta));
        assert!(matches!(other, Err(StoreError::NotFound("attachment"))), "{:?}", other.map(|f| f.meta));
        // The agent downloads the note's file, as before.
        let (status, _) = app.get(&format!("/api/v1/attachments/{note_file}")).await;
        assert_eq!(status, 200);
    }

    async fn a_customer_replies_only_on_their_own_tickets(app) {
        let (a, alice, b, ..) = two_customers(&app).await;
        let now = SystemClock.now();
        let body = Body::parse("Any news?").unwrap();
        let agent = Principal::Agent(Viewer { user_id: app.admin.id, role: Role::Admin, team_ids: vec![] });
        let (own, other, by_agent, b_count) = app.db.write(op!(c => {
            let who = Principal::Customer(alice);
            let own = tickets::customer_reply(c, &who, a, &body, Channel::Web, vec![], now).await?;
            let other = tickets::customer_reply(c, &who, b, &body, Channel::Web, vec![], now).await;
            let by_agent = tickets::customer_reply(c, &agent, a, &body, Channel::Web, vec![], now).await;
            let b_count = messages::for_ticket(c, &Principal::System, b).await?.len();
            Ok((own, other, by_agent.map(|m| m.id), b_count))
        })).await.unwrap();
        assert_eq!(own.author.customer_id, Some(alice));
        assert_eq!(own.author.kind, AuthorKind::Customer);
        assert!(matches!(other, Err(StoreError::NotFound("ticket"))), "{:?}", other.map(|m| m.id));
        assert!(matches!(by_agent, Err(StoreError::Forbidden(_))), "{by_agent:?}");
        assert_eq!(b_count, 1, "nothing was added to bob's ticket");
    }

    async fn kinds_and_delivery_states_read_back_typed(app) {
        let (a, ..) = two_customers(&app).await;
        let reply_id = app.db.write(op!(c => {
            let reply = messages::for_ticket(c, &Principal::System, a).await?[1].id;
            messages::set_delivery(c, reply, Delivery::Retrying, Some("421 try later")).await?;
            Ok(reply)
        })).await.unwrap();
        let (evs, msgs) = app.db.read(op!(c => {
            Ok((events::for_ticket(c, a).await?, messages::for_ticket(c, &Principal::System, a).await?))
        })).await.unwrap();
        let kinds: Vec<EventKind> = evs.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![EventKind::TicketCreated, EventKind::ReplyAdded, EventKind::NoteAdded, EventKind::NoteAdded]);
        let reply = msgs.iter().find(|m| m.id == reply_id).unwrap();
        assert_eq!(reply.delivery, Some(Delivery::Retrying));
        // The API spells them as before.
        let (_, json) = app.get(&format!("/api/v1/tickets/{a}/messages")).await;
        assert_eq!(json[1]["delivery"], "retrying");
        assert_eq!(json[1]["author"]["kind"], "agent");
        assert_eq!(json[0]["author"]["kind"], "customer");
        assert_eq!(json[3]["author"]["kind"], "system");
        assert_eq!(json[0]["delivery"], serde_json::Value::Null);
        let (_, json) = app.get(&format!("/api/v1/tickets/{a}/events")).await;
        assert_eq!(json[0]["kind"], "ticket_created");
        assert_eq!(json[2]["kind"], "note_added");
    }

    async fn an_unknown_event_kind_is_a_store_error(app) {
        let (a, ..) = two_customers(&app).await;
        let now = SystemClock.now();
        app.db.write(op!(c => {
            rapport_store::testing::execute_in(c,
                "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at)
                 VALUES ($1, NULL, NULL, 'ticket_teleported', '{}', $2)",
                &[a.into(), now.into()],
            ).await?;
            Ok(())
        })).await.unwrap();
        let got = app.db.read(op!(c => events::for_ticket(c, a).await)).await;
        match got {
            Err(StoreError::Db(m)) => assert!(m.contains("ticket_teleported"), "{m}"),
            other => panic!("expected a store error, got {other:?}"),
        }
    }
}
