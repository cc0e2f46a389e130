//! The support lexicon: phrases that carry a customer's mood in support conversations but
//! not in VADER's word list, each with a valence on VADER's scale (a word like "awful" is
//! about −2) — none for a word VADER's list weighs already ("wrong", "broken", "failed"),
//! which would count twice. Matched case-insensitively on word boundaries; each cue counts once per
//! text, and a waiting cue weighs more with a span of days, weeks or months beside it.

use std::sync::LazyLock;

use regex::Regex;

/// What a cue says about the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CueKind {
    /// Waiting for an answer, a delivery, a fix.
    Waiting,
    /// Writing about the same thing again.
    Repetition,
    /// Cancelling, leaving, asking for their money back.
    Leaving,
    /// Asking for a manager, complaining, threatening.
    Escalation,
    /// Something that does not work, arrived wrong, or was charged wrongly.
    Failure,
    /// Thanks for help given (not a polite sign-off).
    Gratitude,
    /// The problem is solved.
    Resolved,
}

/// A cue found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// Its kind.
    pub kind: CueKind,
    /// The words that matched.
    pub text: String,
    /// Its valence (VADER's scale), intensity included.
    pub valence: f64,
}

/// The lexicon: (pattern, valence, kind). Patterns are regular expressions over the
/// lower-cased text; `N` stands for a number written as digits or a word.
const LEXICON: &[(&str, f64, CueKind)] = &[
    // Waiting.
    (
        r"still (waiting|no\b|nothing|not\b|haven'?t|hasn'?t|hav(e|ing) to)",
        -2.0,
        CueKind::Waiting,
    ),
    (r"(been )?waiting (for|since|on) ", -1.2, CueKind::Waiting),
    (r"\bwaited\b", -1.2, CueKind::Waiting),
    (r"on hold for", -1.5, CueKind::Waiting),
    (
        r"no (reply|response|answer|word|update|news|one (ever|has|answers|called|told|seems))",
        -1.8,
        CueKind::Waiting,
    ),
    (
        r"nobody (answers|has|replied|replies|responds|got|gets|called|calls|cares|seems|told|is)",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"no ?one (ever|has|answers|replied|replies|responds|got|gets|called|calls|cares|seems|told|is)",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"(have|has|haven'?t|hasn'?t|had|didn'?t|did not|have not|has not|never) (yet )?(heard|received|gotten|got) (back|any|a |an |anything|nothing|my|the|it)",
        -1.6,
        CueKind::Waiting,
    ),
    (
        r"never (arrived|came|showed|turned up|got|heard|received|called)",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"(didn'?t|did not|doesn'?t|never) show(ed)? up",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"(get|got|getting|come|came) back to me",
        -0.6,
        CueKind::Waiting,
    ),
    (
        r"not (a|one) (single )?(reply|response|answer|word|call|update|email)",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"(heard|received|got) nothing|nothing (since|yet|so far)|(still|yet) nothing",
        -1.8,
        CueKind::Waiting,
    ),
    (
        r"(nobody|no ?one) (came|come|showed|turned up|called|rang)",
        -2.0,
        CueKind::Waiting,
    ),
    (
        r"(paid|ordered|asked|sent|wrote|emailed|called|requested|reported|booked)\b.*\b(N (days?|weeks?|months?) ago|since (the )?N)",
        -1.4,
        CueKind::Waiting,
    ),
    (
        r"(supposed|meant|due|expected) to (arrive|be|come|ship|get)\b",
        -1.0,
        CueKind::Waiting,
    ),
    (
        r"(is )?any ?(one|body) (there|home|reading|listening|working on)",
        -1.8,
        CueKind::Waiting,
    ),
    (r"for how long\b", -1.2, CueKind::Waiting),
    (
        r"(have|had|having|keep|need) to chase",
        -1.5,
        CueKind::Waiting,
    ),
    (
        r"it'?s been (over |more than |almost |nearly )?(a|an|N) (day|week|month|year)s?",
        -1.6,
        CueKind::Waiting,
    ),
    (
        r"(for|in|since|after|over|than) (a |N )?(days|weeks|months|ages)\b",
        -1.0,
        CueKind::Waiting,
    ),
    (
        r"(without|no) (an? )?(internet|power|service|access|phone|reply|answer|response|help|explanation|warning|notice)",
        -1.6,
        CueKind::Waiting,
    ),
    (
        r#""?(processing|pending|in transit)"? for"#,
        -1.4,
        CueKind::Waiting,
    ),
    // Repetition.
    (
        r"(second|third|fourth|fifth|sixth|N(st|nd|rd|th)) (time|email|call|message|request|week|month|day)",
        -1.6,
        CueKind::Repetition,
    ),
    (
        r"(N|several|many|multiple|countless) times\b",
        -1.4,
        CueKind::Repetition,
    ),
    (r"how many (more )?times", -2.0, CueKind::Repetition),
    (
        r"(again\.|again!|again\?|^again\b|\. again\b|, again\b)",
        -1.4,
        CueKind::Repetition,
    ),
    (
        r"(keep|keeps|kept) (getting|happening|saying|sending|asking|dropping|crashing|failing|telling|charging|coming|logging)",
        -1.6,
        CueKind::Repetition,
    ),
    (r"(this|it) keeps", -1.2, CueKind::Repetition),
    (r"in a row\b", -1.4, CueKind::Repetition),
    (
        r"N (different )?(people|agents|departments|persons|colleagues)\b",
        -1.4,
        CueKind::Repetition,
    ),
    (
        r"from one (department|person|agent|team) to (another|the next)|passed (around|from|between)",
        -1.8,
        CueKind::Repetition,
    ),
    (
        r"(the )?last time (i|we) (order|buy|use|book|deal)",
        -2.0,
        CueKind::Repetition,
    ),
    (
        r"again every|every N (minutes|hours|days)",
        -1.2,
        CueKind::Repetition,
    ),
    (r"every (single )?time", -1.0, CueKind::Repetition),
    (
        r"(the )?same (problem|issue|question|invoice|error|answer|response|reply|canned|screenshots|thing|story)",
        -1.2,
        CueKind::Repetition,
    ),
    (
        r"(explain|tell|send|repeat)[a-z]* (my|the|this|it|you) [^\n]*again",
        -1.4,
        CueKind::Repetition,
    ),
    (
        r"(still|also) (broken|there|the same|not|doesn'?t|isn'?t|won'?t|can'?t|drops|happening|fails|failing|wrong|missing|crashes)",
        -1.8,
        CueKind::Repetition,
    ),
    (
        r"(isn'?t|is not|wasn'?t|was not|not|never) (been )?(fixed|resolved|solved|sorted)",
        -2.0,
        CueKind::Repetition,
    ),
    (
        r"(told|said|promised|assured)\b.* (fixed|resolved|sorted|refund|call|back|yesterday|today|week)",
        -1.2,
        CueKind::Repetition,
    ),
    // Leaving.
    (
        r"cancel+ (my|the|our|this|your) (subscription|account|order|contract|membership|plan|service|booking)",
        -1.8,
        CueKind::Leaving,
    ),
    (
        r"\bcancel+ (it|everything|immediately)",
        -1.6,
        CueKind::Leaving,
    ),
    (
        r"(close|delete|terminate|remove) (my|our|the) (account|data|profile|card)",
        -1.6,
        CueKind::Leaving,
    ),
    (
        r"switch(ing)? (to|over to) (another|a different|a competitor|your competitor|someone else)",
        -2.2,
        CueKind::Leaving,
    ),
    (
        r"(i'?m|i am|we'?re|we are) (done|finished) with",
        -2.5,
        CueKind::Leaving,
    ),
    (r"(my|our) money back", -2.0, CueKind::Leaving),
    (r"\b(charge ?back|disputing)\b", -2.0, CueKind::Leaving),
    (
        r"(leave|leaving|write|writing|post|posting) (a|an) ([a-z]+ )?review",
        -1.2,
        CueKind::Leaving,
    ),
    (
        r"(never|won'?t) (order|buy|use|recommend)[a-z]* (from )?(you|again|this)",
        -2.5,
        CueKind::Leaving,
    ),
    // Escalation.
    (
        r"(speak|talk) (to|with) (a|your|the) (manager|supervisor|someone in charge|human|real person)",
        -1.8,
        CueKind::Escalation,
    ),
    (r"\bescalat(e|ing|ion)\b", -1.6, CueKind::Escalation),
    (
        r"\b(file|filing|make|making|lodge|lodging|formal) (a )?complaint",
        -2.0,
        CueKind::Escalation,
    ),
    (
        r"\b(legal action|lawyer|attorney|solicitor|court|ombudsman|trading standards)\b",
        -2.5,
        CueKind::Escalation,
    ),
    (r"\bnot acceptable\b", -2.2, CueKind::Escalation),
    (r"\b(had|have) enough\b", -2.0, CueKind::Escalation),
    (r"\benough (of|is enough)\b", -1.6, CueKind::Escalation),
    (r"\b(no|any) help\b", -1.2, CueKind::Escalation),
    (r"in circles\b", -1.8, CueKind::Escalation),
    (r"canned (response|reply|answer)", -1.4, CueKind::Escalation),
    (
        r"\bdoes(n'?t| not) (seem to )?care\b",
        -2.0,
        CueKind::Escalation,
    ),
    // Failure.
    (r"(does|do|did)(n'?t| not) work", -1.8, CueKind::Failure),
    (
        r"(is|are|was|were|isn'?t|aren'?t|not|stopped|still not) (not )?working",
        -1.8,
        CueKind::Failure,
    ),
    (
        r"\b(can'?t|cannot|can not|unable to|could(n'?t| not)|won'?t let me) (log|sign|get|access|reach|pay|open|find|use|download|send|connect|see|load|save|print|order|book|cancel|update)",
        -1.6,
        CueKind::Failure,
    ),
    (r"\bcrash(es|ed|ing)\b", -1.8, CueKind::Failure),
    (r"\bfailing\b", -1.5, CueKind::Failure),
    (r"\bunusable\b", -2.2, CueKind::Failure),
    (
        r"\b(wiped|erased|overheat[a-z]*|burning|someone else'?s|does nothing|nothing happens)\b",
        -1.6,
        CueKind::Failure,
    ),
    (r"\?\?|\?!|!\?", -1.0, CueKind::Failure),
    (
        r"\b(locked|logged) (me )?(out|in)\b.*\b(no reason|middle|again)",
        -1.6,
        CueKind::Failure,
    ),
    (r"\b(locked out|locked for)\b", -1.4, CueKind::Failure),
    (
        r"\b(is|are|was|were|all|data|everything|work) (gone|lost|deleted|missing|wiped)\b",
        -2.0,
        CueKind::Failure,
    ),
    (
        r"\b(incorrect|duplicated|spins forever|out of date)\b",
        -1.2,
        CueKind::Failure,
    ),
    (
        r"\b(charged|billed) (me )?(twice|double|again|after|for something|a fee|an extra)",
        -2.2,
        CueKind::Failure,
    ),
    (
        r"\bnever (agreed|ordered|signed|asked)\b",
        -1.8,
        CueKind::Failure,
    ),
    (
        r"\bwithout (any |an? )?(explanation|warning|notice|reason)\b",
        -1.6,
        CueKind::Failure,
    ),
    (r"\bno reason\b", -1.2, CueKind::Failure),
    (r"\bdoes(n'?t| not) exist\b", -1.4, CueKind::Failure),
    (
        r"\b(drops|dropping|keeps dropping|slow|slower|outage|down)\b",
        -0.8,
        CueKind::Failure,
    ),
    (
        r"\b(removed|took away|taken away) (the|my|our)",
        -1.4,
        CueKind::Failure,
    ),
    (r"\bnothing (at|in|on|has)\b", -1.0, CueKind::Failure),
    (
        r"\blosing (sales|money|customers|business|data)\b",
        -2.0,
        CueKind::Failure,
    ),
    // Gratitude for help given, and a problem solved.
    (
        r"thank(s| you)( (so|very) much| a lot| again| a million)",
        1.8,
        CueKind::Gratitude,
    ),
    (
        r"thank(s| you) (for|to) (the |your |all your |all the |such )?(help|quick|fast|speedy|prompt|patience|refund|support|great|excellent|time|assistance|explanation|going|sorting|fixing|resolving|helping|letting|getting|explaining|sending)",
        1.6,
        CueKind::Gratitude,
    ),
    (
        r"many thanks|much appreciated|(really |truly |greatly )?appreciate (it|this|that|how|your|the)",
        1.6,
        CueKind::Gratitude,
    ),
    (
        r"\byou('?re| are) (a star|the best|amazing|awesome|brilliant|great|a lifesaver)",
        2.0,
        CueKind::Gratitude,
    ),
    (r"(saved|made) my (day|week)", 2.0, CueKind::Gratitude),
    (r"above and beyond", 2.0, CueKind::Gratitude),
    (
        r"(want|wanted) to say (thanks|thank you)|thank(s| you) for taking the time",
        1.6,
        CueKind::Gratitude,
    ),
    (r"\brecommend(ed)? you\b", 1.8, CueKind::Gratitude),
    (
        r"(that|this|it|which) (fixed|solved|sorted|did) (it|the trick|the problem|the issue)",
        2.0,
        CueKind::Resolved,
    ),
    (
        r"(works|working|worked) (now|again|perfectly|fine|great|smoothly|like a charm)",
        1.8,
        CueKind::Resolved,
    ),
    (
        r"(problem|issue|all) (is |has been )?(solved|resolved|fixed|sorted)",
        1.8,
        CueKind::Resolved,
    ),
    (
        r"(is|are) (resolved|solved|fixed)\b",
        1.5,
        CueKind::Resolved,
    ),
    (r"\ball good( now)?\b", 1.6, CueKind::Resolved),
    (r"(got|get|have) it working", 1.8, CueKind::Resolved),
    (
        r"(arrived|came) (today|early|a day early|on time|in perfect|safely)",
        1.4,
        CueKind::Resolved,
    ),
    (
        r"\b(a relief|that'?s exactly|just what i|exactly what i)",
        1.6,
        CueKind::Resolved,
    ),
];

