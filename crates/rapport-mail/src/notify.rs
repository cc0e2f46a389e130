//! Automatic mail: the `mail.notify` job, and rendering its
//! [`Notice`](rapport_store::notify::Notice) into a message — the acknowledgement of a
//! new ticket (threaded under the customer's message, marked `Auto-Submitted:
//! auto-replied` so other robots stay quiet), agents' notifications and portal sign-in
//! links (`Auto-Submitted: auto-generated`). It goes out through the same relay
//! connection as replies. Automatic mail is best-effort: without a relay it is dropped,
//! and a permanent refusal is logged, not retried.

use std::sync::Arc;

use futures::future::BoxFuture;
use lettre::Message;
use rapport_domain::Clock;
use rapport_jobs::Handler;
use rapport_store::jobs::Job;
use rapport_store::mail::{self, TicketContext};
use rapport_store::notify::{self, Notice};
use rapport_store::op;
use rapport_store::people;
use rapport_store::secrets::Sealer;
use rapport_store::{Conn, Db, StoreError};

use crate::compose::{self, AutoSubmitted, Draft, NO_SENDER, domain_of};
use crate::transport::{SendError, Transport};

/// A rendered automatic mail, and the Message-ID to remember for threading (if any).
pub struct Rendered {
    /// The message.
    pub message: Message,
    /// A Message-ID a reply to this mail should thread by, with its ticket.
    pub thread: Option<(String, i64)>,
}

/// The sign-in page a portal link opens.
pub fn portal_link(public_url: &str, token: &str, next: Option<&str>) -> String {
    match next {
        Some(n) => {
            let n: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            format!("{public_url}/portal/signin/{token}?next={n}")
        }
        None => format!("{public_url}/portal/signin/{token}"),
    }
}

fn no_sender() -> String {
    NO_SENDER.to_owned()
}

/// An agent's notification about one of their tickets: `what` says what happened.
async fn agent_notice(
    c: &mut dyn Conn,
    user_id: i64,
    ticket_id: i64,
    public_url: &str,
    what: impl FnOnce(&TicketContext) -> (String, String),
) -> Result<Draft, String> {
    let t = mail::ticket_context(c, ticket_id)
        .await
        .map_err(|e| e.to_string())?;
    let agent = people::get_user(c, user_id)
        .await
        .map_err(|e| e.to_string())?;
    let (headline, sentence) = what(&t);
    Ok(Draft {
        from: t.from.clone().ok_or_else(no_sender)?,
        subject: format!("[#{}] {headline}: {}", t.number, t.subject),
        text: format!(
            "Hello {},\n\n{sentence}\n\nOpen it: {public_url}/tickets/{}\n",
            agent.name, t.ticket_id
        ),
        to: (agent.email, agent.name),
        auto: AutoSubmitted::Generated,
        id: compose::new_message_id(compose::id_domain(t.from.as_ref())),
        in_reply_to: None,
    })
}

