//! Surveys react to the event stream: a ticket solved is offered its survey — by email
//! for an email ticket (CSAT links, then CES and a comment on the page), in the portal for
//! a web one, in the chat widget for a chat (its socket sends a `survey` frame). NPS goes out on a schedule from the binary's maintenance loop, every ten
//! minutes ([`send_nps`]).

use futures::future::BoxFuture;
use rapport_domain::{Channel, EventKind, Timestamp};
use rapport_store::notify::{self, Notice};
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, Db, StoreError, op, surveys};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const SURVEYS: &str = "surveys.offer";

/// Offers a survey when a ticket is solved.
#[derive(Debug, Clone, Copy, Default)]
pub struct SurveyOffers;

/// Whether the event solved the ticket.
fn solved(event: &StreamEvent) -> bool {
    matches!(
        event.kind,
        EventKind::FieldsChanged | EventKind::ReplyAdded | EventKind::NoteAdded
    ) && event.data["status"]["to"].as_str() == Some("solved")
}

impl Subscriber for SurveyOffers {
    fn name(&self) -> &'static str {
        SURVEYS
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        event.ticket_id.is_some()
            && matches!(
                event.channel,
                Some(Channel::Email | Channel::Web | Channel::Chat)
            )
            && solved(event)
    }

    /// The settings are read once per batch.
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if !surveys::settings(c).await?.after_solve {
                return Ok(());
            }
            for event in events {
                let (Some(ticket), Some(channel)) = (event.ticket_id, event.channel) else {
                    continue;
                };
                let Some(s) = surveys::offer_for_ticket(c, ticket, channel, now).await? else {
                    continue;
                };
                if channel == Channel::Email {
                    let (address, _) = notify::customer_recipient(c, s.customer_id).await?;
                    let queued = notify::queue_automatic(
                        c,
                        &Notice::Survey { survey_id: s.id },
                        &address,
                        "survey",
                        now,
                    )
                    .await?;
                    if !queued {
                        // Not sent (no mailbox, or the address's allowance is used up):
                        // not offered either.
                        surveys::withdraw(c, s.id).await?;
                        continue;
                    }
                }
                surveys::announce(c, &s, now).await?;
            }
            Ok(())
        })
    }
}

/// NPS surveys sent in one pass at most.
pub const NPS_PER_PASS: i64 = 200;

/// Sends the NPS surveys that are due (see `surveys::due_nps`), [`NPS_PER_PASS`] at most;
/// returns how many went out. The maintenance loop calls it every ten minutes; the
/// interval per customer keeps
/// anyone from being asked twice.
pub async fn send_nps(db: &Db, now: Timestamp) -> Result<usize, StoreError> {
    db.write(op!(c => {
        let s = surveys::settings(c).await?;
        if !s.nps {
            return Ok(0);
        }
        let mut sent = 0;
        let after = surveys::nps_cursor(c).await?;
        let (due, next) = surveys::due_nps(c, s.nps_interval_days, NPS_PER_PASS, after, now).await?;
        for customer in due {
            let Some(survey) = surveys::offer_nps(c, customer, s.nps_interval_days, now).await? else {
                continue;
            };
            let (address, _) = notify::customer_recipient(c, customer).await?;
            if notify::queue_automatic(c, &Notice::Survey { survey_id: survey.id }, &address, "survey", now).await? {
                sent += 1;
            } else {
                // Not sent (no mailbox, or the address's allowance is used up): not
                // offered either.
                surveys::withdraw(c, survey.id).await?;
            }
        }
        surveys::set_nps_cursor(c, next).await?;
        Ok(sent)
    }))
    .await
}