/// Words for small numbers, read where the lexicon says `N`.
const NUMBER: &str = r"(\d+|a couple of|a few|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several)";

/// Greetings, polite formulas and sign-offs: taken out of what VADER reads (in a support
/// message they say nothing about the mood; "please" and a closing "thanks" score as
/// praise in VADER's list). Thanks for help given is a [`CueKind::Gratitude`] cue.
const COURTESIES: &str = r"(?i)\b(i'?d like|i would like|would like|let me know|thanks( a lot| so much| again| in advance)?|thank you( (so|very) much| in advance)?|many thanks|please|pls|kind regards|best regards|warm regards|regards|best wishes|cheers|sincerely|hi|hello|hey|dear|good (morning|afternoon|evening))\b";

/// How a request opens (once its courtesies are taken out).
const REQUEST: &str = r"(?i)^[\s,]*(can|could|would|will|may|do|does|is|are|how|what|where|when|which|who|i need|we need|to (know|add|change|update|order|book|ask|return))\b";

struct Compiled {
    lexicon: Vec<(Regex, f64, CueKind)>,
    /// Every lexicon pattern at once: one pass says which match at all.
    any: regex::RegexSet,
    request: Regex,
    courtesies: Regex,
    span: Regex,
    long_span: Regex,
}

/// A lexicon pattern as compiled: over lower-cased text, with ASCII word boundaries (the
/// lexicon is English; these keep matching on the fast automata).
fn compiled_pattern(p: &str) -> String {
    ascii_bounds(&p.replace('N', NUMBER))
}

