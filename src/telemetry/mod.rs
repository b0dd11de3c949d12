//! Structured logs and the per-request context: request id, access log line.

mod sink;

pub use sink::LogGuard;

use std::borrow::Cow;
use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};

use crate::metrics::Metrics;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the JSON log subscriber on stderr (`RUST_LOG` filters, default `info`).
/// The returned guard flushes the log writer when dropped: keep it alive.
pub fn init(default_level: &str) -> std::io::Result<LogGuard> {
    let (writer, guard) = sink::LogSink::start(std::io::stderr())?;
    let _ = ACCESS_LOG.set(writer.clone());
    // actix-http reports every malformed request from a client at ERROR ("stream
    // error"); it answers them 400 itself, and anyone could fill the log with them.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},actix_http::h1::dispatcher=off")));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
    Ok(guard)
}

/// The caller's request id when it is sane (printable ASCII, at most 128 bytes), else a new one.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic()))
        .cloned()
        .unwrap_or_else(|| {
            // A v4 UUID from the thread's CSPRNG: no system call per request.
            let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
            let mut text = uuid::Uuid::encode_buffer();
            HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text)).unwrap_or(HeaderValue::from_static("-"))
        })
}

tokio::task_local! {
    /// The id of the request this task serves, for log lines written while serving it.
    static CURRENT_REQUEST_ID: HeaderValue;
}

/// The request id of the request being served, or `-` outside one.
pub fn current_request_id() -> String {
    CURRENT_REQUEST_ID.try_with(|id| id.to_str().unwrap_or("-").to_owned()).unwrap_or_else(|_| "-".to_owned())
}

/// A request's id and arrival, taken when it comes in. Every request gets a request id
/// (echoed in `X-Request-Id`, and in every log line written while serving it: see
/// `current_request_id`) and one access log line. Credentials are never logged: only
/// method, path, status and timing.
pub struct RequestContext {
    id: HeaderValue,
    started: Instant,
}

impl RequestContext {
    pub fn start(req: &ServiceRequest) -> RequestContext {
        RequestContext { id: request_id(req), started: Instant::now() }
    }

    /// Runs `serve` with this request's id in every log line it writes.
    pub async fn scope<F: Future>(&self, serve: F) -> F::Output {
        CURRENT_REQUEST_ID.scope(self.id.clone(), serve).await
    }

    /// Counts the answer in the metrics, writes its access log line and names its id.
    pub fn finish<B>(self, metrics: Option<&Metrics>, response: &mut ServiceResponse<B>) {
        let status = response.status().as_u16();
        let elapsed = self.started.elapsed();
        let request = response.request();
        if let Some(metrics) = metrics {
            let route = match request.app_data::<RouteTemplate>() {
                Some(RouteTemplate(template)) => Cow::Borrowed(*template),
                None => Cow::Owned(request.match_pattern().unwrap_or_else(|| "unmatched".to_owned())),
            };
            let method = crate::metrics::method_label(request.method());
            metrics.observe(method, route, status, elapsed.as_secs_f64());
        }
        let line = AccessLine {
            request_id: self.id.to_str().unwrap_or("-"),
            method: request.method().as_str(),
            path: request.path(),
            status,
            micros: elapsed.as_micros() as u64,
        };
        line.log();
        response.headers_mut().insert(REQUEST_ID, self.id);
    }
}

/// The route template of a documented endpoint, kept with its resource so that the
/// metrics label needs neither a second match of the path nor an allocation.
#[derive(Clone, Copy, Debug)]
pub struct RouteTemplate(pub &'static str);

/// Where `init` sends log lines, for the access log's own lines.
static ACCESS_LOG: OnceLock<sink::LogSink> = OnceLock::new();

/// The access log's line of one request.
struct AccessLine<'a> {
    request_id: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
    micros: u64,
}

impl AccessLine<'_> {
    fn failed(&self) -> bool {
        self.status >= 500
    }

    /// Logs the line at INFO, or WARN for a 5xx, as `RUST_LOG` allows. Once `init` has
    /// run, the line is written straight to the log's buffer in the shape tracing's JSON
    /// lines have: formatting it through tracing cost as much as serving a read from
    /// memory.
    fn log(&self) {
        let AccessLine { request_id, method, path, status, micros } = *self;
        let (enabled, level) = if self.failed() {
            (tracing::enabled!(tracing::Level::WARN), "WARN")
        } else {
            (tracing::enabled!(tracing::Level::INFO), "INFO")
        };
        match ACCESS_LOG.get() {
            Some(_) if !enabled => {}
            Some(sink) => {
                let _ = sink.clone().write_all(&self.json(chrono::Utc::now(), level));
            }
            None if self.failed() => tracing::warn!(request_id, method, path, status, micros, "request failed"),
            None => tracing::info!(request_id, method, path, status, micros, "request"),
        }
    }

    /// The line as tracing's JSON formatter writes it, newline included.
    fn json(&self, at: chrono::DateTime<chrono::Utc>, level: &str) -> Vec<u8> {
        let mut line = Vec::with_capacity(256 + self.path.len());
        let message = if self.failed() { "request failed" } else { "request" };
        line.extend_from_slice(b"{\"timestamp\":");
        push_timestamp(&mut line, at);
        let strings = [
            (",\"level\":", level),
            (",\"fields\":{\"message\":", message),
            (",\"request_id\":", self.request_id),
            (",\"method\":", self.method),
            (",\"path\":", self.path),
        ];
        for (name, text) in strings {
            line.extend_from_slice(name.as_bytes());
            push_json_str(&mut line, text);
        }
        // Writing to a Vec cannot fail.
        let _ = write!(line, ",\"status\":{},\"micros\":{}}},\"target\":", self.status, self.micros);
        push_json_str(&mut line, module_path!());
        line.extend_from_slice(b"}\n");
        line
    }
}

