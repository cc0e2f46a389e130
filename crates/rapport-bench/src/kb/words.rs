//! The word lists the generated knowledge base is written from: per category, nouns, verbs
//! and adjectives in English and German, the sentence, title and heading templates of each
//! language, and the syllables the made-up vocabulary (product names, feature and setting
//! names) is built from. Written for this benchmark.
//!
//! Template slots: `{n}` `{n2}` a noun, `{v}` a verb, `{a}` `{a2}` an adjective, `{p}` a
//! product, `{r}` `{r2}` a made-up term (a setting, a feature), `{num}` a number, `{code}`
//! an error code. `{N}` and `{V}` are a noun and a verb with a capital first letter.

/// One category's words in one language.
pub struct Words {
    /// Things.
    pub nouns: &'static [&'static str],
    /// What one does to them (the base form; German: the infinitive).
    pub verbs: &'static [&'static str],
    /// How they can be.
    pub adjectives: &'static [&'static str],
}

/// A category of the generated knowledge base.
pub struct CategorySpec {
    /// Its slug.
    pub slug: &'static str,
    /// Its name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// The sections articles are filed under.
    pub sections: &'static [&'static str],
    /// Tags its articles carry.
    pub tags: &'static [&'static str],
    /// English words.
    pub en: Words,
    /// German words.
    pub de: Words,
}