/// A pattern with ASCII word boundaries.
fn ascii_bounds(p: &str) -> String {
    p.replace(r"\b", r"(?-u:\b)")
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    Compiled {
    any: regex::RegexSetBuilder::new(LEXICON.iter().map(|(p, _, _)| compiled_pattern(p)))
        .dfa_size_limit(32 << 20)
        .build()
        .unwrap_or_else(|_| regex::RegexSet::empty()),
    lexicon: LEXICON
        .iter()
        .filter_map(|(p, v, k)| {
            let pattern = compiled_pattern(p);
            match Regex::new(&pattern) {
                Ok(r) => Some((r, *v, *k)),
                Err(e) => {
                    // A pattern of the table above that does not compile: a bug the
                    // unit test `every_pattern_compiles` catches; never a crash here.
                    debug_assert!(false, "{p}: {e}");
                    None
                }
            }
        })
        .collect(),
    courtesies: Regex::new(&ascii_bounds(COURTESIES)).unwrap_or_else(|_| never()),
    request: Regex::new(&ascii_bounds(REQUEST)).unwrap_or_else(|_| never()),
    span: Regex::new(&ascii_bounds(&format!(r"(?i)\b{NUMBER} (days?|weeks?|months?|hours?|minutes)\b")))
        .unwrap_or_else(|_| never()),
    long_span: Regex::new(&ascii_bounds(&format!(
        r"(?i)\b({NUMBER} (weeks?|months?)|since (january|february|march|april|may|june|july|august|september|october|november|december|last))\b"
    )))
    .unwrap_or_else(|_| never()),
}
});

