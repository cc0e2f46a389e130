//! The email runs: SMTP in to the server's own listener, and replies out through a sink
//! relay on loopback.

#![allow(clippy::wildcard_imports, reason = "the benchmark's shared helpers")]

use super::*;
pub(crate) async fn mail_load(
    port: u16,
    db: &Db,
    total: usize,
    conns: usize,
) -> anyhow::Result<(f64, f64, Histogram<u64>)> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let per = total / conns.max(1);
    let started = stopwatch();
    let mut tasks = Vec::new();
    for c in 0..conns {
        tasks.push(tokio::spawn(async move {
            let sock = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            let (rd, mut wr) = sock.into_split();
            let mut rd = BufReader::new(rd);
            let mut line = String::new();
            // Reads one reply (possibly multi-line) and returns its code.
            async fn reply(rd: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, line: &mut String) -> anyhow::Result<u16> {
                loop {
                    line.clear();
                    if rd.read_line(line).await? == 0 {
                        bail!("connection closed");
                    }
                    if line.len() >= 4 && line.as_bytes()[3] == b' ' {
                        return Ok(line[..3].parse()?);
                    }
                }
            }
            reply(&mut rd, &mut line).await?;
            wr.write_all(b"EHLO bench.example\r\n").await?;
            reply(&mut rd, &mut line).await?;
            let mut h = Histogram::<u64>::new(3)?;
            for i in 0..per {
                let from = format!("customer{}@example.org", (c * per + i) % 200);
                wr.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes()).await?;
                anyhow::ensure!(reply(&mut rd, &mut line).await? == 250, "MAIL: {line}");
                wr.write_all(b"RCPT TO:<support@example.com>\r\n").await?;
                anyhow::ensure!(reply(&mut rd, &mut line).await? == 250, "RCPT: {line}");
                wr.write_all(b"DATA\r\n").await?;
                anyhow::ensure!(reply(&mut rd, &mut line).await? == 354, "DATA: {line}");
                let msg = format!(
                    "From: Customer <{from}>\r\nTo: support@example.com\r\nSubject: Order {c}-{i} has not arrived\r\nMessage-ID: <bench-{c}-{i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, my order {c}-{i} was due last week and the tracking has not moved.\r\nCould you check with the carrier?\r\n\r\nThanks\r\n.\r\n"
                );
                wr.write_all(msg.as_bytes()).await?;
                let t = stopwatch();
                anyhow::ensure!(reply(&mut rd, &mut line).await? == 250, "end of DATA: {line}");
                h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
            }
            wr.write_all(b"QUIT\r\n").await?;
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut hist = Histogram::<u64>::new(3)?;
    for t in tasks {
        hist.add(t.await??)?;
    }
    let sent = per * conns;
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let accept_rate = sent as f64 / started.elapsed().as_secs_f64();
    loop {
        let done = count(
            db,
            "SELECT COUNT(*) FROM inbound_mail WHERE processed_at IS NOT NULL",
        )
        .await?;
        if usize::try_from(done).unwrap_or(0) >= sent {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("only {done} of {sent} messages became tickets in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let into_tickets = sent as f64 / started.elapsed().as_secs_f64();
    Ok((accept_rate, into_tickets, hist))
}

/// A relay that takes every message and keeps none: the far end of the outbound test.
pub(crate) async fn smtp_sink(listener: tokio::net::TcpListener) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    while let Ok((sock, _)) = listener.accept().await {
        // Small replies must not wait for delayed ACKs (Nagle).
        let _ = sock.set_nodelay(true);
        tokio::spawn(async move {
            let (rd, mut wr) = sock.into_split();
            let mut rd = BufReader::new(rd);
            let mut line = String::new();
            let _ = wr.write_all(b"220 sink ESMTP\r\n").await;
            let mut in_data = false;
            loop {
                line.clear();
                match rd.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" || line == ".\n" {
                        in_data = false;
                        b"250 2.0.0 queued\r\n"
                    } else {
                        continue;
                    }
                } else {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 2.0.0 ok\r\n",
                    }
                };
                if wr.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Replies by API to `n` email tickets and waits until every reply was handed to the
/// relay; returns replies per second.
pub(crate) async fn mail_out(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    db: &Db,
    n: usize,
) -> anyhow::Result<f64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    while ids.len() < n {
        let mut url = format!("{base}/api/v1/tickets?channel=email&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        ids.extend(items.iter().filter_map(|t| t["id"].as_i64()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.truncate(n);
    let total = ids.len();
    let started = stopwatch();
    let chunks: Vec<Vec<i64>> = ids
        .chunks(total.div_ceil(16).max(1))
        .map(<[i64]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            for id in chunk {
                let r = http
                    .post(format!("{base}/api/v1/tickets/{id}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"body": "Thanks for writing in. The carrier confirmed your parcel is on its way and arrives tomorrow."}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().as_u16() == 201, "reply failed: {}", r.status());
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    loop {
        let sent = count(db, "SELECT COUNT(*) FROM messages WHERE delivery = 'sent'").await?;
        if usize::try_from(sent).unwrap_or(0) >= total {
            break;
        }
        let failed = count(
            db,
            "SELECT COUNT(*) FROM messages WHERE delivery IN ('failed', 'retrying')",
        )
        .await?;
        anyhow::ensure!(failed == 0, "{failed} replies failed to reach the sink");
        if started.elapsed() > Duration::from_secs(600) {
            bail!("only {sent} of {total} replies were sent in 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
