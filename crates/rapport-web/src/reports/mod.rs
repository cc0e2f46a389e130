//! `/reports`: the support dashboard for supervisors — the period's figures beside the
//! period before, charts drawn on the server (volume by day, channel and category, the
//! backlog by age) each with its data table, and the per-agent and per-team tables that
//! put quality beside speed. Every table downloads as CSV (`/reports/export.csv`). The
//! same store reports and the same rules as `GET /api/v1/reports/summary` and
//! `/dashboard`.

pub mod charts;
pub mod themes;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::api::reports::dashboard::{PersonFigures, ReportDashboard, view};
use rapport_http::api::reports::{Figures, ReportParams, TimeFigure, figures};
use rapport_store::op;
use rapport_store::reports::{dashboard, summary};
use serde::Deserialize;

use crate::page::{MeView, error_page, page, require, store_error};
use crate::sessions::Me;

/// The page's query: the period and the filters, as the form sends them (an empty
/// select means "all").
#[derive(Debug, Default, Clone, Deserialize)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    team_id: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    agent_id: Option<String>,
    /// For the CSV export: which table.
    table: Option<String>,
}

impl DashboardQuery {
    /// The API's parameters: the last 30 days by default; an empty filter is none.
    fn params(&self, today: chrono::NaiveDate) -> Result<ReportParams, &'static str> {
        let id = |v: &Option<String>, field: &'static str| {
            given(v)
                .map(|s| s.parse::<i64>().map_err(|_| field))
                .transpose()
        };
        Ok(ReportParams {
            from: given(&self.from)
                .map(str::to_owned)
                .unwrap_or_else(|| (today - chrono::Duration::days(29)).to_string()),
            to: given(&self.to)
                .map(str::to_owned)
                .unwrap_or_else(|| today.to_string()),
            team_id: id(&self.team_id, "team")?,
            channel: given(&self.channel).map(str::to_owned),
            category: given(&self.category).map(str::to_owned),
            agent_id: id(&self.agent_id, "agent")?,
        })
    }
}

/// A given, non-empty value.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The page for a bad range or filter, naming the field.
fn bad(field: &str, msg: &str) -> Response {
    error_page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Check the report's range and filters",
        &format!("{field}: {msg}"),
    )
}

/// A duration as the workspace writes them (`45 min`, `2 h 5 min`, `3 d 4 h`, the SLA
/// clocks' words), or `—` without one.
pub fn human(secs: Option<i64>) -> String {
    secs.map_or_else(|| "—".into(), rapport_domain::sla::glance::short_duration)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.0}%"))
}

/// One figure on the page: its name, its value, the period before's, and what it is
/// computed from.
pub struct Card {
    name: &'static str,
    value: String,
    previous: String,
    basis: String,
}

fn time_card(name: &'static str, now: &TimeFigure, before: &TimeFigure) -> Card {
    Card {
        name,
        value: format!(
            "{} (90%: {})",
            human(now.median_seconds),
            human(now.p90_seconds)
        ),
        previous: human(before.median_seconds),
        basis: format!("{} tickets", now.count),
    }
}

