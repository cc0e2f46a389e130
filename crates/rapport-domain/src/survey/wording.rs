//! What a survey says, in the customer's language when it is known (English otherwise):
//! short and honest — one question, one click, and how to stop these emails.

/// The words of a survey in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    /// Its language code.
    pub lang: &'static str,
    /// The email's subject after a solved ticket (`{number}` filled in; never the
    /// ticket's subject, which a stranger may have written).
    pub ticket_subject: &'static str,
    /// The email's opening after a solved ticket.
    pub ticket_intro: &'static str,
    /// The CSAT question.
    pub csat_question: &'static str,
    /// The words under 1 and 5.
    pub csat_ends: (&'static str, &'static str),
    /// The CES question.
    pub ces_question: &'static str,
    /// The words under 1 and 7.
    pub ces_ends: (&'static str, &'static str),
    /// The NPS email's subject.
    pub nps_subject: &'static str,
    /// The NPS question (`{brand}` filled in).
    pub nps_question: &'static str,
    /// The words under 0 and 10.
    pub nps_ends: (&'static str, &'static str),
    /// How long answering takes.
    pub one_click: &'static str,
    /// The comment box's label.
    pub comment: &'static str,
    /// The button that records the answer.
    pub submit: &'static str,
    /// After the answer.
    pub thanks: &'static str,
    /// The opt-out link's words.
    pub opt_out: &'static str,
    /// After opting out.
    pub opted_out: &'static str,
}

const EN: Wording = Wording {
    lang: "en",
    ticket_subject: "How did we do? [#{number}]",
    ticket_intro: "Your request #{number} is solved. Would you tell us how it went?",
    csat_question: "How satisfied are you with the help you received?",
    csat_ends: ("very dissatisfied", "very satisfied"),
    ces_question: "How easy was it to get your issue resolved?",
    ces_ends: ("very difficult", "very easy"),
    nps_subject: "One question from {brand}",
    nps_question: "How likely are you to recommend {brand} to a friend or colleague?",
    nps_ends: ("not at all likely", "extremely likely"),
    one_click: "One click is enough; you can add a comment afterwards if you like.",
    comment: "Anything you'd like to add? (optional)",
    submit: "Send my answer",
    thanks: "Thank you — your answer is recorded. You can change it here at any time.",
    opt_out: "Don't send me surveys",
    opted_out: "Done: we won't send you surveys any more.",
};

const DE: Wording = Wording {
    lang: "de",
    ticket_subject: "Wie war unsere Hilfe? [#{number}]",
    ticket_intro: "Ihre Anfrage #{number} ist gelöst. Sagen Sie uns, wie es gelaufen ist?",
    csat_question: "Wie zufrieden sind Sie mit der Hilfe, die Sie bekommen haben?",
    csat_ends: ("sehr unzufrieden", "sehr zufrieden"),
    ces_question: "Wie einfach war es, Ihr Anliegen zu lösen?",
    ces_ends: ("sehr schwierig", "sehr einfach"),
    nps_subject: "Eine Frage von {brand}",
    nps_question: "Wie wahrscheinlich ist es, dass Sie {brand} einem Freund oder Kollegen empfehlen?",
    nps_ends: ("überhaupt nicht wahrscheinlich", "äußerst wahrscheinlich"),
    one_click: "Ein Klick genügt; danach können Sie gern einen Kommentar hinzufügen.",
    comment: "Möchten Sie noch etwas sagen? (freiwillig)",
    submit: "Antwort senden",
    thanks: "Danke — Ihre Antwort ist gespeichert. Sie können sie hier jederzeit ändern.",
    opt_out: "Keine Umfragen mehr senden",
    opted_out: "Erledigt: Wir senden Ihnen keine Umfragen mehr.",
};

const FR: Wording = Wording {
    lang: "fr",
    ticket_subject: "Comment avons-nous fait ? [#{number}]",
    ticket_intro: "Votre demande #{number} est résolue. Pouvez-vous nous dire comment cela s'est passé ?",
    csat_question: "Êtes-vous satisfait de l'aide reçue ?",
    csat_ends: ("très insatisfait", "très satisfait"),
    ces_question: "Était-il facile de résoudre votre problème ?",
    ces_ends: ("très difficile", "très facile"),
    nps_subject: "Une question de {brand}",
    nps_question: "Quelle est la probabilité que vous recommandiez {brand} à un ami ou un collègue ?",
    nps_ends: ("pas du tout probable", "extrêmement probable"),
    one_click: "Un clic suffit ; vous pourrez ajouter un commentaire ensuite.",
    comment: "Voulez-vous ajouter quelque chose ? (facultatif)",
    submit: "Envoyer ma réponse",
    thanks: "Merci — votre réponse est enregistrée. Vous pouvez la modifier ici à tout moment.",
    opt_out: "Ne plus m'envoyer d'enquêtes",
    opted_out: "C'est fait : nous ne vous enverrons plus d'enquêtes.",
};

const ES: Wording = Wording {
    lang: "es",
    ticket_subject: "¿Qué tal lo hicimos? [#{number}]",
    ticket_intro: "Su solicitud #{number} está resuelta. ¿Nos cuenta cómo fue?",
    csat_question: "¿Qué tan satisfecho está con la ayuda recibida?",
    csat_ends: ("muy insatisfecho", "muy satisfecho"),
    ces_question: "¿Qué tan fácil fue resolver su problema?",
    ces_ends: ("muy difícil", "muy fácil"),
    nps_subject: "Una pregunta de {brand}",
    nps_question: "¿Qué probabilidad hay de que recomiende {brand} a un amigo o colega?",
    nps_ends: ("nada probable", "muy probable"),
    one_click: "Basta un clic; después puede añadir un comentario si lo desea.",
    comment: "¿Quiere añadir algo? (opcional)",
    submit: "Enviar mi respuesta",
    thanks: "Gracias: su respuesta está guardada. Puede cambiarla aquí cuando quiera.",
    opt_out: "No enviarme encuestas",
    opted_out: "Hecho: no le enviaremos más encuestas.",
};

/// The languages surveys speak.
pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];

/// The wording for a language tag (`de`, `de-AT`, `fr_CA`…); English for any other.
pub fn wording(lang: Option<&str>) -> &'static Wording {
    let code = lang
        .map(|l| l.trim().to_ascii_lowercase())
        .and_then(|l| l.get(..2).map(str::to_owned))
        .unwrap_or_default();
    match code.as_str() {
        "de" => &DE,
        "fr" => &FR,
        "es" => &ES,
        _ => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_picked_by_their_tag() {
        assert_eq!(wording(Some("de-AT")).lang, "de");
        assert_eq!(wording(Some("FR")).lang, "fr");
        assert_eq!(wording(Some("x")).lang, "en");
        assert_eq!(wording(None).lang, "en");
        for l in LANGUAGES {
            let w = wording(Some(l));
            assert_eq!(w.lang, l);
            assert!(w.ticket_subject.contains("{number}"));
            assert!(w.nps_question.contains("{brand}"));
        }
    }
}
