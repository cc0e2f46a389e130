//! Agents' credentials: deactivation, roles, passwords and API tokens through the API, the
//! admin pages and the CLI; the sign-in throttle per (account, client address); and the
//! client address behind reverse proxies.

use std::net::IpAddr;

use reqwest::header;
use serde_json::json;

use crate::both_backends;
use crate::harness::{Backend, Process, Scratch, TestApp, assert_error, bin, run_cli};
use crate::web::{client, login_attempt as attempt, set_password, sign_in};
use rapport_store::op;

/// A client whose connections come from `ip` (any 127.x address reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A page load with a session cookie: its status.
async fn page(app: &TestApp, session: &str, path: &str) -> u16 {
    client()
        .get(app.url(path))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An API call with a token from a given client: its status.
async fn api_status(base: &str, http: &reqwest::Client, token: &str, xff: Option<&str>) -> u16 {
    let mut req = http.get(format!("{base}/api/v1/me")).bearer_auth(token);
    if let Some(xff) = xff {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap().status().as_u16()
}

both_backends! {
    async fn deactivating_an_agent_ends_their_tokens_and_sessions(app) {
        set_password(&app, "agent.a@example.com", "correct horse battery").await;
        let (session, _) = sign_in(&app, &client(), "agent.a@example.com", "correct horse battery").await;
        let uid = app.agent.id;
        assert_eq!(app.call("GET", "/api/v1/me", Some(&app.agent.token), None).await.0, 200);

        // Only admins may change people.
        let (s, b) = app
            .call("PATCH", &format!("/api/v1/users/{}", app.agent_b.id), Some(&app.supervisor.token), Some(json!({"active": false})))
            .await;
        assert_error(s, &b, 403, None);
        // Bad input names its field.
        let (s, b) = app.patch(&format!("/api/v1/users/{uid}"), json!({"role": "wizard"})).await;
        assert_error(s, &b, 422, Some("role"));
        let (s, b) = app.patch(&format!("/api/v1/users/{uid}"), json!({"active": "no"})).await;
        assert_error(s, &b, 422, Some("active"));
        let (s, b) = app.patch("/api/v1/users/999999", json!({"active": false})).await;
        assert_error(s, &b, 404, None);

        let (s, u) = app.patch(&format!("/api/v1/users/{uid}"), json!({"active": false})).await;
        assert_eq!(s, 200, "{u}");
        assert_eq!(u["active"], false);
        let (s, b) = app.call("GET", "/api/v1/me", Some(&app.agent.token), None).await;
        assert_error(s, &b, 401, None);
        // The browser session ended: the next page load goes to sign-in.
        let r = client()
            .get(app.url("/inbox"))
            .header(header::COOKIE, format!("rapport_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()[header::LOCATION].to_str().unwrap().starts_with("/login"));
        // And a deactivated agent cannot sign in.
        assert_eq!(attempt(&app.base, &client(), "agent.a@example.com", "correct horse battery", None).await, 401);

        // Reactivated, they can sign in again.
        let (s, u) = app.patch(&format!("/api/v1/users/{uid}"), json!({"active": true})).await;
        assert_eq!((s, &u["active"]), (200, &json!(true)), "{u}");
        sign_in(&app, &client(), "agent.a@example.com", "correct horse battery").await;
        app.stop().await;
    }

    async fn the_last_admin_can_be_neither_deactivated_nor_demoted(app) {
        let me = app.admin.id;
        let (s, b) = app.patch(&format!("/api/v1/users/{me}"), json!({"active": false})).await;
        assert_error(s, &b, 422, Some("active"));
        let (s, b) = app.patch(&format!("/api/v1/users/{me}"), json!({"role": "supervisor"})).await;
        assert_error(s, &b, 422, Some("role"));
        assert_eq!(app.call("GET", "/api/v1/me", Some(&app.admin.token), None).await.1["role"], "admin");

        // With a second admin, the first can step down; roles use the API's names.
        let sup = app.supervisor.id;
        let (s, u) = app.patch(&format!("/api/v1/users/{sup}"), json!({"role": "admin"})).await;
        assert_eq!((s, u["role"].as_str()), (200, Some("admin")), "{u}");
        let (s, u) = app.patch(&format!("/api/v1/users/{me}"), json!({"role": "agent"})).await;
        assert_eq!((s, u["role"].as_str()), (200, Some("agent")), "{u}");
        // The new role holds at once.
        let (s, b) = app
            .call("POST", "/api/v1/users", Some(&app.admin.token), Some(json!({"email": "x@example.com", "name": "X", "role": "agent"})))
            .await;
        assert_error(s, &b, 403, None);
        // Now the former supervisor is the last admin.
        let (s, b) = app
            .call("PATCH", &format!("/api/v1/users/{sup}"), Some(&app.supervisor.token), Some(json!({"active": false})))
            .await;
        assert_error(s, &b, 422, Some("active"));
        app.stop().await;
    }

    async fn a_password_change_or_reset_ends_the_other_sessions(app) {
        set_password(&app, "agent.a@example.com", "correct horse battery").await;
        let (s1, _) = sign_in(&app, &client(), "agent.a@example.com", "correct horse battery").await;
        // Changing one's own password needs the current one.
        let (s, b) = app
            .call("POST", "/api/v1/me/password", Some(&app.agent.token),
                Some(json!({"current_password": "not it at all", "new_password": "a brand new secret"})))
            .await;
        assert_error(s, &b, 422, Some("current_password"));
        let (s, b) = app
            .call("POST", "/api/v1/me/password", Some(&app.agent.token),
                Some(json!({"current_password": "correct horse battery", "new_password": "short"})))
            .await;
        assert_error(s, &b, 422, Some("new_password"));
        assert_eq!(page(&app, &s1, "/inbox").await, 200, "a refused change ends nothing");
        let (s, b) = app
            .call("POST", "/api/v1/me/password", Some(&app.agent.token),
                Some(json!({"current_password": "correct horse battery", "new_password": "a brand new secret"})))
            .await;
        assert_eq!(s, 204, "{b}");
        assert_eq!(page(&app, &s1, "/inbox").await, 303, "the change ended the session");
        assert_eq!(attempt(&app.base, &client(), "agent.a@example.com", "correct horse battery", None).await, 401);
        let (s2, _) = sign_in(&app, &client(), "agent.a@example.com", "a brand new secret").await;

        // An admin's reset through the API ends the agent's sessions too.
        let (s, b) = app.patch(&format!("/api/v1/users/{}", app.agent.id), json!({"password": "short"})).await;
        assert_error(s, &b, 422, Some("password"));
        let (s, _) = app.patch(&format!("/api/v1/users/{}", app.agent.id), json!({"password": "reset by the admin"})).await;
        assert_eq!(s, 200);
        assert_eq!(page(&app, &s2, "/inbox").await, 303);
        let (s3, _) = sign_in(&app, &client(), "agent.a@example.com", "reset by the admin").await;

        // And through the admin page: the agent's sessions end, the admin's own stays.
        set_password(&app, "admin@example.com", "the admin's password").await;
        let (admin, csrf) = sign_in(&app, &client(), "admin@example.com", "the admin's password").await;
        let (admin_elsewhere, _) = sign_in(&app, &client(), "admin@example.com", "the admin's password").await;
        let r = client()
            .post(app.url(&format!("/admin/users/{}/password", app.agent.id)))
            .header(header::COOKIE, format!("rapport_session={admin}"))
            .form(&[("csrf", csrf.as_str()), ("password", "set on the admin page")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(page(&app, &s3, "/inbox").await, 303);
        sign_in(&app, &client(), "agent.a@example.com", "set on the admin page").await;
        let r = client()
            .post(app.url(&format!("/admin/users/{}/password", app.admin.id)))
            .header(header::COOKIE, format!("rapport_session={admin}"))
            .form(&[("csrf", csrf.as_str()), ("password", "the admin's new one")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(page(&app, &admin, "/inbox").await, 200, "the session that made the change stays");
        assert_eq!(page(&app, &admin_elsewhere, "/inbox").await, 303, "the admin's other session ended");

        // An agent changes their own password on the preferences page, with the current one.
        let (here, here_csrf) = sign_in(&app, &client(), "agent.a@example.com", "set on the admin page").await;
        let (there, _) = sign_in(&app, &client(), "agent.a@example.com", "set on the admin page").await;
        let change = |current: &'static str, new: &'static str| {
            let (here, csrf, url) = (here.clone(), here_csrf.clone(), app.url("/preferences/password"));
            async move {
                client()
                    .post(url)
                    .header(header::COOKIE, format!("rapport_session={here}"))
                    .form(&[("csrf", csrf.as_str()), ("current_password", current), ("new_password", new)])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(change("not the password", "my own new password").await, 422);
        assert_eq!(change("set on the admin page", "short").await, 422);
        assert_eq!(page(&app, &there, "/inbox").await, 200, "refusals end nothing");
        assert_eq!(change("set on the admin page", "my own new password").await, 303);
        assert_eq!(page(&app, &here, "/inbox").await, 200, "this session stays");
        assert_eq!(page(&app, &there, "/inbox").await, 303, "the other one ended");
        sign_in(&app, &client(), "agent.a@example.com", "my own new password").await;
        app.stop().await;
    }

    async fn admin_pages_deactivate_change_roles_and_revoke_tokens(app) {
        set_password(&app, "admin@example.com", "the admin's password").await;
        set_password(&app, "agent.b@example.com", "agent b's password").await;
        let (admin, csrf) = sign_in(&app, &client(), "admin@example.com", "the admin's password").await;
        let (b_session, _) = sign_in(&app, &client(), "agent.b@example.com", "agent b's password").await;
        let post = |path: String, form: Vec<(&'static str, String)>| {
            let admin = admin.clone();
            let url = app.url(&path);
            async move {
                client()
                    .post(url)
                    .header(header::COOKIE, format!("rapport_session={admin}"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let b = app.agent_b.id;
        // The page lists agents with their state and tokens by prefix, never the token.
        let (_, made) = app.call("POST", "/api/v1/tokens", Some(&app.agent_b.token), Some(json!({"name": "laptop"}))).await;
        let prefix = made["prefix"].as_str().unwrap().to_owned();
        let html = client()
            .get(app.url("/admin"))
            .header(header::COOKIE, format!("rapport_session={admin}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Deactivate agent.b@example.com"), "deactivate form");
        assert!(html.contains(&prefix) && !html.contains(made["token"].as_str().unwrap()));

        let r = post(format!("/admin/users/{b}/role"), vec![("csrf", csrf.clone()), ("role", "supervisor".into())]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.call("GET", "/api/v1/me", Some(&app.agent_b.token), None).await.1["role"], "supervisor");
        // A forged form (no CSRF token of this session) changes nothing.
        let r = post(format!("/admin/users/{b}/active"), vec![("csrf", "forged".into()), ("active", "false".into())]).await;
        assert_eq!(r.status(), 403);
        assert_eq!(page(&app, &b_session, "/inbox").await, 200);

        let r = post(format!("/admin/tokens/{}/revoke", made["id"]), vec![("csrf", csrf.clone())]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(api_status(&app.base, &client(), made["token"].as_str().unwrap(), None).await, 401);
        assert_eq!(api_status(&app.base, &client(), &app.agent_b.token, None).await, 200, "only that token");

        let r = post(format!("/admin/users/{b}/active"), vec![("csrf", csrf.clone()), ("active", "false".into())]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(page(&app, &b_session, "/inbox").await, 303, "their session ended");
        assert_eq!(api_status(&app.base, &client(), &app.agent_b.token, None).await, 401);
        // The last admin cannot deactivate themselves on the page either.
        let r = post(format!("/admin/users/{}/active", app.admin.id), vec![("csrf", csrf.clone()), ("active", "false".into())]).await;
        assert_eq!(r.status(), 422);
        let r = post(format!("/admin/users/{b}/active"), vec![("csrf", csrf.clone()), ("active", "true".into())]).await;
        assert_eq!(r.status(), 303);
        // Deactivation revoked their tokens for good: reactivating does not bring them back.
        assert_eq!(api_status(&app.base, &client(), &app.agent_b.token, None).await, 401);
        // Agents cannot use these forms.
        let (agent_session, agent_csrf) = sign_in(&app, &client(), "agent.b@example.com", "agent b's password").await;
        let r = client()
            .post(app.url(&format!("/admin/users/{}/role", app.admin.id)))
            .header(header::COOKIE, format!("rapport_session={agent_session}"))
            .form(&[("csrf", agent_csrf.as_str()), ("role", "agent")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        app.stop().await;
    }

    async fn tokens_are_listed_made_with_an_expiry_and_revoked(app) {
        let agent = app.agent.token.clone();
        let (s, b) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"expires_in_days": 0}))).await;
        assert_error(s, &b, 422, Some("expires_in_days"));
        let (s, b) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"expires_at": "2001-01-01T00:00:00Z"}))).await;
        assert_error(s, &b, 422, Some("expires_at"));
        let (s, b) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"expires_at": "soon"}))).await;
        assert_error(s, &b, 422, Some("expires_at"));
        let (s, b) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"user_id": app.admin.id}))).await;
        assert_error(s, &b, 403, None);

        let (s, made) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"name": "ci", "expires_in_days": 30}))).await;
        assert_eq!(s, 201, "{made}");
        let token = made["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with(made["prefix"].as_str().unwrap()));
        let at = |k: &str| serde_json::from_value::<rapport_domain::Timestamp>(made[k].clone()).unwrap();
        assert_eq!(at("expires_at"), at("created_at").plus_secs(30 * 86_400), "{made}");
        assert_eq!(made["active"], true);
        assert_eq!(api_status(&app.base, &client(), &token, None).await, 200);

        // Each agent lists their own; admins anyone's.
        let (s, mine) = app.call("GET", "/api/v1/tokens", Some(&agent), None).await;
        assert_eq!(s, 200);
        let mine = mine.as_array().unwrap();
        assert_eq!(mine.len(), 2, "the harness's and the new one: {mine:?}");
        assert!(mine.iter().all(|t| t["user_id"] == app.agent.id && t.get("token").is_none()));
        let (s, b) = app.call("GET", "/api/v1/tokens?all=true", Some(&agent), None).await;
        assert_error(s, &b, 403, None);
        let (s, b) = app.call("GET", &format!("/api/v1/tokens?user_id={}", app.admin.id), Some(&agent), None).await;
        assert_error(s, &b, 403, None);
        let (_, theirs) = app.get(&format!("/api/v1/tokens?user_id={}", app.agent.id)).await;
        assert_eq!(theirs.as_array().unwrap().len(), 2);
        let (_, all) = app.get("/api/v1/tokens?all=true").await;
        assert_eq!(all.as_array().unwrap().len(), 5);

        // Someone else's token is not found for an agent; their own is revoked.
        let (_, admins) = app.get("/api/v1/tokens").await;
        let admin_token_id = admins[0]["id"].as_i64().unwrap();
        let (s, b) = app.call("DELETE", &format!("/api/v1/tokens/{admin_token_id}"), Some(&agent), None).await;
        assert_error(s, &b, 404, None);
        let (s, b) = app.call("DELETE", "/api/v1/tokens/nope", Some(&agent), None).await;
        assert!(s == 400 || s == 422, "{s} {b}");
        let (s, revoked) = app.call("DELETE", &format!("/api/v1/tokens/{}", made["id"]), Some(&agent), None).await;
        assert_eq!(s, 200, "{revoked}");
        assert_eq!(revoked["active"], false);
        assert!(revoked["revoked_at"].is_string());
        assert_eq!(api_status(&app.base, &client(), &token, None).await, 401);
        assert_eq!(api_status(&app.base, &client(), &agent, None).await, 200, "only that one");

        // An expired token answers 401.
        let (_, made) = app.call("POST", "/api/v1/tokens", Some(&agent), Some(json!({"expires_in_days": 1}))).await;
        let (id, token) = (made["id"].as_i64().unwrap(), made["token"].as_str().unwrap().to_owned());
        assert_eq!(api_status(&app.base, &client(), &token, None).await, 200);
        app.db
            .write(op!(c => {
                rapport_store::testing::execute_in(c, "UPDATE api_tokens SET expires_at = $1 WHERE id = $2", &[1_000_000i64.into(), id.into()]).await
            }))
            .await
            .unwrap();
        assert_eq!(api_status(&app.base, &client(), &token, None).await, 401);
        let (_, mine) = app.call("GET", "/api/v1/tokens", Some(&agent), None).await;
        let listed = mine.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap().clone();
        assert_eq!(listed["active"], false, "{listed}");
        app.stop().await;
    }

    async fn wrong_passwords_from_one_address_slow_it_down_without_locking_the_owner_out(app) {
        set_password(&app, "admin@example.com", "the admin's password").await;
        let attacker = client_from("127.0.0.2");
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(attempt(&app.base, &attacker, "admin@example.com", "guess", None).await);
        }
        assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
        assert!(statuses[5..].iter().all(|s| *s == 429), "slowed down after five: {statuses:?}");
        // The attacker's address waits even with the right password…
        assert_eq!(attempt(&app.base, &attacker, "admin@example.com", "the admin's password", None).await, 429);
        // …but the owner, elsewhere, signs in.
        let owner = client_from("127.0.0.3");
        assert_eq!(attempt(&app.base, &owner, "admin@example.com", "the admin's password", None).await, 303);
        sign_in(&app, &owner, "admin@example.com", "the admin's password").await;
        // Unknown accounts are throttled the same way (and checked against a dummy hash).
        for _ in 0..5 {
            assert_eq!(attempt(&app.base, &attacker, "nobody@example.com", "guess", None).await, 401);
        }
        assert_eq!(attempt(&app.base, &attacker, "nobody@example.com", "guess", None).await, 429);

        // API token failures have their own counter: they do not eat the sign-in budget…
        let prober = client_from("127.0.0.4");
        let mut last = 0;
        for _ in 0..25 {
            last = api_status(&app.base, &prober, "rpt_not_a_real_token", None).await;
        }
        assert_eq!(last, 429, "token guessing from one address is limited");
        assert_eq!(attempt(&app.base, &prober, "admin@example.com", "the admin's password", None).await, 303);
        // …and sign-in failures do not block the API from that address.
        assert_eq!(api_status(&app.base, &attacker, &app.admin.token, None).await, 200);
        app.stop().await;
    }

    async fn a_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(app) {
        set_password(&app, "agent.a@example.com", "correct horse battery").await;
        let http = client_from("127.0.0.5");
        let mut statuses = Vec::new();
        for i in 0..6 {
            let spoof = format!("198.51.100.{i}");
            statuses.push(attempt(&app.base, &http, "agent.a@example.com", "guess", Some(&spoof)).await);
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "one client whatever the header says");
        app.stop().await;
    }
}