/// `text` as a JSON string, escaped as serde_json escapes it; copied as it is when
/// nothing in it needs escaping, as is nearly always the case.
fn push_json_str(line: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        line.push(b'"');
        line.extend_from_slice(text.as_bytes());
        line.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *line, text);
    }
}

/// The length of `"2026-11-30T16:20:29.`, the part of a timestamp shared by a second.
const SECOND_PREFIX: usize = 21;

thread_local! {
    /// The second last written by this thread, and its timestamp's prefix.
    static LAST_SECOND: Cell<(i64, [u8; SECOND_PREFIX])> = const { Cell::new((i64::MIN, [0; SECOND_PREFIX])) };
}

/// `at` as an RFC 3339 JSON string in UTC with microseconds, as tracing writes it; the
/// date and time of day are formatted once a second per thread.
fn push_timestamp(line: &mut Vec<u8>, at: chrono::DateTime<chrono::Utc>) {
    let second = at.timestamp();
    // A leap second (fraction past 999,999 µs) and a year beyond 9999: too rare to cache.
    let cacheable = at.timestamp_subsec_micros() < 1_000_000;
    let prefix = cacheable
        .then(|| {
            LAST_SECOND.with(|last| {
                let (cached, prefix) = last.get();
                if cached == second {
                    return Some(prefix);
                }
                let text = at.format("\"%Y-%m-%dT%H:%M:%S.").to_string();
                let prefix: [u8; SECOND_PREFIX] = text.as_bytes().try_into().ok()?;
                last.set((second, prefix));
                Some(prefix)
            })
        })
        .flatten();
    let Some(prefix) = prefix else {
        let _ = serde_json::to_writer(&mut *line, &at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        return;
    };
    line.extend_from_slice(&prefix);
    let _ = write!(line, "{:06}Z\"", at.timestamp_subsec_micros());
}

#[cfg(test)]
mod tests {
    use super::sink::tests::Captured;
    use super::*;

    /// The line tracing's JSON formatter writes for the same fields, as `init` sets it up.
    fn through_tracing(line: &AccessLine) -> serde_json::Value {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || line.log());
        let text = String::from_utf8(out.0.lock().clone()).unwrap();
        serde_json::from_str(text.trim_end()).unwrap()
    }

    #[test]
    fn access_lines_have_the_shape_of_every_other_log_line() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T16:20:29.886073Z").unwrap().to_utc();
        for (status, level) in [(200, "INFO"), (404, "INFO"), (503, "WARN")] {
            let line = AccessLine {
                request_id: "id \"quoted\" \\ back",
                method: "GET",
                path: "/pcc/spcm/provisionProfile/\u{7f}\u{1}é",
                status,
                micros: 1234,
            };
            let written = line.json(at, level);
            assert_eq!(written.last(), Some(&b'\n'));
            let mut ours: serde_json::Value = serde_json::from_slice(&written).unwrap();
            assert_eq!(ours["timestamp"], "2026-11-30T16:20:29.886073Z");
            let mut theirs = through_tracing(&line);
            let stamp = theirs["timestamp"].as_str().unwrap().to_owned();
            assert!(chrono::DateTime::parse_from_rfc3339(&stamp).is_ok() && stamp.len() == 27, "{stamp}");
            for value in [&mut ours, &mut theirs] {
                value.as_object_mut().unwrap().remove("timestamp");
            }
            assert_eq!(ours, theirs, "status {status}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_with_microseconds_in_every_second() {
        let stamp = |at: chrono::DateTime<chrono::Utc>| {
            let mut line = Vec::new();
            push_timestamp(&mut line, at);
            serde_json::from_slice::<String>(&line).unwrap()
        };
        // The same second twice (the second from the thread's cache), the next second,
        // the next day, a leap second and a year beyond 9999: each as chrono writes it.
        let moments = [
            ("2026-11-30T16:20:29.886073Z", 0),
            ("2026-11-30T16:20:29.000001Z", 0),
            ("2026-11-30T16:20:30.000000Z", 0),
            ("2026-12-01T00:00:00.123456Z", 0),
            ("2016-12-31T23:59:59.000000Z", 1_500_000_000),
        ];
        for (text, nanos) in moments {
            let mut at = chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
            if nanos > 0 {
                at = chrono::DateTime::from_timestamp(at.timestamp(), nanos).unwrap();
            }
            assert_eq!(stamp(at), at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), "{text}");
        }
        let far =
            chrono::NaiveDate::from_ymd_opt(10000, 1, 1).unwrap().and_hms_micro_opt(0, 0, 0, 1).unwrap().and_utc();
        assert_eq!(stamp(far), far.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
}
