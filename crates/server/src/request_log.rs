//! One log line per request, written when it ends however it ends (finished, failed, or the
//! client went away). Never holds a key.

use std::time::Instant;

pub struct RequestLog {
    pub request_id: String,
    pub model: String,
    pub provider: String,
    pub upstream_model: String,
    pub started: Instant,
    pub first_event_ms: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    done: bool,
}

impl RequestLog {
    pub fn new(
        request_id: &str,
        model: &str,
        provider: &str,
        upstream_model: &str,
        started: Instant,
    ) -> Self {
        Self {
            request_id: request_id.into(),
            model: model.into(),
            provider: provider.into(),
            upstream_model: upstream_model.into(),
            started,
            first_event_ms: None,
            input_tokens: None,
            output_tokens: None,
            done: false,
        }
    }

    pub fn mark_first_event(&mut self) {
        if self.first_event_ms.is_none() {
            self.first_event_ms = Some(ms(self.started));
        }
    }

    pub fn finish(&mut self, status: &str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        tracing::info!(
            request_id = %self.request_id,
            model = %self.model,
            provider = %self.provider,
            upstream_model = %self.upstream_model,
            status,
            input_tokens = self.input_tokens.unwrap_or(0),
            output_tokens = self.output_tokens.unwrap_or(0),
            first_event_ms = self.first_event_ms.map(|v| (v * 10.0).round() / 10.0).unwrap_or(-1.0),
            total_ms = (ms(self.started) * 10.0).round() / 10.0,
            "request"
        );
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        self.finish("client_disconnected");
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