/// The proxy scenarios run behind one trusted hop.
async fn behind_one_proxy(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        std::sync::Arc::new(rapport_domain::SystemClock),
        |c| c.trusted_proxies = Some("1".into()),
    )
    .await;
    set_password(&app, "agent.a@example.com", "correct horse battery").await;
    // Every request comes from the proxy (127.0.0.1); the proxy appends the client.
    let proxy = client();
    let mut statuses = Vec::new();
    for i in 0..6 {
        // The client may write anything on the left; the proxy's entry is the rightmost.
        let xff = format!("10.9.9.{i}, 203.0.113.10");
        statuses.push(
            attempt(
                &app.base,
                &proxy,
                "agent.a@example.com",
                "guess",
                Some(&xff),
            )
            .await,
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429],
        "counted from the right"
    );
    // Another client behind the same proxy is throttled apart.
    assert_eq!(
        attempt(
            &app.base,
            &proxy,
            "agent.a@example.com",
            "correct horse battery",
            Some("203.0.113.11")
        )
        .await,
        303
    );
    // API token failures per client, too, and apart from sign-ins.
    let mut last = 0;
    for _ in 0..25 {
        last = api_status(&app.base, &proxy, "rpt_wrong", Some("203.0.113.20")).await;
    }
    assert_eq!(last, 429);
    assert_eq!(
        api_status(&app.base, &proxy, &app.agent.token, Some("203.0.113.21")).await,
        200
    );
    assert_eq!(
        api_status(&app.base, &proxy, &app.agent.token, Some("203.0.113.20")).await,
        429
    );
    assert_eq!(
        attempt(
            &app.base,
            &proxy,
            "agent.a@example.com",
            "correct horse battery",
            Some("203.0.113.20")
        )
        .await,
        303,
        "API failures do not eat the sign-in budget"
    );
    app.stop().await;
}