/// Builds the message for a notice, reading what it needs in `c`; every one gets a new
/// random Message-ID.
pub async fn render(
    c: &mut dyn Conn,
    notice: &Notice,
    public_url: &str,
    sealer: &Sealer,
) -> Result<Rendered, String> {
    let db = |e: StoreError| e.to_string();
    let mut thread = None;
    let d = match notice {
        Notice::Ack {
            ticket_id,
            in_reply_to,
            expectation,
        } => {
            // Nothing the sender wrote goes back out: not their subject, not their
            // display name (an attacker's would be mail from our domain to anyone), and
            // it goes to the ticket's customer — the From address — alone.
            let t: TicketContext = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let (from_addr, from_name) = t.from.clone().ok_or_else(no_sender)?;
            let id = compose::new_message_id(domain_of(&from_addr));
            thread = Some((id.clone(), t.ticket_id));
            Draft {
                text: format!(
                    "Hello,\n\nThank you for writing to us. Your request has the number #{}.\n\n{expectation}\n\nTo add anything, simply reply to this email.\n\n{from_name}",
                    t.number
                ),
                from: (from_addr, from_name),
                to: (t.customer.0.clone(), String::new()),
                subject: format!("[#{}] We received your request", t.number),
                auto: AutoSubmitted::Replied,
                id,
                in_reply_to: in_reply_to.clone(),
            }
        }
        Notice::Assigned {
            user_id,
            ticket_id,
            by,
        } => {
            let by = people::get_user(c, *by).await.map_err(db)?.name;
            agent_notice(c, *user_id, *ticket_id, public_url, |t| {
                (
                    "Assigned to you".to_owned(),
                    format!(
                        "{by} assigned ticket #{} to you: \"{}\" from {}.",
                        t.number, t.subject, t.customer.0
                    ),
                )
            })
            .await?
        }
        Notice::Reminder {
            user_id,
            ticket_id,
            text,
            subject,
        } => {
            agent_notice(c, *user_id, *ticket_id, public_url, |t| {
                (
                    subject.clone().unwrap_or_else(|| "Reminder".to_owned()),
                    format!("Ticket #{} \"{}\": {text}", t.number, t.subject),
                )
            })
            .await?
        }
        Notice::CustomerReplied { user_id, ticket_id } => {
            agent_notice(c, *user_id, *ticket_id, public_url, |t| {
                (
                    "The customer replied".to_owned(),
                    format!(
                        "{} replied on ticket #{} \"{}\", which is assigned to you.",
                        t.customer.0, t.number, t.subject
                    ),
                )
            })
            .await?
        }
        Notice::PortalLink {
            customer_id,
            sealed_token,
            next,
        } => {
            let token = sealer.open(sealed_token)?;
            // The address alone: a name may have come from anyone's mail.
            let to = notify::customer_recipient(c, *customer_id)
                .await
                .map_err(db)?;
            let to = (to.0, String::new());
            let from = mail::sender_for(c, None)
                .await
                .map_err(db)?
                .ok_or_else(no_sender)?;
            let id = compose::new_message_id(domain_of(&from.0));
            Draft {
                text: format!(
                    "Hello,\n\nUse this link to see your requests with {}. It works once, for 30 minutes:\n\n{}\n\nIf you did not ask for it, ignore this email.\n",
                    from.1,
                    portal_link(public_url, &token, next.as_deref())
                ),
                from,
                to,
                subject: "Your sign-in link".to_owned(),
                auto: AutoSubmitted::Generated,
                id,
                in_reply_to: None,
            }
        }
        Notice::Survey { survey_id } => survey_mail(c, *survey_id, public_url, sealer)
            .await
            .map_err(db)?,
        Notice::ReturnStep { return_id, state } => return_mail(c, *return_id, state, public_url)
            .await
            .map_err(db)?,
        Notice::ChatTranscript { ticket_id, to } => {
            let t: TicketContext = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let from = match t.from.clone() {
                Some(f) => f,
                None => mail::sender_for(c, None)
                    .await
                    .map_err(db)?
                    .ok_or_else(no_sender)?,
            };
            let transcript = chat_transcript(c, *ticket_id).await.map_err(db)?;
            let id = compose::new_message_id(domain_of(&from.0));
            Draft {
                text: format!(
                    "Hello,\n\nHere is the transcript of your chat with {} (request #{}).\n\n{transcript}\n{}\n",
                    from.1, t.number, from.1
                ),
                from,
                to: (to.clone(), String::new()),
                subject: format!("[#{}] Your chat transcript", t.number),
                auto: AutoSubmitted::Generated,
                id,
                in_reply_to: None,
            }
        }
    };
    Ok(Rendered {
        message: compose::automatic(d)?,
        thread,
    })
}

/// A survey's mail: short, in the customer's language, one link per rating (each opens
/// the survey's page with that rating chosen; the page records it when the customer
/// confirms, so a mail scanner following links records nothing), and a link to stop
/// surveys. Nothing a stranger wrote goes into it (not the ticket's subject, not a name).
async fn survey_mail(
    c: &mut dyn Conn,
    survey_id: i64,
    public_url: &str,
    sealer: &Sealer,
) -> Result<Draft, StoreError> {
    use rapport_domain::survey::{Question, SurveyKind, wording::wording};
    let s = rapport_store::surveys::get(c, survey_id).await?;
    let w = wording(Some(&s.lang));
    let (to, _) = notify::customer_recipient(c, s.customer_id).await?;
    let from = match s.ticket_id {
        Some(t) if s.kind == SurveyKind::Ticket => mail::sender_for(c, Some(t)).await?,
        _ => mail::sender_for(c, None).await?,
    }
    .ok_or(StoreError::NotFound("mailbox"))?;
    let brand = rapport_store::settings::branding(c).await?.name;
    let token = rapport_store::surveys::link_token(sealer, s.id);
    let page = format!("{public_url}/survey/{token}");
    let q = s.kind.first_question();
    let (question, ends) = match q {
        Question::Nps => (w.nps_question.replace("{brand}", &brand), w.nps_ends),
        _ => (w.csat_question.to_owned(), w.csat_ends),
    };
    let (lo, hi) = q.range();
    let mut links = String::new();
    for n in lo..=hi {
        let end = if n == lo {
            format!(" ({})", ends.0)
        } else if n == hi {
            format!(" ({})", ends.1)
        } else {
            String::new()
        };
        links.push_str(&format!("  {n}{end}: {page}?{}={n}\n", q.as_str()));
    }
    let (subject, intro) = match (s.kind, s.ticket_id) {
        (SurveyKind::Ticket, Some(t)) => {
            let number = mail::ticket_context(c, t).await?.number.to_string();
            (
                w.ticket_subject.replace("{number}", &number),
                format!("{}\n\n", w.ticket_intro.replace("{number}", &number)),
            )
        }
        _ => (w.nps_subject.replace("{brand}", &brand), String::new()),
    };
    let id = compose::new_message_id(domain_of(&from.0));
    Ok(Draft {
        text: format!(
            "{intro}{question}\n\n{links}\n{}\n\n{}: {page}/opt-out\n\n{}\n",
            w.one_click, w.opt_out, from.1
        ),
        from,
        to: (to, String::new()),
        subject,
        auto: AutoSubmitted::Generated,
        id,
        in_reply_to: None,
    })
}

