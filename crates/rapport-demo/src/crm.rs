//! The demo's CRM: a plan attribute, two organisations with members, VIP customers,
//! birthdays (one this week), invoices and payments for the first orders, a refund, the
//! points rules, and two segments — so a newcomer sees the customer card filled in.

use rapport_domain::commerce::billing::{NewRecord, RawRecord};
use rapport_domain::crm::segment::Condition;
use rapport_domain::crm::{
    AttributeDef, AttributeKey, AttributeKind, AttributeTarget, Birthday, Tier, dates,
};
use rapport_domain::{EmailAddress, Timestamp, Viewer};
use rapport_store::commerce::billing::{self, Kind};
use rapport_store::crm::{attributes, organizations, profile, segments};
use rapport_store::events::Actor;
use rapport_store::loyalty::{gifts, rules};
use rapport_store::{Db, StoreError, customers, op};
use serde_json::{Map, json};

/// What the CRM seeded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Crm {
    /// VIP customers.
    pub vips: usize,
    /// Invoices pushed.
    pub invoices: usize,
}

fn bad(e: rapport_domain::FieldError) -> StoreError {
    StoreError::Invalid(e)
}

/// Seeds the CRM for `emails` (the shop's customers) as an admin and the shop would.
pub async fn populate(
    db: &Db,
    now: Timestamp,
    emails: &[String],
    supervisor: Viewer,
) -> Result<Crm, StoreError> {
    let admin = Actor::User(supervisor.user_id);
    let plan = AttributeDef::new(
        AttributeKey::parse("key", "plan").map_err(bad)?,
        "Plan",
        AttributeKind::Choice,
        vec!["free".into(), "plus".into(), "pro".into()],
    )
    .map_err(bad)?;
    let size = AttributeDef::new(
        AttributeKey::parse("key", "employees").map_err(bad)?,
        "Employees",
        AttributeKind::Number,
        vec![],
    )
    .map_err(bad)?;
    db.write(op!(c => {
        attributes::create(c, AttributeTarget::Customer, &plan, now).await?;
        attributes::create(c, AttributeTarget::Organization, &size, now).await?;
        rules::set_settings(c, rules::Settings::new(1, Some(365)).map_err(bad)?, now).await
    }))
    .await?;
    let mut ids = Vec::new();
    for e in emails {
        let email = EmailAddress::parse(e).map_err(bad)?;
        if let Some(id) = db
            .read(op!(c => customers::id_by_email(c, &email).await))
            .await?
        {
            ids.push((id, e.clone()));
        }
    }
    let orgs = [
        ("Northwind Traders", "northwind.example", 240),
        ("Globex", "globex.example", 1800),
    ];
    let mut org_ids = Vec::new();
    for (name, domain, employees) in orgs {
        let mut attrs = Map::new();
        attrs.insert("employees".into(), json!(employees));
        let o = db
            .write(op!(c => organizations::create(c, admin, name, Some(domain), &attrs, now).await))
            .await?;
        org_ids.push(o.id);
    }
    let today = dates::utc_date(now);
    let mut crm = Crm::default();
    for (i, (id, _)) in ids.iter().enumerate() {
        let mut change = profile::Change::default();
        let mut attrs = Map::new();
        attrs.insert("plan".into(), json!(["free", "plus", "pro"][i % 3]));
        change.attributes = Some(attrs);
        if i < 3 {
            change.tier = Some(Some(Tier::parse("tier", "vip").map_err(bad)?));
            crm.vips += 1;
        }
        if i < 8 {
            change.organization_id = Some(Some(org_ids[i % 2]));
        }
        if i % 4 == 0 {
            // One birthday this week, the others through the year.
            let on = dates::add_days(today, 3 + 40 * i as i64);
            let written = format!("{}-{:02}-{:02}", 1970 + i % 30, on.month(), on.day());
            let b = Birthday::parse("birthday", &written, today)
                .or_else(|_| {
                    Birthday::parse(
                        "birthday",
                        &format!("--{:02}-{:02}", on.month(), on.day()),
                        today,
                    )
                })
                .map_err(bad)?;
            change.birthday = Some(Some(b));
        }
        let id = *id;
        db.write(op!(c => profile::update(c, admin, id, &change, now).await.map(|_| ())))
            .await?;
    }
    // Invoices and payments for each customer's latest order; a refund on the first.
    let mut refunded = false;
    for (id, email) in ids.iter().take(12) {
        let (id, email) = (*id, email.clone());
        let latest = db
            .read(
                op!(c => Ok(rapport_store::commerce::orders::for_customer(c, id, 1).await?.pop())),
            )
            .await?;
        let Some(o) = latest else { continue };
        let amount = rapport_domain::commerce::format_minor(o.total, &o.currency);
        let invoice = NewRecord::parse(
            &RawRecord {
                external_id: &format!("INV-{}", o.external_id),
                email: &email,
                currency: &o.currency,
                amount: &amount,
                order_external_id: Some(&o.external_id),
                label: Some(&format!("2026-{:05}", o.id)),
                status: Some("paid"),
                at: Some(o.placed_at),
                ..RawRecord::default()
            },
            "number",
            now,
        )
        .map_err(bad)?;
        let payment = NewRecord::parse(
            &RawRecord {
                external_id: &format!("PAY-{}", o.external_id),
                email: &email,
                currency: &o.currency,
                amount: &amount,
                order_external_id: Some(&o.external_id),
                invoice_external_id: Some(&format!("INV-{}", o.external_id)),
                label: Some("card"),
                status: Some("paid"),
                at: Some(o.placed_at),
                ..RawRecord::default()
            },
            "method",
            now,
        )
        .map_err(bad)?;
        db.write(op!(c => {
            billing::push(c, Kind::Invoice, &invoice, now).await?;
            billing::push(c, Kind::Payment, &payment, now).await.map(|_| ())
        }))
        .await?;
        crm.invoices += 1;
        if !refunded && o.total >= 1_000 {
            let gift = gifts::Gift::Refund {
                customer_id: id,
                order_id: o.id,
                amount: 500,
                currency: o.currency.clone(),
                reason: "Part refund: a scuffed box".into(),
                ticket_id: None,
            };
            let sup = supervisor.clone();
            db.write(op!(c => gifts::give(c, &sup, &gift, now).await.map(|_| ())))
                .await?;
            refunded = true;
        }
    }
    let vip: Vec<Condition> =
        serde_json::from_value(json!([{"field": "tier", "op": "is", "value": "vip"}]))?;
    let lapsed: Vec<Condition> = serde_json::from_value(json!([
        {"field": "orders", "op": "at_least", "value": 1},
        {"field": "days_since_order", "op": "at_least", "value": 30}
    ]))?;
    let by = supervisor.user_id;
    db.write(op!(c => {
        segments::create(c, "VIP customers", &vip, by, now).await?;
        segments::create(c, "Lapsed buyers", &lapsed, by, now).await.map(|_| ())
    }))
    .await?;
    Ok(crm)
}