fn cards(now: &Figures, before: &Figures, d: &ReportDashboard) -> Vec<Card> {
    let num = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{v:.1}"));
    vec![
        Card {
            name: "Tickets created",
            value: now.volume.count.to_string(),
            previous: before.volume.count.to_string(),
            basis: String::new(),
        },
        time_card(
            "First response",
            &now.first_response_time,
            &before.first_response_time,
        ),
        Card {
            name: "Next response",
            value: format!(
                "{} (90%: {})",
                human(d.next_response_time.median_seconds),
                human(d.next_response_time.p90_seconds)
            ),
            previous: String::new(),
            basis: format!("{} replies", d.next_response_time.count),
        },
        time_card("Resolution", &now.resolution_time, &before.resolution_time),
        Card {
            name: "SLA compliance",
            value: pct(now.sla_compliance.value),
            previous: pct(before.sla_compliance.value),
            basis: format!("{} tickets with targets", now.sla_compliance.count),
        },
        Card {
            name: "One-touch resolution",
            value: pct(now.one_touch_resolution.value),
            previous: pct(before.one_touch_resolution.value),
            basis: format!("{} solved", now.one_touch_resolution.count),
        },
        Card {
            name: "Reopened",
            value: pct(d.reopen_rate.value),
            previous: String::new(),
            basis: format!("{} solved", d.reopen_rate.count),
        },
        Card {
            name: "CSAT",
            value: pct(now.csat.value),
            previous: pct(before.csat.value),
            basis: format!(
                "{} answers, {} response rate",
                now.csat.count,
                pct(now.csat.response_rate)
            ),
        },
        Card {
            name: "CES (1–7, lower is easier)",
            value: num(now.ces.value),
            previous: num(before.ces.value),
            basis: format!("{} answers", now.ces.count),
        },
        Card {
            name: "NPS",
            value: now
                .nps
                .value
                .map_or_else(|| "—".into(), |v| format!("{v:.0}")),
            previous: before
                .nps
                .value
                .map_or_else(|| "—".into(), |v| format!("{v:.0}")),
            basis: format!(
                "{} promoters, {} passives, {} detractors",
                now.nps.promoters, now.nps.passives, now.nps.detractors
            ),
        },
        Card {
            name: "Promises kept",
            value: pct(d.promises_kept.value),
            previous: String::new(),
            basis: format!("{} due", d.promises_kept.count),
        },
        Card {
            name: "Self-service deflection",
            value: pct(d.deflection_rate.value),
            previous: String::new(),
            basis: format!("{} visits (all teams)", d.deflection_rate.count),
        },
    ]
}