/// The categories.
pub const CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        slug: "account",
        name: "Account and sign-in",
        description: "Passwords, two-step sign-in, profiles and team members.",
        sections: &["Signing in", "Profile", "Team members"],
        tags: &["password", "login", "2fa", "profile", "team", "security"],
        en: Words {
            nouns: &[
                "password", "account", "email address", "profile", "username", "login",
                "session", "verification code", "authenticator app", "recovery code",
                "security key", "team", "invitation", "role", "permission", "avatar",
                "display name", "sign-in page", "workspace", "organisation", "owner",
                "administrator", "member", "seat", "passkey", "reset link",
            ],
            verbs: &[
                "reset", "change", "update", "verify", "recover", "delete", "invite",
                "remove", "confirm", "enable", "disable", "unlock", "transfer", "rename",
                "merge", "restore",
            ],
            adjectives: &[
                "locked", "expired", "forgotten", "shared", "inactive", "verified",
                "personal", "primary", "secondary", "temporary",
            ],
        },
        de: Words {
            nouns: &[
                "Passwort", "Konto", "E-Mail-Adresse", "Profil", "Benutzername", "Anmeldung",
                "Sitzung", "Bestätigungscode", "Wiederherstellungscode", "Sicherheitsschlüssel",
                "Einladung", "Rolle", "Berechtigung", "Arbeitsbereich", "Mitglied",
            ],
            verbs: &[
                "zurücksetzen", "ändern", "bestätigen", "löschen", "aktivieren",
                "deaktivieren", "entsperren", "übertragen", "einladen", "wiederherstellen",
            ],
            adjectives: &[
                "gesperrt", "abgelaufen", "vergessen", "geteilt", "inaktiv", "bestätigt",
            ],
        },
    },
    CategorySpec {
        slug: "billing",
        name: "Billing and payments",
        description: "Invoices, payment methods, plans and refunds of charges.",
        sections: &["Invoices", "Payment methods", "Plans"],
        tags: &["invoice", "payment", "subscription", "vat", "plan", "card"],
        en: Words {
            nouns: &[
                "invoice", "receipt", "credit card", "payment", "subscription", "plan",
                "charge", "discount code", "coupon", "VAT number", "billing address",
                "bank transfer", "statement", "tax", "currency", "trial", "renewal",
                "upgrade", "downgrade", "proration", "balance", "credit note",
                "purchase order", "direct debit", "price", "fee", "billing cycle", "quote",
            ],
            verbs: &[
                "pay", "cancel", "renew", "upgrade", "downgrade", "download", "update",
                "dispute", "apply", "split", "switch", "add", "remove", "settle",
            ],
            adjectives: &[
                "annual", "monthly", "overdue", "failed", "pending", "duplicate", "incorrect",
                "unpaid", "prorated", "tax-exempt",
            ],
        },
        de: Words {
            nouns: &[
                "Rechnung", "Quittung", "Kreditkarte", "Zahlung", "Abonnement", "Tarif",
                "Abbuchung", "Gutscheincode", "Umsatzsteuer-ID", "Rechnungsadresse",
                "Überweisung", "Lastschrift", "Preis", "Gebühr", "Testphase", "Verlängerung",
            ],
            verbs: &[
                "bezahlen", "kündigen", "verlängern", "herunterladen", "aktualisieren",
                "anfechten", "wechseln", "hinzufügen", "entfernen",
            ],
            adjectives: &[
                "jährlich", "monatlich", "überfällig", "fehlgeschlagen", "ausstehend",
                "doppelt", "unbezahlt",
            ],
        },
    },
    CategorySpec {
        slug: "orders",
        name: "Orders and shipping",
        description: "Tracking a parcel, delivery dates and changing an order.",
        sections: &["Tracking", "Delivery", "Changing an order"],
        tags: &["tracking", "delivery", "shipping", "order", "courier"],
        en: Words {
            nouns: &[
                "order", "parcel", "package", "tracking number", "courier", "delivery date",
                "shipping address", "warehouse", "dispatch", "customs declaration",
                "pickup point", "signature", "delivery slot", "backorder", "shipment",
                "carrier", "label", "postcode", "neighbour", "locker", "order confirmation",
                "item", "stock", "pallet",
            ],
            verbs: &[
                "track", "ship", "deliver", "reschedule", "redirect", "change", "cancel",
                "combine", "collect", "hold", "split", "reroute",
            ],
            adjectives: &[
                "delayed", "missing", "lost", "damaged", "partial", "late", "express",
                "standard", "international", "oversized",
            ],
        },
        de: Words {
            nouns: &[
                "Bestellung", "Paket", "Sendungsnummer", "Zusteller", "Lieferdatum",
                "Lieferadresse", "Lager", "Versand", "Zollerklärung", "Abholstation",
                "Unterschrift", "Lieferung", "Etikett", "Postleitzahl", "Packstation",
            ],
            verbs: &[
                "verfolgen", "versenden", "liefern", "umleiten", "stornieren", "abholen",
                "zusammenfassen",
            ],
            adjectives: &[
                "verspätet", "verloren", "beschädigt", "unvollständig", "international",
            ],
        },
    },
    CategorySpec {
        slug: "returns",
        name: "Returns and refunds",
        description: "Sending something back, exchanges and when the money arrives.",
        sections: &["Starting a return", "Refunds", "Exchanges"],
        tags: &["return", "refund", "exchange", "warranty"],
        en: Words {
            nouns: &[
                "return", "refund", "exchange", "return label", "return window",
                "store credit", "replacement", "warranty claim", "receipt", "condition",
                "packaging", "drop-off point", "inspection", "restocking fee", "gift card",
                "original payment method", "faulty item", "size", "colour", "voucher",
            ],
            verbs: &[
                "return", "exchange", "print", "drop off", "inspect", "approve", "reject",
                "reimburse", "send back", "replace",
            ],
            adjectives: &[
                "faulty", "unopened", "used", "wrong", "defective", "refundable",
                "non-returnable", "eligible", "broken", "scratched",
            ],
        },
        de: Words {
            nouns: &[
                "Rücksendung", "Rückerstattung", "Umtausch", "Rücksendeetikett",
                "Rückgabefrist", "Gutschrift", "Ersatz", "Garantie", "Verpackung", "Gutschein",
                "Größe", "Farbe",
            ],
            verbs: &[
                "zurückschicken", "umtauschen", "drucken", "abgeben", "prüfen", "erstatten",
                "ersetzen",
            ],
            adjectives: &[
                "defekt", "ungeöffnet", "gebraucht", "erstattungsfähig", "kaputt", "zerkratzt",
            ],
        },
    },
    CategorySpec {
        slug: "devices",
        name: "Devices and setup",
        description: "Getting a device going, pairing, charging and firmware.",
        sections: &["Getting started", "Connectivity", "Firmware"],
        tags: &["bluetooth", "wifi", "firmware", "battery", "setup", "pairing"],
        en: Words {
            nouns: &[
                "device", "firmware", "bluetooth", "wifi network", "router", "charger",
                "battery", "cable", "sensor", "display", "button", "status light",
                "pairing mode", "factory reset", "power supply", "hub", "adapter", "speaker",
                "camera", "thermostat", "wall mount", "base station", "remote",
                "serial number", "antenna", "signal", "range",
            ],
            verbs: &[
                "pair", "connect", "charge", "mount", "install", "reboot", "restart",
                "calibrate", "reset", "update", "unplug", "press",
            ],
            adjectives: &[
                "wireless", "offline", "blinking", "unresponsive", "overheating",
                "compatible", "weak", "noisy", "slow", "frozen",
            ],
        },
        de: Words {
            nouns: &[
                "Gerät", "Firmware", "Bluetooth", "WLAN", "Router", "Ladegerät", "Akku",
                "Kabel", "Sensor", "Display", "Taste", "Kopplungsmodus", "Werkseinstellungen",
                "Netzteil", "Lautsprecher", "Kamera", "Thermostat", "Halterung",
                "Fernbedienung", "Seriennummer", "Reichweite",
            ],
            verbs: &[
                "koppeln", "verbinden", "laden", "montieren", "installieren", "kalibrieren",
                "aktualisieren",
            ],
            adjectives: &[
                "kabellos", "offline", "blinkend", "überhitzt", "kompatibel", "schwach",
                "langsam", "eingefroren",
            ],
        },
    },
    CategorySpec {
        slug: "apps",
        name: "Apps and integrations",
        description: "The mobile app, calendars, exports, webhooks and the API.",
        sections: &["Mobile app", "Integrations", "API"],
        tags: &["app", "integration", "api", "export", "sync"],
        en: Words {
            nouns: &[
                "app", "integration", "API key", "webhook", "calendar", "notification",
                "export", "import", "spreadsheet", "dashboard", "widget", "report", "sync",
                "token", "plugin", "extension", "connector", "template", "filter", "field",
                "automation", "workflow", "CSV file", "shortcut", "log", "version",
            ],
            verbs: &[
                "install", "sync", "export", "import", "connect", "authorise", "revoke",
                "configure", "schedule", "filter", "automate", "share", "embed",
            ],
            adjectives: &[
                "mobile", "desktop", "automatic", "scheduled", "read-only", "custom",
                "outdated", "beta", "duplicated",
            ],
        },
        de: Words {
            nouns: &[
                "App", "Integration", "API-Schlüssel", "Webhook", "Kalender",
                "Benachrichtigung", "Export", "Import", "Tabelle", "Dashboard", "Bericht",
                "Synchronisierung", "Vorlage", "Filter", "Feld", "Automatisierung",
                "Protokoll", "Version",
            ],
            verbs: &[
                "installieren", "synchronisieren", "exportieren", "importieren", "verbinden",
                "autorisieren", "widerrufen", "konfigurieren", "teilen",
            ],
            adjectives: &[
                "mobil", "automatisch", "geplant", "schreibgeschützt", "benutzerdefiniert",
                "veraltet",
            ],
        },
    },
    CategorySpec {
        slug: "privacy",
        name: "Privacy and security",
        description: "Your data, consent, exports, deletion and suspicious activity.",
        sections: &["Your data", "Security"],
        tags: &["privacy", "gdpr", "data", "security", "phishing"],
        en: Words {
            nouns: &[
                "data", "privacy policy", "consent", "cookie banner", "data export",
                "deletion request", "encryption", "audit log", "IP address", "breach",
                "phishing email", "suspicious login", "security alert", "retention period",
                "backup", "GDPR request", "marketing email", "newsletter",
                "personal information",
            ],
            verbs: &[
                "download", "delete", "report", "encrypt", "unsubscribe", "review",
                "restrict", "erase", "protect", "anonymise",
            ],
            adjectives: &[
                "suspicious", "encrypted", "anonymous", "personal", "sensitive", "public",
                "private", "compromised", "secure", "third-party",
            ],
        },
        de: Words {
            nouns: &[
                "Daten", "Datenschutzerklärung", "Einwilligung", "Datenexport", "Löschanfrage",
                "Verschlüsselung", "Prüfprotokoll", "IP-Adresse", "Phishing-Mail",
                "Sicherheitswarnung", "Aufbewahrungsfrist", "Sicherung", "Newsletter",
            ],
            verbs: &[
                "herunterladen", "löschen", "melden", "verschlüsseln", "abbestellen",
                "überprüfen", "einschränken", "schützen",
            ],
            adjectives: &[
                "verdächtig", "verschlüsselt", "anonym", "persönlich", "sensibel", "privat",
            ],
        },
    },
    CategorySpec {
        slug: "troubleshooting",
        name: "Troubleshooting",
        description: "Error messages, slow pages and known issues, and how to fix them.",
        sections: &["Error messages", "Performance", "Known issues"],
        tags: &["error", "crash", "slow", "cache", "known-issue"],
        en: Words {
            nouns: &[
                "error message", "error code", "crash", "screen", "page", "loading spinner",
                "timeout", "cache", "connection", "log file", "browser extension", "setting",
                "feature", "upload", "attachment", "image", "video", "font", "language",
                "time zone", "search", "printer", "scanner", "proxy",
            ],
            verbs: &[
                "clear", "reload", "reinstall", "retry", "check", "disable", "report",
                "restart", "troubleshoot", "fix", "refresh", "roll back",
            ],
            adjectives: &[
                "blank", "slow", "stuck", "frozen", "broken", "unexpected", "intermittent",
                "corrupted", "missing", "garbled",
            ],
        },
        de: Words {
            nouns: &[
                "Fehlermeldung", "Fehlercode", "Absturz", "Bildschirm", "Seite",
                "Zeitüberschreitung", "Zwischenspeicher", "Verbindung", "Protokolldatei",
                "Erweiterung", "Einstellung", "Funktion", "Anhang", "Drucker", "Zeitzone",
            ],
            verbs: &[
                "leeren", "wiederholen", "prüfen", "deaktivieren", "melden", "beheben",
                "aktualisieren",
            ],
            adjectives: &[
                "leer", "langsam", "hängend", "eingefroren", "unerwartet", "beschädigt",
                "fehlend",
            ],
        },
    },
];

