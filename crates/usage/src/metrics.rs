//! Prometheus metrics of what the proxy served (`GET /metrics`): requests by provider, status
//! and user, latency histograms, tokens and spend. A [`UsageSink`] in front of the usage
//! recorder: each finished attempt is counted here, then recorded.

use crate::prices::PriceTable;
use plugboard_core::{MetricsExport, RequestRecord, UsageSink};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Served {
    provider: String,
    status: String,
    user: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByProvider {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Spent {
    provider: String,
    user: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Tokens {
    provider: String,
    user: String,
    kind: &'static str,
}

type Seconds = Family<ByProvider, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<Served, Counter>,
    total: Seconds,
    first_event: Seconds,
    tokens: Family<Tokens, Counter>,
    spend: Family<Spent, Counter<f64, AtomicU64>>,
    prices: RwLock<PriceTable>,
}

impl Metrics {
    pub fn new(prices: PriceTable) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("plugboard");
        let requests = Family::<Served, Counter>::default();
        registry.register(
            "requests",
            "Request attempts by provider, how they ended, and gateway user",
            requests.clone(),
        );
        let total = Seconds::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "request_duration_seconds",
            "Whole request time, by provider",
            total.clone(),
        );
        let first_event = Seconds::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "first_event_seconds",
            "Time to the first event streamed to the client, by provider",
            first_event.clone(),
        );
        let tokens = Family::<Tokens, Counter>::default();
        registry.register(
            "tokens",
            "Tokens by provider, user and kind (input, cached, output, reasoning)",
            tokens.clone(),
        );
        let spend = Family::<Spent, Counter<f64, AtomicU64>>::default();
        registry.register(
            "spend_usd",
            "Cost in US dollars at the price table's prices, by provider and user",
            spend.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            total,
            first_event,
            tokens,
            spend,
            prices: RwLock::new(prices),
        })
    }

    /// Prices of a reloaded settings file.
    pub fn set_prices(&self, prices: PriceTable) {
        *self.prices.write().unwrap_or_else(|e| e.into_inner()) = prices;
    }

    pub fn count(&self, r: &RequestRecord) {
        let user = r.user.clone().unwrap_or_default();
        let provider = ByProvider {
            provider: r.provider.clone(),
        };
        self.requests
            .get_or_create(&Served {
                provider: r.provider.clone(),
                status: r.status.as_str().to_string(),
                user: user.clone(),
            })
            .inc();
        self.total
            .get_or_create(&provider)
            .observe(r.total_ms / 1000.0);
        if let Some(ms) = r.first_event_ms {
            self.first_event
                .get_or_create(&provider)
                .observe(ms / 1000.0);
        }
        for (kind, n) in [
            ("input", r.input_tokens),
            ("cached", r.cached_tokens),
            ("output", r.output_tokens),
            ("reasoning", r.reasoning_tokens),
        ] {
            if n > 0 {
                self.tokens
                    .get_or_create(&Tokens {
                        provider: r.provider.clone(),
                        user: user.clone(),
                        kind,
                    })
                    .inc_by(n);
            }
        }
        let cost = self.prices.read().unwrap_or_else(|e| e.into_inner()).cost(
            &r.upstream_model,
            r.input_tokens,
            r.cached_tokens,
            r.output_tokens,
        );
        if cost > 0.0 {
            self.spend
                .get_or_create(&Spent {
                    provider: r.provider.clone(),
                    user,
                })
                .inc_by(cost);
        }
    }
}

impl MetricsExport for Metrics {
    fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts each record, then hands it to the usage history (when there is one).
pub struct MeteredSink {
    pub metrics: Arc<Metrics>,
    pub inner: Option<Arc<dyn UsageSink>>,
}

impl UsageSink for MeteredSink {
    fn record(&self, r: RequestRecord) {
        self.metrics.count(&r);
        if let Some(inner) = &self.inner {
            inner.record(r);
        }
    }

    fn ready(&self) -> Result<(), String> {
        self.inner.as_ref().map_or(Ok(()), |i| i.ready())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugboard_core::Outcome;

    #[test]
    fn counts_a_request_by_provider_user_and_kind() {
        let m = Metrics::new(PriceTable::with_overrides(&Default::default()));
        m.count(&RequestRecord {
            ts_ms: 0,
            request_id: "r".into(),
            attempt: 1,
            route: None,
            model: "gpt-5.5".into(),
            provider: "deepseek".into(),
            upstream_model: "deepseek-chat".into(),
            status: Outcome::Completed,
            error_class: None,
            input_tokens: 1000,
            cached_tokens: 0,
            output_tokens: 10,
            reasoning_tokens: 0,
            first_event_ms: Some(120.0),
            total_ms: 900.0,
            stream: true,
            local: false,
            session: None,
            user: Some("alice".into()),
        });
        let text = m.render();
        for line in [
            "plugboard_requests_total{provider=\"deepseek\",status=\"completed\",user=\"alice\"} 1",
            "plugboard_tokens_total{provider=\"deepseek\",user=\"alice\",kind=\"input\"} 1000",
            "plugboard_first_event_seconds_count{provider=\"deepseek\"} 1",
        ] {
            assert!(text.contains(line), "no `{line}` in\n{text}");
        }
        assert!(
            text.contains("plugboard_spend_usd_total{provider=\"deepseek\",user=\"alice\"} 0.000"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