/// A select's option: value, label, selected.
type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "reports.html")]
struct DashboardPage {
    me: MeView,
    from: String,
    to: String,
    query: String,
    teams: Vec<Choice>,
    agents: Vec<Choice>,
    channels: Vec<Choice>,
    categories: Vec<Choice>,
    cards: Vec<Card>,
    volume_svg: String,
    channels_svg: String,
    categories_svg: String,
    /// Each category's name and its tickets (the chart's table).
    category_rows: Vec<(String, i64)>,
    backlog_svg: String,
    d: ReportDashboard,
    header: [&'static str; 8],
    agent_rows: Vec<Vec<String>>,
    team_rows: Vec<Vec<String>>,
}

/// The per-person table's header.
const PERSON_HEADER: [&str; 8] = [
    "Name",
    "Solved",
    "CSAT",
    "Reopened",
    "Promises kept",
    "First response (median)",
    "Resolution (median)",
    "Resolution (90%)",
];

fn person_cells(p: &PersonFigures) -> Vec<String> {
    vec![
        p.name.clone(),
        p.solved.to_string(),
        format!("{} of {}", pct(p.csat.value), p.csat.count),
        format!("{} of {}", pct(p.reopen_rate.value), p.reopen_rate.count),
        format!(
            "{} of {}",
            pct(p.promises_kept.value),
            p.promises_kept.count
        ),
        human(p.first_response_time.median_seconds),
        human(p.resolution_time.median_seconds),
        human(p.resolution_time.p90_seconds),
    ]
}

/// What the page and the export read.
struct Loaded {
    params: ReportParams,
    now: Figures,
    before: Figures,
    d: ReportDashboard,
    teams: Vec<rapport_store::people::Team>,
    users: Vec<rapport_store::people::User>,
    categories: Vec<rapport_store::categories::CategoryInfo>,
}

async fn load(st: &AppState, me: &Me, q: &DashboardQuery) -> Result<Loaded, Response> {
    if let Some(r) = require(&me.session.viewer, Permission::ViewReports) {
        return Err(r);
    }
    let today = st.now().to_datetime().date_naive();
    let params = q
        .params(today)
        .map_err(|f| bad(f, "choose one from the list"))?;
    let (period, filter) = params.parse().map_err(|e| bad(&e.field, &e.message))?;
    let now = st.now();
    let before = period.previous();
    rapport_store::reports::rollup::catch_up(&st.db)
        .await
        .map_err(store_error)?;
    let loaded = st
        .db
        .read(op!(c => Ok((
            summary(c, &period, &filter, now).await?,
            summary(c, &before, &filter, now).await?,
            dashboard::dashboard(c, &period, &filter, now).await?,
            rapport_store::people::list_teams(c).await?,
            rapport_store::people::list_users(c).await?,
            rapport_store::categories::list(c).await?,
        ))))
        .await;
    let (this, prev, d, teams, users, categories) = loaded.map_err(store_error)?;
    Ok(Loaded {
        now: figures(this),
        before: figures(prev),
        d: view(&d, period.from.to_string(), period.to.to_string()),
        params,
        teams,
        users,
        categories,
    })
}

/// The dashboard.
pub async fn dashboard_page(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let l = match load(&st, &me, &q).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let p = &l.params;
    let sel = |v: String, label: String, on: bool| (v, label, on);
    let teams = l
        .teams
        .iter()
        .map(|t| sel(t.id.to_string(), t.name.clone(), p.team_id == Some(t.id)))
        .collect();
    let agents = l
        .users
        .iter()
        .map(|u| sel(u.id.to_string(), u.name.clone(), p.agent_id == Some(u.id)))
        .collect();
    let channels = rapport_domain::Channel::ALL
        .iter()
        .map(|c| {
            let s = c.as_str();
            sel(s.into(), s.into(), p.channel.as_deref() == Some(s))
        })
        .collect();
    let categories = l
        .categories
        .iter()
        .map(|c| {
            sel(
                c.slug.clone(),
                c.name.clone(),
                p.category.as_deref() == Some(&c.slug),
            )
        })
        .collect();
    let category_name = |slug: &Option<String>| match slug {
        None => "None".to_owned(),
        Some(s) => l
            .categories
            .iter()
            .find(|c| &c.slug == s)
            .map_or_else(|| s.clone(), |c| c.name.clone()),
    };
    let d = &l.d;
    let days: Vec<(String, i64, i64)> = d
        .days
        .iter()
        .map(|x| (x.day.clone(), x.created, x.solved))
        .collect();
    let shares = |v: &[rapport_http::api::reports::dashboard::Share],
                  name: &dyn Fn(&Option<String>) -> String| {
        v.iter()
            .map(|s| (name(&s.key), s.count))
            .collect::<Vec<_>>()
    };
    let plain = |k: &Option<String>| k.clone().unwrap_or_default();
    let query = export_query(p);
    page(&DashboardPage {
        me: MeView::of(&me, ""),
        from: p.from.clone(),
        to: p.to.clone(),
        query,
        teams,
        agents,
        channels,
        categories,
        cards: cards(&l.now, &l.before, d),
        volume_svg: charts::columns(
            "Tickets created (bars) and solved (line) per day",
            &days,
            "created",
            "solved",
        ),
        channels_svg: charts::bars("Tickets created by channel", &shares(&d.channels, &plain)),
        categories_svg: charts::bars(
            "Tickets created by category",
            &shares(&d.categories, &category_name),
        ),
        category_rows: shares(&d.categories, &category_name),
        backlog_svg: charts::bars("Unsolved tickets by age", &shares(&d.backlog.ages, &plain)),
        header: PERSON_HEADER,
        agent_rows: d.agents.iter().map(person_cells).collect(),
        team_rows: d.teams.iter().map(person_cells).collect(),
        d: l.d.clone(),
    })
}

/// The period and filters as a query string for the export links.
fn export_query(p: &ReportParams) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("from", &p.from).append_pair("to", &p.to);
    if let Some(t) = p.team_id {
        q.append_pair("team_id", &t.to_string());
    }
    if let Some(c) = &p.channel {
        q.append_pair("channel", c);
    }
    if let Some(c) = &p.category {
        q.append_pair("category", c);
    }
    if let Some(a) = p.agent_id {
        q.append_pair("agent_id", &a.to_string());
    }
    q.finish()
}