/// English sentences.
pub const EN_SENTENCES: &[&str] = &[
    "To {v} your {n}, open {p} and go to Settings, then {r}.",
    "If your {n} is {a}, {v} it from the {n2} page.",
    "Most {a} {n} problems go away once you {v} the {n2}.",
    "You can {v} a {n} at any time, unless it is {a}.",
    "The {r} option in {p} controls how the {n} behaves.",
    "We send a confirmation to your email address within {num} minutes.",
    "When the screen shows the code {code}, {v} the {n} and try again.",
    "Choose {r} if you would like to {v} every {n} at once.",
    "{p} keeps your {n} for {num} days; after that it is {a}.",
    "Our support team can {v} the {n} for you if you are unable to.",
    "Check that the {n} is not {a} before you {v} the {n2}.",
    "In {p}, the {r} and {r2} settings live under {N}.",
    "This applies to {p} on every plan, including the {r} edition.",
    "Select {N}, then {v} the {n2} you would like to change.",
    "It usually takes {num} hours to {v} a {n}.",
    "A {a} {n} is the most common reason for a {a2} {n2}.",
    "Press {r} for three seconds to {v} the {n}; the light turns green.",
    "If nothing happens, {v} the {n} and wait a few seconds.",
    "{p} shows a {a} {n} when the {r} is out of date.",
    "Keep the {n} close to the {n2} while you {v} it.",
    "Every {n} carries a reference such as {code}, which our team will ask for.",
    "Since version {num}, {p} lets you {v} the {n} without the {r}.",
    "You will find the {n} on the {r} tab, next to the {n2}.",
    "A {n} that stays {a} for more than {num} days is reviewed by a person.",
    "Administrators can {v} the {n} for the whole organisation at once.",
];