/// A return's step to its customer: the state that step reached, its note (a
/// rejection's reason), the items, and the portal page that follows the return.
async fn return_mail(
    c: &mut dyn Conn,
    return_id: i64,
    state: &str,
    public_url: &str,
) -> Result<Draft, StoreError> {
    let state = rapport_domain::commerce::ReturnState::parse(state)?;
    let r = rapport_store::commerce::returns::get(c, return_id, None).await?;
    let order = rapport_store::commerce::orders::get(c, r.order_id).await?;
    let (to, _) = notify::customer_recipient(c, r.customer_id).await?;
    let from = mail::sender_for(c, r.ticket_id)
        .await?
        .ok_or(StoreError::NotFound("mailbox"))?;
    let note = r
        .steps
        .iter()
        .rev()
        .find(|s| s.state == state)
        .and_then(|s| s.note.clone())
        .map(|n| format!("{n}\n\n"))
        .unwrap_or_default();
    let items: Vec<String> = r
        .lines
        .iter()
        .map(|(sku, q)| format!("  {q} × {sku}"))
        .collect();
    let id = compose::new_message_id(domain_of(&from.0));
    Ok(Draft {
        text: format!(
            "Hello,\n\nYour return of order {}: {}.\n\n{note}Items:\n{}\n\nFollow it: {public_url}/portal/account#returns\n\n{}\n",
            order.external_id,
            state.for_customer(),
            items.join("\n"),
            from.1
        ),
        from,
        to: (to, String::new()),
        subject: format!(
            "Your return of order {}: {}",
            order.external_id,
            state.as_str()
        ),
        auto: AutoSubmitted::Generated,
        id,
        in_reply_to: None,
    })
}

/// A chat's public thread as plain text, one message after another: who and when, then
/// the text (never a note).
async fn chat_transcript(c: &mut dyn Conn, ticket_id: i64) -> Result<String, StoreError> {
    let customer = rapport_store::tickets::customer_of(c, ticket_id).await?;
    let conv = rapport_store::chat::Conversation {
        ticket_id,
        customer_id: customer,
        anonymous: false,
        email: None,
        by_email: false,
    };
    let mut out = String::new();
    for m in rapport_store::chat::messages::after(c, &conv, 0, 10_000).await? {
        let who = match (m.author, m.name.is_empty()) {
            ("agent", false) => m.name.clone(),
            ("agent", true) => "Agent".to_owned(),
            _ => "You".to_owned(),
        };
        let at = m.at.to_datetime().format("%Y-%m-%d %H:%M UTC");
        out.push_str(&format!("{who} ({at}):\n{}\n\n", m.body));
    }
    Ok(out)
}

/// The `mail.notify` job: payload a [`Notice`].
pub struct NotifyHandler {
    transport: Arc<Transport>,
    clock: Arc<dyn Clock>,
    /// Links in automatic mail point here.
    public_url: String,
    /// Opens sealed portal tokens.
    sealer: Sealer,
}

impl NotifyHandler {
    /// Sends through `transport`, linking to `public_url`, opening tokens with `sealer`.
    pub fn new(
        transport: Arc<Transport>,
        clock: Arc<dyn Clock>,
        public_url: String,
        sealer: Sealer,
    ) -> Self {
        Self {
            transport,
            clock,
            public_url,
            sealer,
        }
    }

    /// Sends one automatic mail. Rendering it from what the database says now means a
    /// notice about a ticket deleted meanwhile fails visibly.
    async fn notify(&self, db: &Db, job: &Job) -> Result<(), String> {
        // Without a relay, sending mail is switched off: automatic mail is best-effort
        // (unlike an agent's reply, whose failure the agent must see), so it is dropped.
        if !self.transport.has_relay() {
            tracing::info!(
                job = job.id,
                "automatic mail not sent: RAPPORT_SMTP_RELAY is not set"
            );
            return Ok(());
        }
        let notice: Notice = rapport_jobs::payload(job)?;
        let public_url = self.public_url.clone();
        let sealer = self.sealer.clone();
        let rendered = db
            .read(op!(c => {
                // The agent may have been deactivated (or opted out) since it was queued.
                if !notify::goes_out(c, &notice).await? {
                    return Ok(None);
                }
                Ok(Some(render(c, &notice, &public_url, &sealer).await))
            }))
            .await
            .map_err(|e| e.to_string())?;
        let Some(rendered) = rendered else {
            tracing::info!(
                job = job.id,
                "notice dropped: its agent is inactive or opted out"
            );
            return Ok(());
        };
        let rendered = rendered?;
        match self.transport.send(&rendered.message).await {
            Ok(()) => {}
            // A permanent refusal will not get better; the log and the job say why.
            Err(SendError::Permanent(e)) => {
                tracing::warn!(error = %e, job = job.id, "automatic mail refused");
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        }
        if let Some((id, ticket)) = rendered.thread {
            let now = self.clock.now();
            db.write(op!(c => mail::remember_sent(c, &id, ticket, None, now).await))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Handler for NotifyHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.notify(db, job))
    }
}
