//! One log line and one usage record per request attempt, written when it ends however it
//! ends (finished, failed, or the client went away). Never holds a key.

use plugboard_core::{Outcome, RequestRecord, UsageSink};
use plugboard_wire::responses::Usage;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct RequestLog {
    record: RequestRecord,
    /// Cancelled when a stop cuts requests short: a log dropped then was cut, not left.
    abort: CancellationToken,
    started: Instant,
    sink: Option<Arc<dyn UsageSink>>,
    done: bool,
}

pub struct LogStart<'a> {
    pub abort: CancellationToken,
    pub request_id: &'a str,
    pub attempt: u32,
    pub route: Option<&'a str>,
    pub model: &'a str,
    pub provider: &'a str,
    pub upstream_model: &'a str,
    pub stream: bool,
    pub started: Instant,
    pub session: Option<&'a str>,
    pub user: Option<&'a str>,
}

impl RequestLog {
    pub fn new(s: LogStart<'_>, sink: Option<Arc<dyn UsageSink>>) -> Self {
        let ts_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            abort: s.abort,
            record: RequestRecord {
                ts_ms,
                request_id: s.request_id.into(),
                attempt: s.attempt,
                route: s.route.map(str::to_string),
                model: s.model.into(),
                provider: s.provider.into(),
                upstream_model: s.upstream_model.into(),
                status: Outcome::Other(String::new()),
                error_class: None,
                input_tokens: 0,
                cached_tokens: 0,
                output_tokens: 0,
                reasoning_tokens: 0,
                first_event_ms: None,
                total_ms: 0.0,
                stream: s.stream,
                local: false,
                session: s.session.map(str::to_string),
                user: s.user.map(str::to_string),
            },
            started: s.started,
            sink,
            done: false,
        }
    }

    pub fn mark_local(&mut self) {
        self.record.local = true;
    }

    pub fn mark_first_event(&mut self) {
        if self.record.first_event_ms.is_none() {
            self.record.first_event_ms = Some(ms(self.started));
        }
    }

    pub fn set_usage(&mut self, u: &Usage) {
        self.record.input_tokens = u.input_tokens;
        self.record.cached_tokens = u.input_tokens_details.cached_tokens;
        self.record.output_tokens = u.output_tokens;
        self.record.reasoning_tokens = u.output_tokens_details.reasoning_tokens;
    }

    pub fn finish(&mut self, status: Outcome, error_class: Option<&str>) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        // Whatever a stop did to a request under way (a 503, a failed stream, a dropped
        // one), it is recorded as what it was.
        let status = if self.abort.is_cancelled() && !status.answered() {
            Outcome::CutByShutdown
        } else {
            status
        };
        let r = &mut self.record;
        r.status = status;
        r.error_class = error_class.map(str::to_string);
        r.total_ms = ms(self.started);
        tracing::info!(
            request_id = %r.request_id,
            // Only on a gateway with users (a `None` field is left out of the line).
            user = r.user.as_deref().map(tracing::field::display),
            attempt = r.attempt,
            model = %r.model,
            provider = %r.provider,
            upstream_model = %r.upstream_model,
            status = %r.status,
            error = error_class.unwrap_or(""),
            input_tokens = r.input_tokens,
            output_tokens = r.output_tokens,
            first_event_ms = r.first_event_ms.map(|v| (v * 10.0).round() / 10.0).unwrap_or(-1.0),
            total_ms = (r.total_ms * 10.0).round() / 10.0,
            "request"
        );
        if let Some(sink) = &self.sink {
            sink.record(r.clone());
        }
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if self.abort.is_cancelled() {
            self.finish(
                Outcome::CutByShutdown,
                Some(crate::lifecycle::STOPPING_CODE),
            );
        } else {
            self.finish(Outcome::ClientDisconnected, None);
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
