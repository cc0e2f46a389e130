//! The generated articles' phrasing: sentence, title and heading templates in English and
//! German, the syllables made-up words are built from, and the words no article holds.

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
    "wombat",
    "saxophone",
    "glacier",
    "tectonics",
    "origami",
    "walrus",
    "marzipan",
    "volcanology",
    "harpsichord",
    "gondola",
    "meteorite",
    "archipelago",
];
