//! Billing records the shop pushes — invoices and payments — and the refunds agents
//! record for the shop to honour. Rapport moves no money: a refund here is a promise the
//! shop carries out and then marks done.

use super::money::Currency;
use super::order::{ExternalId, shipment_text};
use crate::clock::Timestamp;
use crate::customer::CustomerName;
use crate::email::EmailAddress;
use crate::error::FieldError;
use crate::ticket::wire_enum;

wire_enum!(
    /// Where an invoice stands, as the shop says.
    InvoiceStatus, "status" {
        /// Not yet paid.
        Open = "open",
        /// Paid in full.
        Paid = "paid",
        /// Cancelled.
        Void = "void",
    }
);

wire_enum!(
    /// Where a refund stands.
    RefundState, "state" {
        /// Recorded here; the shop has yet to pay it back.
        Open = "open",
        /// The shop paid it back.
        Done = "done",
    }
);

/// An invoice or payment as given (API body), before checking.
#[derive(Debug, Clone, Default)]
pub struct RawRecord<'a> {
    /// The shop's id.
    pub external_id: &'a str,
    /// The customer's address.
    pub email: &'a str,
    /// Their name, if given.
    pub name: Option<&'a str>,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// Decimal text.
    pub amount: &'a str,
    /// The order it is for (the shop's id), if any.
    pub order_external_id: Option<&'a str>,
    /// An invoice's number; a payment's method.
    pub label: Option<&'a str>,
    /// An invoice's status.
    pub status: Option<&'a str>,
    /// When it was issued or paid (default: now).
    pub at: Option<Timestamp>,
    /// An invoice's due date; a payment's invoice (unused).
    pub due_at: Option<Timestamp>,
    /// A payment's invoice (the shop's id), if any.
    pub invoice_external_id: Option<&'a str>,
}

/// A checked invoice or payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// The shop's id: the key of an idempotent push.
    pub external_id: ExternalId,
    /// Whose.
    pub email: EmailAddress,
    /// Their name, if given.
    pub name: Option<CustomerName>,
    /// In which currency.
    pub currency: Currency,
    /// How much (minor units, positive).
    pub amount: i64,
    /// The order, by the shop's id.
    pub order_external_id: Option<ExternalId>,
    /// The invoice, by the shop's id (payments).
    pub invoice_external_id: Option<ExternalId>,
    /// An invoice's number or a payment's method ("" when not given).
    pub label: String,
    /// An invoice's status (payments: `paid`).
    pub status: InvoiceStatus,
    /// Issued or paid when.
    pub at: Timestamp,
    /// An invoice's due date.
    pub due_at: Option<Timestamp>,
}

impl NewRecord {
    /// Checks an invoice or a payment; `label` names its label field (`number` or
    /// `method`).
    pub fn parse(raw: &RawRecord<'_>, label: &str, now: Timestamp) -> Result<Self, FieldError> {
        let external_id = ExternalId::parse("external_id", raw.external_id)?;
        let email = EmailAddress::parse(raw.email).map_err(|e| e.within("customer"))?;
        let name = match raw.name {
            Some(n) => CustomerName::parse(n).map_err(|e| e.within("customer"))?,
            None => None,
        };
        let currency = Currency::parse("currency", raw.currency)?;
        let amount = currency.amount("amount", raw.amount)?;
        if amount <= 0 || amount > crate::loyalty::voucher::MAX_VOUCHER_MINOR * 1000 {
            return Err(FieldError::new("amount", "must be more than zero"));
        }
        let ext = |field: &str, v: Option<&str>| v.map(|v| ExternalId::parse(field, v)).transpose();
        let label = match raw.label {
            Some(l) => shipment_text(label, l)?,
            None => String::new(),
        };
        let status = raw
            .status
            .map(InvoiceStatus::parse)
            .transpose()?
            .unwrap_or(InvoiceStatus::Open);
        let at = raw.at.unwrap_or(now);
        if at > now.plus_secs(86_400) {
            return Err(FieldError::new("issued_at", "must not be in the future"));
        }
        Ok(Self {
            external_id,
            email,
            name,
            currency,
            amount,
            order_external_id: ext("order_external_id", raw.order_external_id)?,
            invoice_external_id: ext("invoice_external_id", raw.invoice_external_id)?,
            label,
            status,
            at,
            due_at: raw.due_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_checked() {
        let now = Timestamp(1_800_000_000_000_000);
        let raw = RawRecord {
            external_id: "INV-1",
            email: "a@example.com",
            currency: "EUR",
            amount: "12.50",
            label: Some("2026-0001"),
            ..RawRecord::default()
        };
        let r = NewRecord::parse(&raw, "number", now).unwrap();
        assert_eq!((r.amount, r.status, r.at), (1250, InvoiceStatus::Open, now));
        for (bad, field) in [
            (
                RawRecord {
                    amount: "0",
                    ..raw.clone()
                },
                "amount",
            ),
            (
                RawRecord {
                    amount: "1.234",
                    ..raw.clone()
                },
                "amount",
            ),
            (
                RawRecord {
                    currency: "XYZ",
                    ..raw.clone()
                },
                "currency",
            ),
            (
                RawRecord {
                    email: "nope",
                    ..raw.clone()
                },
                "customer.email",
            ),
            (
                RawRecord {
                    status: Some("lost"),
                    ..raw.clone()
                },
                "status",
            ),
            (
                RawRecord {
                    external_id: "",
                    ..raw.clone()
                },
                "external_id",
            ),
            (
                RawRecord {
                    at: Some(now.plus_secs(3 * 86_400)),
                    ..raw.clone()
                },
                "issued_at",
            ),
        ] {
            assert_eq!(
                NewRecord::parse(&bad, "number", now).unwrap_err().field,
                field
            );
        }
        assert_eq!(RefundState::parse("done").unwrap(), RefundState::Done);
    }
}