/// English titles.
pub const EN_TITLES: &[&str] = &[
    "How to {v} your {n}",
    "How do I {v} a {a} {n}?",
    "Why is my {n} {a}?",
    "{p}: {v} the {n}",
    "{N} is {a}: what to do",
    "Can I {v} my {n} with {p}?",
    "{V} a {n} in {p}",
    "Understanding the {r} setting in {p}",
    "What happens when a {n} is {a}?",
    "{p} {n} and {r}",
    "Fixing a {a} {n} on {p}",
    "{N} limits for {p}",
];

/// English section headings.
pub const EN_HEADINGS: &[&str] = &[
    "Before you start",
    "Step by step",
    "If it still does not work",
    "{V} the {n}",
    "About {r}",
    "On {p}",
    "Frequently asked questions",
    "What you will use",
    "{N} and {n2}",
    "Limits",
    "When the {n} is {a}",
];

/// German sentences.
pub const DE_SENTENCES: &[&str] = &[
    "Öffnen Sie {p} und wählen Sie {r}, um {n} zu {v}.",
    "Wenn {n} {a} ist, können Sie es in den Einstellungen {v}.",
    "In {p} finden Sie {n} und {n2} unter {r}.",
    "Bitte prüfen Sie, ob {n} {a} ist, bevor Sie {n2} {v}.",
    "Unser Support-Team kann {n} für Sie {v}.",
    "Es dauert meistens {num} Stunden, bis {n} {a} ist.",
    "Die Option {r} steuert, wie {p} mit {n} umgeht.",
    "Erscheint der Fehlercode {code}, sollten Sie {n} {v}.",
    "Sie können {n} jederzeit {v}, solange es nicht {a} ist.",
    "Seit Version {num} können Sie in {p} {n} ohne {r} {v}.",
    "Halten Sie {r} drei Sekunden gedrückt, um {n} zu {v}.",
    "Administratoren können {n} für die ganze Organisation {v}.",
];