mod one_trusted_hop_throttles_clients_behind_the_proxy_apart {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        behind_one_proxy(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        behind_one_proxy(Backend::Postgres).await;
    }
}

/// Runs a `rapport` subcommand that must fail; returns its stderr.
async fn run_cli_failing(scratch: &Scratch, args: &[&str]) -> String {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .env("RAPPORT_DATA_DIR", scratch.dir.path())
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null());
    if let Some(url) = &scratch.database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output().await.unwrap();
    assert!(!out.status.success(), "rapport {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn the_cli(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    run_cli(
        &scratch,
        &[
            "user",
            "add",
            "--email",
            "boss@example.com",
            "--name",
            "Boss",
            "--role",
            "admin",
        ],
        None,
    )
    .await;
    run_cli(
        &scratch,
        &[
            "user",
            "add",
            "--email",
            "amy@example.com",
            "--name",
            "Amy",
            "--role",
            "agent",
            "--password-stdin",
        ],
        Some("amy's first password\n"),
    )
    .await;
    let out = run_cli(
        &scratch,
        &[
            "token",
            "create",
            "--email",
            "amy@example.com",
            "--expires-in-days",
            "7",
        ],
        None,
    )
    .await;
    let first = out.lines().last().unwrap().to_owned();
    assert!(out.contains("expires"), "{out}");
    let out = run_cli(
        &scratch,
        &[
            "token",
            "create",
            "--email",
            "amy@example.com",
            "--name",
            "second",
        ],
        None,
    )
    .await;
    let second = out.lines().last().unwrap().to_owned();
    let boss = run_cli(
        &scratch,
        &["token", "create", "--email", "boss@example.com"],
        None,
    )
    .await;
    let boss = boss.lines().last().unwrap().to_owned();
    let stderr = run_cli_failing(
        &scratch,
        &[
            "token",
            "create",
            "--email",
            "amy@example.com",
            "--expires-in-days",
            "0",
        ],
    )
    .await;
    assert!(stderr.contains("expires-in-days"), "{stderr}");

    let list = run_cli(
        &scratch,
        &["token", "list", "--email", "amy@example.com"],
        None,
    )
    .await;
    let prefix = &first[..12];
    assert!(
        list.contains(prefix) && list.contains("amy@example.com") && !list.contains(&first),
        "{list}"
    );
    assert_eq!(
        list.lines().filter(|l| l.ends_with("\tactive")).count(),
        2,
        "{list}"
    );

    let server = Process::start(&scratch).await;
    let http = client();
    assert_eq!(api_status(&server.base, &http, &first, None).await, 200);
    // Revoke by prefix; the other token still works.
    let out = run_cli(&scratch, &["token", "revoke", prefix], None).await;
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(api_status(&server.base, &http, &first, None).await, 401);
    assert_eq!(api_status(&server.base, &http, &second, None).await, 200);
    let list = run_cli(&scratch, &["token", "list"], None).await;
    assert!(
        list.lines()
            .any(|l| l.starts_with(prefix) || (l.contains(prefix) && l.ends_with("\trevoked"))),
        "{list}"
    );
    // Revoke by id.
    let second_id = list
        .lines()
        .find(|l| l.contains(&second[..12]))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    run_cli(&scratch, &["token", "revoke", &second_id], None).await;
    assert_eq!(api_status(&server.base, &http, &second, None).await, 401);

    // A new password from standard input; the old one stops working.
    assert_eq!(
        attempt(
            &server.base,
            &client_from("127.0.0.6"),
            "amy@example.com",
            "amy's first password",
            None
        )
        .await,
        303
    );
    run_cli(
        &scratch,
        &["user", "password", "amy@example.com"],
        Some("amy's second password\n"),
    )
    .await;
    assert_eq!(
        attempt(
            &server.base,
            &client_from("127.0.0.6"),
            "amy@example.com",
            "amy's first password",
            None
        )
        .await,
        401
    );
    assert_eq!(
        attempt(
            &server.base,
            &client_from("127.0.0.6"),
            "amy@example.com",
            "amy's second password",
            None
        )
        .await,
        303
    );

    // Deactivation: tokens stop, sign-in is refused; the last admin cannot be deactivated.
    let third = run_cli(
        &scratch,
        &["token", "create", "--email", "amy@example.com"],
        None,
    )
    .await;
    let third = third.lines().last().unwrap().to_owned();
    assert_eq!(api_status(&server.base, &http, &third, None).await, 200);
    run_cli(&scratch, &["user", "deactivate", "amy@example.com"], None).await;
    assert_eq!(api_status(&server.base, &http, &third, None).await, 401);
    assert_eq!(
        attempt(
            &server.base,
            &client_from("127.0.0.7"),
            "amy@example.com",
            "amy's second password",
            None
        )
        .await,
        401
    );
    let stderr = run_cli_failing(&scratch, &["user", "deactivate", "boss@example.com"]).await;
    assert!(stderr.contains("last active admin"), "{stderr}");
    assert_eq!(api_status(&server.base, &http, &boss, None).await, 200);
    run_cli(&scratch, &["user", "activate", "amy@example.com"], None).await;
    // Deactivation revoked the token for good.
    assert_eq!(api_status(&server.base, &http, &third, None).await, 401);
    drop(server);
}

mod the_cli_revokes_tokens_and_deactivates_agents {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        the_cli(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        the_cli(Backend::Postgres).await;
    }
}