/// A regex that matches nothing (the fallback of a pattern that would not compile).
fn never() -> Regex {
    #[expect(clippy::unwrap_used, reason = "a constant pattern that compiles")]
    let r = Regex::new(r"\b\B").unwrap();
    r
}

/// The cues in `text`, each at most once, waiting cues weighted by the span they mention
/// (a span of days adds half again, of weeks or months one more).
pub fn find(text: &str) -> Vec<Cue> {
    let c = &*COMPILED;
    let lower = text.to_lowercase();
    let mut out: Vec<Cue> = Vec::new();
    for i in c.any.matches(&lower).iter() {
        let Some((re, valence, kind)) = c.lexicon.get(i) else {
            continue;
        };
        if let Some(m) = re.find(&lower) {
            out.push(Cue {
                kind: *kind,
                text: m.as_str().to_owned(),
                valence: *valence,
            });
        }
    }
    let waiting = out.iter().any(|c| c.kind == CueKind::Waiting);
    if waiting && c.span.is_match(text) {
        let extra = if c.long_span.is_match(text) { 1.0 } else { 0.5 };
        for cue in out.iter_mut().filter(|c| c.kind == CueKind::Waiting) {
            cue.valence -= extra;
        }
    }
    out
}

/// The sentences of `text` (split after `.`, `!` and `?`).
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| s.chars().any(char::is_alphanumeric))
}

/// Whether a sentence asks: a question, or a request opened by a polite formula.
pub fn asks(sentence: &str) -> bool {
    sentence.trim_end().ends_with('?') || COMPILED.request.is_match(sentence)
}

/// `text` without its greetings, polite formulas and sign-offs.
pub fn without_courtesies(text: &str) -> String {
    COMPILED.courtesies.replace_all(text, "").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(COMPILED.lexicon.len(), LEXICON.len());
        assert_eq!(COMPILED.any.len(), LEXICON.len());
        assert_eq!(find("STILL WAITING").len(), 1, "case does not matter");
        assert!(!never().is_match("anything"));
    }

    #[test]
    fn a_span_weighs_on_waiting() {
        let short = find("still waiting");
        let long = find("still waiting, three weeks now");
        assert!(long[0].valence < short[0].valence, "{short:?} {long:?}");
        assert!(find("How do I change my address?").is_empty());
    }

    #[test]
    fn courtesies_are_taken_out() {
        assert_eq!(
            without_courtesies("Hi, where is it? Thanks in advance").trim(),
            ", where is it?"
        );
    }
}