/// German titles.
pub const DE_TITLES: &[&str] = &[
    "{N} {v}: so geht's",
    "Warum ist {n} {a}?",
    "{p}: {n} {v}",
    "Wie kann ich {n} {v}?",
    "Was tun, wenn {n} {a} ist?",
    "Die Einstellung {r} in {p}",
];

/// German section headings.
pub const DE_HEADINGS: &[&str] = &[
    "Bevor Sie beginnen",
    "Schritt für Schritt",
    "Wenn es immer noch nicht klappt",
    "Über {r}",
    "{N} {v}",
    "Häufige Fragen",
    "Grenzen",
];

/// The beginnings of made-up words. No `q`, `x`, `z` or `j` anywhere: queries made of
/// those letters are then far from every word the index holds.
pub const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "k", "kl", "l", "m", "n", "p",
    "pl", "pr", "r", "s", "sh", "sl", "st", "t", "th", "tr", "v", "w",
];

/// The vowels of made-up words.
pub const NUCLEI: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"];

/// The endings of made-up syllables.
pub const CODAS: &[&str] = &["", "", "", "n", "r", "l", "s", "m", "nd", "rt", "st", "k"];

/// Real words that none of the lists above hold, for queries that should find nothing.
pub const ABSENT: &[&str] = &[
    "wombat", "saxophone", "glacier", "tectonics", "origami", "walrus", "marzipan",
    "volcanology", "harpsichord", "gondola", "meteorite", "archipelago",
];