/// A cell a spreadsheet would not take for a formula (names come from people).
fn cell(s: &str) -> String {
    let lead = s.trim_start_matches([' ', '\u{3000}']);
    if lead.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// `/reports/export.csv?table=…`: one of the dashboard's tables as CSV — `days`,
/// `channels`, `categories`, `backlog`, `agents` or `teams`.
pub async fn export(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let table = q.table.clone().unwrap_or_default();
    let l = match load(&st, &me, &q).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let d = &l.d;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let secs = |v: Option<i64>| v.map(|s| s.to_string()).unwrap_or_default();
    let num = |v: Option<f64>| v.map(|s| s.to_string()).unwrap_or_default();
    match table.as_str() {
        "days" => {
            rows.push(vec!["day".into(), "created".into(), "solved".into()]);
            for x in &d.days {
                rows.push(vec![
                    x.day.clone(),
                    x.created.to_string(),
                    x.solved.to_string(),
                ]);
            }
        }
        "channels" | "categories" | "backlog" => {
            let (head, v) = match table.as_str() {
                "channels" => ("channel", &d.channels),
                "categories" => ("category", &d.categories),
                _ => ("age", &d.backlog.ages),
            };
            rows.push(vec![head.into(), "tickets".into()]);
            for s in v {
                rows.push(vec![s.key.clone().unwrap_or_default(), s.count.to_string()]);
            }
        }
        "agents" | "teams" => {
            rows.push(
                [
                    "id",
                    "name",
                    "solved",
                    "csat_percent",
                    "csat_answers",
                    "reopen_percent",
                    "promises_kept_percent",
                    "promises_due",
                    "first_response_median_seconds",
                    "first_response_p90_seconds",
                    "first_responses",
                    "resolution_median_seconds",
                    "resolution_p90_seconds",
                ]
                .map(str::to_owned)
                .to_vec(),
            );
            let people = if table == "agents" {
                &d.agents
            } else {
                &d.teams
            };
            for p in people {
                rows.push(vec![
                    p.id.map(|i| i.to_string()).unwrap_or_default(),
                    p.name.clone(),
                    p.solved.to_string(),
                    num(p.csat.value),
                    p.csat.count.to_string(),
                    num(p.reopen_rate.value),
                    num(p.promises_kept.value),
                    p.promises_kept.count.to_string(),
                    secs(p.first_response_time.median_seconds),
                    secs(p.first_response_time.p90_seconds),
                    p.first_response_time.count.to_string(),
                    secs(p.resolution_time.median_seconds),
                    secs(p.resolution_time.p90_seconds),
                ]);
            }
        }
        _ => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Which table?",
                "table: one of days, channels, categories, backlog, agents, teams",
            );
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &rows {
        if let Err(e) = w.write_record(r.iter().map(|s| cell(s))) {
            tracing::error!(error = %e, "writing a report's CSV");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let body = match w.into_inner() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "writing a report's CSV");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"rapport-{table}-{}-{}.csv\"",
                    l.params.from, l.params.to
                ),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(None), "—");
        assert_eq!(human(Some(42)), "1 min");
        assert_eq!(human(Some(150)), "3 min");
        assert_eq!(human(Some(5400)), "1 h 30 min");
        assert_eq!(human(Some(3 * 86_400)), "3 d");
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Ada"), "Ada");
        assert_eq!(cell("  =1+1"), "'  =1+1");
        assert_eq!(cell("＝1+1"), "'＝1+1");
    }

    #[test]
    fn empty_filters_are_none_and_the_default_is_thirty_days() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let q = DashboardQuery {
            team_id: Some(String::new()),
            agent_id: Some("7".into()),
            ..Default::default()
        };
        let p = q.params(today).unwrap();
        assert_eq!(
            (p.from.as_str(), p.to.as_str()),
            ("2026-10-29", "2026-11-27")
        );
        assert_eq!((p.team_id, p.agent_id), (None, Some(7)));
        let q = DashboardQuery {
            team_id: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(q.params(today).unwrap_err(), "team");
    }
}
